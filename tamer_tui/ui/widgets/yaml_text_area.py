"""A YAML TextArea whose gutter marks the lines that have problems (red: error, yellow: warning)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Offset
from textual.strip import Strip
from textual.widgets import TextArea

MARKS = {"error": Style(color="white", bgcolor="red", bold=True), "warning": Style(color="black", bgcolor="yellow"),
         "info": Style(color="black", bgcolor="cyan")}


class YamlTextArea(TextArea):
    """``problem_lines`` maps 1-based line numbers to the worst severity found on them."""

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, language="yaml", show_line_numbers=True, tab_behavior="indent", id=id,
                         soft_wrap=False)
        self.cursor_blink = False
        self.problem_lines: dict[int, str] = {}

    def set_problem_lines(self, lines: dict[int, str]) -> None:
        if lines != self.problem_lines:
            self.problem_lines = lines
            self._line_cache.clear()
            self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        if not self.problem_lines or not self.show_line_numbers:
            return strip
        scroll_x, scroll_y = self.scroll_offset
        try:
            row, col = self.wrapped_document.offset_to_location(Offset(0, scroll_y + y))
        except (IndexError, ValueError):
            return strip
        severity = self.problem_lines.get(row + 1)
        if severity is None or col != 0:
            return strip
        width = self.gutter_width
        mark = MARKS.get(severity, MARKS["info"])
        gutter = Strip(list(Segment.apply_style(list(strip.crop(0, width)), post_style=mark)), width)
        return Strip.join([gutter, strip.crop(width, strip.cell_length)])
