"""$KUBE_EDITOR / $EDITOR: argv lists (never shell strings) and the temp-file round trip; opening files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.kube.editor import ExternalEdit, editor_argv, open_directory, open_file


def test_editor_variables_in_kubectl_order() -> None:
    """KUBE_EDITOR wins over EDITOR, EDITOR over VISUAL; values are split like a shell would, not run by one."""
    env = {"KUBE_EDITOR": "code --wait", "EDITOR": "nano", "VISUAL": "emacs"}
    assert editor_argv("/tmp/f.yaml", env, windows=False) == ["code", "--wait", "/tmp/f.yaml"]
    assert editor_argv("/tmp/f.yaml", {"EDITOR": "nano -w", "VISUAL": "emacs"}, windows=False) == [
        "nano", "-w", "/tmp/f.yaml"]
    assert editor_argv("/tmp/f.yaml", {"VISUAL": "emacs -nw"}, windows=False) == ["emacs", "-nw", "/tmp/f.yaml"]
    quoted = {"EDITOR": "'/opt/My Editor/bin/ed' --flag '$(rm -rf ~)'; echo pwned"}
    assert editor_argv("/f", quoted, windows=False) == ["/opt/My Editor/bin/ed", "--flag", "$(rm -rf ~);", "echo",
                                                        "pwned", "/f"]


def test_editor_fallbacks_and_windows_paths() -> None:
    """Without variables: vi (or what exists) on POSIX, notepad on Windows; quoted Windows paths keep backslashes."""
    assert editor_argv("/f", {}, windows=False, which=lambda name: None) == ["vi", "/f"]
    assert editor_argv("/f", {}, windows=False, which=lambda name: "/bin/nano" if name == "nano" else None) == [
        "nano", "/f"]
    assert editor_argv("C:\\f.yaml", {}, windows=True) == ["notepad", "C:\\f.yaml"]
    env = {"EDITOR": '"C:\\Program Files\\Notepad++\\notepad++.exe" -multiInst'}
    assert editor_argv("C:\\f.yaml", env, windows=True) == [
        "C:\\Program Files\\Notepad++\\notepad++.exe", "-multiInst", "C:\\f.yaml"]
    with pytest.raises(InvalidInput):
        editor_argv("/f", {"EDITOR": "vim 'unclosed"}, windows=False)


def test_temp_file_round_trip_with_a_real_editor_process(tmp_path: Path) -> None:
    """start() writes the text, the editor (a real child process here) changes it, finish() reads it back
    and removes the temp file."""
    script = tmp_path / "fake_editor.py"
    script.write_text("import sys\np = sys.argv[-1]\nt = open(p, encoding='utf-8').read()\n"
                      "open(p, 'w', encoding='utf-8').write(t.replace('replicas: 1', 'replicas: 5') + '# \u00e9dit\\n')\n")
    edit = ExternalEdit("kind: Deployment\nspec:\n  replicas: 1\n")
    argv = edit.start({"KUBE_EDITOR": f"{sys.executable} {script}"})
    assert argv[:2] == [sys.executable, str(script)] and argv[-1] == edit.path and edit.path.endswith(".yaml")
    assert Path(edit.path).read_text(encoding="utf-8") == edit.text
    subprocess.run(argv, check=True, timeout=30)
    result = edit.finish()
    assert result == "kind: Deployment\nspec:\n  replicas: 5\n# \u00e9dit\n"
    assert edit.changed
    assert not Path(edit.path).exists()


def test_unchanged_round_trip_and_vanished_file() -> None:
    """An editor that changes nothing gives the same text; a deleted temp file gives the original back."""
    edit = ExternalEdit("a: 1\n")
    subprocess.run(edit.start({"EDITOR": f"{sys.executable} -c pass"}), check=True, timeout=30)
    assert edit.finish() == "a: 1\n" and not edit.changed
    gone = ExternalEdit("b: 2\n")
    gone.start({"EDITOR": f"{sys.executable} -c pass"})
    Path(gone.path).unlink()
    assert gone.finish() == "b: 2\n"


def test_open_file(tmp_path: Path) -> None:
    """A file opens as origin ``file`` (BOM dropped); missing files and directories are clear errors."""
    (tmp_path / "a.yaml").write_bytes(b"\xef\xbb\xbfapiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    opened = open_file(tmp_path / "a.yaml")
    assert opened.text.startswith("apiVersion") and opened.source.origin == "file"
    with pytest.raises(NotFound):
        open_file(tmp_path / "missing.yaml")
    with pytest.raises(InvalidInput):
        open_file(tmp_path)


async def test_open_plain_directory(tmp_path: Path) -> None:
    """A directory without a kustomization gives its YAML files joined into one multi-document text."""
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "b.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}")
    (tmp_path / "notes.txt").write_text("ignored")
    opened = await open_directory(tmp_path)
    assert opened.source.origin == "directory"
    assert opened.text == ("# Source: a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                           "# Source: b.yml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    assert [Path(f).name for f in opened.files] == ["a.yaml", "b.yml"]


def test_an_edit_in_another_encoding_is_kept(tmp_path: Path) -> None:
    """If the editor saved bytes that are not UTF-8, finish() refuses and keeps the file (the edit is not lost)."""
    edit = ExternalEdit("a: 1\n")
    edit.start({"EDITOR": "true"})
    Path(edit.path).write_bytes(b"a: caf\xe9\n")
    with pytest.raises(InvalidInput) as err:
        edit.finish()
    assert edit.path in str(err.value) and Path(edit.path).read_bytes() == b"a: caf\xe9\n"
    edit.cleanup()
    assert not Path(edit.path).exists()
