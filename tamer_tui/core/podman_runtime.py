"""The Podman backend: :class:`PodmanRuntime` over the libpod REST API (podman-py's low-level client).

Every call goes through ``podman.api.APIClient`` (``client.api.get("/containers/json")`` ...) against
the libpod endpoints, and the JSON is parsed here into Tamer's rows. podman-py's high-level models are
deliberately not used for lists: podman-py 5.x misreads some Podman 4.x payloads.

Payload notes (checked against a real Podman 4.3.1 service and Podman 5.x source,
``pkg/domain/entities/types/container_ps.go`` and ``pkg/ps/ps.go``):

* ``/libpod/containers/json``: ``State`` is the lower-case state string in 4.x and 5.x; ``Status`` is
  the *health* status (``healthy``/``unhealthy``/``starting``/``""``), not Docker's "Up 3 minutes", so
  the human status text is computed here from ``StartedAt``/``ExitedAt``/``ExitCode`` (unix seconds;
  Go's zero time, -62135596800, means "never"). ``Created`` is an RFC3339 string in 4.x and 5.x (very
  old 2.x services sent unix seconds; both are accepted). ``Ports`` is a list of
  ``{host_ip, container_port, host_port, range, protocol}`` or null. 5.x adds ``ExposedPorts``
  (``{"80": ["tcp"]}``), ``Restarts``, ``CIDFile`` and turns ``Mounts`` into objects.
  ``PodName`` is only filled when ``pod=true`` is passed.
* Events (``/libpod/events``): JSON lines with ``Type``, ``Action``, ``Actor.ID``,
  ``Actor.Attributes.name``, ``time``, ``timeNano``; 4.x also sends the deprecated ``status``/``id``/
  ``from`` keys, 5.x adds ``HealthStatus``. Podman's action names (``died``, ``remove``) are normalised
  to Docker's (``die``, ``destroy``/``delete``); the original is kept as attribute ``podman.action``.
* Networks: 4.0+ (netavark and CNI backends alike) list ``{name, id, driver, subnets: [{subnet,
  gateway}], internal, created, labels ...}``; Podman 3.x listed raw CNI config lists (``Name``,
  ``Plugins``), which are still understood.
* Stats (``/libpod/containers/stats``): ``CPUNano`` (container CPU time) and ``SystemNano`` (wall clock)
  in nanoseconds; CPU% is computed here from consecutive samples (the service's own first ``CPU`` value
  is not usable - 4.3 reports e.g. 837% on the first sample of a stream).
* Logs (``/libpod/containers/{id}/logs``): always multiplexed frames on the libpod endpoint (8-byte
  header: stream byte 1=stdout 2=stderr, 3 zero bytes, big-endian length), even with a tty; an
  unframed raw stream is detected and handled too. Podman 4.3 sends no HTTP headers for a follow
  request until the first log line, which is why streams can be aborted before their response exists.
* Errors: Podman answers 500 for several conflicts (duplicate container/volume name, wrong container
  state: ``container state improper``) where Docker says 409; those are mapped to :class:`Conflict`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import re
import shlex
import socket
import threading
import time
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from tamer_tui.core.logwire import LogBatch, decode_log_body, merge_batches, response_body
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
from tamer_tui.core.runspec import (
    CPU_PERIOD_US,
    Limits,
    NotSupported,
    check_limits,
    is_bind_source,
    podman_restart_params,
    podman_update_body,
    restart_parts,
    split_volume,
    version_tuple,
)
from tamer_tui.core.runtime import ContainerRuntime

T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 300.0
EXEC_TIMEOUT = 3600.0
HEALTH_STATES = frozenset({"healthy", "unhealthy", "starting"})

_STATE_MAP = {
    "configured": "created",
    "initialized": "created",
    "created": "created",
    "running": "running",
    "stopping": "running",
    "paused": "paused",
    "stopped": "exited",
    "exited": "exited",
    "removing": "removing",
    "restarting": "restarting",
    "dead": "dead",
}

# (type, podman action) -> Docker's action name, so the UI reacts to both backends alike.
_EVENT_ACTIONS = {
    ("container", "died"): "die",
    ("container", "remove"): "destroy",
    ("container", "exec_died"): "exec_die",
    ("image", "remove"): "delete",
    ("volume", "remove"): "destroy",
    ("network", "remove"): "destroy",
    ("pod", "remove"): "destroy",
}

_CONFLICT_MARKERS = (
    "already in use",
    "already exists",
    "is in use",
    "being used",
    "container state improper",
    "is not running",
    "is running",
    "is paused",
    "is not paused",
)


# ------------------------------------------------------------------------------------------------
# Rows that only Podman has
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PodRow:
    """One pod as listed by ``/libpod/pods/json``."""

    runtime: str
    id: str
    name: str
    status: str  # Created, Running, Degraded, Paused, Exited, Stopped, Dead
    infra_id: str = ""
    containers: int = 0
    created: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"

    @property
    def short_id(self) -> str:
        return self.id[:12]


# ------------------------------------------------------------------------------------------------
# Pure helpers (unit-tested with captured 4.3 payloads and 5.x-shaped payloads)
# ------------------------------------------------------------------------------------------------
def parse_time(value: Any) -> float:
    """Unix seconds from an RFC3339 string or a number; 0.0 for empty, invalid or Go's zero time."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        number = float(value)
        if number > 1e17:  # nanoseconds
            number /= 1e9
        return number if number > 0 else 0.0
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_time(float(text))
        except ValueError:
            pass
        try:
            stamp = _dt.datetime.fromisoformat(text).timestamp()
        except ValueError:
            return 0.0
        return stamp if stamp > 0 else 0.0
    return 0.0


