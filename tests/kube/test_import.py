"""``tamer kubeconfig import``: merging into temp kubeconfigs, clashes, backups, atomic writes.

The command runs in-process through :func:`run` with injected stdin/stdout/env/home and, for the
interactive paths, an injected ``ask`` that plays the user's answers. The last test imports a real
``tamer sim`` kubeconfig and drives the real kubectl through the merged file.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tamer_tui.core.kube.kubeconfig import KubeConfigError, load_files
from tamer_tui.core.kube.kubeconfig_import import (
    import_kubeconfigs,
    run,
    source_from_found,
    source_from_path,
)
from tests.services import kubectl_bin


def k3s(server: str = "https://127.0.0.1:6443", ca: bytes = b"CA1", token: str = "t1") -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "default",
        "clusters": [{"name": "default", "cluster": {"server": server,
                                                     "certificate-authority-data": base64.b64encode(ca).decode()}}],
        "users": [{"name": "default", "user": {"token": token}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    }


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def names(data: dict[str, Any], section: str) -> list[str]:
    return [e["name"] for e in data.get(section) or []]


class Term:
    """Captured stdout/stderr plus scripted answers for prompts."""

    def __init__(self, answers: list[str] | None = None, stdin: str = "") -> None:
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.answers = list(answers or [])
        self.prompts: list[str] = []
        self.stdin = io.StringIO(stdin)

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)

    def run(self, *argv: str, interactive: bool = False, env: dict[str, str] | None = None,
            home: Path | None = None) -> int:
        return run(list(argv), stdin=self.stdin, stdout=self.out, stderr=self.err, env=env or {}, home=home,
                   interactive=interactive, ask=self.ask)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return write(tmp_path / "kube" / "config", {
        "apiVersion": "v1", "kind": "Config", "current-context": "work",
        "clusters": [{"name": "work", "cluster": {"server": "https://work:443"}}],
        "users": [{"name": "me", "user": {"token": "w"}}],
        "contexts": [{"name": "work", "context": {"cluster": "work", "user": "me"}}],
    })


def test_import_into_new_file(tmp_path: Path) -> None:
    """A missing DEST is created 0600 with the source's entries and current-context, without a
    backup; relative file references become absolute."""
    src = write(tmp_path / "src" / "kc", {
        "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": "https://lab:6443", "certificate-authority": "pki/ca.crt"}}],
        "users": [{"name": "lab", "user": {"client-certificate": "pki/u.crt", "client-key": "/abs/u.key"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab", "namespace": "dev"}}]})
    target = tmp_path / "new" / "config"
    term = Term()
    assert term.run("import", str(src), "--kubeconfig", str(target)) == 0, term.err.getvalue()
    data = read(target)
    assert data["current-context"] == "lab"
    assert data["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "src" / "pki" / "ca.crt")
    assert data["users"][0]["user"]["client-certificate"] == str(tmp_path / "src" / "pki" / "u.crt")
    assert data["users"][0]["user"]["client-key"] == "/abs/u.key"
    assert data["contexts"][0]["context"]["namespace"] == "dev"
    if sys.platform != "win32":
        assert target.stat().st_mode & 0o777 == 0o600
    assert list(target.parent.iterdir()) == [target]
    assert f"merged into {target}:" in term.out.getvalue() and "added: context lab" in term.out.getvalue()


def test_import_backs_up_and_keeps_current_context(tmp_path: Path, dest: Path) -> None:
    """Merging into an existing DEST backs it up first (config.bak-<timestamp>), keeps its
    current-context and other entries, and leaves no temp files."""
    original = dest.read_text(encoding="utf-8")
    src = write(tmp_path / "k3s.yaml", k3s())
    term = Term()
    assert term.run("import", str(src), "--kubeconfig", str(dest)) == 0, term.err.getvalue()
    data = read(dest)
    assert data["current-context"] == "work"
    assert names(data, "contexts") == ["work", "default"] and names(data, "users") == ["me", "default"]
    backups = [p for p in dest.parent.iterdir() if p.name.startswith("config.bak-")]
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == original
    assert sorted(p.name for p in dest.parent.iterdir()) == sorted(["config", backups[0].name])
    assert "(backup: " in term.out.getvalue()
    merged = load_files([dest])
    assert merged.connection_params("default").ca_data == b"CA1"


def test_identical_entries_are_skipped_silently(tmp_path: Path, dest: Path) -> None:
    """Re-importing the same file changes nothing: no backup, no write, 'nothing new'."""
    src = write(tmp_path / "k3s.yaml", k3s())
    assert Term().run("import", str(src), "--kubeconfig", str(dest)) == 0
    for backup in dest.parent.glob("config.bak-*"):
        backup.unlink()
    before = dest.read_bytes()
    term = Term()
    assert term.run("import", str(src), "--kubeconfig", str(dest)) == 0
    assert dest.read_bytes() == before and not list(dest.parent.glob("config.bak-*"))
    assert "nothing new to merge" in term.out.getvalue()
    assert "skipped (identical): context default" in term.out.getvalue()


def test_clash_refused_when_not_interactive(tmp_path: Path, dest: Path) -> None:
    """Same names, different content, no terminal, no --rename: refused, every clash (the cluster
    and the user; the context entry itself is identical) listed, DEST untouched and not backed up."""
    assert Term().run("import", str(write(tmp_path / "a.yaml", k3s())), "--kubeconfig", str(dest)) == 0
    for backup in dest.parent.glob("config.bak-*"):
        backup.unlink()
    before = dest.read_bytes()
    term = Term()
    other = write(tmp_path / "b.yaml", k3s(server="https://10.0.0.5:6443", ca=b"CA2", token="t2"))
    assert term.run("import", str(other), "--kubeconfig", str(dest)) == 1
    err = term.err.getvalue()
    assert "refused" in err and "--rename" in err
    for kind in ("cluster", "user"):
        assert f"{kind} 'default' from {other}" in err
    assert "context 'default'" not in err  # the context itself is the same (same names inside)
    assert dest.read_bytes() == before and not list(dest.parent.glob("config.bak-*"))


def test_rename_suffixes_and_rewrites_references(tmp_path: Path, dest: Path) -> None:
    """--rename imports clashing entries as name-2, name-3 ... and points the renamed context at
    the renamed cluster and user; entries identical to existing ones keep their names."""
    first = write(tmp_path / "a.yaml", k3s())
    second = write(tmp_path / "b.yaml", k3s(server="https://10.0.0.5:6443", ca=b"CA2", token="t2"))
    third = write(tmp_path / "c.yaml", k3s(server="https://10.0.0.6:6443", ca=b"CA3", token="t1"))
    term = Term()
    assert term.run("import", str(first), str(second), str(third), "--rename", "--kubeconfig", str(dest)) == 0, \
        term.err.getvalue()
    data = read(dest)
    assert names(data, "clusters") == ["work", "default", "default-2", "default-3"]
    assert names(data, "users") == ["me", "default", "default-2"]  # c.yaml's user equals a.yaml's
    assert names(data, "contexts") == ["work", "default", "default-2", "default-3"]
    config = load_files([dest])
    assert config.connection_params("default-2").server == "https://10.0.0.5:6443"
    assert config.connection_params("default-2").token == "t2"
    assert config.connection_params("default-3").server == "https://10.0.0.6:6443"
    assert config.connection_params("default-3").token == "t1"
    assert "renamed: cluster default -> default-2" in term.out.getvalue()


def test_interactive_choices(tmp_path: Path, dest: Path) -> None:
    """In a terminal each clash is asked: overwrite the cluster, skip the user, rename the context;
    an invalid answer is asked again; the final confirmation is asked without --yes."""
    write(dest, {**read(dest), "clusters": read(dest)["clusters"] + [{"name": "default", "cluster": {"server": "https://old:1"}}],
                 "users": read(dest)["users"] + [{"name": "default", "user": {"token": "old"}}],
                 "contexts": read(dest)["contexts"] + [{"name": "default", "context": {"cluster": "default", "user": "default", "namespace": "x"}}]})
    src = write(tmp_path / "k3s.yaml", k3s())
    term = Term(["o", "what?", "s", "rename", "y"])
    assert term.run("import", str(src), "--kubeconfig", str(dest), interactive=True) == 0, term.err.getvalue()
    assert [p.split(" differs")[0] for p in term.prompts[:4]] == [
        f"cluster 'default' from {src}", f"user 'default' from {src}", f"user 'default' from {src}",
        f"context 'default' from {src}"]
    assert "please answer r, s, o or a" in term.out.getvalue()
    assert term.prompts[-1] == "proceed? [y/N] "
    config = load_files([dest])
    assert config.clusters["default"].server == "https://127.0.0.1:6443"  # overwritten
    assert config.connection_params("default-2").token == "old"  # the kept user
    assert config.contexts["default"].namespace == "x"


def test_interactive_abort_and_declined_confirmation(tmp_path: Path, dest: Path) -> None:
    """Answering abort, or 'no' at the confirmation, writes nothing; --yes skips the confirmation."""
    src = write(tmp_path / "k3s.yaml", k3s())
    before = dest.read_bytes()
    term = Term(["n"])
    assert term.run("import", str(src), "--kubeconfig", str(dest), interactive=True) == 0
    assert dest.read_bytes() == before and "nothing written" in term.out.getvalue()
    term = Term([])
    assert term.run("import", str(src), "--kubeconfig", str(dest), "--yes", interactive=True) == 0
    assert term.prompts == [] and "default" in names(read(dest), "contexts")
    clash = write(tmp_path / "b.yaml", k3s(token="other"))
    after = dest.read_bytes()
    term = Term(["a"])
    assert term.run("import", str(clash), "--kubeconfig", str(dest), interactive=True) == 1
    assert "aborted" in term.err.getvalue() and dest.read_bytes() == after


def test_default_destination(tmp_path: Path) -> None:
    """Without --kubeconfig the first KUBECONFIG file is the destination, else ~/.kube/config."""
    src = write(tmp_path / "k3s.yaml", k3s())
    first, second = tmp_path / "one", tmp_path / "two"
    assert Term().run("import", str(src), env={"KUBECONFIG": os.pathsep.join([str(first), str(second)])},
                      home=tmp_path) == 0
    assert first.exists() and not second.exists()
    assert Term().run("import", str(src), env={}, home=tmp_path) == 0
    assert (tmp_path / ".kube" / "config").exists()


def test_bad_sources_and_destinations(tmp_path: Path, dest: Path) -> None:
    """A missing or invalid source, a context pointing at nothing, and an invalid DEST are clear
    errors (exit 1) and DEST is never touched."""
    before = dest.read_bytes()
    term = Term()
    assert term.run("import", str(tmp_path / "nope"), "--kubeconfig", str(dest)) == 1
    assert f"kubeconfig {tmp_path / 'nope'} does not exist" in term.err.getvalue()
    bad = tmp_path / "bad.yaml"
    bad.write_text("contexts: [\n", encoding="utf-8")
    term = Term()
    assert term.run("import", str(bad), "--kubeconfig", str(dest)) == 1 and "not valid YAML" in term.err.getvalue()
    dangling = write(tmp_path / "d.yaml", {"contexts": [{"name": "x", "context": {"cluster": "gone"}}]})
    term = Term()
    assert term.run("import", str(dangling), "--kubeconfig", str(dest)) == 1
    assert "refers to cluster 'gone'" in term.err.getvalue()
    assert dest.read_bytes() == before
    broken_dest = tmp_path / "broken"
    broken_dest.write_text("- not a kubeconfig\n", encoding="utf-8")
    term = Term()
    assert term.run("import", str(write(tmp_path / "k.yaml", k3s())), "--kubeconfig", str(broken_dest)) == 1
    assert "top level is a list" in term.err.getvalue()
    assert broken_dest.read_text(encoding="utf-8") == "- not a kubeconfig\n"
    assert Term().run("import") == 2  # argparse usage error


def test_stdin_context_filter_and_dry_run(tmp_path: Path, dest: Path) -> None:
    """'-' reads stdin (e.g. kind get kubeconfig | tamer kubeconfig import -); --context picks
    contexts (with their cluster/user only); --dry-run writes nothing."""
    two = k3s()
    two["clusters"].append({"name": "b", "cluster": {"server": "https://b:1"}})
    two["contexts"].append({"name": "b", "context": {"cluster": "b"}})
    text = yaml.safe_dump(two)
    before = dest.read_bytes()
    term = Term(stdin=text)
    assert term.run("import", "-", "--kubeconfig", str(dest), "--dry-run") == 0
    assert dest.read_bytes() == before and "dry run" in term.out.getvalue()
    term = Term(stdin=text)
    assert term.run("import", "-", "--kubeconfig", str(dest), "--context", "b") == 0, term.err.getvalue()
    data = read(dest)
    assert names(data, "contexts") == ["work", "b"] and names(data, "clusters") == ["work", "b"]
    assert names(data, "users") == ["me"]
    term = Term(stdin=text)
    assert term.run("import", "-", "--kubeconfig", str(dest), "--context", "zzz") == 1
    assert "no context named 'zzz'" in term.err.getvalue()


def test_library_api_with_found_kubeconfig(tmp_path: Path) -> None:
    """The UI path: a FoundKubeconfig's content (e.g. kind output) is imported with rename=True;
    one with an error is refused."""
    from tamer_tui.core.kube.clusters import FoundKubeconfig

    found = FoundKubeconfig(path="", kind="kind", contexts=["default"], merged=False,
                            content=yaml.safe_dump(k3s()), origin="kind get kubeconfig --name x")
    target = tmp_path / "config"
    result = import_kubeconfigs([source_from_found(found)], target, rename=True)
    assert result.written and result.contexts == ["default"] and result.backup == ""
    result = import_kubeconfigs([source_from_found(found)], target, rename=True)
    assert not result.written and not result.changed and result.identical
    with pytest.raises(KubeConfigError, match="not readable"):
        source_from_found(FoundKubeconfig(path="/x", kind="k3s", contexts=[], merged=False, error="not readable"))
    with pytest.raises(KubeConfigError, match="does not exist"):
        source_from_path(tmp_path / "missing")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One small simulator named 'default' (so it clashes like a k3s.yaml would)."""
    from tamer_tui.sim.cli import start_in_thread
    from tamer_tui.sim.cluster import SimOptions

    path = tmp_path_factory.mktemp("sim") / "kubeconfig"
    handle = start_in_thread(SimOptions(name="default", flavor="k3s", pods=3, namespaces=1, nodes=2,
                                        controllers=False, kubeconfig=str(path)))
    try:
        yield handle
    finally:
        handle.stop()


