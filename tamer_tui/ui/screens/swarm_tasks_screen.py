"""Swarm tasks (``:swarm tasks [SERVICE]``): slot, node, desired and current state, errors."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tamer_tui.core.swarm import TaskRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import sort_binding
from tamer_tui.ui.screens.swarm_list_screen import SwarmListScreen
from tamer_tui.ui.widgets.resource_table import Column

_STATE = {"running": "green", "failed": "bold red", "rejected": "bold red", "complete": "bright_black",
          "shutdown": "bright_black", "preparing": "yellow", "starting": "yellow", "pending": "yellow"}


class SwarmTasksScreen(SwarmListScreen):
    """Tasks of every service, or of one; failed tasks show their error."""

    kind = "tasks"
    target_kind = "task"

    BINDINGS = [
        kb("swarm_tasks.describe", "describe", "Inspect service"),
        kb("swarm_tasks.logs", "logs", "Logs"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_status", "state"),
        sort_binding("table.sort_age", "age"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "TASK", lambda r: f"{r.service}.{r.slot}" if r.slot else f"{r.service}.{r.id[:8]}",
                   min_width=10, max_width=40, sort=lambda r: (r.service, r.slot, -r.updated)),
            Column("node", "NODE", lambda r: r.node or "-", min_width=6),
            Column("desired", "DESIRED", lambda r: r.desired, min_width=7),
            Column("state", "STATE", lambda r: Text(r.state, style=_STATE.get(r.state, "")), min_width=7),
            Column("error", "ERROR", lambda r: Text(r.error or "-", style="red" if r.error else ""), min_width=5,
                   max_width=50),
            Column("image", "IMAGE", lambda r: r.image, min_width=10, max_width=36),
            Column("age", "UPDATED", lambda r: age(r.updated), min_width=7, align="right",
                   sort=lambda r: -r.updated),
            Column("id", "ID", lambda r: r.id[:12], min_width=12, max_width=12),
        ]

    def row_style(self, row: TaskRow) -> str:
        return "dim" if row.desired == "shutdown" else ""

    def target_of(self, row: TaskRow) -> str:
        return row.service

    def action_describe(self) -> None:
        self.action_swarm("inspect")

    def action_logs(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"logs service/{self.swarm_runtime.name}:{row.service}")
