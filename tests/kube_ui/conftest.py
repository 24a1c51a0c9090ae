"""Fixtures for the Kubernetes UI and data-layer tests: a `tamer sim` per module, apps on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.sim.server import SimHandle
from tamer_tui.ui.app import TamerApp
from tests.sim.conftest import kubectl as run_kubectl
from tests.sim_fixtures import module_sim
from tests.ui.conftest import make_app


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    with module_sim(tmp_path_factory, "ui-sim", pods=120, namespaces=3, nodes=3, seed=7) as handle:
        yield handle


def kubectl(sim: SimHandle, *args: str, **kw: Any) -> Any:
    return run_kubectl(sim, *args, **kw)


def kube_app(sim: SimHandle, *, command: str = "pods -A", readonly: bool = False, context: str | None = None,
             kubeconfig: str | None = None) -> TamerApp:
    app = make_app([], readonly=readonly, command=command)
    km = KubeManager(kubeconfig=kubeconfig or sim.kubeconfig, context=context or sim.context, readonly=readonly)
    km.load()
    app.session.kube = km
    return app


async def wait_rows(app: TamerApp, pilot: Any, predicate: Any = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = app.screen
        table = getattr(screen, "table", None)
        if type(screen).__name__ == "KubeResourceScreen" and table is not None and table.keys and (
                predicate is None or predicate(screen)):
            return
        await pilot.pause(0.05)
    raise AssertionError(f"rows not shown in time on {app.screen!r}")
