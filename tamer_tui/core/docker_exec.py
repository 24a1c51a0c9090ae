"""Docker exec and attach over the Engine API: hijacked connections, TTY resize, exit codes.

The interactive bridge in :mod:`tamer_tui.core.exec` needs a plain byte stream it can read and write
from ordinary threads while the asyncio loop is blocked (the TUI is suspended), so exec and attach
sessions are *hijacked* HTTP connections: ``POST /exec/{id}/start`` or ``POST /containers/{id}/attach``
with ``Connection: Upgrade`` / ``Upgrade: tcp``, after which the socket carries the raw terminal
bytes (TTY) or the 8-byte-header multiplexed stdout/stderr frames (no TTY), and the client's writes
are the process's stdin. For ``unix://`` and plain ``tcp://`` endpoints the hijack is done on a raw
socket (so no byte that follows the response headers can be lost in an HTTP library's buffer); for
the other transports (TLS, ssh, named pipes) the docker SDK's ``socket=True`` hijack is used.

Everything here is blocking: :mod:`tamer_tui.core.exec` runs it in worker threads (``run_command``) or
on the main thread while the TUI is suspended (``Interactive.run``). :class:`HijackedStream` is shared
with :mod:`tamer_tui.core.podman_exec` (Podman's API hijacks the same way).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
    TamerError,
)
from tamer_tui.core.exec import ConnectionDropped, TargetNotRunning

#: How long the engine may take to answer the hijack request.
HIJACK_TIMEOUT = 15.0
#: After the stream ended, how long the engine may take to report the exec session as finished.
EXIT_WAIT = 5.0
_MAX_HEADER = 64 * 1024
#: Docker's and Podman's default detach keys.
DETACH_SEQUENCE = b"\x10\x11"


# ------------------------------------------------------------------------------------------------
# Raw hijack (shared with podman_exec)
# ------------------------------------------------------------------------------------------------
def endpoint_address(url: str) -> tuple[str, Any] | None:
    """``("unix", path)`` or ``("tcp", (host, port))`` for an engine URL a raw socket can reach.

    ``None`` for transports that need the SDK (``https``, ``ssh``, ``npipe``...)."""
    parsed = urllib.parse.urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in ("unix", "http+unix", "http+docker"):
        if scheme == "http+docker":
            return None
        path = urllib.parse.unquote(parsed.netloc + parsed.path)
        return ("unix", path) if path else None
    if scheme in ("tcp", "http"):
        host = parsed.hostname or "127.0.0.1"
        port = parsed.port or (2375 if scheme == "tcp" else 80)
        return "tcp", (host, port)
    return None


def _status_error(status: int, body: bytes, what: str) -> TamerError:
    """An engine error answer (Docker and Podman both send ``{"message": ...}``) as a TamerError."""
    message = ""
    try:
        data = json.loads(body.decode("utf-8", "replace") or "null")
        if isinstance(data, Mapping):
            message = str(data.get("message") or data.get("cause") or "").strip()
    except ValueError:
        message = body[:300].decode("utf-8", "replace").strip()
    detail = message or f"HTTP {status}"
    lowered = detail.lower()
    if status == 404:
        return NotFound(f"{what}: {detail}")
    if status in (401, 403):
        return PermissionDenied(f"{what}: {detail}")
    if "not running" in lowered or "is paused" in lowered or "state improper" in lowered:
        return TargetNotRunning(f"{what}: {detail}")
    if status == 409:
        return Conflict(f"{what}: {detail}")
    if status in (400, 422):
        return InvalidInput(f"{what}: {detail}")
    return BackendError(f"{what}: {detail}")


def hijack(
    url: str,
    path: str,
    body: Mapping[str, Any] | None,
    what: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float = HIJACK_TIMEOUT,
) -> tuple[socket.socket, bytes]:
    """``POST path`` on a new raw connection to the engine at ``url`` and take the connection over.

    Returns the socket (blocking, no timeout) and the bytes that already followed the response
    headers. Error answers raise the matching :class:`TamerError`; an unreachable engine raises
    :class:`RuntimeUnavailable`. ``url`` must be one :func:`endpoint_address` accepts."""
    addr = endpoint_address(url)
    if addr is None:
        raise InvalidInput(f"{what}: cannot open a raw connection to {url}")
    kind, where = addr
    try:
        if kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(where)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection(where, timeout=timeout)
            _keepalive(sock)
    except PermissionError as exc:
        raise PermissionDenied(f"{what}: permission denied on {url} ({exc.strerror})") from None
    except OSError as exc:
        raise RuntimeUnavailable(f"{what}: engine not reachable on {url} ({exc.strerror or exc})") from None
    try:
        # attach requests carry no body: whatever follows the headers would be the process's stdin
        payload = b"" if body is None else json.dumps(dict(body)).encode()
        query = f"?{urllib.parse.urlencode(dict(params))}" if params else ""
        host = "localhost" if kind == "unix" else f"{where[0]}:{where[1]}"
        head = (
            f"POST {path}{query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tamer/0.1\r\n"
            + ("Content-Type: application/json\r\n" if payload else "")
            + f"Content-Length: {len(payload)}\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        )
        sock.sendall(head.encode("latin-1") + payload)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeUnavailable(f"{what}: the engine closed the connection before answering")
            data += chunk
            if len(data) > _MAX_HEADER:
                raise BackendError(f"{what}: oversized response headers")
        header, _, rest = data.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status >= 400 or status == 0:
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
            length = int(headers.get("content-length", "0") or 0) if headers.get("content-length", "").isdigit() else 0
            sock.settimeout(2.0)
            with contextlib.suppress(OSError):
                while len(rest) < min(length or 4096, 1 << 20):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
            if status == 0:
                raise BackendError(f"{what}: unexpected answer {lines[0]!r}")
            raise _status_error(status, _unchunk(rest, headers), what)
        sock.settimeout(None)
        return sock, rest
    except BaseException as exc:
        with contextlib.suppress(OSError):
            sock.close()
        if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
            raise RuntimeUnavailable(f"{what}: connection to {url} failed ({exc})") from None
        if isinstance(exc, TimeoutError):
            raise RuntimeUnavailable(f"{what}: no answer from {url} in {timeout:.0f} s") from None
        raise


def _keepalive(sock: socket.socket) -> None:
    """TCP keep-alive probes after 15 s of silence, so a vanished engine host ends the session."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 15)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 4)


