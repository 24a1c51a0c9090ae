"""Docker backend: the docker SDK's low-level ``APIClient``, parsed into our compact rows.

We never build the SDK's high-level models: list calls return the daemon's JSON, which the pure
``parse_*`` functions below turn into rows (they are unit-tested with real captured payloads).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar, cast

from tamer_tui.core.aio import iterate_blocking, iterate_blocking_batches, run_blocking
from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
    TamerError,
)
from tamer_tui.core.logwire import LogBatch, decode_log_body, guarded, merge_batches, response_body
from tamer_tui.core.models import (
    Capability,
    ContainerRow,
    ContainerSpec,
    DiskUsage,
    ExecResult,
    ImageRow,
    LogLine,
    NetworkRow,
    PruneResult,
    PullProgress,
    RuntimeEndpoint,
    RuntimeEvent,
    RuntimeInfo,
    RuntimeKind,
    StatsSample,
    VolumeRow,
)
from tamer_tui.core.runspec import Limits, docker_update_body, restart_parts
from tamer_tui.core.runtime import ContainerRuntime

T = TypeVar("T")

_HEALTH_RE = re.compile(r"\((healthy|unhealthy|health: starting)\)")


# -- pure parsers -----------------------------------------------------------------------------
def parse_time(value: Any) -> float:
    """Docker gives unix seconds in lists and RFC 3339 (nanoseconds) in inspect output."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if text.startswith("0001-01-01"):
        return 0.0
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", text)
    if not m:
        return 0.0
    base, frac, tz = m.group(1), m.group(2) or "", m.group(3) or "Z"
    tz = "+00:00" if tz == "Z" else tz
    dt = datetime.fromisoformat(base + tz)
    return dt.timestamp() + (float("0" + frac[:10]) if frac else 0.0)


def format_ports(ports: list[dict[str, Any]] | None) -> str:
    """``0.0.0.0:8080->80/tcp, 443/tcp`` from the list payload's ``Ports``."""
    seen: list[str] = []
    for p in ports or []:
        private = p.get("PrivatePort")
        proto = p.get("Type", "tcp")
        public = p.get("PublicPort")
        if public:
            ip = p.get("IP") or "0.0.0.0"
            if ":" in ip:
                ip = f"[{ip}]"
            text = f"{ip}:{public}->{private}/{proto}"
        else:
            text = f"{private}/{proto}"
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


def health_from(payload: dict[str, Any]) -> str:
    health = payload.get("Health")
    if isinstance(health, dict) and health.get("Status"):
        status = str(health["Status"])
        return "" if status == "none" else status
    m = _HEALTH_RE.search(str(payload.get("Status", "")))
    if not m:
        return ""
    return "starting" if m.group(1) == "health: starting" else m.group(1)


def parse_container(runtime: str, c: dict[str, Any]) -> ContainerRow:
    names = c.get("Names") or []
    name = (names[0] if names else c.get("Id", "")[:12]).lstrip("/")
    labels = c.get("Labels") or {}
    return ContainerRow(
        runtime=runtime,
        id=c.get("Id", ""),
        name=name,
        image=c.get("Image", ""),
        state=str(c.get("State", "")).lower(),
        status=c.get("Status", ""),
        health=health_from(c),
        ports=format_ports(c.get("Ports")),
        created=parse_time(c.get("Created")),
        command=c.get("Command", "") or "",
        pod=labels.get("io.kubernetes.pod.name", ""),
        labels=tuple(sorted(labels.items())),
    )


def parse_image(runtime: str, i: dict[str, Any]) -> ImageRow:
    tags = tuple(t for t in (i.get("RepoTags") or []) if t and t != "<none>:<none>")
    return ImageRow(
        runtime=runtime,
        id=i.get("Id", ""),
        tags=tags,
        size=int(i.get("Size") or 0),
        created=parse_time(i.get("Created")),
        containers=int(i.get("Containers", -1) if i.get("Containers") is not None else -1),
        dangling=not tags,
    )


