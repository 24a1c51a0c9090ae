"""Fixtures for the log-stream tests: a `tamer sim` per module, Docker and Podman runtimes with cleanup,
and :class:`Reader`, which consumes a :class:`LogSession` in the background while a test acts.

Everything created on Docker/Podman carries the label ``tamer.test=<label>`` and is removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.core.logstream import LogChunk, LogNotice, LogSession
from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tamer_tui.sim.server import SimHandle
from tests import services
from tests.sim_fixtures import module_sim, sim_kube

# -- reading a session ------------------------------------------------------------------------------


@dataclass
class Reader:
    """Consumes ``session.items()`` in a task: every line as (source, stamp, text), every notice."""

    session: LogSession
    lines: list[tuple[str, str, str]] = field(default_factory=list)
    notices: list[LogNotice] = field(default_factory=list)
    batches: int = 0
    ended: bool = False
    _task: asyncio.Task[None] | None = None

    def start(self) -> Reader:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        async for items in self.session.items():
            self.batches += 1
            for item in items:
                if isinstance(item, LogChunk):
                    assert len(item.lines) == len(item.stamps)
                    self.lines.extend((item.source, st, text) for st, text in zip(item.stamps, item.lines, strict=True))
                else:
                    self.notices.append(item)
        self.ended = True

    def texts(self, source: str | None = None) -> list[str]:
        return [t for s, _, t in self.lines if source in (None, s)]

    def pairs(self, source: str | None = None) -> list[tuple[str, str]]:
        return [(st, t) for s, st, t in self.lines if source in (None, s)]

    def sources(self) -> set[str]:
        return {s for s, _, _ in self.lines}

    def kinds(self, kind: str) -> list[LogNotice]:
        return [n for n in self.notices if n.kind == kind]

    async def wait(self, predicate: Callable[[Reader], bool], timeout: float = 15.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if self._task is not None and self._task.done():
                self._task.result()  # raise what failed
                if predicate(self):
                    return
                raise AssertionError(f"session ended before {what or 'the condition'}: {self.describe()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or 'the condition'}: {self.describe()}")
            await asyncio.sleep(0.05)

    async def wait_end(self, timeout: float = 15.0) -> None:
        await self.wait(lambda r: r.ended, timeout, "the end of the session")

    def describe(self) -> str:
        per_source: dict[str, int] = {}
        for s, _, _ in self.lines:
            per_source[s] = per_source.get(s, 0) + 1
        return f"lines {per_source}, notices {[(n.source, n.kind, n.message) for n in self.notices]}"

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self.session.close()


@contextlib.asynccontextmanager
async def reading(session: LogSession) -> AsyncIterator[Reader]:
    reader = Reader(session).start()
    try:
        yield reader
    finally:
        await reader.close()


def seq_numbers(texts: list[str]) -> list[int]:
    """The numbers of ``seq=N`` lines."""
    return [int(t.split("=", 1)[1]) for t in texts if t.startswith("seq=")]


# -- Kubernetes (simulator) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """A small simulator (chatty logs 3000 lines/s) with fast crash loops: crash 1.5 s after a
    start, restart 1 s later."""
    with module_sim(tmp_path_factory, "logs-sim", pods=20, namespaces=2, nodes=2, seed=11) as handle:
        handle.cluster.extras["controllers"].configure(crash_after=1.5, crash_backoff=1.0, crash_backoff_max=1.0)
        yield handle


@pytest.fixture
async def kube(sim: SimHandle) -> AsyncIterator[KubeManager]:
    async with sim_kube(sim) as km:
        yield km


async def kube_get(km: KubeManager, path: str, **params: Any) -> Any:
    client = await km.client()
    return json.loads(await client.get(path, params or None))


async def kube_log(km: KubeManager, namespace: str, pod: str, container: str, **params: Any) -> list[tuple[str, str]]:
    """A non-follow fetch of a container's log with timestamps, as (stamp, text) pairs."""
    client = await km.client()
    raw = await client.get(f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
                           {"container": container, "timestamps": "true", **params}, accept="*/*")
    out = []
    for line in raw.decode().split("\n")[:-1]:
        stamp, _, text = line.partition(" ")
        out.append((stamp, text))
    return out


