"""Podman exec and attach over the libpod REST API: hijacked connections, TTY resize, exit codes.

Sessions are created and inspected through the runtime's own (blocking) libpod client
(``PodmanRuntime._call``: its base URL and the service's ``/vX.Y.Z/libpod/`` path prefix), and the
stream is a hijacked connection opened on a raw socket (``POST .../exec/{id}/start`` or
``.../containers/{id}/attach`` with ``Connection: Upgrade``; Podman answers ``101 UPGRADED``), read
and written by :class:`tamer_tui.core.docker_exec.HijackedStream` (the framing is Docker's).

Raw hijacking works for ``unix://`` and ``tcp://`` services; ``ssh://`` connections are refused with a
clear message (the interactive fallback is then the ``podman`` CLI). Everything here is blocking.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Mapping
from typing import Any

from tamer_tui.core.docker_exec import (
    HijackedStream,
    attach_exit,
    endpoint_address,
    env_for_tty,
    hijack,
    wait_exit,
)
from tamer_tui.core.errors import BackendError, Conflict, NotFound, TamerError
from tamer_tui.core.exec import TargetNotRunning, TransportUnsupported


def _q(ident: str) -> str:
    return urllib.parse.quote(ident, safe=":@")


def _call(runtime: Any, method: str, path: str, what: str, **kwargs: Any) -> Any:
    """One libpod request through the runtime's client; "not running" conflicts get their own error."""
    try:
        return runtime._call(method, path, what, **kwargs)  # noqa: SLF001 - the runtime's blocking request helper
    except Conflict as exc:
        text = str(exc).lower()
        if "running" in text or "improper" in text or "paused" in text:
            raise TargetNotRunning(f"{what}: {exc}") from None
        raise


def _prefix(runtime: Any) -> str:
    """The service's ``/vX.Y.Z/libpod/`` prefix (as the runtime negotiated it)."""
    prefix = str(getattr(runtime, "_path_prefix", "") or "")
    if not prefix:
        prefix = str(getattr(runtime._client(), "path_prefix", "") or "/libpod/")  # noqa: SLF001
    return prefix if prefix.endswith("/") else prefix + "/"


def _url(runtime: Any, what: str) -> str:
    url = str(runtime.endpoint.url)
    if endpoint_address(url) is None:
        raise TransportUnsupported(f"{what}: exec needs a unix:// or tcp:// Podman service, not {url} "
                                   "(the podman CLI can do it: podman --url URL exec -it ...)")
    return url


def inspect_container(runtime: Any, ident: str) -> dict[str, Any]:
    """libpod inspect of the container."""
    return dict(_call(runtime, "GET", f"/containers/{_q(ident)}/json", f"container '{ident}'") or {})


def check_running(runtime: Any, ident: str, title: str) -> dict[str, Any]:
    """The container's inspect data; raises if it does not exist or is not running (or is paused)."""
    try:
        data = inspect_container(runtime, ident)
    except NotFound:
        raise NotFound(f"{title}: no such container") from None
    state = data.get("State") or {}
    status = str(state.get("Status") or "").lower()
    if state.get("Paused") or status == "paused":
        raise TargetNotRunning(f"{title}: the container is paused (unpause it first)")
    if not state.get("Running"):
        code = state.get("ExitCode")
        extra = f", exit code {code}" if status in ("exited", "stopped") and code is not None else ""
        raise TargetNotRunning(f"{title}: the container is not running ({status or 'not running'}{extra})")
    return data


def is_windows(data: Mapping[str, Any]) -> bool:
    """Podman runs Linux containers (also on Windows, in its machine)."""
    return str(data.get("Os") or "").lower() == "windows"


class PodmanExecStream(HijackedStream):
    """A libpod exec session's hijacked connection."""

    def __init__(self, runtime: Any, exec_id: str, conn: Any, *, tty: bool, buffered: bytes, what: str) -> None:
        super().__init__(conn, tty=tty, buffered=buffered, what=what)
        self.runtime = runtime
        self.exec_id = exec_id

    def resize(self, width: int, height: int) -> None:
        if not self.tty:
            return
        with contextlib.suppress(TamerError):
            _call(self.runtime, "POST", f"/exec/{self.exec_id}/resize", self.what, params={"h": height, "w": width})

    def finish(self) -> int | None:
        return wait_exit(lambda: _call(self.runtime, "GET", f"/exec/{self.exec_id}/json", self.what) or {},
                         self.what)


class PodmanAttachStream(HijackedStream):
    """A libpod attach session's hijacked connection."""

    def __init__(self, runtime: Any, ident: str, conn: Any, *, tty: bool, buffered: bytes, what: str) -> None:
        super().__init__(conn, tty=tty, buffered=buffered, what=what)
        self.runtime = runtime
        self.ident = ident

    def resize(self, width: int, height: int) -> None:
        if not self.tty:
            return
        with contextlib.suppress(TamerError):
            _call(self.runtime, "POST", f"/containers/{_q(self.ident)}/resize", self.what,
                  params={"h": height, "w": width})

    def finish(self) -> int | None:
        """The container's exit code if it stopped; ``None`` if it still runs (detached)."""
        return attach_exit(lambda: inspect_container(self.runtime, self.ident), self.detached, self.what)


def open_exec(runtime: Any, ident: str, argv: list[str], *, tty: bool, stdin: bool, what: str) -> PodmanExecStream:
    """Create and start a libpod exec session; the returned stream is live."""
    url = _url(runtime, what)
    body: dict[str, Any] = {
        "Cmd": list(argv),
        "AttachStdin": stdin,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": tty,
    }
    if tty:
        body["Env"] = env_for_tty()
    created = _call(runtime, "POST", f"/containers/{_q(ident)}/exec", what, body=body)
    exec_id = str((created or {}).get("Id") or "")
    if not exec_id:
        raise BackendError(f"{what}: Podman did not create an exec session")
    sock, rest = hijack(url, f"{_prefix(runtime)}exec/{exec_id}/start", {"Detach": False, "Tty": tty}, what)
    return PodmanExecStream(runtime, exec_id, sock, tty=tty, buffered=rest, what=what)


def open_attach(runtime: Any, ident: str, what: str) -> PodmanAttachStream:
    """Attach to the container's main process (stdin only if the container keeps it open)."""
    url = _url(runtime, what)
    data = check_running(runtime, ident, what)
    config = data.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = bool(config.get("OpenStdin"))
    params = {"stdin": "true" if stdin else "false", "stdout": "true", "stderr": "true", "stream": "true",
              "logs": "false", "detachKeys": "ctrl-p,ctrl-q"}  # the service has no default over the API
    sock, rest = hijack(url, f"{_prefix(runtime)}containers/{_q(ident)}/attach", None, what, params=params)
    return PodmanAttachStream(runtime, ident, sock, tty=tty, buffered=rest, what=what)
