"""Disk usage (``:df``): images, containers, volumes and build cache per engine, with prune previews."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from tamer_tui.core.diskusage import DiskItem, DiskReport, disk_report
from tamer_tui.core.errors import TamerError
from tamer_tui.core.feeds import FeedMessage, Snapshot, SourceStatus
from tamer_tui.core.rowstore import RowStore
from tamer_tui.core.runtime import ContainerRuntime
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.format import age, human_size
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column

CATEGORY_ORDER = {"images": 0, "containers": 1, "volumes": 2, "build-cache": 3}
PRUNE_KIND = {"images": "images", "containers": "containers", "volumes": "volumes", "build-cache": "build-cache"}
REFRESH_S = 60.0


@dataclass(frozen=True, slots=True)
class DiskRow:
    """One item of one engine's report."""

    runtime: str
    item: DiskItem

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.item.key}"


class DiskUsageScreen(ResourceScreen):
    """Every item with its size and whether pruning would reclaim it; totals per category in the status line."""

    target_kind = "item"
    initial_sort = ("size", False)

    BINDINGS = [
        kb("disk.prune", "prune", "Prune category"),
        kb("disk.delete", "delete", "Remove"),
        kb("disk.reload", "reload", "Measure again"),
        sort_binding("table.sort_size", "size"),
        sort_binding("table.sort_name", "name"),
        sort_binding("table.sort_age", "age"),
    ]

    def __init__(self, runtimes: Sequence[ContainerRuntime], key: str = "df") -> None:
        self.df_runtimes = list(runtimes)
        self.df_key = key
        super().__init__()
        self.store = RowStore(lambda r: "\n".join((r.item.name, r.item.id, r.item.category, r.runtime,
                                                    r.item.detail)))
        self.reports: dict[str, DiskReport] = {}
        self._reload = asyncio.Event()

    @property
    def screen_key(self) -> str:
        return self.df_key

    @property
    def resource(self) -> str:  # type: ignore[override]
        return "df"

    def columns(self) -> list[Column[Any]]:
        return [
            Column("category", "TYPE", lambda r: r.item.category, min_width=6,
                   sort=lambda r: (CATEGORY_ORDER.get(r.item.category, 9), -r.item.size)),
            Column("name", "NAME", lambda r: r.item.name or r.item.id[:12], min_width=12, max_width=48),
            Column("runtime", "RUNTIME", lambda r: r.runtime, min_width=7, max_width=16),
            Column("size", "SIZE", lambda r: human_size(r.item.size), min_width=7, align="right",
                   sort=lambda r: -r.item.size),
            Column("reclaimable", "RECLAIMABLE", lambda r: Text("yes", style="yellow") if r.item.reclaimable
                   else Text("no", style="bright_black"), min_width=5),
            Column("in_use", "USED BY", lambda r: str(r.item.in_use), min_width=4, align="right"),
            Column("detail", "DETAIL", lambda r: r.item.detail or "-", min_width=6, max_width=40),
            Column("age", "AGE", lambda r: age(r.item.created), min_width=4, align="right",
                   sort=lambda r: -r.item.created),
        ]

    def row_style(self, row: DiskRow) -> str:
        return "" if row.item.reclaimable else "dim"

    async def _reports(self) -> AsyncIterator[FeedMessage]:
        while True:
            for rt in self.df_runtimes:
                yield SourceStatus(rt.name, "connecting")
                try:
                    await rt.connect()
                    report = await disk_report(rt)
                except (TamerError, OSError) as exc:
                    yield SourceStatus(rt.name, "reconnecting", f"{exc}")
                    continue
                self.reports[rt.name] = report
                yield Snapshot(rt.name, tuple(DiskRow(rt.name, i) for i in report.items))
                yield SourceStatus(rt.name, "live")
                self._show_totals()
            self._reload.clear()
            try:
                await asyncio.wait_for(self._reload.wait(), REFRESH_S)
            except TimeoutError:
                pass

    def feed(self) -> AsyncIterator[FeedMessage]:
        return self._reports()

    def _show_totals(self) -> None:
        parts = []
        for name, report in self.reports.items():
            cats = []
            for category, (count, size, reclaimable) in sorted(report.totals.items(),
                                                               key=lambda kv: CATEGORY_ORDER.get(kv[0], 9)):
                cats.append(f"{category} {count}: {human_size(size)} ({human_size(reclaimable)} reclaimable)")
            note = f" [{report.note}]" if report.note else ""
            parts.append(f"{name}: " + ", ".join(cats) + note)
        self.set_status("  |  ".join(parts))

    def target_of(self, row: DiskRow) -> str:
        kind = {"images": "image", "containers": "container", "volumes": "volume"}.get(row.item.category, "")
        ident = row.item.name if row.item.category == "volumes" else row.item.id
        return f"{kind}/{row.runtime}:{ident}"

    def action_reload(self) -> None:
        self._reload.set()

    def action_prune(self) -> None:
        row = self.table.cursor_row
        if row is None:
            return
        kind = PRUNE_KIND[row.item.category]
        self.tamer.execute(f"prune {kind} {row.runtime}")

    def action_delete(self) -> None:
        row = self.table.cursor_row
        if row is None:
            return
        if row.item.category == "build-cache":
            self.tamer.execute(f"prune build-cache {row.runtime}")
            return
        self.tamer.execute(f"rm {self.target_of(row)}")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self._reload.set()  # back from a prune or a removal: measure again
