"""Fixtures for the pods/Quadlet/kube tests: the real Podman service, a unique name prefix, cleanup.

Every object a test creates is named ``tt-pod-<random>...`` (and labelled ``tamer.test=<prefix>`` where
the API allows it); the ``rt`` fixture removes all of them afterwards - pods (with their containers),
containers and volumes - through the raw API, so a failing test leaves nothing on the shared service.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_pods import PodmanPods
from tamer_tui.core.podman_runtime import PodmanRuntime, build_create_body
from tests import services


@pytest.fixture
def prefix() -> str:
    return f"tt-pod-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def endpoint() -> RuntimeEndpoint:
    return RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "TAMER_TEST_PODMAN_URL")


def sweep(api: Any, prefix: str) -> None:
    """Force-remove every pod, container and volume whose name starts with ``prefix`` (or labelled so)."""
    label_filter = {"filters": json.dumps({"label": [f"tamer.test={prefix}"]})}
    for item in api.get("/pods/json").json() or []:
        if str(item.get("Name", "")).startswith(prefix) or (item.get("Labels") or {}).get("tamer.test") == prefix:
            api.delete(f"/pods/{item['Id']}", params={"force": "true", "t": 0})
    containers = api.get("/containers/json", params={"all": "true"}).json() or []
    labelled = {c["Id"] for c in api.get("/containers/json", params={"all": "true", **label_filter}).json() or []}
    for item in containers:
        names = item.get("Names") or []
        if item["Id"] in labelled or any(str(n).startswith(prefix) for n in names):
            api.delete(f"/containers/{item['Id']}", params={"force": "true", "timeout": 0})
    for item in api.get("/volumes/json").json() or []:
        if str(item.get("Name", "")).startswith(prefix):
            api.delete(f"/volumes/{item['Name']}", params={"force": "true"})


@pytest.fixture
def api(endpoint: RuntimeEndpoint, prefix: str) -> Iterator[Any]:
    """podman-py's raw API client (setup helpers and the cleanup sweep)."""
    from podman import PodmanClient

    client = PodmanClient(base_url=endpoint.url)
    yield client.api
    sweep(client.api, prefix)
    client.close()


@pytest.fixture
async def rt(endpoint: RuntimeEndpoint, api: Any) -> AsyncIterator[PodmanRuntime]:
    runtime = PodmanRuntime(endpoint)
    await runtime.connect()
    yield runtime
    await runtime.close()


@pytest.fixture
def pods(rt: PodmanRuntime) -> PodmanPods:
    return PodmanPods(rt)


async def make_container(
    rt: PodmanRuntime,
    prefix: str,
    name: str,
    *,
    pod: str = "",
    command: tuple[str, ...] = ("sleep", "3600"),
    stop_timeout: int = 1,
    **extra: Any,
) -> str:
    """Create (not start) ``<prefix>-<name>`` on the test image; ``extra`` goes into the SpecGenerator body."""
    spec = ContainerSpec(
        image=services.test_image(),
        name=f"{prefix}-{name}",
        command=command,
        labels=(("tamer.test", prefix),),
    )
    body = build_create_body(spec, pod)
    body["stop_timeout"] = stop_timeout  # sleep as PID 1 ignores SIGTERM: do not wait 10 s for it
    body.update(extra)
    data = await rt._acall("POST", "/containers/create", f"container '{spec.name}'", body=body)
    return str(data["Id"])
