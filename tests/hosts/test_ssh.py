"""ssh:// hosts against a REAL sshd (Debian's openssh-server) on 127.0.0.1, started by a module fixture.

The sshd's sessions get ``DOCKER_HOST``/``CONTAINER_HOST`` pointing at the test services (``SetEnv``),
so ``docker system dial-stdio`` / ``podman --url ... system dial-stdio`` run on the "remote" side reach
the same daemons the local socket reaches. The ssh client is told about the test keys through
``TAMER_SSH_CONFIG`` (an ssh_config in tmp), never through ``~/.ssh``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.errors import RuntimeUnavailable
from tamer_tui.core.hosts import HostEntry, host_from_endpoint, list_hosts, probe, probe_all
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.hosts.conftest import SshServer, socket_path_of, start_sshd

DOCKER, PODMAN = RuntimeKind.DOCKER, RuntimeKind.PODMAN


@pytest.fixture
def ssh_env(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> SshServer:
    """The ssh client uses the test ssh_config (with the test IdentityFile)."""
    monkeypatch.setenv("TAMER_SSH_CONFIG", str(sshd.ssh_config))
    return sshd


@pytest.fixture
def docker_container() -> Iterator[str]:
    """A container created through the LOCAL Docker socket (removed afterwards)."""
    api = docker.APIClient(base_url=services.docker_host(), version="auto")
    name = f"tt-hosts-ssh-{uuid.uuid4().hex[:8]}"
    api.create_container(services.test_image(), ["sleep", "60"], name=name, labels={"tamer.test": name})
    yield name
    api.remove_container(name, force=True)
    api.close()


@pytest.fixture
def podman_container() -> Iterator[str]:
    """A container created through the local Podman service socket (removed afterwards)."""
    url = services.podman_url()
    name = f"tt-hosts-ssh-{uuid.uuid4().hex[:8]}"
    subprocess.run(["podman", "--url", url, "create", "--name", name, "--label", f"tamer.test={name}",
                    services.test_image(), "sleep", "60"], check=True, capture_output=True, timeout=60)
    yield name
    subprocess.run(["podman", "--url", url, "rm", "-f", name], capture_output=True, timeout=60)


async def test_docker_over_ssh_sees_a_container_made_through_the_local_socket(
        ssh_env: SshServer, docker_container: str) -> None:
    """DockerRuntime on ssh://user@127.0.0.1:PORT connects and lists the container made locally."""
    runtime = DockerRuntime(RuntimeEndpoint(DOCKER, "docker@ssh", ssh_env.url(), "test"), timeout=15)
    try:
        info = await runtime.connect()
        assert info.version and info.url == ssh_env.url()
        rows = await runtime.list_containers(all=True)
        assert docker_container in {r.name for r in rows}
        data = await runtime.inspect_container(docker_container)
        assert data["Config"]["Labels"]["tamer.test"] == docker_container
    finally:
        await runtime.close()


async def test_exec_over_ssh_runs_in_the_container(ssh_env: SshServer, docker_container: str) -> None:
    """`:exec` on a container of an ssh:// host: the exec session travels over ssh too (stdout and the
    exit code come back), not over a direct socket to the remote URL."""
    from tamer_tui.core.exec import ExecTarget, run_command

    local = docker.APIClient(base_url=services.docker_host(), version="auto")
    local.start(docker_container)
    local.close()
    runtime = DockerRuntime(RuntimeEndpoint(DOCKER, "docker@ssh", ssh_env.url(), "test"), timeout=15)
    try:
        await runtime.connect()
        target = ExecTarget("container", f"container/docker@ssh:{docker_container}", runtime=runtime,
                            ident=docker_container)
        result = await run_command(target, ["sh", "-c", "echo over-ssh; exit 3"], timeout=30)
        assert result.stdout.strip() == "over-ssh" and result.exit_code == 3
    finally:
        await runtime.close()


async def test_probe_over_ssh_reports_version_and_latency(ssh_env: SshServer) -> None:
    """probe() on an ssh host: reachable, with the daemon's version, API version, OS and a ping latency."""
    entry = host_from_endpoint(RuntimeEndpoint(DOCKER, "docker@ssh", ssh_env.url(), "test"))
    assert entry.transport == "ssh"
    status = await probe(entry, timeout=10)
    assert status.reachable, status.error
    local = docker.APIClient(base_url=services.docker_host(), version="auto")
    try:
        assert status.version == local.version()["Version"]
    finally:
        local.close()
    assert status.api_version and status.os
    assert 0 < status.latency_ms < status.connect_ms


