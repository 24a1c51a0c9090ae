"""The output panel of a streamed command (compose up, build, push ...): bounded, follows, cancellable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, RichLog, Static

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.clipboard import copy_text
from tamer_tui.ui.output_job import MAX_LINES, OutputEntry, OutputJob
from tamer_tui.ui.widgets.header_bar import HeaderBar

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

_STYLES = {"stderr": "yellow", "error": "bold red", "status": "bold cyan", "warning": "yellow", "done": "bold green"}


class CommandOutputScreen(Screen[None]):
    """Shows an ``OutputJob``: lines as they come, state and duration; leaving keeps the job running."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("output.follow", "follow", "Follow"),
        kb("output.cancel", "cancel", "Stop"),
        kb("output.copy", "copy", "Copy"),
    ]

    def __init__(self, job: OutputJob) -> None:
        super().__init__()
        self.job = job

    @property
    def tamer(self) -> TamerApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        log = RichLog(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False, id="output-log")
        log.border_title = self.job.title
        yield log
        yield Static("", id="output-state")
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        for entry in list(self.job.lines):
            log.write(self._text(entry))
        self.job.watch(self._on_lines)
        self._update_state()
        log.focus()

    def on_unmount(self) -> None:
        self.job.unwatch(self._on_lines)

    def _on_lines(self, batch: list[OutputEntry]) -> None:
        if not self.is_attached:
            return
        log = self.query_one(RichLog)
        for entry in batch:
            log.write(self._text(entry))
        self._update_state()

    @staticmethod
    def _text(entry: OutputEntry) -> Text:
        return Text(entry.text, style=_STYLES.get(entry.stream, ""))

    def _update_state(self) -> None:
        job = self.job
        extra = f"  ({job.dropped} older lines dropped)" if job.dropped else ""
        follow = "" if self.query_one(RichLog).auto_scroll else "  [paused]"
        state = self.query_one("#output-state", Static)
        state.set_classes(f"-{job.state}")
        state.update(Text(job.summary() + extra + follow))

    def action_follow(self) -> None:
        log = self.query_one(RichLog)
        log.auto_scroll = not log.auto_scroll
        if log.auto_scroll:
            log.scroll_end(animate=False)
        self._update_state()

    def action_cancel(self) -> None:
        if self.job.cancel():
            self.notify(f"stopping {self.job.title}")
        else:
            self.notify(f"{self.job.title} is not running")

    def action_copy(self) -> None:
        how = copy_text(self.app, "\n".join(e.text for e in self.job.lines))
        self.notify(f"copied {len(self.job.lines)} lines ({how})")
