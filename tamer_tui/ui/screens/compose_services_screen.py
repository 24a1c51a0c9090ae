"""The services of one compose project (``:compose PROJECT``), each with its containers' state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from tamer_tui.core.compose import ComposeService, compose_feed
from tamer_tui.core.feeds import FeedMessage, Snapshot
from tamer_tui.core.rowstore import RowStore
from tamer_tui.core.runtime import ContainerRuntime
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.screens.compose_projects_screen import state_text
from tamer_tui.ui.screens.containers_screen import HEALTH_STYLE
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable


@dataclass(frozen=True, slots=True)
class ComposeServiceRow:
    """A service of the project, keyed for the table."""

    runtime: str
    project: str
    service: ComposeService
    files_missing: bool = False

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.project}/{self.service.name}"

    @property
    def name(self) -> str:
        return self.service.name


class ComposeServicesScreen(ResourceScreen):
    """Service, state, containers, health, image and ports of one project."""

    target_kind = "compose service"

    BINDINGS = [
        kb("compose_services.open", "open", "Containers"),
        kb("compose_services.up", "act('up')", "Up"),
        kb("compose_services.stop", "act('stop')", "Stop"),
        kb("compose_services.start", "act('start')", "Start"),
        kb("compose_services.restart", "act('restart')", "Restart"),
        kb("compose_services.pull", "act('pull')", "Pull", show=False),
        kb("compose_services.build", "act('build')", "Build", show=False),
        kb("compose_services.logs", "logs", "Logs"),
        kb("compose_services.shell", "shell", "Shell"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_status", "state"),
    ]

    def __init__(self, runtime: str, project: str) -> None:
        self.runtime_name = runtime
        self.project = project
        super().__init__()
        self.store = RowStore(lambda r: "\n".join((r.name, r.service.image, r.service.state,
                                                    *(c.name for c in r.service.containers))))
        self.scope_label = f"{runtime}:{project}"

    @property
    def screen_key(self) -> str:
        return f"compose:{self.runtime_name}:{self.project}"

    @property
    def resource(self) -> str:  # type: ignore[override]
        return f"compose {self.project}"

    def columns(self) -> list[Column[Any]]:
        return [
            Column("name", "SERVICE", lambda r: r.name, min_width=8, max_width=30),
            Column("state", "STATE", lambda r: state_text(r.service.state, r.service.running, r.service.total),
                   min_width=8, sort=lambda r: (r.service.running - r.service.total, r.name)),
            Column("health", "HEALTH", lambda r: Text(r.service.health or "-",
                                                     style=HEALTH_STYLE.get(r.service.health, "")), min_width=6),
            Column("containers", "CONTAINERS", _containers, min_width=10, max_width=60),
            Column("image", "IMAGE", lambda r: r.service.image, min_width=10, max_width=36),
            Column("ports", "PORTS", lambda r: r.service.ports or "-", min_width=5, max_width=30),
        ]

    def row_style(self, row: ComposeServiceRow) -> str:
        return "dim" if row.service.running == 0 else ""

    async def _project_feed(self) -> AsyncIterator[FeedMessage]:
        runtimes: list[ContainerRuntime] = [rt for rt in self.tamer.session.manager.runtimes
                                            if rt.name == self.runtime_name]
        async for msg in compose_feed(runtimes):
            if isinstance(msg, Snapshot):
                rows: list[ComposeServiceRow] = []
                for project in msg.rows:
                    if project.name == self.project:
                        rows = [ComposeServiceRow(project.runtime, project.name, s, project.files_missing)
                                for s in project.services]
                yield Snapshot(msg.source, tuple(rows))
                if not rows:
                    self.set_status(f"project {self.project} has no containers on {self.runtime_name} (any more)",
                                    "warning")
            else:
                yield msg

    def feed(self) -> AsyncIterator[FeedMessage]:
        return self._project_feed()

    def target_of(self, row: ComposeServiceRow) -> str:
        return f"{row.runtime}:{row.project}/{row.name}"

    def action_act(self, verb: str) -> None:
        self.action_run(f"compose {verb}")

    def action_logs(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"logs compose/{row.project}/{row.name}")

    def action_shell(self) -> None:
        row = self.table.cursor_row
        if row is None:
            return
        running = [c for c in row.service.containers if c.state == "running"]
        if not running:
            self.set_status(f"service {row.name} has no running container", "warning")
            return
        self.tamer.execute(f"shell container/{running[0].runtime}:{running[0].id}")

    def action_open(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"containers /{row.project}")

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_open()


def _containers(row: ComposeServiceRow) -> Text:
    text = Text()
    for i, c in enumerate(row.service.containers):
        if i:
            text.append(", ")
        text.append(c.name, style="green" if c.state == "running" else "bright_black")
    return text
