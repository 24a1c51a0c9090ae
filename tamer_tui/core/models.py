"""Compact, immutable rows and value objects shared by every backend.

Rows hold only what a list view needs; full objects are fetched on demand with ``inspect_*``.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any


class RuntimeKind(enum.StrEnum):
    DOCKER = "docker"
    PODMAN = "podman"


class Capability(enum.StrEnum):
    CONTAINERS = "containers"
    IMAGES = "images"
    NETWORKS = "networks"
    VOLUMES = "volumes"
    EVENTS = "events"
    STATS = "stats"
    EXEC = "exec"
    PAUSE = "pause"
    PODS = "pods"
    SWARM = "swarm"


@dataclass(frozen=True, slots=True)
class RuntimeEndpoint:
    """Where a runtime lives and how we found it."""

    kind: RuntimeKind
    name: str  # unique display name: "docker", "podman", "docker@ctx" ...
    url: str  # unix:///run/podman/podman.sock, tcp://127.0.0.1:2375, ssh://...
    source: str  # "DOCKER_HOST", "docker context foo", "default socket", ...
    rootless: bool = False
    # TLS for tcp:// endpoints: ``tls_verify`` None = plain TCP; True = TLS verifying the server
    # (against ``tls_ca``, else the system CAs); False = TLS without verification. The client
    # certificate (``tls_cert`` + ``tls_key``) is presented when both are set.
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_verify: bool | None = None
    identity: str = ""  # ssh identity file for ssh:// endpoints ("" = ssh's own defaults)


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    name: str
    kind: RuntimeKind
    url: str
    version: str = ""
    api_version: str = ""
    os: str = ""
    arch: str = ""
    rootless: bool = False
    containers: int = 0
    images: int = 0
    swarm: bool = False


@dataclass(frozen=True, slots=True)
class ContainerRow:
    runtime: str
    id: str
    name: str
    image: str
    state: str  # running, exited, paused, created, restarting, dead
    status: str  # "Up 3 minutes", "Exited (0) 2 hours ago"
    health: str = ""  # healthy, unhealthy, starting or ""
    ports: str = ""
    created: float = 0.0
    command: str = ""
    pod: str = ""
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def label(self, name: str, default: str = "") -> str:
        for k, v in self.labels:
            if k == name:
                return v
        return default


@dataclass(frozen=True, slots=True)
class ImageRow:
    runtime: str
    id: str
    tags: tuple[str, ...]
    size: int
    created: float
    containers: int = -1  # -1: unknown
    dangling: bool = False

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"

    @property
    def short_id(self) -> str:
        ident = self.id.split(":", 1)[-1]
        return ident[:12]

    @property
    def display_name(self) -> str:
        return self.tags[0] if self.tags else "<none>:<none>"


@dataclass(frozen=True, slots=True)
class NetworkRow:
    runtime: str
    id: str
    name: str
    driver: str
    scope: str = "local"
    subnet: str = ""
    internal: bool = False
    created: float = 0.0

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.name}"


@dataclass(frozen=True, slots=True)
class VolumeRow:
    runtime: str
    name: str
    driver: str
    mountpoint: str = ""
    scope: str = "local"
    created: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.name}"


@dataclass(frozen=True, slots=True)
class StatsSample:
    cpu_percent: float
    mem_usage: int
    mem_limit: int
    net_rx: int = 0
    net_tx: int = 0
    blk_read: int = 0
    blk_write: int = 0
    pids: int = 0
    ts: float = field(default_factory=time.time)

    @property
    def mem_percent(self) -> float:
        return (100.0 * self.mem_usage / self.mem_limit) if self.mem_limit else 0.0


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """One event from a daemon's event stream, normalised across Docker and Podman."""

    runtime: str
    type: str  # container, image, network, volume, pod
    action: str  # start, die, destroy, create, pull, tag, delete ...
    id: str
    name: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    time: float = 0.0


@dataclass(frozen=True, slots=True)
class PullProgress:
    status: str
    layer: str = ""
    current: int = 0
    total: int = 0
    error: str = ""


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    output: str


@dataclass(frozen=True, slots=True)
class PruneResult:
    deleted: tuple[str, ...]
    space_reclaimed: int


@dataclass(frozen=True, slots=True)
class DiskUsage:
    images: int = 0
    images_size: int = 0
    containers: int = 0
    containers_size: int = 0
    volumes: int = 0
    volumes_size: int = 0
    build_cache_size: int = 0


@dataclass(frozen=True, slots=True)
class LogLine:
    text: str
    stream: str = "stdout"  # stdout | stderr
    ts: str = ""


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """What ``create_container`` needs; argv lists only, never shell strings.

    Parsed and validated from the Run form by :func:`tamer_tui.core.runspec.build_spec`; 0 / "" / () mean
    "not set" (the image's or the engine's default).
    """

    image: str
    name: str = ""
    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[int, int], ...] = ()  # (container_port, host_port); host_port 0: the engine picks one (TCP)
    network: str = ""
    healthcheck: tuple[str, ...] = ()  # argv for CMD healthcheck
    health_interval_s: float = 1.0
    volumes: tuple[str, ...] = ()  # "SRC:DST" or "SRC:DST:ro"; SRC an absolute host path or a volume name
    cpus: float = 0.0  # 0: no CPU limit
    memory: int = 0  # bytes; 0: no memory limit
    restart_policy: str = ""  # "" (= no), "always", "unless-stopped", "on-failure" or "on-failure:N"
    health_retries: int = 3
    health_timeout_s: float = 0.0  # 0: a runtime default (Docker 3 x interval, Podman max(interval, 5 s))
    health_start_period_s: float = 0.0
    entrypoint: tuple[str, ...] = ()  # () keeps the image's entrypoint
    workdir: str = ""
    user: str = ""  # "name", "uid" or "uid:gid"
    tty: bool = False
    auto_remove: bool = False


JSON = dict[str, Any]
