"""DockerRuntime against the real Docker daemon: every operation, checked on the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    RuntimeUnavailable,
    TamerError,
)
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tests import services
from tests.docker.conftest import spec


async def _create(rt: DockerRuntime, label: str, start: bool = True, **kw: Any) -> str:
    ident = await rt.create_container(spec(label, **kw))
    if start:
        await rt.start_container(ident)
    return ident


async def test_connect_and_info(rt: DockerRuntime) -> None:
    """connect() pings and returns version, API version and OS of the daemon."""
    info = await rt.info()
    assert info.version and info.api_version and info.kind == RuntimeKind.DOCKER
    usage = await rt.df()
    assert usage.images >= 1


async def test_lifecycle(rt: DockerRuntime, api: Any, label: str) -> None:
    """create, start, pause, unpause, stop, restart, kill, remove, each visible on the daemon."""
    ident = await _create(rt, label, start=False)
    assert (await rt.get_container(ident)).state == "created"
    await rt.start_container(ident)
    assert api.inspect_container(ident)["State"]["Status"] == "running"
    await rt.pause_container(ident)
    assert api.inspect_container(ident)["State"]["Status"] == "paused"
    await rt.unpause_container(ident)
    await rt.stop_container(ident, timeout=1)
    assert api.inspect_container(ident)["State"]["Status"] == "exited"
    await rt.restart_container(ident, timeout=1)
    assert (await rt.get_container(ident)).state == "running"
    await rt.kill_container(ident)
    assert api.inspect_container(ident)["State"]["Status"] == "exited"
    await rt.remove_container(ident)
    with pytest.raises(NotFound):
        await rt.get_container(ident)
    with pytest.raises(NotFound):
        await rt.inspect_container(ident)


async def test_rename_and_conflicts(rt: DockerRuntime, api: Any, label: str) -> None:
    """rename works; a taken name is a Conflict; an invalid name is refused before any call."""
    a = await _create(rt, label, start=False)
    b = await _create(rt, label, start=False)
    new = f"{label}-renamed"
    await rt.rename_container(a, new)
    assert api.inspect_container(a)["Name"] == f"/{new}"
    with pytest.raises(Conflict):
        await rt.rename_container(b, new)
    with pytest.raises(InvalidInput):
        await rt.rename_container(b, "bad name!")
    with pytest.raises(Conflict):
        await rt.create_container(spec(label, name=new))


async def test_exec_top_logs(rt: DockerRuntime, label: str) -> None:
    """exec returns output and exit code; top lists the process; logs follow sees a new line."""
    ident = await _create(rt, label, command=("sh", "-c", "echo hello; echo oops >&2; sleep 600"))
    result = await rt.exec_run(ident, ["sh", "-c", "echo out; exit 3"])
    assert result.exit_code == 3 and "out" in result.output
    titles, procs = await rt.top_container(ident)
    assert "PID" in titles and any("sleep" in " ".join(p) for p in procs)
    await asyncio.sleep(0.3)
    lines = [ln async for ln in rt.logs_stream(ident, follow=False)]
    assert sorted((ln.stream, ln.text) for ln in lines) == [("stderr", "oops"), ("stdout", "hello")]

    seen: list[str] = []

    async def follow() -> None:
        async for ln in rt.logs_stream(ident, follow=True, tail=0):
            seen.append(ln.text)
            if ln.text == "late":
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    await rt.exec_run(ident, ["sh", "-c", "echo late > /proc/1/fd/1"])
    await asyncio.wait_for(task, 10)
    assert seen == ["late"]


async def test_logs_timestamps_and_tail(rt: DockerRuntime, label: str) -> None:
    """tail=2 returns the last two lines; timestamps are split off into LogLine.ts."""
    ident = await _create(rt, label, command=("sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 600"))
    await asyncio.sleep(0.5)
    lines = [ln async for ln in rt.logs_stream(ident, follow=False, tail=2, timestamps=True)]
    assert [ln.text for ln in lines] == ["line4", "line5"]
    assert all(ln.ts.startswith("20") for ln in lines)


async def test_stats(rt: DockerRuntime, label: str) -> None:
    """The stats stream yields samples with memory and pids; stats_once gives one sample."""
    ident = await _create(rt, label)
    samples = []
    async for s in rt.stats_stream(ident):
        samples.append(s)
        if len(samples) == 2:
            break
    assert samples[1].mem_usage > 0 and samples[1].mem_limit > 0 and samples[1].pids >= 1
    one = await rt.stats_once(ident)
    assert one.mem_usage > 0


async def test_events_arrive(rt: DockerRuntime, label: str) -> None:
    """create, start, die and destroy events arrive for a container's life."""
    got: list[str] = []
    ready = asyncio.Event()

    async def listen() -> None:
        ready.set()
        async for ev in rt.events(since=time.time() - 1):
            if ev.type == "container" and ev.name.startswith(label):
                got.append(ev.action)
                if ev.action == "destroy":
                    return

    task = asyncio.create_task(listen())
    await ready.wait()
    await asyncio.sleep(0.3)
    ident = await _create(rt, label)
    await rt.kill_container(ident)
    await rt.remove_container(ident)
    await asyncio.wait_for(task, 10)
    for action in ("create", "start", "die", "destroy"):
        assert action in got


