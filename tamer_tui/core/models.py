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
    """What ``create_container`` needs; argv lists only, never shell strings."""

    image: str
    name: str = ""
    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[int, int], ...] = ()  # (container_port, host_port)
    network: str = ""
    healthcheck: tuple[str, ...] = ()  # argv for CMD healthcheck
    health_interval_s: float = 1.0


JSON = dict[str, Any]
