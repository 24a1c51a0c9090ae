"""Read-only text (describe output), scrollable, copyable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, TextArea

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar


class TextScreen(Screen[None]):
    """``describe`` output: ``c`` copies it, ``w`` toggles wrapping."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("detail.copy", "copy", "Copy"),
        kb("detail.wrap", "toggle_wrap", "Wrap"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.text_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        area = TextArea(self.text, read_only=True, id="text-view", show_line_numbers=False)
        area.border_title = self.text_title
        yield area
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_toggle_wrap(self) -> None:
        area = self.query_one(TextArea)
        area.soft_wrap = not area.soft_wrap

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify(f"copied {self.text_title}")