async def wait_pods(km: KubeManager, namespace: str, selector: str, predicate: Callable[[list[dict[str, Any]]], bool],
                    timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        pods = (await kube_get(km, f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector))["items"]
        if predicate(pods):
            return list(pods)
        if time.monotonic() > deadline:
            states = [(p["metadata"]["name"], p["status"].get("phase")) for p in pods]
            raise AssertionError(f"pods {selector} not as expected in time: {states}")
        await asyncio.sleep(0.2)


def running(pods: list[dict[str, Any]], n: int) -> bool:
    """``n`` pods whose containers all run (none being deleted)."""
    ok = [p for p in pods if not p["metadata"].get("deletionTimestamp") and all(
        "running" in (c.get("state") or {}) for c in (p["status"].get("containerStatuses") or [{}]))]
    return len(ok) == n


def proxied_kubeconfig(sim: SimHandle, proxy_url: str, path: Path) -> str:
    """A copy of the sim's kubeconfig whose server is ``https://<proxy_url>``."""
    import yaml

    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for c in cfg["clusters"]:
        c["cluster"]["server"] = f"https://{proxy_url}"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


# -- Docker and Podman ------------------------------------------------------------------------------


@pytest.fixture
def label() -> str:
    return f"tamer-lg-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def docker_rt(label: str) -> AsyncIterator[DockerRuntime]:
    """A connected Docker runtime; removes every container labelled ``tamer.test=<label>`` afterwards."""
    import docker

    url = services.docker_host()
    runtime = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", url, "test"))
    await runtime.connect()
    yield runtime
    await runtime.close()
    api = docker.APIClient(base_url=url, version="auto")
    for c in api.containers(all=True, filters={"label": f"tamer.test={label}"}):
        api.remove_container(c["Id"], force=True)
    api.close()


@pytest.fixture
async def podman_rt(label: str) -> AsyncIterator[PodmanRuntime]:
    """A connected Podman runtime; removes every container and pod labelled ``tamer.test=<label>``."""
    from podman import PodmanClient

    from tests.podman.conftest import sweep

    url = services.podman_url()
    runtime = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", url, "TAMER_TEST_PODMAN_URL"))
    await runtime.connect()
    yield runtime
    await runtime.close()
    client = PodmanClient(base_url=url)
    try:
        sweep(client.api, label)
    finally:
        client.close()


def spec(label: str, script: str, name: str = "", labels: tuple[tuple[str, str], ...] = ()) -> ContainerSpec:
    """A labelled busybox container running ``sh -c script``."""
    return ContainerSpec(image=services.test_image(), name=name or f"{label}-{uuid.uuid4().hex[:4]}",
                         command=("sh", "-c", script), labels=(("tamer.test", label), *labels))


# A counter that survives restarts: it lives in the container's file system and each number is printed
# and saved in one loop turn that a SIGTERM does not cut (the trap only asks the loop to stop), so
# every number appears in the container's log exactly once, across any number of restarts.
SEQ_SCRIPT = ('stop=; trap "stop=1" TERM; n=$(cat /n 2>/dev/null || echo 0); '
              'while [ -z "$stop" ]; do echo "seq=$n"; n=$((n+1)); echo $n > /n.new; mv /n.new /n; sleep 0.005; done')


async def run_container(rt: Any, spec_: ContainerSpec, pod: str = "") -> str:
    ident = await (rt.create_container(spec_, pod=pod) if pod else rt.create_container(spec_))
    await rt.start_container(ident)
    return str(ident)


async def full_log(rt: Any, ident: str) -> list[tuple[str, str]]:
    """The container's whole log (non-follow), as (stamp, text) pairs."""
    out: list[tuple[str, str]] = []
    async with asyncio.timeout(30):
        async for batch in rt.log_text_batches(ident, follow=False, tail=None, timestamps=True):
            out.extend(zip(batch.stamps, batch.texts, strict=True))
    return out
