"""Disk usage per object (``:df``) and prunes with an exact preview of what they would remove.

Docker answers ``/system/df`` with images, containers, volumes and BuildKit cache records; Podman's
``/libpod/system/df`` has a different shape (one image row per tag, ``RWSize``, volume ``Links``) and
no build cache (Buildah keeps intermediate layers as ordinary, often dangling, images). Both become
the same :class:`DiskReport` of :class:`DiskItem` rows.

Reclaimable means what the matching prune removes: images that no container uses (dangling ones
are flagged), stopped containers (exited, created, dead), volumes no container links to, and build
cache records not in use. :func:`prune_preview` lists exactly those (optionally only the ones
carrying a label) with the bytes they free; :func:`prune` runs the engine's prune with the same
label filter.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import PruneResult, RuntimeKind
from tamer_tui.core.runtime import ContainerRuntime

CATEGORIES = ("images", "containers", "volumes", "build-cache")
PRUNE_KINDS = ("images", "dangling-images", "containers", "volumes", "build-cache", "networks")
DF_TIMEOUT = 600.0  # a large image store can take minutes to measure
PRUNE_TIMEOUT = 900.0
_STOPPED = frozenset({"exited", "created", "dead", "stopped", "configured", "initialized"})
_DEFAULT_NETWORKS = frozenset({"bridge", "host", "none", "podman", "ingress", "docker_gwbridge"})
PODMAN_BUILD_CACHE_NOTE = (
    "Podman has no separate build cache: intermediate build layers are kept as images "
    "(prune dangling images to reclaim them)"
)


@dataclass(frozen=True)
class DiskItem:
    """One image, container, volume, build-cache record or network and the space it takes."""

    category: str  # "images" | "containers" | "volumes" | "build-cache" | "networks"
    id: str
    name: str
    size: int
    reclaimable: bool
    in_use: int  # containers using it (images), links (volumes), 1 = running (containers)
    detail: str
    created: float
    labels: tuple[tuple[str, str], ...] = ()
    unique_size: int = -1  # bytes only this object holds (images share layers); -1 = same as size
    dangling: bool = False

    @property
    def key(self) -> str:
        return f"{self.category}/{self.id}"

    @property
    def freed(self) -> int:
        """Bytes removing this object frees."""
        return self.unique_size if self.unique_size >= 0 else self.size

    def has_label(self, selector: str) -> bool:
        """``key`` or ``key=value``, like the engines' ``label`` prune filter."""
        key, sep, value = selector.partition("=")
        return any(k == key and (not sep or v == value) for k, v in self.labels)


@dataclass(frozen=True)
class DiskReport:
    """Everything one engine stores, and per category ``(count, size, reclaimable size)``."""

    runtime: str
    items: tuple[DiskItem, ...]
    totals: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    build_cache_supported: bool = True
    note: str = ""

    def category(self, name: str) -> list[DiskItem]:
        return [item for item in self.items if item.category == name]

    def find(self, key: str) -> DiskItem | None:
        for item in self.items:
            if item.key == key:
                return item
        return None


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _totals(items: Sequence[DiskItem], sizes: Mapping[str, int] | None = None) -> dict[str, tuple[int, int, int]]:
    totals: dict[str, tuple[int, int, int]] = {}
    for category in CATEGORIES:
        rows = [item for item in items if item.category == category]
        size = sum(item.size for item in rows)
        if sizes and category in sizes:
            size = sizes[category]
        reclaim = sum(item.freed for item in rows if item.reclaimable)
        totals[category] = (len(rows), size, min(reclaim, size) if size else reclaim)
    return totals


def _image_detail(tags: Sequence[str], dangling: bool, containers: int, shared: int) -> str:
    parts: list[str] = []
    if dangling:
        parts.append("dangling")
    elif len(tags) > 1:
        parts.append("also " + ", ".join(tags[1:]))
    if containers > 0:
        parts.append(f"used by {_plural(containers, 'container')}")
    elif containers == 0:
        parts.append("unused")
    if shared > 0:
        parts.append(f"{shared} B shared")
    return " · ".join(parts)


