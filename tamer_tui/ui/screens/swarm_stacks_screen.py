"""Swarm stacks (``:swarm stacks``): services grouped by ``com.docker.stack.namespace``."""

from __future__ import annotations

from typing import Any

from tamer_tui.core.swarm import StackRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.screens.resource_screen import sort_binding
from tamer_tui.ui.screens.swarm_list_screen import SwarmListScreen
from tamer_tui.ui.screens.swarm_services_screen import replicas_text
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable


class SwarmStacksScreen(SwarmListScreen):
    """Stack, services, tasks running/desired; Enter shows the stack's services; remove a whole stack."""

    kind = "stacks"
    target_kind = "stack"

    BINDINGS = [
        kb("swarm_stacks.open", "open", "Services"),
        kb("swarm_stacks.delete", "swarm('rmstack')", "Remove"),
        sort_binding("table.sort_name", "name"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "STACK", lambda r: r.name, min_width=10, max_width=40),
            Column("services", "SERVICES", lambda r: str(r.services), min_width=8, align="right"),
            Column("tasks", "TASKS", lambda r: replicas_text(r.running, r.desired, "replicated"), min_width=6,
                   align="right"),
        ]

    def target_of(self, row: StackRow) -> str:
        return row.name

    def action_open(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.swarm_command(f"services /{row.name}")

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_open()
