"""Smoke test: the real services the test suite relies on are up and usable.

scripts/test-all.sh starts them (scripts/start-services.sh, scripts/build-test-image.sh,
scripts/install-helm.sh) and exports where they are (scripts/test-env.sh). On a developer machine
without them these tests skip; under TAMER_REQUIRE_SERVICES=1 (CI) they fail instead.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import docker
import podman
import pytest

from tests import services


def _run(argv: list[str]) -> str:
    """Run a binary with a short timeout and return its stdout (fails the test on error)."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}: {proc.stderr.strip()}"
    return proc.stdout


@pytest.fixture
def docker_client() -> Iterator[docker.DockerClient]:
    """A Docker SDK client for TAMER_TEST_DOCKER_HOST."""
    client = docker.DockerClient(base_url=services.docker_host(), timeout=30)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def podman_client() -> Iterator[podman.PodmanClient]:
    """A podman-py client for TAMER_TEST_PODMAN_URL."""
    client = podman.PodmanClient(base_url=services.podman_url(), timeout=30)
    try:
        yield client
    finally:
        client.close()


@pytest.mark.docker
def test_docker_answers_and_has_test_image(docker_client: docker.DockerClient) -> None:
    """Docker answers /_ping at TAMER_TEST_DOCKER_HOST and holds TAMER_TEST_IMAGE under that tag."""
    assert docker_client.ping() is True
    image = docker_client.images.get(services.test_image())
    assert services.test_image() in image.tags


@pytest.mark.docker
def test_docker_runs_a_container_from_test_image(docker_client: docker.DockerClient) -> None:
    """Docker can create, run and remove a container of the test image and return its output."""
    out = docker_client.containers.run(services.test_image(), ["echo", "ok"], remove=True)
    assert out == b"ok\n"


@pytest.mark.podman
def test_podman_answers_and_has_test_image(podman_client: podman.PodmanClient) -> None:
    """Podman answers /_ping at TAMER_TEST_PODMAN_URL and resolves TAMER_TEST_IMAGE locally."""
    assert podman_client.ping() is True
    assert podman_client.images.exists(services.test_image())
    image = podman_client.images.get(services.test_image())
    assert any(tag.endswith(services.test_image()) for tag in image.tags), image.tags


@pytest.mark.podman
def test_podman_runs_a_container_from_test_image(podman_client: podman.PodmanClient) -> None:
    """Podman can create, start, wait for, read the logs of and remove a test-image container."""
    container = podman_client.containers.create(services.test_image(), command=["echo", "ok"])
    try:
        container.start()
        assert container.wait() == 0
        logs = container.logs(stdout=True, stderr=False)
        assert (logs if isinstance(logs, bytes) else b"".join(logs)) == b"ok\n"
    finally:
        container.remove(force=True)


@pytest.mark.helm
def test_helm_runs() -> None:
    """The helm binary at TAMER_HELM_BIN (or on PATH) runs and reports a v3 or later client version."""
    out = _run([services.helm_bin(), "version", "--short"])
    match = re.match(r"v(\d+)\.\d+\.\d+", out.strip())
    assert match, out
    assert int(match.group(1)) >= 3


@pytest.mark.kubectl
def test_kubectl_runs() -> None:
    """The kubectl binary at TAMER_KUBECTL_BIN (or on PATH) runs `version --client` offline."""
    out = _run([services.kubectl_bin(), "version", "--client"])
    assert re.search(r"Client Version: v1\.\d+\.\d+", out), out
