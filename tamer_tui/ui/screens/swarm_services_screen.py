"""Swarm services (``:swarm``): mode, replicas running/desired, image, ports, stack, update state."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tamer_tui.core.swarm import ServiceRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import sort_binding
from tamer_tui.ui.screens.swarm_list_screen import SwarmListScreen
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable


def replicas_text(running: int, desired: int, mode: str) -> Text:
    style = "green" if running == desired and desired else "yellow" if running else "red"
    if mode == "global" and not desired:
        style = "bright_black"
    return Text(f"{running}/{desired}", style=style)


class SwarmServicesScreen(SwarmListScreen):
    """Scale, update the image, roll back, remove; Enter shows the tasks; logs of all tasks."""

    kind = "services"
    target_kind = "service"

    BINDINGS = [
        kb("swarm_services.open", "open", "Tasks"),
        kb("swarm_services.describe", "swarm('inspect')", "Inspect"),
        kb("swarm_services.scale", "prompt_swarm('scale', 'Replicas')", "Scale"),
        kb("swarm_services.update_image", "prompt_swarm('update', 'New image')", "Update image"),
        kb("swarm_services.rollback", "swarm('rollback')", "Rollback"),
        kb("swarm_services.logs", "logs", "Logs"),
        kb("swarm_services.delete", "swarm('rm')", "Remove"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_age", "age"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "NAME", lambda r: r.name, min_width=10, max_width=40),
            Column("mode", "MODE", lambda r: r.mode, min_width=6),
            Column("replicas", "REPLICAS", lambda r: replicas_text(r.running, r.desired, r.mode), min_width=8,
                   align="right", sort=lambda r: (r.running - r.desired, r.name)),
            Column("image", "IMAGE", lambda r: r.image, min_width=10, max_width=40),
            Column("ports", "PORTS", lambda r: r.ports or "-", min_width=5, max_width=30),
            Column("stack", "STACK", lambda r: r.stack or "-", min_width=5, max_width=20),
            Column("update", "UPDATE", lambda r: r.update_state or "-", min_width=6, max_width=20),
            Column("age", "UPDATED", lambda r: age(r.updated), min_width=7, align="right",
                   sort=lambda r: -r.updated),
            Column("id", "ID", lambda r: r.id[:12], min_width=12, max_width=12),
        ]

    def row_style(self, row: ServiceRow) -> str:
        return "dim" if row.desired == 0 else ""

    def target_of(self, row: ServiceRow) -> str:
        return row.name

    def action_open(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.swarm_command(f"tasks {row.name}")

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_open()

    def action_logs(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"logs service/{self.swarm_runtime.name}:{row.name}")