async def test_images(rt: DockerRuntime, api: Any, label: str) -> None:
    """tag adds a tag; remove of an image in use is a Conflict; untag/remove works; prune reports."""
    image = services.test_image()
    repo = f"tamer-tag-{uuid.uuid4().hex[:6]}"
    await rt.tag_image(image, repo, "v1")
    rows = await rt.list_images()
    assert any(f"{repo}:v1" in r.tags for r in rows)
    history = await rt.image_history(f"{repo}:v1")
    assert history and "Id" in history[0]
    ident = await _create(rt, label, start=False)
    base_id = (await rt.inspect_image(image))["Id"]
    with pytest.raises(Conflict):
        await rt.remove_image(base_id)  # in use by a container and tagged twice
    await rt.remove_image(f"{repo}:v1")
    assert not any(f"{repo}:v1" in r.tags for r in await rt.list_images())
    await rt.remove_container(ident, force=True)
    result = await rt.prune_images(dangling_only=True)
    assert result.space_reclaimed >= 0


async def test_pull_failure_is_clear(rt: DockerRuntime) -> None:
    """Pulling from a registry that does not answer fails with a clear error, not a hang."""
    with pytest.raises(TamerError) as err:
        async for _ in rt.pull_image("127.0.0.1:9/tamer/none:latest"):
            pass
    assert "127.0.0.1:9" in str(err.value)
    assert isinstance(err.value, BackendError | NotFound | RuntimeUnavailable)


async def test_networks_and_volumes(rt: DockerRuntime, api: Any, label: str) -> None:
    """Networks and volumes: create, list, inspect, remove, prune."""
    net = f"{label}-net"
    vol = f"{label}-vol"
    await rt.create_network(net)
    try:
        assert any(n.name == net for n in await rt.list_networks())
        assert (await rt.inspect_network(net))["Name"] == net
        with pytest.raises(Conflict):
            await rt.create_network(net)
    finally:
        await rt.remove_network(net)
    assert all(n.name != net for n in await rt.list_networks())
    await rt.create_volume(vol)
    assert any(v.name == vol for v in await rt.list_volumes())
    assert (await rt.inspect_volume(vol))["Name"] == vol
    await rt.remove_volume(vol)
    with pytest.raises(NotFound):
        await rt.inspect_volume(vol)
    await rt.create_volume(f"{vol}2")
    pruned = await rt.prune_volumes()
    assert f"{vol}2" in pruned.deleted
    await rt.create_network(f"{net}2")
    assert f"{net}2" in (await rt.prune_networks()).deleted


async def test_missing_socket_is_unavailable(tmp_path: Any) -> None:
    """A socket that does not exist gives RuntimeUnavailable naming the problem, quickly."""
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", f"unix://{tmp_path}/nope.sock", "test"),
                       timeout=3)
    t0 = time.monotonic()
    with pytest.raises(RuntimeUnavailable):
        await rt.connect()
    assert time.monotonic() - t0 < 5
    with pytest.raises(RuntimeUnavailable):
        await rt.list_containers()


async def test_cancel_stream_releases_thread(rt: DockerRuntime) -> None:
    """Cancelling an event stream closes its connection, so its pump thread ends."""
    import threading

    before = {t.ident for t in threading.enumerate() if t.name == "tamer-stream"}

    async def consume() -> None:
        async for _ in rt.events():
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for _ in range(50):
        alive = {t.ident for t in threading.enumerate() if t.name == "tamer-stream"} - before
        if not alive:
            break
        await asyncio.sleep(0.1)
    assert not alive
