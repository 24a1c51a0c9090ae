"""Integration tests of PodmanRuntime against the real Podman service (4.3.1 here; CI starts it).

Each test labels what it creates (``tamer.test=<label>``) and the ``api`` fixture removes it again.
The service URL comes from ``TAMER_TEST_PODMAN_URL`` and the image from ``TAMER_TEST_IMAGE``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tamer_tui.core.errors import BackendError, Conflict, NotFound, PermissionDenied, RuntimeUnavailable
from tamer_tui.core.models import (
    ContainerSpec,
    LogLine,
    RuntimeEndpoint,
    RuntimeEvent,
    RuntimeKind,
    StatsSample,
)
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.podman.conftest import commit, spec

pytestmark = pytest.mark.podman

T = TypeVar("T")


async def wait_state(rt: PodmanRuntime, ident: str, state: str, timeout: float = 10.0) -> str:
    """Poll get_container until the row reaches ``state``; returns the row's status text."""
    deadline = time.monotonic() + timeout
    while True:
        row = await rt.get_container(ident)
        if row.state == state:
            return row.status
        if time.monotonic() > deadline:
            raise AssertionError(f"{ident} stayed {row.state!r}, wanted {state!r}")
        await asyncio.sleep(0.1)


async def collect(stream: AsyncIterator[T], count: int, timeout: float) -> list[T]:
    """Take ``count`` items from a stream (closing it afterwards) or fail after ``timeout`` seconds."""
    out: list[T] = []

    async def take() -> None:
        async for item in stream:
            out.append(item)
            if len(out) >= count:
                break

    try:
        await asyncio.wait_for(take(), timeout)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return out


def stream_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("tamer-stream") and t.is_alive())


