"""The Hosts screen against the real engines: what it lists, and which hosts' containers the lists show.

DOCKER_HOST and CONTAINER_HOST point at the test services and HOME is empty, so exactly these two
hosts exist (named the way detection names them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.ui.conftest import make_app, unique, wait_for


@pytest.fixture
def one_container_each() -> Iterator[None]:
    """A (created, not started) container on each engine, so both hosts have rows to show."""
    name = unique("tt-hui")
    subprocess.run(["docker", "-H", services.docker_host(), "create", "--name", name, services.test_image(), "true"],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["podman", "--url", services.podman_url(), "create", "--name", name, services.test_image(),
                    "true"], check=True, capture_output=True, timeout=60)
    yield
    subprocess.run(["docker", "-H", services.docker_host(), "rm", "-f", name], capture_output=True, timeout=60)
    subprocess.run(["podman", "--url", services.podman_url(), "rm", "-f", name], capture_output=True, timeout=60)


@pytest.fixture
def two_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_container_each: None) -> list[Any]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKER_HOST", services.docker_host())
    monkeypatch.setenv("CONTAINER_HOST", services.podman_url())
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("TAMER_WSL_EXE", str(tmp_path / "no-wsl.exe"))
    return [DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", services.docker_host(), "DOCKER_HOST")),
            PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "CONTAINER_HOST"))]


def _runtimes_in(screen: Any) -> set[str]:
    return {r.runtime for r in screen.store.rows.values()}


async def test_hosts_lists_probes_and_switches(two_hosts: list[Any]) -> None:
    """`:hosts` shows both engines reachable with versions; `hosts use podman` leaves only Podman's
    containers in the list, `hosts add docker` brings Docker's back (two hosts side by side), Enter on a
    host shows only it, and dropping the last shown host is refused."""
    app = make_app(two_hosts)
    async with app.run_test(size=(160, 32)) as pilot:
        containers = app.screen
        await wait_for(lambda: _runtimes_in(containers) == {"docker", "podman"}, pilot, timeout=30)
        await pilot.press("colon", *"hosts", "enter")
        await wait_for(lambda: app.screen.screen_key == "hosts" and len(app.screen.store) >= 2
                       and all(r.status is not None for r in app.screen.store.rows.values()), pilot, timeout=30)
        rows = {r.name: r for r in app.screen.store.rows.values()}
        assert rows["docker"].status.reachable and rows["docker"].status.version
        assert rows["podman"].status.reachable and rows["podman"].shown
        await pilot.press("colon", *"hosts use podman", "enter")
        await wait_for(lambda: set(app.session.manager.states) == {"podman"}, pilot, timeout=20)
        await wait_for(lambda: _runtimes_in(containers) == {"podman"}, pilot, timeout=30)
        await wait_for(lambda: not app.screen.store.rows["docker"].shown, pilot)
        await pilot.press("colon", *"hosts add docker", "enter")
        await wait_for(lambda: _runtimes_in(containers) == {"docker", "podman"}, pilot, timeout=30)
        await pilot.press("slash", *"^docker", "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None
                       and app.screen.table.cursor_row.name == "docker", pilot)
        await pilot.press("enter")
        await wait_for(lambda: set(app.session.manager.states) == {"docker"}, pilot, timeout=20)
        await wait_for(lambda: _runtimes_in(containers) == {"docker"}, pilot, timeout=30)
        await pilot.press("colon", *"hosts drop docker", "enter")
        await wait_for(lambda: "at least one host" in app.last_result, pilot, timeout=20)
        assert set(app.session.manager.states) == {"docker"}
