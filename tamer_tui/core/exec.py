"""Exec, interactive shells and attach for pods (Kubernetes) and containers (Docker, Podman).

Everything is native: Kubernetes ``pods/exec`` and ``pods/attach`` over a WebSocket
(``v5.channel.k8s.io``, falling back to ``v4.channel.k8s.io``), Docker and Podman exec/attach over the
engine API's hijacked connections (:mod:`tamer_tui.core.docker_exec`, :mod:`tamer_tui.core.podman_exec`).
No CLI is needed, except as the fallback for interactive sessions where there is no raw terminal
(Windows, or stdin is not a terminal): then ``kubectl``/``docker``/``podman exec -it`` runs with the
inherited terminal when it is on PATH.

* :func:`run_command`: a command without a TTY; stdout, stderr and the exit code.
* :func:`prepare_shell` / :func:`prepare_exec` / :func:`prepare_attach` (async, on the app's loop):
  check the target (pod running, container present and running, RBAC) and, for shells, pick the
  first configured shell the container has; they return an :class:`Interactive`.
* :meth:`Interactive.run` (blocking, on the main thread while the TUI is suspended): raw terminal
  mode, stdin -> stream, stream -> stdout, window size at start and on every change, the exit code.
  It opens its own connection (the asyncio loop is blocked meanwhile) and leaves nothing behind:
  the terminal mode, the SIGWINCH/SIGINT handlers, the reader thread and every socket are restored or
  closed in ``finally``.

Channel framing of the Kubernetes protocols: every WebSocket message is one channel byte and the
payload; 0 stdin, 1 stdout, 2 stderr, 3 error (a ``metav1.Status``; the exit code is in
``details.causes[reason=ExitCode]``), 4 resize (``{"Width": w, "Height": h}``), and with v5 255 =
close a channel (``[255, 0]`` ends stdin).

POSIX-only modules (``termios``, ``tty``, ``select`` on stdin, ``fcntl``) are imported inside the
functions that use them, so this module imports on Windows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    RuntimeUnavailable,
    TamerError,
)

# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


class TargetNotRunning(Conflict):
    """The pod or container is not running (completed pod, waiting/crashed container, stopped, paused)."""


class NoShellFound(NotFound):
    """None of the configured shells exists in the container (a distroless image, ...)."""


class ConnectionDropped(RuntimeUnavailable):
    """The exec/attach connection broke before the process ended."""


class ExecTimeout(TamerError):
    """A non-interactive command did not finish within its time limit."""


class ExecFailed(BackendError):
    """The runtime could not start the command (the Status on the error channel had no exit code)."""


class TerminalUnavailable(TamerError):
    """No raw terminal here (Windows, or stdin is not a terminal) and no CLI to fall back to."""


class TransportUnsupported(InvalidInput):
    """The engine's connection cannot be hijacked natively (e.g. Podman over ssh://); interactive
    sessions then use the CLI when it is there."""


# ------------------------------------------------------------------------------------------------
# The public value objects
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecTarget:
    """Where to exec: one container of a pod, or one Docker/Podman container."""

    kind: Literal["pod", "container"]
    title: str  # "pod/ns/name/container" or "container/docker:name"
    kube: Any = None  # KubeManager (pods)
    context: str | None = None
    namespace: str = ""
    pod: str = ""
    container: str = ""  # pods: the container name (required: the UI picks one first)
    runtime: Any = None  # ContainerRuntime (containers)
    ident: str = ""  # container id/name


@dataclass(frozen=True)
class CommandResult:
    """What a non-interactive command produced."""

    exit_code: int | None  # None if unknown
    stdout: str
    stderr: str


class ExecStream(Protocol):
    """A live exec/attach session as the bridge and :func:`drain` use it (blocking, thread-safe
    between one reader and one writer)."""

    tty: bool

    def read(self) -> tuple[int, bytes] | None:
        """``(1, data)`` stdout or ``(2, data)`` stderr; ``None`` at the end of the stream."""

    def write(self, data: bytes) -> None:
        """Send stdin bytes."""

    def close_stdin(self) -> None:
        """Signal the end of stdin."""

    def resize(self, width: int, height: int) -> None:
        """Send the terminal size."""

    def set_timeout(self, seconds: float | None) -> None:
        """Make ``read()`` raise ``TimeoutError`` after ``seconds`` of silence."""

    def finish(self) -> int | None:
        """After the end of the stream: the exit code, or raise :class:`ConnectionDropped`."""

    def close(self) -> None:
        """Close the connection (any thread, idempotent; wakes a blocked ``read()``).

        A stream may also have ``heartbeat()``: the bridge calls it every few seconds (keep-alive,
        dead-connection detection)."""


#: Output kept per stream by :func:`run_command` (the rest is drained and dropped).
OUTPUT_LIMIT = 8 * 1024 * 1024
#: Connecting (TCP + TLS + WebSocket/HTTP handshake) may take this long.
CONNECT_TIMEOUT = 15.0
#: The local detach sequence for Kubernetes attach (Docker and Podman handle theirs server side).
DETACH_KEYS = b"\x10\x11"  # Ctrl-P Ctrl-Q
#: Without input or signals the bridge still wakes up this often (seconds): heartbeats, size checks.
IDLE_WAKE = 2.0
#: Interactive Kubernetes sessions ping the API server this often (seconds) ...
PING_EVERY = 10.0
#: ... and give up when nothing came back for this long.
DEAD_AFTER = 35.0
_WINDOWS_SHELLS = frozenset({"cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh", "pwsh.exe"})


# ------------------------------------------------------------------------------------------------
# Kubernetes: the channel WebSocket
# ------------------------------------------------------------------------------------------------
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
_STDIN, _STDOUT, _STDERR, _ERROR, _RESIZE, _CLOSE = 0, 1, 2, 3, 4, 255


def status_exit_code(status: Mapping[str, Any]) -> tuple[int | None, str]:
    """``(exit code, message)`` from the ``metav1.Status`` of the error channel.

    Success is 0; ``NonZeroExitCode`` carries the code in ``details.causes``; any other failure has
    no exit code (``None``) and its message says why (e.g. the executable was not found)."""
    if status.get("status") == "Success":
        return 0, ""
    message = str(status.get("message") or status.get("reason") or "command failed")
    for cause in (status.get("details") or {}).get("causes") or []:
        if isinstance(cause, Mapping) and cause.get("reason") == "ExitCode":
            try:
                return int(str(cause.get("message", ""))), message
            except ValueError:
                break
    return None, message


class KubeChannelStream:
    """An exec/attach WebSocket to the API server (blocking ``websocket-client``)."""

    def __init__(self, ws: Any, what: str, tty: bool) -> None:
        self.ws = ws
        self.what = what
        self.tty = tty
        self.protocol = str(getattr(ws, "subprotocol", "") or "")
        self.status: dict[str, Any] | None = None
        self.error_text = ""
        self._closed = False
        self._lock = threading.Lock()
        self._last_rx = time.monotonic()  # anything received (data, pong, ping)
        self._last_ping = time.monotonic()

    @classmethod
    def open(
        cls,
        config: Any,
        path: str,
        query: list[tuple[str, str]],
        what: str,
        *,
        tty: bool,
        refresh: Callable[[], None] | None = None,
        timeout: float = CONNECT_TIMEOUT,
    ) -> KubeChannelStream:
        """Connect to ``path?query`` with the context's TLS and credentials; 401 refreshes the token
        once (exec credential plugins); refused upgrades raise the API server's message."""
        import websocket

        from tamer_tui.core.kube.client import error_for, sync_websocket_options

        for attempt in (0, 1):
            base, headers, sslopt = sync_websocket_options(config)
            url = f"{base}{path}?{urllib.parse.urlencode(query)}"
            try:
                ws = websocket.create_connection(
                    url,
                    header=headers,
                    subprotocols=[V5, V4],
                    sslopt=sslopt,
                    timeout=timeout,
                    enable_multithread=True,
                    skip_utf8_validation=True,
                    http_no_proxy=["*"],
                )
            except websocket.WebSocketBadStatusException as exc:
                body = exc.resp_body if isinstance(getattr(exc, "resp_body", None), bytes) else b""
                if exc.status_code == 401 and refresh is not None and attempt == 0:
                    with contextlib.suppress(Exception):
                        refresh()
                    continue
                raise error_for(exc.status_code, body or b"", what) from None
            except websocket.WebSocketException as exc:
                raise RuntimeUnavailable(f"{what}: the API server refused the WebSocket ({exc})") from None
            except TimeoutError:
                raise RuntimeUnavailable(f"{what}: no answer from {config.server} in {timeout:.0f} s") from None
            except OSError as exc:
                raise RuntimeUnavailable(f"{what}: {config.server} unreachable ({exc})") from None
            ws.settimeout(None)
            return cls(ws, what, tty)
        raise RuntimeUnavailable(f"{what}: unauthorized")  # pragma: no cover - the loop always returns or raises

    def set_timeout(self, seconds: float | None) -> None:
        with contextlib.suppress(Exception):
            self.ws.settimeout(seconds)

    def read(self) -> tuple[int, bytes] | None:
        import websocket

        while True:
            if self._closed:
                return None
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                raise TimeoutError from None
            except (websocket.WebSocketException, OSError, AttributeError, ValueError) as exc:
                if not self._closed and self.status is None:
                    self.error_text = str(exc) or type(exc).__name__
                return None
            self._last_rx = time.monotonic()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return None
            if opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG) or not data:
                continue
            raw = data if isinstance(data, bytes) else str(data).encode()
            channel, payload = raw[0], raw[1:]
            if channel in (_STDOUT, _STDERR):
                if payload:
                    return channel, payload
            elif channel == _ERROR:
                self._take_status(payload)

    def _take_status(self, payload: bytes) -> None:
        if not payload:
            return
        try:
            doc = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            doc = {"status": "Failure", "message": payload.decode("utf-8", "replace")}
        if isinstance(doc, dict):
            self.status = doc

    def _send(self, channel: int, data: bytes) -> None:
        if self._closed:
            raise ConnectionDropped(f"{self.what}: connection closed")
        try:
            self.ws.send_binary(bytes((channel,)) + data)
        except Exception as exc:  # noqa: BLE001 - websocket-client raises several types
            raise ConnectionDropped(f"{self.what}: connection lost ({exc})") from None

    def write(self, data: bytes) -> None:
        for i in range(0, len(data), 32 * 1024):
            self._send(_STDIN, data[i : i + 32 * 1024])

    def close_stdin(self) -> None:
        if self.protocol == V5:
            with contextlib.suppress(ConnectionDropped):
                self._send(_CLOSE, bytes((_STDIN,)))

    def resize(self, width: int, height: int) -> None:
        with contextlib.suppress(ConnectionDropped):
            self._send(_RESIZE, json.dumps({"Width": int(width), "Height": int(height)}).encode())

    def heartbeat(self) -> None:
        """Ping the API server every :data:`PING_EVERY` seconds; when nothing at all came back for
        :data:`DEAD_AFTER` seconds the connection is dead (a network that vanished silently sends
        no reset): close it, so the session ends with :class:`ConnectionDropped` instead of hanging."""
        now = time.monotonic()
        if self._closed or self.status is not None:
            return
        if now - self._last_rx > DEAD_AFTER and self._last_ping > self._last_rx:
            self.error_text = f"no answer from the API server for {DEAD_AFTER:.0f} s"
            self.close()
            return
        if now - self._last_ping >= PING_EVERY:
            self._last_ping = now
            try:
                self.ws.ping()
            except Exception as exc:  # noqa: BLE001 - websocket-client raises several types
                self.error_text = f"ping failed ({exc})"
                self.close()

    def finish(self) -> int | None:
        if self.status is None:
            why = f" ({self.error_text})" if self.error_text else ""
            raise ConnectionDropped(f"{self.what}: the connection dropped before the process ended{why}")
        code, message = status_exit_code(self.status)
        if code is None:
            raise ExecFailed(f"{self.what}: {message}")
        return code

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.status is None:  # we end the session: say so politely (never wait for the answer)
            with contextlib.suppress(Exception):
                self.ws.sock.settimeout(1.0)
                self.ws.send_close()
        with contextlib.suppress(Exception):
            self.ws.abort()
        with contextlib.suppress(Exception):
            self.ws.shutdown()


