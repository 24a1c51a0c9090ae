"""Exec building blocks without any service: Status decoding, the hijacked-stream demultiplexer, the
output collector, the CLI fallback command lines, the terminal bridge (on a real pty) and the
Windows-import rule."""

from __future__ import annotations

import ast
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core import exec as ex
from tamer_tui.core.docker_exec import HijackedStream, endpoint_address
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tests.exec.conftest import REPO, InProcessPty


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


class FakeStream:
    """An in-memory ExecStream: the test feeds output, it records stdin/resizes/closes."""

    def __init__(self, tty: bool = True, code: int | None = 0) -> None:
        self.tty = tty
        self.code = code
        self.output: queue.Queue[tuple[int, bytes] | None] = queue.Queue()
        self.stdin = bytearray()
        self.sizes: list[tuple[int, int]] = []
        self.stdin_closed = False
        self.closed = False
        self.timeout: float | None = None

    def read(self) -> tuple[int, bytes] | None:
        if self.closed:
            return None
        try:
            return self.output.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError from None

    def write(self, data: bytes) -> None:
        self.stdin += data

    def close_stdin(self) -> None:
        self.stdin_closed = True

    def resize(self, width: int, height: int) -> None:
        self.sizes.append((width, height))

    def set_timeout(self, seconds: float | None) -> None:
        self.timeout = seconds

    def finish(self) -> int | None:
        return self.code

    def close(self) -> None:
        self.closed = True
        self.output.put(None)


# ------------------------------------------------------------------------------------------------