# ------------------------------------------------------------------------------------------------
# Docker /system/df
# ------------------------------------------------------------------------------------------------
def parse_docker_df(runtime: str, data: Mapping[str, Any]) -> DiskReport:
    """A Docker ``/system/df`` answer as a :class:`DiskReport`."""
    from tamer_tui.core.docker_runtime import parse_time

    items: list[DiskItem] = []
    for image in data.get("Images") or ():
        tags = [t for t in image.get("RepoTags") or () if t and t != "<none>:<none>"]
        dangling = not tags
        size = _int(image.get("Size"))
        shared = image.get("SharedSize")
        shared_n = _int(shared) if shared is not None else -1
        containers = _int(image.get("Containers")) if image.get("Containers") is not None else -1
        digests = [d for d in image.get("RepoDigests") or () if d and not d.startswith("<none>")]
        name = tags[0] if tags else (digests[0].split("@")[0] + "@<none>" if digests else "<none>:<none>")
        items.append(
            DiskItem(
                category="images",
                id=str(image.get("Id") or ""),
                name=name,
                size=size,
                reclaimable=containers == 0,
                in_use=max(containers, 0),
                detail=_image_detail(tags, dangling, containers, shared_n),
                created=parse_time(image.get("Created")),
                labels=_labels(image.get("Labels")),
                unique_size=max(size - shared_n, 0) if shared_n >= 0 else -1,
                dangling=dangling,
            )
        )
    for container in data.get("Containers") or ():
        names = container.get("Names") or ()
        state = str(container.get("State") or "").lower()
        running = state not in _STOPPED
        items.append(
            DiskItem(
                category="containers",
                id=str(container.get("Id") or ""),
                name=(str(names[0]) if names else str(container.get("Id") or "")[:12]).lstrip("/"),
                size=_int(container.get("SizeRw")),
                reclaimable=not running,
                in_use=1 if running else 0,
                detail=f"{state or 'unknown'} · {container.get('Image') or ''} · "
                f"{_int(container.get('SizeRootFs'))} B with image",
                created=parse_time(container.get("Created")),
                labels=_labels(container.get("Labels")),
            )
        )
    for volume in data.get("Volumes") or ():
        usage = volume.get("UsageData") or {}
        links = _int(usage.get("RefCount")) if usage.get("RefCount") is not None else -1
        items.append(
            DiskItem(
                category="volumes",
                id=str(volume.get("Name") or ""),
                name=str(volume.get("Name") or ""),
                size=max(_int(usage.get("Size")), 0),
                reclaimable=links == 0,
                in_use=max(links, 0),
                detail=f"{volume.get('Driver') or 'local'} · "
                + ("links unknown" if links < 0 else f"{_plural(links, 'container')}"),
                created=parse_time(volume.get("CreatedAt")),
                labels=_labels(volume.get("Labels")),
            )
        )
    for record in data.get("BuildCache") or ():
        in_use = bool(record.get("InUse"))
        description = str(record.get("Description") or "")
        kind = str(record.get("Type") or record.get("CacheType") or "")
        items.append(
            DiskItem(
                category="build-cache",
                id=str(record.get("ID") or ""),
                name=description[:80] or str(record.get("ID") or "")[:12],
                size=_int(record.get("Size")),
                reclaimable=not in_use,
                in_use=1 if in_use else 0,
                detail=" · ".join(
                    p
                    for p in (kind, "in use" if in_use else "", "shared" if record.get("Shared") else "",
                              f"used {_int(record.get('UsageCount'))}x")
                    if p
                ),
                created=parse_time(record.get("CreatedAt")),
            )
        )
    sizes: dict[str, int] = {}
    if data.get("LayersSize") is not None:
        sizes["images"] = _int(data.get("LayersSize"))
    return DiskReport(runtime=runtime, items=tuple(items), totals=_totals(items, sizes), build_cache_supported=True)


