"""A line-API log view over a bounded buffer: renders only the visible lines, never grows unbounded."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

LEVEL_STYLES = (
    ("ERROR", Style(color="red", bold=True)),
    ("FATAL", Style(color="red", bold=True)),
    ("WARN", Style(color="yellow")),
    ("DEBUG", Style(dim=True)),
)


class LogView(ScrollView, can_focus=True):
    """Lines go into a ``deque(maxlen=capacity)``; the oldest fall out once it is full (the count of
    dropped lines is kept and shown by the screen). While following, the view sticks to the end."""

    DEFAULT_CSS = "LogView { height: 1fr; background: $surface; }"
    BINDINGS = [
        Binding("up,k", "scroll_lines(-1)", show=False),
        Binding("down,j", "scroll_lines(1)", show=False),
        Binding("pageup", "scroll_lines(-20)", show=False),
        Binding("pagedown", "scroll_lines(20)", show=False),
        Binding("home,g", "scroll_home_lines", show=False),
        Binding("end,G", "scroll_end_lines", show=False),
    ]

    def __init__(self, capacity: int = 100_000, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[str] = deque(maxlen=capacity)
        self.dropped = 0
        self.follow = True
        self.received = 0
        self._width = 0

    def add_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            if len(self.lines) == self.lines.maxlen:
                self.dropped += 1
            self.lines.append(line.replace("\t", "    "))
            self._width = max(self._width, len(line))
            self.received += 1
        self.virtual_size = Size(self._width, len(self.lines))
        if self.follow:
            # after the new virtual size is laid out, or the end is not yet reachable
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self.size.width
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        text = self.lines[index]
        style = self.rich_style
        upper = text[:80].upper()
        for word, level_style in LEVEL_STYLES:
            if word in upper:
                style = style + level_style
                break
        x = int(self.scroll_x)
        return Strip([Segment(text[x : x + width].ljust(width), style)], width)

    def action_scroll_lines(self, delta: int) -> None:
        self.follow = False
        self.scroll_to(y=max(0, int(self.scroll_y) + delta), animate=False)

    def action_scroll_home_lines(self) -> None:
        self.follow = False
        self.scroll_to(y=0, animate=False)

    def action_scroll_end_lines(self) -> None:
        self.follow = True
        self.scroll_end(animate=False)
