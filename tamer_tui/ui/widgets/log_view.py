"""A line-API log view over a :class:`LogBuffer`: renders only the rows on screen.

The view shows either every buffered line or a filtered id list (kept up to date as lines arrive and
as old ones are evicted). Search hits are an id list too; matches are highlighted on the visible rows
only. With wrap or JSON pretty-printing a line may take several rows: the view then lays out just the
screenful around the scroll position (from the bottom while following), never the whole buffer.

While following, the view sticks to the end; any move of the cursor (or the mouse wheel) pauses it.
The cursor line (and an optional selection from an anchor to the cursor) is what ``copy`` takes.
"""

from __future__ import annotations

import bisect
import heapq
import json
import re
from collections.abc import Callable

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tamer_tui.core.logbuffer import LinePredicate, LogBuffer, LogQuery

LEVEL_RE = re.compile(
    r"""(?ix)
    (?:^|[\s\[("'=:])(?P<word>fatal|panic|crit(?:ical)?|error|err|warn(?:ing)?|info|debug|trace|dbg)(?:$|[\s\]):"',|])
    |^(?P<klog>[EWIF])\d{4}\s
    """
)
LEVELS: dict[str, Style] = {
    "fatal": Style(color="bright_red", bold=True), "panic": Style(color="bright_red", bold=True),
    "crit": Style(color="bright_red", bold=True), "critical": Style(color="bright_red", bold=True),
    "error": Style(color="red"), "err": Style(color="red"), "e": Style(color="red"), "f": Style(color="bright_red", bold=True),
    "warn": Style(color="yellow"), "warning": Style(color="yellow"), "w": Style(color="yellow"),
    "debug": Style(dim=True), "dbg": Style(dim=True), "trace": Style(dim=True),
}
SOURCE_COLORS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta",
                 "bright_green", "bright_blue")
NOTICE_STYLES: dict[str, Style] = {
    "gap": Style(color="black", bgcolor="yellow", bold=True),
    "left": Style(color="black", bgcolor="bright_black"),
    "ended": Style(color="black", bgcolor="bright_black"),
    "joined": Style(color="black", bgcolor="green"),
    "error": Style(color="white", bgcolor="red", bold=True),
    "info": Style(color="black", bgcolor="cyan"),
}
HIT_STYLE = Style(color="black", bgcolor="yellow")
CURRENT_HIT_STYLE = Style(color="black", bgcolor="bright_magenta", bold=True)
CURSOR_STYLE = Style(bgcolor="grey30")
SELECTION_STYLE = Style(bgcolor="dark_blue")


def level_style(text: str) -> Style | None:
    """The log level found near the start of a line (``ERROR``, ``level=warn``, ``"level":"debug"``, klog ``E1126``)."""
    m = LEVEL_RE.search(text[:160])
    if m is None:
        return None
    word = (m.group("word") or m.group("klog") or "").lower()
    return LEVELS.get(word)