def _pod_path(namespace: str, pod: str, sub: str = "") -> str:
    q = urllib.parse.quote
    path = f"/api/v1/namespaces/{q(namespace, safe='')}/pods/{q(pod, safe='')}"
    return f"{path}/{sub}" if sub else path


def _exec_query(container: str, argv: list[str], *, stdin: bool, tty: bool) -> list[tuple[str, str]]:
    query = [("command", a) for a in argv]
    query += [("container", container), ("stdin", _b(stdin)), ("stdout", "true"), ("stderr", _b(not tty)),
              ("tty", _b(tty))]
    return query


def _b(value: bool) -> str:
    return "true" if value else "false"


async def _kube_client(target: ExecTarget) -> Any:
    if target.kube is None:
        raise InvalidInput(f"{target.title}: no Kubernetes connection")
    return await target.kube.client(target.context)


async def _get_pod(client: Any, namespace: str, pod: str) -> dict[str, Any]:
    data = await client.get(_pod_path(namespace, pod), what=f"pod {namespace}/{pod}")
    obj: dict[str, Any] = json.loads(data)
    return obj


def _container_states(pod: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    status = pod.get("status") or {}
    out: dict[str, Mapping[str, Any]] = {}
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if isinstance(cs, Mapping) and cs.get("name"):
                out[str(cs["name"])] = cs.get("state") or {}
    return out


def _state_text(state: Mapping[str, Any]) -> str:
    for key in ("waiting", "terminated"):
        detail = state.get(key)
        if isinstance(detail, Mapping):
            reason = str(detail.get("reason") or key)
            code = detail.get("exitCode")
            return f"{key}: {reason}" + (f", exit code {code}" if code is not None else "")
    return "not started"


def check_pod(pod: Mapping[str, Any], container: str, title: str, verb: str) -> Mapping[str, Any]:
    """Raise a clear error unless ``container`` of ``pod`` runs; returns the container's spec."""
    spec = pod.get("spec") or {}
    phase = str((pod.get("status") or {}).get("phase") or "")
    if phase in ("Succeeded", "Failed"):
        raise TargetNotRunning(f"{title}: cannot {verb}: the pod has completed (phase {phase})")
    specs = {str(c.get("name")): c for key in ("containers", "ephemeralContainers", "initContainers")
             for c in spec.get(key) or [] if isinstance(c, Mapping)}
    if not container:
        raise InvalidInput(f"{title}: no container given (containers: {', '.join(specs) or 'none'})")
    if container not in specs:
        raise NotFound(f"{title}: the pod has no container {container!r} (containers: {', '.join(specs) or 'none'})")
    state = _container_states(pod).get(container) or {}
    if "running" not in state:
        raise TargetNotRunning(f"{title}: cannot {verb}: container {container} is not running ({_state_text(state)})")
    return specs[container]


async def pod_containers(kube: Any, context: str | None, namespace: str, pod: str) -> list[str]:
    """The containers of a pod for a picker: running ones first (in spec order), then the others;
    running ephemeral (debug) containers are included."""
    client = await kube.client(context)
    obj = await _get_pod(client, namespace, pod)
    spec = obj.get("spec") or {}
    states = _container_states(obj)
    names = [str(c.get("name")) for c in spec.get("containers") or [] if isinstance(c, Mapping) and c.get("name")]
    ephemeral = [str(c.get("name")) for c in spec.get("ephemeralContainers") or []
                 if isinstance(c, Mapping) and c.get("name") and "running" in (states.get(str(c.get("name"))) or {})]
    running = [n for n in names if "running" in (states.get(n) or {})]
    return running + ephemeral + [n for n in names if n not in running]


async def _pod_is_windows(client: Any, pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    if str((spec.get("os") or {}).get("name") or "").lower() == "windows":
        return True
    if str((spec.get("nodeSelector") or {}).get("kubernetes.io/os") or "").lower() == "windows":
        return True
    node = spec.get("nodeName")
    if node:
        with contextlib.suppress(TamerError, ValueError):
            data = await client.get(f"/api/v1/nodes/{urllib.parse.quote(str(node), safe='')}", what=f"node {node}",
                                    timeout=5.0)
            labels = (json.loads(data).get("metadata") or {}).get("labels") or {}
            return str(labels.get("kubernetes.io/os") or "").lower() == "windows"
    return False


async def _websocket_verbs(client: Any) -> tuple[str, ...]:
    """The RBAC verbs that authorize a WebSocket exec/attach: ``create`` from Kubernetes 1.30 on
    (AuthorizePodWebsocketUpgradeCreatePermission), ``create`` or ``get`` before."""
    try:
        info = await client.version(timeout=5.0)
        major = int("".join(ch for ch in str(info.get("major", "")) if ch.isdigit()) or 0)
        minor = int("".join(ch for ch in str(info.get("minor", "")) if ch.isdigit()) or 0)
    except (TamerError, ValueError, AttributeError, TypeError):
        return ("create", "get")
    return ("create",) if (major, minor) >= (1, 30) else ("create", "get")


async def _kube_allowed(client: Any, namespace: str, subresource: str, title: str) -> None:
    """A SelfSubjectAccessReview for ``pods/<subresource>``; raises Forbidden when RBAC refuses it,
    ignores reviews that cannot be made (the connection itself then reports any 403)."""
    from tamer_tui.core.kube.client import Forbidden

    verbs = await _websocket_verbs(client)
    for verb in verbs:
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": namespace, "verb": verb, "resource": "pods",
                                            "subresource": subresource}},
        }
        try:
            data = await client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                        body=json.dumps(review).encode(), what="access review", timeout=10.0)
            allowed = bool((json.loads(data).get("status") or {}).get("allowed"))
        except (TamerError, ValueError, AttributeError):
            return
        if allowed:
            return
    raise Forbidden(f"{title}: forbidden: you may not {verbs[0]} pods/{subresource} in namespace {namespace} "
                    f"(RBAC does not allow it)")