def _unchunk(body: bytes, headers: Mapping[str, str]) -> bytes:
    """Decode a chunked error body (enough to read the JSON message)."""
    if "chunked" not in headers.get("transfer-encoding", "").lower():
        return body
    out = b""
    rest = body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return body
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return out


class HijackedStream:
    """The bytes of a hijacked exec/attach connection, as the terminal bridge consumes them.

    ``read()`` returns ``(1, data)`` / ``(2, data)`` (stdout/stderr; TTY output is all stdout) and
    ``None`` at the end of the stream; ``write()`` sends stdin; ``close()`` (any thread, idempotent)
    shuts the socket down, which also wakes a thread blocked in ``read()``. Subclasses add
    ``resize()`` and ``finish()`` (the exit code, once the stream ended)."""

    def __init__(self, conn: Any, *, tty: bool, buffered: bytes = b"", what: str = "", holder: Any = None) -> None:
        self._conn = conn
        self._holder = holder  # what the SDK returned around ``conn`` (closed with it)
        self.tty = tty
        self.what = what
        self._buf = bytearray(buffered)
        self._closed = False
        self._lock = threading.Lock()
        self.ended = False  # the engine closed the stream (as opposed to us closing it)
        self._recent = b""  # the last stdin bytes (to know whether the user typed the detach keys)

    # -- reading ------------------------------------------------------------------------------
    def set_timeout(self, seconds: float | None) -> None:
        """Make ``read()`` raise :class:`TimeoutError` after ``seconds`` without data (None: never)."""
        with contextlib.suppress(OSError, AttributeError):
            self._conn.settimeout(seconds)

    def _recv(self) -> bytes:
        try:
            data = self._conn.recv(65536)
        except TimeoutError:
            raise
        except OSError as exc:
            if self._closed:
                return b""
            raise ConnectionDropped(f"{self.what}: connection lost ({exc})") from None
        if not data:
            self.ended = not self._closed
        return bytes(data)

    def read(self) -> tuple[int, bytes] | None:
        """The next piece of output, or ``None`` at the end of the stream."""
        if self._closed:
            return None
        if self.tty:
            if self._buf:
                data = bytes(self._buf)
                self._buf.clear()
                return 1, data
            data = self._recv()
            return (1, data) if data else None
        while True:
            if len(self._buf) >= 8:
                stream_no, length = struct.unpack(">BxxxL", bytes(self._buf[:8]))
                if len(self._buf) >= 8 + length:
                    payload = bytes(self._buf[8 : 8 + length])
                    del self._buf[: 8 + length]
                    if length:
                        return (2 if stream_no == 2 else 1), payload
                    continue
            data = self._recv()
            if not data:
                return None
            self._buf += data

    # -- writing ------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin."""
        if self._closed:
            raise ConnectionDropped(f"{self.what}: connection closed")
        self._recent = (self._recent + data)[-8:]
        try:
            self._conn.sendall(data)
        except OSError as exc:
            raise ConnectionDropped(f"{self.what}: connection lost ({exc})") from None

    def close_stdin(self) -> None:
        """Signal the end of stdin (half-close the connection)."""
        with contextlib.suppress(OSError, AttributeError):
            self._conn.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Close the connection (idempotent; wakes a blocked ``read()``)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(OSError, AttributeError):
            self._conn.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError, AttributeError):
            self._conn.close()
        holder, self._holder = self._holder, None
        if holder is not None:
            with contextlib.suppress(Exception):
                holder.close()
            response = getattr(holder, "_response", None)
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
        self._release()

    def _release(self) -> None:
        """Subclasses free what the session used besides the connection (called once, by close)."""

    @property
    def detached(self) -> bool:
        """Whether the last keys sent were the engines' default detach sequence (Ctrl-P Ctrl-Q)."""
        return self._recent.endswith(DETACH_SEQUENCE)

    # -- subclasses ---------------------------------------------------------------------------
    def resize(self, width: int, height: int) -> None:  # pragma: no cover - overridden
        """Tell the engine the terminal's new size."""

    def finish(self) -> int | None:  # pragma: no cover - overridden
        """The exit code once the stream ended (``None``: unknown)."""
        return None


