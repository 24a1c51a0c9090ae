"""Every Docker/Podman host a user has configured, and whether each one answers.

:func:`list_hosts` starts from :func:`tamer_tui.core.detect.detect` (so the endpoints detection
already names keep their names: ``docker``, ``podman``, ``docker@ctx`` ...) and adds what detection
deliberately leaves out: every Docker CLI context, not only the current one, and the Docker/Podman
engines inside WSL distros. Each host records how it is reached (``transport``), where it was found
(``source``), whether it is the one Docker/Podman would use by default (``current``), its TLS
material and its ssh identity. Hosts are de-duplicated by URL (first wins; a ``wsl://DISTRO`` URL
counts once per engine).

:func:`probe` connects to one host through the normal runtime (:func:`make_runtime`), with a hard
timeout, and always closes what it opened; :func:`probe_all` probes many concurrently.

WSL (Windows): ``wsl.exe -l -q`` lists the distros (UTF-16LE on Windows; UTF-8 is accepted too);
for each distro one ``wsl.exe -d D -- docker version --format {{.Server.Version}}`` and one
``... podman version ...`` call (concurrently, each with a timeout) tell which engines it has. A
found engine is the host ``wsl://D`` reached through ``wsl.exe -d D -- docker system dial-stdio``
(see :mod:`tamer_tui.core.stdio_transport`). Docker Desktop's own ``docker-desktop`` and
``docker-desktop-data`` distros are skipped (they hold no usable engine CLI).

``list_hosts`` reads files and may run wsl.exe: call it off the UI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tamer_tui.core import platform
from tamer_tui.core.detect import (
    DOCKER_URL_SCHEMES,
    TLSConfig,
    detect,
    docker_contexts,
    normalize_url,
    tls_of,
    url_is_rootless,
    url_scheme,
)
from tamer_tui.core.errors import TamerError
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind

if TYPE_CHECKING:
    from tamer_tui.core.runtime import ContainerRuntime
    from tamer_tui.core.settings import Settings

__all__ = [
    "HostEntry",
    "HostStatus",
    "TLSConfig",
    "WslProbe",
    "decode_wsl_output",
    "host_from_endpoint",
    "list_hosts",
    "probe",
    "probe_all",
    "transport_of",
]

#: WSL distros that never hold a usable engine CLI (Docker Desktop's internal ones).
WSL_SKIP_DISTROS = ("docker-desktop", "docker-desktop-data")
WSL_CALL_TIMEOUT = 15.0


def transport_of(url: str, tls: TLSConfig | None = None) -> str:
    """``unix`` | ``tcp`` | ``tls`` | ``ssh`` | ``npipe`` | ``wsl`` for a URL (``tls``: tcp with TLS)."""
    scheme = url_scheme(url)
    if scheme in ("tcp", "http"):
        return "tls" if tls is not None else "tcp"
    if scheme == "https":
        return "tls"
    return scheme or "unix"


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One engine endpoint the user can switch to (see the module doc)."""

    name: str  # unique display name; the same as detect()'s for the endpoints it names
    kind: RuntimeKind
    url: str  # unix://, tcp://, ssh://user@host:port, npipe://, wsl://DISTRO
    transport: str  # "unix" | "tcp" | "tls" | "ssh" | "npipe" | "wsl"
    source: str  # "docker context foo", "DOCKER_HOST", "podman connection bar", "wsl distro Ubuntu" ...
    current: bool  # the one Docker/Podman would use by default
    tls: TLSConfig | None = None
    identity: str = ""  # ssh identity file
    rootless: bool = False
    description: str = ""  # a Docker context's description, the engine version WSL reported ...

    @property
    def key(self) -> str:
        return self.name

    def endpoint(self) -> RuntimeEndpoint:
        """The runtime endpoint for this host (TLS and identity included)."""
        tls = self.tls
        return RuntimeEndpoint(
            self.kind, self.name, self.url, self.source, self.rootless,
            tls_ca=tls.ca if tls else "", tls_cert=tls.cert if tls else "", tls_key=tls.key if tls else "",
            tls_verify=tls.verify if tls else None, identity=self.identity,
        )


def host_from_endpoint(endpoint: RuntimeEndpoint, current: bool = False, description: str = "") -> HostEntry:
    """The host entry of a detected endpoint."""
    tls = tls_of(endpoint)
    return HostEntry(endpoint.name, endpoint.kind, endpoint.url, transport_of(endpoint.url, tls), endpoint.source,
                     current, tls, endpoint.identity, endpoint.rootless, description)


@dataclass(frozen=True)
class HostStatus:
    """What a probe found: reachable with version/OS/latency, or the error that explains why not."""

    name: str
    reachable: bool
    version: str = ""
    api_version: str = ""
    os: str = ""
    latency_ms: float = 0.0  # one /_ping round trip on the open connection
    error: str = ""
    rootless: bool = False
    checked: float = field(default_factory=time.time)
    connect_ms: float = 0.0  # connecting + info (ssh/wsl: includes starting the child and its handshake)


