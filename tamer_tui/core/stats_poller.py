"""CPU and memory for the containers table: one-shot samples for the rows on screen only.

Docker and Podman push stats only as one stream per container; streaming all of them for a
300-container table would cost more than the table. The poller samples just the running
containers that are visible, a few at a time, every ``interval`` seconds, and nothing at all
when no containers screen is showing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from tamer_tui.core.errors import TamerError
from tamer_tui.core.manager import RuntimeManager
from tamer_tui.core.models import ContainerRow, StatsSample


class StatsPoller:
    def __init__(self, manager: RuntimeManager, interval: float = 5.0, concurrency: int = 4) -> None:
        self.manager = manager
        self.interval = interval
        self.samples: dict[str, StatsSample] = {}
        self._sem = asyncio.Semaphore(concurrency)
        self._taken: dict[str, float] = {}

    def cpu(self, key: str) -> float:
        s = self.samples.get(key)
        return s.cpu_percent if s else -1.0

    def mem(self, key: str) -> int:
        s = self.samples.get(key)
        return s.mem_usage if s else -1

    async def sample(self, row: ContainerRow) -> StatsSample | None:
        try:
            rt = self.manager.get(row.runtime)
            async with self._sem:
                sample = await asyncio.wait_for(rt.stats_once(row.id), timeout=10)
        except (TamerError, TimeoutError):
            return None
        self.samples[row.key] = sample
        return sample

    async def run(
        self, visible: Callable[[], Sequence[ContainerRow]], on_update: Callable[[], None], tick: float = 1.0
    ) -> None:
        """Until cancelled: every ``tick`` seconds, sample the visible running rows whose last
        sample is older than ``interval`` (new rows get their numbers within a tick)."""
        while True:
            now = time.monotonic()
            rows = [r for r in visible() if r.state == "running"]
            live = {r.key for r in rows}
            for key in [k for k in self.samples if k not in live]:
                del self.samples[key]
                self._taken.pop(key, None)
            due = [r for r in rows if now - self._taken.get(r.key, -1e9) >= self.interval]
            if due:
                for r in due:
                    self._taken[r.key] = now
                results = await asyncio.gather(*(self.sample(r) for r in due), return_exceptions=True)
                if any(r is not None and not isinstance(r, BaseException) for r in results):
                    with contextlib.suppress(Exception):
                        on_update()
            await asyncio.sleep(tick)
