"""A log session the test feeds by hand, and a bare app showing a LogsScreen over it (no backend)."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App
from textual.reactive import reactive

from tamer_tui.core.logstream import LogOptions, LogSession, SourceInfo
from tamer_tui.ui.screens.logs_screen import LogsScreen


class FeedSession(LogSession):
    """A session whose items the test pushes (``feed``), ending when the test says so."""

    def __init__(self, title: str = "test", aggregated: bool = False) -> None:
        super().__init__(title, aggregated=aggregated)
        self.done = asyncio.Event()

    def running(self) -> int:
        return 0 if self.done.is_set() else 1

    async def feed(self, source: str, lines: list[str], stamps: list[str] | None = None) -> None:
        self.sources.setdefault(source, SourceInfo(source))
        await self.sink.lines(source, stamps or [""] * len(lines), lines)


class FeedApp(App[None]):
    header_state: reactive[tuple[str, str, bool]] = reactive(("test", "", False))

    def __init__(self, screen: LogsScreen) -> None:
        super().__init__()
        self._logs = screen

    def on_mount(self) -> None:
        self.push_screen(self._logs)


def feed_screen(session: FeedSession, **kw: Any) -> LogsScreen:
    async def opener(options: LogOptions) -> LogSession:
        return session

    return LogsScreen(session.title, session, opener, LogOptions(), **kw)
