"""Fixtures for the run-spec tests: a Docker or a Podman runtime (parametrised), unique ``tt-run-<hex>``
names, and a teardown that removes every container, network and named volume a test made."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tamer_tui.core.runtime import ContainerRuntime
from tests import services


@dataclass
class Engine:
    """One connected runtime plus everything a test created on it (removed in teardown)."""

    kind: str
    rt: ContainerRuntime
    prefix: str
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)

    @property
    def label(self) -> tuple[str, str]:
        return ("tamer.test", self.prefix)

    def name(self, what: str = "") -> str:
        return f"{self.prefix}-{what or uuid.uuid4().hex[:4]}"

    async def run(self, spec: ContainerSpec) -> str:
        cid = await self.rt.create_container(spec)
        await self.rt.start_container(cid)
        return cid

    async def cleanup(self) -> None:
        for row in await self.rt.list_containers(all=True):
            if row.label("tamer.test") == self.prefix or row.name.startswith(self.prefix):
                with contextlib.suppress(Exception):
                    await self.rt.remove_container(row.id, force=True, volumes=True)
        for net in self.networks:
            with contextlib.suppress(Exception):
                await self.rt.remove_network(net)
        for vol in self.volumes:
            with contextlib.suppress(Exception):
                await self.rt.remove_volume(vol, force=True)


def free_port() -> int:
    """A TCP port nothing listens on right now (on all addresses, where the engines publish)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 15.0, step: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the last value after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(step)
    pytest.fail(f"condition not met within {timeout}s (last value: {last!r})")


@pytest.fixture(params=["docker", "podman"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    """A connected Docker or Podman runtime; everything named/labelled with its prefix is removed after."""
    kind = str(request.param)
    rt: ContainerRuntime
    if kind == "docker":
        rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", services.docker_host(), "test"))
    else:
        rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "test"))
    await rt.connect()
    eng = Engine(kind, rt, f"tt-run-{uuid.uuid4().hex[:8]}")
    try:
        yield eng
    finally:
        await eng.cleanup()
        await rt.close()
