"""Containers of every runtime in one live table (``:containers``, ``:co``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text

from tamer_tui.core.feeds import FeedMessage, merged_feed
from tamer_tui.core.models import ContainerRow
from tamer_tui.ui.bindings import kb
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
        kb("containers.open", "run('inspect')", "Inspect", show=False),
        kb("containers.describe", "run('inspect')", "Describe"),
        kb("containers.yaml", "run('inspect')", "YAML", show=False),
        kb("containers.start", "run('start')", "Start"),
        kb("containers.stop", "run('stop')", "Stop"),
        kb("containers.restart", "run('restart')", "Restart"),
        kb("containers.pause", "toggle_pause", "Pause"),
        kb("containers.stats", "run('stats')", "Stats"),
        kb("containers.top", "run('top')", "Top"),
        kb("containers.env", "run('env')", "Env"),
        kb("containers.logs", "run('logs')", "Logs"),
        kb("containers.shell", "run('shell')", "Shell"),
        kb("containers.attach", "run('attach')", "Attach", show=False),
        kb("containers.exec", "prompt_run('exec', 'Command to run (argv, no shell)')", "Exec", show=False),
        kb("containers.rename", "prompt_run('rename', 'New name')", "Rename"),
        kb("containers.kill", "run('kill')", "Kill"),
        kb("containers.delete", "run('rm')", "Delete"),
        kb("containers.run", "run_dialog", "Run"),
        kb("containers.run_like", "run_like", "Run like", show=False),
        kb("containers.limits", "run('limits')", "Limits"),
        kb("containers.health", "run('health')", "Health", show=False),
        kb("containers.systemd", "run('systemd')", "systemd", show=False),
        kb("containers.quadlet", "run('quadlet')", "Quadlet", show=False),
        kb("containers.kube_generate", "run('kgen')", "Kube YAML", show=False),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_status", "state"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_runtime", "runtime"),
        sort_binding("table.sort_cpu", "cpu"),
        sort_binding("table.sort_memory", "mem"),
    ]

    def columns(self) -> list[Column[Any]]:
        stats = self.tamer.container_stats
        return [
            Column("name", "NAME", lambda r: r.name, min_width=12, max_width=40),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("state", "STATE", lambda r: Text(r.state, style=STATE_STYLE.get(r.state, "")), min_width=7),
            Column("health", "HEALTH", _health, min_width=6),
            Column("cpu", "CPU%", lambda r: stats.cpu_text(r.key), min_width=5, align="right",
                   sort=lambda r: -stats.cpu(r.key)),
            Column("mem", "MEM", lambda r: stats.mem_text(r.key), min_width=7, align="right",
                   sort=lambda r: -stats.mem(r.key)),
            Column("image", "IMAGE", lambda r: r.image, min_width=10, max_width=36),
            Column("ports", "PORTS", lambda r: r.ports or "-", min_width=5, max_width=28),
            Column("status", "STATUS", lambda r: r.status, min_width=10, max_width=28),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
            Column("id", "ID", lambda r: r.short_id, min_width=12, max_width=12),
        ]

    def row_style(self, row: ContainerRow) -> str:
        return "dim" if row.state in ("exited", "dead", "created") else ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        return merged_feed(self.tamer.session.manager.runtimes, "containers")

    def target_of(self, row: ContainerRow) -> str:
        return f"container/{row.runtime}:{row.id}"

    def action_run_dialog(self) -> None:
        self.tamer.execute("run")

    def action_run_like(self) -> None:
        self.action_run("run --like")

    def action_toggle_pause(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.action_run("unpause" if row.state == "paused" else "pause")

    def on_mount(self) -> None:
        super().on_mount()
        self.tamer.container_stats.attach(self)