# ------------------------------------------------------------------------------------------------
# Podman /libpod/system/df
# ------------------------------------------------------------------------------------------------
def parse_podman_df(
    runtime: str,
    data: Mapping[str, Any],
    containers: Sequence[Mapping[str, Any]] = (),
    images: Sequence[Mapping[str, Any]] = (),
    volumes: Sequence[Mapping[str, Any]] = (),
) -> DiskReport:
    """A libpod ``/system/df`` answer (plus the container, image and volume lists, which carry the
    labels and names df leaves out) as a :class:`DiskReport`."""
    from tamer_tui.core.podman_runtime import parse_time

    image_labels = {str(i.get("Id") or ""): _labels(i.get("Labels")) for i in images}
    container_info = {str(c.get("Id") or ""): c for c in containers}
    volume_info = {str(v.get("Name") or ""): v for v in volumes}

    merged: dict[str, dict[str, Any]] = {}
    for row in data.get("Images") or ():
        ident = str(row.get("ImageID") or row.get("Id") or "")
        entry = merged.setdefault(ident, {"row": row, "tags": []})
        repo, tag = str(row.get("Repository") or ""), str(row.get("Tag") or "")
        if repo and repo != "<none>":
            entry["tags"].append(f"{repo}:{tag or 'latest'}" if tag != "<none>" else repo)
    items: list[DiskItem] = []
    for ident, entry in merged.items():
        row, tags = entry["row"], entry["tags"]
        dangling = not tags
        size = _int(row.get("Size"))
        shared = _int(row.get("SharedSize"))
        used = _int(row.get("Containers"))
        unique = row.get("UniqueSize")
        items.append(
            DiskItem(
                category="images",
                id=ident,
                name=tags[0] if tags else "<none>:<none>",
                size=size,
                reclaimable=used == 0,
                in_use=used,
                detail=_image_detail(tags, dangling, used, shared),
                created=parse_time(row.get("Created")),
                labels=image_labels.get(ident, ()),
                unique_size=_int(unique) if unique is not None else max(size - shared, 0),
                dangling=dangling,
            )
        )
    for row in data.get("Containers") or ():
        ident = str(row.get("ContainerID") or row.get("Id") or "")
        info = container_info.get(ident, {})
        state = str(row.get("Status") or info.get("State") or "").lower()
        running = state not in _STOPPED
        names = row.get("Names")
        name = names if isinstance(names, str) else (names[0] if names else "")
        items.append(
            DiskItem(
                category="containers",
                id=ident,
                name=str(name or ident[:12]).lstrip("/"),
                size=_int(row.get("RWSize")),
                reclaimable=not running,
                in_use=1 if running else 0,
                detail=f"{state or 'unknown'} · {info.get('Image') or row.get('Image') or ''} · "
                f"{_int(row.get('Size'))} B with image",
                created=parse_time(row.get("Created")),
                labels=_labels(info.get("Labels")),
            )
        )
    for row in data.get("Volumes") or ():
        name = str(row.get("VolumeName") or row.get("Name") or "")
        info = volume_info.get(name, {})
        links = _int(row.get("Links"))
        items.append(
            DiskItem(
                category="volumes",
                id=name,
                name=name,
                size=_int(row.get("Size")),
                reclaimable=links == 0,
                in_use=links,
                detail=f"{info.get('Driver') or 'local'} · {_plural(links, 'container')}",
                created=parse_time(info.get("CreatedAt")),
                labels=_labels(info.get("Labels")),
            )
        )
    return DiskReport(
        runtime=runtime,
        items=tuple(items),
        totals=_totals(items),
        build_cache_supported=False,
        note=PODMAN_BUILD_CACHE_NOTE,
    )


# ------------------------------------------------------------------------------------------------
# Reports, previews, prunes
# ------------------------------------------------------------------------------------------------
def _kind_of(runtime: ContainerRuntime) -> RuntimeKind:
    if runtime.kind not in (RuntimeKind.DOCKER, RuntimeKind.PODMAN):
        raise InvalidInput(f"{runtime.name}: disk usage is not available on this kind of runtime")
    return runtime.kind


