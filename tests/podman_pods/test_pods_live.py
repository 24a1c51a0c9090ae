"""PodmanPods against the real Podman service (4.3.1 here): lifecycle, members, top, stats, feed, errors.

Each test names what it creates ``tt-pod-<random>...``; the fixtures in conftest remove it again.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tamer_tui.core.errors import Conflict, InvalidInput, NotFound
from tamer_tui.core.feeds import Snapshot, SourceStatus
from tamer_tui.core.podman_pods import (
    INFRA_LABEL,
    PodActionError,
    PodListRow,
    PodmanPods,
    generate_systemd,
    pods_feed,
)
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests.podman_pods.conftest import make_container

pytestmark = pytest.mark.podman


async def wait_status(pods: PodmanPods, name: str, wanted: set[str], timeout: float = 10.0) -> PodListRow:
    """Poll the pod's list row until its status is one of ``wanted``."""
    deadline = time.monotonic() + timeout
    while True:
        row = await pods.get(name)
        if row.status in wanted:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"pod {name} stayed {row.status!r}, wanted {sorted(wanted)}")
        await asyncio.sleep(0.1)


async def test_pod_lifecycle_read_back(pods: PodmanPods, rt: PodmanRuntime, prefix: str) -> None:
    """create/start/pause/unpause/restart/stop/kill/remove each show in list() and inspect()."""
    name = f"{prefix}-life"
    pod_id = await pods.create(name, labels={"tamer.test": prefix, "tier": "web"})
    assert len(pod_id) == 64
    await make_container(rt, prefix, "life-app", pod=name)

    row = next(r for r in await pods.list() if r.name == name)
    assert row.id == pod_id and row.key == f"podman/{pod_id}"
    assert row.status == "Created" and row.containers == 2
    assert row.label("tier") == "web" and row.infra_id
    assert {m.name for m in row.members} >= {f"{prefix}-life-app"}
    assert [m.infra for m in row.members].count(True) == 1

    await pods.start(name)
    row = await wait_status(pods, name, {"Running"})
    assert row.running == 2
    assert (await pods.inspect(name))["State"] == "Running"

    await pods.pause(name)
    await wait_status(pods, name, {"Paused"})
    await pods.unpause(name)
    await wait_status(pods, name, {"Running"})

    app_id = next(m.id for m in row.members if not m.infra)
    started = (await rt.inspect_container(app_id))["State"]["StartedAt"]
    await pods.restart(name)
    await wait_status(pods, name, {"Running"})
    assert (await rt.inspect_container(app_id))["State"]["StartedAt"] != started

    await pods.stop(name, timeout=1)
    row = await wait_status(pods, name, {"Exited", "Stopped"})
    assert row.running == 0

    await pods.start(name)
    await wait_status(pods, name, {"Running"})
    await pods.kill(name)
    await wait_status(pods, name, {"Exited", "Stopped"})
    assert (await pods.inspect(name))["State"] in ("Exited", "Stopped")

    await pods.remove(name)
    assert name not in {r.name for r in await pods.list()}
    with pytest.raises(NotFound, match=name):
        await pods.inspect(name)


async def test_create_with_ports_and_remove_running_needs_force(pods: PodmanPods, rt: PodmanRuntime,
                                                                prefix: str) -> None:
    """Ports land on the infra container; removing a running pod without force is a clear Conflict."""
    name = f"{prefix}-ports"
    await pods.create(name, ports=[(80, 0)], labels={"tamer.test": prefix})
    bindings = (await pods.inspect(name))["InfraConfig"]["PortBindings"]
    assert "80/tcp" in bindings
    await make_container(rt, prefix, "ports-app", pod=name)
    await pods.start(name)
    with pytest.raises(Conflict, match="running containers"):
        await pods.remove(name)
    await pods.remove(name, force=True)
    assert name not in {r.name for r in await pods.list()}
    with pytest.raises(Conflict):
        await pods.create(f"{prefix}-dup")
        await pods.create(f"{prefix}-dup")
    with pytest.raises(InvalidInput):
        await pods.create("  ")


