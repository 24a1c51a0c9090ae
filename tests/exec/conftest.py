"""Fixtures for the exec/shell/attach tests: a simulator, real Docker and Podman containers, a
pseudo-terminal driver, and a leak check (threads and file descriptors).

* ``sim`` (module): a small ``tamer sim`` in a thread; ``kube`` a loaded KubeManager on it.
* ``docker_rt`` / ``podman_rt``: connected runtimes on the test services; ``docker_box`` /
  ``podman_box`` start a labelled ``sleep`` container on the test image (busybox: ``sh`` but no
  ``bash``); everything labelled ``tamer.test=<label>`` is removed afterwards.
* :class:`PtyDriver`: a child process (``tests.exec.pty_child``) on a new pty that the test types into.
* :class:`Leaks`: counts threads (not the asyncio default executor's idle workers) and ``/proc/self/fd``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.exec import ExecTarget
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.sim.server import SimHandle
from tests import services
from tests.sim_fixtures import module_sim, sim_kube

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------
# Kubernetes (the simulator)
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """A small simulator for the module (default namespace: web, chatty and flaky pods)."""
    with module_sim(tmp_path_factory, "exec-sim", pods=10, namespaces=1, nodes=1, seed=3) as handle:
        yield handle


@pytest.fixture
async def kube(sim: SimHandle) -> AsyncIterator[KubeManager]:
    """A KubeManager on the simulator (admin context); closed after the test."""
    async with sim_kube(sim) as km:
        yield km


async def pod_named(km: KubeManager, prefix: str, namespace: str = "default") -> dict[str, Any]:
    """The first running pod whose name starts with ``prefix``."""
    client = await km.client()
    deadline = time.monotonic() + 20
    while True:
        items = json.loads(await client.get(f"/api/v1/namespaces/{namespace}/pods"))["items"]
        for pod in items:
            if pod["metadata"]["name"].startswith(prefix) and pod["status"].get("phase") == "Running":
                return dict(pod)
        if time.monotonic() > deadline:
            raise AssertionError(f"no running pod {prefix}* in {namespace}")
        await asyncio.sleep(0.2)


def pod_target(km: KubeManager | None, pod: dict[str, Any], container: str = "", context: str | None = None) -> ExecTarget:
    """The ExecTarget of ``pod``'s first (or the named) container."""
    ns = pod["metadata"]["namespace"]
    name = pod["metadata"]["name"]
    container = container or pod["spec"]["containers"][0]["name"]
    return ExecTarget("pod", f"pod/{ns}/{name}/{container}", kube=km, context=context or (km.current if km else None),
                      namespace=ns, pod=name, container=container)


async def create_pod(km: KubeManager, body: dict[str, Any], *, phase: str = "Running", timeout: float = 20) -> dict[str, Any]:
    """Create a pod in ``default`` and wait until it reaches ``phase``."""
    client = await km.client()
    await client.request("POST", "/api/v1/namespaces/default/pods", body=json.dumps(body).encode())
    name = body["metadata"]["name"]
    deadline = time.monotonic() + timeout
    while True:
        pod = json.loads(await client.get(f"/api/v1/namespaces/default/pods/{name}"))
        if pod["status"].get("phase") == phase:
            return dict(pod)
        if time.monotonic() > deadline:
            raise AssertionError(f"pod {name} is {pod['status'].get('phase')}, not {phase}")
        await asyncio.sleep(0.1)


async def delete_pod(km: KubeManager, name: str) -> None:
    """Delete a pod in ``default`` (ignoring a missing one)."""
    client = await km.client()
    with contextlib.suppress(Exception):
        await client.request("DELETE", f"/api/v1/namespaces/default/pods/{name}", params={"gracePeriodSeconds": 0})


# ------------------------------------------------------------------------------------------------
# Docker and Podman
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def label() -> str:
    """A unique label value for everything one test creates."""
    return f"tamer-ex-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def docker_rt(label: str) -> AsyncIterator[Any]:
    """A connected DockerRuntime on the test daemon; removes the test's labelled containers after."""
    import docker

    from tamer_tui.core.docker_runtime import DockerRuntime

    url = services.docker_host()
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", url, "test"))
    await rt.connect()
    yield rt
    await rt.close()
    api = docker.APIClient(base_url=url, version="auto")
    try:
        for c in api.containers(all=True, filters={"label": f"tamer.test={label}"}):
            api.remove_container(c["Id"], force=True)
    finally:
        api.close()


@pytest.fixture
async def podman_rt(label: str) -> AsyncIterator[Any]:
    """A connected PodmanRuntime on the test service; removes the test's labelled containers after."""
    from podman import PodmanClient

    from tamer_tui.core.podman_runtime import PodmanRuntime

    url = services.podman_url()
    rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", url, "test"))
    await rt.connect()
    yield rt
    await rt.close()
    client = PodmanClient(base_url=url)
    try:
        filters = {"filters": json.dumps({"label": [f"tamer.test={label}"]})}
        for item in client.api.get("/containers/json", params={"all": "true", **filters}).json() or []:
            client.api.delete(f"/containers/{item['Id']}", params={"force": "true", "timeout": 0})
    finally:
        client.close()


async def start_box(rt: Any, label: str, command: tuple[str, ...] = ("sleep", "600"), **kw: Any) -> str:
    """Create and start a labelled container on the test image; its name."""
    from tamer_tui.core.models import ContainerSpec

    name = f"{label}-{uuid.uuid4().hex[:4]}"
    spec = ContainerSpec(image=services.test_image(), name=name, command=command, labels=(("tamer.test", label),), **kw)
    ident = await rt.create_container(spec)
    await rt.start_container(ident)
    return name