class LogView(ScrollView, can_focus=True):
    """Scrolling, cursor, filter and search state over a shared :class:`LogBuffer`."""

    DEFAULT_CSS = "LogView { height: 1fr; background: $surface; }"
    BINDINGS = [
        Binding("up,k", "cursor(-1)", show=False),
        Binding("down,j", "cursor(1)", show=False),
        Binding("pageup,ctrl+b", "page(-1)", show=False),
        Binding("pagedown,ctrl+f,space", "page(1)", show=False),
        Binding("home,g", "top", show=False),
        Binding("end,G", "bottom", show=False),
        Binding("left,h", "pan(-8)", show=False),
        Binding("right,l", "pan(8)", show=False),
    ]

    def __init__(self, buffer: LogBuffer, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self.follow = True
        self.wrap = False
        self.show_stamps = False
        self.show_prefix = True
        self.pretty_json = False
        self.aggregated = False
        self.filter_query: LogQuery | None = None
        self.filter_invert = False
        self.filter_ids: list[int] | None = None
        self._filter_pred: LinePredicate | None = None
        self.search_query: LogQuery | None = None
        self._search_pred: LinePredicate | None = None
        self._search_rx: re.Pattern[str] | None = None
        self.hits: list[int] = []
        self.hit_index = -1
        self.cursor: int | None = None
        self.mark: int | None = None
        self._width = 0
        self._seen_end = buffer.end_id
        self._cache_key: tuple[object, ...] | None = None
        self._cache_rows: list[Strip] = []
        self._prefix_width = 0
        self.on_change: Callable[[], None] | None = None

    # -- visible sequence --------------------------------------------------------------------
    def visible_count(self) -> int:
        return len(self.buffer) if self.filter_ids is None else len(self.filter_ids)

    def visible_id(self, k: int) -> int:
        return self.buffer.first_id + k if self.filter_ids is None else self.filter_ids[k]

    def visible_pos(self, line_id: int) -> int:
        """Position of ``line_id`` among the visible lines (or of the next visible line after it)."""
        if self.filter_ids is None:
            return max(0, line_id - self.buffer.first_id)
        return bisect.bisect_left(self.filter_ids, line_id)

    # -- new lines ---------------------------------------------------------------------------
    def lines_added(self) -> None:
        """Call after appending to the buffer: extends filter and hits, trims evicted ids, re-lays out."""
        buf = self.buffer
        start = max(self._seen_end, buf.first_id)
        self._seen_end = buf.end_id
        if start < buf.end_id:
            self._width = max(self._width, max(map(len, buf.texts[buf._index(start):])) + 40)
            if self._filter_pred is not None and self.filter_ids is not None:
                self.filter_ids.extend(self._matching(self._filter_pred, start, self.filter_invert))
            if self._search_pred is not None:
                self.hits.extend(buf.find(self._search_pred, start))
        self._trim_evicted()
        self._update_size()
        if self.follow:
            self.cursor = None
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        self.refresh()

    def _trim_evicted(self) -> None:
        first = self.buffer.first_id
        if self.filter_ids and self.filter_ids[0] < first:
            del self.filter_ids[: bisect.bisect_left(self.filter_ids, first)]
        if self.hits and self.hits[0] < first:
            cut = bisect.bisect_left(self.hits, first)
            del self.hits[:cut]
            self.hit_index = max(-1, self.hit_index - cut)
        if self.cursor is not None and self.cursor < first:
            self.cursor = first
        if self.mark is not None and self.mark < first:
            self.mark = first

    def reset(self) -> None:
        """After the buffer was cleared or replaced."""
        self._seen_end = self.buffer.first_id
        if self.filter_ids is not None:
            self.filter_ids = []
        self.hits = []
        self.hit_index = -1
        self.cursor = self.mark = None
        self._width = 0
        self.lines_added()

    def _update_size(self) -> None:
        width = 0 if self.wrap else self._width
        self.virtual_size = Size(width, self.visible_count())

    # -- filter and search -------------------------------------------------------------------
    def _matching(self, pred: LinePredicate, start: int, invert: bool) -> list[int]:
        ids = self.buffer.find(pred, start, invert=invert)
        notices = sorted(k for k in self.buffer.notice_kinds if k >= start)
        if notices:  # markers (gaps, sources joining or leaving) stay visible in filter mode
            ids = list(dict.fromkeys(heapq.merge(ids, notices)))
        return ids

    def set_filter(self, query: LogQuery | None, invert: bool = False) -> None:
        """Show only matching (``invert``: only non-matching) lines; None shows every line."""
        keep = self._anchor_line()
        if query is None or not query.pattern:
            self.filter_query, self._filter_pred, self.filter_ids = None, None, None
        else:
            pred = query.predicate()
            self.filter_query, self._filter_pred, self.filter_invert = query, pred, invert
            self.filter_ids = self._matching(pred, self.buffer.first_id, invert)
        self._relayout(keep)

    def set_search(self, query: LogQuery | None) -> None:
        """Highlight matches and collect the matching lines for next/previous."""
        if query is None or not query.pattern:
            self.search_query, self._search_pred, self._search_rx = None, None, None
            self.hits, self.hit_index = [], -1
        else:
            pred = query.predicate()  # raises re.error for a bad regex, before any state changes
            self.search_query, self._search_pred, self._search_rx = query, pred, pred.rx
            self.hits = self.buffer.find(pred)
            self.hit_index = -1
        self._cache_key = None
        self.refresh()

    def jump_hit(self, direction: int) -> bool:
        """Move to the next (1) or previous (-1) hit from the cursor (or the screen); False if none."""
        if not self.hits:
            return False
        ref = self.cursor if self.cursor is not None else self._anchor_line()
        if direction > 0:
            i = bisect.bisect_right(self.hits, ref if self.cursor is not None else ref - 1)
            if i >= len(self.hits):
                i = 0  # wrap around
        else:
            i = bisect.bisect_left(self.hits, ref) - 1
            if i < 0:
                i = len(self.hits) - 1
        self.hit_index = i
        target = self.hits[i]
        if self.filter_ids is not None and (self.visible_pos(target) >= len(self.filter_ids)
                                            or self.filter_ids[self.visible_pos(target)] != target):
            self.set_filter(None)  # the hit is hidden by the filter: show everything
        self.follow = False
        self.cursor = target
        self._scroll_to_line(target, center=True)
        return True

    # -- options -----------------------------------------------------------------------------
    def set_option(self, name: str, value: bool) -> None:
        keep = self._anchor_line()
        setattr(self, name, value)
        self._relayout(keep)

    def _relayout(self, keep: int | None) -> None:
        self._cache_key = None
        self._update_size()
        if self.follow:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        elif keep is not None:
            self._scroll_to_line(keep)
        self.refresh()

    def _anchor_line(self) -> int:
        if self.cursor is not None:
            return self.cursor
        n = self.visible_count()
        if n == 0:
            return self.buffer.end_id
        return self.visible_id(min(n - 1, int(self.scroll_y)))

    # -- scrolling and cursor ----------------------------------------------------------------
    def _multi_row(self) -> bool:
        return self.wrap or self.pretty_json

    def _scroll_to_line(self, line_id: int, center: bool = False) -> None:
        pos = self.visible_pos(line_id)
        height = max(1, self.size.height)
        top = int(self.scroll_y)
        if center:
            y = max(0, pos - height // 2)
        elif pos < top:
            y = pos
        elif pos >= top + height:
            y = pos - height + 1
        else:
            self.refresh()
            return
        self._cache_key = None
        self.scroll_to(y=y, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        n = self.visible_count()
        if n == 0:
            return
        if self.cursor is None:
            # the cursor appears on the last line on screen; moving up goes on from there
            top = int(self.scroll_y)
            at_end = self.follow or self.scroll_y >= self.max_scroll_y
            start = n - 1 if at_end else min(n - 1, top + max(0, self.size.height - 1))
            pos = start + min(0, delta)
        else:
            pos = self.visible_pos(self.cursor) + delta
        self.follow = False
        pos = max(0, min(n - 1, pos))
        self.cursor = self.visible_id(pos)
        self._scroll_to_line(self.cursor)
        self._changed()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 1))

    def action_top(self) -> None:
        if self.visible_count() == 0:
            return
        self.follow = False
        self.cursor = self.visible_id(0)
        self._cache_key = None
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self._changed()

    def action_bottom(self) -> None:
        self.follow = True
        self.cursor = None
        self._cache_key = None
        self.scroll_end(animate=False, immediate=True)
        self.refresh()
        self._changed()

    def action_pan(self, delta: int) -> None:
        if not self.wrap:
            self.scroll_to(x=max(0, int(self.scroll_x) + delta), animate=False, immediate=True)

    def set_follow(self, follow: bool) -> None:
        if follow:
            self.action_bottom()
        else:
            self.follow = False
            self._changed()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.follow:
            self.follow = False
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- selection ---------------------------------------------------------------------------
    def toggle_anchor(self) -> None:
        if self.mark is not None:
            self.mark = None
        else:
            if self.cursor is None:
                self.action_cursor(0)
            self.mark = self.cursor
        self._cache_key = None
        self.refresh()

    def selected_ids(self) -> list[int]:
        """The selection (anchor to cursor, visible lines only), else the cursor line, else nothing."""
        if self.cursor is None:
            return []
        if self.mark is None:
            return [self.cursor]
        lo, hi = sorted((self.mark, self.cursor))
        a, b = self.visible_pos(lo), self.visible_pos(hi)
        return [self.visible_id(k) for k in range(a, min(b + 1, self.visible_count()))]

    def visible_ids(self) -> list[int]:
        if self.filter_ids is not None:
            return list(self.filter_ids)
        return list(range(self.buffer.first_id, self.buffer.end_id))

    # -- rendering ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        rows = self._rows()
        if y < len(rows):
            return rows[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _rows(self) -> list[Strip]:
        key = (self.buffer.version, int(self.scroll_y), int(self.scroll_x), self.size, self.follow,
               self.cursor, self.mark, self.hit_index, len(self.hits), self.wrap, self.show_stamps,
               self.show_prefix, self.pretty_json, id(self.filter_ids), self.visible_count(), id(self._search_rx))
        if key == self._cache_key:
            return self._cache_rows
        width, height = self.size.width, self.size.height
        n = self.visible_count()
        rows: list[Strip] = []
        if width <= 0 or height <= 0 or n == 0:
            self._cache_key, self._cache_rows = key, rows
            return rows
        console = self.app.console
        self._prefix_width = min(28, max((len(s) for s in self.buffer.sources), default=0)) if self._prefixes() else 0
        if not self._multi_row():
            top = int(self.scroll_y)
            for k in range(top, min(n, top + height)):
                rows.append(self._line_strips(self.visible_id(k), console, width)[0])
        elif self.follow or self.scroll_y >= self.max_scroll_y:
            k = n - 1
            while k >= 0 and len(rows) < height:
                rows[:0] = self._line_strips(self.visible_id(k), console, width)
                k -= 1
            rows = rows[-height:]
        else:
            k = int(self.scroll_y)
            while k < n and len(rows) < height:
                rows.extend(self._line_strips(self.visible_id(k), console, width))
                k += 1
            rows = rows[:height]
        self._cache_key, self._cache_rows = key, rows
        return rows

    def _prefixes(self) -> bool:
        return self.show_prefix and (self.aggregated or len(self.buffer.sources) > 1)

    def _line_strips(self, line_id: int, console: Console, width: int) -> list[Strip]:
        buf = self.buffer
        text = Text(no_wrap=not self.wrap, end="")
        if self._prefix_width:
            src = buf.source_of(line_id)
            color = SOURCE_COLORS[buf.source_index(line_id) % len(SOURCE_COLORS)]
            text.append(src[: self._prefix_width].ljust(self._prefix_width) + " ", Style(color=color, bold=True))
        if self.show_stamps:
            stamp = buf.stamp(line_id)
            if stamp:
                text.append(stamp + " ", Style(dim=True))
        body = buf.text(line_id).replace("\t", "    ")
        offset = len(text)
        if buf.is_notice(line_id):
            kind = buf.notice_kinds.get(line_id, "info")
            text.append(f" {kind.upper()}: {body} ", NOTICE_STYLES.get(kind, NOTICE_STYLES["info"]))
        else:
            pretty: list[str] | None = None
            if self.pretty_json and body.lstrip().startswith("{"):
                try:
                    pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False).splitlines()
                except ValueError:
                    pretty = None
            if pretty is not None:
                body = "\n".join(pretty[:1] + [" " * offset + p for p in pretty[1:]])
            style = level_style(body)
            text.append(body, style or "")
            rx = self._search_rx
            if rx is not None:
                current = self.hits[self.hit_index] if 0 <= self.hit_index < len(self.hits) else -1
                hl = CURRENT_HIT_STYLE if line_id == current else HIT_STYLE
                for m in rx.finditer(body):
                    if m.end() > m.start():
                        text.stylize(hl, offset + m.start(), offset + m.end())
        if line_id == self.cursor:
            text.stylize(CURSOR_STYLE)
        elif self.mark is not None and self.cursor is not None and \
                min(self.mark, self.cursor) <= line_id <= max(self.mark, self.cursor):
            text.stylize(SELECTION_STYLE)
        base = self.rich_style
        if self._multi_row():
            lines = text.wrap(console, width) if self.wrap else text.split("\n")
            return [Strip(list(line.render(console, end=""))).apply_style(base).adjust_cell_length(width, base)
                    for line in lines] or [Strip.blank(width, base)]
        strip = Strip(list(text.render(console, end=""))).apply_style(base)
        x = int(self.scroll_x)
        return [strip.crop(x, x + width).adjust_cell_length(width, base)]