async def test_members_top_and_stats(pods: PodmanPods, rt: PodmanRuntime, prefix: str) -> None:
    """containers() lists the members with the infra marked; top() and stats() give real numbers."""
    name = f"{prefix}-stats"
    await pods.create(name, labels={"tamer.test": prefix})
    app_id = await make_container(rt, prefix, "stats-app", pod=name)
    await pods.start(name)
    await wait_status(pods, name, {"Running"})

    rows = await pods.containers(name)
    assert [r.id for r in rows][0] == app_id  # the infra container is listed last
    assert all(r.pod == name for r in rows)
    infra = [r for r in rows if r.label(INFRA_LABEL) == "true"]
    assert len(infra) == 1 and infra[0].id == (await pods.inspect(name))["InfraContainerID"]
    assert rows[0].state == "running" and rows[0].command == "sleep 3600"

    titles, procs = await pods.top(name)
    assert "PID" in titles and "COMMAND" in titles
    commands = [p[titles.index("COMMAND")] for p in procs]
    assert "sleep 3600" in commands

    stats = await pods.stats(name)
    by_name = {s.name: s for s in stats}
    app = by_name[f"{prefix}-stats-app"]
    assert app.available and app.pids >= 1
    assert app.mem_usage > 0 and app.mem_limit > app.mem_usage
    assert 0.0 <= app.cpu_percent < 400.0 and 0.0 <= app.mem_percent <= 100.0
    assert app.container_id == app_id[:12]
    assert [s.infra for s in stats] == [False, True]

    await pods.pause(name)
    with pytest.raises(Conflict):
        await pods.top(name)
    await pods.unpause(name)


async def test_partial_failure_and_degraded_stop(pods: PodmanPods, rt: PodmanRuntime, prefix: str) -> None:
    """libpod's Errs become one PodActionError naming the container; a Degraded pod still stops.

    Podman 4.3's API answers 304 to stopping any pod that is not exactly Running, leaving a Degraded
    pod up; PodmanPods.stop stops the remaining members itself.
    """
    name = f"{prefix}-bad"
    await pods.create(name, labels={"tamer.test": prefix})
    await make_container(rt, prefix, "bad-good", pod=name)
    await make_container(rt, prefix, "bad-broken", pod=name, command=("/nonexistent-binary",))
    with pytest.raises(PodActionError) as caught:
        await pods.start(name)
    message = str(caught.value)
    assert f"{prefix}-bad-broken" in message and "nonexistent-binary" in message
    assert "1 of 3 containers" in message
    assert caught.value.failures[0][0] == f"{prefix}-bad-broken"

    row = await pods.get(name)
    assert row.status == "Degraded" and row.running == 2
    await pods.stop(name, timeout=1)
    row = await wait_status(pods, name, {"Exited", "Stopped", "Created"})
    assert row.running == 0


async def test_unknown_pod_is_not_found_with_its_name(pods: PodmanPods, rt: PodmanRuntime, prefix: str) -> None:
    """Every operation on a missing pod raises NotFound naming it."""
    ghost = f"{prefix}-ghost"
    for call in (pods.inspect, pods.start, pods.stop, pods.restart, pods.pause, pods.unpause, pods.kill,
                 pods.remove, pods.containers, pods.top, pods.stats, pods.get):
        with pytest.raises(NotFound, match=ghost):
            await call(ghost)
    with pytest.raises(NotFound, match=ghost):
        await generate_systemd(rt, ghost)
    with pytest.raises(InvalidInput):
        await pods.start("")


async def test_pods_feed_snapshot_then_stop_is_reflected(pods: PodmanPods, rt: PodmanRuntime,
                                                         prefix: str) -> None:
    """pods_feed: connecting/live statuses, a snapshot with the running pod, then its stop within seconds."""
    name = f"{prefix}-feed"
    await pods.create(name, labels={"tamer.test": prefix})
    await make_container(rt, prefix, "feed-app", pod=name)
    await pods.start(name)
    await wait_status(pods, name, {"Running"})

    feed = pods_feed([rt])
    statuses: list[str] = []
    try:
        async def until(predicate: object, timeout: float) -> Snapshot:
            deadline = time.monotonic() + timeout
            while True:
                msg = await asyncio.wait_for(anext(feed), max(deadline - time.monotonic(), 0.01))
                if isinstance(msg, SourceStatus):
                    statuses.append(msg.state)
                if isinstance(msg, Snapshot) and predicate(msg):  # type: ignore[operator]
                    return msg

        def pod_status(msg: Snapshot) -> str:
            return next((r.status for r in msg.rows if r.name == name), "")

        first = await until(lambda m: pod_status(m) == "Running", 10.0)
        assert first.source == "podman" and all(isinstance(r, PodListRow) for r in first.rows)
        assert statuses[:1] == ["connecting"]

        t0 = time.monotonic()
        await pods.stop(name, timeout=1)
        await until(lambda m: pod_status(m) in ("Exited", "Stopped"), 8.0)
        assert time.monotonic() - t0 < 8.0
        assert "live" in statuses
    finally:
        await feed.aclose()  # type: ignore[attr-defined]


async def test_pods_feed_without_podman_ends() -> None:
    """With no Podman runtime in the list the feed ends at once instead of hanging."""
    assert [msg async for msg in pods_feed([])] == []