async def _docker_df(runtime: Any) -> dict[str, Any]:
    api = runtime._client()

    def fetch() -> dict[str, Any]:
        return dict(api._result(api._get(api._url("/system/df"), timeout=DF_TIMEOUT), True) or {})

    return await runtime._call(f"{runtime.name} disk usage", fetch)  # type: ignore[no-any-return]


async def _podman_list(runtime: Any, path: str, what: str, **params: Any) -> list[dict[str, Any]]:
    data = await runtime._acall("GET", path, what, params=params)
    return [dict(item) for item in data or () if isinstance(item, Mapping)]


async def disk_report(runtime: ContainerRuntime) -> DiskReport:
    """What ``runtime`` stores, per object, with what a prune could reclaim."""
    if _kind_of(runtime) == RuntimeKind.DOCKER:
        return parse_docker_df(runtime.name, await _docker_df(runtime))
    rt: Any = runtime
    df, containers, images, volumes = await asyncio.gather(
        rt._acall("GET", "/system/df", "disk usage", timeout=(10.0, DF_TIMEOUT)),
        _podman_list(rt, "/containers/json", "containers", all="true"),
        _podman_list(rt, "/images/json", "images", all="true"),
        _podman_list(rt, "/volumes/json", "volumes"),
    )
    return parse_podman_df(runtime.name, df or {}, containers, images, volumes)


def _check_kind(kind: str) -> None:
    if kind not in PRUNE_KINDS:
        raise InvalidInput(f"unknown prune kind {kind!r} (one of {', '.join(PRUNE_KINDS)})")


def _parse_network(item: Mapping[str, Any], runtime: str) -> DiskItem:
    from tamer_tui.core.docker_runtime import parse_time

    name = str(item.get("Name") or item.get("name") or "")
    return DiskItem(
        category="networks",
        id=str(item.get("Id") or item.get("id") or name),
        name=name,
        size=0,
        reclaimable=True,
        in_use=0,
        detail=str(item.get("Driver") or item.get("driver") or ""),
        created=parse_time(item.get("Created") or item.get("created")),
        labels=_labels(item.get("Labels") if "Labels" in item else item.get("labels")),
    )


async def unused_networks(runtime: ContainerRuntime) -> list[DiskItem]:
    """Networks a network prune removes: not predefined and without containers.

    Docker counts only attached (running) containers, Podman every container configured to use
    the network, as their prunes do. Docker swarm-scoped networks are left out.
    """
    rt: Any = runtime
    if _kind_of(runtime) == RuntimeKind.DOCKER:
        api = rt._client()

        def fetch() -> list[dict[str, Any]]:
            unused: list[dict[str, Any]] = []
            for net in api.networks() or ():
                if net.get("Name") in _DEFAULT_NETWORKS or net.get("Scope") not in ("local", None):
                    continue
                detail = api.inspect_network(net["Id"])
                if not detail.get("Containers"):
                    unused.append(detail)
            return unused

        return [_parse_network(n, runtime.name) for n in await rt._call(f"{runtime.name} networks", fetch)]
    networks, containers = await asyncio.gather(
        _podman_list(rt, "/networks/json", "networks"),
        _podman_list(rt, "/containers/json", "containers", all="true"),
    )
    used: set[str] = set()
    for container in containers:
        nets = container.get("Networks") or ()
        used.update(str(n) for n in (nets.keys() if isinstance(nets, Mapping) else nets))
    return [
        _parse_network(n, runtime.name)
        for n in networks
        if str(n.get("name") or "") not in _DEFAULT_NETWORKS and str(n.get("name") or "") not in used
    ]


