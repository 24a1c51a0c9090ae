"""Preview of generated files (Quadlet, systemd units) before anything is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.clipboard import copy_text
from tamer_tui.ui.widgets.header_bar import HeaderBar


@dataclass(frozen=True, slots=True)
class PreviewFile:
    """A file to show: its name, its text, and a note (e.g. "needs Podman 5")."""

    filename: str
    text: str
    note: str = ""


class FilePreviewScreen(Screen[None]):
    """One file at a time (``n`` next); ``w`` writes them all through ``writer`` when one is given."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("preview.next", "next_file", "Next file"),
        kb("preview.copy", "copy", "Copy"),
        kb("preview.write", "write", "Write"),
    ]

    def __init__(self, title: str, files: Sequence[PreviewFile], *, destination: str = "",
                 writer: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__()
        self.preview_title = title
        self.files = list(files)
        self.destination = destination
        self.writer = writer
        self.index = 0

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        yield TextArea("", read_only=True, id="preview-text", show_line_numbers=True)
        yield Static("", id="preview-info")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        self.query_one(TextArea).focus()

    def _show(self) -> None:
        current = self.files[self.index]
        area = self.query_one(TextArea)
        area.load_text(current.text)
        area.border_title = f"{self.preview_title}: {current.filename} ({self.index + 1}/{len(self.files)})"
        where = f"w writes {len(self.files)} file(s) into {self.destination}" if self.writer else "preview only"
        note = f"{current.note}  |  " if current.note else ""
        self.query_one("#preview-info", Static).update(note + where)

    def action_next_file(self) -> None:
        self.index = (self.index + 1) % len(self.files)
        self._show()

    def action_copy(self) -> None:
        current = self.files[self.index]
        how = copy_text(self.app, current.text)
        self.notify(f"copied {current.filename} ({how})")

    def action_write(self) -> None:
        if self.writer is None:
            self.notify("nothing to write from this preview", severity="warning")
            return
        self.run_worker(self.writer(), group="preview-write", exclusive=True)
