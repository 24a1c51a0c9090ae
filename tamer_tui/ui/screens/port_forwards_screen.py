"""Every port-forward of the session (`:pf`): target, local URL, state, connections, traffic, age.

Rows change when the engine says so (state, pod, connection count) and the byte counters and ages are
re-read once a second. Keys: ``y`` copies the URL, ``ctrl+d`` stops the selected forward, ``D`` stops
all, ``r`` restarts a stopped or failed one, ``S`` saves it (started again with ``--autostart``).
Docker/Podman containers' published ports are listed below with their URLs.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.clipboard import copy_text
from tamer_tui.ui.format import human_size
from tamer_tui.ui.widgets.header_bar import HeaderBar

STATE_STYLES = {"active": "green", "starting": "cyan", "reconnecting": "yellow", "failed": "red bold",
                "stopped": "dim"}
COLUMNS = ("ID", "CONTEXT", "TARGET", "PORTS", "URL", "POD", "STATE", "CONNS", "IN", "OUT", "AGE", "REASON")


def _age(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class PortForwardsScreen(Screen[None]):
    """A small table (forwards are few): Textual's DataTable is fine here."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("forwards.copy", "copy_url", "Copy URL"),
        kb("forwards.stop", "stop", "Stop"),
        kb("forwards.stop_all", "stop_all", "Stop all"),
        kb("forwards.restart", "restart", "Restart"),
        kb("forwards.save", "save", "Save"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._unsubscribe: Any = None

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        table: DataTable[Any] = DataTable(id="forwards-table", cursor_type="row", zebra_stripes=True)
        table.border_title = "port-forwards"
        yield table
        yield Static("", id="published-ports")
        yield Static("", id="status-line")
        yield Footer()

    @property
    def manager(self) -> Any:
        return self.app.forwards  # type: ignore[attr-defined]

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#forwards-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col.lower())
        self._unsubscribe = self.manager.subscribe(lambda fwd: self.refresh_rows())
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows)
        self._published()
        self.table.focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _cells(self, fwd: Any) -> list[Any]:
        state = str(fwd.state)
        running = fwd.running
        return [
            str(fwd.id), fwd.context, fwd.target, fwd.spec.ports,
            fwd.url if running or fwd.local_port else "-", fwd.pod or "-",
            Text(state, style=STATE_STYLES.get(state, "")),
            f"{fwd.connections}/{fwd.total_connections}",
            human_size(fwd.bytes_in), human_size(fwd.bytes_out), _age(fwd.age),
            fwd.reason or fwd.last_error or "",
        ]

    def refresh_rows(self) -> None:
        """Diff the table against the manager's forwards: update cells, add new rows, drop removed ones."""
        table = self.table
        forwards = self.manager.list()
        keys = {str(f.id) for f in forwards}
        for row_key in list(table.rows):
            if row_key.value not in keys:
                table.remove_row(row_key)
        for fwd in forwards:
            cells = self._cells(fwd)
            key = str(fwd.id)
            if key in {k.value for k in table.rows}:
                for col, value in zip(COLUMNS, cells, strict=True):
                    table.update_cell(key, col.lower(), value)
            else:
                table.add_row(*cells, key=key)
        active = sum(1 for f in forwards if f.running)
        self.query_one("#status-line", Static).update(
            f"{active} active of {len(forwards)} · start one with :pf pod|svc/NS/NAME [LOCAL:]REMOTE")

    def _published(self) -> None:
        """Published ports of running Docker/Podman containers, with their URLs."""
        lines = []
        for row in getattr(self.app, "published_ports", lambda: [])():
            lines.append(row)
        widget = self.query_one("#published-ports", Static)
        widget.update("Container ports: " + ("  ".join(lines) if lines else "none published"))

    def _selected(self) -> Any:
        table = self.table
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.manager.get(int(key)) if key is not None else None

    def action_copy_url(self) -> None:
        fwd = self._selected()
        if fwd is None:
            return
        how = copy_text(self.app, fwd.url)
        self.app.notify(f"copied {fwd.url} ({how})")

    def action_stop(self) -> None:
        fwd = self._selected()
        if fwd is not None:
            self.app.execute(f"pf --stop {fwd.id}")  # type: ignore[attr-defined]

    def action_stop_all(self) -> None:
        self.app.execute("pf --stop all")  # type: ignore[attr-defined]

    def action_restart(self) -> None:
        fwd = self._selected()
        if fwd is not None:
            self.app.execute(f"pf --restart {fwd.id}")  # type: ignore[attr-defined]

    def action_save(self) -> None:
        fwd = self._selected()
        if fwd is not None:
            self.app.execute(f"pf --save {fwd.id}")  # type: ignore[attr-defined]
