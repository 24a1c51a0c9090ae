"""``:ctx`` / ``:clusters``: every kubeconfig context with reachability, version, flavor and nodes.

Probes run in workers, each with a timeout, so a dead cluster shows as such and never blocks:
the list is usable (and switching works) while probes are still out.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tamer_tui.core.kube.manager import ContextState
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

COLUMNS = ("NAME", "CLUSTER", "SERVER", "NAMESPACE", "FLAVOR", "VERSION", "NODES", "STATE")


class ContextsScreen(Screen[None]):
    """Enter switches to the context (at once; its pods open), ``p`` probes again."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("contexts.switch", "switch", "Switch"),
        kb("contexts.probe", "probe", "Probe"),
        kb("contexts.import", "import_found", "Import found"),
    ]

    def __init__(self, probe_timeout: float = 3.0) -> None:
        super().__init__(name="contexts")
        self.probe_timeout = probe_timeout

    @property
    def tamer(self) -> TamerApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        table: DataTable[str] = DataTable(id="contexts-table", cursor_type="row")
        yield table
        found: DataTable[str] = DataTable(id="found-table", cursor_type="row")
        found.border_title = "kubeconfigs found elsewhere, not merged (i imports)"
        yield found
        yield Static("", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col)
        kube = self.tamer.kube
        for name, state in kube.contexts.items():
            table.add_row(*(Text(c) for c in self._cells(state)), key=name)
        names = list(kube.contexts)
        if kube.current in names:
            table.move_cursor(row=names.index(kube.current))
        table.border_title = f"contexts[{len(names)}]"
        if kube.load_error:
            self.query_one("#status-line", Static).update(kube.load_error)
        table.focus()
        self.action_probe()
        found = self.query_one("#found-table", DataTable)
        for col in ("KIND", "FILE", "CONTEXTS", "STATE"):
            found.add_column(col, key=col)
        self.found: list[Any] = []
        self.run_worker(self._discover(), group="discover", exclusive=True)

    async def _discover(self) -> None:
        """Look for k3s, minikube, kind and WSL kubeconfigs (off the loop, bounded by timeouts)."""
        from tamer_tui.core.errors import TamerError

        runtimes = [s.runtime.list_containers for s in self.tamer.session.manager.states.values() if s.reachable]
        try:
            discovery = await self.tamer.kube.discover_unmerged(runtimes)
        except TamerError as exc:
            self.query_one("#status-line", Static).update(f"discovery failed: {exc}")
            return
        found = self.query_one("#found-table", DataTable)
        found.clear()
        self.found = discovery.importable + [f for f in discovery.found if f.error]
        for f in self.found:
            state = f.error or f"not merged: {', '.join(f.unmerged)}"
            found.add_row(*(Text(c) for c in (f.kind, f.path or f.origin, ", ".join(f.contexts) or "-", state[:70])))
        found.border_title = f"kubeconfigs found elsewhere, not merged[{len(discovery.importable)}] (i imports)"

    async def _import(self, index: int) -> None:
        from tamer_tui.core.errors import TamerError

        f = self.found[index]
        try:
            result = await self.tamer.kube.import_found(f)
        except TamerError as exc:
            self.tamer.report(str(exc), "error")
            return
        table = self.query_one("#contexts-table", DataTable)
        for name, state in self.tamer.kube.contexts.items():
            if name not in table.rows:
                table.add_row(*(Text(c) for c in self._cells(state)), key=name)
                self.run_worker(self._probe(name), group=f"probe-{name}", exclusive=True)
        self.tamer.report(f"imported {', '.join(result.added + result.renamed) or 'nothing new'} into {result.dest}"
                          + (f" (backup {result.backup})" if result.backup else ""))
        await self._discover()

    def action_import_found(self) -> None:
        found = self.query_one("#found-table", DataTable)
        if not getattr(self, "found", None):
            self.tamer.report("no kubeconfig to import", "warning")
            return
        if self.found[found.cursor_row].error:
            self.tamer.report(self.found[found.cursor_row].error, "error")
            return
        self.run_worker(self._import(found.cursor_row), group="import")

    def _cells(self, s: ContextState) -> list[str]:
        current = "*" if s.name == self.tamer.kube.current else " "
        if s.reachable is None:
            state = "probing…"
        elif s.reachable:
            state = "reachable"
        else:
            state = f"unreachable: {s.error}"[:60]
        nodes = "-" if s.node_count < 0 else str(s.node_count)
        return [f"{current}{s.name}", s.cluster, s.server or "-", s.namespace, s.flavor or "-", s.version or "-", nodes,
                state]

    def _update_row(self, state: ContextState) -> None:
        table = self.query_one(DataTable)
        for col, value in zip(COLUMNS, self._cells(state), strict=True):
            table.update_cell(state.name, col, Text(value), update_width=True)

    def action_probe(self) -> None:
        for name in self.tamer.kube.contexts:
            self.tamer.kube.contexts[name].reachable = None
            self._update_row(self.tamer.kube.contexts[name])
            self.run_worker(self._probe(name), group=f"probe-{name}", exclusive=True)

    async def _probe(self, name: str) -> None:
        try:
            state = await asyncio.wait_for(self.tamer.kube.probe(name, self.probe_timeout), self.probe_timeout + 1)
        except TimeoutError:
            state = self.tamer.kube.contexts[name]
            state.reachable, state.error = False, f"no answer within {self.probe_timeout:.0f}s"
        self._update_row(state)

    def action_switch(self) -> None:
        table = self.query_one(DataTable)
        names = list(self.tamer.kube.contexts)
        if not names:
            return
        name = names[table.cursor_row]
        self.tamer.switch_context(name)