def wait_exit(inspect: Callable[[], Mapping[str, Any]], what: str, timeout: float = EXIT_WAIT) -> int | None:
    """Poll an exec session's inspect until it is no longer running; its exit code.

    The stream can end a moment before the engine records the exit. A session still running after
    ``timeout`` means the connection (not the process) ended: :class:`ConnectionDropped`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            details = inspect()
        except NotFound:
            return None
        except TamerError as exc:
            raise ConnectionDropped(f"{what}: connection lost ({exc})") from None
        if not details.get("Running"):
            code = details.get("ExitCode")
            return int(code) if isinstance(code, int) else None
        if time.monotonic() > deadline:
            raise ConnectionDropped(f"{what}: the connection ended but the process is still running")
        time.sleep(0.05)


def attach_exit(inspect: Callable[[], Mapping[str, Any]], detached: bool, what: str,
                timeout: float = EXIT_WAIT) -> int | None:
    """After an attach stream ended: the container's exit code, or ``None`` when it still runs
    (the user detached). The stream can end a moment before the engine records the exit, so
    unless the user typed the detach keys the state is polled for a while."""
    deadline = time.monotonic() + (0.0 if detached else timeout)
    while True:
        try:
            state = inspect().get("State") or {}
        except NotFound:
            return None
        except TamerError as exc:
            raise ConnectionDropped(f"{what}: connection lost ({exc})") from None
        if not state.get("Running"):
            code = state.get("ExitCode")
            return int(code) if isinstance(code, int) else None
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def env_for_tty() -> list[str]:
    """``TERM`` for the remote process, as the user's terminal has it."""
    return [f"TERM={os.environ.get('TERM') or 'xterm'}"]