# ------------------------------------------------------------------------------------------------
# Running a command to its end (no TTY)
# ------------------------------------------------------------------------------------------------


def drain(stream: ExecStream, deadline: float, what: str, limit: int = OUTPUT_LIMIT) -> CommandResult:
    """Read ``stream`` until it ends or ``deadline`` (monotonic) passes; output and exit code.

    Always closes the stream. Output beyond ``limit`` bytes per stream is read and dropped."""
    out = bytearray()
    err = bytearray()
    dropped = [0, 0]
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            stream.set_timeout(remaining)
            item = stream.read()
            if item is None:
                break
            channel, data = item
            buf, idx = (err, 1) if channel == _STDERR else (out, 0)
            room = limit - len(buf)
            if room > 0:
                buf += data[:room]
            dropped[idx] += max(0, len(data) - max(room, 0))
        stream.set_timeout(None)
        try:
            code = stream.finish()
            note = ""
        except ExecFailed as exc:
            code, note = None, str(exc)
    except TimeoutError:
        raise ExecTimeout(f"{what}: the command did not finish in time") from None
    finally:
        stream.close()
    text_out = out.decode("utf-8", "replace")
    text_err = err.decode("utf-8", "replace")
    if dropped[0]:
        text_out += f"\n[{dropped[0]} more bytes of output dropped]\n"
    if dropped[1]:
        text_err += f"\n[{dropped[1]} more bytes of output dropped]\n"
    if note:
        text_err += ("" if not text_err or text_err.endswith("\n") else "\n") + note + "\n"
    return CommandResult(code, text_out, text_err)


