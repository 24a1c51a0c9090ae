"""Fixtures for the build/push/disk-usage tests: real Docker and Podman runtimes, a unique prefix per
test, and a sweep that removes everything the test made.

Every image a test builds is tagged ``tt-build-<random>...`` (or pushed as
``127.0.0.1:5000/tt-build-<random>/...``), every container carries ``tamer.test=<prefix>``; the
intermediate images a build leaves behind (failed or multi-stage builds) are recorded from the build
output and removed when they are dangling. The loopback registry cannot delete repositories, so the
pushed ``tt-build-*`` repositories stay there (a few hundred bytes each: the layers are shared).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tamer_tui.core.builds import BuildEvent, BuildSpec, build_image
from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tamer_tui.core.runtime import ContainerRuntime
from tests import services

_LAYER_RE = re.compile(r"^\s*-+>\s*([0-9a-f]{11,64})\s*$")


@dataclass
class Made:
    """What one test created, so the sweep removes exactly that."""

    prefix: str
    image_ids: set[str] = field(default_factory=set)

    def record(self, events: list[BuildEvent]) -> None:
        for event in events:
            m = _LAYER_RE.match(event.text)
            if m:
                self.image_ids.add(m.group(1))
            if event.image_id:
                self.image_ids.add(event.image_id)


@pytest.fixture
def made() -> Made:
    return Made(prefix=f"tt-build-{uuid.uuid4().hex[:8]}")


def busybox() -> str:
    return services.test_image()


def _sweep_docker(api: Any, made: Made) -> None:
    label = {"label": f"tamer.test={made.prefix}"}
    for c in api.containers(all=True, filters=label):
        with contextlib.suppress(Exception):
            api.remove_container(c["Id"], force=True)
    for v in (api.volumes(filters=label) or {}).get("Volumes") or ():
        with contextlib.suppress(Exception):
            api.remove_volume(v["Name"], force=True)
    for n in api.networks(filters=label):
        with contextlib.suppress(Exception):
            api.remove_network(n["Id"])
    for image in api.images(all=True):
        for tag in image.get("RepoTags") or ():
            if made.prefix in tag:
                with contextlib.suppress(Exception):
                    api.remove_image(tag, force=True)
    for _ in range(3):  # children first: repeat while something goes away
        removed = False
        for ident in sorted(made.image_ids):
            with contextlib.suppress(Exception):
                info = api.inspect_image(ident)
                if not info.get("RepoTags"):
                    api.remove_image(info["Id"])
                    removed = True
        if not removed:
            break


def _sweep_podman(api: Any, made: Made) -> None:
    flt = {"filters": json.dumps({"label": [f"tamer.test={made.prefix}"]})}
    for c in api.get("/containers/json", params={"all": "true", **flt}).json() or ():
        api.delete(f"/containers/{c['Id']}", params={"force": "true", "timeout": 0})
    for v in api.get("/volumes/json", params=flt).json() or ():
        api.delete(f"/volumes/{v['Name']}", params={"force": "true"})
    for n in api.get("/networks/json", params=flt).json() or ():
        api.delete(f"/networks/{n['name']}", params={"force": "true"})
    for image in api.get("/images/json", params={"all": "true"}).json() or ():
        for tag in image.get("Names") or image.get("RepoTags") or ():
            if made.prefix in tag:
                api.delete(f"/images/{tag}", params={"force": "true"})
    for _ in range(3):
        removed = False
        for ident in sorted(made.image_ids):
            res = api.get(f"/images/{ident}/json")
            if res.status_code == 200 and not (res.json().get("RepoTags") or []):
                removed = api.delete(f"/images/{res.json()['Id']}").status_code == 200 or removed
        if not removed:
            break


@pytest.fixture
def docker_api(made: Made) -> Iterator[Any]:
    """The docker SDK's APIClient on the test daemon (setup helpers and the sweep)."""
    import docker

    client = docker.APIClient(base_url=services.docker_host(), version="auto")
    yield client
    _sweep_docker(client, made)
    client.close()


@pytest.fixture
def podman_api(made: Made) -> Iterator[Any]:
    """podman-py's raw API client on the test service (the sweep)."""
    from podman import PodmanClient

    client = PodmanClient(base_url=services.podman_url())
    yield client.api
    _sweep_podman(client.api, made)
    client.close()


@pytest.fixture
async def docker_rt(docker_api: Any) -> AsyncIterator[DockerRuntime]:
    runtime = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", services.docker_host(), "test"))
    await runtime.connect()
    yield runtime
    await runtime.close()


@pytest.fixture
async def podman_rt(podman_api: Any) -> AsyncIterator[PodmanRuntime]:
    runtime = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "test"))
    await runtime.connect()
    yield runtime
    await runtime.close()


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest, made: Made) -> ContainerRuntime:
    """Each test using it runs once against Docker and once against Podman."""
    runtime: ContainerRuntime = request.getfixturevalue("docker_rt" if request.param == "docker" else "podman_rt")
    return runtime


async def build(runtime: ContainerRuntime, spec: BuildSpec, made: Made) -> list[tuple[float, BuildEvent]]:
    """Run a build to its end; every event with the monotonic time it arrived (recorded for the sweep)."""
    timed: list[tuple[float, BuildEvent]] = []
    try:
        async for event in build_image(runtime, spec):
            timed.append((time.monotonic(), event))
    finally:
        made.record([e for _, e in timed])
    return timed


async def run_in(runtime: ContainerRuntime, image: str, made: Made, argv: list[str]) -> str:
    """The output of ``argv`` run in a throw-away container of ``image``."""
    spec = ContainerSpec(
        image=image,
        name=f"{made.prefix}-run-{uuid.uuid4().hex[:4]}",
        command=("sleep", "60"),
        labels=(("tamer.test", made.prefix),),
    )
    ident = await runtime.create_container(spec)
    try:
        await runtime.start_container(ident)
        result = await runtime.exec_run(ident, argv)
        return result.output
    finally:
        await runtime.remove_container(ident, force=True)


def context_dir(tmp_path: Any, dockerfile: str, name: str = "Dockerfile", files: dict[str, str] | None = None) -> str:
    """A build context in ``tmp_path/ctx`` with the given Dockerfile (and extra files)."""
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / name).write_text(dockerfile, encoding="utf-8")
    for rel, text in (files or {}).items():
        path = ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return str(ctx)