def box_target(rt: Any, name: str) -> ExecTarget:
    """The ExecTarget of a container."""
    return ExecTarget("container", f"container/{rt.name}:{name}", runtime=rt, ident=name)


# ------------------------------------------------------------------------------------------------
# Pseudo-terminals
# ------------------------------------------------------------------------------------------------
def set_size(fd: int, rows: int, cols: int) -> None:
    """TIOCSWINSZ on a pty fd (on the master, the child in the foreground gets SIGWINCH)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtyReader:
    """Reads a pty master with an ``expect`` cursor."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.buf = b""
        self.pos = 0

    def send(self, text: str | bytes) -> None:
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def expect(self, text: str, timeout: float = 15.0) -> str:
        """Read until ``text`` appears after the cursor; returns what came up to and including it."""
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while True:
            at = self.buf.find(needle, self.pos)
            if at >= 0:
                start, self.pos = self.pos, at + len(needle)
                return self.buf[start : self.pos].decode("utf-8", "replace")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} did not appear after {self.buf[:self.pos][-300:]!r}; got: {self.buf[self.pos:][-2000:]!r}")
            ready, _, _ = select.select([self.master], [], [], min(remaining, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if chunk:
                    self.buf += chunk


class PtyDriver(PtyReader):
    """``tests.exec.pty_child`` running ``spec`` on a new pty of ``rows`` x ``cols``."""

    def __init__(self, spec: dict[str, Any], rows: int = 24, cols: int = 80) -> None:
        master, self.slave = os.openpty()
        super().__init__(master)
        set_size(self.slave, rows, cols)
        self.mode_before = termios.tcgetattr(self.slave)
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        env["TERM"] = "xterm"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.exec.pty_child", json.dumps(spec)],
            stdin=self.slave, stdout=self.slave, stderr=self.slave, cwd=str(REPO), env=env, start_new_session=True,
        )

    def resize(self, rows: int, cols: int) -> None:
        set_size(self.master, rows, cols)

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_child() -> Iterator[Callable[..., PtyDriver]]:
    """Start pty children (closed after the test)."""
    drivers: list[PtyDriver] = []

    def start(spec: dict[str, Any], rows: int = 24, cols: int = 80) -> PtyDriver:
        driver = PtyDriver(spec, rows, cols)
        drivers.append(driver)
        return driver

    yield start
    for d in drivers:
        d.close()


class InProcessPty(PtyReader):
    """A pty whose slave side is handed to ``Interactive.run`` in a worker thread of this process."""

    def __init__(self, rows: int = 24, cols: int = 80) -> None:
        master, self.slave = os.openpty()
        super().__init__(master)
        set_size(self.slave, rows, cols)
        self.mode_before = termios.tcgetattr(self.slave)
        self.result: list[Any] = []
        self.thread: threading.Thread | None = None

    def start(self, session: Any) -> None:
        def play() -> None:
            try:
                self.result.append(("exit", session.run(stdin_fd=self.slave, stdout_fd=self.slave)))
            except BaseException as exc:  # noqa: BLE001 - checked by the test
                self.result.append(("error", exc))

        self.thread = threading.Thread(target=play, name="test-session", daemon=True)
        self.thread.start()

    def resize(self, rows: int, cols: int) -> None:
        set_size(self.master, rows, cols)

    async def finished(self, timeout: float = 20.0) -> tuple[str, Any]:
        """Wait (without blocking the loop) until the session returned; ("exit", code) or ("error", exc)."""
        assert self.thread is not None
        deadline = time.monotonic() + timeout
        while self.thread.is_alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the session did not end; output: {self.buf[-2000:]!r}")
            self.read_available()  # a terminal is always read: the session must never block on output
            await asyncio.sleep(0.02)
        return self.result[0]

    def read_available(self) -> None:
        """Take whatever output is there without waiting."""
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.buf += chunk

    def mode_restored(self) -> bool:
        return termios.tcgetattr(self.slave) == self.mode_before

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def inproc_pty() -> Iterator[Callable[..., InProcessPty]]:
    """In-process ptys (closed after the test)."""
    ptys: list[InProcessPty] = []

    def make(rows: int = 24, cols: int = 80) -> InProcessPty:
        p = InProcessPty(rows, cols)
        ptys.append(p)
        return p

    yield make
    for p in ptys:
        p.close()


# ------------------------------------------------------------------------------------------------
# Leaks
# ------------------------------------------------------------------------------------------------
def _threads() -> set[int]:
    """Live threads, without the asyncio default executor's (reused, idle) workers."""
    return {t.ident or 0 for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def _fds() -> set[int]:
    return {int(x) for x in os.listdir("/proc/self/fd")}


class Leaks:
    """Snapshot threads and file descriptors; ``check()`` asserts nothing new is left (waiting a
    little for threads that are finishing)."""

    def __init__(self) -> None:
        self.threads = _threads()
        self.fds = _fds()

    async def check(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            extra_threads = _threads() - self.threads
            extra_fds = _fds() - self.fds
            if not extra_threads and not extra_fds:
                return
            if time.monotonic() > deadline:
                names = [t.name for t in threading.enumerate() if (t.ident or 0) in extra_threads]
                targets = []
                for fd in extra_fds:
                    with contextlib.suppress(OSError):
                        targets.append(os.readlink(f"/proc/self/fd/{fd}"))
                raise AssertionError(f"leaked threads {names}, fds {targets}")
            await asyncio.sleep(0.05)
