"""WSL hosts with a stand-in wsl.exe that SIMULATES Windows' wsl.exe (see ``WSL_SCRIPT`` in conftest.py).

The stand-in, put first on PATH, lists the distros ``Debian``, ``Ubuntu-22.04`` and
``docker-desktop`` in UTF-16LE (as the real wsl.exe does) and runs ``-d D -- COMMAND`` through
``sh -c`` on this machine with DOCKER_HOST/CONTAINER_HOST pointing at the test services. Debian has
docker and podman, Ubuntu-22.04 has neither. So this proves Tamer's side: distro listing and
decoding, engine probing, the ``wsl.exe -d D -- docker|podman system dial-stdio`` transport for both
SDKs, and probing; not WSL itself.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.hosts import HostEntry, WslProbe, decode_wsl_output, list_hosts, probe_all
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.hosts.conftest import FakeWsl, install_fake_wsl

DOCKER, PODMAN = RuntimeKind.DOCKER, RuntimeKind.PODMAN


def test_decoding_wsl_listing() -> None:
    """`wsl -l -q` output decodes from UTF-16LE (BOM or not, NUL-padded) and from UTF-8 (WSL_UTF8=1)."""
    names = "Debian\r\nUbuntu-22.04\r\n"
    for data in (names.encode("utf-16-le"), b"\xff\xfe" + names.encode("utf-16-le"), names.encode("utf-8")):
        assert decode_wsl_output(data).split() == ["Debian", "Ubuntu-22.04"]


def test_probe_lists_distros_and_engines(fake_wsl: FakeWsl) -> None:
    """WslProbe.find() picks wsl.exe from PATH; distros come from -l -q; each engine is probed once per distro."""
    wsl = WslProbe.find()
    assert wsl is not None and Path(wsl.exe) == fake_wsl.exe
    assert wsl.list_distros() == ["Debian", "Ubuntu-22.04"]  # docker-desktop is Docker Desktop's own
    entries = wsl.entries()
    assert [(e.name, e.kind, e.url, e.transport, e.source, e.current) for e in entries] == [
        ("docker@wsl-Debian", DOCKER, "wsl://Debian", "wsl", "wsl distro Debian", False),
        ("podman@wsl-Debian", PODMAN, "wsl://Debian", "wsl", "wsl distro Debian", False),
    ]
    assert entries[0].description.startswith("docker ") and entries[1].description.startswith("podman ")
    version_calls = [c for c in fake_wsl.calls() if "version" in c]
    assert sorted((c[1], c[3]) for c in version_calls) == [
        ("Debian", "docker"), ("Debian", "podman"), ("Ubuntu-22.04", "docker"), ("Ubuntu-22.04", "podman")]


def test_list_hosts_includes_the_wsl_engines(fake_wsl: FakeWsl, tmp_path: Path) -> None:
    """list_hosts() (WSL found on PATH) lists the Debian engines after the detected endpoints."""
    env = {"PATH": str(fake_wsl.directory), "DOCKER_HOST": services.docker_host(), "HOME": str(tmp_path)}
    hosts = list_hosts(env, tmp_path, probe_exists=lambda _p: False, system_dirs=[])
    assert [(h.name, h.url) for h in hosts] == [
        ("docker", services.docker_host()),
        ("docker@wsl-Debian", "wsl://Debian"),
        ("podman@wsl-Debian", "wsl://Debian"),
    ]
    assert list_hosts(env, tmp_path, probe_exists=lambda _p: False, system_dirs=[], find_wsl=False)[1:] == []


def test_a_broken_wsl_is_a_note_not_a_crash(tmp_path: Path) -> None:
    """A wsl.exe that fails or hangs yields no hosts and a note, within its timeout."""
    fake = install_fake_wsl(tmp_path / "broken", {})
    fake.exe.write_text("#!/bin/sh\necho 'WSL is not installed' >&2\nexit 1\n", encoding="utf-8")
    wsl = WslProbe(str(fake.exe))
    assert wsl.entries() == [] and "WSL is not installed" in wsl.notes[0]
    notes: list[str] = []
    hosts = list_hosts({"HOME": str(tmp_path)}, tmp_path, wsl=WslProbe(str(fake.exe)), notes=notes,
                       probe_exists=lambda _p: False, system_dirs=[])
    assert hosts == [] and any("wsl.exe -l -q failed (1): WSL is not installed" in n for n in notes), notes
    fake.exe.write_text("#!/bin/sh\nexec sleep 20\n", encoding="utf-8")
    slow = WslProbe(str(fake.exe), timeout=0.5)
    assert slow.list_distros() == [] and "no answer within" in slow.notes[0]


@pytest.fixture
def containers() -> Iterator[tuple[str, str]]:
    """One Docker and one Podman container created through the local sockets (removed afterwards)."""
    name = f"tt-hosts-wsl-{uuid.uuid4().hex[:8]}"
    api = docker.APIClient(base_url=services.docker_host(), version="auto")
    api.create_container(services.test_image(), ["sleep", "60"], name=name, labels={"tamer.test": name})
    podman_url = services.podman_url()
    subprocess.run(["podman", "--url", podman_url, "create", "--name", name, "--label", f"tamer.test={name}",
                    services.test_image(), "sleep", "60"], check=True, capture_output=True, timeout=60)
    yield name, name
    api.remove_container(name, force=True)
    api.close()
    subprocess.run(["podman", "--url", podman_url, "rm", "-f", name], capture_output=True, timeout=60)


async def test_docker_and_podman_runtimes_on_wsl_debian(fake_wsl: FakeWsl, containers: tuple[str, str]) -> None:
    """DockerRuntime and PodmanRuntime on wsl://Debian list the containers made through the local sockets."""
    docker_name, podman_name = containers
    runtime = DockerRuntime(RuntimeEndpoint(DOCKER, "docker@wsl-Debian", "wsl://Debian", "wsl distro Debian"))
    try:
        info = await runtime.connect()
        assert info.version
        assert docker_name in {r.name for r in await runtime.list_containers(all=True)}
    finally:
        await runtime.close()
    podman = PodmanRuntime(RuntimeEndpoint(PODMAN, "podman@wsl-Debian", "wsl://Debian", "wsl distro Debian"))
    try:
        info = await podman.connect()
        assert info.version
        assert podman_name in {r.name for r in await podman.list_containers(all=True)}
    finally:
        await podman.close()
    dial_calls = [c for c in fake_wsl.calls() if c[-2:] == ["system", "dial-stdio"]]
    assert ["-d", "Debian", "--", "docker", "system", "dial-stdio"] in dial_calls
    assert ["-d", "Debian", "--", "podman", "system", "dial-stdio"] in dial_calls


async def test_probe_all_over_wsl(fake_wsl: FakeWsl) -> None:
    """probe_all: both Debian engines reachable; an unknown distro is unreachable with wsl.exe's own message."""
    entries = WslProbe.find().entries()  # type: ignore[union-attr]
    entries.append(HostEntry("docker@wsl-Nope", DOCKER, "wsl://Nope", "wsl", "wsl distro Nope", False))
    entries.append(HostEntry("docker@wsl-Ubuntu", DOCKER, "wsl://Ubuntu-22.04", "wsl", "wsl distro Ubuntu", False))
    statuses = await probe_all(entries, timeout=10)
    assert [(s.name, s.reachable) for s in statuses] == [
        ("docker@wsl-Debian", True), ("podman@wsl-Debian", True), ("docker@wsl-Nope", False),
        ("docker@wsl-Ubuntu", False)]
    assert statuses[0].version and statuses[1].version
    assert statuses[2].error == ("wsl Nope (docker) failed (exit code 255): "
                                 "There is no distribution with the supplied name."), statuses[2].error
    assert statuses[3].error == "wsl Ubuntu-22.04 (docker) failed (exit code 127): sh: 1: docker: not found"
