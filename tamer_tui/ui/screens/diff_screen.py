"""A coloured unified diff of the edited objects against the cluster, one section per object."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar

STATUS_STYLE = {"new": "bold green", "changed": "bold yellow", "unchanged": "dim", "error": "bold red"}


def render_diff(sections: list[Any]) -> Text:
    """Headers per object; ``+`` lines green, ``-`` lines red, hunk headers cyan."""
    out = Text()
    for section in sections:
        out.append(f"■ {section.header}\n", STATUS_STYLE.get(section.status, "bold"))
        for conflict in getattr(section, "conflicts", []) or []:
            out.append(f"  conflict: {conflict.field} is owned by {conflict.manager}\n", "red")
        for line in (section.diff or "").splitlines():
            if line.startswith(("+++", "---")):
                style = "bold"
            elif line.startswith("@@"):
                style = "cyan"
            elif line.startswith("+"):
                style = "green"
            elif line.startswith("-"):
                style = "red"
            else:
                style = ""
            out.append(line + "\n", style)
        out.append("\n")
    return out


class DiffScreen(Screen[None]):
    """Read-only; Escape goes back to the editor."""

    BINDINGS = [kb("app.back", "app.pop_screen", "Back")]

    def __init__(self, title: str, sections: list[Any]) -> None:
        super().__init__()
        self.diff_title = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with VerticalScroll(id="diff-scroll") as scroll:
            scroll.border_title = f"diff {self.diff_title} (live -> edited)"
            yield Static(render_diff(self.sections) if self.sections else Text("nothing to compare"), id="diff-body")
        changed = sum(1 for s in self.sections if s.status in ("new", "changed"))
        yield Static(f"{len(self.sections)} object(s), {changed} would change", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#diff-scroll").focus()
