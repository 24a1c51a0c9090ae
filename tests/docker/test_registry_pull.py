"""Real pulls with progress from the loopback registry (Debian's docker-registry on 127.0.0.1).

The test image is pushed to the registry with the docker SDK, the local copy of that reference is
removed, and Tamer pulls it back through Docker and through Podman.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tests import services


@pytest.fixture
def pushed_ref(api: Any) -> Any:
    repo = f"{services.registry()}/tamer/pull-{uuid.uuid4().hex[:6]}"
    api.tag(services.test_image(), repo, "v1")
    for line in api.push(repo, tag="v1", stream=True, decode=True):
        assert "error" not in line, line
    api.remove_image(f"{repo}:v1")
    yield f"{repo}:v1"
    for img in api.images(name=repo):
        for tag in img.get("RepoTags") or []:
            if tag.startswith(repo):
                api.remove_image(tag)  # by tag: the id is shared with the test image


async def test_docker_pull_with_progress(rt: DockerRuntime, api: Any, pushed_ref: str) -> None:
    """DockerRuntime.pull_image streams progress and the image is then present on the daemon."""
    statuses = [p.status async for p in rt.pull_image(pushed_ref)]
    assert statuses and any("Pull complete" in s or "Already exists" in s or "Downloaded" in s for s in statuses)
    assert any(pushed_ref in (i.get("RepoTags") or []) for i in api.images())


async def test_podman_pull(pushed_ref: str) -> None:
    """PodmanRuntime.pull_image pulls the same reference from the registry into Podman."""
    from tamer_tui.core.podman_runtime import PodmanRuntime

    rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "test"))
    await rt.connect()
    try:
        progress = [p async for p in rt.pull_image(pushed_ref)]
        assert progress
        rows = await rt.list_images()
        match = [r for r in rows if pushed_ref in r.tags]
        assert match
        await rt.remove_image(pushed_ref)
    finally:
        await rt.close()


async def test_pull_from_the_ui(docker_endpoint: Any, api: Any, pushed_ref: str) -> None:
    """`:pull REF` on the images screen pulls into Docker with its progress in the output panel, and the
    new image appears in the table."""
    from tests.ui.conftest import make_app, wait_daemon, wait_for

    app = make_app([DockerRuntime(docker_endpoint)], command="images")
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(lambda: type(app.screen).__name__ == "ImagesScreen", pilot)
        images = app.screen
        await pilot.press("colon", *f"pull docker:{pushed_ref}", "enter")
        await wait_daemon(lambda: any(pushed_ref in (i.get("RepoTags") or []) for i in api.images()), timeout=30)
        await wait_for(lambda: any(pushed_ref in r.tags for r in images.store.rows.values()), pilot)
        await wait_for(lambda: app.last_result.startswith("pulled"), pilot)
        assert type(app.screen).__name__ == "CommandOutputScreen"
        assert app.output_jobs[-1].state == "done" and app.output_jobs[-1].lines


@pytest.fixture
def docker_endpoint(endpoint: RuntimeEndpoint) -> RuntimeEndpoint:
    return endpoint
