"""Streaming logs of one or many sources (a pod, a workload's pods, containers, a compose project).

A worker consumes the :class:`LogSession`'s batches into the bounded :class:`LogBuffer` and tells the
view once per batch; everything else (search, filter, options, save, copy) works on the buffer.
Reloading with other options (``since``, ``previous``, ``tail``) opens a new session through the
``opener`` the command gave.
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tamer_tui.core.errors import TamerError
from tamer_tui.core.logbuffer import LogBuffer, LogQuery
from tamer_tui.core.logstream import LogChunk, LogOptions, LogSession
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.clipboard import copy_text
from tamer_tui.ui.screens.prompt_screen import PromptScreen
from tamer_tui.ui.widgets.header_bar import HeaderBar
from tamer_tui.ui.widgets.log_view import LogView

Opener = Callable[[LogOptions], Awaitable[LogSession]]
SINCE_KEYS = {"since_all": None, "since_1m": 60.0, "since_5m": 300.0, "since_15m": 900.0, "since_30m": 1800.0,
              "since_1h": 3600.0}
CASE_NAMES = {None: "smart case", True: "case-sensitive", False: "ignore case"}


def _since_label(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds)}s"


class LogsScreen(Screen[None]):
    """Keys: ``/`` search, ``n``/``N`` matches, ``F`` filter mode, ``s`` follow, ``t`` ``w`` ``p`` ``J`` toggles."""

    BINDINGS = [
        kb("app.back", "back", "Back"),
        kb("app.filter", "search", "Search"),
        kb("logs.follow", "toggle_follow", "Follow"),
        kb("logs.next", "next_hit", "Next", show=False),
        kb("logs.previous", "previous_hit", "Prev", show=False),
        kb("logs.filter_mode", "filter_mode", "Filter"),
        kb("logs.regex", "toggle_regex", "Regex", show=False),
        kb("logs.case", "cycle_case", "Case", show=False),
        kb("logs.timestamps", "view_option('show_stamps')", "Time"),
        kb("logs.wrap", "view_option('wrap')", "Wrap"),
        kb("logs.prefixes", "view_option('show_prefix')", "Source", show=False),
        kb("logs.json", "view_option('pretty_json')", "JSON", show=False),
        kb("logs.previous_container", "previous_container", "Previous", show=False),
        *(kb(f"logs.{name}", f"since('{name}')", name.replace("_", " "), show=False) for name in SINCE_KEYS),
        kb("logs.select", "select", "Select", show=False),
        kb("logs.copy", "copy", "Copy"),
        kb("logs.save", "save", "Save"),
        kb("logs.clear", "clear", "Clear", show=False),
    ]

    def __init__(self, title: str, session: LogSession | None, opener: Opener, options: LogOptions, *,
                 max_lines: int = 200_000, max_bytes: int = 256 * 1024 * 1024, timestamps: bool = False,
                 wrap: bool = False, prefixes: bool = True, kube: bool = False, spill_dir: str = "") -> None:
        super().__init__()
        self.log_title = title
        self.session = session
        self.opener = opener
        self.options = options
        self.kube = kube
        self.spill_dir = spill_dir
        self._spill: Any = None
        self.buffer = LogBuffer(max_lines, max_bytes, spill=self._open_spill())
        self._initial = {"show_stamps": timestamps, "wrap": wrap, "show_prefix": prefixes}
        self.state = "connecting"
        self.query_regex = False
        self.query_case: bool | None = None
        self.filter_mode = 0  # 0 all, 1 matching, 2 non-matching
        self.message = ""
        self._last_status = 0.0
        self._status_pending = False
        self._rate_mark = (time.monotonic(), 0)
        self.rate = 0.0
        self.show_rate = True  # lines/s in the status line (snapshot tests turn it off)

    def _open_spill(self) -> Any:
        if not self.spill_dir:
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.log_title).strip("_") or "logs"
        path = Path(self.spill_dir).expanduser() / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._spill = path.open("a", encoding="utf-8")
        except OSError as exc:
            self.message = f"cannot spill to {path}: {exc}"
            return None
        self.spill_path = path
        return self._spill

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        view = LogView(self.buffer, id="log-view")
        for name, value in self._initial.items():
            setattr(view, name, value)
        view.aggregated = bool(self.session and self.session.aggregated)
        view.on_change = self._status
        yield view
        search = Input(placeholder="search (Enter) - r: regex, i: case, F: filter", id="log-search")
        search.cursor_blink = False
        search.display = False
        yield search
        yield Static("", id="status-line")
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.view.focus()
        self._status(force=True)
        self.set_interval(0.5, lambda: self._status(force=True))  # rate, source states, throttled updates
        self._start()

    def on_unmount(self) -> None:
        if self._spill is not None:
            self._spill.close()

    def _start(self) -> None:
        self.run_worker(self._stream(), group="logs", exclusive=True)

    async def _stream(self) -> None:
        try:
            if self.session is None:
                self.state = "connecting"
                self._status(force=True)
                self.session = await self.opener(self.options)
            session = self.session
            self.view.aggregated = session.aggregated
            gc.freeze()  # long-lived objects so far leave the collector's scans (full collections cost ~100 ms)
            self.state = "streaming" if self.options.follow else "loading"
            async for items in session.items():
                if not self.is_attached:
                    return
                buf = self.buffer
                for item in items:
                    if isinstance(item, LogChunk):
                        buf.append(item.source, item.stamps, item.lines)
                    else:
                        buf.notice(item.source, item.kind, item.message)
                self.view.lines_added()
                self._status()
                await asyncio.sleep(0)  # let input and rendering run between batches
            self.state = "stream ended"
        except TamerError as exc:
            self.state = "error"
            self.message = str(exc)
            if self.is_attached:
                self.buffer.notice(self.log_title, "error", str(exc))
                self.view.lines_added()
        except NoMatches:
            return
        if self.is_attached:
            self._status(force=True)

    # -- status ------------------------------------------------------------------------------
    def _status(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_status < 0.1:
            if not self._status_pending:  # throttled: show the final state shortly after anyway
                self._status_pending = True
                self.set_timer(0.1, lambda: self._status(force=True))
            return
        self._status_pending = False
        self._last_status = now
        mark_t, mark_n = self._rate_mark
        if now - mark_t >= 1.0:
            self.rate = (self.buffer.received - mark_n) / (now - mark_t)
            self._rate_mark = (now, self.buffer.received)
        try:
            v = self.view
            line = self.query_one("#status-line", Static)
        except NoMatches:
            return
        b = self.buffer
        parts = [f"{self.log_title} [{self.state}]", f"{len(b):,} lines"]
        if b.evicted:
            parts.append(f"{b.evicted:,} older evicted")
        if self.session is not None and self.session.aggregated:
            live = sum(1 for s in self.session.sources.values() if s.state == "streaming")
            parts.append(f"{live}/{len(self.session.sources)} sources")
        parts.append("follow" if v.follow else "paused")
        if self.rate >= 1 and self.show_rate:
            parts.append(f"{self.rate:,.0f} lines/s")
        if v.search_query is not None:
            pos = f"{v.hit_index + 1}/{len(v.hits):,}" if v.hit_index >= 0 else f"{len(v.hits):,} matches"
            kind = "regex" if v.search_query.regex else "text"
            parts.append(f"/{v.search_query.pattern}/ {kind} {pos}")
        if v.filter_ids is not None:
            parts.append(f"filter: {'not ' if v.filter_invert else ''}matching ({len(v.filter_ids):,} shown)")
        opts = []
        if self.options.tail is not None:
            opts.append(f"tail {self.options.tail}")
        if self.options.since_seconds:
            opts.append(f"since {_since_label(self.options.since_seconds)}")
        if self.options.previous:
            opts.append("previous")
        if opts:
            parts.append(" ".join(opts))
        if v.mark is not None:
            parts.append(f"selection: {len(v.selected_ids())} lines")
        if self.message:
            parts.append(self.message)
        line.update(Content(" · ".join(parts)))  # plain text: titles and regexes may contain [brackets]
        v.border_title = f"logs {self.log_title} · {self.state}"

    def report(self, message: str) -> None:
        self.message = message
        self._status(force=True)

    # -- search and filter -------------------------------------------------------------------
    def _query(self, pattern: str) -> LogQuery:
        return LogQuery(pattern, regex=self.query_regex, case=self.query_case)

    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.value = self.view.search_query.pattern if self.view.search_query else ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = event.input
        box.display = False
        self.view.focus()
        self.apply_search(event.value)

    def apply_search(self, pattern: str) -> None:
        """Search (and, in filter mode, filter) for ``pattern``; a bad regex is reported, nothing changes."""
        query = self._query(pattern) if pattern else None
        try:
            self.view.set_search(query)
            if self.filter_mode and query is not None:
                self.view.set_filter(query, invert=self.filter_mode == 2)
            elif query is None:
                self.view.set_filter(None)
        except re.error as exc:
            self.report(f"bad regex {pattern!r}: {exc}")
            return
        self.message = ""
        if query is not None and self.view.hits and not self.view.follow:
            self.view.jump_hit(1)
        self._status(force=True)

    def action_next_hit(self) -> None:
        if not self.view.jump_hit(1):
            self.report("no matches" if self.view.search_query else "no search: press / first")
        self._status(force=True)

    def action_previous_hit(self) -> None:
        if not self.view.jump_hit(-1):
            self.report("no matches" if self.view.search_query else "no search: press / first")
        self._status(force=True)

    def action_filter_mode(self) -> None:
        query = self.view.search_query
        if query is None:
            self.report("filter mode needs a search: press / and type what to keep")
            return
        self.filter_mode = (self.filter_mode + 1) % 3
        self.view.set_filter(query if self.filter_mode else None, invert=self.filter_mode == 2)
        self._status(force=True)

    def action_toggle_regex(self) -> None:
        self.query_regex = not self.query_regex
        self._requery(f"search: {'regex' if self.query_regex else 'plain text'}")

    def action_cycle_case(self) -> None:
        order: list[bool | None] = [None, True, False]
        self.query_case = order[(order.index(self.query_case) + 1) % 3]
        self._requery(f"search: {CASE_NAMES[self.query_case]}")

    def _requery(self, message: str) -> None:
        if self.view.search_query is not None:
            self.apply_search(self.view.search_query.pattern)
        self.report(message)

    # -- options -----------------------------------------------------------------------------
    def action_view_option(self, name: str) -> None:
        self.view.set_option(name, not getattr(self.view, name))
        self._status(force=True)

    def action_toggle_follow(self) -> None:
        self.view.set_follow(not self.view.follow)
        self._status(force=True)

    def action_since(self, name: str) -> None:
        seconds = SINCE_KEYS[name]
        tail = None if seconds is None else self.options.tail
        self.reload(replace(self.options, since_seconds=seconds, tail=None if seconds else tail, previous=False))

    def action_previous_container(self) -> None:
        if not self.kube:
            self.report("previous container: Kubernetes pods only")
            return
        self.reload(replace(self.options, previous=not self.options.previous))

    def reload(self, options: LogOptions) -> None:
        """Reopen the stream with other options (the buffer starts over)."""
        self.options = options
        self.session = None
        self.buffer.clear()
        self.view.reset()
        self.view.set_follow(True)
        self.message = ""
        self._start()

    def action_clear(self) -> None:
        self.buffer.clear()
        self.view.reset()
        self._status(force=True)

    # -- selection, copy, save ---------------------------------------------------------------
    def action_select(self) -> None:
        self.view.toggle_anchor()
        self._status(force=True)

    def _export(self, ids: list[int] | None) -> list[str]:
        v = self.view
        return list(self.buffer.export(ids, stamps=v.show_stamps, sources=v.aggregated))

    def action_copy(self) -> None:
        ids = self.view.selected_ids()
        if not ids:
            self.report("nothing to copy: move the cursor (up/k) onto a line first")
            return
        how = copy_text(self.app, "\n".join(self._export(ids)))
        self.report(f"copied {len(ids)} line{'s' if len(ids) != 1 else ''} ({how})")

    def action_save(self) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.log_title).strip("_") or "logs"
        default = str(Path.home() / "tamer-logs" / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}.log")
        selection = self.view.selected_ids() if self.view.mark is not None else []
        ids = selection or self.view.visible_ids()
        what = f"{len(selection)} selected lines" if selection else \
            f"{len(ids):,} {'filtered' if self.view.filter_ids is not None else 'buffered'} lines"
        lines = self._export(ids)  # taken now: what was on screen when save was asked for

        def chosen(path: str | None) -> None:
            if path:
                self.run_worker(self.save_lines(lines, Path(path).expanduser()), group="save")

        self.app.push_screen(PromptScreen(f"Save {what} to:", default), chosen)

    async def save_lines(self, lines: list[str], target: Path) -> None:
        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8") as fh:
                for line in lines:
                    fh.write(line + "\n")

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            self.report(f"cannot save to {target}: {exc}")
            return
        self.report(f"saved {len(lines):,} lines to {target}")

    # -- back --------------------------------------------------------------------------------
    def action_back(self) -> None:
        box = self.query_one("#log-search", Input)
        if box.display:
            box.display = False
            self.view.focus()
        elif self.view.mark is not None:
            self.view.toggle_anchor()
            self._status(force=True)
        elif self.view.search_query is not None:
            self.filter_mode = 0
            self.view.set_filter(None)
            self.view.set_search(None)
            self.message = ""
            self._status(force=True)
        else:
            self.app.pop_screen()
