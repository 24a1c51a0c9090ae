"""Swarm nodes (``:swarm nodes``): role, availability, status, leader, engine version; drain/activate/pause."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tamer_tui.core.swarm import NodeRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import sort_binding
from tamer_tui.ui.screens.swarm_list_screen import SwarmListScreen
from tamer_tui.ui.widgets.resource_table import Column

_AVAILABILITY = {"active": "green", "pause": "yellow", "drain": "red"}


class SwarmNodesScreen(SwarmListScreen):
    """Every node of the swarm as its manager sees it."""

    kind = "nodes"
    target_kind = "node"

    BINDINGS = [
        kb("swarm_nodes.describe", "swarm('inspect-node')", "Inspect"),
        kb("swarm_nodes.drain", "swarm('drain')", "Drain"),
        kb("swarm_nodes.activate", "swarm('activate')", "Activate"),
        kb("swarm_nodes.pause", "swarm('pause')", "Pause"),
        sort_binding("table.sort_name", "name"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "HOSTNAME", lambda r: r.hostname + (" *" if r.leader else ""), min_width=10,
                   max_width=40),
            Column("role", "ROLE", lambda r: r.role + (" (leader)" if r.leader else ""), min_width=6),
            Column("availability", "AVAILABILITY", lambda r: Text(r.availability,
                                                                  style=_AVAILABILITY.get(r.availability, "")),
                   min_width=8),
            Column("status", "STATUS", lambda r: Text(r.status, style="green" if r.status == "ready" else "red"),
                   min_width=6),
            Column("engine", "ENGINE", lambda r: r.engine, min_width=6),
            Column("addr", "ADDRESS", lambda r: r.addr, min_width=7),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
            Column("id", "ID", lambda r: r.id[:12], min_width=12, max_width=12),
        ]

    def target_of(self, row: NodeRow) -> str:
        return row.id