# ------------------------------------------------------------------------------------------- WSL
def decode_wsl_output(data: bytes) -> str:
    """wsl.exe's own output: UTF-16LE on Windows (with or without BOM), or UTF-8 (``WSL_UTF8=1``)."""
    from tamer_tui.core.stdio_transport import decode_console_output  # (loads requests/urllib3)

    return decode_console_output(data)


@dataclass
class WslProbe:
    """Finds WSL distros and the engines inside them by running ``wsl.exe`` (see the module doc)."""

    exe: str
    timeout: float = WSL_CALL_TIMEOUT
    skip: tuple[str, ...] = WSL_SKIP_DISTROS
    notes: list[str] = field(default_factory=list)

    @classmethod
    def find(cls, env: Mapping[str, str] | None = None) -> WslProbe | None:
        """``TAMER_WSL_EXE``, else ``wsl.exe`` on PATH; None when there is no wsl.exe."""
        environ = os.environ if env is None else env
        exe = environ.get("TAMER_WSL_EXE") or shutil.which("wsl.exe", path=environ.get("PATH"))
        return cls(exe) if exe else None

    def _run(self, args: Sequence[str]) -> subprocess.CompletedProcess[bytes] | None:
        kwargs: dict[str, Any] = {}
        if sys.platform.startswith("win"):
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        try:
            return subprocess.run([self.exe, *args], capture_output=True, timeout=self.timeout,  # noqa: S603
                                  stdin=subprocess.DEVNULL, check=False, **kwargs)
        except subprocess.TimeoutExpired:
            self.notes.append(f"{self.exe} {' '.join(args)}: no answer within {self.timeout:.0f}s")
        except OSError as exc:
            self.notes.append(f"cannot run {self.exe}: {exc}")
        return None

    def list_distros(self) -> list[str]:
        """The distro names ``wsl.exe -l -q`` prints (Docker Desktop's internal ones left out)."""
        done = self._run(["-l", "-q"])
        if done is None:
            return []
        if done.returncode != 0:
            message = decode_wsl_output(done.stderr or done.stdout).strip()
            self.notes.append(f"wsl.exe -l -q failed ({done.returncode}): {message}")
            return []
        names: list[str] = []
        for line in decode_wsl_output(done.stdout).splitlines():
            name = line.strip().strip("\x00").strip()
            if name and name not in names and name not in self.skip:
                names.append(name)
        return names

    def engine_version(self, distro: str, kind: RuntimeKind) -> str:
        """The server version of ``kind`` inside ``distro`` ('' when it has none or it does not answer)."""
        done = self._run(["-d", distro, "--", kind.value, "version", "--format", "{{.Server.Version}}"])
        if done is None or done.returncode != 0:
            return ""
        lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
        return lines[-1].strip() if lines else ""

    def entries(self) -> list[HostEntry]:
        """One host per engine found in a distro, in distro order (Docker before Podman)."""
        distros = self.list_distros()
        jobs = [(d, kind) for d in distros for kind in (RuntimeKind.DOCKER, RuntimeKind.PODMAN)]
        if not jobs:
            return []
        with ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="tamer-wsl") as pool:
            versions = list(pool.map(lambda job: self.engine_version(*job), jobs))
        found: list[HostEntry] = []
        for (distro, kind), version in zip(jobs, versions, strict=True):
            if version:
                found.append(HostEntry(f"{kind.value}@wsl-{distro}", kind, f"wsl://{quote(distro, safe='')}", "wsl",
                                       f"wsl distro {distro}", False, description=f"{kind.value} {version}"))
        return found


# ----------------------------------------------------------------------------------- list_hosts
def _unique(name: str, used: set[str]) -> str:
    candidate, counter = name, 1
    while candidate in used:
        counter += 1
        candidate = f"{name}-{counter}"
    return candidate


