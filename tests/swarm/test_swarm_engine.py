"""Swarm against the real dockerd made a one-node swarm (see conftest): state, nodes, services and
their replica counts, scaling, task errors, image update and rollback, stacks, service logs through the
``service/NAME`` log target, the live feed, node availability, and the error of an engine without swarm."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.feeds import Snapshot, SourceStatus
from tamer_tui.core.logstream import LogChunk, LogNotice, LogOptions
from tamer_tui.core.logtargets import open_runtime_logs
from tamer_tui.core.manager import RuntimeManager
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.swarm import STACK_LABEL, NotASwarmManager, ServiceRow, Swarm, TaskRow, swarm_feed
from tests import services
from tests.swarm.conftest import SwarmEngine, eventually

SLEEP = ("sleep", "3600")


async def create(swarm: Swarm, name: str, image: str, command: Any = (), **kw: Any) -> str:
    """create_service with a short stop grace period (``sleep`` as PID 1 ignores SIGTERM: without it
    every scale-down, update and the final ``swarm leave`` waits the daemon's default 10 s)."""
    return await swarm.create_service(name, image, command, stop_grace_s=0.5, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _service(swarm: Swarm, name: str) -> ServiceRow | None:
    return next((s for s in await swarm.services() if s.name == name), None)


def _counts(row: ServiceRow | None) -> tuple[int, int] | None:
    return None if row is None else (row.running, row.desired)


async def test_state_is_active_manager(swarm: Swarm) -> None:
    """The engine the fixture put in swarm mode reports itself as an active manager."""
    assert await swarm.state() == "active-manager"
    await swarm.require_manager()


async def test_nodes_show_this_node_as_ready_leader(swarm: Swarm, rt: DockerRuntime,
                                                    swarm_engine: SwarmEngine) -> None:
    """nodes() lists this engine's node: manager, leader, ready, active, with its engine version."""
    nodes = await swarm.nodes()
    info = await rt.info()
    me = [n for n in nodes if n.leader]
    assert len(me) == 1, nodes
    node = me[0]
    assert (node.role, node.status, node.availability) == ("manager", "ready", "active")
    assert node.engine == info.version
    assert node.hostname and node.key == f"docker/{node.id}" and node.created > 0
    if swarm_engine.initialised:
        assert node.addr == "127.0.0.1"
    inspected = await swarm.inspect_node(node.hostname)
    assert inspected["ID"] == node.id


async def test_replicated_service_runs_and_scales(swarm: Swarm, swarm_engine: SwarmEngine) -> None:
    """A 2-replica service reaches 2/2 with two running tasks (slots 1 and 2 on this node); scaled
    to 3 it reads back 3/3, scaled to 1 it reads back 1/1 while the tasks of the removed slots show
    desired state shutdown."""
    name = swarm_engine.name("web")
    sid = await create(swarm, name, services.test_image(), SLEEP, replicas=2)
    row = await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (2, 2), what=f"{name} 2/2")
    assert row is not None
    assert (row.id, row.mode, row.replicas, row.image, row.stack) == (sid, "replicated", "2/2",
                                                                       services.test_image(), "")
    node = next(n for n in await swarm.nodes() if n.leader)
    tasks = await swarm.tasks(name)
    running = [t for t in tasks if t.state == "running"]
    assert sorted(t.slot for t in running) == [1, 2]
    assert all(t.service == name and t.node == node.hostname and t.desired == "running" and t.container_id
               and t.image == services.test_image() and not t.error for t in running), running
    container = (await swarm.inspect_service(name))["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert (container["Args"], container["StopGracePeriod"]) == (list(SLEEP), 500_000_000)

    await swarm.scale(name, 3)
    await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (3, 3), what=f"{name} 3/3")
    await swarm.scale(name, 1)
    row = await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (1, 1), what=f"{name} 1/1")
    assert row is not None and row.replicas == "1/1"
    current = await swarm.tasks(name, desired_state="running")
    assert [t.slot for t in current] == [1]
    every = await swarm.tasks(sid)  # by id too; the removed slots' tasks are shut down (or already gone)
    assert [t.slot for t in every if t.desired == "running"] == [1]
    assert all(t.desired in ("shutdown", "remove") for t in every if t.slot != 1)
    with pytest.raises(InvalidInput):
        await swarm.scale(name, -1)
    await swarm.remove_service(name)
    assert await _service(swarm, name) is None
    with pytest.raises(NotFound):
        await swarm.inspect_service(name)
    with pytest.raises(NotFound):
        await swarm.tasks(name)


