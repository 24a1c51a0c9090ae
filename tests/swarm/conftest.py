"""Fixtures for the swarm tests: the test dockerd made a one-node swarm for a module, and cleanup.

``swarm_engine`` runs ``swarm init --advertise-addr 127.0.0.1`` only when the engine is in no swarm,
and then, in teardown, ``swarm leave --force`` and removes the ``docker_gwbridge`` network the swarm
leaves behind (other tests list networks). Every service, image tag and network a test makes is
named with the module's unique prefix and removed in teardown, whether or not the swarm is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.swarm import Swarm
from tests import services

T = TypeVar("T")


@dataclass
class SwarmEngine:
    """The test engine in swarm mode: a raw SDK client (for setup checks), its URL and a name prefix."""

    api: Any
    url: str
    prefix: str
    initialised: bool
    tags: list[str] = field(default_factory=list)  # image tags made by tests, removed in teardown

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"


def _remove_gwbridge(api: Any) -> None:
    import docker.errors

    deadline = time.monotonic() + 20
    while True:
        try:
            api.remove_network("docker_gwbridge")
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # task containers still attached: they go as the swarm shuts down


@pytest.fixture(scope="module")
def swarm_engine() -> Iterator[SwarmEngine]:
    import docker
    import docker.errors

    url = services.docker_host()
    api = docker.APIClient(base_url=url, version="auto", timeout=60)
    state = str((api.info().get("Swarm") or {}).get("LocalNodeState") or "inactive")
    initialised = False
    gwbridge_before = bool(api.networks(names=["docker_gwbridge"]))
    if state != "active":
        api.init_swarm(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        initialised = True
    engine = SwarmEngine(api, url, f"tt-swarm-{uuid.uuid4().hex[:6]}", initialised)
    try:
        yield engine
    finally:
        with contextlib.suppress(docker.errors.APIError):
            for svc in api.services():
                if str((svc.get("Spec") or {}).get("Name", "")).startswith(engine.prefix):
                    with contextlib.suppress(docker.errors.APIError):
                        api.remove_service(svc["ID"])
        for net in api.networks():
            if str(net.get("Name", "")).startswith(engine.prefix):
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_network(net["Id"])
        if initialised:
            api.leave_swarm(force=True)
            if not gwbridge_before:
                _remove_gwbridge(api)
        for tag in engine.tags:
            with contextlib.suppress(docker.errors.APIError):
                api.remove_image(tag)  # an extra tag of the test image: only the tag goes
        api.close()


@pytest.fixture
async def rt(swarm_engine: SwarmEngine) -> AsyncIterator[DockerRuntime]:
    runtime = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", swarm_engine.url, "test"))
    await runtime.connect()
    yield runtime
    await runtime.close()


@pytest.fixture
def swarm(rt: DockerRuntime) -> Swarm:
    return Swarm(rt)


async def eventually(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 20.0,
                     what: str = "condition") -> T:
    """Poll ``probe`` until ``ok`` holds for its value (every 0.2 s); fail with the last value."""
    deadline = time.monotonic() + timeout
    value = await probe()
    while not ok(value):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout:.0f}s; last value: {value!r}")
        await asyncio.sleep(0.2)
        value = await probe()
    return value