async def _in_thread(open_stream: Callable[[], ExecStream], timeout: float, what: str) -> CommandResult:
    """Open and drain a stream in a worker thread; cancelling the caller closes the stream."""
    holder: dict[str, ExecStream] = {}
    cancelled = threading.Event()
    deadline = time.monotonic() + timeout

    def work() -> CommandResult:
        stream = open_stream()
        holder["stream"] = stream
        if cancelled.is_set():
            stream.close()
            raise ExecTimeout(f"{what}: cancelled")
        return drain(stream, deadline, what)

    task = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        cancelled.set()
        stream = holder.get("stream")
        if stream is not None:
            stream.close()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(task), 5.0)
        raise


def _split_shell(entry: str) -> list[str]:
    try:
        return shlex.split(entry)
    except ValueError:
        return entry.split()


def _probe_argv(shell_argv: list[str], windows: bool) -> list[str]:
    name = os.path.basename(shell_argv[0]).lower()
    if windows or name in _WINDOWS_SHELLS:
        if name.startswith("cmd"):
            return [shell_argv[0], "/c", "exit 0"]
        return [shell_argv[0], "-NoProfile", "-Command", "exit 0"]
    return [shell_argv[0], "-c", "exit 0"]


def _missing(result: CommandResult) -> bool:
    """Whether a probe result says the executable does not exist (rather than it failed)."""
    text = (result.stdout + result.stderr).lower()
    if result.exit_code in (126, 127):
        return True
    return result.exit_code is None and ("not found" in text or "no such file" in text)


