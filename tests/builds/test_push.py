"""Pushes to the loopback registry (tests.services.registry(), plain HTTP on 127.0.0.1) with progress,
pulling the image back, and the errors of refused pushes - on Docker and on Podman."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tamer_tui.core.builds import BuildSpec, push_image
from tamer_tui.core.errors import BackendError, NotFound
from tamer_tui.core.models import PullProgress, RuntimeKind
from tamer_tui.core.registry_auth import RegistryAuth
from tamer_tui.core.runtime import ContainerRuntime
from tests import services
from tests.builds.conftest import Made, build, busybox, context_dir, run_in


async def _unique_image(engine: ContainerRuntime, made: Made, tmp_path: Path, ref: str) -> None:
    ctx = context_dir(tmp_path, f"FROM {busybox()}\nRUN echo {made.prefix} > /id\n")
    await build(engine, BuildSpec(context=ctx, tags=(ref,), labels=(("tamer.test", made.prefix),)), made)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but never listening: connections are refused and nobody else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def test_push_with_progress_then_pull_back(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """A built image is pushed with progress rows, removed locally, pulled back and still has its content."""
    ref = f"{services.registry()}/{made.prefix}/img:v1"
    await _unique_image(engine, made, tmp_path, ref)
    progress: list[PullProgress] = [p async for p in push_image(engine, ref)]
    statuses = [p.status for p in progress]
    assert statuses[-1] == f"Pushed {ref}"
    if engine.kind == RuntimeKind.DOCKER:
        assert any(s == "Pushed" for s in statuses) and any("digest: sha256:" in s for s in statuses)
        assert any(p.layer for p in progress)
    else:
        assert any(s.startswith("Copying blob") for s in statuses) and "Writing manifest to image destination" in statuses
        assert any(p.layer for p in progress)
    await engine.remove_image(ref)
    assert not any(ref in row.tags for row in await engine.list_images())
    pulled = [p async for p in engine.pull_image(ref)]
    assert pulled
    assert (await run_in(engine, ref, made, ["cat", "/id"])).strip() == made.prefix


async def test_push_with_credentials_and_explicit_tls_off(engine: ContainerRuntime, made: Made, tmp_path: Path) -> None:
    """Credentials travel in X-Registry-Auth (the open test registry accepts them); tls_verify=False works on both."""
    ref = f"{services.registry()}/{made.prefix}/auth:v1"
    await _unique_image(engine, made, tmp_path, ref)
    auth = RegistryAuth(services.registry(), "tamer", "not-checked-by-this-registry", "keyring")
    progress = [p async for p in push_image(engine, ref, auth, tls_verify=False)]
    assert progress[-1].status == f"Pushed {ref}"
    assert not any("not-checked-by-this-registry" in repr(p) for p in progress)


async def test_push_of_a_missing_image_is_not_found(engine: ContainerRuntime, made: Made) -> None:
    """Pushing a name with no local image raises NotFound with a clear message."""
    ref = f"{services.registry()}/{made.prefix}/never-built:v1"
    with pytest.raises(NotFound, match="no local image"):
        async for _ in push_image(engine, ref):
            pass


async def test_push_to_an_unreachable_registry(
    engine: ContainerRuntime, made: Made, tmp_path: Path, closed_port: int
) -> None:
    """A registry nobody listens on gives a BackendError that names it as unknown or unreachable."""
    port = closed_port
    ref = f"127.0.0.1:{port}/{made.prefix}/img:v1"
    await _unique_image(engine, made, tmp_path, ref)
    with pytest.raises(BackendError, match=f"registry 127.0.0.1:{port} is unknown or unreachable"):
        async for _ in push_image(engine, ref):
            pass


def test_a_port_number_is_not_an_http_status() -> None:
    """A refused connection to a port whose digits contain 401/403 is "unreachable", not "denied";
    a real 401 still reads as denied."""
    from tamer_tui.core.builds import push_error
    from tamer_tui.core.errors import PermissionDenied

    refused = push_error("127.0.0.1:34017/x/img:v1", 'Get "https://127.0.0.1:34017/v2/": dial tcp 127.0.0.1:34017: '
                         "connect: connection refused")
    assert not isinstance(refused, PermissionDenied) and "unreachable" in str(refused)
    denied = push_error("127.0.0.1:5000/x/img:v1", "received unexpected HTTP status: 401 Unauthorized")
    assert isinstance(denied, PermissionDenied)
    status_only = push_error("127.0.0.1:5000/x/img:v1", "unexpected status 403 from registry")
    assert isinstance(status_only, PermissionDenied)