def test_imported_sim_works_with_kubectl(tmp_path: Path, sim: Any) -> None:
    """A sim kubeconfig imported with --rename next to a clashing 'default' context is usable by
    the real kubectl through the renamed context."""
    kubectl = kubectl_bin()
    target = write(tmp_path / "config", k3s(server="https://127.0.0.1:1"))
    term = Term()
    assert term.run("import", sim.kubeconfig, "--rename", "--kubeconfig", str(target)) == 0, term.err.getvalue()
    ctx_names = subprocess.run([kubectl, "--kubeconfig", str(target), "config", "get-contexts", "-o", "name"],
                               capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert sorted(ctx_names) == ["default", "default-2", "default-restricted"]
    nodes = subprocess.run([kubectl, "--kubeconfig", str(target), "--context", "default-2", "get", "nodes", "-o", "name"],
                           capture_output=True, text=True, timeout=60)
    assert nodes.returncode == 0, nodes.stderr
    assert sorted(nodes.stdout.split()) == ["node/k3s-agent-1", "node/k3s-server"]


def test_prompts_read_answers_from_stdin(tmp_path: Path, dest: Path) -> None:
    """Without an injected ask function the prompts go to stdout and the answers come from stdin
    (one line each); end of input counts as abort."""
    write(dest, {**read(dest), "users": read(dest)["users"] + [{"name": "default", "user": {"token": "old"}}]})
    src = write(tmp_path / "k3s.yaml", k3s())
    out, err = io.StringIO(), io.StringIO()
    code = run(["import", str(src), "--kubeconfig", str(dest)], stdin=io.StringIO("r\ny\n"), stdout=out, stderr=err,
               env={}, interactive=True)
    assert code == 0, err.getvalue()
    assert "[r]ename to default-2" in out.getvalue() and "proceed? [y/N]" in out.getvalue()
    assert names(read(dest), "users") == ["me", "default", "default-2"]
    clash = write(tmp_path / "b.yaml", k3s(token="again"))
    before = dest.read_bytes()
    code = run(["import", str(clash), "--kubeconfig", str(dest)], stdin=io.StringIO(""), stdout=out, stderr=err,
               env={}, interactive=True)
    assert code == 1 and "aborted" in err.getvalue() and dest.read_bytes() == before
