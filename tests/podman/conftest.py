"""Fixtures for the Podman runtime tests: the real service, a unique label per test, and cleanup.

Everything a test creates carries the label ``tamer.test=<label>`` (or, for image tags, the
``localhost/<label>`` prefix) and is removed afterwards through podman-py's raw API client, so a
failing test leaves nothing behind on the shared service.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services


@pytest.fixture
def label() -> str:
    return f"tamer-pm-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def endpoint() -> RuntimeEndpoint:
    return RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "TAMER_TEST_PODMAN_URL")


def _filters(label: str) -> dict[str, str]:
    return {"filters": json.dumps({"label": [f"tamer.test={label}"]})}


def sweep(api: Any, label: str) -> None:
    """Remove every container, pod, network, volume and image a test labelled (or tagged) with ``label``."""
    for item in api.get("/containers/json", params={"all": "true", **_filters(label)}).json() or []:
        api.delete(f"/containers/{item['Id']}", params={"force": "true", "timeout": 0})
    for item in api.get("/pods/json", params=_filters(label)).json() or []:
        api.delete(f"/pods/{item['Id']}", params={"force": "true"})
    for item in api.get("/networks/json", params=_filters(label)).json() or []:
        api.delete(f"/networks/{item['name']}", params={"force": "true"})
    for item in api.get("/volumes/json", params=_filters(label)).json() or []:
        api.delete(f"/volumes/{item['Name']}", params={"force": "true"})
    for item in api.get("/images/json", params={"all": "true"}).json() or []:
        labels = item.get("Labels") or {}
        tags = item.get("RepoTags") or []
        if labels.get("tamer.test") == label:
            api.delete(f"/images/{item['Id']}", params={"force": "true"})
        else:
            for tag in tags:
                if tag.startswith(f"localhost/{label}"):
                    api.delete(f"/images/{tag}")


@pytest.fixture
def api(endpoint: RuntimeEndpoint, label: str) -> Iterator[Any]:
    """podman-py's raw API client on the test service (setup helpers and cleanup)."""
    from podman import PodmanClient

    client = PodmanClient(base_url=endpoint.url)
    yield client.api
    sweep(client.api, label)
    client.close()


@pytest.fixture
async def rt(endpoint: RuntimeEndpoint, api: Any) -> AsyncIterator[PodmanRuntime]:
    runtime = PodmanRuntime(endpoint)
    await runtime.connect()
    yield runtime
    await runtime.close()


def spec(label: str, name: str = "", command: tuple[str, ...] = ("sleep", "600"), **kw: Any) -> ContainerSpec:
    """A labelled container spec on the local test image."""
    return ContainerSpec(
        image=services.test_image(),
        name=name or f"{label}-{uuid.uuid4().hex[:4]}",
        command=command,
        labels=(("tamer.test", label),),
        **kw,
    )


def commit(api: Any, container: str, label: str, repo: str = "") -> str:
    """Commit ``container`` into a new image labelled ``tamer.test=<label>`` (dangling without repo)."""
    params = {"container": container, "changes": f"LABEL tamer.test={label}", "pause": "false"}
    if repo:
        params["repo"] = repo
        params["tag"] = "v1"
    response = api.post("/commit", params=params)
    assert response.status_code < 300, response.text
    return str(response.json()["Id"])
