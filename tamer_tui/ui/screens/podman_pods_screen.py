"""Podman pods of every Podman engine (``:ppods``): status, containers, infra, age."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text

from tamer_tui.core.feeds import FeedMessage
from tamer_tui.core.models import RuntimeKind
from tamer_tui.core.podman_pods import pods_feed
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable

POD_STATUS_STYLE = {"running": "green", "degraded": "yellow", "paused": "yellow", "created": "cyan",
                    "exited": "bright_black", "stopped": "bright_black", "dead": "red", "error": "red"}


class PodmanPodsScreen(ResourceScreen):
    """Start, stop, restart, pause, kill, remove; stats, top, logs; systemd units, Quadlet, kube YAML."""

    resource = "ppods"
    target_kind = "pod"

    BINDINGS = [
        kb("ppods.open", "open", "Containers"),
        kb("ppods.describe", "pod('inspect')", "Inspect"),
        kb("ppods.create", "create", "Create"),
        kb("ppods.start", "pod('start')", "Start"),
        kb("ppods.stop", "pod('stop')", "Stop"),
        kb("ppods.restart", "pod('restart')", "Restart"),
        kb("ppods.pause", "toggle_pause", "Pause"),
        kb("ppods.kill", "pod('kill')", "Kill", show=False),
        kb("ppods.delete", "pod('rm')", "Remove"),
        kb("ppods.stats", "pod('stats')", "Stats"),
        kb("ppods.top", "pod('top')", "Top", show=False),
        kb("ppods.logs", "logs", "Logs"),
        kb("ppods.systemd", "generate('systemd')", "systemd", show=False),
        kb("ppods.quadlet", "generate('quadlet')", "Quadlet", show=False),
        kb("ppods.kube_generate", "generate('kgen')", "Kube YAML", show=False),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_status", "status"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_runtime", "runtime"),
    ]

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "NAME", lambda r: r.name, min_width=10, max_width=40),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("status", "STATUS", lambda r: Text(r.status, style=POD_STATUS_STYLE.get(r.status.lower(), "")),
                   min_width=7),
            Column("containers", "RUNNING", lambda r: f"{r.running}/{r.containers}", min_width=7, align="right"),
            Column("members", "CONTAINERS", _members, min_width=10, max_width=50),
            Column("infra", "INFRA", lambda r: r.infra_id[:12] or "-", min_width=5, max_width=12),
            Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created),
            Column("id", "ID", lambda r: r.id[:12], min_width=12, max_width=12),
        ]

    def row_style(self, row: Any) -> str:
        return "dim" if row.status.lower() in ("exited", "stopped", "created") else ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        runtimes = [rt for rt in self.tamer.session.manager.runtimes if rt.kind == RuntimeKind.PODMAN]
        if not runtimes:
            self.set_status("no Podman engine detected: pods are a Podman feature (:hosts lists what was found)",
                            "warning")
        return pods_feed(runtimes)

    def target_of(self, row: Any) -> str:
        return f"{row.runtime}:{row.name}"

    def action_pod(self, verb: str) -> None:
        self.action_run(f"ppods {verb}")

    def action_toggle_pause(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.action_pod("unpause" if row.status.lower() == "paused" else "pause")

    def action_generate(self, command: str) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"{command} ppod/{self.target_of(row)}")

    def action_logs(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"logs podman-pod/{row.name}")

    def action_create(self) -> None:
        self.tamer.prompt_then_execute("New pod name", lambda v: f"ppods create {v}")

    def action_open(self) -> None:
        self.action_pod("containers")

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_open()


def _members(row: Any) -> Text:
    text = Text()
    for m in (m for m in row.members if not m.infra):
        if text:
            text.append(", ")
        text.append(m.name, style="green" if m.state == "running" else "bright_black")
    return text or Text("-")
