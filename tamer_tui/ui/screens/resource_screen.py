"""Base class of every list screen: header, live virtual table, command/filter bar, footer.

A screen owns a ``RowStore`` and one long-lived worker that consumes a feed (snapshot, then
event-driven upserts/removals, with reconnect notices) and applies it to the store; the table
redraws only what is visible, at most every 50 ms however fast events arrive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Static

from tamer_tui.core.feeds import FeedMessage, Remove, Snapshot, SourceStatus, Upsert
from tamer_tui.core.rowstore import RowStore
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.command_bar import CommandBar
from tamer_tui.ui.widgets.header_bar import HeaderBar
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp


class ResourceScreen(Screen[None]):
    """A live table of one resource kind across every runtime."""

    resource: str = ""  # "containers"
    initial_sort: tuple[str, bool] | None = None  # (column key, reverse)
    target_kind: str = ""  # "container"
    scope_label: str = "all"

    BINDINGS = [
        kb("app.back", "back", "Back"),
        kb("app.filter", "filter", "Filter"),
        kb("table.sort_invert", "sort_invert", "Invert sort", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(name=self.screen_key)
        self.store: RowStore[Any] = RowStore()
        self.source_state: dict[str, str] = {}
        self._flush_pending = False
        self._status_text = ""

    @property
    def screen_key(self) -> str:
        """The name this screen is installed under (navigation and history use it)."""
        return self.resource

    @property
    def tamer(self) -> TamerApp:
        return self.app  # type: ignore[return-value]

    # -- subclass hooks ----------------------------------------------------------------
    def columns(self) -> list[Column[Any]]:
        raise NotImplementedError

    def row_style(self, row: Any) -> str:
        return ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        raise NotImplementedError

    def target_of(self, row: Any) -> str:
        raise NotImplementedError

    # -- composition -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with Vertical(id="table-frame"):
            yield ResourceTable(self.store, self.columns(), row_style=self.row_style, id="table")
        yield Static("", id="status-line")
        yield CommandBar()
        yield Footer()

    @property
    def table(self) -> ResourceTable[Any]:
        return self.query_one("#table", ResourceTable)

    def on_mount(self) -> None:
        if self.initial_sort is not None:
            self.table.sort_column, self.table.sort_reverse = self.initial_sort
        self._update_title()
        self.table.focus()
        self.run_worker(self._consume, name=f"{self.resource}-feed", group=f"feed-{self.resource}",  # type: ignore[arg-type]
                        exclusive=True)

    def on_screen_resume(self) -> None:
        self.table.focus()

    # -- feed --------------------------------------------------------------------------
    def restart_feed(self) -> None:
        """The shown runtimes changed (:hosts): drop rows of runtimes no longer shown, follow the new set."""
        shown = {rt.name for rt in self.tamer.session.manager.runtimes}
        for source in {getattr(r, "runtime", "") for r in self.store.rows.values()} - shown:
            self.store.drop_source(source)
        self.source_state = {k: v for k, v in self.source_state.items() if k in shown}
        if self.is_mounted:
            self.run_worker(self._consume, name=f"{self.resource}-feed",  # type: ignore[arg-type]
                            group=f"feed-{self.resource}", exclusive=True)
            self._schedule_flush()

    async def _consume(self) -> None:
        async for msg in self.feed():
            self.apply(msg)

    def apply(self, msg: FeedMessage) -> None:
        if not self._alive():
            return
        changed = False
        if isinstance(msg, Snapshot):
            changed = bool(self.store.replace_source(msg.source, msg.rows))
        elif isinstance(msg, Upsert):
            changed = bool(self.store.upsert(msg.rows))
        elif isinstance(msg, Remove):
            changed = bool(self.store.remove(msg.keys))
        elif isinstance(msg, SourceStatus):
            self._source_status(msg)
        if changed:
            self._schedule_flush()

    def _source_status(self, msg: SourceStatus) -> None:
        previous = self.source_state.get(msg.source)
        self.source_state[msg.source] = msg.state
        if msg.state == "reconnecting":
            self.set_status(f"{msg.source}: connection lost, {msg.message}", "warning")
            self.tamer.runtime_state_changed(msg.source, False, msg.message)
        elif msg.state == "live":
            if previous == "reconnecting":
                self.set_status(f"{msg.source}: reconnected", "information")
            elif self._status_text.startswith(msg.source):
                self.set_status("")
            self.tamer.runtime_state_changed(msg.source, True, "")
        self._update_title()

    def _schedule_flush(self) -> None:
        if not self._flush_pending:
            self._flush_pending = True
            self.set_timer(0.05, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if not self._alive():
            return
        self.table.refresh_rows()
        self._update_title()

    def _alive(self) -> bool:
        """False once the screen was dropped (a timer or feed message may still arrive after that)."""
        try:
            self.query_one("#table", ResourceTable)
        except NoMatches:
            return False
        return True

    def _update_title(self) -> None:
        table = self.table
        shown = len(table.keys)
        total = len(self.store)
        count = f"{shown}/{total}" if table.row_filter else f"{total}"
        title = f"{self.resource}({self.scope_label})[{count}]"
        if table.row_filter:
            title += f" </{table.row_filter.text}>"
        down = [s for s, st in self.source_state.items() if st == "reconnecting"]
        if down:
            title += f"  ⚠ {', '.join(down)} reconnecting"
        self.set_title(title)

    def set_title(self, title: str) -> None:
        """Set the table frame's title (plain text: brackets in names are not markup)."""
        self._title_plain = title
        self.query_one("#table-frame").border_title = escape(title)
        self.sub_title = title

    @property
    def title_text(self) -> str:
        return getattr(self, "_title_plain", "")

    def set_status(self, text: str, severity: str = "information") -> None:
        self._status_text = text
        try:
            line = self.query_one("#status-line", Static)
        except NoMatches:
            return  # an action finished while the app was closing (or before the screen was composed)
        line.set_classes(f"-{severity}" if text else "")
        line.update(text)

    # -- keys --------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.table.row_filter:
            self.table.set_filter("")
            self._update_title()
            return
        self.tamer.go_back()

    def action_filter(self) -> None:
        self.query_one(CommandBar).open("filter", self.table.row_filter.text)

    def action_command(self) -> None:
        self.query_one(CommandBar).open("command")

    def action_sort(self, column: str) -> None:
        self.table.sort_by(column)

    def action_sort_invert(self) -> None:
        if self.table.sort_column is not None:
            self.table.sort_by(self.table.sort_column)

    def action_run(self, command: str) -> None:
        row = self.table.cursor_row
        if row is None:
            self.set_status(f"no {self.target_kind} selected", "warning")
            return
        self.tamer.execute(f"{command} {self.target_of(row)}")

    def action_prompt_run(self, command: str, prompt: str) -> None:
        row = self.table.cursor_row
        if row is None:
            self.set_status(f"no {self.target_kind} selected", "warning")
            return
        target = self.target_of(row)
        self.tamer.prompt_then_execute(prompt, lambda value: f"{command} {target} {value}")

    def on_command_bar_filter_changed(self, event: CommandBar.FilterChanged) -> None:
        flt = self.table.set_filter(event.value)
        self.set_status(flt.error, "warning") if flt.error else self.set_status("")
        self._update_title()

    def on_command_bar_command_submitted(self, event: CommandBar.CommandSubmitted) -> None:
        self.table.focus()
        if event.mode == "command" and event.value.strip():
            self.tamer.execute(event.value)

    def on_command_bar_command_cancelled(self, event: CommandBar.CommandCancelled) -> None:
        if event.mode == "filter":
            self.table.set_filter("")
            self._update_title()
        self.table.focus()

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_run("inspect")


def sort_binding(action_id: str, column: str) -> Binding:
    """``table.sort_name`` etc. bound to sorting by one of the screen's columns."""
    return kb(action_id, f"sort('{column}')", f"Sort {column}", show=False)

