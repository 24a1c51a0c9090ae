"""Live stats of one container: CPU, memory, network and block I/O with sparklines."""

from __future__ import annotations

from collections import deque
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Sparkline

from tamer_tui.core.errors import TamerError
from tamer_tui.core.models import StatsSample
from tamer_tui.core.runtime import ContainerRuntime
from tamer_tui.ui.format import human_bytes_iec, human_size
from tamer_tui.ui.widgets.header_bar import HeaderBar

HISTORY = 120  # samples kept per series (bounded)
SERIES = ("cpu", "mem", "net_rx", "net_tx", "blk_read", "blk_write")


class StatsScreen(Screen[None]):
    """A worker streams the daemon's stats; each sample updates six bounded series."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="stats.back")]

    def __init__(self, runtime: ContainerRuntime, ident: str, name: str) -> None:
        super().__init__()
        self.runtime = runtime
        self.ident = ident
        self.container_name = name
        self.series: dict[str, deque[float]] = {k: deque(maxlen=HISTORY) for k in SERIES}
        self.last: StatsSample | None = None
        self.samples = 0

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with Vertical(id="stats-frame") as frame:
            frame.border_title = f"stats {self.runtime.name}:{self.container_name}"
            with Grid(id="stats-grid"):
                for key, title in (("cpu", "CPU"), ("mem", "Memory"), ("net_rx", "Net in"),
                                   ("net_tx", "Net out"), ("blk_read", "Block read"), ("blk_write", "Block write")):
                    with Vertical(classes="stat-cell"):
                        yield Label(f"{title}: -", id=f"label-{key}")
                        yield Sparkline([], id=f"spark-{key}")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(self._stream(), name="stats", exclusive=True)

    async def _stream(self) -> None:
        try:
            async for sample in self.runtime.stats_stream(self.ident):
                self.add_sample(sample)
        except TamerError as exc:
            self.notify(f"stats of {self.container_name}: {exc}", severity="error")

    def add_sample(self, s: StatsSample) -> None:
        prev = self.last
        dt = max(0.001, s.ts - prev.ts) if prev else 1.0
        rate = (lambda a, b: max(0.0, (a - b) / dt)) if prev else (lambda a, b: 0.0)
        values: dict[str, Any] = {
            "cpu": s.cpu_percent,
            "mem": float(s.mem_usage),
            "net_rx": rate(s.net_rx, prev.net_rx if prev else 0),
            "net_tx": rate(s.net_tx, prev.net_tx if prev else 0),
            "blk_read": rate(s.blk_read, prev.blk_read if prev else 0),
            "blk_write": rate(s.blk_write, prev.blk_write if prev else 0),
        }
        labels = {
            "cpu": f"CPU: {s.cpu_percent:.1f}%  pids {s.pids}",
            "mem": f"Memory: {human_bytes_iec(s.mem_usage)} / {human_bytes_iec(s.mem_limit)} ({s.mem_percent:.1f}%)",
            "net_rx": f"Net in: {human_size(values['net_rx'])}/s (total {human_size(s.net_rx)})",
            "net_tx": f"Net out: {human_size(values['net_tx'])}/s (total {human_size(s.net_tx)})",
            "blk_read": f"Block read: {human_size(values['blk_read'])}/s (total {human_size(s.blk_read)})",
            "blk_write": f"Block write: {human_size(values['blk_write'])}/s (total {human_size(s.blk_write)})",
        }
        for key in SERIES:
            self.series[key].append(float(values[key]))
            self.query_one(f"#spark-{key}", Sparkline).data = list(self.series[key])
            self.query_one(f"#label-{key}", Label).update(labels[key])
        self.last = s
        self.samples += 1
