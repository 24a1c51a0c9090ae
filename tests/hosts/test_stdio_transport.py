"""The dial-stdio transport: argv shapes, and real HTTP over a child's stdin/stdout.

The "real" tests start ``docker -H <test daemon> system dial-stdio`` directly (no ssh, no WSL): the
same child the ssh and wsl transports start at the far end, so they prove the socket pair, the
pooling, the cleanup and the error reporting independently of ssh.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import Any

import docker
import pytest

from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.stdio_transport import (
    StdioDialer,
    StdioHTTPAdapter,
    StdioTransportError,
    decode_console_output,
    dial_stdio_argv,
    uses_stdio,
)
from tests import services

DOCKER, PODMAN = RuntimeKind.DOCKER, RuntimeKind.PODMAN
SSH_OPTS = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-T", "--"]


def test_ssh_argv_for_docker() -> None:
    """ssh://user@host:port -> ssh -l user -p port (batch mode, no tty) -- host docker system dial-stdio."""
    assert dial_stdio_argv("ssh://me@build.example:2222", DOCKER) == [
        "ssh", "-l", "me", "-p", "2222", *SSH_OPTS, "build.example", "docker", "system", "dial-stdio"]
    assert dial_stdio_argv("ssh://build.example", DOCKER, ssh="/opt/ssh", ssh_config="/tmp/cfg") == [
        "/opt/ssh", "-F", "/tmp/cfg", *SSH_OPTS, "build.example", "docker", "system", "dial-stdio"]


def test_ssh_argv_for_podman_with_socket_path_and_identity() -> None:
    """A Podman connection's socket path and identity reach ssh and the remote podman (shell-quoted)."""
    argv = dial_stdio_argv("ssh://core@10.0.0.4:22/run/user/1000/podman/podman.sock", PODMAN,
                           identity="/keys/id_ed25519")
    assert argv == ["ssh", "-l", "core", "-p", "22", "-i", "/keys/id_ed25519", "-o", "IdentitiesOnly=yes",
                    *SSH_OPTS, "10.0.0.4", "podman", "--url", "unix:///run/user/1000/podman/podman.sock",
                    "system", "dial-stdio"]
    odd = dial_stdio_argv("ssh://h/run/my%20dir/podman.sock", PODMAN)
    assert odd[-6:] == ["h", "podman", "--url", "'unix:///run/my dir/podman.sock'", "system", "dial-stdio"]


def test_wsl_argv() -> None:
    """wsl://DISTRO -> wsl.exe -d DISTRO -- docker|podman system dial-stdio."""
    assert dial_stdio_argv("wsl://Ubuntu-22.04", DOCKER, wsl_exe="C:/Windows/System32/wsl.exe") == [
        "C:/Windows/System32/wsl.exe", "-d", "Ubuntu-22.04", "--", "docker", "system", "dial-stdio"]
    assert dial_stdio_argv("wsl://Debian", PODMAN) == ["wsl.exe", "-d", "Debian", "--", "podman", "system", "dial-stdio"]
    assert dial_stdio_argv("wsl://Debian/run/docker.sock", DOCKER)[4:] == [
        "docker", "-H", "unix:///run/docker.sock", "system", "dial-stdio"]


def test_bad_urls_are_rejected() -> None:
    """URLs without a host/distro, bad ports and other schemes raise InvalidInput."""
    for url in ("ssh://", "ssh://h:notaport", "wsl://", "tcp://h:1"):
        with pytest.raises(InvalidInput):
            dial_stdio_argv(url, DOCKER)
    assert uses_stdio("SSH://h") and uses_stdio("wsl://D") and not uses_stdio("unix:///s")


def test_console_output_decoding() -> None:
    """UTF-16LE with and without BOM, and UTF-8, all decode to the same text."""
    text = "Debian\r\nUbuntu-22.04\r\n"
    assert decode_console_output(text.encode("utf-16-le")) == text
    assert decode_console_output(b"\xff\xfe" + text.encode("utf-16-le")) == text
    assert decode_console_output(text.encode("utf-8")) == text


# ------------------------------------------------------------------------------- real transport
def docker_cli() -> str:
    path = shutil.which("docker")
    if not path:
        pytest.fail("the docker CLI is needed (docker.io is installed with the daemon)")
    return path


