"""One live table for any Kubernetes resource (``:pods``, ``:deploy -n web``, ``:crd``, ``:nodes``).

Rows come from a shared informer (list, then watch); columns come from the resource's row spec in
``tamer_tui.core.kube.rows`` (our own for the common types, NAME/NAMESPACE/AGE for the rest).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text

from tamer_tui.core.feeds import FeedMessage
from tamer_tui.core.kube.resources import ResourceInfo
from tamer_tui.core.kube.rows import KubeRow, spec_for
from tamer_tui.core.rowstore import RowStore
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age, human_bytes_iec
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column

STATUS_STYLE = {
    "Running": "green", "Ready": "green", "Active": "green", "Bound": "green", "Complete": "green",
    "Completed": "bright_black", "Succeeded": "bright_black", "Pending": "yellow", "ContainerCreating": "yellow",
    "Terminating": "magenta", "Warning": "yellow",
}


def _millicores(v: Any) -> str:
    return f"{round(float(v) * 1000)}m" if v else "-"


def _cell(title: str, i: int) -> Column[Any]:
    def render(r: KubeRow) -> Any:
        v = r.cells[i] if i < len(r.cells) else ""
        if title in ("STATUS", "TYPE") and isinstance(v, str):
            style = STATUS_STYLE.get(v, "red" if r.faulty else "")
            return Text(v, style=style)
        if title in ("CPU/R", "CPU/L", "CPU"):
            return _millicores(v)
        if title in ("MEM/R", "MEM/L", "MEM"):
            return human_bytes_iec(float(v)) if v else "-"
        if title == "LAST SCHEDULE":
            return age(float(v)) if v else "<none>"
        if title == "LAST SEEN":
            return age(float(v)) if v else "-"
        return str(v)

    def sort(r: KubeRow) -> Any:
        return r.cells[i] if i < len(r.cells) else ""

    numeric = title in ("RESTARTS", "CPU/R", "CPU/L", "MEM/R", "MEM/L", "CPU", "MEM", "COUNT", "DATA")
    return Column(title.lower(), title, render, min_width=len(title) + 1, max_width=60 if title == "MESSAGE" else 40,
                  sort=sort, align="right" if numeric else "left")


class KubeResourceScreen(ResourceScreen):
    """A resource of one context, in one namespace or all, optionally filtered by a label selector."""

    target_kind = "kube"

    BINDINGS = [
        kb("kube.open", "open", "Open"),
        kb("kube.describe", "describe", "Describe"),
        kb("kube.yaml", "yaml", "YAML"),
        kb("kube.edit", "run('edit')", "Edit"),
        kb("kube.delete", "delete", "Delete"),
        kb("kube.owner", "owner", "Owner"),
        kb("kube.faults", "toggle_faults", "Faults"),
        kb("kube.all_namespaces", "all_namespaces", "All ns"),
        *[kb(f"kube.namespace_{i}", f"favorite_namespace({i})", f"ns {i}", show=False) for i in range(1, 10)],
        kb("kube_workloads.scale", "scale", "Scale"),
        kb("kube_workloads.restart", "restart", "Restart"),
        kb("kube_pods.kill", "kill", "Kill"),
        kb("kube_pods.node", "node", "Node"),
        kb("kube_pods.logs", "logs", "Logs"),
        kb("kube_workloads.logs", "logs", "Logs", show=False),
        kb("kube_pods.shell", "pod_run('shell')", "Shell"),
        kb("kube_pods.attach", "pod_run('attach')", "Attach", show=False),
        kb("kube_pods.exec", "pod_exec", "Exec", show=False),
        kb("kube_pods.port_forward", "port_forward", "Port-fwd"),
        kb("kube_services.port_forward", "port_forward", "Port-fwd"),
        kb("kube_nodes.cordon", "cordon(True)", "Cordon"),
        kb("kube_nodes.uncordon", "cordon(False)", "Uncordon"),
        kb("kube_nodes.drain", "drain", "Drain"),
        kb("kube_cronjobs.trigger", "trigger", "Trigger"),
        kb("kube_secrets.reveal", "reveal", "Reveal"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_age", "age"),
        sort_binding("table.sort_status", "status"),
    ]

    def __init__(self, context: str, info: ResourceInfo, namespace: str | None, label_selector: str | None = None,
                 field_selector: str | None = None) -> None:
        self.context = context
        self.info = info
        self.namespace = namespace if info.namespaced else None
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resource = info.plural
        self.scope_label = (self.namespace or "all") if info.namespaced else "cluster"
        self.faults_only = False
        self.metrics: dict[str, Any] | None = None  # "ns/name" -> Usage, once metrics.k8s.io answered
        self.pending_select: str | None = None
        self._stale_since: dict[str, float] = {}
        super().__init__()
        self.store = RowStore(search_text=lambda r: r.search, precomputed=True)  # computed when decoded
        if info.plural == "events":
            self.initial_sort = ("last seen", True)

    @property
    def screen_key(self) -> str:
        return kube_screen_key(self.context, self.info, self.namespace, self.label_selector, self.field_selector)

    def columns(self) -> list[Column[Any]]:
        cols: list[Column[Any]] = []
        if self.info.namespaced and self.namespace is None:
            cols.append(Column("namespace", "NAMESPACE", lambda r: r.namespace, min_width=9, max_width=30))
        titles = spec_for(self.info.plural).columns
        if self.info.plural == "events":
            # like kubectl get events: LAST SEEN TYPE REASON OBJECT COUNT MESSAGE (event names are noise)
            return cols + [_cell(titles[i], i) for i in (5, 0, 1, 2, 3, 4)]
        cols.append(Column("name", "NAME", lambda r: r.name, min_width=12, max_width=60))
        if self.info.plural == "pods":
            # READY STATUS RESTARTS [CPU MEM %CPU/R %CPU/L %MEM/R %MEM/L] IP NODE; requests/limits feed the %
            for i in (0, 1, 2):
                cols.append(_cell(titles[i], i))
            if self.metrics is not None:
                cols.extend(_metric_columns(self))
            for i in (3, 4):
                cols.append(_cell(titles[i], i))
        else:
            for i, title in enumerate(titles):
                cols.append(_cell(title, i))
        cols.append(Column("age", "AGE", lambda r: age(r.created), min_width=4, align="right", sort=lambda r: -r.created))
        return cols

    def row_style(self, row: KubeRow) -> str:
        return "red" if row.faulty and self.info.plural in ("pods", "nodes") else ""

    def feed(self) -> AsyncIterator[FeedMessage]:
        return self.tamer.kube.feed(self.info, self.namespace, self.label_selector, context=self.context,
                                    field_selector=self.field_selector)

    def target_of(self, row: KubeRow) -> str:
        kind = self.info.plural if not self.info.group or self.info.plural in _BUILTIN_WORDS else (
            f"{self.info.plural}.{self.info.group}")
        return f"{kind}/{row.namespace}/{row.name}" if row.namespace else f"{kind}/{row.name}"

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(5.0, self._tick)
        if self.info.plural == "pods":
            self.run_worker(self._poll_metrics, group="metrics", exclusive=True)  # type: ignore[arg-type]
        selectors = [s for s in (self.label_selector, self.field_selector) if s]
        if selectors:
            self.set_status(f"selector: {', '.join(selectors)}")

    def _update_title(self) -> None:
        super()._update_title()
        title = self.title_text
        prefix = f"{self.context} ▸ "
        if self.faults_only:
            title += "  [faults]"  # plain text: set_title escapes markup
        state = self.source_state.get(self.context)
        if state == "forbidden":
            title += "  ⛔ forbidden"
        since = self._stale_since.get(self.context)
        if state == "reconnecting" and since:
            title += f" (stale since {time.strftime('%H:%M:%S', time.localtime(since))})"
        self.set_title(prefix + title)

    def _source_status(self, msg: Any) -> None:
        if msg.state == "live":
            self._stale_since.pop(msg.source, None)
        elif msg.state == "reconnecting":
            self._stale_since.setdefault(msg.source, time.time())
        super()._source_status(msg)
        if msg.state == "forbidden":
            self.set_status(f"⛔ {msg.message}", "error")

    def _flush(self) -> None:
        super()._flush()
        if self.pending_select and self._alive() and self.table.select_key(self.pending_select):
            self.pending_select = None

    def _tick(self) -> None:
        if self.app.screen is self and self._alive():
            self.table.tick()

    async def _poll_metrics(self) -> None:
        """CPU/MEM columns from metrics.k8s.io while this screen shows; hidden if the API is not served."""
        from tamer_tui.core.errors import TamerError
        from tamer_tui.core.kube.metrics import pod_usage

        while True:
            if self.app.screen is self:
                try:
                    client = await self.tamer.kube.client(self.context)
                    usage = await pod_usage(client, self.namespace)
                except TamerError:
                    usage = None
                if usage is None:
                    return  # not served: the columns stay hidden
                first = self.metrics is None
                self.metrics = usage
                if first:
                    self.table.set_columns(self.columns())
                else:
                    self.table.tick()
            await asyncio.sleep(15.0)

    # -- actions -----------------------------------------------------------------------------
    _ONLY_FOR = {
        "scale": ("deployments", "statefulsets", "replicasets"),
        "restart": ("deployments", "statefulsets", "daemonsets"),
        "kill": ("pods",),
        "node": ("pods",),
        "logs": ("pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs"),
        "pod_run": ("pods",),
        "pod_exec": ("pods",),
        "port_forward": ("pods", "services"),
        "cordon": ("nodes",),
        "drain": ("nodes",),
        "trigger": ("cronjobs",),
        "reveal": ("secrets",),
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do not apply to this resource are hidden from the footer and do nothing."""
        kinds = self._ONLY_FOR.get(action)
        if kinds is not None:
            return self.info.plural in kinds
        if action == "all_namespaces":
            return self.info.namespaced
        return True

    def _row(self) -> KubeRow | None:
        row = self.table.cursor_row
        if row is None:
            self.set_status("nothing selected", "warning")
        return row

    def action_open(self) -> None:
        row = self._row()
        if row is not None:
            self.tamer.kube_open(self, row)

    def action_owner(self) -> None:
        row = self._row()
        if row is None:
            return
        if not row.owner:
            self.set_status(f"{row.name} has no owner", "warning")
            return
        self.tamer.kube_jump_to_owner(self.context, row)

    def action_describe(self) -> None:
        self.action_run("describe")

    def action_yaml(self) -> None:
        self.action_run("yaml")

    def action_delete(self) -> None:
        self.action_run("rm")

    def action_kill(self) -> None:
        if self.info.plural == "pods":
            self.action_run("kill")

    def action_logs(self) -> None:
        if self.info.plural in self._ONLY_FOR["logs"]:
            self.action_run("logs")

    def action_pod_run(self, command: str) -> None:
        if self.info.plural == "pods":
            self.action_run(command)

    def action_pod_exec(self) -> None:
        if self.info.plural == "pods":
            self.action_prompt_run("exec", "Command to run (argv, no shell)")

    def action_port_forward(self) -> None:
        """Ask for [LOCAL:]REMOTE (the declared ports are suggested) and start the forward."""
        row = self._row()
        if row is None or self.info.plural not in ("pods", "services"):
            return
        target = f"{'pod' if self.info.plural == 'pods' else 'svc'}/{row.namespace}/{row.name}"
        self.tamer.prompt_then_execute(f"Port-forward {target}: [LOCAL:]REMOTE (LOCAL 0 = any free port)",
                                       lambda value: f"pf {target} {value}")

    def action_node(self) -> None:
        row = self._row()
        if row is None:
            return
        if not row.node:
            self.set_status(f"{row.name} is not scheduled on a node", "warning")
            return
        self.tamer.kube_jump_to_node(self.context, row.node)

    def action_scale(self) -> None:
        if self.info.plural in ("deployments", "statefulsets", "replicasets"):
            self.action_prompt_run("scale", "Replicas")

    def action_restart(self) -> None:
        if self.info.plural in ("deployments", "statefulsets", "daemonsets"):
            self.action_run("restart")

    def action_cordon(self, on: bool) -> None:
        if self.info.plural == "nodes":
            self.action_run("cordon" if on else "uncordon")

    def action_drain(self) -> None:
        if self.info.plural == "nodes":
            self.action_run("drain")

    def action_trigger(self) -> None:
        if self.info.plural == "cronjobs":
            self.action_run("trigger")

    def action_reveal(self) -> None:
        if self.info.plural == "secrets":
            self.action_run("reveal")

    def action_toggle_faults(self) -> None:
        self.faults_only = not self.faults_only
        self.store.predicate = (lambda r: r.faulty) if self.faults_only else None
        self.table.refresh_rows(force=True)
        self._update_title()

    def action_favorite_namespace(self, index: int) -> None:
        """Keys 1-9: the favorite (settings kube.favorite_namespaces) or recently used namespaces."""
        if not self.info.namespaced:
            return
        names = self.tamer.kube.namespace_shortcuts(self.context)
        if index > len(names):
            self.set_status(f"no namespace on key {index} (favorites/recent: {', '.join(names) or 'none'})", "warning")
            return
        self.tamer.kube.set_namespace(names[index - 1])
        self.tamer.kube_navigate(self.info, names[index - 1], self.label_selector, context=self.context,
                                 field_selector=self.field_selector)

    def action_all_namespaces(self) -> None:
        if self.info.namespaced:
            current = self.tamer.kube.namespace or self.tamer.kube.state(self.context).namespace
            self.tamer.kube_navigate(self.info, None if self.namespace else current, self.label_selector,
                                     context=self.context, field_selector=self.field_selector)