def parse_network(runtime: str, n: dict[str, Any]) -> NetworkRow:
    subnets = [cfg.get("Subnet", "") for cfg in ((n.get("IPAM") or {}).get("Config") or []) if cfg]
    return NetworkRow(
        runtime=runtime,
        id=n.get("Id", ""),
        name=n.get("Name", ""),
        driver=n.get("Driver", ""),
        scope=n.get("Scope", "local"),
        subnet=", ".join(s for s in subnets if s),
        internal=bool(n.get("Internal")),
        created=parse_time(n.get("Created")),
    )


def parse_volume(runtime: str, v: dict[str, Any]) -> VolumeRow:
    return VolumeRow(
        runtime=runtime,
        name=v.get("Name", ""),
        driver=v.get("Driver", ""),
        mountpoint=v.get("Mountpoint", ""),
        scope=v.get("Scope", "local"),
        created=parse_time(v.get("CreatedAt")),
        labels=tuple(sorted((v.get("Labels") or {}).items())),
    )


def parse_stats(s: dict[str, Any], prev: dict[str, Any] | None = None) -> StatsSample:
    """CPU% the way ``docker stats`` computes it, memory without the page cache."""
    cpu = s.get("cpu_stats") or {}
    pre = (prev or {}).get("cpu_stats") or s.get("precpu_stats") or {}
    total = (cpu.get("cpu_usage") or {}).get("total_usage", 0)
    pre_total = (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system = cpu.get("system_cpu_usage", 0)
    pre_system = pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    cpu_delta = total - pre_total
    sys_delta = system - pre_system
    cpu_percent = (cpu_delta / sys_delta) * online * 100.0 if sys_delta > 0 and cpu_delta > 0 else 0.0
    mem = s.get("memory_stats") or {}
    usage = int(mem.get("usage") or 0)
    mstats = mem.get("stats") or {}
    cache = mstats.get("inactive_file", mstats.get("total_inactive_file", mstats.get("cache", 0))) or 0
    if cache < usage:
        usage -= int(cache)
    rx = tx = 0
    for net in (s.get("networks") or {}).values():
        rx += int(net.get("rx_bytes") or 0)
        tx += int(net.get("tx_bytes") or 0)
    rd = wr = 0
    for entry in (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            rd += int(entry.get("value") or 0)
        elif op == "write":
            wr += int(entry.get("value") or 0)
    return StatsSample(
        cpu_percent=round(cpu_percent, 2),
        mem_usage=usage,
        mem_limit=int(mem.get("limit") or 0),
        net_rx=rx,
        net_tx=tx,
        blk_read=rd,
        blk_write=wr,
        pids=int((s.get("pids_stats") or {}).get("current") or 0),
        ts=parse_time(s.get("read")) or time.time(),
    )


def parse_event(runtime: str, e: dict[str, Any]) -> RuntimeEvent:
    actor = e.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    action = str(e.get("Action") or e.get("status") or "")
    # "exec_start: sh -c ..." and "health_status: healthy" carry detail after a colon
    return RuntimeEvent(
        runtime=runtime,
        type=str(e.get("Type") or "container"),
        action=action,
        id=str(actor.get("ID") or e.get("id") or ""),
        name=str(attrs.get("name", "")),
        attributes=tuple(sorted((str(k), str(v)) for k, v in attrs.items())),
        time=(e.get("timeNano") or 0) / 1e9 or float(e.get("time") or 0),
    )


def split_lines(chunks: Iterator[tuple[int, bytes]]) -> Iterator[LogLine]:
    """Turn demultiplexed (stream, bytes) frames into whole lines, per stream."""
    buffers: dict[int, bytes] = {1: b"", 2: b""}
    for stream_no, data in chunks:
        if not data:
            continue
        key = 2 if stream_no == 2 else 1
        buf = buffers[key] + data
        *lines, rest = buf.split(b"\n")
        buffers[key] = rest
        for raw in lines:
            yield _log_line(raw, key)
    for key, rest in buffers.items():
        if rest:
            yield _log_line(rest, key)


def read_frames(raw: Any, tty: bool) -> Iterator[tuple[int, bytes]]:
    """Demultiplex Docker's attach/logs stream read through urllib3 (which undoes chunking).

    Without a TTY every frame has an 8-byte header: stream (1 stdout, 2 stderr), 3 zero bytes,
    big-endian length. With a TTY the bytes are the terminal output as is.
    """
    if tty:
        for chunk in raw.stream(4096, decode_content=False):
            yield 1, chunk
        return
    while True:
        header = raw.read(8)
        if not header or len(header) < 8:
            return
        stream_no, length = struct.unpack(">BxxxL", header)
        if not length:
            continue
        data = raw.read(length)
        if not data:
            return
        yield stream_no, data


def _log_line(raw: bytes, key: int) -> LogLine:
    text = raw.decode("utf-8", "replace").rstrip("\r")
    return LogLine(text=text, stream="stderr" if key == 2 else "stdout")


def map_error(exc: BaseException, what: str = "") -> TamerError:
    """One clear ``TamerError`` for whatever the SDK or the socket raised."""
    import docker.errors
    import requests

    if isinstance(exc, TamerError):
        return exc
    prefix = f"{what}: " if what else ""
    if isinstance(exc, docker.errors.NotFound):
        return NotFound(f"{prefix}{_explanation(exc)}")
    if isinstance(exc, docker.errors.APIError):
        code = exc.status_code or 0
        msg = f"{prefix}{_explanation(exc)}"
        if code == 409:
            return Conflict(msg)
        if code in (401, 403):
            return PermissionDenied(msg)
        if code in (400, 422):
            return InvalidInput(msg)
        return BackendError(msg)
    if isinstance(exc, PermissionError) or "Permission denied" in str(exc):
        return PermissionDenied(f"{prefix}permission denied on the Docker socket ({exc})")
    if isinstance(exc, requests.exceptions.ConnectionError | ConnectionError | FileNotFoundError | OSError):
        return RuntimeUnavailable(f"{prefix}Docker daemon not reachable ({_short(exc)})")
    if isinstance(exc, docker.errors.DockerException):
        text = str(exc)
        if "Permission denied" in text:
            return PermissionDenied(f"{prefix}permission denied on the Docker socket")
        if "Connection" in text or "No such file" in text:
            return RuntimeUnavailable(f"{prefix}Docker daemon not reachable ({_short(exc)})")
        return BackendError(f"{prefix}{text}")
    return BackendError(f"{prefix}{type(exc).__name__}: {exc}")


def _explanation(exc: Any) -> str:
    return str(getattr(exc, "explanation", None) or exc)


def _short(exc: BaseException) -> str:
    text = str(exc)
    m = re.search(r"\[Errno \d+\] [^')\"]+", text)
    return m.group(0) if m else text[:160]


class DockerRuntime(ContainerRuntime):
    """A Docker Engine (local socket, TCP, or ssh://) through the docker SDK's APIClient."""

    kind = RuntimeKind.DOCKER
    capabilities = frozenset(
        {
            Capability.CONTAINERS,
            Capability.IMAGES,
            Capability.NETWORKS,
            Capability.VOLUMES,
            Capability.EVENTS,
            Capability.STATS,
            Capability.EXEC,
            Capability.PAUSE,
        }
    )

    def __init__(self, endpoint: RuntimeEndpoint, timeout: float = 15.0) -> None:
        super().__init__(endpoint)
        self._timeout = timeout
        self._api: Any = None
        self._lock = asyncio.Lock()

    # -- plumbing --------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._api is None:
            raise RuntimeUnavailable(f"{self.name}: not connected")
        return self._api

    async def _call(self, what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await run_blocking(func, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to one clear error
            raise map_error(exc, what) from exc

    async def connect(self) -> RuntimeInfo:
        """Connect, or check the existing connection; safe to call concurrently and repeatedly."""

        def build() -> Any:
            # unix, npipe, tcp (+TLS from the endpoint), ssh:// and wsl:// (dial-stdio child process)
            from tamer_tui.core.stdio_transport import connect_error, docker_api_client

            api = None
            try:
                api = docker_api_client(self.endpoint, version="auto", timeout=self._timeout)
                api.ping()
                return api
            except Exception as exc:
                if api is not None:
                    with contextlib.suppress(Exception):
                        api.close()
                raise (connect_error(exc, self.endpoint) or map_error(exc, self.name)) from exc

        async with self._lock:
            if self._api is not None:
                try:
                    await run_blocking(self._api.ping)
                except Exception:  # noqa: BLE001 - rebuilt below
                    old, self._api = self._api, None
                    with contextlib.suppress(Exception):
                        await run_blocking(old.close)
            if self._api is None:
                self._api = await self._call(f"{self.name}", build)
        return await self.info()

    async def close(self) -> None:
        if self._api is not None:
            api, self._api = self._api, None
            with contextlib.suppress(Exception):
                await run_blocking(api.close)

    async def info(self) -> RuntimeInfo:
        api = self._client()
        data = await self._call(self.name, api.info)
        ver = await self._call(self.name, api.version)
        sec = data.get("SecurityOptions") or []
        return RuntimeInfo(
            name=self.name,
            kind=self.kind,
            url=self.endpoint.url,
            version=str(ver.get("Version", "")),
            api_version=str(ver.get("ApiVersion", "")),
            os=str(data.get("OperatingSystem", "")),
            arch=str(data.get("Architecture", "")),
            rootless=self.endpoint.rootless or any("rootless" in s for s in sec),
            containers=int(data.get("Containers", 0)),
            images=int(data.get("Images", 0)),
            swarm=(data.get("Swarm") or {}).get("LocalNodeState") == "active",
        )

    async def df(self) -> DiskUsage:
        data = await self._call(self.name, self._client().df)
        images = data.get("Images") or []
        containers = data.get("Containers") or []
        volumes = data.get("Volumes") or []
        return DiskUsage(
            images=len(images),
            images_size=int(data.get("LayersSize") or sum(int(i.get("Size") or 0) for i in images)),
            containers=len(containers),
            containers_size=sum(int(c.get("SizeRw") or 0) for c in containers),
            volumes=len(volumes),
            volumes_size=sum(max(0, int((v.get("UsageData") or {}).get("Size") or 0)) for v in volumes),
            build_cache_size=sum(int(b.get("Size") or 0) for b in data.get("BuildCache") or []),
        )

    # -- containers ------------------------------------------------------------------------
    async def list_containers(self, all: bool = True) -> list[ContainerRow]:
        raw = await self._call(self.name, self._client().containers, all=all)
        return [parse_container(self.name, c) for c in raw]

    async def get_container(self, ident: str) -> ContainerRow:
        api = self._client()
        for key in ("id", "name"):
            raw = await self._call(self.name, api.containers, all=True, filters={key: ident})
            for c in raw:
                row = parse_container(self.name, c)
                if row.id.startswith(ident) or row.name == ident:
                    return row
        raise NotFound(f"container {ident!r} not found on {self.name}")

    async def inspect_container(self, ident: str) -> dict[str, Any]:
        return await self._call(f"container {ident}", self._client().inspect_container, ident)  # type: ignore[no-any-return]

    async def create_container(self, spec: ContainerSpec) -> str:
        api = self._client()
        host_config_args: dict[str, Any] = {}
        if spec.ports:
            bindings: dict[int, list[int | None]] = {}
            for cp, hp in spec.ports:
                bindings.setdefault(cp, []).append(hp or None)  # None: the daemon picks a free port
            host_config_args["port_bindings"] = {cp: hps if len(hps) > 1 else hps[0] for cp, hps in bindings.items()}
        if spec.network:
            host_config_args["network_mode"] = spec.network
        if spec.volumes:
            host_config_args["binds"] = list(spec.volumes)  # "SRC:DST[:ro]": a host path or a volume name
        if spec.cpus:
            host_config_args["nano_cpus"] = round(spec.cpus * 1e9)
        if spec.memory:
            host_config_args["mem_limit"] = spec.memory
        if spec.restart_policy:
            name, count = restart_parts(spec.restart_policy)
            host_config_args["restart_policy"] = {"Name": name, "MaximumRetryCount": count}
        if spec.auto_remove:
            host_config_args["auto_remove"] = True
        host_config = api.create_host_config(**host_config_args)
        healthcheck = None
        if spec.healthcheck:
            interval = int(spec.health_interval_s * 1e9)
            timeout = int(spec.health_timeout_s * 1e9) or interval * 3
            healthcheck = {"test": ["CMD", *spec.healthcheck], "interval": interval, "timeout": timeout,
                           "retries": spec.health_retries, "start_period": int(spec.health_start_period_s * 1e9)}
        result = await self._call(
            f"create {spec.name or spec.image}",
            api.create_container,
            image=spec.image,
            command=list(spec.command) or None,
            name=spec.name or None,
            environment={k: v for k, v in spec.env} or None,
            labels={k: v for k, v in spec.labels} or None,
            ports=sorted({cp for cp, _ in spec.ports}) or None,
            host_config=host_config,
            healthcheck=healthcheck,
            entrypoint=list(spec.entrypoint) or None,
            working_dir=spec.workdir or None,
            user=spec.user or None,
            tty=spec.tty,
        )
        return str(result["Id"])

    async def start_container(self, ident: str) -> None:
        await self._call(f"start {ident}", self._client().start, ident)

    async def stop_container(self, ident: str, timeout: int = 10) -> None:
        await self._call(f"stop {ident}", self._client().stop, ident, timeout=timeout)

    async def restart_container(self, ident: str, timeout: int = 10) -> None:
        await self._call(f"restart {ident}", self._client().restart, ident, timeout=timeout)

    async def pause_container(self, ident: str) -> None:
        await self._call(f"pause {ident}", self._client().pause, ident)

    async def unpause_container(self, ident: str) -> None:
        await self._call(f"unpause {ident}", self._client().unpause, ident)

    async def kill_container(self, ident: str, signal: str = "SIGKILL") -> None:
        await self._call(f"kill {ident}", self._client().kill, ident, signal=signal)

    async def remove_container(self, ident: str, force: bool = False, volumes: bool = False) -> None:
        await self._call(f"remove {ident}", self._client().remove_container, ident, v=volumes, force=force)

    async def rename_container(self, ident: str, new_name: str) -> None:
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", new_name or ""):
            raise InvalidInput(f"invalid container name {new_name!r}: use letters, digits, '_', '.', '-'")
        await self._call(f"rename {ident}", self._client().rename, ident, new_name)

    async def top_container(self, ident: str) -> tuple[list[str], list[list[str]]]:
        data = await self._call(f"top {ident}", self._client().top, ident)
        return list(data.get("Titles") or []), [list(p) for p in data.get("Processes") or []]

    async def stats_once(self, ident: str) -> StatsSample:
        """One sample without streaming (``one-shot`` is not enough for CPU%: use precpu)."""
        data = await self._call(f"stats {ident}", self._client().stats, ident, stream=False)
        return parse_stats(data)

    async def stats_stream(self, ident: str) -> AsyncIterator[StatsSample]:  # type: ignore[override]
        api = self._client()

        def open_stream() -> Any:
            try:
                return api.stats(ident, stream=True, decode=True)
            except Exception as exc:  # noqa: BLE001
                raise map_error(exc, f"stats {ident}") from exc

        prev: dict[str, Any] | None = None
        try:
            async for raw in iterate_blocking(open_stream, maxsize=16):
                yield parse_stats(raw, prev)
                prev = raw
        except TamerError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise map_error(exc, f"stats {ident}") from exc

    async def log_text_batches(  # type: ignore[override]
        self,
        ident: str,
        follow: bool = True,
        tail: int | None = 1000,
        since: float | None = None,
        timestamps: bool = True,
        streams: bool = False,
    ) -> AsyncIterator[LogBatch]:
        """The log as column batches, decoded in the reader thread (see :mod:`tamer_tui.core.logwire`)."""
        api = self._client()
        info = await self.inspect_container(ident)
        tty = bool((info.get("Config") or {}).get("Tty"))
        params: dict[str, Any] = {
            "stdout": 1,
            "stderr": 1,
            "follow": 1 if follow else 0,
            "timestamps": 1 if timestamps else 0,
            "tail": "all" if tail is None else str(max(0, tail)),
        }
        if since:
            params["since"] = f"{since:.9f}"
        holder: dict[str, Any] = {}
        what = f"logs {ident}"

        def open_stream() -> Iterator[LogBatch]:
            try:
                res = api._get(api._url("/containers/{0}/logs", ident), params=params, stream=True, timeout=None)
                api._raise_for_status(res)
            except Exception as exc:  # noqa: BLE001
                raise map_error(exc, what) from exc
            holder["res"] = res
            body = decode_log_body(response_body(res), timestamps, framed=not tty, keep_streams=streams)
            return guarded(body, lambda exc: map_error(exc, what))

        def close(_stream: Any) -> None:
            res = holder.get("res")
            if res is not None:
                from docker.types.daemon import CancellableStream

                with contextlib.suppress(Exception):
                    CancellableStream(iter(()), res).close()

        # a pending item is one socket read (up to 64 KiB): 64 of them bound the memory of a slow consumer
        pieces = cast("AsyncGenerator[list[LogBatch], None]",
                      iterate_blocking_batches(open_stream, close, max_pending=64))
        async with contextlib.aclosing(pieces):  # leaving the loop closes the stream at once
            async for batches in pieces:
                yield merge_batches(batches)

    async def exec_run(self, ident: str, argv: list[str]) -> ExecResult:
        api = self._client()

        def run() -> ExecResult:
            ex = api.exec_create(ident, list(argv), stdout=True, stderr=True)
            out, err = api.exec_start(ex["Id"], demux=True)
            code = api.exec_inspect(ex["Id"]).get("ExitCode")
            text = (out or b"").decode("utf-8", "replace") + (err or b"").decode("utf-8", "replace")
            return ExecResult(exit_code=int(code if code is not None else -1), output=text)

        return await self._call(f"exec in {ident}", run)

    # -- images ----------------------------------------------------------------------------
    async def list_images(self) -> list[ImageRow]:
        raw = await self._call(self.name, self._client().images)
        return [parse_image(self.name, i) for i in raw]

    async def inspect_image(self, ident: str) -> dict[str, Any]:
        return await self._call(f"image {ident}", self._client().inspect_image, ident)  # type: ignore[no-any-return]

    async def image_history(self, ident: str) -> list[dict[str, Any]]:
        return await self._call(f"image {ident}", self._client().history, ident)  # type: ignore[no-any-return]

    async def pull_image(self, reference: str, auth: Any = None) -> AsyncIterator[PullProgress]:  # type: ignore[override]
        api = self._client()
        repo, tag = _split_reference(reference)
        auth_config = auth.docker_auth_config() if auth is not None else None

        def open_stream() -> Any:
            try:
                return api.pull(repo, tag=tag, stream=True, decode=True, auth_config=auth_config)
            except Exception as exc:  # noqa: BLE001
                raise map_error(exc, f"pull {reference}") from exc

        async for item in iterate_blocking(open_stream, maxsize=256):
            detail = item.get("progressDetail") or {}
            error = item.get("error") or (item.get("errorDetail") or {}).get("message") or ""
            if error:
                raise BackendError(f"pull {reference}: {error}")
            yield PullProgress(
                status=str(item.get("status", "")),
                layer=str(item.get("id", "")),
                current=int(detail.get("current") or 0),
                total=int(detail.get("total") or 0),
            )

    async def tag_image(self, ident: str, repository: str, tag: str = "latest") -> None:
        ok = await self._call(f"tag {ident}", self._client().tag, ident, repository, tag=tag)
        if ok is False:
            raise BackendError(f"tag {ident}: the daemon refused to tag as {repository}:{tag}")

    async def remove_image(self, ident: str, force: bool = False) -> None:
        await self._call(f"remove image {ident}", self._client().remove_image, ident, force=force)

    async def prune_images(self, dangling_only: bool = True) -> PruneResult:
        filters = None if dangling_only else {"dangling": False}
        data = await self._call("prune images", self._client().prune_images, filters=filters)
        deleted = tuple(
            d.get("Deleted") or d.get("Untagged") or "" for d in (data.get("ImagesDeleted") or [])
        )
        return PruneResult(deleted=deleted, space_reclaimed=int(data.get("SpaceReclaimed") or 0))

    # -- networks --------------------------------------------------------------------------
    async def list_networks(self) -> list[NetworkRow]:
        raw = await self._call(self.name, self._client().networks)
        return [parse_network(self.name, n) for n in raw]

    async def inspect_network(self, ident: str) -> dict[str, Any]:
        return await self._call(f"network {ident}", self._client().inspect_network, ident)  # type: ignore[no-any-return]

    async def create_network(self, name: str, driver: str = "bridge") -> str:
        data = await self._call(f"create network {name}", self._client().create_network, name, driver=driver,
                                check_duplicate=True)
        return str(data.get("Id", ""))

    async def remove_network(self, ident: str) -> None:
        await self._call(f"remove network {ident}", self._client().remove_network, ident)

    async def prune_networks(self) -> PruneResult:
        data = await self._call("prune networks", self._client().prune_networks)
        return PruneResult(deleted=tuple(data.get("NetworksDeleted") or []), space_reclaimed=0)

    # -- volumes ---------------------------------------------------------------------------
    async def list_volumes(self) -> list[VolumeRow]:
        data = await self._call(self.name, self._client().volumes)
        return [parse_volume(self.name, v) for v in (data.get("Volumes") or [])]

    async def inspect_volume(self, name: str) -> dict[str, Any]:
        return await self._call(f"volume {name}", self._client().inspect_volume, name)  # type: ignore[no-any-return]

    async def create_volume(self, name: str, driver: str = "local") -> str:
        data = await self._call(f"create volume {name}", self._client().create_volume, name, driver=driver)
        return str(data.get("Name", name))

    async def remove_volume(self, name: str, force: bool = False) -> None:
        await self._call(f"remove volume {name}", self._client().remove_volume, name, force=force)

    async def prune_volumes(self) -> PruneResult:
        # API >= 1.42 prunes only anonymous volumes unless all=true is given (older APIs reject the filter)
        api = self._client()
        new_api = tuple(int(x) for x in str(api.api_version).split(".")[:2]) >= (1, 42)
        data = await self._call("prune volumes", api.prune_volumes, filters={"all": ["true"]} if new_api else None)
        return PruneResult(
            deleted=tuple(data.get("VolumesDeleted") or []),
            space_reclaimed=int(data.get("SpaceReclaimed") or 0),
        )

    # -- events ----------------------------------------------------------------------------
    async def events(self, since: float | None = None) -> AsyncIterator[RuntimeEvent]:  # type: ignore[override]
        api = self._client()

        def open_stream() -> Any:
            try:
                return api.events(since=int(since) if since else None, decode=True)
            except Exception as exc:  # noqa: BLE001
                raise map_error(exc, f"{self.name} events") from exc

        try:
            async for raw in iterate_blocking(open_stream, maxsize=4096):
                yield parse_event(self.name, raw)
        except TamerError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise map_error(exc, f"{self.name} events") from exc
        # a stream that ends without an error means the daemon went away
        raise RuntimeUnavailable(f"{self.name}: event stream closed by the daemon")

    # -- live limits and health ------------------------------------------------------------
    async def update_container(self, ident: str, limits: Limits) -> None:
        """``POST /containers/{id}/update``: cpus (NanoCpus, or CpuQuota/CpuPeriod when the container was
        limited that way), memory (with a MemorySwap that keeps the swap allowance) and the restart policy.

        Works on running and stopped containers and persists. Docker cannot remove a ``--cpus`` or memory
        limit from an existing container: asking raises NotSupported before anything changes.
        """
        if limits.is_empty():
            return
        api = self._client()
        info = await self.inspect_container(ident)
        body = docker_update_body(limits, info.get("HostConfig") or {}, engine=f"Docker ({self.name})")

        def post() -> Any:
            res = api._post_json(api._url("/containers/{0}/update", ident), data=body)
            return api._result(res, True)

        result = await self._call(f"update {ident}", post)
        warnings = [str(w) for w in (result or {}).get("Warnings") or [] if w]
        if warnings:  # e.g. a kernel without swap accounting: part of the update was not applied
            raise BackendError(f"update {ident}: applied, but the daemon warned: {'; '.join(warnings)}")


def _split_reference(reference: str) -> tuple[str, str | None]:
    ref = reference.strip()
    if not ref or any(ch.isspace() for ch in ref):
        raise InvalidInput(f"invalid image reference {reference!r}")
    if "@" in ref:
        return ref, None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = ref.rpartition(":")
        return repo, tag
    return ref, "latest"