def api_over(dialer: StdioDialer) -> Any:
    api = docker.APIClient(base_url="tcp://127.0.0.1:2375", version="1.41")
    adapter = StdioHTTPAdapter(dialer)
    api._unmount("http://", "https://")
    api.mount("http+docker://", adapter)
    api._custom_adapter = adapter
    api.base_url = "http+docker://localhost"
    return api


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@pytest.mark.parametrize("bridge", [False, True], ids=["socket-as-stdio", "pipe-bridge"])
def test_requests_reuse_one_child_and_close_ends_it(bridge: bool) -> None:
    """30 requests go over ONE kept-alive child; closing the client ends it (both the POSIX and the Windows wiring)."""
    dialer = StdioDialer([docker_cli(), "-H", services.docker_host(), "system", "dial-stdio"], "local dial-stdio",
                         bridge=bridge)
    api = api_over(dialer)
    try:
        assert api.version()["ApiVersion"]
        for _ in range(30):
            assert api.ping()
        assert isinstance(api.containers(all=True), list)
        live = dialer.live()
        assert len(live) == 1
        process = live[0].process
        assert process is not None
    finally:
        api.close()
    assert wait_until(lambda: process.poll() is not None), "the child outlived the client"
    assert dialer.live() == []


def test_close_aborts_a_blocked_stream() -> None:
    """A request blocked on a quiet event stream wakes up (and its child ends) when the client is closed."""
    dialer = StdioDialer([docker_cli(), "-H", services.docker_host(), "system", "dial-stdio"], "local dial-stdio")
    api = api_over(dialer)
    finished = threading.Event()

    def consume() -> None:
        try:
            for _event in api.events(filters={"label": "tamer.test=tt-hosts-never-matches"}):
                pass
        except Exception:  # noqa: BLE001 - the stream is aborted on purpose
            pass
        finally:
            finished.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    assert wait_until(lambda: len(dialer.live()) == 1)
    time.sleep(0.2)
    assert not finished.is_set()
    started = time.monotonic()
    api.close()
    assert finished.wait(5), "the blocked reader was not woken"
    assert time.monotonic() - started < 5
    assert wait_until(lambda: dialer.live() == [])


def test_a_failing_child_reports_its_stderr() -> None:
    """A child that dies prints the reason on stderr; the error names the child, exit code and message."""
    dialer = StdioDialer(["sh", "-c", "echo 'remote: docker: command not found' >&2; exit 127"], "ssh me@box")
    api = api_over(dialer)
    with pytest.raises(StdioTransportError) as err:
        api.ping()
    assert str(err.value) == "ssh me@box failed (exit code 127): remote: docker: command not found"
    api.close()


def test_a_child_printing_text_instead_of_http_is_explained() -> None:
    """wsl.exe prints its own errors to stdout in UTF-16LE: that text becomes the error message."""
    script = "import sys; sys.stdout.buffer.write('There is no distribution with the supplied name.\\r\\n'" \
             ".encode('utf-16-le')); sys.exit(255)"
    api = api_over(StdioDialer([sys.executable, "-c", script], "wsl Nope (docker)"))
    with pytest.raises(StdioTransportError, match=r"wsl Nope \(docker\) failed \(exit code 255\): "
                                                  r"There is no distribution with the supplied name\."):
        api.ping()
    api.close()


def test_a_missing_program_is_a_clear_error() -> None:
    """An ssh/wsl.exe that is not installed gives 'cannot run ...: not found', not a socket error."""
    api = api_over(StdioDialer([os.path.join(os.sep, "nonexistent", "ssh"), "h"], "ssh h"))
    with pytest.raises(StdioTransportError, match=r"ssh h: cannot run /nonexistent/ssh: not found"):
        api.ping()
    api.close()


async def test_runtimes_over_a_stdio_url_report_a_missing_ssh(monkeypatch: pytest.MonkeyPatch) -> None:
    """DockerRuntime/PodmanRuntime.connect on ssh:// without an ssh client raise RuntimeUnavailable naming it."""
    from tamer_tui.core.errors import RuntimeUnavailable
    from tamer_tui.core.manager import make_runtime

    monkeypatch.setenv("TAMER_SSH_EXE", "/nonexistent/ssh")
    for kind in (DOCKER, PODMAN):
        runtime = make_runtime(RuntimeEndpoint(kind, f"{kind}@box", "ssh://me@box/run/x.sock", "test"))
        with pytest.raises(RuntimeUnavailable, match="cannot run /nonexistent/ssh: not found"):
            await runtime.connect()
        await runtime.close()
