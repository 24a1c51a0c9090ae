"""Hosts (``:hosts``): Docker contexts, DOCKER_HOST, Podman connections and WSL distros, with reachability."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from tamer_tui.core.aio import run_blocking
from tamer_tui.core.feeds import FeedMessage, Snapshot, SourceStatus
from tamer_tui.core.hosts import HostEntry, HostStatus, list_hosts, probe_all
from tamer_tui.core.rowstore import RowStore
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.screens.resource_screen import ResourceScreen, sort_binding
from tamer_tui.ui.widgets.resource_table import Column, ResourceTable

PROBE_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class HostRow:
    """A host, its last probe (None: not probed yet) and whether its containers are shown."""

    entry: HostEntry
    status: HostStatus | None = None
    shown: bool = False
    runtime: str = "hosts"

    @property
    def key(self) -> str:
        return self.entry.name

    @property
    def name(self) -> str:
        return self.entry.name


def _reach(row: HostRow) -> Text:
    if row.status is None:
        return Text("probing…", style="bright_black")
    if row.status.reachable:
        return Text(f"up {row.status.latency_ms:.0f} ms", style="green")
    return Text("down", style="red")


class HostsScreen(ResourceScreen):
    """Every host Tamer knows of; Enter shows only it, space adds it to the shown ones (a RUNTIME column)."""

    resource = "hosts"
    target_kind = "host"

    BINDINGS = [
        kb("hosts.use", "host('use')", "Use only"),
        kb("hosts.toggle", "toggle_shown", "Show/hide"),
        kb("hosts.all", "all_hosts", "All"),
        kb("hosts.probe", "probe", "Probe"),
        kb("hosts.describe", "describe", "Details"),
        sort_binding("table.sort_name", "name"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # `/` matches the name, URL, engine, transport and where the host was found (one field per line)
        self.store = RowStore(lambda r: "\n".join((r.name, r.entry.url, str(r.entry.kind), r.entry.transport,
                                                    r.entry.source)))
        self._probe_now = asyncio.Event()
        self.entries: list[HostEntry] = []
        self.statuses: dict[str, HostStatus] = {}

    def columns(self) -> list[Column[Any]]:
        return [
            Column("shown", "", lambda r: Text("●", style="green") if r.shown else Text("○"), min_width=1,
                   max_width=1, sort=lambda r: not r.shown),
            Column("name", "NAME", lambda r: r.name + (" (default)" if r.entry.current else ""), min_width=10,
                   max_width=36),
            Column("kind", "ENGINE", lambda r: str(r.entry.kind), min_width=6),
            Column("transport", "VIA", lambda r: r.entry.transport, min_width=4),
            Column("reach", "REACHABLE", _reach, min_width=9),
            Column("version", "VERSION", lambda r: (r.status.version if r.status else "") or "-", min_width=7),
            Column("rootless", "ROOTLESS", lambda r: ("yes" if r.status.rootless else "no")
                   if r.status and r.status.reachable else "-", min_width=8),
            Column("url", "URL", lambda r: r.entry.url, min_width=12, max_width=50),
            Column("source", "FOUND IN", lambda r: r.entry.source, min_width=8, max_width=36),
            Column("error", "ERROR", lambda r: Text(r.status.error, style="red") if r.status and r.status.error
                   else Text("-"), min_width=5, max_width=60),
        ]

    def row_style(self, row: HostRow) -> str:
        return "dim" if row.status is not None and not row.status.reachable else ""

    def _rows(self) -> tuple[HostRow, ...]:
        shown = set(self.tamer.session.manager.states)
        return tuple(HostRow(e, self.statuses.get(e.name), e.name in shown) for e in self.entries)

    async def _hosts(self) -> AsyncIterator[FeedMessage]:
        while True:
            yield SourceStatus("hosts", "connecting")
            self.entries = await run_blocking(list_hosts, settings=self.tamer.session.settings)
            yield Snapshot("hosts", self._rows())
            for status in await probe_all(self.entries):
                self.statuses[status.name] = status
            yield Snapshot("hosts", self._rows())
            yield SourceStatus("hosts", "live")
            self._probe_now.clear()
            try:
                await asyncio.wait_for(self._probe_now.wait(), PROBE_EVERY_S)
            except TimeoutError:
                pass

    def feed(self) -> AsyncIterator[FeedMessage]:
        return self._hosts()

    def refresh_shown(self) -> None:
        """The shown set changed: redraw the marks (no new probe needed)."""
        self.apply(Snapshot("hosts", self._rows()))

    def target_of(self, row: HostRow) -> str:
        return row.name

    def action_host(self, verb: str) -> None:
        self.action_run(f"hosts {verb}")

    def action_toggle_shown(self) -> None:
        row = self.table.cursor_row
        if row is not None:
            self.tamer.execute(f"hosts {'drop' if row.shown else 'add'} {row.name}")

    def action_all_hosts(self) -> None:
        self.tamer.execute("hosts all")

    def action_probe(self) -> None:
        self._probe_now.set()
        self.set_status("probing every host…")

    def action_describe(self) -> None:
        row = self.table.cursor_row
        if row is None:
            return
        e, st = row.entry, row.status
        lines = [f"Name:       {e.name}", f"Engine:     {e.kind}", f"URL:        {e.url}",
                 f"Transport:  {e.transport}", f"Found in:   {e.source}", f"Default:    {'yes' if e.current else 'no'}",
                 f"Shown:      {'yes' if row.shown else 'no'}"]
        if e.identity:
            lines.append(f"Identity:   {e.identity}")
        if e.tls is not None:
            lines.append(f"TLS:        {e.tls}")
        if st is not None:
            lines += [f"Reachable:  {'yes' if st.reachable else 'no'}", f"Version:    {st.version or '-'} "
                      f"(API {st.api_version or '-'})", f"OS:         {st.os or '-'}",
                      f"Rootless:   {'yes' if st.rootless else 'no'}", f"Latency:    {st.latency_ms:.0f} ms"]
            if st.error:
                lines.append(f"Error:      {st.error}")
        self.tamer.show_text(f"host {e.name}", "\n".join(lines))

    def on_resource_table_selected(self, event: ResourceTable.Selected) -> None:
        self.action_host("use")