async def test_podman_over_ssh_uses_the_connections_identity(
        sshd: SshServer, podman_container: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A Podman 5 connection (URI with socket path + Identity) works over ssh without any IdentityFile in ssh_config."""
    monkeypatch.setenv("TAMER_SSH_CONFIG", str(sshd.bare_ssh_config))
    conns = tmp_path / "home" / ".config" / "containers" / "podman-connections.json"
    conns.parent.mkdir(parents=True)
    uri = sshd.url(socket_path_of(services.podman_url()))
    conns.write_text(json.dumps({"Connection": {"Default": "lab", "Connection": {
        "lab": {"URI": uri, "Identity": str(sshd.client_key)}}}}), encoding="utf-8")
    hosts = list_hosts({"HOME": str(tmp_path / "home")}, tmp_path / "home", find_wsl=False,
                       probe_exists=lambda _p: False, system_dirs=[])
    [entry] = hosts
    assert (entry.name, entry.kind, entry.url, entry.identity, entry.current) == (
        "podman", PODMAN, uri, str(sshd.client_key), True)
    runtime = PodmanRuntime(entry.endpoint())
    try:
        info = await runtime.connect()
        assert info.version
        assert podman_container in {r.name for r in await runtime.list_containers(all=True)}
    finally:
        await runtime.close()


async def test_without_a_usable_key_the_error_says_so(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """No identity anywhere: ssh's own 'Permission denied (publickey)' is the error, quickly."""
    monkeypatch.setenv("TAMER_SSH_CONFIG", str(sshd.bare_ssh_config))
    runtime = PodmanRuntime(RuntimeEndpoint(PODMAN, "podman@ssh", sshd.url("/run/podman/podman.sock"), "test"))
    started = time.monotonic()
    with pytest.raises(RuntimeUnavailable, match=r"ssh .*127\.0\.0\.1.* failed \(exit code 255\): .*Permission denied"):
        await runtime.connect()
    await runtime.close()
    assert time.monotonic() - started < 10


async def test_a_stopped_sshd_is_unreachable_with_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """probe() is reachable while a second sshd runs; after it stops: unreachable, 'Connection refused', fast."""
    server = start_sshd(tmp_path / "sshd2", services.docker_host(), services.podman_url())
    monkeypatch.setenv("TAMER_SSH_CONFIG", str(server.ssh_config))
    entries = [host_from_endpoint(RuntimeEndpoint(DOCKER, "docker@box", server.url(), "test")),
               host_from_endpoint(RuntimeEndpoint(PODMAN, "podman@box", server.url("/run/podman/podman.sock"), "t"))]
    try:
        before = await probe_all(entries, timeout=10)
        assert [s.reachable for s in before] == [True, True], [s.error for s in before]
    finally:
        server.stop()
    started = time.monotonic()
    after = await probe_all(entries, timeout=5)
    elapsed = time.monotonic() - started
    assert [s.reachable for s in after] == [False, False]
    for status, entry in zip(after, entries, strict=True):
        assert status.name == entry.name
        assert status.error.endswith(f"ssh: connect to host 127.0.0.1 port {server.port}: Connection refused"), \
            status.error
        assert f"ssh {server.user}@127.0.0.1:{server.port} failed (exit code 255)" in status.error
    assert elapsed < 5


async def test_probe_times_out_on_a_silent_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A 'remote' that never answers: probe() is unreachable within its timeout, and the ssh child is ended."""
    pid_file = tmp_path / "ssh.pid"
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n", encoding="utf-8")
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("TAMER_SSH_EXE", str(fake_ssh))
    entry = HostEntry("docker@silent", DOCKER, "ssh://nobody@192.0.2.1", "ssh", "test", False)
    started = time.monotonic()
    status = await probe(entry, timeout=1.5)
    assert time.monotonic() - started < 3
    assert not status.reachable
    assert status.error == "no answer within 1.5s from ssh://nobody@192.0.2.1"
    pid = int(pid_file.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        await asyncio.sleep(0.1)
    assert not _alive(pid), "the silent ssh child was left running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
