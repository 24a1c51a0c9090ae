"""Fixtures for the Docker runtime tests: the real daemon, a unique label, and cleanup."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tests import services


@pytest.fixture
def label() -> str:
    return f"tamer-dk-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def endpoint() -> RuntimeEndpoint:
    return RuntimeEndpoint(RuntimeKind.DOCKER, "docker", services.docker_host(), "test")


@pytest.fixture
def api(endpoint: RuntimeEndpoint, label: str) -> Iterator[Any]:
    import docker

    client = docker.APIClient(base_url=endpoint.url, version="auto")
    yield client
    for c in client.containers(all=True, filters={"label": f"tamer.test={label}"}):
        client.remove_container(c["Id"], force=True)
    for v in (client.volumes(filters={"label": f"tamer.test={label}"}) or {}).get("Volumes") or []:
        client.remove_volume(v["Name"], force=True)
    client.close()


@pytest.fixture
async def rt(endpoint: RuntimeEndpoint, api: Any) -> AsyncIterator[DockerRuntime]:
    runtime = DockerRuntime(endpoint)
    await runtime.connect()
    yield runtime
    await runtime.close()


def spec(label: str, name: str = "", command: tuple[str, ...] = ("sleep", "600"), **kw: Any) -> ContainerSpec:
    return ContainerSpec(image=services.test_image(), name=name or f"{label}-{uuid.uuid4().hex[:4]}",
                         command=command, labels=(("tamer.test", label),), **kw)
