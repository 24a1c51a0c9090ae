"""Editor drafts that survive crashes: one JSON file per draft under ``<data dir>/drafts``.

Every autosave rewrites the draft atomically (temp file in the same directory, fsync, ``os.replace``),
so a crash, a killed terminal or a full disk leaves the previous complete draft or the new one, never a
truncated file. A draft records what it edits (:class:`EditSource`: context, kind/namespace/name or
file path, the resourceVersion the edit started from), the original text, the edited text, timestamps
and the process that owns it.

:meth:`DraftStore.leftovers` lists the drafts no running process owns any more (what the next start
offers to restore); :meth:`DraftStore.delete` removes a draft once it was applied, saved or discarded.
:func:`write_atomic` is also what "save as" uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tamer_tui.core.errors import InvalidInput, NotFound

DRAFT_SUFFIX = ".draft.json"
FORMAT_VERSION = 1

#: What an editor can be opened on.
ORIGINS = ("object", "new", "file", "directory", "generated", "blank")


@dataclass
class EditSource:
    """What an editor buffer edits, so a draft can be reopened (and applied) where it belongs."""

    origin: str = "blank"  # one of ORIGINS
    context: str = ""  # kube context ("" for files and blank buffers)
    api_version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""  # file or directory (origin file/directory/generated)
    resource_version: str = ""  # of the live object when the edit started
    template: str = ""  # template name (origin new)

    @property
    def title(self) -> str:
        """A short human description: ``Deployment default/web @ prod``, ``deploy.yaml``, ``new Service``."""
        if self.origin == "object":
            ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
            return f"{self.kind} {ident}" + (f" @ {self.context}" if self.context else "")
        if self.origin in ("file", "directory"):
            return self.path
        if self.origin == "generated":
            return f"kustomize build {self.path}"
        if self.origin == "new":
            return f"new {self.kind or self.template or 'object'}"
        return "untitled"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> EditSource:
        if not isinstance(data, dict):
            return cls()
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: str(v) for k, v in data.items() if k in known and v is not None})


@dataclass
class Draft:
    """One autosaved editor buffer."""

    id: str
    source: EditSource
    text: str
    original_text: str = ""
    created: float = 0.0
    updated: float = 0.0
    pid: int = 0  # process that owned the draft when it was last saved
    session: str = ""  # DraftStore session of that process
    saves: int = 0  # how many times it was written

    @property
    def changed(self) -> bool:
        return self.text != self.original_text

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "id": self.id,
            "source": self.source.to_dict(),
            "text": self.text,
            "original_text": self.original_text,
            "created": self.created,
            "updated": self.updated,
            "pid": self.pid,
            "session": self.session,
            "saves": self.saves,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("text"), str):
            raise InvalidInput("not a Tamer draft")
        return cls(
            id=data["id"],
            source=EditSource.from_dict(data.get("source")),
            text=data["text"],
            original_text=str(data.get("original_text") or ""),
            created=float(data.get("created") or 0.0),
            updated=float(data.get("updated") or 0.0),
            pid=int(data.get("pid") or 0),
            session=str(data.get("session") or ""),
            saves=int(data.get("saves") or 0),
        )


def write_atomic(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` kept as is) to ``path`` atomically; keeps an existing file's mode.

    A crash leaves either the old file or the new one. Raises ``OSError`` when the directory cannot be
    written (the caller shows it)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        elif target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp_name, target.stat().st_mode & 0o7777)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return target


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (best effort; PIDs can be reused)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform.startswith("win"):
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return False
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _default_root() -> Path:
    from tamer_tui.core.platform import data_dir

    return data_dir() / "drafts"


@dataclass
class DraftStore:
    """The drafts directory. One store per Tamer process (its ``session`` tells its drafts apart)."""

    root: Path = field(default_factory=_default_root)
    session: str = field(default_factory=lambda: secrets.token_hex(8))

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def _path(self, draft_id: str) -> Path:
        if not draft_id or any(c in draft_id for c in "/\\:") or draft_id.startswith("."):
            raise InvalidInput(f"bad draft id {draft_id!r}")
        return self.root / f"{draft_id}{DRAFT_SUFFIX}"

    def create(self, source: EditSource, original_text: str, text: str | None = None) -> Draft:
        """A new draft (written at once, so even the first keystrokes survive)."""
        now = time.time()
        draft_id = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + "-" + secrets.token_hex(4)
        draft = Draft(id=draft_id, source=source, text=original_text if text is None else text,
                      original_text=original_text, created=now, updated=now, pid=os.getpid(),
                      session=self.session)
        self._write(draft)
        return draft

    def save(self, draft: Draft, text: str | None = None) -> Draft:
        """Autosave: record ``text`` (when given) and rewrite the draft atomically.

        Nothing is written when neither the text nor the source changed since the last save."""
        if text is not None and text == draft.text and draft.saves > 0 and draft.session == self.session:
            return draft
        if text is not None:
            draft.text = text
        draft.updated = time.time()
        draft.pid = os.getpid()
        draft.session = self.session
        self._write(draft)
        return draft

    def _write(self, draft: Draft) -> None:
        draft.saves += 1
        data = json.dumps(draft.to_dict(), ensure_ascii=False, indent=1)
        write_atomic(self._path(draft.id), data, mode=0o600)

    def load(self, draft_id: str) -> Draft:
        path = self._path(draft_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"draft {draft_id} not found") from None
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"draft {draft_id} cannot be read: {exc}") from None
        return Draft.from_dict(data)

    def list_drafts(self) -> list[Draft]:
        """Every readable draft, most recently updated first (unreadable files are skipped)."""
        out: list[Draft] = []
        try:
            entries = list(self.root.iterdir())
        except OSError:
            return out
        for entry in entries:
            if not entry.name.endswith(DRAFT_SUFFIX) or entry.name.startswith("."):
                continue
            try:
                out.append(Draft.from_dict(json.loads(entry.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError, InvalidInput):
                continue
        out.sort(key=lambda d: d.updated, reverse=True)
        return out

    def leftovers(self) -> list[Draft]:
        """Drafts left by a process that is gone (crash, killed terminal): what to offer on start.

        Drafts of this store's own session and of other running Tamer processes are not listed."""
        return [d for d in self.list_drafts() if d.session != self.session and not (d.pid != os.getpid() and pid_alive(d.pid))]

    def adopt(self, draft: Draft) -> Draft:
        """Take over a leftover draft (the restored editor autosaves it from now on)."""
        return self.save(draft)

    def delete(self, draft_id: str) -> bool:
        """Remove a draft (applied, saved or discarded); False when it was already gone."""
        try:
            self._path(draft_id).unlink()
            return True
        except FileNotFoundError:
            return False

    def clean_temp_files(self, older_than: float = 3600.0) -> int:
        """Remove temp files an interrupted write left behind (older than ``older_than`` seconds)."""
        removed = 0
        now = time.time()
        try:
            entries = list(self.root.iterdir())
        except OSError:
            return 0
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                try:
                    if now - entry.stat().st_mtime > older_than:
                        entry.unlink()
                        removed += 1
                except OSError:
                    continue
        return removed