def rfc3339(ts: float) -> str:
    """A unix timestamp as the RFC3339Nano string Podman's ``since``/``until`` parameters accept."""
    moment = _dt.datetime.fromtimestamp(ts, tz=_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def human_duration(seconds: float) -> str:
    """Docker's ``units.HumanDuration`` ("About a minute", "3 hours", "2 weeks")."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = secs // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(round(seconds / 3600.0))
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def normalize_state(state: Any) -> str:
    """Podman's container state names mapped onto the Docker-like set the UI knows."""
    text = str(state or "").strip().lower()
    return _STATE_MAP.get(text, text or "unknown")


def status_text(
    state: str,
    started_at: float,
    exited_at: float,
    exit_code: int,
    health: str = "",
    now: float | None = None,
) -> str:
    """Docker-style human status ("Up 3 minutes (healthy)", "Exited (0) 2 hours ago", "Created")."""
    current = time.time() if now is None else now
    if state in ("running", "paused"):
        text = "Up " + human_duration(current - started_at) if started_at > 0 else "Up"
        if state == "paused":
            return text + " (Paused)"
        if health == "starting":
            return text + " (health: starting)"
        if health:
            return f"{text} ({health})"
        return text
    if state == "exited":
        if exited_at > 0:
            return f"Exited ({exit_code}) {human_duration(current - exited_at)} ago"
        return f"Exited ({exit_code})"
    if state == "created":
        return "Created"
    return state.capitalize()


def format_ports(ports: Any, exposed: Any = None) -> str:
    """``0.0.0.0:8080->80/tcp, 9000/udp`` from libpod ``Ports`` (+ 5.x ``ExposedPorts``)."""
    parts: list[str] = []
    published: set[tuple[int, str]] = set()
    for mapping in ports or ():
        if not isinstance(mapping, Mapping):
            continue
        cport = int(mapping.get("container_port") or 0)
        hport = int(mapping.get("host_port") or 0)
        span = max(int(mapping.get("range") or 1), 1)
        protocols = str(mapping.get("protocol") or "tcp").split(",")
        host_ip = str(mapping.get("host_ip") or "") or "0.0.0.0"
        for proto in protocols:
            proto = proto.strip() or "tcp"
            cspec = str(cport) if span == 1 else f"{cport}-{cport + span - 1}"
            for offset in range(span):
                published.add((cport + offset, proto))
            if hport:
                hspec = str(hport) if span == 1 else f"{hport}-{hport + span - 1}"
                parts.append(f"{host_ip}:{hspec}->{cspec}/{proto}")
            else:
                parts.append(f"{cspec}/{proto}")
    if isinstance(exposed, Mapping):
        for port, protocols in sorted(exposed.items(), key=lambda kv: int(kv[0])):
            for proto in protocols or ("tcp",):
                if (int(port), proto) not in published:
                    parts.append(f"{port}/{proto}")
    return ", ".join(parts)


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _command_text(command: Any) -> str:
    if isinstance(command, str):
        return command
    if isinstance(command, list | tuple):
        return shlex.join(str(part) for part in command)
    return ""


def parse_container(item: Mapping[str, Any], runtime: str, now: float | None = None) -> ContainerRow:
    """One ``/libpod/containers/json`` entry (Podman 4.x or 5.x) as a :class:`ContainerRow`."""
    names = item.get("Names") or []
    name = str(names[0] if names else item.get("Name") or "").lstrip("/")
    state = normalize_state(item.get("State"))
    raw_status = str(item.get("Status") or "")
    health = raw_status.lower() if raw_status.lower() in HEALTH_STATES else ""
    if raw_status and not health and raw_status.lower() not in ("", "none"):
        status = raw_status  # a service that already sends human text
    else:
        status = status_text(
            state,
            parse_time(item.get("StartedAt")),
            parse_time(item.get("ExitedAt")),
            int(item.get("ExitCode") or 0),
            health,
            now,
        )
    pod = str(item.get("PodName") or "") or str(item.get("Pod") or "")[:12]
    return ContainerRow(
        runtime=runtime,
        id=str(item.get("Id") or item.get("ID") or ""),
        name=name,
        image=str(item.get("Image") or ""),
        state=state,
        status=status,
        health=health,
        ports=format_ports(item.get("Ports"), item.get("ExposedPorts")),
        created=parse_time(item.get("Created")),
        command=_command_text(item.get("Command")),
        pod=pod,
        labels=_labels(item.get("Labels")),
    )


def parse_image(item: Mapping[str, Any], runtime: str) -> ImageRow:
    """One ``/libpod/images/json`` entry as an :class:`ImageRow`."""
    tags = tuple(
        str(tag) for tag in (item.get("RepoTags") or ()) if tag and not str(tag).startswith("<none>")
    )
    dangling = bool(item.get("Dangling")) if "Dangling" in item else not tags
    containers = item.get("Containers")
    return ImageRow(
        runtime=runtime,
        id=str(item.get("Id") or ""),
        tags=tags,
        size=int(item.get("Size") or 0),
        created=parse_time(item.get("Created")),
        containers=int(containers) if isinstance(containers, int) else -1,
        dangling=dangling,
    )


def parse_network(item: Mapping[str, Any], runtime: str) -> NetworkRow:
    """One ``/libpod/networks/json`` entry (4.0+ format, or a 3.x CNI config list)."""
    if "name" in item or "driver" in item:
        subnets = [str(s.get("subnet")) for s in item.get("subnets") or () if isinstance(s, Mapping)]
        return NetworkRow(
            runtime=runtime,
            id=str(item.get("id") or ""),
            name=str(item.get("name") or ""),
            driver=str(item.get("driver") or ""),
            scope="local",
            subnet=", ".join(s for s in subnets if s and s != "None"),
            internal=bool(item.get("internal")),
            created=parse_time(item.get("created")),
        )
    # Podman 3.x: a CNI network config list.
    plugins = item.get("Plugins") or item.get("plugins") or []
    driver = ""
    subnet = ""
    for plugin in plugins:
        network = plugin.get("Network", plugin) if isinstance(plugin, Mapping) else {}
        if not isinstance(network, Mapping):
            continue
        driver = driver or str(network.get("type") or "")
        ipam = network.get("ipam") or {}
        ranges = ipam.get("ranges") if isinstance(ipam, Mapping) else None
        if ranges and not subnet:
            subnet = ", ".join(str(r[0].get("subnet")) for r in ranges if r and isinstance(r[0], Mapping))
    name = str(item.get("Name") or item.get("name") or "")
    return NetworkRow(runtime=runtime, id=name, name=name, driver=driver, scope="local", subnet=subnet)


def parse_volume(item: Mapping[str, Any], runtime: str) -> VolumeRow:
    """One ``/libpod/volumes/json`` entry as a :class:`VolumeRow`."""
    return VolumeRow(
        runtime=runtime,
        name=str(item.get("Name") or ""),
        driver=str(item.get("Driver") or "local"),
        mountpoint=str(item.get("Mountpoint") or ""),
        scope=str(item.get("Scope") or "local"),
        created=parse_time(item.get("CreatedAt")),
        labels=_labels(item.get("Labels")),
    )


def parse_pod(item: Mapping[str, Any], runtime: str) -> PodRow:
    """One ``/libpod/pods/json`` entry as a :class:`PodRow`."""
    return PodRow(
        runtime=runtime,
        id=str(item.get("Id") or ""),
        name=str(item.get("Name") or ""),
        status=str(item.get("Status") or ""),
        infra_id=str(item.get("InfraId") or ""),
        containers=len(item.get("Containers") or ()),
        created=parse_time(item.get("Created")),
        labels=_labels(item.get("Labels")),
    )


def parse_event(item: Mapping[str, Any], runtime: str) -> RuntimeEvent:
    """One ``/libpod/events`` JSON line (4.x ``status``+``Action``, 5.x ``Action``) as an event."""
    kind = str(item.get("Type") or item.get("type") or "").lower()
    raw_action = str(item.get("Action") or item.get("status") or item.get("Status") or "")
    action = _EVENT_ACTIONS.get((kind, raw_action), raw_action)
    actor = item.get("Actor") or {}
    attrs_in = actor.get("Attributes") if isinstance(actor, Mapping) else None
    attributes: dict[str, str] = {}
    if isinstance(attrs_in, Mapping):
        attributes = {str(k): str(v) for k, v in attrs_in.items()}
    if item.get("HealthStatus"):
        attributes.setdefault("health_status", str(item["HealthStatus"]))
    if action != raw_action:
        attributes["podman.action"] = raw_action
    ident = str((actor.get("ID") if isinstance(actor, Mapping) else "") or item.get("id") or "")
    name = attributes.get("name", "")
    if not ident and kind in ("volume", "network"):
        ident = name
    nanos = item.get("timeNano")
    stamp = (
        float(nanos) / 1e9 if isinstance(nanos, int | float) and nanos > 0 else parse_time(item.get("time"))
    )
    return RuntimeEvent(
        runtime=runtime,
        type=kind,
        action=action,
        id=ident,
        name=name,
        attributes=tuple(sorted(attributes.items())),
        time=stamp,
    )


def parse_info(data: Mapping[str, Any], name: str, url: str) -> RuntimeInfo:
    """``/libpod/info`` as :class:`RuntimeInfo` (``host.security.rootless`` in 4.x and 5.x)."""
    host = data.get("host") or {}
    version = data.get("version") or {}
    store = data.get("store") or {}
    security = host.get("security") or {}
    container_store = store.get("containerStore") or {}
    image_store = store.get("imageStore") or {}
    os_name = str(version.get("Os") or host.get("os") or "")
    return RuntimeInfo(
        name=name,
        kind=RuntimeKind.PODMAN,
        url=url,
        version=str(version.get("Version") or ""),
        api_version=str(version.get("APIVersion") or ""),
        os=os_name,
        arch=str(host.get("arch") or ""),
        rootless=bool(security.get("rootless", host.get("rootless", False))),
        containers=int(container_store.get("number") or 0),
        images=int(image_store.get("number") or 0),
        swarm=False,
    )


def parse_df(data: Mapping[str, Any]) -> DiskUsage:
    """``/libpod/system/df``; image bytes are summed like ``podman system df`` does."""
    images = data.get("Images") or []
    containers = data.get("Containers") or []
    volumes = data.get("Volumes") or []
    return DiskUsage(
        images=len(images),
        images_size=sum(int(i.get("Size") or 0) for i in images),
        containers=len(containers),
        containers_size=sum(int(c.get("RWSize") or 0) for c in containers),
        volumes=len(volumes),
        volumes_size=sum(int(v.get("Size") or 0) for v in volumes),
        build_cache_size=0,
    )


def cpu_percent(prev: Mapping[str, Any] | None, cur: Mapping[str, Any]) -> float:
    """CPU% of one core (100% = one core busy) between two libpod stats samples.

    ``CPUNano`` is the container's cumulated CPU time and ``SystemNano`` the wall clock, both in ns,
    so the share is simply their deltas' ratio. Without a previous sample there is no rate: 0.0.
    """
    if prev is None:
        return 0.0
    try:
        cpu_delta = float(cur.get("CPUNano") or 0) - float(prev.get("CPUNano") or 0)
        wall_delta = float(cur.get("SystemNano") or 0) - float(prev.get("SystemNano") or 0)
    except (TypeError, ValueError):
        return 0.0
    if cpu_delta <= 0 or wall_delta <= 0:
        return 0.0
    return 100.0 * cpu_delta / wall_delta


def parse_stats(cur: Mapping[str, Any], prev: Mapping[str, Any] | None = None) -> StatsSample:
    """One libpod ``ContainerStats`` entry (plus the previous one, for CPU%) as a sample."""
    wall = cur.get("SystemNano") or 0
    stamp = float(wall) / 1e9 if isinstance(wall, int | float) and wall > 0 else time.time()
    return StatsSample(
        cpu_percent=cpu_percent(prev, cur),
        mem_usage=int(cur.get("MemUsage") or 0),
        mem_limit=int(cur.get("MemLimit") or 0),
        net_rx=int(cur.get("NetInput") or 0),
        net_tx=int(cur.get("NetOutput") or 0),
        blk_read=int(cur.get("BlockInput") or 0),
        blk_write=int(cur.get("BlockOutput") or 0),
        pids=int(cur.get("PIDs") or 0),
        ts=stamp,
    )


def parse_prune(items: Any, key: str = "Id") -> PruneResult:
    """A libpod prune report list (``[{Id|Name, Size, Err|Error}]``) as a :class:`PruneResult`."""
    deleted: list[str] = []
    reclaimed = 0
    for report in items or ():
        if not isinstance(report, Mapping):
            continue
        if report.get("Err") or report.get("Error"):
            continue
        ident = report.get(key) or report.get("Id") or report.get("Name")
        if ident:
            deleted.append(str(ident))
        reclaimed += int(report.get("Size") or 0)
    return PruneResult(deleted=tuple(deleted), space_reclaimed=reclaimed)


def parse_pull_line(item: Mapping[str, Any]) -> PullProgress:
    """One line of the ``/libpod/images/pull`` stream (``stream``/``error``/``images``+``id``)."""
    if item.get("error"):
        return PullProgress(status="error", error=str(item["error"]).strip())
    if item.get("id") and "images" in item:
        return PullProgress(status="pulled", layer=str(item["id"]))
    text = str(item.get("stream") or item.get("status") or "").strip()
    return PullProgress(status=text)


def build_create_body(spec: ContainerSpec, pod: str = "") -> dict[str, Any]:
    """The libpod SpecGenerator JSON for ``/libpod/containers/create`` (4.x and 5.x accept it)."""
    body: dict[str, Any] = {"image": spec.image, "terminal": False}
    if spec.name:
        body["name"] = spec.name
    if spec.command:
        body["command"] = list(spec.command)
    if spec.env:
        body["env"] = {k: v for k, v in spec.env}
    if spec.labels:
        body["labels"] = {k: v for k, v in spec.labels}
    if spec.ports:
        body["portmappings"] = [
            {"container_port": int(cport), "host_port": int(hport), "protocol": "tcp"}
            for cport, hport in spec.ports
        ]
    if pod:
        body["pod"] = pod
    network = spec.network.strip()
    if network in ("host", "none", "private", "slirp4netns", "pasta", "ns"):
        body["netns"] = {"nsmode": network}
    elif network == "bridge":
        body["netns"] = {"nsmode": "bridge"}
    elif network.startswith("container:"):
        body["netns"] = {"nsmode": "container", "value": network.split(":", 1)[1]}
    elif network and network != "default":
        body["netns"] = {"nsmode": "bridge"}
        body["Networks"] = {network: {}}
    if spec.healthcheck:
        interval_ns = int(max(spec.health_interval_s, 0.1) * 1e9)
        body["healthconfig"] = {
            "Test": ["CMD", *spec.healthcheck],
            "Interval": interval_ns,
            "Timeout": int(spec.health_timeout_s * 1e9) or max(interval_ns, int(5e9)),
            "Retries": spec.health_retries,
            "StartPeriod": int(spec.health_start_period_s * 1e9),
        }
    named: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for volume in spec.volumes:
        src, dst, read_only = split_volume(volume)
        options = ["ro"] if read_only else []
        if is_bind_source(src):
            mounts.append({"destination": dst, "type": "bind", "source": src, "options": options})
        else:  # a named volume (created on first use)
            named.append({"Name": src, "Dest": dst, "Options": options})
    if named:
        body["volumes"] = named
    if mounts:
        body["mounts"] = mounts
    resources: dict[str, Any] = {}
    if spec.cpus:
        resources["cpu"] = {"quota": round(spec.cpus * CPU_PERIOD_US), "period": CPU_PERIOD_US}
    if spec.memory:
        resources["memory"] = {"limit": spec.memory}
    if resources:
        body["resource_limits"] = resources
    if spec.restart_policy:
        policy, tries = restart_parts(spec.restart_policy)
        body["restart_policy"] = policy
        if tries:
            body["restart_tries"] = tries
    if spec.entrypoint:
        body["entrypoint"] = list(spec.entrypoint)
    if spec.workdir:
        body["work_dir"] = spec.workdir
    if spec.user:
        body["user"] = spec.user
    if spec.tty:
        body["terminal"] = True
    if spec.auto_remove:
        body["remove"] = True
    return body


def demux_frames(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Split Docker/Podman multiplexed frames: ([(stream, payload), ...], incomplete remainder)."""
    frames: list[tuple[int, bytes]] = []
    pos = 0
    while len(data) - pos >= 8:
        size = int.from_bytes(data[pos + 4 : pos + 8], "big")
        if len(data) - pos - 8 < size:
            break
        frames.append((data[pos], data[pos + 8 : pos + 8 + size]))
        pos += 8 + size
    return frames, data[pos:]


def looks_framed(data: bytes) -> bool:
    """Whether a stream starts with a multiplex header (stream byte 0-2, then three zero bytes)."""
    return len(data) >= 4 and data[0] in (0, 1, 2) and data[1:4] == b"\x00\x00\x00"


_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")


def split_timestamp(text: str) -> tuple[str, str]:
    """``"2024-01-01T00:00:00.1Z hello"`` -> ``("2024-01-01T00:00:00.1Z", "hello")``."""
    head, sep, rest = text.partition(" ")
    if sep and _TS_RE.match(head):
        return head, rest
    return "", text


class LogDecoder:
    """Turns the bytes of a logs response into :class:`LogLine` objects.

    Handles multiplexed frames (detected from the first bytes) and raw tty output, frames that end
    mid-line (kept per stream until the newline arrives), ``\\r\\n`` endings and the timestamp prefix
    Podman puts at the start of every frame when ``timestamps=true``.
    """

    def __init__(self, timestamps: bool = False) -> None:
        self.timestamps = timestamps
        self._buf = b""
        self._framed: bool | None = None
        self._partial: dict[int, bytes] = {}
        self._partial_ts: dict[int, str] = {}

    def feed(self, data: bytes) -> list[LogLine]:
        self._buf += data
        if self._framed is None:
            if not self._buf:
                return []
            if len(self._buf) < 4:
                if self._buf[0] in (0, 1, 2) and not any(self._buf[1:]):
                    return []  # could still become a frame header: wait for more bytes
                self._framed = False
            else:
                self._framed = looks_framed(self._buf)
        out: list[LogLine] = []
        if self._framed:
            frames, self._buf = demux_frames(self._buf)
            for stream, payload in frames:
                out.extend(self._payload(stream, payload))
        else:
            data, self._buf = self._buf, b""
            out.extend(self._payload(1, data))
        return out

    def flush(self) -> list[LogLine]:
        """Lines still waiting for their newline when the stream ends."""
        out: list[LogLine] = []
        if self._buf and not self._framed:
            out.extend(self._payload(1, self._buf))
            self._buf = b""
        for stream in sorted(self._partial):
            raw = self._partial.pop(stream)
            if raw:
                out.append(self._line(stream, raw, self._partial_ts.pop(stream, "")))
        return out

    def _payload(self, stream: int, payload: bytes) -> list[LogLine]:
        out: list[LogLine] = []
        pending = self._partial.pop(stream, b"")
        ts = self._partial_ts.pop(stream, "")
        if self.timestamps and self._framed and payload:
            # Every frame starts with its own timestamp, also the continuation of a partial line.
            head, sep, rest = payload.partition(b" ")
            if sep and _TS_RE.match(head.decode("ascii", "replace")):
                ts = ts or head.decode("ascii")
                payload = rest
        data = pending + payload
        lines = data.split(b"\n")
        tail = lines.pop()
        for raw in lines:
            out.append(self._line(stream, raw, ts))
            ts = ""
        if tail:
            self._partial[stream] = tail
            if ts:
                self._partial_ts[stream] = ts
        return out

    def _line(self, stream: int, raw: bytes, ts: str) -> LogLine:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if self.timestamps and not ts:
            ts, text = split_timestamp(text)
        return LogLine(text=text, stream="stderr" if stream == 2 else "stdout", ts=ts)


def iter_json_lines(chunks: Iterable[bytes]) -> Iterator[Any]:
    """Decode a stream of newline-separated JSON documents arriving in arbitrary chunks."""
    buf = b""
    for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        while True:
            line, sep, rest = buf.partition(b"\n")
            if not sep:
                break
            buf = rest
            if line.strip():
                yield json.loads(line)
    if buf.strip():
        yield json.loads(buf)


def _payload_message(payload: Any) -> tuple[str, str]:
    """(message, cause) from an error body (dict, JSON bytes/str or plain text)."""
    data = payload
    if isinstance(payload, bytes | bytearray):
        data = payload.decode("utf-8", "replace")
    if isinstance(data, str):
        text = data.strip()
        try:
            data = json.loads(text) if text.startswith("{") else text
        except ValueError:
            data = text
    if isinstance(data, Mapping):
        message = str(data.get("message") or data.get("cause") or "").strip()
        cause = str(data.get("cause") or "").strip()
        return message, cause
    return str(data or "").strip(), ""


def error_from_response(status: int, payload: Any, what: str) -> TamerError:
    """The Tamer error for an HTTP error answer; ``what`` names the object ("container 'web'")."""
    message, cause = _payload_message(payload)
    lowered = f"{cause} {message}".lower()
    detail = message or cause or f"HTTP {status}"
    if status == 404 or (status == 500 and (cause.startswith("no such") or "not found" in cause)):
        return NotFound(f"{what} not found")
    if status in (401, 403):
        return PermissionDenied(f"permission denied for {what}: {detail}")
    if status == 409:
        return Conflict(detail)
    if status in (400, 422):
        return InvalidInput(detail)
    if any(marker in lowered for marker in _CONFLICT_MARKERS):
        return Conflict(detail)
    if cause.startswith("invalid") or "invalid argument" in lowered:
        return InvalidInput(detail)
    return BackendError(f"Podman error ({status}) for {what}: {detail}")


def _socket_path(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("unix", "http+unix"):
        return urllib.parse.unquote(parsed.netloc + parsed.path) or url
    return ""


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))


def error_from_exception(exc: BaseException, url: str) -> TamerError:
    """Map a transport failure (socket missing, refused, EACCES, timeout) to a Tamer error."""
    path = _socket_path(url)
    where = f"socket {path}" if path else url
    timed_out = False
    for link in _exception_chain(exc):
        if isinstance(link, TamerError):
            return link
        code = getattr(link, "errno", None)
        if isinstance(link, PermissionError) or code in (errno.EACCES, errno.EPERM):
            return PermissionDenied(
                f"permission denied on the Podman {where}: run as a user allowed to use it "
                "(or use the rootless socket, $XDG_RUNTIME_DIR/podman/podman.sock)"
            )
        if isinstance(link, FileNotFoundError) or code == errno.ENOENT:
            return RuntimeUnavailable(
                f"Podman {where} does not exist: is the service running? "
                "(start it with `podman system service --time=0`)"
            )
        if isinstance(link, ConnectionRefusedError) or code == errno.ECONNREFUSED:
            return RuntimeUnavailable(f"Podman service refused the connection on {where}: it is not running")
        if isinstance(link, TimeoutError | socket.timeout) or "timed out" in str(link).lower():
            timed_out = True
    if timed_out:
        return RuntimeUnavailable(f"Podman service on {where} did not answer in time")
    return RuntimeUnavailable(f"cannot reach the Podman service on {where}: {exc}")


def _quote(ident: str) -> str:
    return urllib.parse.quote(ident, safe=":@")


def _quote_image(ident: str) -> str:
    return urllib.parse.quote(ident, safe="/:@")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _filters(filters: Mapping[str, Sequence[str]] | None) -> dict[str, str]:
    if not filters:
        return {}
    return {"filters": json.dumps({k: list(v) for k, v in filters.items()})}


def _shutdown(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


# ------------------------------------------------------------------------------------------------
# Streams
# ------------------------------------------------------------------------------------------------
class _HTTPStream(Iterable[T]):
    """One streaming request, on its own session, that ``close()`` can abort from any thread.

    The request is only sent when iteration starts (in the pump thread of ``iterate_blocking``), so
    the stream object exists before any blocking I/O and the consumer can always close it. Every
    connection the session opens is recorded; ``close()`` shuts those sockets down, which wakes a
    thread blocked on reading, even before the response headers arrived (Podman 4.3 sends none for
    ``logs?follow=true`` until the first line).
    """

    def __init__(
        self,
        runtime: PodmanRuntime,
        method: str,
        path: str,
        what: str,
        transform: Callable[[Iterator[bytes]], Iterator[T]],
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        data: Any = None,
        on_error: Callable[[int, bytes], TamerError] | None = None,
    ) -> None:
        self._runtime = runtime
        self._headers = dict(headers or {})
        self._data = data  # a raw (possibly streamed) body, e.g. a build context tar
        self._on_error = on_error
        self._method = method
        self._path = path
        self._what = what
        self._transform = transform
        self._params = dict(params or {})
        self._body = body
        self._lock = threading.Lock()
        self._closed = False
        self._conns: list[Any] = []
        self._api: Any = None
        self._response: Any = None

    def _track(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
        original = conn.connect

        def connect() -> None:
            original()
            if self._closed:
                _shutdown(conn)

        conn.connect = connect

    def __iter__(self) -> Iterator[T]:
        with self._lock:
            if self._closed:
                return
            self._api = self._runtime._new_api_client(track=self._track)
        try:
            response = self._runtime._send(
                self._api,
                self._method,
                self._path,
                self._what,
                params=self._params,
                body=self._body,
                stream=True,
                timeout=(CONNECT_TIMEOUT, None),
                headers=self._headers,
                data=self._data,
                on_error=self._on_error,
            )
            with self._lock:
                self._response = response
            if self._closed:
                return
            yield from self._transform(response.iter_content(chunk_size=None))
        except Exception as exc:
            if self._closed:
                return
            if isinstance(exc, TamerError):
                raise
            raise error_from_exception(exc, self._runtime.endpoint.url) from exc
        finally:
            self._release()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = list(self._conns)
        for conn in conns:
            _shutdown(conn)
        self._release()

    def _release(self) -> None:
        with self._lock:
            response, self._response = self._response, None
            api, self._api = self._api, None
        if response is not None:
            with contextlib.suppress(Exception):
                response.close()
        if api is not None:
            with contextlib.suppress(Exception):
                api.close()


def _tracking_pool(base: type, track: Callable[[Any], None]) -> type:
    """A subclass of a urllib3 pool class that reports each new connection to ``track``."""

    def _new_conn(self: Any) -> Any:
        conn = base._new_conn(self)  # type: ignore[attr-defined]
        track(conn)
        return conn

    return type(f"Tracking{base.__name__}", (base,), {"_new_conn": _new_conn})


# ------------------------------------------------------------------------------------------------
# The runtime
# ------------------------------------------------------------------------------------------------
class PodmanRuntime(ContainerRuntime):
    """A Podman service (rootful or rootless, local socket, tcp:// or ssh://) over the libpod API."""

    kind = RuntimeKind.PODMAN
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
            Capability.PODS,
        }
    )

    def __init__(self, endpoint: RuntimeEndpoint, stats_interval: int = 1) -> None:
        super().__init__(endpoint)
        self.stats_interval = max(int(stats_interval), 1)
        self._api: Any = None
        self._path_prefix = ""
        self._lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------
    def _new_api_client(self, track: Callable[[Any], None] | None = None) -> Any:
        """A podman-py ``APIClient`` for our endpoint (optionally reporting its connections)."""
        try:
            from podman import PodmanClient
        except ImportError as exc:  # pragma: no cover - podman-py is a hard dependency
            raise RuntimeUnavailable("podman-py is not installed") from exc
        try:
            if urllib.parse.urlsplit(self.endpoint.url).scheme.lower() in ("ssh", "wsl"):
                # ssh:// and wsl:// go through `podman system dial-stdio` (podman-py's own ssh adapter
                # disables host-key checking and hangs up to 300 s when ssh fails; see stdio_transport).
                from tamer_tui.core.stdio_transport import podman_api_client

                api = podman_api_client(self.endpoint)
            else:
                api = PodmanClient(base_url=self.endpoint.url).api
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"unusable Podman URL {self.endpoint.url!r}: {exc}") from exc
        except Exception as exc:
            raise error_from_exception(exc, self.endpoint.url) from exc
        if self._path_prefix:
            api.path_prefix = self._path_prefix
        if track is not None:
            for adapter in api.adapters.values():
                manager = getattr(adapter, "poolmanager", None)
                classes = getattr(manager, "pool_classes_by_scheme", None)
                if isinstance(classes, Mapping):
                    manager.pool_classes_by_scheme = {  # type: ignore[union-attr]
                        scheme: _tracking_pool(cls, track) for scheme, cls in classes.items()
                    }
        return api

    def _client(self) -> Any:
        with self._lock:
            if self._api is None:
                self._api = self._new_api_client()
            return self._api

    def _send(
        self,
        api: Any,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        stream: bool = False,
        timeout: Any = (CONNECT_TIMEOUT, READ_TIMEOUT),
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        on_error: Callable[[int, bytes], TamerError] | None = None,
    ) -> Any:
        """One HTTP request; transport and HTTP errors become Tamer errors (blocking). ``body`` is sent
        as JSON, ``data`` as it is; ``on_error`` maps an HTTP error status and body to the error raised."""
        kwargs: dict[str, Any] = {"params": dict(params or {}), "stream": stream, "timeout": timeout}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif data is not None:
            kwargs["data"] = data
        if headers:
            kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
        try:
            response = getattr(api, method.lower())(path, **kwargs)
        except TamerError:
            raise
        except Exception as exc:
            raise error_from_exception(exc, self.endpoint.url) from exc
        if response.status_code >= 400:
            try:
                payload = response.content
            except Exception:
                payload = b""
            finally:
                if stream:
                    response.close()
            if on_error is not None:
                raise on_error(response.status_code, payload)
            raise error_from_response(response.status_code, payload, what)
        return response

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: Any = (CONNECT_TIMEOUT, READ_TIMEOUT),
    ) -> Any:
        """Blocking request on the shared client; returns the decoded JSON (None when empty)."""
        response = self._send(self._client(), method, path, what, params=params, body=body, timeout=timeout)
        content = response.content
        if not content or not content.strip():
            return None
        try:
            return json.loads(content)
        except ValueError:
            return content.decode("utf-8", "replace")

    async def _acall(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return await run_blocking(self._call, method, path, what, **kwargs)

    async def _stream(self, stream: _HTTPStream[T]) -> AsyncIterator[T]:
        items_gen = cast("AsyncGenerator[T, None]", iterate_blocking(lambda: stream))
        async with contextlib.aclosing(items_gen) as items:
            async for item in items:
                yield item

    @staticmethod
    def _check_reports(reports: Any, what: str) -> None:
        """libpod rm endpoints answer 200 with per-object reports; surface their errors."""
        for report in reports if isinstance(reports, list) else ():
            if not isinstance(report, Mapping):
                continue
            err = report.get("Err") or report.get("Error")
            if err:
                raise error_from_response(500, {"message": str(err), "cause": str(err)}, what)

    # -- lifecycle ---------------------------------------------------------------------------
    def _ping(self) -> None:
        response = self._send(self._client(), "GET", "/_ping", "the Podman service")
        # Talk the service's own API version (4.3.1, 5.2.3-dev ...) rather than podman-py's.
        version = re.match(r"\d+\.\d+\.\d+", str(response.headers.get("Libpod-Api-Version") or ""))
        if version:
            self._path_prefix = f"/v{version.group(0)}/libpod/"
            self._client().path_prefix = self._path_prefix

    async def connect(self) -> RuntimeInfo:
        await run_blocking(self._ping)
        return await self.info()

    async def close(self) -> None:
        with self._lock:
            api, self._api = self._api, None
        if api is not None:
            await run_blocking(api.close)

    async def info(self) -> RuntimeInfo:
        data = await self._acall("GET", "/info", "the Podman service")
        return parse_info(data or {}, self.name, self.endpoint.url)

    async def df(self) -> DiskUsage:
        data = await self._acall("GET", "/system/df", "disk usage", timeout=(CONNECT_TIMEOUT, 600.0))
        return parse_df(data or {})

    # -- containers --------------------------------------------------------------------------
    async def list_containers(
        self, all: bool = True, filters: Mapping[str, Sequence[str]] | None = None
    ) -> list[ContainerRow]:
        params = {"all": _bool(all), "pod": "true", **_filters(filters)}
        data = await self._acall("GET", "/containers/json", "containers", params=params)
        now = time.time()
        return [parse_container(item, self.name, now) for item in data or ()]

    async def get_container(self, ident: str) -> ContainerRow:
        details = await self.inspect_container(ident)
        full_id = str(details.get("Id") or "")
        rows = await self.list_containers(all=True, filters={"id": [full_id]})
        for row in rows:
            if row.id == full_id:
                return row
        raise NotFound(f"container '{ident}' not found")

    async def inspect_container(self, ident: str) -> dict[str, Any]:
        data = await self._acall("GET", f"/containers/{_quote(ident)}/json", f"container '{ident}'")
        return dict(data or {})

    async def create_container(self, spec: ContainerSpec, pod: str = "") -> str:
        """Create (not start) a container from ``spec``; ``pod`` puts it into a pod (Podman only)."""
        data = await self._acall(
            "POST",
            "/containers/create",
            f"container '{spec.name or spec.image}'",
            body=build_create_body(spec, pod),
        )
        return str((data or {}).get("Id") or "")

    async def start_container(self, ident: str) -> None:
        await self._acall("POST", f"/containers/{_quote(ident)}/start", f"container '{ident}'")

    async def stop_container(self, ident: str, timeout: int = 10) -> None:
        await self._acall(
            "POST",
            f"/containers/{_quote(ident)}/stop",
            f"container '{ident}'",
            params={"timeout": int(timeout)},
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT + timeout),
        )

    async def restart_container(self, ident: str, timeout: int = 10) -> None:
        await self._acall(
            "POST",
            f"/containers/{_quote(ident)}/restart",
            f"container '{ident}'",
            params={"t": int(timeout)},
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT + timeout),
        )

    async def pause_container(self, ident: str) -> None:
        await self._acall("POST", f"/containers/{_quote(ident)}/pause", f"container '{ident}'")

    async def unpause_container(self, ident: str) -> None:
        await self._acall("POST", f"/containers/{_quote(ident)}/unpause", f"container '{ident}'")

    async def kill_container(self, ident: str, signal: str = "SIGKILL") -> None:
        await self._acall(
            "POST", f"/containers/{_quote(ident)}/kill", f"container '{ident}'", params={"signal": signal}
        )

    async def remove_container(self, ident: str, force: bool = False, volumes: bool = False) -> None:
        reports = await self._acall(
            "DELETE",
            f"/containers/{_quote(ident)}",
            f"container '{ident}'",
            # force = kill like Docker's `rm -f`, instead of waiting for the stop timeout
            params={"force": _bool(force), "v": _bool(volumes), **({"timeout": 0} if force else {})},
        )
        self._check_reports(reports, f"container '{ident}'")

    async def rename_container(self, ident: str, new_name: str) -> None:
        if not new_name.strip():
            raise InvalidInput("the new container name is empty")
        await self._acall(
            "POST",
            f"/containers/{_quote(ident)}/rename",
            f"container '{ident}'",
            params={"name": new_name.strip()},
        )

    async def top_container(self, ident: str) -> tuple[list[str], list[list[str]]]:
        data = await self._acall("GET", f"/containers/{_quote(ident)}/top", f"container '{ident}'")
        if not isinstance(data, Mapping):
            # 4.3 answers 200 with an empty body for a container that is not running.
            raise Conflict(f"container '{ident}' is not running")
        titles = [str(t) for t in data.get("Titles") or ()]
        rows = [[str(cell) for cell in row] for row in data.get("Processes") or ()]
        return titles, rows

    async def run_healthcheck(self, ident: str) -> str:
        """Run the container's healthcheck now; returns its status (healthy, unhealthy, starting).

        Podman schedules healthchecks with systemd timers; where there is no systemd (containers,
        CI, WSL) they never run by themselves, so the UI can trigger them with this.
        """
        data = await self._acall("GET", f"/containers/{_quote(ident)}/healthcheck", f"container '{ident}'")
        return str((data or {}).get("Status") or "")

    def _stats_items(self, chunks: Iterator[bytes]) -> Iterator[StatsSample]:
        prev: Mapping[str, Any] | None = None
        for doc in iter_json_lines(chunks):
            if not isinstance(doc, Mapping):
                continue
            stats = doc.get("Stats") or []
            error = doc.get("Error")
            if error and not stats:
                message = error if isinstance(error, str) else json.dumps(error)
                raise BackendError(f"Podman stats failed: {message}")
            for cur in stats:
                if isinstance(cur, Mapping):
                    yield parse_stats(cur, prev)
                    prev = cur

    async def stats_stream(self, ident: str) -> AsyncIterator[StatsSample]:
        stream: _HTTPStream[StatsSample] = _HTTPStream(
            self,
            "GET",
            "/containers/stats",
            f"container '{ident}'",
            self._stats_items,
            params={"containers": ident, "stream": "true", "interval": self.stats_interval},
        )
        async for sample in self._stream(stream):
            yield sample

    async def log_text_batches(
        self,
        ident: str,
        follow: bool = True,
        tail: int | None = 1000,
        since: float | None = None,
        timestamps: bool = True,
        streams: bool = False,
    ) -> AsyncIterator[LogBatch]:
        """The log as column batches, decoded in the reader thread (see :mod:`tamer_tui.core.logwire`).

        Podman 4.x prints the stamps with second precision (``time.RFC3339``)."""
        params: dict[str, Any] = {
            "stdout": "true",
            "stderr": "true",
            "follow": _bool(follow),
            "timestamps": _bool(timestamps),
            "tail": "all" if tail is None or tail < 0 else str(int(tail)),
        }
        if since:
            params["since"] = rfc3339(since)
        holder: list[_HTTPStream[LogBatch]] = []

        def batches(chunks: Iterator[bytes]) -> Iterator[LogBatch]:
            # read the socket in big pieces instead of one HTTP chunk (= one frame = one line) at a time
            response = holder[0]._response if holder else None
            body = response_body(response) if response is not None else chunks
            return decode_log_body(body, timestamps, keep_streams=streams)

        stream: _HTTPStream[LogBatch] = _HTTPStream(
            self, "GET", f"/containers/{_quote(ident)}/logs", f"container '{ident}'", batches, params=params
        )
        holder.append(stream)
        # a pending item is one socket read (up to 64 KiB): 64 of them bound the memory of a slow consumer
        items = cast("AsyncGenerator[list[LogBatch], None]", iterate_blocking_batches(lambda: stream, max_pending=64))
        async with contextlib.aclosing(items) as pieces:
            async for piece in pieces:
                yield merge_batches(piece)

    def _exec_blocking(self, ident: str, argv: list[str]) -> ExecResult:
        what = f"container '{ident}'"
        created = self._call(
            "POST",
            f"/containers/{_quote(ident)}/exec",
            what,
            body={
                "Cmd": list(argv),
                "AttachStdin": False,
                "AttachStdout": True,
                "AttachStderr": True,
                "Tty": False,
            },
        )
        exec_id = str((created or {}).get("Id") or "")
        if not exec_id:
            raise BackendError(f"Podman did not create an exec session in {what}")
        response = self._send(
            self._client(),
            "POST",
            f"/exec/{exec_id}/start",
            what,
            body={"Detach": False, "Tty": False},
            timeout=(CONNECT_TIMEOUT, EXEC_TIMEOUT),
        )
        raw = response.content or b""
        if looks_framed(raw):
            frames, rest = demux_frames(raw)
            output = b"".join(payload for _stream, payload in frames) + rest
        else:
            output = raw
        deadline = time.monotonic() + 10.0
        while True:
            details = self._call("GET", f"/exec/{exec_id}/json", f"exec session of {what}") or {}
            if not details.get("Running") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        code = details.get("ExitCode")
        return ExecResult(
            exit_code=int(code) if isinstance(code, int) else -1, output=output.decode("utf-8", "replace")
        )

    async def exec_run(self, ident: str, argv: list[str]) -> ExecResult:
        if not argv:
            raise InvalidInput("nothing to execute: the command is empty")
        return await run_blocking(self._exec_blocking, ident, list(argv))

    # -- pods (Podman only) -----------------------------------------------------------------
    async def list_pods(self, filters: Mapping[str, Sequence[str]] | None = None) -> list[PodRow]:
        data = await self._acall("GET", "/pods/json", "pods", params=_filters(filters))
        return [parse_pod(item, self.name) for item in data or ()]

    async def create_pod(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        body: dict[str, Any] = {"name": name}
        if labels:
            body["labels"] = dict(labels)
        data = await self._acall("POST", "/pods/create", f"pod '{name}'", body=body)
        return str((data or {}).get("Id") or "")

    async def remove_pod(self, ident: str, force: bool = False) -> None:
        data = await self._acall(
            "DELETE", f"/pods/{_quote(ident)}", f"pod '{ident}'", params={"force": _bool(force)}
        )
        if isinstance(data, Mapping) and data.get("Err"):
            raise error_from_response(500, {"message": str(data["Err"])}, f"pod '{ident}'")

    # -- images ------------------------------------------------------------------------------
    async def list_images(self) -> list[ImageRow]:
        data = await self._acall("GET", "/images/json", "images")
        return [parse_image(item, self.name) for item in data or ()]

    async def inspect_image(self, ident: str) -> dict[str, Any]:
        data = await self._acall("GET", f"/images/{_quote_image(ident)}/json", f"image '{ident}'")
        return dict(data or {})

    async def image_history(self, ident: str) -> list[dict[str, Any]]:
        data = await self._acall("GET", f"/images/{_quote_image(ident)}/history", f"image '{ident}'")
        return [dict(entry) for entry in data or ()]

    async def pull_image(self, reference: str, auth: Any = None) -> AsyncIterator[PullProgress]:
        """Pull ``reference``, yielding progress; a failed pull raises (NotFound or BackendError).
        ``auth`` (a ``registry_auth.RegistryAuth``) travels in the X-Registry-Auth header only."""
        if not reference.strip():
            raise InvalidInput("no image reference to pull")

        def progress(chunks: Iterator[bytes]) -> Iterator[PullProgress]:
            for doc in iter_json_lines(chunks):
                if not isinstance(doc, Mapping):
                    continue
                item = parse_pull_line(doc)
                if item.error:
                    lowered = item.error.lower()
                    if "manifest unknown" in lowered or "not found" in lowered:
                        raise NotFound(f"image '{reference}' not found: {item.error}")
                    raise BackendError(f"pulling '{reference}' failed: {item.error}")
                yield item

        stream: _HTTPStream[PullProgress] = _HTTPStream(
            self,
            "POST",
            "/images/pull",
            f"image '{reference}'",
            progress,
            params={"reference": reference.strip(), "policy": "always"},
            headers={"X-Registry-Auth": auth.header()} if auth is not None else None,
        )
        async for item in self._stream(stream):
            yield item

    async def tag_image(self, ident: str, repository: str, tag: str = "latest") -> None:
        await self._acall(
            "POST",
            f"/images/{_quote_image(ident)}/tag",
            f"image '{ident}'",
            params={"repo": repository, "tag": tag or "latest"},
        )

    async def remove_image(self, ident: str, force: bool = False) -> None:
        try:
            data = await self._acall(
                "DELETE", f"/images/{_quote_image(ident)}", f"image '{ident}'", params={"force": _bool(force)}
            )
        except Conflict as exc:
            used_by = re.search(r"image used by ([0-9a-f]{12,64})", str(exc))
            if used_by:
                raise Conflict(
                    f"image '{ident}' is in use by container {used_by.group(1)[:12]}: "
                    "remove that container first (or force the removal)"
                ) from exc
            raise Conflict(f"cannot remove image '{ident}': {exc}") from exc
        errors = (data or {}).get("Errors") if isinstance(data, Mapping) else None
        if errors:
            raise error_from_response(500, {"message": "; ".join(str(e) for e in errors)}, f"image '{ident}'")

    async def prune_images(self, dangling_only: bool = True, label: str | None = None) -> PruneResult:
        params: dict[str, Any] = {"all": _bool(not dangling_only)}
        if label:
            params.update(_filters({"label": [label]}))
        data = await self._acall(
            "POST", "/images/prune", "images", params=params, timeout=(CONNECT_TIMEOUT, 900.0)
        )
        return parse_prune(data, "Id")

    # -- networks ----------------------------------------------------------------------------
    async def list_networks(self) -> list[NetworkRow]:
        data = await self._acall("GET", "/networks/json", "networks")
        return [parse_network(item, self.name) for item in data or ()]

    async def inspect_network(self, ident: str) -> dict[str, Any]:
        data = await self._acall("GET", f"/networks/{_quote(ident)}/json", f"network '{ident}'")
        return dict(data or {})

    async def create_network(
        self, name: str, driver: str = "bridge", labels: Mapping[str, str] | None = None
    ) -> str:
        body: dict[str, Any] = {"name": name, "driver": driver or "bridge"}
        if labels:
            body["labels"] = dict(labels)
        data = await self._acall("POST", "/networks/create", f"network '{name}'", body=body)
        return str((data or {}).get("id") or (data or {}).get("Id") or name)

    async def remove_network(self, ident: str) -> None:
        reports = await self._acall("DELETE", f"/networks/{_quote(ident)}", f"network '{ident}'")
        self._check_reports(reports, f"network '{ident}'")

    async def prune_networks(self, label: str | None = None) -> PruneResult:
        params = _filters({"label": [label]}) if label else {}
        data = await self._acall("POST", "/networks/prune", "networks", params=params)
        return parse_prune(data, "Name")

    # -- volumes -----------------------------------------------------------------------------
    async def list_volumes(self) -> list[VolumeRow]:
        data = await self._acall("GET", "/volumes/json", "volumes")
        return [parse_volume(item, self.name) for item in data or ()]

    async def inspect_volume(self, name: str) -> dict[str, Any]:
        data = await self._acall("GET", f"/volumes/{_quote(name)}/json", f"volume '{name}'")
        return dict(data or {})

    async def create_volume(
        self, name: str, driver: str = "local", labels: Mapping[str, str] | None = None
    ) -> str:
        body: dict[str, Any] = {"Name": name, "Driver": driver or "local"}
        if labels:
            body["Labels"] = dict(labels)
        data = await self._acall("POST", "/volumes/create", f"volume '{name}'", body=body)
        return str((data or {}).get("Name") or name)

    async def remove_volume(self, name: str, force: bool = False) -> None:
        await self._acall(
            "DELETE", f"/volumes/{_quote(name)}", f"volume '{name}'", params={"force": _bool(force)}
        )

    async def prune_volumes(self, label: str | None = None) -> PruneResult:
        params = _filters({"label": [label]}) if label else {}
        data = await self._acall(
            "POST", "/volumes/prune", "volumes", params=params, timeout=(CONNECT_TIMEOUT, 900.0)
        )
        return parse_prune(data, "Id")

    # -- events ------------------------------------------------------------------------------
    async def events(
        self, since: float | None = None, filters: Mapping[str, Sequence[str]] | None = None
    ) -> AsyncIterator[RuntimeEvent]:
        params: dict[str, Any] = {"stream": "true", **_filters(filters)}
        if since:
            params["since"] = rfc3339(since)
        name = self.name

        def decode(chunks: Iterator[bytes]) -> Iterator[RuntimeEvent]:
            for doc in iter_json_lines(chunks):
                if isinstance(doc, Mapping):
                    yield parse_event(doc, name)

        stream: _HTTPStream[RuntimeEvent] = _HTTPStream(
            self, "GET", "/events", "events", decode, params=params
        )
        async for event in self._stream(stream):
            yield event

    # -- live limits and health ------------------------------------------------------------------
    async def _engine_version(self) -> str:
        """The service's Podman version ("4.3.1"): from the API prefix learnt at connect, else /info."""
        m = re.match(r"/v(\d+\.\d+\.\d+)", str(getattr(self, "_path_prefix", "") or ""))
        if m:
            return m.group(1)
        return (await self.info()).version

    async def update_container(self, ident: str, limits: Limits) -> None:
        """libpod ``POST /containers/{id}/update``: cpus and memory as an OCI ``LinuxResources`` body (0 removes
        a limit); the restart policy as Podman 5's ``restartPolicy``/``restartRetries`` parameters.

        Podman 4.x (checked on 4.3.1): there is no way to change the restart policy (the parameters are
        silently ignored, so asking raises NotSupported before anything changes); limits can only be changed
        on a running container (else runc fails without a reason: Conflict is raised first); and the change
        is applied to the running cgroup only - inspect keeps showing the create-time values and a restart
        of the container brings those back.
        """
        if limits.is_empty():
            return
        checked = check_limits(limits)
        info = await self.inspect_container(ident)
        version = await self._engine_version()
        major = (version_tuple(version) or (0,))[0]
        params: dict[str, str] = {}
        if checked.restart_policy is not None:
            if major < 5:
                raise NotSupported(
                    f"Podman {version} cannot change the restart policy of an existing container (podman update "
                    "--restart needs Podman 5): recreate the container with the new policy"
                )
            params = podman_restart_params(checked.restart_policy)
        body = podman_update_body(checked, info.get("HostConfig") or {})
        if major < 5 and body:
            state = str((info.get("State") or {}).get("Status") or "unknown")
            if state != "running":
                raise Conflict(
                    f"Podman {version} can only change the limits of a running container: '{ident}' is {state}"
                )
        await self._acall(
            "POST", f"/containers/{_quote(ident)}/update", f"container '{ident}'", params=params, body=body
        )
