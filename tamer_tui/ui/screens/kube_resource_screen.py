"""One live table for any Kubernetes resource (``:pods``, ``:deploy -n web``, ``:crd``, ``:nodes``).

Rows come from a shared informer (list, then watch); columns come from the resource's row spec in
``tamer_tui.core.kube.rows`` (our own for the common types, NAME/NAMESPACE/AGE for the rest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from rich.text import Text

from tamer_tui.core.feeds import FeedMessage
from tamer_tui.core.kube.resources import ResourceInfo
from tamer_tui.core.kube.rows import KubeRow, spec_for
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
        kb("kube.delete", "delete", "Delete"),
        kb("kube.faults", "toggle_faults", "Faults"),
        kb("kube.all_namespaces", "all_namespaces", "All ns"),
        kb("kube_workloads.scale", "scale", "Scale"),
        kb("kube_workloads.restart", "restart", "Restart"),
        kb("kube_pods.kill", "kill", "Kill"),
        kb("kube_nodes.cordon", "cordon(True)", "Cordon"),
        kb("kube_nodes.uncordon", "cordon(False)", "Uncordon"),
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
        super().__init__()

    @property
    def screen_key(self) -> str:
        return kube_screen_key(self.context, self.info, self.namespace, self.label_selector, self.field_selector)

    def columns(self) -> list[Column[Any]]:
        cols: list[Column[Any]] = []
        if self.info.namespaced and self.namespace is None:
            cols.append(Column("namespace", "NAMESPACE", lambda r: r.namespace, min_width=9, max_width=30))
        cols.append(Column("name", "NAME", lambda r: r.name, min_width=12, max_width=60))
        for i, title in enumerate(spec_for(self.info.plural).columns):
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
        selectors = [s for s in (self.label_selector, self.field_selector) if s]
        if selectors:
            self.set_status(f"selector: {', '.join(selectors)}")

    def _update_title(self) -> None:
        super()._update_title()
        frame = self.query_one("#table-frame")
        title = str(frame.border_title or "")
        prefix = f"{self.context} ▸ "
        if self.faults_only:
            title += "  [faults]"
        state = self.source_state.get(self.context)
        if state == "forbidden":
            title += "  ⛔ forbidden"
        frame.border_title = prefix + title

    def _source_status(self, msg: Any) -> None:
        super()._source_status(msg)
        if msg.state == "forbidden":
            self.set_status(f"⛔ {msg.message}", "error")

    # -- actions -----------------------------------------------------------------------------
    def _row(self) -> KubeRow | None:
        row = self.table.cursor_row
        if row is None:
            self.set_status("nothing selected", "warning")
        return row

    def action_open(self) -> None:
        row = self._row()
        if row is not None:
            self.tamer.kube_open(self, row)

    def action_describe(self) -> None:
        self.action_run("describe")

    def action_yaml(self) -> None:
        self.action_run("yaml")

    def action_delete(self) -> None:
        self.action_run("rm")

    def action_kill(self) -> None:
        if self.info.plural == "pods":
            self.action_run("kill")

    def action_scale(self) -> None:
        if self.info.plural in ("deployments", "statefulsets", "replicasets"):
            self.action_prompt_run("scale", "Replicas")

    def action_restart(self) -> None:
        if self.info.plural in ("deployments", "statefulsets", "daemonsets"):
            self.action_run("restart")

    def action_cordon(self, on: bool) -> None:
        if self.info.plural == "nodes":
            self.action_run("cordon" if on else "uncordon")

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

    def action_all_namespaces(self) -> None:
        if self.info.namespaced:
            current = self.tamer.kube.namespace or self.tamer.kube.state(self.context).namespace
            self.tamer.kube_navigate(self.info, None if self.namespace else current, self.label_selector,
                                     context=self.context, field_selector=self.field_selector)


def kube_screen_key(context: str, info: ResourceInfo, namespace: str | None, selector: str | None,
                    field_selector: str | None = None) -> str:
    return f"k8s|{context}|{info.key}|{namespace or '*'}|{selector or ''}|{field_selector or ''}"


_BUILTIN_WORDS = frozenset({
    "pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "services",
    "ingresses", "configmaps", "secrets", "persistentvolumes", "persistentvolumeclaims", "storageclasses", "nodes",
    "namespaces", "events", "serviceaccounts", "endpoints", "roles", "rolebindings", "clusterroles",
    "clusterrolebindings", "customresourcedefinitions",
})
