"""``:ctx`` / ``:clusters``: every kubeconfig context with reachability, version, flavor and nodes.

Probes run in workers, each with a timeout, so a dead cluster shows as such and never blocks:
the list is usable (and switching works) while probes are still out.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

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
        yield Static("", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for col in COLUMNS:
            table.add_column(col, key=col)
        kube = self.tamer.kube
        for name, state in kube.contexts.items():
            table.add_row(*self._cells(state), key=name)
        names = list(kube.contexts)
        if kube.current in names:
            table.move_cursor(row=names.index(kube.current))
        table.border_title = f"contexts[{len(names)}]"
        if kube.load_error:
            self.query_one("#status-line", Static).update(kube.load_error)
        table.focus()
        self.action_probe()

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
            table.update_cell(state.name, col, value, update_width=True)

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
