"""Fixtures for the compose tests: connected Docker/Podman runtimes, a unique project name, compose files
written into ``tmp_path``, and a teardown that always takes the project down.

Every project is called ``tt-compose-<random>``. Teardown runs ``down`` with the tool and then sweeps
what is left through the engine's API by the project label (containers, networks) and removes the
images a ``build`` test tagged ``tt-compose-<random>-*``: nothing is pruned globally.
Services never pull: they use the local test image (``pull_policy: never``) or build ``FROM`` it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.compose import ComposeProject, OutputLine, group_projects
from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tamer_tui.core.runtime import ContainerRuntime
from tests import services

DATA = Path(__file__).parent / "data"

# sh as PID 1 ignores SIGTERM unless it traps it: with the trap a stop takes milliseconds, not 10 s
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def service_yaml(name: str, command: list[str] | None = None, extra: str = "") -> str:
    """One service on the local test image that never pulls."""
    return (f"  {name}:\n    image: {services.test_image()}\n    pull_policy: never\n"
            f"    command: {json.dumps(command or SLEEPER)}\n" + extra)


def write_compose(directory: Path, *service_names: str, filename: str = "docker-compose.yml",
                  version: str = '"2.4"') -> Path:
    """A compose file with the given sleeping services (``version: 2.4`` suits docker-compose v1,
    which knows ``pull_policy`` from file format 2.4 on)."""
    directory.mkdir(parents=True, exist_ok=True)
    body = (f"version: {version}\n" if version else "") + "services:\n"
    body += "".join(service_yaml(n) for n in service_names)
    path = directory / filename
    path.write_text(body)
    return path


@pytest.fixture
def project_name() -> str:
    return f"tt-compose-{uuid.uuid4().hex[:8]}"


@dataclass
class Engine:
    """A connected runtime plus the raw client used by teardown sweeps."""

    runtime: ContainerRuntime
    kind: RuntimeKind

    async def projects(self) -> list[ComposeProject]:
        return group_projects(await self.runtime.list_containers(all=True))

    async def project(self, name: str) -> ComposeProject:
        for p in await self.projects():
            if p.name == name:
                return p
        raise AssertionError(f"no project {name} on {self.runtime.name}")

    async def states(self, name: str) -> dict[str, str]:
        """service -> state of the project, freshly listed."""
        try:
            project = await self.project(name)
        except AssertionError:
            return {}
        return {s.name: s.state for s in project.services}


def _sweep_docker(url: str, project: str) -> None:
    import docker

    api = docker.APIClient(base_url=url, version="auto")
    try:
        label = f"com.docker.compose.project={project}"
        for c in api.containers(all=True, filters={"label": label}):
            with contextlib.suppress(Exception):
                api.remove_container(c["Id"], force=True)
        for n in api.networks(filters={"label": label}):
            with contextlib.suppress(Exception):
                api.remove_network(n["Id"])
        for img in api.images():
            if any(t.startswith(project) for t in img.get("RepoTags") or []):
                with contextlib.suppress(Exception):
                    api.remove_image(img["Id"], force=True)
    finally:
        api.close()


def _sweep_podman(url: str, project: str) -> None:
    from podman import PodmanClient

    client = PodmanClient(base_url=url)
    api = client.api
    try:
        for label in (f"io.podman.compose.project={project}", f"com.docker.compose.project={project}"):
            filters = {"filters": json.dumps({"label": [label]})}
            for c in api.get("/containers/json", params={"all": "true", **filters}).json() or []:
                api.delete(f"/containers/{c['Id']}", params={"force": "true", "timeout": 0})
            for n in api.get("/networks/json", params=filters).json() or []:
                api.delete(f"/networks/{n['name']}", params={"force": "true"})
        for img in api.get("/images/json").json() or []:
            if any(t.startswith(f"localhost/{project}") for t in img.get("RepoTags") or []):
                api.delete(f"/images/{img['Id']}", params={"force": "true"})
    finally:
        client.close()


@pytest.fixture
async def docker_engine(project_name: str) -> AsyncIterator[Engine]:
    url = services.docker_host()
    runtime = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", url, "test"))
    await runtime.connect()
    try:
        yield Engine(runtime, RuntimeKind.DOCKER)
    finally:
        await runtime.close()
        _sweep_docker(url, project_name)


@pytest.fixture
async def podman_engine(project_name: str) -> AsyncIterator[Engine]:
    url = services.podman_url()
    runtime = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", url, "TAMER_TEST_PODMAN_URL"))
    await runtime.connect()
    try:
        yield Engine(runtime, RuntimeKind.PODMAN)
    finally:
        await runtime.close()
        _sweep_podman(url, project_name)


@pytest.fixture
def compose_down(project_name: str) -> Iterator[list[tuple[list[str], dict[str, str], str]]]:
    """Commands registered here (argv, env, cwd) run at teardown, before the API sweep (``down``)."""
    todo: list[tuple[list[str], dict[str, str], str]] = []
    yield todo
    for argv, env, cwd in todo:
        if os.path.isdir(cwd):
            subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120, check=False)


async def collect(lines: AsyncIterator[OutputLine]) -> list[OutputLine]:
    """Every line of an action (raising what it raises)."""
    out: list[OutputLine] = []
    async for line in lines:
        out.append(line)
    return out


def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def need_tool(name: str) -> str:
    """The path of an installed compose tool; skipped without it, failed under TAMER_REQUIRE_SERVICES=1."""
    import shutil

    path = shutil.which(name)
    if path:
        return path
    msg = f"{name} is not installed"
    if os.environ.get("TAMER_REQUIRE_SERVICES") == "1":
        pytest.fail(msg)
    pytest.skip(msg)
