"""Inspect output of any object as YAML (default) or JSON, read-only, searchable with the keys of TextArea."""

from __future__ import annotations

import json
from typing import Any

import yaml
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, TextArea

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar


def to_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)


class InspectScreen(Screen[None]):
    """Full object of a row, fetched on demand; ``J`` toggles JSON/YAML, ``c`` copies it, ``w`` wraps."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("detail.format", "toggle_format", "JSON/YAML"),
        kb("detail.copy", "copy", "Copy"),
        kb("detail.wrap", "toggle_wrap", "Wrap"),
    ]

    def __init__(self, title: str, data: Any, fmt: str = "yaml") -> None:
        super().__init__()
        self.object_title = title
        self.data = data
        self.fmt = fmt

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        area = TextArea(self._text(), read_only=True, language=self.fmt, id="inspect-text", show_line_numbers=True)
        area.border_title = f"{self.object_title} ({self.fmt})"
        yield area
        yield Footer()

    def _text(self) -> str:
        if self.fmt == "json":
            return json.dumps(self.data, indent=2, sort_keys=False, default=str)
        return to_yaml(self.data)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_toggle_format(self) -> None:
        self.fmt = "json" if self.fmt == "yaml" else "yaml"
        area = self.query_one(TextArea)
        area.language = self.fmt
        area.load_text(self._text())
        area.border_title = f"{self.object_title} ({self.fmt})"

    def action_toggle_wrap(self) -> None:
        area = self.query_one(TextArea)
        area.soft_wrap = not area.soft_wrap

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self._text())
        self.notify(f"copied {self.object_title} ({self.fmt}) to the clipboard")
