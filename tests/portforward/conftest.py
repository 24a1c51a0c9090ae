"""Fixtures for the port-forward engine tests: one `tamer sim` per module, a KubeManager and a
PortForwardManager per test (both closed afterwards), and helpers that create workloads through the
API, wait for conditions, and count what a forward leaves behind (fds, tasks, listeners)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tamer_tui.core.kube.client import KubeClient
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.core.kube.portforward import TASK_PREFIX, PortForwardManager
from tamer_tui.sim.server import SimHandle
from tests.sim_fixtures import module_sim, sim_kube

_names = itertools.count(1)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """A small simulator (controllers on: Deployments recreate deleted pods) for the whole module."""
    with module_sim(tmp_path_factory, "pf-sim", pods=12, namespaces=1, nodes=1, seed=3, log_rate=0.0) as handle:
        yield handle


@pytest.fixture
async def kube(sim: SimHandle) -> AsyncIterator[KubeManager]:
    """A KubeManager on the sim's kubeconfig (admin and restricted contexts), closed after the test."""
    async with sim_kube(sim) as km:
        yield km


@pytest.fixture
async def client(kube: KubeManager, sim: SimHandle) -> KubeClient:
    """The admin client, for setting up and deleting objects."""
    return await kube.client(sim.context)


@pytest.fixture
async def pfm(kube: KubeManager) -> AsyncIterator[PortForwardManager]:
    """A PortForwardManager whose forwards are all stopped after the test (short waits for fast tests)."""
    mgr = PortForwardManager(kube.client, connect_wait=8.0, linger=0.5)
    try:
        yield mgr
    finally:
        await mgr.stop_all()


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{os.getpid() % 1000}-{next(_names)}"


async def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if isinstance(last, Awaitable):
            last = await last
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def container(name: str = "app", ports: tuple[tuple[str, int], ...] = (("http", 8080),)) -> dict[str, Any]:
    return {"name": name, "image": "nginx:1.27.3",
            "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports]}


async def create(client: KubeClient, path: str, obj: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await client.request("POST", path, body=json.dumps(obj).encode()))
    return result


async def pods_of(client: KubeClient, selector: str, ns: str = "default") -> list[dict[str, Any]]:
    data = json.loads(await client.get(f"/api/v1/namespaces/{ns}/pods", params={"labelSelector": selector}))
    items: list[dict[str, Any]] = data["items"]
    return items


def is_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp") and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


async def deployment(client: KubeClient, name: str, replicas: int = 1, ns: str = "default",
                     service: bool = False, service_port: int = 80) -> list[str]:
    """Create a Deployment (and optionally a Service with a named targetPort) and wait for ready pods."""
    labels = {"app": name}
    await create(client, f"/apis/apps/v1/namespaces/{ns}/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [container()]}}},
    })
    if service:
        await create(client, f"/api/v1/namespaces/{ns}/services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": labels, "ports": [{"name": "web", "port": service_port, "targetPort": "http"}]},
        })

    async def ready() -> list[str]:
        pods = [p for p in await pods_of(client, f"app={name}", ns) if is_ready(p)]
        return sorted(p["metadata"]["name"] for p in pods) if len(pods) >= replicas else []

    names: list[str] = await wait_until(ready, what=f"{replicas} ready pods of {name}")
    return names


async def bare_pod(client: KubeClient, name: str, image: str = "nginx:1.27.3", ns: str = "default",
                   wait_ready: bool = True) -> None:
    """A pod without an owner (nothing recreates it)."""
    spec = {"containers": [{**container(), "image": image}]}
    await create(client, f"/api/v1/namespaces/{ns}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": spec})
    if wait_ready:
        async def ready() -> bool:
            pods = await pods_of(client, f"app={name}", ns)
            return bool(pods) and is_ready(pods[0])

        await wait_until(ready, what=f"pod {name} ready")


async def delete(client: KubeClient, path: str) -> None:
    await client.request("DELETE", path)


async def http_get(port: int, path: str = "/", host: str = "127.0.0.1", timeout: float = 10.0) -> tuple[int, str, str]:
    """One HTTP/1.1 request on its own connection: (status, X-Pod-Name, body)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), timeout)
        return status, headers.get("x-pod-name", ""), body.decode()
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


def can_connect(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def fd_count() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def engine_tasks() -> list[asyncio.Task[Any]]:
    """Unfinished tasks that belong to the port-forward engine (by name or by their coroutine's file)."""
    out = []
    for task in asyncio.all_tasks():
        if task.done():
            continue
        code = getattr(task.get_coro(), "cr_code", None)
        if task.get_name().startswith(TASK_PREFIX) or (code is not None and code.co_filename.endswith("portforward.py")):
            out.append(task)
    return out
