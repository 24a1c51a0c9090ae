"""Podman container logs through the log-stream layer, against the real Podman 4.3 service.

Podman prints log stamps with whole seconds, so resuming after a restart relies on matching the
lines of the last second(s); the container's full log and the sequence numbers in the lines prove
that nothing is repeated or lost.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tamer_tui.core.errors import NotFound
from tamer_tui.core.logstream import LogOptions, LogSession, RuntimeContainerSource
from tamer_tui.core.logtargets import open_runtime_logs
from tamer_tui.core.manager import RuntimeManager
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests.logs.conftest import SEQ_SCRIPT, full_log, reading, run_container, seq_numbers, spec

pytestmark = pytest.mark.podman


async def test_follow_across_restart_no_duplicate_no_gap(podman_rt: PodmanRuntime, label: str) -> None:
    """A counter container is restarted while followed: the viewer's lines are exactly the container's
    log and the numbers are consecutive; the restart is marked."""
    ident = await run_container(podman_rt, spec(label, SEQ_SCRIPT))
    manager = RuntimeManager.from_runtimes([podman_rt])
    session = await open_runtime_logs(manager, f"container/{ident}", LogOptions(tail=None))
    async with reading(session) as reader:
        await reader.wait(lambda r: len(seq_numbers(r.texts())) >= 40, what="40 lines")
        await podman_rt.restart_container(ident, timeout=5)
        at_restart = len(reader.lines)
        await reader.wait(lambda r: len(r.lines) >= at_restart + 60 and bool(r.kinds("info")), timeout=30,
                          what="60 lines after the restart")
    log = await full_log(podman_rt, ident)
    # Podman's follow stream may deliver a line of the new run before the last lines of the old run
    # (then it breaks): the viewer shows each line of the log once, not necessarily in log order
    assert Counter(reader.pairs()) == Counter(log[: len(reader.lines)]), "each line of the log once"
    numbers = seq_numbers(reader.texts())
    assert set(numbers) == set(range(max(numbers) + 1)), "no number missing"
    assert len(numbers) - len(set(numbers)) <= 1  # (a stop between printing and saving repeats one)
    assert any("restarted" in n.message for n in reader.kinds("info")), reader.describe()


async def test_tail_and_since(podman_rt: PodmanRuntime, label: str) -> None:
    """--tail gives the last N lines; --since only the recent ones; without follow the session ends."""
    ident = await run_container(podman_rt, spec(label, "seq 1 50; sleep 2; echo late; sleep 600"))
    await asyncio.sleep(2.6)
    source = RuntimeContainerSource(podman_rt, ident, LogOptions(tail=5, follow=False), name="c")
    session = LogSession("c")
    session.start_source(source)
    async with reading(session) as reader:
        await reader.wait_end()
    assert reader.texts() == ["47", "48", "49", "50", "late"]
    session = LogSession("c")
    session.start_source(RuntimeContainerSource(podman_rt, ident, LogOptions(tail=None, since_seconds=1, follow=False)))
    async with reading(session) as reader:
        await reader.wait_end()
    assert reader.texts() == ["late"]


async def test_podman_pod_aggregation(podman_rt: PodmanRuntime, label: str) -> None:
    """podman-pod/NAME follows every container of the pod but its infra container; a container added
    to the pod later joins; an unknown pod fails at once."""
    pod_name = f"{label}-pod"
    pod_id = await podman_rt.create_pod(pod_name, labels={"tamer.test": label})
    loop = 'i=0; while true; do echo "{name} $i"; i=$((i+1)); sleep 0.05; done'
    await run_container(podman_rt, spec(label, loop.format(name="a"), name=f"{label}-a"), pod=pod_id)
    await run_container(podman_rt, spec(label, loop.format(name="b"), name=f"{label}-b"), pod=pod_id)
    manager = RuntimeManager.from_runtimes([podman_rt])
    session = await open_runtime_logs(manager, f"podman-pod/{pod_name}", LogOptions(tail=5))
    assert session.aggregated
    async with reading(session) as reader:
        await reader.wait(lambda r: r.sources() == {f"{label}-a", f"{label}-b"}, what="both members")
        await run_container(podman_rt, spec(label, loop.format(name="c"), name=f"{label}-c"), pod=pod_id)
        await reader.wait(lambda r: f"{label}-c" in r.sources(), timeout=20, what="the third member to join")
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    assert [n.source for n in reader.kinds("joined")] == [f"{label}-c"]
    assert set(session.sources) == {f"{label}-a", f"{label}-b", f"{label}-c"}, "no infra container"
    for name in "abc":
        texts = reader.texts(f"{label}-{name}")
        assert texts and all(t.startswith(f"{name} ") for t in texts)
        numbers = [int(t.split()[1]) for t in texts]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    with pytest.raises(NotFound, match="no Podman pod"):
        await open_runtime_logs(manager, f"podman-pod/{label}-nope", LogOptions())