async def prune_preview(
    runtime: ContainerRuntime, kind: str, *, label: str | None = None
) -> tuple[list[DiskItem], int]:
    """What ``prune(runtime, kind, label=label)`` would remove, and the bytes that frees."""
    _check_kind(kind)
    if kind == "networks":
        items = await unused_networks(runtime)
    else:
        report = await disk_report(runtime)
        if kind == "build-cache" and not report.build_cache_supported:
            return [], 0
        category = "images" if kind == "dangling-images" else kind
        items = [item for item in report.category(category) if item.reclaimable]
        if kind == "dangling-images":
            items = [item for item in items if item.dangling]
    if label:
        items = [item for item in items if item.has_label(label)]
    items.sort(key=lambda item: (-item.freed, item.name))
    return items, sum(item.freed for item in items)


def _docker_deleted(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    out: list[str] = []
    for entry in data.get(key) or ():
        if isinstance(entry, Mapping):
            value = entry.get("Deleted")
            if value:
                out.append(str(value))
        elif entry:
            out.append(str(entry))
    return tuple(out)


async def _docker_prune(runtime: Any, kind: str, label: str | None) -> PruneResult:
    api = runtime._client()
    filters: dict[str, Any] = {"label": [label]} if label else {}
    if kind == "build-cache":
        if label:
            raise InvalidInput("build cache records carry no labels: prune the build cache without a label")
        data = await runtime._call("prune build cache", api.prune_builds, all=True)
        return PruneResult(tuple(data.get("CachesDeleted") or ()), _int(data.get("SpaceReclaimed")))
    if kind == "containers":
        data = await runtime._call("prune containers", api.prune_containers, filters=filters or None)
        return PruneResult(tuple(data.get("ContainersDeleted") or ()), _int(data.get("SpaceReclaimed")))
    if kind in ("images", "dangling-images"):
        filters["dangling"] = kind == "dangling-images"
        data = await runtime._call("prune images", api.prune_images, filters=filters)
        return PruneResult(_docker_deleted(data, "ImagesDeleted"), _int(data.get("SpaceReclaimed")))
    if kind == "volumes":
        # API >= 1.42 prunes only anonymous volumes unless all=true (older APIs reject that filter)
        if tuple(int(x) for x in str(api.api_version).split(".")[:2]) >= (1, 42):
            filters["all"] = ["true"]
        data = await runtime._call("prune volumes", api.prune_volumes, filters=filters or None)
        return PruneResult(tuple(data.get("VolumesDeleted") or ()), _int(data.get("SpaceReclaimed")))
    data = await runtime._call("prune networks", api.prune_networks, filters=filters or None)
    return PruneResult(tuple(data.get("NetworksDeleted") or ()), 0)


async def _podman_prune(runtime: Any, kind: str, label: str | None) -> PruneResult:
    from tamer_tui.core.podman_runtime import parse_prune

    if kind == "build-cache":
        raise InvalidInput(PODMAN_BUILD_CACHE_NOTE)
    params: dict[str, Any] = {"filters": json.dumps({"label": [label]})} if label else {}
    timeout = (10.0, PRUNE_TIMEOUT)
    if kind == "containers":
        data = await runtime._acall("POST", "/containers/prune", "containers", params=params, timeout=timeout)
        return parse_prune(data, "Id")
    if kind in ("images", "dangling-images"):
        params["all"] = "false" if kind == "dangling-images" else "true"
        data = await runtime._acall("POST", "/images/prune", "images", params=params, timeout=timeout)
        return parse_prune(data, "Id")
    if kind == "volumes":
        data = await runtime._acall("POST", "/volumes/prune", "volumes", params=params, timeout=timeout)
        return parse_prune(data, "Id")
    data = await runtime._acall("POST", "/networks/prune", "networks", params=params, timeout=timeout)
    return parse_prune(data, "Name")


async def prune(runtime: ContainerRuntime, kind: str, *, label: str | None = None) -> PruneResult:
    """Run the engine's prune for ``kind`` (only objects carrying ``label`` when given)."""
    _check_kind(kind)
    if label is not None and not label.strip():
        raise InvalidInput("the label filter is empty")
    if _kind_of(runtime) == RuntimeKind.DOCKER:
        return await _docker_prune(runtime, kind, label)
    return await _podman_prune(runtime, kind, label)
