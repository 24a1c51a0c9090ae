"""A Secret's values: masked until revealed, copyable one by one (clipboard or OSC 52)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.clipboard import copy_text
from tamer_tui.ui.widgets.header_bar import HeaderBar

MASK = "••••••••"


class SecretScreen(Screen[None]):
    """Keys with masked values; ``x`` reveals/hides all, ``c`` copies the selected value."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("kube_secrets.reveal", "toggle_reveal", "Reveal/Hide"),
        kb("detail.copy", "copy_value", "Copy value"),
    ]

    def __init__(self, title: str, values: dict[str, str]) -> None:
        super().__init__()
        self.secret_title = title
        self.values = values
        self.revealed = False

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        table: DataTable[str] = DataTable(id="secret-table", cursor_type="row")
        table.border_title = f"secret {self.secret_title}[{len(self.values)}]"
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("KEY", "VALUE")
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for key, value in sorted(self.values.items()):
            shown = value.replace("\n", "⏎") if self.revealed else MASK
            table.add_row(Text(key), Text(shown), key=key)

    def action_toggle_reveal(self) -> None:
        self.revealed = not self.revealed
        self._fill()

    def action_copy_value(self) -> None:
        table = self.query_one(DataTable)
        if not self.values:
            return
        key = sorted(self.values)[table.cursor_row]
        how = copy_text(self.app, self.values[key])
        self.notify(f"copied {key} ({how})")
