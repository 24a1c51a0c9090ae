"""Networks of every runtime (``:networks``, ``:net``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tamer_tui.core.feeds import FeedMessage, merged_feed
from tamer_tui.core.models import NetworkRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column


class NetworksScreen(ResourceScreen):
    """Name, driver, scope, subnet, id, age; create, inspect, remove, prune."""

    resource = "networks"
    target_kind = "network"

    BINDINGS = [
        kb("networks.open", "run('inspect')", "Inspect", show=False),
        kb("networks.describe", "run('inspect')", "Describe"),
        kb("networks.yaml", "run('inspect')", "YAML", show=False),
        kb("networks.create", "create", "Create"),
        kb("networks.delete", "run('rm')", "Delete"),
        kb("networks.prune", "prune", "Prune"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_runtime", "runtime"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "NAME", lambda r: r.name, min_width=12, max_width=40),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("driver", "DRIVER", lambda r: r.driver, min_width=6),
            Column("scope", "SCOPE", lambda r: r.scope, min_width=5),
            Column("subnet", "SUBNET", lambda r: r.subnet or "-", min_width=6, max_width=40),
            Column("internal", "INTERNAL", lambda r: "yes" if r.internal else "no", min_width=8),
            Column("id", "ID", lambda r: r.id[:12], min_width=12, max_width=12),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
        ]

    def feed(self) -> AsyncIterator[FeedMessage]:
        return merged_feed(self.tamer.session.manager.runtimes, "networks")

    def target_of(self, row: NetworkRow) -> str:
        return f"network/{row.runtime}:{row.name}"

    def action_create(self) -> None:
        self.tamer.prompt_then_execute("New network name [runtime]", lambda v: f"create network {v}")

    def action_prune(self) -> None:
        self.tamer.execute("prune networks")
