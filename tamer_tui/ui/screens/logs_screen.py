"""Streaming logs of a pod's container or a Docker/Podman container, into a bounded LogView."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Static

from tamer_tui.core.errors import TamerError
from tamer_tui.core.logsource import batched
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar
from tamer_tui.ui.widgets.log_view import LogView


class LogsScreen(Screen[None]):
    """A worker reads the stream in batches; the view keeps the last ``capacity`` lines."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("logs.follow", "toggle_follow", "Follow"),
        kb("logs.clear", "clear", "Clear"),
    ]

    def __init__(self, title: str, open_stream: Callable[[], AsyncIterator[str]], capacity: int = 100_000) -> None:
        super().__init__()
        self.log_title = title
        self.open_stream = open_stream
        self.capacity = capacity
        self.state = "connecting"

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield LogView(self.capacity, id="log-view")
        yield Static("", id="status-line")
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.view.focus()
        self._title()
        self.run_worker(self._stream(), group="logs", exclusive=True)

    async def _stream(self) -> None:
        try:
            self.state = "following"
            async for batch in batched(self.open_stream()):
                if not self.is_attached:
                    return  # the screen was closed while a batch was on its way
                self.view.add_lines(batch)
                self._title()
            self.state = "stream ended"
        except TamerError as exc:
            self.state = "error"
            if self.is_attached:
                self.query_one("#status-line", Static).update(str(exc))
        except NoMatches:
            return
        if self.is_attached:
            self._title()

    def _title(self) -> None:
        v = self.view
        dropped = f", {v.dropped} oldest dropped" if v.dropped else ""
        follow = "follow" if v.follow else "paused"
        v.border_title = f"logs {self.log_title} [{len(v.lines)} lines{dropped}] {follow} · {self.state}"

    def action_toggle_follow(self) -> None:
        self.view.follow = not self.view.follow
        if self.view.follow:
            self.view.scroll_end(animate=False)
        self._title()

    def action_clear(self) -> None:
        self.view.lines.clear()
        self.view.add_lines([])
        self._title()
