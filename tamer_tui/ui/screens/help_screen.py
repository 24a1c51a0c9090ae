"""``?``: every binding of the screen underneath, and every command."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from tamer_tui.core.commands import COMMANDS
from tamer_tui.ui.widgets.header_bar import HeaderBar


class HelpScreen(Screen[None]):
    """Keys of the screen it was opened from (including remapped ones) and the command list."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Back", id="help.back")]

    def __init__(self, bindings: list[tuple[str, str, str]], screen_name: str) -> None:
        super().__init__()
        self.bindings_list = bindings
        self.screen_name = screen_name

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        keys: DataTable[str] = DataTable(id="help-keys", cursor_type="row")
        keys.border_title = f"keys: {self.screen_name}"
        yield keys
        cmds: DataTable[str] = DataTable(id="help-commands", cursor_type="row")
        cmds.border_title = "commands (: or tamer -c)"
        yield cmds
        yield Footer()

    def on_mount(self) -> None:
        keys = self.query_one("#help-keys", DataTable)
        keys.add_columns("KEY", "ACTION", "ID")
        keys.add_rows([[Text(str(c)) for c in row] for row in self.bindings_list])  # plain text, not markup
        cmds = self.query_one("#help-commands", DataTable)
        cmds.add_columns("COMMAND", "ALIASES", "USAGE", "WHAT")
        for spec in COMMANDS:
            cmds.add_row(*(Text(c) for c in (spec.name, " ".join(spec.aliases), spec.usage or spec.name, spec.help)))
        keys.focus()