async def wait_no_stream_threads(before: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while stream_threads() > before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{stream_threads() - before} stream thread(s) still running")
        await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- service --------------------------------------------------------------------------------------
async def test_connect_reports_the_service(rt: PodmanRuntime) -> None:
    """connect()/info() describe the real service: Podman kind, a version, and at least the test image."""
    info = await rt.info()
    assert info.kind == RuntimeKind.PODMAN and info.name == "podman"
    assert info.version[:1].isdigit() and info.api_version[:1].isdigit()
    assert info.os == "linux" and info.arch
    if os.geteuid() == 0 and "/run/user/" not in rt.endpoint.url:
        assert info.rootless is False
    assert info.images >= 1
    usage = await rt.df()
    assert usage.images >= 1 and usage.images_size > 0


# -- containers -----------------------------------------------------------------------------------
async def test_container_lifecycle(rt: PodmanRuntime, label: str) -> None:
    """create/start/pause/unpause/restart/stop/kill/remove, with the listed state checked after each."""
    graceful = ("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done")
    name = f"{label}-life"
    cid = await rt.create_container(spec(label, name=name, command=graceful))
    assert len(cid) == 64
    row = await rt.get_container(name)
    assert (row.id, row.name, row.state, row.status) == (cid, name, "created", "Created")
    assert row.image.endswith(services.test_image().split("/", 1)[-1])
    assert row.label("tamer.test") == label

    await rt.start_container(cid)
    assert (await wait_state(rt, cid, "running")).startswith("Up ")
    await rt.pause_container(cid)
    assert (await wait_state(rt, cid, "paused")).endswith("(Paused)")
    await rt.unpause_container(name)
    await wait_state(rt, cid, "running")
    before = (await rt.inspect_container(cid))["State"]["StartedAt"]
    await rt.restart_container(cid, timeout=5)
    await wait_state(rt, cid, "running")
    assert (await rt.inspect_container(cid))["State"]["StartedAt"] != before
    await rt.stop_container(cid, timeout=5)
    assert (await wait_state(rt, cid, "exited")).startswith("Exited (0)")  # the TERM trap ran
    await rt.start_container(cid)
    await wait_state(rt, cid, "running")
    await rt.kill_container(cid)
    assert (await wait_state(rt, cid, "exited")).startswith("Exited (137)")
    await rt.remove_container(cid)
    with pytest.raises(NotFound, match=f"container '{cid}' not found"):
        await rt.get_container(cid)
    assert cid not in {r.id for r in await rt.list_containers(all=True)}


async def test_wrong_state_actions_are_conflicts(rt: PodmanRuntime, label: str) -> None:
    """Pausing a created container, top/exec on a stopped one, removing a running one: Conflict (500 in 4.3)."""
    cid = await rt.create_container(spec(label))
    with pytest.raises(Conflict):
        await rt.pause_container(cid)
    with pytest.raises(Conflict):
        await rt.top_container(cid)
    with pytest.raises(Conflict):
        await rt.exec_run(cid, ["true"])
    await rt.start_container(cid)
    await rt.start_container(cid)  # already running: 304, not an error
    with pytest.raises(Conflict, match="running"):
        await rt.remove_container(cid)
    await rt.remove_container(cid, force=True)


async def test_rename(rt: PodmanRuntime, label: str) -> None:
    """rename: the new name resolves, the old one is gone, and a taken name is a Conflict."""
    cid = await rt.create_container(spec(label, name=f"{label}-old"))
    other = await rt.create_container(spec(label, name=f"{label}-other"))
    await rt.rename_container(cid, f"{label}-new")
    assert (await rt.get_container(f"{label}-new")).id == cid
    with pytest.raises(NotFound):
        await rt.get_container(f"{label}-old")
    with pytest.raises(Conflict):
        await rt.rename_container(cid, f"{label}-other")
    assert (await rt.get_container(other)).name == f"{label}-other"


async def test_create_with_env_ports_network_and_healthcheck(rt: PodmanRuntime, label: str) -> None:
    """Every ContainerSpec field reaches the service: env, port, custom network, healthcheck, labels."""
    net = f"{label}-net"
    await rt.create_network(net, labels={"tamer.test": label})
    port = free_port()
    cid = await rt.create_container(
        spec(
            label,
            env=(("GREETING", "hello podman"),),
            ports=((80, port),),
            network=net,
            healthcheck=("/bin/true",),
        )
    )
    await rt.start_container(cid)
    row = await rt.get_container(cid)
    assert row.ports == f"0.0.0.0:{port}->80/tcp"
    assert row.health == "starting" and row.status.endswith("(health: starting)")
    details = await rt.inspect_container(cid)
    assert net in details["NetworkSettings"]["Networks"]
    assert details["Config"]["Healthcheck"]["Test"] == ["CMD", "/bin/true"]
    result = await rt.exec_run(cid, ["sh", "-c", "echo $GREETING"])
    assert (result.exit_code, result.output) == (0, "hello podman\n")
    # No systemd here to schedule healthchecks: run one on demand.
    assert await rt.run_healthcheck(cid) == "healthy"
    row = await rt.get_container(cid)
    assert row.health == "healthy" and row.status.endswith("(healthy)")


async def test_top(rt: PodmanRuntime, label: str) -> None:
    """top lists the container's processes under Podman's titles."""
    cid = await rt.create_container(spec(label, command=("sleep", "321")))
    await rt.start_container(cid)
    titles, rows = await rt.top_container(cid)
    assert "PID" in titles and "COMMAND" in titles
    command = titles.index("COMMAND")
    assert any(row[command] == "sleep 321" for row in rows)


async def test_exec_exit_codes_and_output(rt: PodmanRuntime, label: str) -> None:
    """exec_run returns the command's exit code and its stdout+stderr; a missing binary fails clearly."""
    cid = await rt.create_container(spec(label))
    await rt.start_container(cid)
    ok = await rt.exec_run(cid, ["true"])
    assert (ok.exit_code, ok.output) == (0, "")
    mixed = await rt.exec_run(cid, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert mixed.exit_code == 3
    assert "out\n" in mixed.output and "err\n" in mixed.output
    missing = await rt.exec_run(cid, ["/no/such/binary"])
    assert missing.exit_code in (126, 127)
    assert "/no/such/binary" in missing.output


# -- logs -----------------------------------------------------------------------------------------
async def test_logs_without_follow(rt: PodmanRuntime, label: str) -> None:
    """Finished logs: both streams in order, tail, timestamps and since."""
    script = "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three"
    cid = await rt.create_container(spec(label, command=("sh", "-c", script)))
    await rt.start_container(cid)
    await wait_state(rt, cid, "exited")
    lines = [line async for line in rt.logs_stream(cid, follow=False)]
    assert [(line.stream, line.text) for line in lines] == [
        ("stdout", "one"),
        ("stderr", "two"),
        ("stdout", "three"),
    ]
    assert all(line.ts == "" for line in lines)
    tail = [line.text async for line in rt.logs_stream(cid, follow=False, tail=1)]
    assert tail == ["three"]
    stamped = [line async for line in rt.logs_stream(cid, follow=False, timestamps=True)]
    assert [line.text for line in stamped] == ["one", "two", "three"]
    assert all(line.ts.startswith("20") for line in stamped)
    later = [line async for line in rt.logs_stream(cid, follow=False, since=time.time() + 60)]
    assert later == []
    with pytest.raises(NotFound, match="container 'no-such-container-xyz' not found"):
        async for _line in rt.logs_stream("no-such-container-xyz", follow=False):
            pass


async def test_logs_follow_sees_a_later_line(rt: PodmanRuntime, label: str) -> None:
    """A follow stream opened on a silent container receives a line written after subscribing."""
    cid = await rt.create_container(spec(label))
    await rt.start_container(cid)
    before = stream_threads()
    got: list[LogLine] = []

    async def follow() -> None:
        async for line in rt.logs_stream(cid, follow=True, tail=10):
            got.append(line)
            if line.text == "marker-after-subscribe":
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    assert not task.done()
    await rt.exec_run(cid, ["sh", "-c", "echo marker-after-subscribe > /proc/1/fd/1"])
    await asyncio.wait_for(task, 10)
    assert got[-1] == LogLine("marker-after-subscribe", "stdout", "")
    await wait_no_stream_threads(before)


async def test_cancelling_a_silent_follow_ends_its_thread(rt: PodmanRuntime, label: str) -> None:
    """Cancelling a follow before the first line (4.3 has not even sent headers) ends the pump thread."""
    cid = await rt.create_container(spec(label))
    await rt.start_container(cid)
    before = stream_threads()

    async def follow() -> None:
        async for _line in rt.logs_stream(cid, follow=True):
            pass

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    assert stream_threads() == before + 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_no_stream_threads(before)


# -- stats ----------------------------------------------------------------------------------------
async def test_stats_stream_samples(rt: PodmanRuntime, label: str) -> None:
    """A busy container gives at least 2 samples a second apart with sane CPU%, memory and pids."""
    cid = await rt.create_container(spec(label, command=("sh", "-c", "while :; do :; done")))
    await rt.start_container(cid)
    before = stream_threads()
    samples: list[StatsSample] = await collect(rt.stats_stream(cid), 3, timeout=15)
    assert len(samples) == 3
    assert samples[0].cpu_percent == 0.0  # no rate without a previous sample
    for sample in samples[1:]:
        assert 20.0 < sample.cpu_percent < 100.0 * (os.cpu_count() or 1) + 10
        assert 0 < sample.mem_usage < sample.mem_limit
        assert sample.pids >= 1
    assert 0.5 < samples[2].ts - samples[1].ts < 3.0
    await wait_no_stream_threads(before)


# -- events ---------------------------------------------------------------------------------------
async def test_events_for_a_container_lifecycle(rt: PodmanRuntime, label: str) -> None:
    """create/start/die/destroy events arrive (Docker names) for a container made after subscribing."""
    since = time.time() - 0.5
    seen: list[RuntimeEvent] = []
    wanted = {"create", "start", "die", "destroy"}

    async def watch() -> None:
        async for event in rt.events(since=since):
            if event.type == "container" and event.name == f"{label}-ev":
                seen.append(event)
                if wanted <= {e.action for e in seen}:
                    return

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.3)
    cid = await rt.create_container(spec(label, name=f"{label}-ev", command=("sh", "-c", "exit 0")))
    await rt.start_container(cid)
    await wait_state(rt, cid, "exited")
    await rt.remove_container(cid)
    await asyncio.wait_for(task, 10)
    assert {e.id for e in seen} == {cid}
    actions = [e.action for e in seen]
    assert actions.index("create") < actions.index("start") < actions.index("die") < actions.index("destroy")
    assert all(e.runtime == "podman" and e.time >= since - 1 for e in seen)


# -- images ---------------------------------------------------------------------------------------
async def test_image_tag_inspect_history_remove(rt: PodmanRuntime, label: str) -> None:
    """tag adds a name to the test image; inspect/history work; removing the tag leaves the image."""
    base = await rt.inspect_image(services.test_image())
    repo = f"localhost/{label}/tagged"
    await rt.tag_image(services.test_image(), repo, "v1")
    rows = {row.id: row for row in await rt.list_images()}
    assert f"{repo}:v1" in rows[base["Id"]].tags
    assert (await rt.inspect_image(f"{repo}:v1"))["Id"] == base["Id"]
    history = await rt.image_history(f"{repo}:v1")
    assert history and "Created" in history[0]
    await rt.remove_image(f"{repo}:v1")
    rows = {row.id: row for row in await rt.list_images()}
    assert f"{repo}:v1" not in rows[base["Id"]].tags  # untagged only: the base image is still there
    with pytest.raises(NotFound, match=f"image '{repo}:v1' not found"):
        await rt.remove_image(f"{repo}:v1")


async def test_image_in_use_conflict_and_prune(rt: PodmanRuntime, api: Any, label: str) -> None:
    """Removing an image a container uses is a clear Conflict; prune removes a labelled dangling image."""
    source = await rt.create_container(spec(label, command=("sh", "-c", "echo data > /payload")))
    await rt.start_container(source)
    await wait_state(rt, source, "exited")
    repo = f"localhost/{label}/committed"
    image_id = commit(api, source, label, repo=repo)
    user = await rt.create_container(ContainerSpec(image=f"{repo}:v1", labels=(("tamer.test", label),)))
    with pytest.raises(Conflict) as info:
        await rt.remove_image(f"{repo}:v1")
    assert f"in use by container {user[:12]}" in str(info.value)
    await rt.remove_container(user)
    await rt.remove_image(f"{repo}:v1")
    assert image_id not in {row.id for row in await rt.list_images()}

    dangling = commit(api, source, label)
    row = next(r for r in await rt.list_images() if r.id == dangling)
    assert row.dangling and row.display_name == "<none>:<none>"
    result = await rt.prune_images(dangling_only=True, label=f"tamer.test={label}")
    assert dangling in result.deleted and result.space_reclaimed > 0
    assert dangling not in {r.id for r in await rt.list_images()}


async def test_pull_of_unreachable_reference_fails_clearly(rt: PodmanRuntime) -> None:
    """Pulling from a registry that does not answer raises an error naming the reference and the cause."""
    reference = "localhost:1/tamer/nonexistent:latest"
    progress = []
    with pytest.raises(BackendError) as info:
        async for item in rt.pull_image(reference):
            progress.append(item)
    assert reference in str(info.value) and "connection refused" in str(info.value)
    assert progress and progress[0].status.startswith("Trying to pull")


# -- networks and volumes --------------------------------------------------------------------------
async def test_networks(rt: PodmanRuntime, label: str) -> None:
    """Network create/list/inspect/remove, duplicate name Conflict, missing NotFound, labelled prune."""
    name = f"{label}-net"
    net_id = await rt.create_network(name, labels={"tamer.test": label})
    assert len(net_id) == 64
    with pytest.raises(Conflict):
        await rt.create_network(name)
    row = next(r for r in await rt.list_networks() if r.name == name)
    assert (row.id, row.driver) == (net_id, "bridge") and "/" in row.subnet
    assert (await rt.inspect_network(name))["id"] == net_id
    await rt.remove_network(name)
    assert name not in {r.name for r in await rt.list_networks()}
    with pytest.raises(NotFound, match=f"network '{name}' not found"):
        await rt.remove_network(name)
    await rt.create_network(f"{label}-prune", labels={"tamer.test": label})
    result = await rt.prune_networks(label=f"tamer.test={label}")
    assert result.deleted == (f"{label}-prune",)
    assert f"{label}-prune" not in {r.name for r in await rt.list_networks()}


async def test_volumes(rt: PodmanRuntime, label: str) -> None:
    """Volume create/list/inspect/remove, duplicate name Conflict, missing NotFound, labelled prune."""
    name = f"{label}-vol"
    assert await rt.create_volume(name, labels={"tamer.test": label}) == name
    with pytest.raises(Conflict):
        await rt.create_volume(name)
    row = next(v for v in await rt.list_volumes() if v.name == name)
    assert row.driver == "local" and row.mountpoint and row.labels == (("tamer.test", label),)
    assert (await rt.inspect_volume(name))["Name"] == name
    await rt.remove_volume(name)
    with pytest.raises(NotFound, match=f"volume '{name}' not found"):
        await rt.inspect_volume(name)
    await rt.create_volume(f"{label}-prune", labels={"tamer.test": label})
    result = await rt.prune_volumes(label=f"tamer.test={label}")
    assert result.deleted == (f"{label}-prune",)
    assert f"{label}-prune" not in {v.name for v in await rt.list_volumes()}


# -- pods -----------------------------------------------------------------------------------------
async def test_pods(rt: PodmanRuntime, label: str) -> None:
    """list_pods shows a created pod with its infra container and members; containers show the pod."""
    pod_id = await rt.create_pod(f"{label}-pod", labels={"tamer.test": label})
    member = await rt.create_container(spec(label), pod=pod_id)
    pods = [p for p in await rt.list_pods() if p.id == pod_id]
    assert len(pods) == 1
    pod = pods[0]
    assert pod.name == f"{label}-pod" and pod.status == "Created"
    assert pod.containers == 2 and pod.infra_id and pod.created > 0
    assert pod.labels == (("tamer.test", label),)
    assert (await rt.get_container(member)).pod == f"{label}-pod"
    await rt.remove_pod(pod_id, force=True)
    assert pod_id not in {p.id for p in await rt.list_pods()}
    with pytest.raises(NotFound):
        await rt.get_container(member)


# -- errors ---------------------------------------------------------------------------------------
async def test_not_found_and_duplicate_name(rt: PodmanRuntime, label: str) -> None:
    """A missing container is NotFound with a clear message; a duplicate name is a Conflict."""
    for call in (rt.get_container, rt.inspect_container, rt.start_container, rt.top_container):
        with pytest.raises(NotFound, match="container 'tamer-no-such-ctr' not found"):
            await call("tamer-no-such-ctr")
    name = f"{label}-dup"
    await rt.create_container(spec(label, name=name))
    with pytest.raises(Conflict, match="already in use"):
        await rt.create_container(spec(label, name=name))


async def test_missing_and_dead_sockets_are_unavailable(tmp_path: Path) -> None:
    """A socket path that does not exist, or has no listener, gives RuntimeUnavailable naming it."""
    missing = tmp_path / "absent.sock"
    rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "gone", f"unix://{missing}", "test"))
    with pytest.raises(RuntimeUnavailable, match=f"{missing} does not exist"):
        await rt.connect()
    dead = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(dead))
    rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "dead", f"unix://{dead}", "test"))
    with pytest.raises(RuntimeUnavailable, match=f"refused the connection on socket {dead}"):
        await rt.list_containers()
    with pytest.raises(RuntimeUnavailable):
        async for _event in rt.events():
            pass


@pytest.mark.skipif(not hasattr(os, "seteuid") or os.geteuid() != 0, reason="needs root to act as nobody")
def test_socket_without_permission_is_permission_denied() -> None:
    """A user who may not open the socket (EACCES) gets PermissionDenied naming the socket.

    Root ignores file modes, so the test briefly switches its effective uid to nobody (65534).
    """
    import podman  # noqa: F401 - loaded before dropping privileges

    folder = Path(tempfile.mkdtemp(prefix="tamer-pm-"))
    os.chmod(folder, 0o755)
    guarded = folder / "guarded.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(guarded))
    server.listen(1)
    os.chmod(guarded, 0o600)
    rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "guarded", f"unix://{guarded}", "test"))
    try:
        os.seteuid(65534)
        try:
            with pytest.raises(PermissionDenied) as info:
                asyncio.run(rt.connect())
        finally:
            os.seteuid(0)
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
    assert str(guarded) in str(info.value)
