"""A small static table (processes of ``top``, image layers of ``history``, environment)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from tamer_tui.ui.widgets.header_bar import HeaderBar


class TableScreen(Screen[None]):
    """Rows known up front and few (tens to hundreds), so Textual's DataTable is the right tool."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="table.back")]

    def __init__(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        super().__init__()
        self.table_title = title
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        table: DataTable[str] = DataTable(id="static-table", cursor_type="row", zebra_stripes=True)
        table.border_title = f"{self.table_title}[{len(self.rows)}]"
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.headers)
        width = len(self.headers)
        # cells are data (env values, commands), never markup
        table.add_rows([[Text(str(c)) for c in (r + [""] * width)[:width]] for r in self.rows])
        table.focus()
