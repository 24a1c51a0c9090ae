"""A line-API virtual table: renders only the rows on screen, whatever the row count.

Textual's DataTable builds every row up front (2.7 s for 10k rows, 12 s for 50k, measured); this
table keeps only an ordered list of keys over a ``RowStore`` and draws the visible slice in
``render_line``. Rendered rows are cached by (row object, width), so an idle table costs nothing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tamer_tui.core.rowstore import RowFilter, RowStore
from tamer_tui.ui.bindings import kb

R = TypeVar("R")

Cell = str | Text


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: how to draw a cell, and how to sort by it."""

    key: str
    title: str
    render: Callable[[R], Cell]
    min_width: int = 4
    max_width: int = 60
    sort: Callable[[R], Any] | None = None
    align: str = "left"  # left | right


class ResourceTable(ScrollView, Generic[R], can_focus=True):
    """A virtual table over a ``RowStore`` with a cursor that follows its row across updates."""

    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
        background: $surface;
    }
    ResourceTable > .resource-table--header { text-style: bold; color: $text; background: $panel; }
    ResourceTable > .resource-table--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"resource-table--header", "resource-table--cursor"}

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "Top", show=False),
        Binding("end", "jump(-1)", "Bottom", show=False),
        kb("table.cursor_up", "cursor(-1)", "Up", show=False),
        kb("table.cursor_down", "cursor(1)", "Down", show=False),
        kb("table.page_up", "page(-1)", "Page up", show=False),
        kb("table.page_down", "page(1)", "Page down", show=False),
        kb("table.top", "jump(0)", "Top", show=False),
        kb("table.bottom", "jump(-1)", "Bottom", show=False),
    ]

    cursor_index: reactive[int] = reactive(0, always_update=True, repaint=False)

    class CursorMoved(Message):
        def __init__(self, table: ResourceTable[Any], key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

    class Selected(Message):
        """Enter on a row."""

        def __init__(self, table: ResourceTable[Any], key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(
        self,
        store: RowStore[Any],
        columns: list[Column[Any]],
        *,
        row_style: Callable[[Any], str] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = store
        self.columns = columns
        self.row_style = row_style
        self.row_filter = RowFilter("")
        self.sort_column: str | None = columns[0].key if columns else None
        self.sort_reverse = False
        self.keys: list[str] = []
        self._index: dict[str, int] | None = None
        self.cursor_key: str | None = None
        self._widths: list[int] = [c.min_width for c in columns]
        self._cache: OrderedDict[tuple[Any, ...], tuple[Any, Strip]] = OrderedDict()
        self._styles: dict[str, Style] = {}
        self._sort_fns: dict[str, Callable[[Any], Any]] = {}
        self._widths_version = -1
        self._widths_at = 0.0
        self._seen_version = -1

    # -- data --------------------------------------------------------------------------
    def set_filter(self, text: str) -> RowFilter:
        self.row_filter = RowFilter(text)
        self.refresh_rows(force=True)
        return self.row_filter

    def sort_by(self, column_key: str) -> None:
        if self.sort_column == column_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column_key, False
        self.refresh_rows(force=True)

    def _sort_fn(self) -> Callable[[Any], Any] | None:
        """The sort function of the sort column (the same object each time, so sorts stay cached)."""
        for c in self.columns:
            if c.key == self.sort_column:
                if c.sort is not None:
                    return c.sort
                fn = self._sort_fns.get(c.key)
                if fn is None:
                    fn = self._sort_fns[c.key] = _plain_sort(c.render)
                return fn
        return None

    def refresh_rows(self, force: bool = False) -> None:
        """Recompute the visible order after the store changed; keep the cursor on its row."""
        if not force and self.store.version == self._seen_version:
            return
        self._seen_version = self.store.version
        self.keys = self.store.view(self.row_filter, self._sort_fn(), self.sort_reverse)
        self._index = None
        self._compute_widths()
        if self.cursor_key is not None and (idx := self.index_of(self.cursor_key)) is not None:
            self.cursor_index = idx
        else:
            self.cursor_index = min(self.cursor_index, max(0, len(self.keys) - 1))
            self.cursor_key = self.keys[self.cursor_index] if self.keys else None
        self.virtual_size = Size(sum(self._widths) + len(self._widths), len(self.keys) + 1)
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor_key))

    def index_of(self, key: str) -> int | None:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index.get(key)

    def _compute_widths(self) -> None:
        # widths from the header and up to 300 sampled rows, recomputed at most every 2 s for big
        # tables (filtering and paging never pay for it)
        now = time.monotonic()
        if self.store.version == self._widths_version and self._widths_version >= 0:
            return
        if len(self.keys) > 2000 and now - self._widths_at < 2.0 and self._widths_version >= 0:
            return
        self._widths_version, self._widths_at = self.store.version, now
        sample_keys = self.keys if len(self.keys) <= 300 else self.keys[:: max(1, len(self.keys) // 300)]
        rows = [self.store.rows[k] for k in sample_keys if k in self.store.rows]
        widths = []
        for col in self.columns:
            w = max(col.min_width, len(col.title) + 1)
            for r in rows:
                w = max(w, len(_plain(col.render(r))))
                if w >= col.max_width:
                    w = col.max_width
                    break
            widths.append(w)
        if widths != self._widths:
            self._widths = widths
            self._cache.clear()

    @property
    def cursor_row(self) -> Any | None:
        return self.store.get(self.cursor_key) if self.cursor_key else None

    # -- cursor ------------------------------------------------------------------------
    def move_cursor_to(self, index: int) -> None:
        if not self.keys:
            self.cursor_key = None
            self.cursor_index = 0
            return
        index = max(0, min(len(self.keys) - 1, index))
        self.cursor_index = index
        self.cursor_key = self.keys[index]
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor_key))

    def select_key(self, key: str) -> bool:
        idx = self.index_of(key)
        if idx is None:
            return False
        self.move_cursor_to(idx)
        return True

    def _page(self) -> int:
        return max(1, self.size.height - 2)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor_to(self.cursor_index + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor_to(self.cursor_index + direction * self._page())

    def action_jump(self, where: int) -> None:
        self.move_cursor_to(0 if where == 0 else len(self.keys) - 1)

    def _scroll_cursor_into_view(self) -> None:
        height = max(1, self.size.height - 1)  # minus the header line
        top = int(self.scroll_y)
        if self.cursor_index < top:
            self.scroll_to(y=self.cursor_index, animate=False)
        elif self.cursor_index >= top + height:
            self.scroll_to(y=self.cursor_index - height + 1, animate=False)

    def on_click(self, event: Any) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_x)
            for col, w in zip(self.columns, self._widths, strict=False):
                if x < w + 1:
                    self.sort_by(col.key)
                    return
                x -= w + 1
            return
        self.move_cursor_to(int(self.scroll_y) + offset.y - 1)
        if getattr(event, "chain", 1) >= 2 and self.cursor_key:
            self.post_message(self.Selected(self, self.cursor_key))

    # -- rendering ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x = int(self.scroll_x)
        if y == 0:
            strip = self._header_strip()
        else:
            idx = int(self.scroll_y) + y - 1
            if idx >= len(self.keys):
                return Strip.blank(width, self.rich_style)
            key = self.keys[idx]
            row = self.store.rows.get(key)
            if row is None:
                return Strip.blank(width, self.rich_style)
            strip = self._row_strip(row, idx == self.cursor_index)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _header_strip(self) -> Strip:
        style = self.get_component_rich_style("resource-table--header")
        text = Text(style=style, no_wrap=True, end="")
        for col, w in zip(self.columns, self._widths, strict=False):
            title = col.title
            if col.key == self.sort_column:
                title += "↓" if self.sort_reverse else "↑"
            text.append(_fit(title, w, col.align) + " ")
        total = max(self.size.width, self.virtual_size.width)
        text.pad_right(max(0, total - text.cell_len))
        return Strip(text.render(self.app.console), text.cell_len)

    def _style(self, spec: str | Style | None) -> Style:
        if not spec:
            return Style()
        if isinstance(spec, Style):
            return spec
        cached = self._styles.get(spec)
        if cached is None:
            cached = self._styles[spec] = Style.parse(spec)
        return cached

    def _row_strip(self, row: Any, is_cursor: bool) -> Strip:
        """Segments built directly (no Text layout): a page of new rows renders in a few ms."""
        total = max(self.size.width, self.virtual_size.width)
        cache_key = (id(row), is_cursor, total)
        cached = self._cache.get(cache_key)
        if cached is not None and cached[0] is row:
            self._cache.move_to_end(cache_key)
            return cached[1]
        base = self.rich_style + self._style(self.row_style(row) if self.row_style else None)
        cursor = self.get_component_rich_style("resource-table--cursor") if is_cursor else None
        segments: list[Segment] = []
        used = 0
        for col, w in zip(self.columns, self._widths, strict=False):
            cell = col.render(row)
            if isinstance(cell, Text):
                style = base + self._style(cell.style) if cell.style else base
                text = cell.plain
            else:
                style, text = base, str(cell)
            if cursor is not None:
                style = style + cursor
            segments.append(Segment(_fit(text, w, col.align) + " ", style))
            used += w + 1
        if total > used:
            segments.append(Segment(" " * (total - used), base + cursor if cursor is not None else base))
        strip = Strip(segments, max(total, used))
        self._cache[cache_key] = (row, strip)
        if len(self._cache) > 2000:
            self._cache.popitem(last=False)
        return strip

    def set_columns(self, columns: list[Column[Any]]) -> None:
        """Replace the columns (e.g. metrics columns once the cluster turns out to serve them)."""
        self.columns = columns
        self._widths = [c.min_width for c in columns]
        self._widths_version = -1
        self._sort_fns.clear()
        self._cache.clear()
        self.refresh_rows(force=True)

    def tick(self) -> None:
        """Redraw the visible rows (ages, sampled numbers) without any data change."""
        self._cache.clear()
        self.refresh()

    def on_resize(self) -> None:
        self._cache.clear()
        self._scroll_cursor_into_view()

    def watch_cursor_index(self) -> None:
        self.refresh()


def _plain_sort(render: Callable[[Any], Cell]) -> Callable[[Any], str]:
    return lambda r: _plain(render(r))


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _fit(text: str, width: int, align: str) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if align == "right" else text.ljust(width)