def _metric_columns(screen: KubeResourceScreen) -> list[Column[Any]]:
    def usage(r: KubeRow) -> Any:
        return (screen.metrics or {}).get(f"{r.namespace}/{r.name}")

    def pct(r: KubeRow, idx: int, attr: str) -> str:
        u = usage(r)
        base = r.cells[idx] if idx < len(r.cells) else 0
        if u is None or not base:
            return "n/a"
        return f"{round(100 * getattr(u, attr) / float(base))}"

    def cpu(r: KubeRow) -> str:
        u = usage(r)
        return _millicores(u.cpu) if u else "n/a"

    def mem(r: KubeRow) -> str:
        u = usage(r)
        return human_bytes_iec(u.memory) if u else "n/a"

    def num(attr: str) -> Any:
        return lambda r: getattr(usage(r), attr, -1.0) if usage(r) else -1.0

    return [
        Column("cpu", "CPU", cpu, min_width=5, align="right", sort=num("cpu")),
        Column("mem", "MEM", mem, min_width=8, align="right", sort=num("memory")),
        Column("%cpu/r", "%CPU/R", lambda r: pct(r, 5, "cpu"), min_width=7, align="right"),
        Column("%cpu/l", "%CPU/L", lambda r: pct(r, 6, "cpu"), min_width=7, align="right"),
        Column("%mem/r", "%MEM/R", lambda r: pct(r, 7, "memory"), min_width=7, align="right"),
        Column("%mem/l", "%MEM/L", lambda r: pct(r, 8, "memory"), min_width=7, align="right"),
    ]


def kube_screen_key(context: str, info: ResourceInfo, namespace: str | None, selector: str | None,
                    field_selector: str | None = None) -> str:
    return f"k8s|{context}|{info.key}|{namespace or '*'}|{selector or ''}|{field_selector or ''}"


_BUILTIN_WORDS = frozenset({
    "pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "services",
    "ingresses", "configmaps", "secrets", "persistentvolumes", "persistentvolumeclaims", "storageclasses", "nodes",
    "namespaces", "events", "serviceaccounts", "endpoints", "roles", "rolebindings", "clusterroles",
    "clusterrolebindings", "customresourcedefinitions",
})
