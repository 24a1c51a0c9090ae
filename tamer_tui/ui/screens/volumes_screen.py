"""Volumes of every runtime (``:volumes``, ``:vol``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tamer_tui.core.feeds import FeedMessage, merged_feed
from tamer_tui.core.models import VolumeRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column


class VolumesScreen(ResourceScreen):
    """Name, driver, scope, mount point, age; create, inspect, remove, prune."""

    resource = "volumes"
    target_kind = "volume"

    BINDINGS = [
        kb("volumes.open", "run('inspect')", "Inspect", show=False),
        kb("volumes.describe", "run('inspect')", "Describe"),
        kb("volumes.yaml", "run('inspect')", "YAML", show=False),
        kb("volumes.create", "create", "Create"),
        kb("volumes.delete", "run('rm')", "Delete"),
        kb("volumes.prune", "prune", "Prune"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_runtime", "runtime"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "NAME", lambda r: r.name, min_width=12, max_width=64),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("driver", "DRIVER", lambda r: r.driver, min_width=6),
            Column("scope", "SCOPE", lambda r: r.scope, min_width=5),
            Column("mountpoint", "MOUNTPOINT", lambda r: r.mountpoint or "-", min_width=10, max_width=60),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
        ]

    def feed(self) -> AsyncIterator[FeedMessage]:
        return merged_feed(self.tamer.session.manager.runtimes, "volumes")

    def target_of(self, row: VolumeRow) -> str:
        return f"volume/{row.runtime}:{row.name}"

    def action_create(self) -> None:
        self.tamer.prompt_then_execute("New volume name [runtime]", lambda v: f"create volume {v}")

    def action_prune(self) -> None:
        self.tamer.execute("prune volumes")
