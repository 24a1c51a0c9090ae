"""Exec, shell and attach on real Docker and Podman containers (the busybox test image: ``sh``, no
``bash``), over the engines' hijacked API connections: output and exit codes with and without a
TTY, the bash -> sh fallback played on a pseudo-terminal (typing, resize, exit code), attach to TTY
and output-only main processes, and the faults (no shell, stopped/paused/missing container,
connection dropped) with nothing left open."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core import exec as ex
from tamer_tui.core.errors import NotFound
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tests import services
from tests.exec.conftest import InProcessPty, Leaks, box_target, start_box
from tests.socket_proxy import SocketProxy

ENGINES = ["docker", "podman"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """(name, connected runtime) for each engine."""
    name = str(request.param)
    return name, request.getfixturevalue("docker_rt" if name == "docker" else "podman_rt")


async def create_raw(engine: str, rt: Any, label: str, command: list[str], *, tty: bool, stdin: bool) -> str:
    """Create and start a container with a TTY and/or open stdin (which ContainerSpec has no fields for)."""
    name = f"{label}-{uuid.uuid4().hex[:4]}"
    if engine == "docker":
        api = rt._client()

        def make() -> None:
            api.create_container(services.test_image(), command, name=name, tty=tty, stdin_open=stdin,
                                 labels={"tamer.test": label})
            api.start(name)

        await asyncio.to_thread(make)
    else:
        body = {"image": services.test_image(), "name": name, "command": command, "terminal": tty, "stdin": stdin,
                "labels": {"tamer.test": label}}
        await rt._acall("POST", "/containers/create", "create", body=body)
        await rt._acall("POST", f"/containers/{name}/start", "start")
    return name


async def expect(pty: InProcessPty, text: str, timeout: float = 15.0) -> str:
    """pty.expect without blocking the event loop."""
    return await asyncio.to_thread(pty.expect, text, timeout)


async def expect_all(pty: InProcessPty, texts: list[str], timeout: float = 15.0) -> None:
    """Wait until every one of ``texts`` appeared after the cursor, in any order."""
    start = pty.pos
    deadline = time.monotonic() + timeout
    while not all(t.encode() in pty.buf[start:] for t in texts):
        if time.monotonic() > deadline:
            raise AssertionError(f"{texts} did not all appear; got {pty.buf[start:]!r}")
        await asyncio.to_thread(pty.read_available)
        await asyncio.sleep(0.02)
    pty.pos = len(pty.buf)


async def stty_until(pty: InProcessPty, size: str, timeout: float = 10.0) -> None:
    """Ask the shell for its size until it reports ``size`` (window changes are polled off the main thread)."""
    deadline = time.monotonic() + timeout
    while True:
        pty.send("stty size\r")
        try:
            await expect(pty, size, 0.5)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


async def test_run_command_with_exit_code(engine: tuple[str, Any], label: str) -> None:
    """Without a TTY: stdout and stderr apart, the exit code; a missing program is exit 126/127 with
    the runtime's message; no socket or thread stays open (the shared client is warmed up first)."""
    name, rt = engine
    box = await start_box(rt, label)
    target = box_target(rt, box)
    await ex.run_command(target, ["true"])  # warm-up: the shared client's pooled connections
    leaks = Leaks()
    res = await ex.run_command(target, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert res == ex.CommandResult(3, "out\n", "err\n")
    missing = await ex.run_command(target, ["bash", "-c", "true"])
    assert missing.exit_code in (126, 127) and "executable file not found" in (missing.stdout + missing.stderr)
    big = await ex.run_command(target, ["sh", "-c", "seq 1 20000"])
    assert big.exit_code == 0 and big.stdout.splitlines()[-1] == "20000"
    t0 = time.perf_counter()
    for _ in range(5):
        await ex.run_command(target, ["true"])
    print(f"\n{name}: run_command round trip {(time.perf_counter() - t0) / 5 * 1000:.0f} ms")
    await leaks.check()


async def test_shell_bash_then_sh_on_a_pty(engine: tuple[str, Any], label: str, inproc_pty: Any) -> None:
    """prepare_shell(["bash", "sh"]) picks sh (the image has no bash); on a pty: typing runs
    commands, a window resize reaches the container's tty, `exit 7` returns 7, the terminal mode is
    restored and no thread or socket is left."""
    name, rt = engine
    box = await start_box(rt, label)
    target = box_target(rt, box)
    await ex.run_command(target, ["true"])
    pty = inproc_pty(rows=24, cols=80)
    leaks = Leaks()
    session = await ex.prepare_shell(target, ["bash", "sh"])
    assert session.description == f"sh in container/{name}:{box}"
    pty.start(session)
    await expect(pty, "/ # ")
    await stty_until(pty, "24 80")
    pty.send("echo hello-$((1+2))\r")
    await expect(pty, "hello-3")
    pty.resize(50, 132)
    await stty_until(pty, "50 132")
    pty.send("exit 7\r")
    assert await pty.finished() == ("exit", 7)
    assert pty.mode_restored()
    await leaks.check()


async def test_no_shell_in_the_container(engine: tuple[str, Any], label: str) -> None:
    """None of the configured shells exists: NoShellFound names the ones tried and the runtime's reason."""
    _name, rt = engine
    target = box_target(rt, await start_box(rt, label))
    with pytest.raises(ex.NoShellFound, match=r"has no shell \(tried bash, zsh\).*not found"):
        await ex.prepare_shell(target, ["bash", "zsh"])


async def test_exec_with_and_without_tty(engine: tuple[str, Any], label: str, inproc_pty: Any) -> None:
    """prepare_exec with a TTY: the command sees the terminal's size and its exit code comes back;
    without a TTY: stdin lines are forwarded (cooked terminal), stderr is kept, Ctrl-D ends stdin."""
    _name, rt = engine
    target = box_target(rt, await start_box(rt, label))
    pty = inproc_pty(rows=30, cols=100)
    session = await ex.prepare_exec(target, ["sh", "-c", "sleep 0.5; stty size; exit 5"], tty=True)
    pty.start(session)
    await expect(pty, "30 100")
    assert await pty.finished() == ("exit", 5)
    assert pty.mode_restored()
    pty2 = inproc_pty()
    session = await ex.prepare_exec(target, ["sh", "-c", "read x; echo got-$x; echo err-$x >&2; cat; exit 2"],
                                    tty=False)
    pty2.start(session)
    await asyncio.sleep(0.3)
    pty2.send("abc\n")
    await expect_all(pty2, ["got-abc", "err-abc"])  # two pipes in the container: either may come first
    pty2.send("tail\n\x04")
    await expect(pty2, "tail")
    assert await pty2.finished() == ("exit", 2)
    assert pty2.mode_restored()


async def test_attach_to_a_tty_main_process(engine: tuple[str, Any], label: str, inproc_pty: Any) -> None:
    """Attach to a container whose main process is an interactive shell with a TTY: typed commands
    run in it; Ctrl-P Ctrl-Q detaches (None, the container keeps running); attached again, its exit
    ends the session with the container's exit code."""
    name, rt = engine
    box = await create_raw(name, rt, label, ["sh"], tty=True, stdin=True)
    target = box_target(rt, box)
    session = await ex.prepare_attach(target)
    assert session.tty and session.stdin and "detach: Ctrl-P Ctrl-Q" in session.description
    pty = inproc_pty()
    pty.start(session)
    await asyncio.sleep(0.3)
    pty.send("echo attached-$((2+3))\r")
    await expect(pty, "attached-5")
    pty.send(b"\x10\x11")
    assert await pty.finished() == ("exit", None)
    assert (await rt.get_container(box)).state == "running"
    again = inproc_pty()
    again.start(await ex.prepare_attach(target))
    await asyncio.sleep(0.3)
    again.send("exit 3\r")
    assert await again.finished() == ("exit", 3)
    assert pty.mode_restored() and again.mode_restored()


async def test_attach_to_output_until_the_container_stops(engine: tuple[str, Any], label: str, inproc_pty: Any) -> None:
    """Attach to a container without TTY or stdin streams its output; when it is killed the session
    ends with its exit code (137)."""
    name, rt = engine
    box = await create_raw(name, rt, label, ["sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done"],
                           tty=False, stdin=False)
    target = box_target(rt, box)
    session = await ex.prepare_attach(target)
    assert not session.tty and not session.stdin
    pty = inproc_pty()
    pty.start(session)
    await expect(pty, "tick-")
    await rt.kill_container(box)
    assert await pty.finished() == ("exit", 137)
    assert pty.mode_restored()


async def test_stopped_paused_and_missing_containers(engine: tuple[str, Any], label: str) -> None:
    """A stopped, a paused and a missing container each get a clear error before anything runs."""
    _name, rt = engine
    box = await start_box(rt, label)
    target = box_target(rt, box)
    await rt.pause_container(box)
    try:
        with pytest.raises(ex.TargetNotRunning, match="paused"):
            await ex.prepare_shell(target, ["sh"])
    finally:
        await rt.unpause_container(box)
    await rt.kill_container(box)
    with pytest.raises(ex.TargetNotRunning, match="not running"):
        await ex.prepare_shell(target, ["sh"])
    with pytest.raises(ex.TargetNotRunning, match="not running"):
        await ex.run_command(target, ["true"])
    with pytest.raises(ex.TargetNotRunning, match="not running"):
        await ex.prepare_attach(target)
    with pytest.raises(NotFound):
        await ex.prepare_exec(box_target(rt, f"{label}-ghost"), ["sh"])


async def test_connection_dropped_mid_session(engine: tuple[str, Any], label: str, tmp_path: Path,
                                              inproc_pty: Any) -> None:
    """The engine's socket goes away during a shell (a proxy in front of it is stopped): run() raises
    ConnectionDropped, the terminal is restored, no thread or socket is left."""
    from tamer_tui.core.docker_runtime import DockerRuntime
    from tamer_tui.core.podman_runtime import PodmanRuntime

    name, rt = engine
    box = await start_box(rt, label)
    real = rt.endpoint.url.split("://", 1)[1]
    proxy = SocketProxy(str(tmp_path / "engine.sock"), real)
    await proxy.start()
    kind = RuntimeKind.DOCKER if name == "docker" else RuntimeKind.PODMAN
    cls = DockerRuntime if name == "docker" else PodmanRuntime
    via = cls(RuntimeEndpoint(kind, f"{name}-proxy", proxy.url, "test"))
    pty = inproc_pty()
    await via.connect()
    try:
        target = box_target(via, box)
        await ex.run_command(target, ["true"])
        leaks = Leaks()
        session = await ex.prepare_shell(target, ["sh"])
        pty.start(session)
        await expect(pty, "/ # ")
        pty.send("echo before-cut\r")
        await expect(pty, "before-cut\r\n")
        await proxy.stop()
        kind_, err = await pty.finished()
        assert kind_ == "error" and isinstance(err, ex.ConnectionDropped), err
        assert "connection lost" in str(err) or "still running" in str(err)
        assert pty.mode_restored()
        await via.close()
        await leaks.check()
    finally:
        await via.close()
        await proxy.stop()
        assert not os.path.exists(proxy.path)