async def test_failing_task_reports_its_error(swarm: Swarm, swarm_engine: SwarmEngine) -> None:
    """A service whose command fails (``false``) has a task in state failed with the daemon's error
    (``task: non-zero exit (1)``) and exit code 1, as ``docker service ps`` shows it."""
    name = swarm_engine.name("fail")
    await create(swarm, name, services.test_image(), ("false",), replicas=1, restart_condition="none")

    def failed(tasks: list[TaskRow]) -> bool:
        return any(t.state == "failed" for t in tasks)

    tasks = await eventually(lambda: swarm.tasks(name), failed, what="a failed task")
    task = next(t for t in tasks if t.state == "failed")
    assert "non-zero exit (1)" in task.error
    assert task.exit_code == 1
    row = await _service(swarm, name)
    assert row is not None and row.running == 0


async def test_global_service_with_ports_cannot_be_scaled(swarm: Swarm, swarm_engine: SwarmEngine) -> None:
    """A global service shows mode global, one task on the single node and its published port as
    ``*:P->80/tcp``; scaling it is refused with a message that says why."""
    name = swarm_engine.name("glob")
    port = _free_port()
    await create(swarm, name, services.test_image(), SLEEP, mode="global", ports=[(port, 80)])
    row = await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (1, 1), what=f"{name} 1/1")
    assert row is not None
    assert (row.mode, row.ports) == ("global", f"*:{port}->80/tcp")
    with pytest.raises(InvalidInput, match="global"):
        await swarm.scale(name, 3)
    tasks = await swarm.tasks(name)
    assert [t.slot for t in tasks if t.state == "running"] == [0]


