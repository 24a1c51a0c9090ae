"""Fixtures for UI tests: apps over the real daemons, and over a recorded replay for snapshots."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.manager import RuntimeManager
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.runtime import ContainerRuntime
from tamer_tui.core.session import Session
from tamer_tui.core.themes import load_themes
from tamer_tui.ui import format as ui_format
from tamer_tui.ui.app import TamerApp
from tests import services
from tests.ui.replay_runtime import DATA, ReplayRuntime


def make_app(runtimes: list[ContainerRuntime], *, readonly: bool = False, command: str | None = None,
             theme: str = "tamer-dark") -> TamerApp:
    session = Session(manager=RuntimeManager.from_runtimes(runtimes, readonly=readonly), readonly=readonly,
                      theme=theme, host_label="test-host", themes=load_themes(include_user=False))
    return TamerApp(session, initial_command=command)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    """Ages in the recording are computed against a fixed 'now' (2 minutes after the newest object)."""
    data = json.loads(DATA.read_text())
    now = max(c["Created"] for c in data["containers"]) + 120.0

    class _Clock:
        @staticmethod
        def time() -> float:
            return now

    monkeypatch.setattr(ui_format, "time", _Clock)
    return now


@pytest.fixture
def replay_app(frozen_clock: float) -> Callable[..., TamerApp]:
    def factory(**kwargs: Any) -> TamerApp:
        return make_app([ReplayRuntime()], **kwargs)

    return factory


@pytest.fixture
def docker_endpoint() -> RuntimeEndpoint:
    return RuntimeEndpoint(RuntimeKind.DOCKER, "docker", services.docker_host(), "test")


@pytest.fixture
def docker_api(docker_endpoint: RuntimeEndpoint) -> Iterator[Any]:
    """The raw docker SDK client, to set up and check the daemon's state independently of Tamer."""
    import docker

    api = docker.APIClient(base_url=docker_endpoint.url, version="auto")
    label = f"tamer-ui-{uuid.uuid4().hex[:8]}"
    api.test_label = label  # type: ignore[attr-defined]
    yield api
    for c in api.containers(all=True, filters={"label": f"tamer.test={label}"}):
        api.remove_container(c["Id"], force=True)
    api.close()


def start_container(api: Any, name: str, cmd: list[str] | None = None, start: bool = True) -> str:
    # init=True: busybox `sleep` as PID 1 ignores SIGTERM, so a plain stop would wait 10 s
    c = api.create_container(services.test_image(), cmd or ["sleep", "600"], name=name,
                             labels={"tamer.test": api.test_label}, host_config=api.create_host_config(init=True))
    if start:
        api.start(c["Id"])
    return str(c["Id"])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def wait_for(predicate: Callable[[], bool], pilot: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")


async def wait_daemon(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("daemon state not reached in time")


def docker_runtime(endpoint: RuntimeEndpoint) -> DockerRuntime:
    return DockerRuntime(endpoint)


SNAPSHOT_SIZE = (130, 30)
