"""``tamer doctor``: what Tamer sees on this machine, as JSON or as an aligned text report.

The report lists every detected container runtime (probed concurrently, each with its own timeout,
so a dead socket never hangs the doctor), the Kubernetes contexts found in the kubeconfig files
(each probed concurrently with a timeout: reachability, version, node count and flavor), other
kubeconfigs found on the machine (k3s, minikube, kind, WSL) and whether they are merged, the tools on PATH, WSL/tmux/SSH facts, the keyring backend and the
paths Tamer reads and writes.

Runtimes are probed by a callable the caller injects (the app passes one that builds the real
runtime and calls ``connect()``). Without one, :func:`probe_socket_version` is used: a raw HTTP
``GET /_ping`` and ``GET /version`` over the unix socket (or TCP), which works for Docker and for
Podman's Docker-compatible API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tamer_tui.core import credentials, detect, platform
from tamer_tui.core.errors import PermissionDenied, RuntimeUnavailable, TamerError
from tamer_tui.core.kube import clusters, flavor, kubeconfig
from tamer_tui.core.models import RuntimeEndpoint, RuntimeInfo
from tamer_tui.core.settings import Settings

ProbeRuntime = Callable[[RuntimeEndpoint], Awaitable[RuntimeInfo]]

_MAX_RESPONSE = 4 * 1024 * 1024


# ------------------------------------------------------------------------------ raw socket probe
async def _http_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
                    host: str) -> tuple[int, dict[str, str], bytes]:
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tamer-doctor\r\n"
               "Accept: application/json\r\nConnection: close\r\n\r\n")
    writer.write(request.encode("ascii"))
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise RuntimeUnavailable(f"not an HTTP API (got {lines[0][:60]!r})")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, _sep, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
            if len(body) > _MAX_RESPONSE:
                raise RuntimeUnavailable("response too large")
        return status, headers, bytes(body)
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    return status, headers, await reader.read(_MAX_RESPONSE)


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    scheme = detect.url_scheme(url)
    if scheme == "unix":
        path = detect.socket_path(url) or ""
        if not hasattr(asyncio, "open_unix_connection"):
            raise RuntimeUnavailable(f"unix sockets are not supported on this platform ({url})")
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except FileNotFoundError as err:
            raise RuntimeUnavailable(f"socket {path} does not exist (daemon not running?)") from err
        except PermissionError as err:
            raise PermissionDenied(
                f"permission denied on {path} (is your user in the group that owns the socket?)") from err
        except ConnectionRefusedError as err:
            raise RuntimeUnavailable(f"connection refused on {path} (daemon not running?)") from err
        return reader, writer, "localhost"
    if scheme in ("tcp", "http"):
        parts = urlsplit("http://" + url.partition("://")[2])
        host = parts.hostname or "127.0.0.1"
        port = parts.port or 2375
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as err:
            raise RuntimeUnavailable(f"cannot connect to {host}:{port}: {err.strerror or err}") from err
        return reader, writer, f"{host}:{port}"
    raise RuntimeUnavailable(f"the built-in probe cannot reach {scheme or 'this'}:// endpoints ({url}); "
                             "the runtime backend can")


async def _request(url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer, host = await _open(url)
    try:
        return await _http_get(reader, writer, path, host)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as err:
        raise RuntimeUnavailable(f"malformed HTTP answer from {url}: {err}") from err
    except ConnectionError as err:
        raise RuntimeUnavailable(f"connection to {url} broke: {err}") from err
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ConnectionError):
            pass


def _check_status(url: str, path: str, status: int, body: bytes) -> None:
    if status in (401, 403):
        raise PermissionDenied(f"{url} refused {path}: HTTP {status}")
    if status >= 400:
        text = body[:200].decode("utf-8", errors="replace").strip()
        raise RuntimeUnavailable(f"{url} answered {path} with HTTP {status}: {text}")


async def probe_socket_version(url: str) -> dict[str, Any]:
    """``GET /_ping`` then ``GET /version`` on a Docker-compatible API; returns the version JSON.

    Works over ``unix://`` (asyncio unix connection) and ``tcp://``/``http://``. The returned dict
    is Docker's ``/version`` document (``Version``, ``ApiVersion``, ``Os``, ``Arch``,
    ``Components`` ...) plus ``"_ping"``: the body of ``/_ping`` (``"OK"``). Raises
    :class:`RuntimeUnavailable` or :class:`PermissionDenied` with a readable message. No timeout of
    its own: callers wrap it (``run_doctor`` does).
    """
    status, _headers, body = await _request(url, "/_ping")
    _check_status(url, "/_ping", status, body)
    ping = body.decode("utf-8", errors="replace").strip()
    status, _headers, body = await _request(url, "/version")
    _check_status(url, "/version", status, body)
    try:
        data = json.loads(body)
    except ValueError as err:
        raise RuntimeUnavailable(f"{url} /version did not return JSON: {err}") from err
    if not isinstance(data, dict):
        raise RuntimeUnavailable(f"{url} /version returned {type(data).__name__}, not an object")
    data["_ping"] = ping
    return data


async def socket_probe(endpoint: RuntimeEndpoint) -> RuntimeInfo:
    """The fallback runtime probe: :func:`probe_socket_version` turned into a RuntimeInfo."""
    data = await probe_socket_version(endpoint.url)
    version = str(data.get("Version", ""))
    for component in data.get("Components") or []:
        if isinstance(component, dict) and str(component.get("Name", "")).lower().startswith("podman"):
            version = str(component.get("Version", version))
    return RuntimeInfo(
        name=endpoint.name,
        kind=endpoint.kind,
        url=endpoint.url,
        version=version,
        api_version=str(data.get("ApiVersion", "")),
        os=str(data.get("Os", "")),
        arch=str(data.get("Arch", "")),
        rootless=endpoint.rootless,
    )


# ------------------------------------------------------------------------------------ kubeconfig
@dataclass
class KubeContext:
    """One kubeconfig context as the doctor reports it: parsed, then probed.

    ``reachable`` is ``None`` when the context was not probed; ``flavor`` is the distribution
    (:mod:`tamer_tui.core.kube.flavor`), decided from the server when it answered, else from
    kubeconfig hints; ``nodes`` is ``None`` when the nodes could not be listed (``nodes_error``).
    """

    name: str
    cluster: str
    server: str
    namespace: str
    user: str
    file: str
    current: bool = False
    flavor: str = ""
    flavor_evidence: str = ""
    reachable: bool | None = None
    version: str = ""
    nodes: int | None = None
    error: str = ""
    nodes_error: str = ""
    elapsed_ms: float = 0.0


@dataclass
class FoundKubeconfigInfo:
    """A kubeconfig found outside the loaded files (k3s, minikube, kind, WSL)."""

    kind: str
    name: str
    path: str
    origin: str
    contexts: list[str]
    merged: bool
    error: str = ""


def _report_contexts(config: kubeconfig.KubeConfig) -> list[KubeContext]:
    return [KubeContext(
        name=ctx.name,
        cluster=ctx.cluster,
        server=ctx.server,
        namespace=ctx.effective_namespace,
        user=ctx.user,
        file=ctx.source_file,
        current=ctx.name == config.current_context,
        error=ctx.problem,
    ) for ctx in config.contexts.values()]


def read_kube_contexts(paths: Sequence[Path | tuple[Path, str]],
                       errors: list[str] | None = None) -> list[KubeContext]:
    """Contexts from kubeconfig files, merged the way kubectl merges them (not probed).

    The first file that defines a context (or cluster, or user) name wins, and the first
    ``current-context`` found is the current one. Missing files are skipped; unreadable or invalid
    ones are reported in ``errors`` (see :func:`tamer_tui.core.kube.kubeconfig.load_files`).
    """
    config = kubeconfig.load_files([p if isinstance(p, tuple) else (p, "default") for p in paths])
    if errors is not None:
        errors.extend(config.warnings)
    return _report_contexts(config)


async def _probe_kube_context(config: kubeconfig.KubeConfig, item: KubeContext, timeout: float,
                              env: Mapping[str, str]) -> None:
    """Probe one context and fill in ``item`` (never raises)."""
    ctx = config.contexts[item.name]
    try:
        params = config.connection_params(ctx)
    except kubeconfig.KubeConfigError as err:
        hint = flavor.classify(None, [], ctx)
        item.flavor, item.flavor_evidence = hint.name, hint.evidence
        item.reachable, item.error = False, str(err)
        return
    try:
        probe = await asyncio.wait_for(flavor.probe_context(params, timeout, context=ctx, env=env), timeout + 2)
    except TimeoutError:
        item.reachable, item.error = False, f"no answer within {timeout:g}s"
        return
    item.flavor, item.flavor_evidence = probe.flavor.name, probe.flavor.evidence
    item.reachable, item.error, item.nodes_error = probe.reachable, probe.error, probe.nodes_error
    item.version, item.nodes, item.elapsed_ms = probe.git_version, probe.node_count, probe.elapsed_ms


# ---------------------------------------------------------------------------------------- report
@dataclass
class RuntimeCheck:
    """One runtime as the doctor saw it."""

    kind: str
    name: str
    url: str
    source: str
    rootless: bool
    reachable: bool
    version: str = ""
    api_version: str = ""
    os: str = ""
    arch: str = ""
    error: str = ""
    elapsed_ms: float = 0.0


@dataclass
class DoctorReport:
    """Everything ``tamer doctor`` prints."""

    tamer_version: str
    python: str
    platform: str
    wsl: bool
    tmux: bool
    ssh: bool
    runtimes: list[RuntimeCheck] = field(default_factory=list)
    kube_contexts: list[KubeContext] = field(default_factory=list)
    kubeconfig: list[str] = field(default_factory=list)
    found_kubeconfigs: list[FoundKubeconfigInfo] = field(default_factory=list)
    tools: dict[str, str | None] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    keyring: str = ""
    keyring_ok: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what :meth:`to_json` serialises)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def to_text(self) -> str:
        """A readable report with aligned columns."""
        out: list[str] = []

        def section(title: str) -> None:
            if out:
                out.append("")
            out.append(title)

        def pairs(rows: Sequence[tuple[str, str]]) -> None:
            width = max((len(k) for k, _v in rows), default=0)
            out.extend(f"  {k.ljust(width)}  {v}" for k, v in rows)

        def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
            widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
            for row in [header, *rows]:
                out.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

        section("Tamer doctor")
        pairs([
            ("tamer", self.tamer_version),
            ("python", self.python),
            ("platform", self.platform),
            ("WSL", "yes" if self.wsl else "no"),
            ("tmux", "yes" if self.tmux else "no"),
            ("SSH session", "yes" if self.ssh else "no"),
            ("keyring", ("" if self.keyring_ok else "UNAVAILABLE: ") + self.keyring),
        ])
        section("Container runtimes")
        if self.runtimes:
            rows = []
            for rt in self.runtimes:
                status = f"ok {rt.version} (API {rt.api_version})" if rt.reachable else f"ERROR: {rt.error}"
                rows.append([rt.name, rt.kind, rt.url, rt.source, "yes" if rt.rootless else "no", status])
            table(["NAME", "KIND", "URL", "SOURCE", "ROOTLESS", "STATUS"], rows)
        else:
            out.append("  none found (set DOCKER_HOST / CONTAINER_HOST or start a daemon)")
        section("Kubernetes contexts")
        if self.kube_contexts:
            table(["", "NAME", "CLUSTER", "SERVER", "NAMESPACE", "FLAVOR", "STATUS"],
                  [["*" if c.current else "", c.name, c.cluster, c.server, c.namespace, c.flavor or "-",
                    _kube_status(c)] for c in self.kube_contexts])
        else:
            out.append("  none found in " + (", ".join(self.kubeconfig) or "no kubeconfig"))
        if self.found_kubeconfigs:
            section("Other kubeconfigs found")
            rows = []
            for f in self.found_kubeconfigs:
                if f.error:
                    state = f"ERROR: {f.error}"
                elif f.merged:
                    state = "merged"
                elif f.path:
                    state = f"not merged: tamer kubeconfig import {f.path}"
                else:
                    state = f"not merged: {f.origin}"
                rows.append([f.kind, f.name, ", ".join(f.contexts) or "-", state])
            table(["KIND", "NAME", "CONTEXTS", "STATE"], rows)
        section("Tools")
        pairs([(tool, path or "-") for tool, path in self.tools.items()])
        section("Paths")
        pairs(list(self.paths.items()))
        if self.notes:
            section("Notes")
            out.extend(f"  - {note}" for note in self.notes)
        return "\n".join(out) + "\n"


def _kube_status(c: KubeContext) -> str:
    if c.reachable is None:
        return f"ERROR: {c.error}" if c.error else "-"
    if not c.reachable:
        return f"ERROR: {c.error}"
    if c.error:
        return f"reachable, {c.error}"
    nodes = f"{c.nodes} node{'s' if c.nodes != 1 else ''}" if c.nodes is not None else \
        f"nodes unknown ({c.nodes_error.removeprefix('nodes: ').split(':')[0]})" if c.nodes_error else "nodes unknown"
    return f"ok {c.version}, {nodes}"


async def _check(endpoint: RuntimeEndpoint, probe: ProbeRuntime, timeout: float) -> RuntimeCheck:
    started = time.perf_counter()

    def result(reachable: bool, info: RuntimeInfo | None = None, error: str = "") -> RuntimeCheck:
        return RuntimeCheck(
            kind=endpoint.kind.value, name=endpoint.name, url=endpoint.url, source=endpoint.source,
            rootless=endpoint.rootless, reachable=reachable,
            version=info.version if info else "", api_version=info.api_version if info else "",
            os=info.os if info else "", arch=info.arch if info else "", error=error,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1))

    try:
        info = await asyncio.wait_for(probe(endpoint), timeout)
    except TimeoutError:
        error = f"no answer within {timeout:g}s"
    except TamerError as err:
        error = str(err)
    except Exception as err:
        error = f"{type(err).__name__}: {err}"
    else:
        return result(True, info)
    return result(False, error=error or "unknown error")


def _kubeconfig_files(settings: Settings, env: Mapping[str, str], home: Path | None) -> list[tuple[Path, str]]:
    return kubeconfig.kubeconfig_paths(settings.kube.kubeconfig or None, env, home)


async def run_doctor(settings: Settings, probe_runtime: ProbeRuntime | None = None, timeout: float = 3.0, *,
                     env: Mapping[str, str] | None = None, home: Path | None = None,
                     endpoints: Sequence[RuntimeEndpoint] | None = None, probe_kube: bool = True,
                     discover_kube: bool = True) -> DoctorReport:
    """Build the report.

    ``probe_runtime`` connects to one endpoint and returns its RuntimeInfo (default:
    :func:`socket_probe`). All probes run concurrently, each cancelled after ``timeout`` seconds.
    ``endpoints`` defaults to :func:`tamer_tui.core.detect.detect` with ``settings``; ``env`` and
    ``home`` default to the real environment. Every kubeconfig context is probed concurrently
    (``/version`` and nodes, each bounded by ``timeout``) unless ``probe_kube`` is false; kubeconfigs
    outside the loaded files (k3s, minikube, kind, WSL) are looked for unless ``discover_kube`` is
    false.
    """
    from tamer_tui import __version__

    environ: Mapping[str, str] = os.environ if env is None else env
    probe = probe_runtime or socket_probe
    notes: list[str] = []
    if endpoints is None:
        detection = await asyncio.to_thread(detect.detect, environ, home, os.path.exists, settings)
        endpoints = detection.endpoints
        notes.extend(detection.notes)
    kube_files = _kubeconfig_files(settings, environ, home)
    kube_config = await asyncio.to_thread(kubeconfig.load_files, kube_files)
    notes.extend(kube_config.warnings)
    contexts = _report_contexts(kube_config)
    kube_probes = [_probe_kube_context(kube_config, c, timeout, environ) for c in contexts] if probe_kube else []
    runtime_task = asyncio.ensure_future(asyncio.gather(*(_check(ep, probe, timeout) for ep in endpoints)))
    await asyncio.gather(*kube_probes)
    checks: list[RuntimeCheck] = list(await runtime_task)
    found: list[FoundKubeconfigInfo] = []
    if discover_kube:
        try:
            discovery = await asyncio.wait_for(
                clusters.discover(kube_config, env=environ, home=home, timeout=timeout), timeout + 2)
        except TimeoutError:
            notes.append(f"looking for k3s/minikube/kind/WSL kubeconfigs took longer than {timeout:g}s")
        else:
            notes.extend(discovery.warnings)
            found = [FoundKubeconfigInfo(f.kind, f.name, f.path, f.origin, list(f.contexts), f.merged, f.error)
                     for f in discovery.found]
    tools = await asyncio.to_thread(platform.tools_on_path, environ, home)
    keyring_ok, keyring_desc = await asyncio.to_thread(credentials.backend_status)
    return DoctorReport(
        tamer_version=__version__,
        python=sys.version.split()[0],
        platform=sys.platform,
        wsl=platform.is_wsl(environ),
        tmux=platform.in_tmux(environ),
        ssh=platform.over_ssh(environ),
        runtimes=list(checks),
        kube_contexts=contexts,
        kubeconfig=[str(p) for p, _origin in kube_files],
        found_kubeconfigs=found,
        tools=tools,
        paths=platform.config_paths(environ, home),
        keyring=keyring_desc,
        keyring_ok=keyring_ok,
        notes=notes,
    )
