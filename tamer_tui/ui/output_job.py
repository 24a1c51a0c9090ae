"""A long-running command whose output streams into a panel: compose, build, push, pull.

An ``OutputJob`` runs as an app-level worker (leaving the panel does not stop it; ``ctrl+k`` does),
keeps the newest lines in a bounded deque and tells the panels that watch it about each batch. When it
ends, the app reports the outcome in the status line and a notification.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

MAX_LINES = 20_000


@dataclass(frozen=True, slots=True)
class OutputEntry:
    """One line of output: ``stream`` is stdout, stderr, status or error (colours in the panel)."""

    text: str
    stream: str = "stdout"


def entry_of(item: Any) -> OutputEntry:
    """Normalise what producers yield: strings, OutputLine/BuildEvent/PullProgress-like objects."""
    if isinstance(item, OutputEntry):
        return item
    if isinstance(item, str):
        return OutputEntry(item)
    text = getattr(item, "text", None)
    if text is not None:
        stream = getattr(item, "stream", None) or getattr(item, "kind", "stdout")
        if stream in ("step",):
            stream = "status"
        return OutputEntry(str(text), str(stream))
    status = getattr(item, "status", None)  # PullProgress
    if status is not None:
        err = getattr(item, "error", "")
        if err:
            return OutputEntry(str(err), "error")
        layer = getattr(item, "layer", "")
        cur, total = getattr(item, "current", 0), getattr(item, "total", 0)
        progress = f" {cur * 100 // total}%" if total else ""
        return OutputEntry(f"{layer + ': ' if layer else ''}{status}{progress}")
    return OutputEntry(str(item))


class OutputJob:
    """State of one streamed command: lines, whether it runs, how it ended."""

    def __init__(self, title: str, make: Callable[[], AsyncIterator[Any]], *, collapse_progress: bool = False) -> None:
        self.title = title
        self._make = make
        self.lines: deque[OutputEntry] = deque(maxlen=MAX_LINES)
        self.dropped = 0
        self.state = "starting"  # starting | running | done | failed | cancelled
        self.error = ""
        self.started = time.time()
        self.ended = 0.0
        self.collapse_progress = collapse_progress
        self._listeners: list[Callable[[list[OutputEntry]], None]] = []
        self._task: asyncio.Task[Any] | None = None
        self._cancel_requested = False

    @property
    def running(self) -> bool:
        return self.state in ("starting", "running")

    def watch(self, listener: Callable[[list[OutputEntry]], None]) -> None:
        self._listeners.append(listener)

    def unwatch(self, listener: Callable[[list[OutputEntry]], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, batch: list[OutputEntry]) -> None:
        for entry in batch:
            if len(self.lines) == self.lines.maxlen:
                self.dropped += 1
            self.lines.append(entry)
        for listener in list(self._listeners):
            listener(batch)

    async def run(self) -> None:
        """Consume the producer; batches of lines reach the listeners at most every 50 ms."""
        self._task = asyncio.current_task()
        self.state = "running"
        self._emit([])
        pending: list[OutputEntry] = []
        last = 0.0
        try:
            async for item in self._make():
                entry = entry_of(item)
                if self.collapse_progress and pending and _same_progress(pending[-1], entry):
                    pending[-1] = entry
                else:
                    pending.append(entry)
                now = time.monotonic()
                if now - last >= 0.05:
                    self._emit(pending)
                    pending, last = [], now
            self.state = "done"
        except asyncio.CancelledError:
            self.state = "cancelled"
            pending.append(OutputEntry("cancelled", "error"))
            if not self._cancel_requested:
                raise  # the app is closing: not ours to swallow
        except Exception as exc:  # noqa: BLE001 - shown in the panel and reported
            self.state = "failed"
            self.error = str(exc)
            pending.append(OutputEntry(str(exc), "error"))
        finally:
            self.ended = time.time()
            self._emit(pending)

    def cancel(self) -> bool:
        if self._task is not None and not self._task.done() and self.running:
            self._cancel_requested = True
            self._task.cancel()
            return True
        return False

    def summary(self) -> str:
        took = (self.ended or time.time()) - self.started
        if self.state == "done":
            return f"{self.title}: done in {took:.1f}s"
        if self.state == "failed":
            return f"{self.title}: failed after {took:.1f}s: {self.error}"
        if self.state == "cancelled":
            return f"{self.title}: cancelled after {took:.1f}s"
        return f"{self.title}: running for {took:.0f}s"


def _same_progress(prev: OutputEntry, new: OutputEntry) -> bool:
    """Consecutive progress lines of one layer ("abc123: Pushing 40%") replace each other."""
    a, _, _ = prev.text.partition(": ")
    b, _, _ = new.text.partition(": ")
    return bool(a) and a == b and prev.stream == new.stream == "stdout" and "%" in new.text