async def test_update_image_then_rollback(swarm: Swarm, swarm_engine: SwarmEngine) -> None:
    """update_image to a second local tag changes the spec (and the rows' image); rollback brings the
    first image back with a rollback update state; rolling back a service that was never updated is
    refused clearly."""
    image = services.test_image()
    repo = image.rsplit(":", 1)[0]
    second = f"{repo}:{swarm_engine.prefix}-v2"
    swarm_engine.api.tag(image, repo, f"{swarm_engine.prefix}-v2")
    swarm_engine.tags.append(second)
    name = swarm_engine.name("upd")
    await create(swarm, name, image, SLEEP, replicas=1)
    with pytest.raises(InvalidInput, match="previous"):
        await swarm.rollback(name)
    await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (1, 1), what=f"{name} 1/1")

    await swarm.update_image(name, second)
    spec = (await swarm.inspect_service(name))["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == second
    assert spec["TaskTemplate"]["ContainerSpec"]["Args"] == list(SLEEP)  # the rest of the spec is kept
    row = await eventually(lambda: _service(swarm, name), lambda r: r is not None and r.image == second
                           and r.update_state in ("updating", "completed"), what="the update")
    assert row is not None
    await eventually(lambda: swarm.tasks(name, desired_state="running"),
                     lambda ts: any(t.image == second and t.state == "running" for t in ts), what="a v2 task")

    await swarm.rollback(name)
    spec = (await swarm.inspect_service(name))["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == image
    row = await eventually(lambda: _service(swarm, name),
                           lambda r: r is not None and r.update_state.startswith("rollback"), what="the rollback")
    assert row is not None and row.image == image
    with pytest.raises(InvalidInput):
        await swarm.update_image(name, "not valid")


async def test_stacks_group_services_and_remove(swarm: Swarm, swarm_engine: SwarmEngine) -> None:
    """Services labelled com.docker.stack.namespace form stacks (services counted, replicas summed);
    remove_stack removes the stack's services and its labelled network, and nothing else."""
    stack_a, stack_b = swarm_engine.name("shop"), swarm_engine.name("blog")
    await create(swarm, f"{stack_a}_web", services.test_image(), SLEEP, replicas=1,
                               labels={STACK_LABEL: stack_a})
    await create(swarm, f"{stack_a}_db", services.test_image(), SLEEP, replicas=0,
                               labels={STACK_LABEL: stack_a})
    await create(swarm, f"{stack_b}_app", services.test_image(), SLEEP, replicas=1,
                               labels={STACK_LABEL: stack_b})
    net = swarm_engine.api.create_network(f"{stack_a}_default", driver="overlay", labels={STACK_LABEL: stack_a})

    async def mine() -> dict[str, tuple[int, int, int]]:
        return {s.name: (s.services, s.running, s.desired) for s in await swarm.stacks()
                if s.name.startswith(swarm_engine.prefix)}

    stacks = await eventually(mine, lambda m: m == {stack_a: (2, 1, 1), stack_b: (1, 1, 1)}, what="the stacks")
    assert stacks[stack_a] == (2, 1, 1)
    row = await _service(swarm, f"{stack_a}_web")
    assert row is not None and row.stack == stack_a

    await swarm.remove_stack(stack_a)
    assert {s.name for s in await swarm.services() if s.stack == stack_a} == set()
    assert not swarm_engine.api.networks(ids=[net["Id"]])
    assert (await mine()) == {stack_b: (1, 1, 1)}
    with pytest.raises(NotFound):
        await swarm.remove_stack(stack_a)


async def _read_session(session: Any, until: Any, timeout: float = 20.0) -> tuple[list[tuple[str, str]], list[Any]]:
    """(stamp, text) lines and notices of a session, read until ``until(lines)`` or the session ends."""
    lines: list[tuple[str, str]] = []
    notices: list[LogNotice] = []

    async def read() -> None:
        async for items in session.items():
            for item in items:
                if isinstance(item, LogChunk):
                    lines.extend(zip(item.stamps, item.lines, strict=True))
                else:
                    notices.append(item)
            if until(lines):
                return

    try:
        await asyncio.wait_for(read(), timeout)
    finally:
        await session.close()
    return lines, notices


async def test_service_logs_target(swarm: Swarm, rt: DockerRuntime, swarm_engine: SwarmEngine) -> None:
    """``logs service/NAME`` (and ``service/RUNTIME:NAME``) gives every line the service's tasks
    printed, stamped and prefixed with the task (``NAME.SLOT@NODE | ``); followed, a task added by
    scaling joins the stream; an unknown service is NotFound."""
    name = swarm_engine.name("logs")
    script = "for i in 1 2 3; do echo line-$i; done; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done"
    await create(swarm, name, services.test_image(), ("sh", "-c", script), replicas=2)
    await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (2, 2), what=f"{name} 2/2")
    host = next(n for n in await swarm.nodes() if n.leader).hostname
    manager = RuntimeManager.from_runtimes([rt])

    session = await open_runtime_logs(manager, f"service/{name}", LogOptions(tail=None, follow=False))
    assert session.title == f"service/docker:{name}"
    lines, notices = await _read_session(session, lambda ls: False)
    texts = [t for _, t in lines]
    for slot in (1, 2):
        for i in (1, 2, 3):
            assert f"{name}.{slot}@{host} | line-{i}" in texts, texts[:20]
    assert all(st for st, _ in lines)
    assert not [n for n in notices if n.kind == "error"], notices

    session = await open_runtime_logs(manager, f"service/docker:{name}", LogOptions(tail=2, follow=True))
    scaled: list[float] = []

    def until(ls: list[tuple[str, str]]) -> bool:
        return any(t.startswith(f"{name}.3@") for _, t in ls)

    async def scale_soon() -> None:
        await asyncio.sleep(0.5)
        scaled.append(time.monotonic())
        await swarm.scale(name, 3)

    scaler = asyncio.create_task(scale_soon())
    try:
        lines, _ = await _read_session(session, until)
    finally:
        await scaler
    texts = [t for _, t in lines]
    assert any(t.startswith(f"{name}.1@{host} | tick-") for t in texts)
    assert any(t.startswith(f"{name}.3@{host} | ") for t in texts)
    assert not any(t.endswith("| line-1") and not t.startswith(f"{name}.3@") for t in texts)  # --tail=2 per task

    with pytest.raises(NotFound):
        await open_runtime_logs(manager, f"service/{swarm_engine.name('nope')}", LogOptions())


async def test_swarm_feed_follows_a_scale(swarm: Swarm, rt: DockerRuntime, swarm_engine: SwarmEngine) -> None:
    """swarm_feed("services") yields connecting, a snapshot with the service, live; after a scale a
    snapshot with the new counts comes within a few seconds; the tasks feed of one service shows only
    that service's tasks."""
    name = swarm_engine.name("feed")
    await create(swarm, name, services.test_image(), SLEEP, replicas=1)
    await eventually(lambda: _service(swarm, name), lambda r: _counts(r) == (1, 1), what=f"{name} 1/1")
    feed = swarm_feed(rt, "services", interval=1.0)
    try:
        first = [await asyncio.wait_for(feed.__anext__(), 10) for _ in range(3)]
        assert isinstance(first[0], SourceStatus) and first[0].state == "connecting"
        assert isinstance(first[1], Snapshot) and first[1].source == "docker"
        assert _counts(next(r for r in first[1].rows if r.name == name)) == (1, 1)
        assert isinstance(first[2], SourceStatus) and first[2].state == "live"
        t0 = time.monotonic()
        await swarm.scale(name, 2)
        while True:
            msg = await asyncio.wait_for(feed.__anext__(), 15)
            assert not isinstance(msg, SourceStatus) or msg.state == "live", msg
            if isinstance(msg, Snapshot):
                row = next((r for r in msg.rows if r.name == name), None)
                if _counts(row) == (2, 2):
                    break
        elapsed = time.monotonic() - t0
        assert elapsed < 10, elapsed
    finally:
        await feed.aclose()

    tasks_feed = swarm_feed(rt, "tasks", service=name, interval=1.0)
    try:
        msgs = [await asyncio.wait_for(tasks_feed.__anext__(), 10) for _ in range(2)]
        snap = msgs[1]
        assert isinstance(snap, Snapshot)
        assert snap.rows and {t.service for t in snap.rows} == {name}
    finally:
        await tasks_feed.aclose()


async def test_drain_and_activate_node(swarm: Swarm) -> None:
    """Draining the node (by hostname) reads back as drain, activating it (by id) as active; an
    unknown availability is refused."""
    node = next(n for n in await swarm.nodes() if n.leader)
    with pytest.raises(InvalidInput):
        await swarm.set_availability(node.id, "sleep")
    try:
        await swarm.set_availability(node.hostname, "drain")
        drained = next(n for n in await swarm.nodes() if n.id == node.id)
        assert drained.availability == "drain"
        await swarm.set_availability(node.hostname, "drain")  # already drained: no error
    finally:
        await swarm.set_availability(node.id, "active")
    assert next(n for n in await swarm.nodes() if n.id == node.id).availability == "active"


async def test_engine_without_swarm_gives_a_clear_error() -> None:
    """Podman's Docker-compatible API (no swarm mode) reads as inactive; listing or inspecting raises
    NotASwarmManager saying there is no swarm API; the feed reports it as reconnecting; the
    ``service/`` log target names the reason."""
    runtime = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "podman-compat", services.podman_url(), "test"))
    await runtime.connect()
    try:
        swarm = Swarm(runtime)
        assert await swarm.state() == "inactive"
        for call in (swarm.services, swarm.nodes, swarm.tasks, swarm.stacks, swarm.require_manager):
            with pytest.raises(NotASwarmManager):
                await call()
        with pytest.raises(NotASwarmManager, match="no swarm API"):
            await swarm.inspect_service("web")
        feed = swarm_feed(runtime, "services", not_manager_retry=60)
        try:
            first = await asyncio.wait_for(feed.__anext__(), 10)
            second = await asyncio.wait_for(feed.__anext__(), 10)
            assert isinstance(first, SourceStatus) and first.state == "connecting"
            assert isinstance(second, SourceStatus) and second.state == "reconnecting"
            assert "no swarm API" in second.message and "60s" in second.message
        finally:
            await feed.aclose()
        manager = RuntimeManager.from_runtimes([runtime])
        with pytest.raises(NotFound, match="no swarm API"):
            await open_runtime_logs(manager, "service/web", LogOptions())
    finally:
        with contextlib.suppress(Exception):
            await runtime.close()
