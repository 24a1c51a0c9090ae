"""Containers of every runtime in one live table (``:containers``, ``:co``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text
from textual.binding import Binding

from tamer_tui.core.feeds import FeedMessage, merged_feed
from tamer_tui.core.models import ContainerRow
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column

STATE_STYLE = {
    "running": "green",
    "paused": "yellow",
    "restarting": "yellow",
    "created": "cyan",
    "exited": "bright_black",
    "dead": "red",
    "removing": "bright_black",
}
HEALTH_STYLE = {"healthy": "green", "unhealthy": "bold red", "starting": "yellow"}


def _health(row: ContainerRow) -> Text:
    return Text(row.health or "-", style=HEALTH_STYLE.get(row.health, ""))


class ContainersScreen(ResourceScreen):
    """Name, image, state, health, status, ports, CPU, memory and age of every container."""

    resource = "containers"
    target_kind = "container"

    BINDINGS = [
        Binding("y", "run('inspect')", "Inspect", id="containers.inspect"),
        Binding("u", "run('start')", "Start", id="containers.start"),
        Binding("o", "run('stop')", "Stop", id="containers.stop"),
        Binding("r", "run('restart')", "Restart", id="containers.restart"),
        Binding("p", "toggle_pause", "Pause/Unpause", id="containers.pause"),
        Binding("ctrl+k", "run('kill')", "Kill", id="containers.kill"),
        Binding("ctrl+d", "run('rm')", "Delete", id="containers.delete"),
        Binding("n", "prompt_run('rename', 'New name')", "Rename", id="containers.rename"),
        Binding("t", "run('top')", "Top", id="containers.top"),
        Binding("x", "run('stats')", "Stats", id="containers.stats"),
        Binding("e", "run('env')", "Env", id="containers.env"),
        sort_binding("N", "name", "name"),
        sort_binding("S", "state", "state"),
        sort_binding("I", "image", "image"),
        sort_binding("A", "age", "age"),
        sort_binding("R", "runtime", "runtime"),
        sort_binding("C", "cpu", "CPU"),
        sort_binding("M", "mem", "memory"),
    ]

    def columns(self) -> list[Column[Any]]:
        stats = self.tamer.container_stats
        return [
            Column("name", "NAME", lambda r: r.name, min_width=12, max_width=40),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("image", "IMAGE", lambda r: r.image, min_width=10, max_width=40),
            Column("state", "STATE", lambda r: Text(r.state, style=STATE_STYLE.get(r.state, "")), min_width=7),
            Column("health", "HEALTH", _health, min_width=6),
            Column("status", "STATUS", lambda r: r.status, min_width=10, max_width=32),
            Column("ports", "PORTS", lambda r: r.ports or "-", min_width=5, max_width=40),
            Column("cpu", "CPU%", lambda r: stats.cpu_text(r.key), min_width=5, align="right",
                   sort=lambda r: stats.cpu(r.key)),
            Column("mem", "MEM", lambda r: stats.mem_text(r.key), min_width=7, align="right",
                   sort=lambda r: stats.mem(r.key)),
            Column("id", "ID", lambda r: r.short_id, min_width=12, max_width=12),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
        ]

    def row_style(self, row: ContainerRow) -> str:
        return "dim" if row.state in ("exited", "dead", "created") else ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        return merged_feed(self.tamer.session.manager.runtimes, "containers")

    def target_of(self, row: ContainerRow) -> str:
        return f"container/{row.runtime}:{row.id}"

    def action_toggle_pause(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.action_run("unpause" if row.state == "paused" else "pause")

    def on_mount(self) -> None:
        super().on_mount()
        self.tamer.container_stats.attach(self)