def _reason(result: CommandResult) -> str:
    """The line of a failed probe's output that says why (the runtime's "not found" line)."""
    lines = [ln.strip() for ln in (result.stderr + "\n" + result.stdout).splitlines() if ln.strip()]
    for line in lines:
        low = line.lower()
        if "not found" in low or "no such file" in low:
            return line
    return lines[-1] if lines else f"exit code {result.exit_code}"


async def run_command(target: ExecTarget, argv: list[str], timeout: float = 60) -> CommandResult:
    """Run ``argv`` in the target without a TTY and without stdin; its output and exit code.

    Raises :class:`TargetNotRunning`/:class:`NotFound` for a bad target, ``Forbidden`` (403) when
    RBAC refuses ``pods/exec``, :class:`ExecTimeout` after ``timeout`` seconds and
    :class:`ConnectionDropped` when the connection breaks. A command the runtime cannot start
    (missing executable) comes back as a result: exit code 126/127 (Docker, Podman, most clusters)
    or ``None`` with the runtime's message on stderr."""
    argv = [str(a) for a in argv]
    if not argv:
        raise InvalidInput("nothing to run: the command is empty")
    if target.kind == "pod":
        _guard(target, "exec")
        return await _kube_run(target, argv, timeout)
    backend = _backend(target)
    await asyncio.to_thread(backend.check_running, target.runtime, target.ident, target.title)
    what = f"exec in {target.title}"
    return await _in_thread(
        lambda: backend.open_exec(target.runtime, target.ident, argv, tty=False, stdin=False, what=what),
        timeout, what)


async def _kube_run(target: ExecTarget, argv: list[str], timeout: float, *, check: bool = True) -> CommandResult:
    client = await _kube_client(target)
    if check:
        pod = await _get_pod(client, target.namespace, target.pod)
        check_pod(pod, target.container, target.title, "exec")
    what = f"exec in {target.title}"
    path = _pod_path(target.namespace, target.pod, "exec")
    query = _exec_query(target.container, argv, stdin=False, tty=False)
    refresh = getattr(client, "_refresh_token", None) if client.config.refresh is not None else None
    return await _in_thread(
        lambda: KubeChannelStream.open(client.config, path, query, what, tty=False, refresh=refresh,
                                       timeout=min(CONNECT_TIMEOUT, timeout)),
        timeout, what)


def _backend(target: ExecTarget) -> Any:
    """The module implementing exec for the target's container runtime."""
    if target.runtime is None:
        raise InvalidInput(f"{target.title}: no container runtime")
    kind = str(getattr(target.runtime, "kind", "") or "").lower()
    if kind.endswith("podman"):
        from tamer_tui.core import podman_exec

        return podman_exec
    if kind.endswith("docker"):
        from tamer_tui.core import docker_exec

        return docker_exec
    raise InvalidInput(f"{target.title}: exec is not supported for runtime kind {kind or '?'}")


# ------------------------------------------------------------------------------------------------
# Interactive sessions
# ------------------------------------------------------------------------------------------------


def native_terminal_available() -> bool:
    """Whether this platform can put the terminal in raw mode (POSIX ``termios``)."""
    if sys.platform == "win32":
        return False
    try:
        import termios  # noqa: F401 - only probing
        import tty  # noqa: F401
    except ImportError:
        return False
    return True


def cli_fallback_argv(target: ExecTarget, argv: list[str], tty: bool = True, *, attach: bool = False) -> list[str] | None:
    """The ``kubectl``/``docker``/``podman`` command line doing the same session, when that CLI is
    on PATH (``None`` otherwise). ``attach`` makes it an attach instead of ``exec argv``."""
    flags = ["-i", "-t"] if tty else ["-i"]
    if target.kind == "pod":
        exe = shutil.which("kubectl")
        if not exe:
            return None
        cmd = [exe]
        kubeconfig = getattr(target.kube, "kubeconfig", None)
        if kubeconfig:
            cmd += ["--kubeconfig", str(kubeconfig)]
        context = target.context or getattr(target.kube, "current", None)
        if context:
            cmd += ["--context", str(context)]
        cmd += ["-n", target.namespace]
        if attach:
            return [*cmd, "attach", *flags, target.pod, "-c", target.container]
        return [*cmd, "exec", *flags, target.pod, "-c", target.container, "--", *argv]
    endpoint = getattr(target.runtime, "endpoint", None)
    kind = str(getattr(target.runtime, "kind", "") or "").lower()
    url = str(getattr(endpoint, "url", "") or "")
    source = str(getattr(endpoint, "source", "") or "")
    if kind.endswith("podman"):
        exe = shutil.which("podman")
        if not exe:
            return None
        cmd = [exe] + (["--url", url] if url else [])
    else:
        exe = shutil.which("docker")
        if not exe:
            return None
        if source.startswith("docker context "):
            cmd = [exe, "--context", source[len("docker context "):].strip()]
        else:
            cmd = [exe] + (["-H", url] if url else [])
    if attach:
        return [*cmd, "attach", target.ident]
    return [*cmd, "exec", *flags, target.ident, *argv]