# ------------------------------------------------------------------------------------------------
# Docker specifics
# ------------------------------------------------------------------------------------------------
def _api(runtime: Any) -> Any:
    """The runtime's (connected) docker SDK ``APIClient``."""
    return runtime._client()  # noqa: SLF001 - the runtime exposes no public accessor


def session_api(runtime: Any) -> Any:
    """A private ``APIClient`` for one exec/attach session, like the runtime's own (same URL and
    API version, no version probe); closed with the session.

    The SDK keeps one connection pool per URL, and every exec session has its own URLs
    (``/exec/{id}/json``, ``/exec/{id}/resize``): on the shared client each session would leave
    pooled sockets behind, on a private one they are closed when the session ends."""
    from tamer_tui.core.stdio_transport import docker_api_client

    shared = _api(runtime)
    version = str(getattr(shared, "_version", "") or "auto")
    timeout = getattr(shared, "timeout", 60)
    # the same transport as the runtime's (TLS material, ssh:// and wsl:// through dial-stdio)
    return _mapped(runtime.name, docker_api_client, runtime.endpoint, version=version, timeout=timeout)


def raw_hijack_ok(runtime: Any) -> bool:
    """The raw-socket hijack only speaks plain HTTP to unix:// and tcp://; TLS goes through the SDK."""
    return endpoint_address(str(runtime.endpoint.url)) is not None and getattr(runtime.endpoint, "tls_verify",
                                                                               None) is None


