"""Docker container logs through the log-stream layer, against the real daemon.

Follow across a restart and across a cut connection to the daemon (no duplicate, no missing line:
the lines and their sequence numbers are checked against the container's full log), tail, since, a
removed container, compose-project aggregation with a container that joins later, and the ingest
rate of a container writing as fast as it can.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.logstream import LogOptions, LogSession, RuntimeContainerSource
from tamer_tui.core.logtargets import open_runtime_logs
from tamer_tui.core.manager import RuntimeManager
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tests import services
from tests.logs.conftest import SEQ_SCRIPT, full_log, reading, run_container, seq_numbers, spec
from tests.socket_proxy import SocketProxy

pytestmark = pytest.mark.docker


async def test_follow_across_restart_no_duplicate_no_gap(docker_rt: DockerRuntime, label: str) -> None:
    """A counter container is restarted while followed: the viewer's lines are exactly the container's
    log (same stamps, same texts, numbers consecutive) and the restart is marked."""
    ident = await run_container(docker_rt, spec(label, SEQ_SCRIPT))
    manager = RuntimeManager.from_runtimes([docker_rt])
    session = await open_runtime_logs(manager, f"container/{ident[:12]}", LogOptions(tail=None))
    async with reading(session) as reader:
        await reader.wait(lambda r: len(seq_numbers(r.texts())) >= 40, what="40 lines")
        await docker_rt.restart_container(ident, timeout=5)
        at_restart = len(reader.lines)
        await reader.wait(lambda r: len(r.lines) >= at_restart + 60 and r.kinds("info"), timeout=30,
                          what="60 lines after the restart")
    log = await full_log(docker_rt, ident)
    assert reader.pairs() == log[: len(reader.lines)], "each line of the container's log once, in order"
    numbers = seq_numbers(reader.texts())
    assert set(numbers) == set(range(numbers[-1] + 1)), "no number missing"
    assert len(numbers) - len(set(numbers)) <= 1  # (a stop between printing and saving repeats one)
    assert any("restarted" in n.message for n in reader.kinds("info")), reader.describe()


async def test_daemon_connection_cut_resumes(docker_rt: DockerRuntime, label: str, tmp_path: Any) -> None:
    """The connection to the daemon goes away for a second while following (a proxy in front of its
    socket is stopped): one gap marker, then the stream resumes; the lines are exactly the container's
    log, none twice, none missing."""
    ident = await run_container(docker_rt, spec(label, SEQ_SCRIPT))
    proxy = SocketProxy(str(tmp_path / "d.sock"), services.docker_host().removeprefix("unix://"))
    await proxy.start()
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", proxy.url, "test"), timeout=5)
    await rt.connect()
    session = LogSession("cut")
    session.start_source(RuntimeContainerSource(rt, ident, LogOptions(tail=None), name="cut"))
    try:
        async with reading(session) as reader:
            await reader.wait(lambda r: len(r.lines) >= 40, what="40 lines")
            await proxy.stop()
            await reader.wait(lambda r: bool(r.kinds("gap")), what="the gap marker")
            await asyncio.sleep(1.0)
            await proxy.start()
            at = len(reader.lines)
            await reader.wait(lambda r: len(r.lines) >= at + 150, timeout=30, what="150 lines after the cut")
    finally:
        await proxy.stop()
        await rt.close()
    assert len(reader.kinds("gap")) == 1 and not reader.kinds("info"), reader.describe()
    assert reader.pairs() == (await full_log(docker_rt, ident))[: len(reader.lines)]
    numbers = seq_numbers(reader.texts())
    assert numbers == list(range(len(numbers)))


async def test_tail_since_and_one_shot(docker_rt: DockerRuntime, label: str) -> None:
    """--tail gives the last N lines, --since only the recent ones; without follow the session ends."""
    ident = await run_container(docker_rt, spec(label, "seq 1 100; sleep 2; echo late; sleep 600"))
    manager = RuntimeManager.from_runtimes([docker_rt])
    await asyncio.sleep(2.6)
    session = await open_runtime_logs(manager, f"container/{ident}", LogOptions(tail=10, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    assert reader.texts() == [*map(str, range(92, 101)), "late"]
    session = await open_runtime_logs(manager, f"container/{ident}", LogOptions(tail=None, since_seconds=1,
                                                                              follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    assert reader.texts() == ["late"]
    assert session.sources[next(iter(session.sources))].state == "ended"


async def test_removed_container_is_marked_left(docker_rt: DockerRuntime, label: str) -> None:
    """Following a container that is removed: a "left" notice, then the session ends by itself."""
    ident = await run_container(docker_rt, spec(label, "echo hello; sleep 600"))
    session = LogSession("one")
    session.start_source(RuntimeContainerSource(docker_rt, ident, LogOptions(), name="one"))
    async with reading(session) as reader:
        await reader.wait(lambda r: r.texts() == ["hello"], what="the first line")
        await docker_rt.remove_container(ident, force=True)
        await reader.wait_end(timeout=20)
    assert [n.kind for n in reader.notices] == ["left"]
    assert session.sources["one"].state == "left"


async def test_compose_project_aggregation(docker_rt: DockerRuntime, label: str) -> None:
    """compose/P follows every container of the project (one source per service-number), a container
    started later joins; closing the session stops every stream; compose/P/S only that service; an
    unknown project fails at once."""
    project = f"{label}-proj"

    def compose(service: str, number: int) -> tuple[tuple[str, str], ...]:
        return (("com.docker.compose.project", project), ("com.docker.compose.service", service),
                ("com.docker.compose.container-number", str(number)))

    loop = 'i=0; while true; do echo "{name} $i"; i=$((i+1)); sleep 0.05; done'
    await run_container(docker_rt, spec(label, loop.format(name="web1"), labels=compose("web", 1)))
    await run_container(docker_rt, spec(label, loop.format(name="worker1"), labels=compose("worker", 1)))
    await run_container(docker_rt, spec(label, "echo other", labels=(("com.docker.compose.project", "x" + project),)))
    manager = RuntimeManager.from_runtimes([docker_rt])
    session = await open_runtime_logs(manager, f"compose/{project}", LogOptions(tail=5))
    assert session.aggregated and session.title == f"compose/{project}"
    async with reading(session) as reader:
        await reader.wait(lambda r: r.sources() == {"web-1", "worker-1"}, what="both services")
        await run_container(docker_rt, spec(label, loop.format(name="web2"), labels=compose("web", 2)))
        await reader.wait(lambda r: "web-2" in r.sources(), timeout=20, what="web-2 to join")
        assert [n.source for n in reader.kinds("joined")] == ["web-2"]
        assert all(t.startswith(s.replace("-", "")) for s, _, t in reader.lines)
    await wait_no_reader_threads()
    session = await open_runtime_logs(manager, f"compose/{project}/web", LogOptions(tail=3, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    assert reader.sources() == {"web-1", "web-2"}
    with pytest.raises(NotFound, match="no containers of compose project"):
        await open_runtime_logs(manager, f"compose/{label}-none", LogOptions())
    with pytest.raises(NotFound, match="no service"):
        await open_runtime_logs(manager, f"compose/{project}/db", LogOptions())
    with pytest.raises(InvalidInput, match="--previous"):
        await open_runtime_logs(manager, f"compose/{project}", LogOptions(previous=True))


async def wait_no_reader_threads(timeout: float = 5.0) -> None:
    """Closing a session closed its streams: their reader threads are gone."""
    deadline = time.monotonic() + timeout
    while any(t.name == "tamer-stream-batches" and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a log stream's reader thread survived its session"
        await asyncio.sleep(0.05)


async def test_ingest_rate_fast_writer(docker_rt: DockerRuntime, label: str) -> None:
    """A container writes 300,000 lines as fast as it can: all arrive, in order (the rate is printed)."""
    n = 300_000
    ident = await run_container(docker_rt, spec(label, f"seq 1 {n}"))
    deadline = time.monotonic() + 60
    while (await docker_rt.get_container(ident)).state == "running" and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    session = LogSession("fast")
    session.start_source(RuntimeContainerSource(docker_rt, ident, LogOptions(tail=None, follow=False), name="fast"))
    started = time.perf_counter()
    async with reading(session) as reader:
        await reader.wait_end(timeout=60)
    elapsed = time.perf_counter() - started
    assert reader.texts() == [str(i) for i in range(1, n + 1)]
    print(f"\ndocker RuntimeContainerSource: {n:,} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s")