class Interactive:
    """A prepared interactive session (shell, exec with a TTY, attach); :meth:`run` plays it."""

    def __init__(
        self,
        description: str,
        opener: Callable[[], ExecStream],
        *,
        tty: bool,
        stdin: bool = True,
        cli_argv: list[str] | None = None,
        cli_name: str = "kubectl",
        detach_keys: bytes | None = None,
    ) -> None:
        self.description = description
        self.tty = tty
        self.stdin = stdin
        self.cli_argv = cli_argv
        self.cli_name = cli_name
        self.detach_keys = detach_keys
        self._opener = opener

    def run(self, stdin_fd: int | None = None, stdout_fd: int | None = None, stderr_fd: int | None = None) -> int | None:
        """BLOCKING: called on the main thread while the TUI is suspended. Puts the terminal in raw
        mode (restored in finally, always), bridges stdin -> stream and stream -> stdout, forwards the
        window size at start and on SIGWINCH (POSIX; the previous handler is restored after), returns
        the exit code (None if unknown, or detached) when the process exits, or raises TamerError when
        the connection drops. When termios is unavailable (Windows) or stdin is not a tty, runs the
        CLI fallback (subprocess with the inherited terminal) if present, else raises
        :class:`TerminalUnavailable` saying neither works."""
        in_fd = _fileno(sys.stdin, 0) if stdin_fd is None else stdin_fd
        out_fd = _fileno(sys.stdout, 1) if stdout_fd is None else stdout_fd
        err_fd = (_fileno(sys.stderr, 2) if stdout_fd is None else out_fd) if stderr_fd is None else stderr_fd
        native = native_terminal_available()
        if not native or not _isatty(in_fd):
            return self._run_cli(in_fd, out_fd, err_fd, "this platform has no raw terminal support (termios)"
                                 if not native else "stdin is not a terminal")
        try:
            stream = self._opener()
        except TransportUnsupported as exc:
            if not self.cli_argv:
                raise
            return self._run_cli(in_fd, out_fd, err_fd, str(exc))
        return bridge(stream, in_fd, out_fd, err_fd, tty=self.tty, detach_keys=self.detach_keys,
                      forward_stdin=self.stdin)

    def _run_cli(self, in_fd: int, out_fd: int, err_fd: int, why: str) -> int | None:
        if not self.cli_argv:
            raise TerminalUnavailable(f"{self.description}: cannot open an interactive session: {why}, "
                                      f"and {self.cli_name} was not found on PATH to fall back to")
        try:
            proc = subprocess.run(self.cli_argv, stdin=in_fd, stdout=out_fd, stderr=err_fd, check=False)
        except OSError as exc:
            raise TerminalUnavailable(f"{self.description}: {why}, and running {self.cli_argv[0]} failed: {exc}") from None
        return proc.returncode