def list_hosts(env: Mapping[str, str] | None = None, home: Path | None = None, *, wsl: WslProbe | None = None,
               find_wsl: bool = True, settings: Settings | None = None, probe_exists: Any = os.path.exists,
               platform_name: str | None = None, system_dirs: Sequence[Path] | None = None,
               notes: list[str] | None = None) -> list[HostEntry]:
    """Every host: detected endpoints, every Docker context, every Podman connection, WSL engines.

    ``wsl`` probes WSL; when None and ``find_wsl`` is true, :meth:`WslProbe.find` looks for
    wsl.exe (nothing happens without one). ``settings``, ``probe_exists``, ``platform_name`` and
    ``system_dirs`` are passed to :func:`detect` (tests pass their own); an engine disabled in
    ``settings`` gets no hosts at all. ``notes`` (when given) receives what detection and the WSL
    probe noticed on the way (unreadable files, a failing wsl.exe ...).
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    home_path = home or platform.home_dir(environ)
    detection = detect(environ, home_path, probe_exists, settings, platform_name, system_dirs)
    if notes is not None:
        notes.extend(detection.notes)
    hosts: list[HostEntry] = []
    seen: set[str] = set()
    used: set[str] = set()
    current_kinds: set[RuntimeKind] = set()
    contexts = {c.name: c for c in docker_contexts(environ, home_path, notes)}

    def add(entry: HostEntry) -> None:
        key = normalize_url(entry.url)
        if entry.transport == "wsl":  # wsl://DISTRO names a distro; its Docker and Podman are two hosts
            key += f"#{entry.kind.value}"
        if key in seen:
            return
        seen.add(key)
        used.add(entry.name)
        hosts.append(entry)

    for endpoint in detection.endpoints:
        current = endpoint.kind not in current_kinds
        current_kinds.add(endpoint.kind)
        description = ""
        if endpoint.source.startswith("docker context "):
            context = contexts.get(endpoint.source.removeprefix("docker context "))
            description = context.description if context else ""
        add(host_from_endpoint(endpoint, current, description))
    docker_on = settings is None or settings.runtimes.docker.enabled
    podman_on = settings is None or settings.runtimes.podman.enabled
    for context in contexts.values() if docker_on else ():
        if url_scheme(context.host) not in DOCKER_URL_SCHEMES:
            continue
        name = _unique(f"docker@{context.name}", used)
        add(HostEntry(name, RuntimeKind.DOCKER, context.host, transport_of(context.host, context.tls),
                      f"docker context {context.name}", False, context.tls,
                      rootless=url_is_rootless(context.host, environ), description=context.description))
    probe_wsl = wsl if wsl is not None else (WslProbe.find(environ) if find_wsl else None)
    if probe_wsl is not None:
        for entry in probe_wsl.entries():
            if not (docker_on if entry.kind is RuntimeKind.DOCKER else podman_on):
                continue
            add(HostEntry(_unique(entry.name, used), entry.kind, entry.url, entry.transport, entry.source,
                          entry.current, description=entry.description))
        if notes is not None:
            notes.extend(probe_wsl.notes)
    return hosts


# ---------------------------------------------------------------------------------------- probing
def _ping_blocking(runtime: ContainerRuntime) -> None:
    """One ``/_ping`` round trip on the runtime's open connection (Docker and Podman alike)."""
    ping = getattr(runtime, "_ping", None)
    if callable(ping):  # PodmanRuntime
        ping()
        return
    client = getattr(runtime, "_client", None)
    api = client() if callable(client) else None
    if api is not None and callable(getattr(api, "ping", None)):  # DockerRuntime's APIClient
        api.ping()


async def probe(entry: HostEntry, timeout: float = 5.0) -> HostStatus:
    """Connect to ``entry`` and read its version, within ``timeout`` seconds; always closes the runtime."""
    from tamer_tui.core.aio import run_blocking
    from tamer_tui.core.manager import make_runtime

    started = time.perf_counter()
    try:
        runtime = make_runtime(entry.endpoint(), timeout=timeout)
    except TamerError as exc:
        return HostStatus(entry.name, False, error=str(exc))
    try:
        info = await asyncio.wait_for(runtime.connect(), timeout)
        connect_ms = (time.perf_counter() - started) * 1000.0
        ping_started = time.perf_counter()
        try:
            await asyncio.wait_for(run_blocking(_ping_blocking, runtime), timeout)
            latency = (time.perf_counter() - ping_started) * 1000.0
        except (TimeoutError, TamerError, OSError):
            latency = connect_ms
        return HostStatus(entry.name, True, version=info.version, api_version=info.api_version, os=info.os,
                          latency_ms=round(latency, 2), rootless=info.rootless, connect_ms=round(connect_ms, 2))
    except TimeoutError:
        return HostStatus(entry.name, False, error=f"no answer within {timeout:g}s from {entry.url}",
                          connect_ms=round((time.perf_counter() - started) * 1000.0, 2))
    except TamerError as exc:
        return HostStatus(entry.name, False, error=str(exc),
                          connect_ms=round((time.perf_counter() - started) * 1000.0, 2))
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never raises
        return HostStatus(entry.name, False, error=f"{type(exc).__name__}: {exc}",
                          connect_ms=round((time.perf_counter() - started) * 1000.0, 2))
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(runtime.close(), max(timeout, 1.0))


async def probe_all(entries: Iterable[HostEntry], timeout: float = 5.0) -> list[HostStatus]:
    """Probe every host concurrently; statuses come back in the order of ``entries``."""
    return list(await asyncio.gather(*(probe(e, timeout) for e in entries)))
