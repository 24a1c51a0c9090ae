"""``:dashboard``: one cluster at a glance, live (nodes, pods by status, degraded workloads,
top restarters, recent warnings), fed by the same shared informers as the tables."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Static

from tamer_tui.core.errors import TamerError
from tamer_tui.core.feeds import Remove, Snapshot, SourceStatus, Upsert
from tamer_tui.core.kube.dashboard import Summary, summarize
from tamer_tui.core.kube.resources import builtin
from tamer_tui.core.kube.rows import KubeRow
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age, human_bytes_iec
from tamer_tui.ui.widgets.header_bar import HeaderBar

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

FEEDS = ("nodes", "pods", "deployments", "statefulsets", "daemonsets", "events")


class DashboardScreen(Screen[None]):
    """Recomputed at most once a second from the rows the informers keep up to date."""

    BINDINGS = [kb("app.back", "app.pop_screen", "Back")]

    def __init__(self, context: str) -> None:
        super().__init__(name=f"dashboard|{context}")
        self.context = context
        self.rows: dict[str, dict[str, KubeRow]] = {k: {} for k in FEEDS}
        self.states: dict[str, str] = {}
        self.summary = Summary()
        self.node_usage: dict[str, Any] | None = None
        self._dirty = False

    @property
    def tamer(self) -> TamerApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with Grid(id="dashboard-grid"):
            for pid in ("nodes", "pods", "degraded", "restarters", "warnings"):
                yield Static("", id=f"dash-{pid}", classes="dash-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#dashboard-grid").border_title = f"dashboard {self.context}"
        for plural in FEEDS:
            self.run_worker(self._follow(plural), group=f"dash-{plural}")
        self.run_worker(self._poll_node_metrics(), group="dash-metrics")
        self.set_interval(1.0, self._draw_if_dirty)
        self._draw()

    async def _follow(self, plural: str) -> None:
        info = builtin(plural)
        assert info is not None
        try:
            async for msg in self.tamer.kube.feed(info, None, context=self.context):
                store = self.rows[plural]
                if isinstance(msg, Snapshot):
                    store.clear()
                    store.update((r.key, r) for r in msg.rows)
                elif isinstance(msg, Upsert):
                    store.update((r.key, r) for r in msg.rows)
                elif isinstance(msg, Remove):
                    for k in msg.keys:
                        store.pop(k, None)
                elif isinstance(msg, SourceStatus):
                    self.states[plural] = msg.state
                self._dirty = True
        except TamerError as exc:
            self.states[plural] = f"error: {exc}"
            self._dirty = True

    async def _poll_node_metrics(self) -> None:
        from tamer_tui.core.kube.metrics import node_usage

        while True:
            if self.app.screen is self:
                try:
                    usage = await node_usage(await self.tamer.kube.client(self.context))
                except TamerError:
                    usage = None
                if usage is None:
                    return
                self.node_usage = usage
                self._dirty = True
            await asyncio.sleep(15.0)

    def _draw_if_dirty(self) -> None:
        if self._dirty and self.app.screen is self:
            self._draw()

    def _draw(self) -> None:
        self._dirty = False
        workloads = [*self.rows["deployments"].values(), *self.rows["statefulsets"].values(),
                     *self.rows["daemonsets"].values()]
        s = summarize(self.rows["nodes"].values(), self.rows["pods"].values(), workloads,
                      self.rows["events"].values(), self.node_usage)
        self.summary = s
        nodes = Table(title=f"Nodes {s.nodes_ready}/{len(s.nodes)} ready", expand=True, title_justify="left")
        for col in ("NAME", "STATUS", "PRESSURE", "PODS", "CPU used/alloc", "MEM used/alloc"):
            nodes.add_column(col)
        for n in s.nodes:
            cpu = f"{n.cpu_used:.2f}/{n.cpu_alloc:.0f}" if n.cpu_used is not None else f"-/{n.cpu_alloc:.0f}"
            mem = (f"{human_bytes_iec(n.mem_used)}/{human_bytes_iec(n.mem_alloc)}" if n.mem_used is not None
                   else f"-/{human_bytes_iec(n.mem_alloc)}")
            style = "" if n.status.startswith("Ready") and n.pressure in ("-", "") else "red"
            nodes.add_row(n.name, n.status, n.pressure, str(n.pods), cpu, mem, style=style)
        self.query_one("#dash-nodes", Static).update(nodes)
        pods = Table(title=f"Pods {s.pods_total}", expand=True, title_justify="left")
        pods.add_column("STATUS")
        pods.add_column("COUNT", justify="right")
        for status, count in s.pods_by_status:
            pods.add_row(status, str(count), style="" if status in ("Running", "Completed", "Succeeded") else "red")
        self.query_one("#dash-pods", Static).update(pods)
        degraded = Table(title=f"Workloads below desired ({len(s.degraded)})", expand=True, title_justify="left")
        for col in ("KIND", "NAME", "READY"):
            degraded.add_column(col)
        for kind, name, ready in s.degraded[:12]:
            degraded.add_row(kind, name, ready, style="yellow")
        self.query_one("#dash-degraded", Static).update(degraded)
        restarters = Table(title="Top restarters", expand=True, title_justify="left")
        restarters.add_column("POD")
        restarters.add_column("RESTARTS", justify="right")
        for name, count in s.restarters:
            restarters.add_row(name, str(count))
        self.query_one("#dash-restarters", Static).update(restarters)
        warnings = Table(title="Recent warnings", expand=True, title_justify="left")
        for col in ("AGE", "OBJECT", "REASON", "MESSAGE"):
            warnings.add_column(col, overflow="ellipsis", no_wrap=True)
        for ts, obj, reason, message in s.warnings:
            warnings.add_row(age(ts), obj, reason, message)
        self.query_one("#dash-warnings", Static).update(warnings)
