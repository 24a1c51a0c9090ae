"""The simulated cluster as test fixtures use it: one `tamer sim` per module and a KubeManager on it.

Every test package that talks to the simulator builds its module fixture with :func:`module_sim` and its
per-test KubeManager with :func:`sim_kube`, so starting, stopping and closing happen in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.sim.cluster import SimOptions
from tamer_tui.sim.server import SimHandle, start_in_thread


@contextmanager
def module_sim(tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any) -> Iterator[SimHandle]:
    """A simulator named ``name`` (its kubeconfig in a fresh temp dir), stopped when the block ends."""
    tmp = tmp_path_factory.mktemp(name)
    handle = start_in_thread(SimOptions(name=name, kubeconfig=str(tmp / "kubeconfig"), **options))
    try:
        yield handle
    finally:
        handle.stop()


@asynccontextmanager
async def sim_kube(sim: SimHandle) -> AsyncIterator[KubeManager]:
    """A KubeManager on the simulator's kubeconfig (admin and restricted contexts), closed afterwards."""
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context)
    km.load()
    try:
        yield km
    finally:
        await km.close()
