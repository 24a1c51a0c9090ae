"""Snapshot tests of the Kubernetes screens, on a `tamer sim` with a fixed seed and its controllers off
(so no pod restarts or rollouts move while the picture is taken; behaviour is tested live elsewhere)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tamer_tui.sim.cluster import SimOptions
from tamer_tui.sim.server import SimHandle, start_in_thread
from tests.kube_ui.conftest import kube_app

SIZE = (150, 34)


def _port() -> int:
    # a fixed port keeps the server URL (shown on the contexts screen) the same in every run
    for port in (47311, 47312, 47313):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    return 47314


STARTED: dict[str, float] = {}


@pytest.fixture(autouse=True)
def frozen_ages(monkeypatch: pytest.MonkeyPatch, still_sim: SimHandle) -> None:
    """Ages are computed against the moment the simulator was seeded, so '23m' stays '23m'."""
    from tamer_tui.ui import format as ui_format

    class _Clock:
        @staticmethod
        def time() -> float:
            return STARTED["t"]

    monkeypatch.setattr(ui_format, "time", _Clock)


@pytest.fixture(scope="module")
def still_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    tmp = tmp_path_factory.mktemp("snap")
    STARTED["t"] = time.time()
    handle = start_in_thread(SimOptions(name="snap", pods=40, namespaces=2, nodes=3, seed=3, controllers=False,
                                        port=_port(), kubeconfig=str(tmp / "kubeconfig")))
    try:
        yield handle
    finally:
        handle.stop()


def _loaded(n_rows: int = 1) -> Any:
    async def run_before(pilot: Any) -> None:
        for _ in range(500):
            table = getattr(pilot.app.screen, "table", None)
            if table is not None and len(table.keys) >= n_rows and getattr(pilot.app.screen, "info", None):
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)

    return run_before


@pytest.fixture
def no_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's metrics move with the clock, so pictures are taken without them (the metrics
    columns are tested live in test_kube_live.py)."""
    from tamer_tui.core.kube import metrics

    async def none(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(metrics, "pod_usage", none)
    monkeypatch.setattr(metrics, "node_usage", none)


def test_pods_all_namespaces(snap_compare: Any, still_sim: SimHandle, no_metrics: None) -> None:
    """`tamer -c "pods -A"`: NAMESPACE NAME READY STATUS RESTARTS IP NODE AGE (CPU/MEM columns are
    added when metrics.k8s.io answers), faulty pods in red, context and namespace in the header.
    The CronJob's pods are filtered out with `/!cleanup`: their ages follow the wall clock's schedule."""

    async def run_before(pilot: Any) -> None:
        await _loaded(10)(pilot)
        await pilot.press("slash", *"!cleanup", "enter")
        await pilot.pause(0.3)

    app = kube_app(still_sim, command="pods -A")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_deployments(snap_compare: Any, still_sim: SimHandle) -> None:
    """`:deploy -A`: READY UP-TO-DATE AVAILABLE."""
    app = kube_app(still_sim, command="deploy -A")
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded(2))


def test_nodes(snap_compare: Any, still_sim: SimHandle) -> None:
    """`:nodes`: STATUS ROLES VERSION PRESSURE CPU MEM TAINTS."""
    app = kube_app(still_sim, command="nodes")
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded(3))


def test_services(snap_compare: Any, still_sim: SimHandle) -> None:
    """`:svc -A`: TYPE CLUSTER-IP EXTERNAL-IP PORT(S)."""
    app = kube_app(still_sim, command="svc -A")
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded(2))


def test_contexts(snap_compare: Any, still_sim: SimHandle) -> None:
    """`:ctx`: both contexts probed: flavor k3s, version, node count; restricted context without nodes."""

    async def run_before(pilot: Any) -> None:
        from textual.widgets import DataTable

        for _ in range(500):
            screen = pilot.app.screen
            if type(screen).__name__ == "ContextsScreen":
                rows = [[str(c) for c in screen.query_one(DataTable).get_row_at(i)] for i in range(2)]
                if all("probing" not in r[-1] for r in rows):
                    break
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    app = kube_app(still_sim, command="ctx")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_secret_masked(snap_compare: Any, still_sim: SimHandle) -> None:
    """`:reveal secret/...` shows keys with masked values until `x`."""

    async def run_before(pilot: Any) -> None:
        await _loaded(1)(pilot)
        row = sorted(pilot.app.screen.store.rows.values(), key=lambda r: r.key)[0]
        await pilot.press("colon", *f"reveal secret/{row.namespace}/{row.name}", "enter")
        for _ in range(100):
            if type(pilot.app.screen).__name__ == "SecretScreen":
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    app = kube_app(still_sim, command="secrets -A")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_dashboard(snap_compare: Any, still_sim: SimHandle, no_metrics: None) -> None:
    """`:dashboard`: nodes with capacity, pods by status, degraded workloads, restarters, warnings."""

    async def run_before(pilot: Any) -> None:
        for _ in range(500):
            screen = pilot.app.screen
            if type(screen).__name__ == "DashboardScreen" and screen.summary.pods_total and screen.summary.nodes:
                break
            await pilot.pause(0.05)
        await pilot.pause(1.2)

    app = kube_app(still_sim, command="dashboard")
    assert snap_compare(app, terminal_size=(150, 44), run_before=run_before)


def test_events(snap_compare: Any, still_sim: SimHandle) -> None:
    """`:events -A`: TYPE REASON OBJECT COUNT MESSAGE LAST SEEN, newest first, warnings highlighted.
    The CronJob's events are filtered out with `/!cleanup`: their times follow the wall clock."""

    async def run_before(pilot: Any) -> None:
        await _loaded(5)(pilot)
        await pilot.press("slash", *"!cleanup", "enter")
        for _ in range(100):
            if "cleanup" in pilot.app.screen.title_text:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)

    app = kube_app(still_sim, command="events -A")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