def test_status_exit_codes() -> None:
    """Success is 0, NonZeroExitCode carries the code in details.causes, other failures have none."""
    assert ex.status_exit_code({"metadata": {}, "status": "Success"}) == (0, "")
    code, msg = ex.status_exit_code({"status": "Failure", "reason": "NonZeroExitCode", "message": "exit 3",
                                     "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}})
    assert (code, msg) == (3, "exit 3")
    code, msg = ex.status_exit_code({"status": "Failure", "reason": "InternalError",
                                     "message": 'exec: "bash": executable file not found in $PATH'})
    assert code is None and "executable file not found" in msg


def test_endpoint_addresses() -> None:
    """unix and plain tcp engines are hijacked on raw sockets; TLS, ssh and pipes go through the SDK."""
    assert endpoint_address("unix:///var/run/docker.sock") == ("unix", "/var/run/docker.sock")
    assert endpoint_address("http+unix://%2Frun%2Fpodman%2Fpodman.sock") == ("unix", "/run/podman/podman.sock")
    assert endpoint_address("tcp://127.0.0.1:2375") == ("tcp", ("127.0.0.1", 2375))
    assert endpoint_address("ssh://me@host") is None
    assert endpoint_address("npipe:////./pipe/docker_engine") is None
    assert endpoint_address("https://host:2376") is None


def test_hijacked_stream_demultiplexes_split_frames() -> None:
    """Without a TTY the 8-byte-header frames are reassembled whatever the network split, stderr kept
    apart, empty frames skipped; the bytes that came with the response headers are used first."""
    a, b = socket.socketpair()
    wire = frame(1, b"hello ") + frame(2, b"oops\n") + frame(1, b"") + frame(1, b"world\n")
    stream = HijackedStream(a, tty=False, buffered=wire[:5], what="t")
    try:
        rest = wire[5:]
        for i in range(0, len(rest), 3):
            b.sendall(rest[i : i + 3])
        b.shutdown(socket.SHUT_WR)
        got = []
        while (item := stream.read()) is not None:
            got.append(item)
        assert got == [(1, b"hello "), (2, b"oops\n"), (1, b"world\n")]
        assert stream.ended
    finally:
        stream.close()
        b.close()
    assert a.fileno() == -1


def test_hijacked_stream_tty_and_close_from_another_thread() -> None:
    """With a TTY the bytes pass as they are; close() from another thread wakes a blocked read(),
    which then ends quietly (None, not an error), and writes after close are refused."""
    a, b = socket.socketpair()
    stream = HijackedStream(a, tty=True, buffered=b"$ ", what="t")
    assert stream.read() == (1, b"$ ")
    b.sendall(b"\x1b[1mbold\x1b[0m")
    assert stream.read() == (1, b"\x1b[1mbold\x1b[0m")
    stream.write(b"ls\r")
    assert b.recv(10) == b"ls\r"
    results: list[Any] = []
    reader = threading.Thread(target=lambda: results.append(stream.read()))
    reader.start()
    time.sleep(0.1)
    stream.close()
    reader.join(5)
    assert not reader.is_alive() and results == [None] and not stream.ended
    with pytest.raises(ex.ConnectionDropped):
        stream.write(b"x")
    b.close()


def test_drain_collects_streams_and_exit_code() -> None:
    """drain() keeps stdout and stderr apart, returns the exit code and closes the stream."""
    s = FakeStream(tty=False, code=4)
    for item in [(1, b"out1\n"), (2, b"err\n"), (1, "dé\n".encode()), None]:
        s.output.put(item)
    res = ex.drain(s, time.monotonic() + 5, "t")
    assert res == ex.CommandResult(4, "out1\ndé\n", "err\n") and s.closed


def test_drain_limit_and_timeout() -> None:
    """Output beyond the limit is dropped with a note; silence past the deadline raises ExecTimeout
    (and the stream is closed all the same)."""
    s = FakeStream(tty=False)
    s.output.put((1, b"x" * 100))
    s.output.put(None)
    res = ex.drain(s, time.monotonic() + 5, "t", limit=10)
    assert res.stdout.startswith("x" * 10 + "\n[90 more bytes") and res.exit_code == 0
    s = FakeStream(tty=False)
    t0 = time.monotonic()
    with pytest.raises(ex.ExecTimeout, match="did not finish"):
        ex.drain(s, time.monotonic() + 0.3, "t")
    assert time.monotonic() - t0 < 3 and s.closed


def test_drain_reports_a_command_that_could_not_start() -> None:
    """A Status without exit code (runtime could not start the program) is a result with exit code
    None and the runtime's message on stderr."""

    class Failing(FakeStream):
        def finish(self) -> int | None:
            raise ex.ExecFailed('exec in x: exec: "nope": executable file not found in $PATH')

    s = Failing(tty=False)
    s.output.put(None)
    res = ex.drain(s, time.monotonic() + 5, "t")
    assert res.exit_code is None and "executable file not found" in res.stderr


def _runtime(kind: RuntimeKind, url: str, source: str = "default socket") -> Any:
    class R:
        pass

    r = R()
    r.kind = kind  # type: ignore[attr-defined]
    r.endpoint = RuntimeEndpoint(kind, kind.value, url, source)  # type: ignore[attr-defined]
    return r


def test_cli_fallback_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback command lines name the same context/namespace/container (or engine) and argv;
    None when the CLI is not on PATH."""
    monkeypatch.setattr(ex.shutil, "which", lambda name: f"/usr/bin/{name}")

    class KM:
        kubeconfig = "/tmp/kc"

    pod = ex.ExecTarget("pod", "pod/ns/web/app", kube=KM(), context="prod", namespace="ns", pod="web", container="app")
    assert ex.cli_fallback_argv(pod, ["sh"]) == ["/usr/bin/kubectl", "--kubeconfig", "/tmp/kc", "--context", "prod",
                                                 "-n", "ns", "exec", "-i", "-t", "web", "-c", "app", "--", "sh"]
    assert ex.cli_fallback_argv(pod, [], attach=True)[-6:] == ["attach", "-i", "-t", "web", "-c", "app"]  # type: ignore[index]
    dk = ex.ExecTarget("container", "container/docker:web", runtime=_runtime(RuntimeKind.DOCKER, "tcp://h:2375"),
                       ident="web")
    assert ex.cli_fallback_argv(dk, ["ls", "-l"], tty=False) == ["/usr/bin/docker", "-H", "tcp://h:2375", "exec", "-i",
                                                                 "web", "ls", "-l"]
    ctx = ex.ExecTarget("container", "c", runtime=_runtime(RuntimeKind.DOCKER, "ssh://x", "docker context remote"),
                        ident="web")
    assert ex.cli_fallback_argv(ctx, [], attach=True) == ["/usr/bin/docker", "--context", "remote", "attach", "web"]
    pm = ex.ExecTarget("container", "c", runtime=_runtime(RuntimeKind.PODMAN, "unix:///run/podman/podman.sock"),
                       ident="db")
    assert ex.cli_fallback_argv(pm, ["sh"]) == ["/usr/bin/podman", "--url", "unix:///run/podman/podman.sock", "exec",
                                                "-i", "-t", "db", "sh"]
    monkeypatch.setattr(ex.shutil, "which", lambda name: None)
    assert ex.cli_fallback_argv(pod, ["sh"]) is None and ex.cli_fallback_argv(dk, ["sh"]) is None


def test_run_without_terminal_uses_the_cli_or_says_why(tmp_path: Path) -> None:
    """stdin that is not a terminal: the CLI fallback runs with the given descriptors and its exit
    code is returned; without a CLI, TerminalUnavailable says neither works (and nothing is opened)."""
    opened: list[bool] = []

    def opener() -> Any:
        opened.append(True)
        raise AssertionError("the native bridge must not be used without a terminal")

    r, w = os.pipe()
    out = tmp_path / "out"
    try:
        with out.open("wb") as fh:
            session = ex.Interactive("sh in pod/x", opener, tty=True,
                                     cli_argv=[sys.executable, "-c", "import sys; print('from-cli'); sys.exit(5)"])
            assert session.run(stdin_fd=r, stdout_fd=fh.fileno()) == 5
        assert out.read_text().strip() == "from-cli"
        bare = ex.Interactive("sh in pod/x", opener, tty=True, cli_argv=None, cli_name="kubectl")
        with pytest.raises(ex.TerminalUnavailable, match="stdin is not a terminal.*kubectl was not found"):
            bare.run(stdin_fd=r, stdout_fd=w)
    finally:
        os.close(r)
        os.close(w)
    assert not opened


def test_windows_like_import_and_fallback() -> None:
    """With the POSIX-only modules missing (as on Windows) the exec modules import, the native
    terminal is reported unavailable, and a session goes to the CLI."""
    code = (
        "import sys\n"
        "for m in ('termios', 'tty', 'pty', 'fcntl', 'pwd', 'grp', 'resource'):\n"
        "    sys.modules[m] = None\n"
        "import tamer_tui.core.exec as ex, tamer_tui.core.docker_exec, tamer_tui.core.podman_exec\n"
        "assert not ex.native_terminal_available()\n"
        "s = ex.Interactive('d', lambda: 1 / 0, tty=True, cli_argv=[sys.executable, '-c', 'raise SystemExit(3)'])\n"
        "print('code', s.run())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO), timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "code 3"


def test_no_posix_only_module_at_import_time() -> None:
    """termios/tty/pty/fcntl/pwd/grp/resource are only imported inside functions."""
    banned = {"termios", "tty", "pty", "fcntl", "pwd", "grp", "resource"}
    for name in ("exec.py", "docker_exec.py", "podman_exec.py"):
        tree = ast.parse((REPO / "tamer_tui" / "core" / name).read_text())
        for node in tree.body:
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned, (name, ast.dump(node))
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in banned, (name, ast.dump(node))


# ------------------------------------------------------------------------------------------------
# The bridge on a real pty (in this process)


def _wait(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def test_bridge_raw_mode_stdin_resize_and_exit_code() -> None:
    """The bridge sends the window size first, forwards raw keystrokes (Ctrl-C included, as a byte),
    copies output to the terminal, polls size changes off the main thread, returns the exit code and
    restores the terminal mode."""
    import termios

    pty = InProcessPty(rows=30, cols=100)
    stream = FakeStream(tty=True, code=7)
    try:
        pty.start(ex.Interactive("fake", lambda: stream, tty=True))
        _wait(lambda: stream.sizes == [(100, 30)])
        assert not termios.tcgetattr(pty.slave)[3] & termios.ECHO  # raw: no local echo
        pty.send(b"ls\x03\r")
        _wait(lambda: bytes(stream.stdin) == b"ls\x03\r")
        stream.output.put((1, b"file1\r\n"))
        pty.expect("file1")
        pty.resize(40, 120)
        _wait(lambda: stream.sizes[-1:] == [(120, 40)])
        stream.output.put(None)
        _wait(lambda: bool(pty.result))
        assert pty.result == [("exit", 7)] and stream.closed and pty.mode_restored()
    finally:
        pty.close()


def test_bridge_detach_keys_end_the_session_locally() -> None:
    """Ctrl-P Ctrl-Q (the local detach sequence for pods) ends the session with None; keys typed
    before it in the same read still reach the process; nothing after it does."""
    pty = InProcessPty()
    stream = FakeStream(tty=True)
    try:
        pty.start(ex.Interactive("fake", lambda: stream, tty=True, detach_keys=ex.DETACH_KEYS))
        _wait(lambda: bool(stream.sizes))
        pty.send(b"ab\x10\x11cd")
        _wait(lambda: bool(pty.result))
        assert pty.result == [("exit", None)] and bytes(stream.stdin) == b"ab" and stream.closed
        assert pty.mode_restored()
    finally:
        pty.close()


def test_bridge_stream_failure_raises_and_cleans_up() -> None:
    """A stream that breaks mid-session surfaces as the TamerError it raised; the reader thread is
    gone and the terminal restored."""

    class Breaking(FakeStream):
        def read(self) -> tuple[int, bytes] | None:
            item = super().read()
            if item == (1, b"boom"):
                raise ex.ConnectionDropped("exec in x: connection lost (reset)")
            return item

    pty = InProcessPty()
    stream = Breaking(tty=True)
    try:
        pty.start(ex.Interactive("fake", lambda: stream, tty=True))
        _wait(lambda: bool(stream.sizes))
        stream.output.put((1, b"boom"))
        _wait(lambda: bool(pty.result))
        kind, err = pty.result[0]
        assert kind == "error" and isinstance(err, ex.ConnectionDropped) and "connection lost" in str(err)
        assert pty.mode_restored() and stream.closed
        assert not [t for t in threading.enumerate() if t.name == "tamer-exec-reader"]
    finally:
        pty.close()


def test_bridge_without_tty_on_main_thread_sigint_ends_and_handlers_restored() -> None:
    """Without a TTY (cooked terminal) stdin EOF closes the remote stdin, SIGINT ends the session
    (None), and the SIGINT and SIGWINCH handlers in place before are back afterwards."""
    import termios

    pty = InProcessPty()
    stream = FakeStream(tty=False)
    before_int = signal.getsignal(signal.SIGINT)
    before_winch = signal.getsignal(signal.SIGWINCH)
    mode = termios.tcgetattr(pty.slave)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    stream.code = 99
    safety = threading.Timer(15, lambda: stream.output.put(None))  # never hang: a broken SIGINT path ends with 99
    safety.start()
    try:
        pty.send(b"line\n\x04")  # cooked: a line, then end of input
        timer.start()
        result = ex.bridge(stream, pty.slave, pty.slave, tty=False)
        assert result is None
        assert bytes(stream.stdin) == b"line\n" and stream.stdin_closed and stream.closed
        assert signal.getsignal(signal.SIGINT) is before_int and signal.getsignal(signal.SIGWINCH) is before_winch
        assert termios.tcgetattr(pty.slave) == mode and stream.sizes == []
    finally:
        timer.cancel()
        safety.cancel()
        pty.close()


class FakeWS:
    """Just enough of websocket-client's WebSocket for KubeChannelStream's sending side."""

    def __init__(self, subprotocol: str) -> None:
        self.subprotocol = subprotocol
        self.sent: list[bytes] = []
        self.pings = 0
        self.aborted = False
        self.sock = socket.socket()

    def send_binary(self, data: bytes) -> None:
        self.sent.append(data)

    def ping(self) -> None:
        self.pings += 1

    def send_close(self) -> None:
        self.sent.append(b"<close>")

    def abort(self) -> None:
        self.aborted = True

    def shutdown(self) -> None:
        self.sock.close()


def test_kube_channel_frames_v5_and_v4() -> None:
    """stdin goes on channel 0 (in 32 KiB pieces), resize on 4 as JSON; end of stdin is the v5
    close frame [255, 0] and nothing on v4 (which has no way to say it)."""
    ws = FakeWS(ex.V5)
    s = ex.KubeChannelStream(ws, "t", tty=True)
    s.write(b"a" * 40000)
    s.resize(120, 40)
    s.close_stdin()
    assert [len(m) for m in ws.sent[:2]] == [1 + 32768, 1 + 40000 - 32768] and ws.sent[0][:2] == b"\x00a"
    assert ws.sent[2] == b'\x04{"Width": 120, "Height": 40}' and ws.sent[3] == b"\xff\x00"
    ws4 = FakeWS(ex.V4)
    s4 = ex.KubeChannelStream(ws4, "t", tty=True)
    s4.close_stdin()
    assert ws4.sent == []
    s.close()
    s4.close()


def test_kube_heartbeat_pings_and_declares_a_silent_connection_dead() -> None:
    """Every PING_EVERY seconds a ping goes out; when nothing came back for DEAD_AFTER seconds after
    a ping the stream closes itself and finish() says the connection dropped (no endless hang)."""
    ws = FakeWS(ex.V5)
    s = ex.KubeChannelStream(ws, "shell in pod/x", tty=True)
    now = time.monotonic()
    s._last_ping = now - ex.PING_EVERY - 1
    s.heartbeat()
    assert ws.pings == 1 and not ws.aborted
    s._last_rx = now - ex.DEAD_AFTER - 5
    s._last_ping = now - 1
    s.heartbeat()
    assert ws.aborted and s.read() is None
    with pytest.raises(ex.ConnectionDropped, match="no answer from the API server"):
        s.finish()


def test_unsupported_transport_falls_back_to_the_cli() -> None:
    """On a real terminal, a connection that cannot be hijacked natively (Podman over ssh://) runs
    the CLI instead; without a CLI the transport error itself is raised."""

    def opener() -> Any:
        raise ex.TransportUnsupported("exec in container/podman:db: exec needs a unix:// or tcp:// Podman service")

    pty = InProcessPty()
    try:
        session = ex.Interactive("sh in c", opener, tty=True, cli_argv=[sys.executable, "-c", "raise SystemExit(4)"],
                                 cli_name="podman")
        assert session.run(stdin_fd=pty.slave, stdout_fd=pty.slave) == 4
        bare = ex.Interactive("sh in c", opener, tty=True, cli_argv=None, cli_name="podman")
        with pytest.raises(ex.TransportUnsupported, match="unix:// or tcp://"):
            bare.run(stdin_fd=pty.slave, stdout_fd=pty.slave)
    finally:
        pty.close()
