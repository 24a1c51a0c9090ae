"""Drafts: atomic autosave, listing, leftovers after a killed process, delete; save-as."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.kube.drafts import DraftStore, EditSource, pid_alive, write_atomic
from tamer_tui.core.kube.editor import save_as

SOURCE = EditSource(origin="object", context="prod", api_version="apps/v1", kind="Deployment",
                    namespace="shop", name="web", resource_version="4711")


def test_draft_round_trip_records_what_it_edits(tmp_path: Path) -> None:
    """A saved draft comes back with its text, original, source (context, kind/ns/name, resourceVersion) and times."""
    store = DraftStore(tmp_path / "drafts")
    draft = store.create(SOURCE, "original: 1\n")
    assert draft.text == "original: 1\n" and not draft.changed
    first_update = draft.updated
    time.sleep(0.01)
    store.save(draft, "edited: 2\n")
    loaded = store.load(draft.id)
    assert loaded.text == "edited: 2\n" and loaded.original_text == "original: 1\n" and loaded.changed
    assert loaded.source == SOURCE
    assert loaded.source.title == "Deployment shop/web @ prod"
    assert loaded.created == draft.created and loaded.updated > first_update
    assert loaded.pid == os.getpid()
    assert [d.id for d in store.list_drafts()] == [draft.id]
    assert oct((tmp_path / "drafts" / f"{draft.id}.draft.json").stat().st_mode & 0o777) == oct(0o600) or os.name == "nt"


def test_unchanged_text_is_not_rewritten(tmp_path: Path) -> None:
    """Autosaving the same text twice writes once (the debounced autosave can call it freely)."""
    store = DraftStore(tmp_path)
    draft = store.create(SOURCE, "a\n")
    store.save(draft, "b\n")
    saves = draft.saves
    store.save(draft, "b\n")
    assert draft.saves == saves


def test_leftovers_are_drafts_of_dead_processes_only(tmp_path: Path) -> None:
    """Own drafts and drafts of another live Tamer are not leftovers; once that process is gone they are."""
    mine = DraftStore(tmp_path)
    own = mine.create(SOURCE, "own\n")
    assert mine.leftovers() == []
    other_tamer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        data = json.loads((tmp_path / f"{own.id}.draft.json").read_text())
        data.update(pid=other_tamer.pid, session="other-tamer", id="theirs")
        (tmp_path / "theirs.draft.json").write_text(json.dumps(data))
        assert mine.leftovers() == []  # its owner still runs
    finally:
        other_tamer.kill()
        other_tamer.wait(10)
    assert not pid_alive(other_tamer.pid)
    assert [d.id for d in mine.leftovers()] == ["theirs"]
    restarted = DraftStore(tmp_path)  # a new session of this same process: its old drafts are leftovers too
    assert sorted(d.id for d in restarted.leftovers()) == sorted([own.id, "theirs"])
    assert mine.delete("theirs") is True and mine.delete("theirs") is False
    assert mine.leftovers() == []


def test_broken_and_temp_files_are_ignored(tmp_path: Path) -> None:
    """A corrupt draft file or a temp file from an interrupted write never breaks the listing."""
    store = DraftStore(tmp_path)
    good = store.create(SOURCE, "x\n")
    (tmp_path / "bad.draft.json").write_text("{not json")
    (tmp_path / ".x.draft.json.abc.tmp").write_text("partial")
    assert [d.id for d in store.list_drafts()] == [good.id]
    old = time.time() - 7200
    os.utime(tmp_path / ".x.draft.json.abc.tmp", (old, old))
    assert store.clean_temp_files() == 1
    with pytest.raises(NotFound):
        store.load("missing")
    with pytest.raises(InvalidInput):
        store.load("../escape")


CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tamer_tui.core.kube.drafts import DraftStore, EditSource

    store = DraftStore(Path(sys.argv[1]))
    source = EditSource(origin="file", path="/srv/app/deploy.yaml")
    draft = store.create(source, "original\\n")
    n = 0
    while True:  # the user keeps typing; every keystroke autosaves
        n += 1
        body = "".join(f"line {i} of version {n}\\n" for i in range(2000))
        store.save(draft, f"version: {n}\\n" + body + f"end: {n}\\n")
        if n == 3:
            print(draft.id, flush=True)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_draft_survives_sigkill_mid_edit(tmp_path: Path) -> None:
    """A process killed with SIGKILL while autosaving leaves a complete draft that the next start lists."""
    root = tmp_path / "drafts"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(root)], stdout=subprocess.PIPE, text=True,
                            cwd=str(Path(__file__).resolve().parents[2]))
    try:
        assert proc.stdout is not None
        draft_id = proc.stdout.readline().strip()
        assert draft_id
        time.sleep(0.3)  # many more autosaves happen; the kill lands in the middle of one of them
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    next_start = DraftStore(root)
    leftovers = next_start.leftovers()
    assert [d.id for d in leftovers] == [draft_id]
    draft = leftovers[0]
    lines = draft.text.splitlines()
    n = int(lines[0].split(": ")[1])
    assert n >= 3
    assert lines[-1] == f"end: {n}" and len(lines) == 2002
    assert all(line == f"line {i} of version {n}" for i, line in enumerate(lines[1:-1]))
    assert draft.source.path == "/srv/app/deploy.yaml" and draft.original_text == "original\n"
    next_start.adopt(draft)
    assert next_start.leftovers() == []  # adopted: this process owns it now
    next_start.delete(draft.id)
    assert next_start.list_drafts() == []


def test_save_as_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    """save_as replaces the file in one step, keeps its permissions and refuses directories."""
    target = tmp_path / "out.yaml"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    save_as(target, "new: 1\r\nkept: crlf\n")
    assert target.read_bytes() == b"new: 1\r\nkept: crlf\n"
    if os.name != "nt":
        assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]
    with pytest.raises(InvalidInput):
        save_as(tmp_path, "x")
    write_atomic(tmp_path / "sub" / "new.yaml", "x")
    assert (tmp_path / "sub" / "new.yaml").read_text() == "x"