def _fileno(stream: Any, default: int) -> int:
    try:
        return int(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return default


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _write_all(fd: int, data: bytes) -> None:
    """Write everything (the fd may be non-blocking: wait until it is writable)."""
    import select

    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        except InterruptedError:  # pragma: no cover - PEP 475 retries
            continue
        view = view[n:]


def _terminal_size(*fds: int) -> tuple[int, int] | None:
    """``(columns, lines)`` of the first fd that is a terminal."""
    for fd in fds:
        with contextlib.suppress(OSError, ValueError):
            size = os.get_terminal_size(fd)
            if size.columns > 0 and size.lines > 0:
                return size.columns, size.lines
    return None


def bridge(
    stream: ExecStream,
    in_fd: int,
    out_fd: int,
    err_fd: int | None = None,
    *,
    tty: bool = True,
    detach_keys: bytes | None = None,
    forward_stdin: bool = True,
) -> int | None:
    """Connect the terminal to ``stream`` until the process ends (POSIX; blocking).

    A reader thread copies the stream to ``out_fd`` (stderr frames to ``err_fd``); this thread copies
    ``in_fd`` to the stream and forwards the window size: at the start, at once on SIGWINCH (when
    on the main thread), and on every other wake-up (input, :data:`IDLE_WAKE`, or every 0.25 s off
    the main thread), so a terminal that sends no SIGWINCH is followed too. With ``tty`` the terminal
    is in raw mode for the session; without, SIGINT ends the session (and an output-only session
    reads keys unbuffered, so the detach keys work). ``detach_keys`` typed on stdin end the session
    locally (returns ``None``); without ``forward_stdin`` (an attach to a process without stdin)
    keys are read but not sent. Always closes the stream and restores the terminal and the signal
    handlers; the reader thread is joined."""
    import select
    import signal
    import termios
    import tty as ttymod

    err_fd = out_fd if err_fd is None else err_fd
    # raw for a TTY session; for an attach that only shows output, "keys" mode (no line buffering,
    # no echo, no XON/XOFF, but signals and output processing kept) so the detach keys and Ctrl-C
    # work; a session that forwards stdin without a TTY keeps the cooked terminal (local line editing)
    keys_mode = not tty and not forward_stdin
    saved_mode = termios.tcgetattr(in_fd) if (tty or keys_mode) and _isatty(in_fd) else None
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    done = threading.Event()
    failure: list[BaseException] = []
    flags = {"winch": False, "interrupt": False}
    on_main = threading.current_thread() is threading.main_thread()
    winch = getattr(signal, "SIGWINCH", None)
    previous: dict[int, Any] = {}
    reader: threading.Thread | None = None

    def wake() -> None:
        with contextlib.suppress(OSError):
            os.write(wake_w, b"x")

    def on_winch(_sig: int, _frame: Any) -> None:
        flags["winch"] = True
        wake()

    def on_int(_sig: int, _frame: Any) -> None:
        flags["interrupt"] = True
        wake()

    def pump() -> None:
        try:
            while True:
                item = stream.read()
                if item is None:
                    return
                channel, data = item
                _write_all(err_fd if channel == _STDERR else out_fd, data)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failure.append(exc)
        finally:
            done.set()
            wake()

    detached = False
    try:
        if saved_mode is not None and tty:
            ttymod.setraw(in_fd, termios.TCSANOW)
        elif saved_mode is not None:
            mode = termios.tcgetattr(in_fd)
            mode[0] &= ~(termios.IXON | termios.IXOFF)
            mode[3] &= ~(termios.ICANON | termios.ECHO)
            mode[6][termios.VMIN] = 1
            mode[6][termios.VTIME] = 0
            termios.tcsetattr(in_fd, termios.TCSANOW, mode)
        if on_main and winch is not None:
            previous[winch] = signal.signal(winch, on_winch)
        if on_main and not tty:
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_int)
        size = _terminal_size(out_fd, in_fd)
        if size is not None and tty:
            stream.resize(*size)
        reader = threading.Thread(target=pump, name="tamer-exec-reader", daemon=True)
        reader.start()
        stdin_open = True
        tail = b""
        poll = winch is None or not on_main
        heartbeat = getattr(stream, "heartbeat", None)
        while not done.is_set():
            fds = [wake_r] + ([in_fd] if stdin_open else [])
            ready, _, _ = select.select(fds, [], [], 0.25 if poll else IDLE_WAKE)
            if callable(heartbeat):
                heartbeat()
            if wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(wake_r, 4096)
            if flags["interrupt"]:
                detached = True
                break
            if tty:  # SIGWINCH wakes us at once; the size is checked on every wake-up anyway (cheap), so
                # a terminal that sends no SIGWINCH (not our controlling tty) is still followed
                flags["winch"] = False
                new = _terminal_size(out_fd, in_fd)
                if new is not None and new != size:
                    size = new
                    stream.resize(*size)
            if in_fd in ready and not done.is_set():
                try:
                    data = os.read(in_fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    stdin_open = False
                    if forward_stdin:
                        stream.close_stdin()
                    continue
                if detach_keys:
                    seen = tail + data
                    cut = seen.find(detach_keys)
                    if cut >= 0:
                        before = seen[len(tail):cut] if cut >= len(tail) else b""
                        if before and forward_stdin:
                            stream.write(before)
                        detached = True
                        break
                    tail = seen[-(len(detach_keys) - 1):] if len(detach_keys) > 1 else b""
                if forward_stdin:
                    stream.write(data)
        if detached:
            return None
        if reader is not None:
            reader.join()
        if failure:
            exc = failure[0]
            if isinstance(exc, TamerError):
                raise exc
            raise ConnectionDropped(f"connection lost ({exc})") from exc
        return stream.finish()
    finally:
        stream.close()
        if reader is not None:
            reader.join(10.0)
        for sig, handler in previous.items():
            with contextlib.suppress(Exception):
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if saved_mode is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(in_fd, termios.TCSADRAIN, saved_mode)
        os.close(wake_r)
        os.close(wake_w)


# ------------------------------------------------------------------------------------------------
# prepare_*
# ------------------------------------------------------------------------------------------------


def _guard(target: ExecTarget, action: str) -> None:
    guard = getattr(target.kube, "guard", None) if target.kind == "pod" else None
    if callable(guard):
        guard(action, target.context)


async def _kube_prepare(target: ExecTarget, verb: str) -> tuple[Any, dict[str, Any], Mapping[str, Any]]:
    _guard(target, verb)
    client = await _kube_client(target)
    pod = await _get_pod(client, target.namespace, target.pod)
    spec = check_pod(pod, target.container, target.title, verb)
    return client, pod, spec


def _kube_interactive(client: Any, target: ExecTarget, description: str, path: str,
                      query: list[tuple[str, str]], *, tty: bool, stdin: bool, cli: list[str] | None,
                      detach_keys: bytes | None = None) -> Interactive:
    refresh = getattr(client, "_refresh_token", None) if client.config.refresh is not None else None
    config = client.config
    what = description

    def opener() -> ExecStream:
        return KubeChannelStream.open(config, path, query, what, tty=tty, refresh=refresh)

    return Interactive(description, opener, tty=tty, stdin=stdin, cli_argv=cli, cli_name="kubectl",
                       detach_keys=detach_keys)


def _container_interactive(target: ExecTarget, description: str, opener: Callable[[], ExecStream], *, tty: bool,
                           stdin: bool, cli: list[str] | None, detach_keys: bytes | None = None) -> Interactive:
    kind = str(getattr(target.runtime, "kind", "") or "").lower()
    return Interactive(description, opener, tty=tty, stdin=stdin, cli_argv=cli,
                       cli_name="podman" if kind.endswith("podman") else "docker", detach_keys=detach_keys)


async def prepare_shell(target: ExecTarget, shells: list[str]) -> Interactive:
    """Check the target and pick the first of ``shells`` that exists in the container (Windows
    containers try ``cmd`` unless Windows shells are configured). Raises :class:`NoShellFound` when
    none exists, and the other TamerErrors for a missing/stopped target or a 403."""
    entries = [_split_shell(s) for s in shells if s and s.strip()] or [["bash"], ["sh"]]
    if target.kind == "pod":
        client, pod, _spec = await _kube_prepare(target, "exec")
        windows = await _pod_is_windows(client, pod)

        async def probe(argv: list[str]) -> CommandResult:
            return await _kube_run(target, argv, 20.0, check=False)
    else:
        backend = _backend(target)
        data = await asyncio.to_thread(backend.check_running, target.runtime, target.ident, target.title)
        windows = backend.is_windows(data)
        what = f"exec in {target.title}"

        async def probe(argv: list[str]) -> CommandResult:
            return await _in_thread(
                lambda: backend.open_exec(target.runtime, target.ident, argv, tty=False, stdin=False, what=what),
                20.0, what)
    if windows:
        entries = [e for e in entries if os.path.basename(e[0]).lower() in _WINDOWS_SHELLS] or [["cmd"]]
    tried: list[str] = []
    last = ""
    chosen: list[str] | None = None
    for entry in entries:
        result = await probe(_probe_argv(entry, windows))
        tried.append(entry[0])
        if result.exit_code == 0:
            chosen = entry
            break
        if not _missing(result):
            chosen = entry  # it exists (it just did not like the probe): use it
            break
        last = _reason(result)
    if chosen is None:
        raise NoShellFound(f"{target.title}: the container has no shell (tried {', '.join(tried)}): {last}")
    return await _prepare(target, chosen, tty=True, description=f"{chosen[0]} in {target.title}", checked=True)


async def prepare_exec(target: ExecTarget, argv: list[str], tty: bool = True) -> Interactive:
    """An interactive ``argv`` in the target (stdin attached; with a TTY unless ``tty`` is false)."""
    argv = [str(a) for a in argv]
    if not argv:
        raise InvalidInput("nothing to run: the command is empty")
    return await _prepare(target, argv, tty=tty, description=f"{shlex.join(argv)} in {target.title}", checked=False)


async def _prepare(target: ExecTarget, argv: list[str], *, tty: bool, description: str, checked: bool) -> Interactive:
    cli = cli_fallback_argv(target, argv, tty)
    if target.kind == "pod":
        if checked:
            client = await _kube_client(target)
        else:
            client, _pod, _spec = await _kube_prepare(target, "exec")
            await _kube_allowed(client, target.namespace, "exec", target.title)
        path = _pod_path(target.namespace, target.pod, "exec")
        query = _exec_query(target.container, argv, stdin=True, tty=tty)
        return _kube_interactive(client, target, description, path, query, tty=tty, stdin=True, cli=cli)
    backend = _backend(target)
    if not checked:
        await asyncio.to_thread(backend.check_running, target.runtime, target.ident, target.title)
    runtime, ident = target.runtime, target.ident

    def opener() -> ExecStream:
        stream: ExecStream = backend.open_exec(runtime, ident, argv, tty=tty, stdin=True, what=description)
        return stream

    return _container_interactive(target, description, opener, tty=tty, stdin=True, cli=cli)


async def prepare_attach(target: ExecTarget) -> Interactive:
    """Attach to the main process of the pod's container or of the container.

    With a TTY when the process has one; stdin when it keeps stdin open. Detach with Ctrl-P Ctrl-Q
    (Docker does it server side; for pods, Podman and output-only sessions the bridge does it
    locally); the session then returns ``None``."""
    if target.kind == "pod":
        client, _pod, spec = await _kube_prepare(target, "attach")
        await _kube_allowed(client, target.namespace, "attach", target.title)
        stdin = bool(spec.get("stdin"))
        tty = bool(spec.get("tty")) and stdin
        cli = cli_fallback_argv(target, [], tty, attach=True)
        query = [("container", target.container), ("stdin", _b(stdin)), ("stdout", "true"), ("stderr", _b(not tty)),
                 ("tty", _b(tty))]
        path = _pod_path(target.namespace, target.pod, "attach")
        description = f"attach to {target.title} (detach: Ctrl-P Ctrl-Q)"
        return _kube_interactive(client, target, description, path, query, tty=tty, stdin=stdin, cli=cli,
                                 detach_keys=DETACH_KEYS)
    backend = _backend(target)
    data = await asyncio.to_thread(backend.check_running, target.runtime, target.ident, target.title)
    config = data.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = bool(config.get("OpenStdin"))
    description = f"attach to {target.title} (detach: Ctrl-P Ctrl-Q)"
    runtime, ident = target.runtime, target.ident

    def opener() -> ExecStream:
        stream: ExecStream = backend.open_attach(runtime, ident, description)
        return stream

    # Docker detaches server side (the container's stdin stays open); Podman 4.x misses the keys
    # when both arrive in one read, so the bridge detaches locally for Podman (and for output-only
    # sessions of either engine, where nothing is sent)
    podman = str(getattr(target.runtime, "kind", "") or "").lower().endswith("podman")
    local_detach = DETACH_KEYS if (podman or not stdin) else None
    return _container_interactive(target, description, opener, tty=tty, stdin=stdin,
                                  cli=cli_fallback_argv(target, [], tty, attach=True), detach_keys=local_detach)
