"""Compose projects of every runtime (``:compose``), grouped from their containers' labels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text

from tamer_tui.core.compose import ComposeProject, compose_feed
from tamer_tui.core.feeds import FeedMessage
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable


def state_text(state: str, running: int, total: int) -> Text:
    """Green when everything runs, yellow when part of it does, dim when nothing does."""
    style = "green" if total and running == total else "yellow" if running else "bright_black"
    return Text(state, style=style)


class ComposeProjectsScreen(ResourceScreen):
    """Project, runtime, state (running/total), services, compose files (or that they are gone), age."""

    resource = "compose"
    target_kind = "compose project"

    BINDINGS = [
        kb("compose.open", "open", "Services"),
        kb("compose.describe", "describe", "Describe"),
        kb("compose.up", "act('up')", "Up"),
        kb("compose.stop", "act('stop')", "Stop"),
        kb("compose.start", "act('start')", "Start"),
        kb("compose.restart", "act('restart')", "Restart"),
        kb("compose.down", "act('down')", "Down"),
        kb("compose.pull", "act('pull')", "Pull", show=False),
        kb("compose.build", "act('build')", "Build", show=False),
        kb("compose.logs", "logs", "Logs"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_status", "state"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_runtime", "runtime"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "PROJECT", lambda r: r.name, min_width=10, max_width=40),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("state", "STATE", lambda r: state_text(r.state, r.running, r.total), min_width=12,
                   sort=lambda r: (r.running - r.total, r.name)),
            Column("services", "SERVICES", lambda r: ", ".join(s.name for s in r.services), min_width=8,
                   max_width=40),
            Column("files", "COMPOSE FILES", _files, min_width=12, max_width=70),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
        ]

    def row_style(self, row: ComposeProject) -> str:
        return "dim" if row.running == 0 else ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        return compose_feed(self.tamer.session.manager.runtimes)

    def target_of(self, row: ComposeProject) -> str:
        return f"{row.runtime}:{row.name}"

    def action_open(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"compose {self.target_of(row)}")

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_open()

    def action_act(self, verb: str) -> None:
        self.action_run(f"compose {verb}")

    def action_describe(self) -> None:
        self.action_run("compose describe")

    def action_logs(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"logs compose/{row.name}")


def _files(row: ComposeProject) -> Text:
    if row.files_missing:
        gone = ", ".join(row.config_files) or "not recorded"
        return Text(f"gone ({gone})", style="red")
    return Text(", ".join(row.config_files))