def _mapped(what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    from tamer_tui.core.docker_runtime import map_error

    try:
        return func(*args, **kwargs)
    except TamerError:
        raise
    except Exception as exc:  # noqa: BLE001 - SDK and socket errors, mapped to one clear error
        err = map_error(exc, what)
        text = str(err).lower()
        if isinstance(err, Conflict) and ("not running" in text or "paused" in text):
            raise TargetNotRunning(str(err)) from None
        raise err from None


def inspect_container(runtime: Any, ident: str) -> dict[str, Any]:
    """``docker inspect`` of the container (NotFound with a clear message)."""
    return dict(_mapped(f"container {ident}", _api(runtime).inspect_container, ident) or {})


def check_running(runtime: Any, ident: str, title: str) -> dict[str, Any]:
    """The container's inspect data; raises if it does not exist or is not running (or is paused)."""
    data = inspect_container(runtime, ident)
    state = data.get("State") or {}
    if state.get("Paused"):
        raise TargetNotRunning(f"{title}: the container is paused (unpause it first)")
    if not state.get("Running"):
        status = state.get("Status") or "not running"
        code = state.get("ExitCode")
        extra = f", exit code {code}" if status == "exited" and code is not None else ""
        raise TargetNotRunning(f"{title}: the container is not running ({status}{extra})")
    return data


def is_windows(data: Mapping[str, Any]) -> bool:
    """Whether an inspected container is a Windows container."""
    return str(data.get("Platform") or data.get("Os") or "").lower() == "windows"


def _start_path(api: Any, suffix: str) -> str:
    version = str(getattr(api, "_version", "") or getattr(api, "api_version", "") or "")
    return f"/v{version}{suffix}" if version and version != "auto" else suffix


def _open_sdk_socket(what: str, open_socket: Callable[[], Any]) -> tuple[Any, Any]:
    """``(connection, holder)`` from the SDK's ``socket=True`` hijack: the SDK returns a ``SocketIO``
    around the socket for unix/http (we use the socket itself), a socket for https, a channel for ssh."""
    conn = _mapped(what, open_socket)
    inner = getattr(conn, "_sock", None)
    if not hasattr(conn, "recv") and inner is not None:
        return inner, conn
    return conn, None


class DockerExecStream(HijackedStream):
    """A Docker exec session's hijacked connection (and the session's private API client)."""

    def __init__(self, api: Any, exec_id: str, conn: Any, *, tty: bool, buffered: bytes, what: str,
                 holder: Any = None) -> None:
        super().__init__(conn, tty=tty, buffered=buffered, what=what, holder=holder)
        self.api = api
        self.exec_id = exec_id

    def resize(self, width: int, height: int) -> None:
        if not self.tty:
            return
        with contextlib.suppress(Exception):
            self.api.exec_resize(self.exec_id, height=height, width=width)

    def finish(self) -> int | None:
        return wait_exit(lambda: _mapped(self.what, self.api.exec_inspect, self.exec_id), self.what)

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self.api.close()


class DockerAttachStream(HijackedStream):
    """A Docker attach session's hijacked connection (and the session's private API client)."""

    def __init__(self, api: Any, ident: str, conn: Any, *, tty: bool, buffered: bytes, what: str,
                 holder: Any = None) -> None:
        super().__init__(conn, tty=tty, buffered=buffered, what=what, holder=holder)
        self.api = api
        self.ident = ident

    def resize(self, width: int, height: int) -> None:
        if not self.tty:
            return
        with contextlib.suppress(Exception):
            self.api.resize(self.ident, height=height, width=width)

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self.api.close()

    def finish(self) -> int | None:
        """The container's exit code if it stopped; ``None`` if it still runs (detached)."""
        return attach_exit(lambda: dict(_mapped(self.what, self.api.inspect_container, self.ident) or {}),
                           self.detached, self.what)


def open_exec(runtime: Any, ident: str, argv: list[str], *, tty: bool, stdin: bool, what: str) -> DockerExecStream:
    """Create and start an exec session; the returned stream is live (the process runs)."""
    api = session_api(runtime)
    try:
        created = _mapped(what, api.exec_create, ident, list(argv), stdout=True, stderr=True, stdin=stdin, tty=tty,
                          environment=env_for_tty() if tty else None)
        exec_id = str((created or {}).get("Id") or "")
        if not exec_id:
            raise BackendError(f"{what}: Docker did not create an exec session")
        url = str(runtime.endpoint.url)
        if raw_hijack_ok(runtime):
            sock, rest = hijack(url, _start_path(api, f"/exec/{exec_id}/start"), {"Detach": False, "Tty": tty}, what)
            return DockerExecStream(api, exec_id, sock, tty=tty, buffered=rest, what=what)
        conn, holder = _open_sdk_socket(what, lambda: api.exec_start(exec_id, tty=tty, socket=True))
        return DockerExecStream(api, exec_id, conn, tty=tty, buffered=b"", what=what, holder=holder)
    except BaseException:
        with contextlib.suppress(Exception):
            api.close()
        raise


def open_attach(runtime: Any, ident: str, what: str) -> DockerAttachStream:
    """Attach to the container's main process (stdin only if the container keeps it open)."""
    api = session_api(runtime)
    try:
        data = check_running(runtime, ident, what)
        config = data.get("Config") or {}
        tty = bool(config.get("Tty"))
        stdin = bool(config.get("OpenStdin"))
        params = {"stream": "1", "stdin": "1" if stdin else "0", "stdout": "1", "stderr": "1", "logs": "0",
                  "detachKeys": "ctrl-p,ctrl-q"}
        url = str(runtime.endpoint.url)
        if raw_hijack_ok(runtime):
            path = _start_path(api, f"/containers/{urllib.parse.quote(ident, safe='')}/attach")
            sock, rest = hijack(url, path, None, what, params=params)
            return DockerAttachStream(api, ident, sock, tty=tty, buffered=rest, what=what)
        conn, holder = _open_sdk_socket(
            what, lambda: api.attach_socket(ident, params=params))
        return DockerAttachStream(api, ident, conn, tty=tty, buffered=b"", what=what, holder=holder)
    except BaseException:
        with contextlib.suppress(Exception):
            api.close()
        raise
