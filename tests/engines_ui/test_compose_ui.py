"""Compose from the UI against the real Docker daemon and Debian's docker-compose (v1).

The project is brought up with docker-compose itself (independently of Tamer); the keys and commands
a user types must change the daemon's state, checked through the docker SDK.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tests import services
from tests.ui.conftest import make_app, unique, wait_daemon, wait_for

COMPOSE = """\
version: "2.4"
services:
  web:
    image: {image}
    command: ["sleep", "3600"]
    init: true
    stop_grace_period: 1s
  worker:
    image: {image}
    command: ["sleep", "3600"]
    init: true
    stop_grace_period: 1s
"""


def _compose(project_dir: Path, project: str, *args: str) -> None:
    env = {**os.environ, "DOCKER_HOST": services.docker_host()}
    subprocess.run(["docker-compose", "-p", project, "-f", str(project_dir / "docker-compose.yml"), *args],
                   check=True, env=env, capture_output=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    services.docker_host()
    name = unique("tt-cui").replace("-", "")
    (tmp_path / "docker-compose.yml").write_text(COMPOSE.format(image=services.test_image()))
    _compose(tmp_path, name, "up", "-d")
    yield name, tmp_path
    _compose(tmp_path, name, "down", "-t", "1")


def _states(api: Any, project: str) -> dict[str, str]:
    found = api.containers(all=True, filters={"label": f"com.docker.compose.project={project}"})
    return {c["Labels"]["com.docker.compose.service"]: c["State"] for c in found}


async def test_projects_screen_stop_start_and_services(docker_endpoint: Any, docker_api: Any,
                                                       project: tuple[str, Path]) -> None:
    """`:compose` lists the project (2/2 running, its compose file); `x` stops it, `s` starts it again
    (docker-compose runs; the daemon is checked), Enter opens its services and `r` restarts one service."""
    name, directory = project
    app = make_app([DockerRuntime(docker_endpoint)], command="compose")
    async with app.run_test(size=(150, 32)) as pilot:
        await wait_for(lambda: app.screen.screen_key == "compose"
                       and any(r.name == name for r in app.screen.store.rows.values()), pilot, timeout=20)
        row = next(r for r in app.screen.store.rows.values() if r.name == name)
        assert (row.running, row.total) == (2, 2)
        assert str(directory / "docker-compose.yml") in row.config_files and not row.files_missing
        await pilot.press("slash", *name, "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None, pilot)
        projects = app.screen
        await pilot.press("x")
        await wait_daemon(lambda: set(_states(docker_api, name).values()) == {"exited"}, timeout=60)
        await wait_for(lambda: projects.table.cursor_row.running == 0, pilot, timeout=20)
        await wait_for(lambda: "compose stop" in app.last_result and "done" in app.last_result, pilot, timeout=30)
        assert app.screen.__class__.__name__ == "CommandOutputScreen"
        assert any("Stopping" in e.text for e in app.output_jobs[-1].lines)  # docker-compose's own output
        # the output panel was opened for the command; go back to the list
        while app.screen.__class__.__name__ == "CommandOutputScreen":
            await pilot.press("escape")
        await pilot.press("s")
        await wait_daemon(lambda: set(_states(docker_api, name).values()) == {"running"}, timeout=60)
        while app.screen.__class__.__name__ == "CommandOutputScreen":
            await wait_for(lambda: "compose start" in app.last_result, pilot, timeout=30)
            await pilot.press("escape")
        await pilot.press("enter")
        await wait_for(lambda: app.screen.screen_key == f"compose:docker:{name}"
                       and len(app.screen.store) == 2, pilot, timeout=20)
        await pilot.press("slash", *"worker", "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None
                       and app.screen.table.cursor_row.name == "worker", pilot)
        started = docker_api.inspect_container(
            docker_api.containers(filters={"label": [f"com.docker.compose.project={name}",
                                                     "com.docker.compose.service=worker"]})[0]["Id"])["State"][
            "StartedAt"]
        await pilot.press("r")
        await wait_for(lambda: "compose restart" in app.last_result, pilot, timeout=60)

        def restarted() -> bool:
            ids = docker_api.containers(filters={"label": [f"com.docker.compose.project={name}",
                                                           "com.docker.compose.service=worker"]})
            return bool(ids) and docker_api.inspect_container(ids[0]["Id"])["State"]["StartedAt"] != started

        await wait_daemon(restarted, timeout=30)


async def test_down_confirms_and_readonly_blocks(docker_endpoint: Any, docker_api: Any,
                                                 project: tuple[str, Path]) -> None:
    """`compose down` asks first (cancel keeps everything); under --readonly it is refused before anything
    runs; confirmed, the project's containers are gone."""
    name, _ = project
    ro = make_app([DockerRuntime(docker_endpoint)], readonly=True)
    async with ro.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"compose down {name}", "enter")
        await wait_for(lambda: "read-only" in ro.last_result, pilot, timeout=20)
    assert len(_states(docker_api, name)) == 2
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"compose down {name}", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("escape")
        await wait_for(lambda: app.last_result == "cancelled", pilot)
        assert len(_states(docker_api, name)) == 2
        await pilot.press("colon", *f"compose down {name}", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("y")
        await wait_daemon(lambda: not _states(docker_api, name), timeout=60)


async def test_unknown_project_is_a_clear_error(docker_endpoint: Any) -> None:
    """A project that does not exist is named in the error; no panel opens."""
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *"compose up no-such-project-xyz", "enter")
        await wait_for(lambda: "no-such-project-xyz" in app.last_result, pilot, timeout=20)
        assert app.screen.__class__.__name__ != "CommandOutputScreen"
