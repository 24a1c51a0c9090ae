"""Podman pods, rootless/user-namespace facts, systemd units and kube YAML (libpod API only).

Everything goes through the plumbing of :class:`~tamer_tui.core.podman_runtime.PodmanRuntime`
(``_acall`` for JSON answers; a raw request here for the endpoints that take or return YAML/text), so
transport errors and HTTP errors map to the same Tamer errors as the rest of the Podman backend.

Payload notes, checked against a real Podman 4.3.1 service and the Podman 5.x handlers
(``pkg/api/handlers/libpod/pods.go``, ``generate.go``, ``kube.go``, ``pkg/domain/entities/pods.go``):

* ``GET /pods/json``: ``[{Id, Name, Status, InfraId, Created (RFC3339), Labels, Networks, Cgroup,
  Containers: [{Id, Names (one name, a string), Status (lower-case state)}]}]`` - the same in 4.x and 5.x
  (5.x adds ``RestartCount`` per container).
* ``GET /pods/{name}/json``: one object ``{Id, Name, State, InfraContainerID, InfraConfig{PortBindings,
  Networks, ...}, Containers: [{Id, Name, State}], Labels, ...}``. (The 5.x *CLI* prints a list; the API
  still answers one object.) 5.x adds ``RestartPolicy``, ``LockNumber`` and resource fields.
* Lifecycle (``POST /pods/{name}/start|stop|restart|pause|unpause|kill``, ``DELETE /pods/{name}``) answer
  ``{Id, Errs: [...]}``; ``Errs`` is a list of strings ("starting container <id>: <reason>") with HTTP 409
  when some containers failed, ``304`` with an empty body when there was nothing to do. Podman 4.3 only
  stops a pod whose status is exactly ``Running``: a ``Degraded`` pod (one member exited or never
  started) answers 304 and stays up, so :meth:`PodmanPods.stop` stops the remaining members itself.
  ``DELETE`` answers ``{Id, Err, RemovedCtrs}``; 5.x sends the same keys.
* ``GET /pods/stats?namesOrIDs=``: per container ``{Pod, CID, Name, CPU "1.08%", MemUsage "741.4kB /
  25.28GB", MemUsageBytes "724KiB / 23.54GiB", Mem "0.00%", NetIO, BlockIO, PIDS}`` - human strings
  (``"--"`` for a stopped container), parsed back into numbers here; identical in 4.x and 5.x.
* ``GET /pods/{name}/top``: ``{Titles, Processes}``; an empty body for a paused pod (like containers).
* ``GET /generate/{name}/systemd``: ``{unit name without ".service": text}``. ``new=true`` fails for
  objects created through the REST API ("no create command found"), which is how Tamer creates them,
  so :func:`generate_systemd` falls back to ``new=false`` and says so in a comment on every unit.
  ``podman generate systemd`` is deprecated since Podman 4.4 (Quadlet replaces it) but still served in 5.x.
* ``GET /generate/kube``: the YAML text (4.3 labels it ``application/x-tar``). ``POST /play/kube``
  takes the YAML as the raw body; ``replace=true`` is not understood by 4.3's API (the CLI implements
  it client-side), so :func:`play_kube` tears down first. ``DELETE /play/kube`` (body = YAML) tears
  down; 5.x also serves both under ``/kube/play``.
* ``GET /info``: ``host.security.rootless``, ``host.idMappings {uidmap, gidmap: [{container_id, host_id,
  size}]}`` (null for a rootful service), ``host.remoteSocket.path``, ``host.cgroupVersion`` - same in 5.x.
* Container inspect: ``HostConfig.UsernsMode`` ("" = default, "keep-id", "auto", "host", "private",
  "ns:/path") and ``HostConfig.IDMappings {UidMap, GidMap: ["0:100000:65536", ...]}``;
  ``Config.Entrypoint`` is a string in 4.x and a list in 5.x.
* Events: container events carry ``Actor.Attributes.podId`` (empty on ``died``), pods send
  ``pod create|start|stop|pause|unpause|kill|remove``. The 4.3 service sends no events at all when a
  ``type`` filter is given, so the feed filters client-side.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tamer_tui.core import quadlet as _quadlet
from tamer_tui.core.aio import run_blocking
from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    TamerError,
)
from tamer_tui.core.feeds import FeedMessage, Snapshot, SourceStatus, merge_feeds
from tamer_tui.core.models import ContainerRow, RuntimeEvent
from tamer_tui.core.podman_runtime import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    PodmanRuntime,
    PodRow,
    error_from_exception,
    error_from_response,
    normalize_state,
    parse_container,
    parse_time,
)
from tamer_tui.core.runtime import ContainerRuntime

__all__ = [
    "HOST_MAPPING",
    "INFRA_LABEL",
    "PlayReport",
    "PodActionError",
    "PodListRow",
    "PodMember",
    "PodRow",
    "PodStatsRow",
    "PodmanPods",
    "RootlessInfo",
    "container_quadlet_for",
    "generate_kube",
    "generate_systemd",
    "parse_pod_list_row",
    "parse_pod_stats",
    "parse_proc_id_map",
    "parse_size",
    "play_kube",
    "play_kube_down",
    "pod_quadlet_files",
    "pods_feed",
    "rootless_info",
    "userns_mapping",
]

INFRA_LABEL = "io.tamer.pod.infra"
"""Synthetic label (value ``"true"``) that :meth:`PodmanPods.containers` puts on the pod's infra container."""

HOST_MAPPING: tuple[tuple[int, int, int], ...] = ((0, 0, 4294967295),)
"""The initial user namespace's mapping (what a rootful, non-userns container shows in /proc/1/uid_map)."""

_SYSTEMD_RESTART = ("no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always")
_FEED_IGNORED_ACTIONS = ("exec", "top", "attach", "resize", "health_status", "checkpoint", "archive-path",
                         "extract-to-dir", "export", "commit", "copy", "stat", "mount", "unmount", "sync")
_ID_RE = re.compile(r"\b[0-9a-f]{64}\b")


# ------------------------------------------------------------------------------------------------
# Rows and reports
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PodMember:
    """One container of a pod as the pod list reports it."""

    id: str
    name: str
    state: str  # normalised like container rows: running, exited, paused, created ...
    infra: bool = False


@dataclass(frozen=True, slots=True)
class PodListRow:
    """One pod for the pods screen: :class:`PodRow`'s fields plus the members and networks.

    ``containers`` is the member count (infra included) as in :class:`PodRow`; ``members`` names them.
    """

    runtime: str
    id: str
    name: str
    status: str  # Created, Running, Degraded, Paused, Exited, Stopped, Dead, Error
    infra_id: str = ""
    containers: int = 0
    created: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()
    members: tuple[PodMember, ...] = ()
    networks: tuple[str, ...] = ()
    cgroup: str = ""

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> int:
        """How many members (infra included) run."""
        return sum(1 for m in self.members if m.state == "running")

    def label(self, name: str, default: str = "") -> str:
        for k, v in self.labels:
            if k == name:
                return v
        return default


@dataclass(frozen=True, slots=True)
class PodStatsRow:
    """One container's line of ``/pods/stats`` (numbers parsed from Podman's human strings).

    The sizes come back rounded to 4 significant digits (that is all Podman sends).
    ``available`` is False for a container that is not running (Podman sends ``--``).
    """

    pod: str
    container_id: str
    name: str
    cpu_percent: float
    mem_usage: int
    mem_limit: int
    mem_percent: float
    net_rx: int
    net_tx: int
    blk_read: int
    blk_write: int
    pids: int
    available: bool = True
    infra: bool = False


@dataclass(frozen=True, slots=True)
class RootlessInfo:
    """Whether a Podman service is rootless, how its user namespace maps ids, and its socket."""

    runtime: str
    rootless: bool
    socket: str
    user: str
    uid_map: tuple[tuple[int, int, int], ...]  # (container id, host id, size)
    gid_map: tuple[tuple[int, int, int], ...]
    cgroups: str  # "v1" | "v2" | ""
    note: str = ""
    cgroup_manager: str = ""


@dataclass(frozen=True, slots=True)
class PlayReport:
    """What ``kube play`` created: pod and container *names* (ids alongside), volumes, per-container errors."""

    pods: tuple[str, ...]
    containers: tuple[str, ...]
    errors: tuple[str, ...]
    volumes: tuple[str, ...] = ()
    pod_ids: tuple[str, ...] = ()
    container_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class PodActionError(BackendError):
    """A pod action that failed for some of its containers; ``failures`` = ((container, reason), ...)."""

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures: tuple[tuple[str, str], ...] = tuple(failures)


# ------------------------------------------------------------------------------------------------
# Pure parsers
# ------------------------------------------------------------------------------------------------
def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def parse_pod_list_row(item: Mapping[str, Any], runtime: str) -> PodListRow:
    """One ``/libpod/pods/json`` entry (4.x or 5.x) as a :class:`PodListRow`."""
    infra_id = str(item.get("InfraId") or "")
    members: list[PodMember] = []
    for c in item.get("Containers") or ():
        if not isinstance(c, Mapping):
            continue
        cid = str(c.get("Id") or "")
        names = c.get("Names")
        name = str(names[0] if isinstance(names, list) and names else names or c.get("Name") or "")
        members.append(
            PodMember(
                id=cid,
                name=name,
                state=normalize_state(c.get("Status") or c.get("State")),
                infra=bool(infra_id) and cid == infra_id,
            )
        )
    members.sort(key=lambda m: (m.infra, m.name))
    return PodListRow(
        runtime=runtime,
        id=str(item.get("Id") or ""),
        name=str(item.get("Name") or ""),
        status=str(item.get("Status") or ""),
        infra_id=infra_id,
        containers=len(members),
        created=parse_time(item.get("Created")),
        labels=_labels(item.get("Labels")),
        members=tuple(members),
        networks=tuple(str(n) for n in item.get("Networks") or ()),
        cgroup=str(item.get("Cgroup") or ""),
    )


_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_DECIMAL = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4, "pb": 1000**5,
            "eb": 1000**6}
_BINARY = {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "pib": 1024**5, "eib": 1024**6}


def parse_size(text: Any) -> int:
    """Bytes from go-units' ``HumanSize`` ("741.4kB", SI) or ``BytesSize`` ("724KiB"); 0 for ``--``."""
    match = _SIZE_RE.match(str(text or ""))
    if not match:
        return 0
    number = float(match.group(1))
    unit = match.group(2).lower()
    factor = _BINARY.get(unit) or _DECIMAL.get(unit)
    if factor is None:
        return 0
    return int(round(number * factor))


def _pair(text: Any) -> tuple[int, int]:
    left, _sep, right = str(text or "").partition("/")
    return parse_size(left), parse_size(right)


def _percent(text: Any) -> float:
    try:
        return float(str(text or "").strip().rstrip("%"))
    except ValueError:
        return 0.0


def _count(text: Any) -> int:
    try:
        return int(str(text or "").strip())
    except ValueError:
        return 0


def parse_pod_stats(items: Any, infra_ids: Sequence[str] = ()) -> list[PodStatsRow]:
    """The ``/libpod/pods/stats`` list as rows (infra marked when its id is in ``infra_ids``)."""
    rows: list[PodStatsRow] = []
    prefixes = tuple(i[:12] for i in infra_ids if i)
    for item in items or ():
        if not isinstance(item, Mapping):
            continue
        usage, limit = _pair(item.get("MemUsage"))
        if not usage and not limit:
            usage, limit = _pair(item.get("MemUsageBytes"))
        net_rx, net_tx = _pair(item.get("NetIO"))
        blk_read, blk_write = _pair(item.get("BlockIO"))
        cid = str(item.get("CID") or "")
        name = str(item.get("Name") or "")
        rows.append(
            PodStatsRow(
                pod=str(item.get("Pod") or ""),
                container_id=cid,
                name=name,
                cpu_percent=_percent(item.get("CPU")),
                mem_usage=usage,
                mem_limit=limit,
                mem_percent=_percent(item.get("Mem")),
                net_rx=net_rx,
                net_tx=net_tx,
                blk_read=blk_read,
                blk_write=blk_write,
                pids=_count(item.get("PIDS")),
                available=str(item.get("CPU") or "--").strip() != "--",
                infra=bool(cid) and cid[:12] in prefixes,
            )
        )
    rows.sort(key=lambda r: (r.infra, r.name))
    return rows


def _id_maps(value: Any) -> tuple[tuple[int, int, int], ...]:
    """``[{container_id, host_id, size}]`` (libpod info) or ``["0:1000:1"]`` (inspect) as triples."""
    out: list[tuple[int, int, int]] = []
    for entry in value or ():
        try:
            if isinstance(entry, Mapping):
                out.append((int(entry.get("container_id", 0)), int(entry.get("host_id", 0)),
                            int(entry.get("size", 0))))
            elif isinstance(entry, str) and entry.count(":") == 2:
                a, b, c = entry.split(":")
                out.append((int(a), int(b), int(c)))
        except (TypeError, ValueError):
            continue
    return tuple(out)


def parse_proc_id_map(text: str) -> tuple[tuple[int, int, int], ...]:
    """``/proc/PID/uid_map`` text ("         0          0 4294967295") as triples."""
    out: list[tuple[int, int, int]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            out.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return tuple(out)


def _condense(message: str) -> str:
    """Go's multi-error text ("2 errors occurred:\\n\\t* a\\n\\t* b") as one line ("a; b")."""
    text = message.strip()
    if "errors occurred:" in text or "\n\t* " in text:
        parts = [p.strip() for p in re.split(r"\n\s*\*\s*", text) if p.strip()]
        parts = [p for p in parts if not re.fullmatch(r"\d+ errors occurred:", p)]
        return "; ".join(dict.fromkeys(parts))
    return " ".join(text.split())


def _errs_texts(errs: Any) -> list[str]:
    texts: list[str] = []
    for err in errs or ():
        if isinstance(err, str):
            text = err
        elif isinstance(err, Mapping):
            text = str(err.get("message") or err.get("cause") or err.get("Err") or "")
        else:
            text = str(err or "")
        texts.append(" ".join(text.split()) or "(Podman gave no reason)")
    return texts


# ------------------------------------------------------------------------------------------------
# Raw requests (for bodies and answers that are not JSON)
# ------------------------------------------------------------------------------------------------
def _quote(ident: str) -> str:
    return urllib.parse.quote(ident, safe=":@")


def _raw_blocking(
    runtime: PodmanRuntime,
    method: str,
    path: str,
    *,
    params: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Any = (CONNECT_TIMEOUT, READ_TIMEOUT),
) -> tuple[int, bytes]:
    """One request on the runtime's shared client: (HTTP status, body). Transport errors are mapped."""
    api = runtime._client()
    try:
        response = api._request(
            method, path, params=params, data=data, headers=dict(headers or {}), timeout=timeout
        )
        return int(response.status_code), bytes(response.content or b"")
    except TamerError:
        raise
    except Exception as exc:
        raise error_from_exception(exc, runtime.endpoint.url) from exc


async def _raw(runtime: PodmanRuntime, method: str, path: str, **kwargs: Any) -> tuple[int, bytes]:
    return await run_blocking(_raw_blocking, runtime, method, path, **kwargs)


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _raise_http(status: int, body: bytes, what: str) -> None:
    """Raise the Tamer error for an HTTP error answer, with Go multi-errors condensed to one line."""
    payload = _json(body)
    if isinstance(payload, Mapping):
        payload = {k: _condense(str(v)) if k in ("message", "cause") else v for k, v in payload.items()}
    raise error_from_response(status, payload if payload is not None else b"", what)


# ------------------------------------------------------------------------------------------------
# Pods
# ------------------------------------------------------------------------------------------------
class PodmanPods:
    """Pod operations on one Podman service (``/libpod/pods/...``)."""

    def __init__(self, runtime: PodmanRuntime) -> None:
        self.runtime = runtime

    @property
    def name(self) -> str:
        return self.runtime.name

    # -- reading -------------------------------------------------------------------------------
    async def list(self, filters: Mapping[str, Sequence[str]] | None = None) -> list[PodListRow]:
        """Every pod, with its members (:class:`PodListRow`, a superset of :class:`PodRow`)."""
        params = {"filters": json.dumps({k: list(v) for k, v in filters.items()})} if filters else {}
        data = await self.runtime._acall("GET", "/pods/json", "pods", params=params)
        rows = [parse_pod_list_row(item, self.runtime.name) for item in data or () if isinstance(item, Mapping)]
        rows.sort(key=lambda r: r.name)
        return rows

    async def inspect(self, ident: str) -> dict[str, Any]:
        _check_ident(ident)
        data = await self.runtime._acall("GET", f"/pods/{_quote(ident)}/json", f"pod '{ident}'")
        if isinstance(data, list):  # defensive: the 5.x CLI shape
            data = data[0] if data else {}
        return dict(data or {})

    async def get(self, ident: str) -> PodListRow:
        """One pod's list row (NotFound when it does not exist)."""
        details = await self.inspect(ident)
        pod_id = str(details.get("Id") or "")
        for row in await self.list(filters={"id": [pod_id]}):
            if row.id == pod_id:
                return row
        raise NotFound(f"pod '{ident}' not found")

    async def containers(self, ident: str) -> builtins.list[ContainerRow]:
        """The pod's containers, infra included and labelled ``io.tamer.pod.infra=true`` (listed last)."""
        details = await self.inspect(ident)
        pod_id = str(details.get("Id") or "")
        infra_id = str(details.get("InfraContainerID") or "")
        params = {"all": "true", "pod": "true", "filters": json.dumps({"pod": [pod_id]})}
        data = await self.runtime._acall("GET", "/containers/json", "containers", params=params)
        now = time.time()
        rows: list[ContainerRow] = []
        for item in data or ():
            if not isinstance(item, Mapping):
                continue
            row = parse_container(item, self.runtime.name, now)
            if row.id == infra_id or item.get("IsInfra"):
                row = replace(row, labels=tuple(sorted((*row.labels, (INFRA_LABEL, "true")))))
            rows.append(row)
        rows.sort(key=lambda r: (r.label(INFRA_LABEL) == "true", r.name))
        return rows

    async def top(self, ident: str) -> tuple[builtins.list[str], builtins.list[builtins.list[str]]]:
        """``ps`` of every container in the pod (titles, rows)."""
        _check_ident(ident)
        data = await self.runtime._acall("GET", f"/pods/{_quote(ident)}/top", f"pod '{ident}'")
        if not isinstance(data, Mapping):
            # like containers, 4.3 answers 200 with an empty body when nothing can be listed
            raise Conflict(f"pod '{ident}' has no running (unpaused) container to list processes of")
        titles = [str(t) for t in data.get("Titles") or ()]
        rows = [[str(cell) for cell in row] for row in data.get("Processes") or ()]
        return titles, rows

    async def stats(self, ident: str) -> builtins.list[PodStatsRow]:
        """One stats line per container of the pod (``/pods/stats``; stopped ones are all zero)."""
        _check_ident(ident)
        data = await self.runtime._acall(
            "GET", "/pods/stats", f"pod '{ident}'", params={"namesOrIDs": ident, "stream": "false"}
        )
        infra: list[str] = []
        with contextlib.suppress(TamerError):
            infra.append(str((await self.inspect(ident)).get("InfraContainerID") or ""))
        return parse_pod_stats(data, infra)

    # -- changing ------------------------------------------------------------------------------
    async def create(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        ports: Sequence[tuple[int, int]] = (),
    ) -> str:
        """Create a pod (with its infra container); ``ports`` are (container_port, host_port). Returns the id."""
        name = name.strip()
        if not name:
            raise InvalidInput("the pod name is empty")
        body: dict[str, Any] = {"name": name}
        if labels:
            body["labels"] = {str(k): str(v) for k, v in labels.items()}
        if ports:
            mappings = []
            for cport, hport in ports:
                if not (0 < int(cport) < 65536 and 0 <= int(hport) < 65536):
                    raise InvalidInput(f"port mapping {hport}:{cport} is out of range")
                mappings.append({"container_port": int(cport), "host_port": int(hport), "protocol": "tcp"})
            body["portmappings"] = mappings
        data = await self.runtime._acall("POST", "/pods/create", f"pod '{name}'", body=body)
        return str((data or {}).get("Id") or "")

    async def start(self, ident: str) -> None:
        await self._action(ident, "start", "starting")

    async def stop(self, ident: str, timeout: int = 10) -> None:
        status = await self._action(ident, "stop", "stopping", params={"t": int(timeout)},
                                    extra_timeout=timeout)
        if status == 304:
            # 4.3 answers "not modified" to anything but a Running pod - also to a Degraded one whose
            # other members still run. Stop those ourselves: members first, the infra last.
            await self._stop_members(ident, timeout)

    async def restart(self, ident: str) -> None:
        await self._action(ident, "restart", "restarting", extra_timeout=10)

    async def pause(self, ident: str) -> None:
        await self._action(ident, "pause", "pausing")

    async def unpause(self, ident: str) -> None:
        await self._action(ident, "unpause", "unpausing")

    async def kill(self, ident: str, signal: str = "SIGKILL") -> None:
        if not signal.strip():
            raise InvalidInput("no signal to send")
        await self._action(ident, "kill", "killing", params={"signal": signal.strip()})

    async def remove(self, ident: str, force: bool = False) -> None:
        """Remove the pod; without ``force`` a pod with running containers raises :class:`Conflict`."""
        _check_ident(ident)
        what = f"pod '{ident}'"
        status, body = await _raw(
            self.runtime, "DELETE", f"/pods/{_quote(ident)}",
            params={"force": "true" if force else "false", **({"t": 0} if force else {})},
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        )
        payload = _json(body)
        if status >= 400:
            message = str(payload.get("message") if isinstance(payload, Mapping) else payload or "")
            lowered = message.lower()
            if status != 404 and ("cannot be removed without force" in lowered
                                  or "container state improper" in lowered):
                raise Conflict(f"{what} has running containers: stop it first, or remove it with force")
            _raise_http(status, body, what)
        if isinstance(payload, Mapping):
            problems = [*_errs_texts([payload["Err"]] if payload.get("Err") else ())]
            removed = payload.get("RemovedCtrs")
            if isinstance(removed, Mapping):
                problems += [f"{cid[:12]}: {err}" for cid, err in removed.items() if err]
            if problems:
                raise PodActionError(f"removing {what} failed: {'; '.join(problems)}",
                                     [(p, p) for p in problems])

    # -- helpers -------------------------------------------------------------------------------
    async def _action(
        self,
        ident: str,
        verb: str,
        gerund: str,
        params: Mapping[str, Any] | None = None,
        extra_timeout: int = 0,
    ) -> int:
        _check_ident(ident)
        what = f"pod '{ident}'"
        status, body = await _raw(
            self.runtime, "POST", f"/pods/{_quote(ident)}/{verb}", params=dict(params or {}),
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT + max(int(extra_timeout), 0)),
        )
        payload = _json(body)
        errs = payload.get("Errs") if isinstance(payload, Mapping) else None
        if errs:
            await self._raise_errs(ident, gerund, errs)
        if status >= 400:
            _raise_http(status, body, what)
        return status

    async def _raise_errs(self, ident: str, gerund: str, errs: Any) -> None:
        """One clear :class:`PodActionError` from libpod's ``Errs`` (container ids replaced by names)."""
        names: dict[str, str] = {}
        with contextlib.suppress(TamerError):
            for member in (await self.inspect(ident)).get("Containers") or ():
                if isinstance(member, Mapping):
                    names[str(member.get("Id") or "")] = str(member.get("Name") or "")
        failures: list[tuple[str, str]] = []
        for text in _errs_texts(errs):
            match = _ID_RE.search(text)
            cid = match.group(0) if match else ""
            who = names.get(cid) or (cid[:12] if cid else "?")
            reason = text
            prefix = re.match(r"^\w+ container [0-9a-f]{64}:\s*", text)
            if prefix:
                reason = text[prefix.end():]
            failures.append((who, reason))
        total = len(names) or len(failures)
        detail = "; ".join(f"{who}: {reason}" for who, reason in failures)
        raise PodActionError(
            f"{gerund} pod '{ident}' failed for {len(failures)} of {total} containers: {detail}", failures
        )

    async def _stop_members(self, ident: str, timeout: int) -> None:
        details = await self.inspect(ident)
        infra_id = str(details.get("InfraContainerID") or "")
        members = [m for m in details.get("Containers") or () if isinstance(m, Mapping)]
        live = [m for m in members if normalize_state(m.get("State")) in ("running", "paused", "restarting")]
        live.sort(key=lambda m: str(m.get("Id") or "") == infra_id)  # the infra container last
        failures: list[tuple[str, str]] = []
        for member in live:
            cid = str(member.get("Id") or "")
            try:
                await self.runtime.stop_container(cid, timeout=timeout)
            except NotFound:
                continue
            except TamerError as exc:
                failures.append((str(member.get("Name") or cid[:12]), str(exc)))
        if failures:
            detail = "; ".join(f"{who}: {reason}" for who, reason in failures)
            raise PodActionError(
                f"stopping pod '{ident}' failed for {len(failures)} of {len(members)} containers: {detail}",
                failures,
            )


def _check_ident(ident: str) -> None:
    if not str(ident or "").strip():
        raise InvalidInput("no pod named: the pod name is empty")


# ------------------------------------------------------------------------------------------------
# Live feed
# ------------------------------------------------------------------------------------------------
def _relevant(event: RuntimeEvent, members: set[str]) -> bool:
    action = event.action.split(":", 1)[0]
    if action.startswith(_FEED_IGNORED_ACTIONS):
        return False
    if event.type == "pod":
        return True
    if event.type != "container":
        return False
    attrs = dict(event.attributes)
    return bool(attrs.get("podId") or attrs.get("pod_id")) or event.id in members


async def _pod_feed_one(
    runtime: PodmanRuntime,
    *,
    backoff_start: float,
    backoff_max: float,
    coalesce_s: float,
) -> AsyncIterator[FeedMessage]:
    pods = PodmanPods(runtime)
    delay = backoff_start
    first = True
    while True:
        try:
            if first:
                yield SourceStatus(runtime.name, "connecting")
            await runtime.connect()
            t0 = time.time()
            rows = await pods.list()
            members = {m.id for r in rows for m in r.members}
            yield Snapshot(runtime.name, tuple(rows))
            yield SourceStatus(runtime.name, "live")
            delay = backoff_start
            first = False
            async for rows in _follow(runtime, pods, members, since=t0 - 1, coalesce_s=coalesce_s):
                members = {m.id for r in rows for m in r.members}
                yield Snapshot(runtime.name, tuple(rows))
        except asyncio.CancelledError:
            raise
        except (TamerError, OSError) as exc:
            yield SourceStatus(runtime.name, "reconnecting", f"{exc}; retrying in {delay:.1f}s")
            await asyncio.sleep(delay)
            delay = min(backoff_max, delay * 2)
            first = False


_END = object()


async def _follow(
    runtime: PodmanRuntime, pods: PodmanPods, members: set[str], since: float, coalesce_s: float
) -> AsyncIterator[list[PodListRow]]:
    """Re-list the pods once per burst of relevant events; raises when the event stream breaks or ends."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for ev in runtime.events(since=since):
                await queue.put(ev)
            await queue.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            await queue.put(exc)

    task = asyncio.create_task(pump())
    try:
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(coalesce_s)  # a `pod start` is ~10 events: one re-list for all of them
            while not queue.empty():
                batch.append(queue.get_nowait())
            events = [b for b in batch if isinstance(b, RuntimeEvent)]
            if any(_relevant(e, members) for e in events):
                rows = await pods.list()
                members = {m.id for r in rows for m in r.members}
                yield rows
            for item in batch:
                if isinstance(item, BaseException):
                    raise item
                if item is _END:
                    raise BackendError(f"the event stream of {runtime.name} ended")
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def pods_feed(
    runtimes: Sequence[ContainerRuntime],
    *,
    backoff_start: float = 0.5,
    backoff_max: float = 10.0,
    coalesce_s: float = 0.1,
) -> AsyncIterator[FeedMessage]:
    """Pods of every Podman runtime in ``runtimes``: a Snapshot per runtime, then one per burst of events.

    Other runtimes are skipped; with no Podman runtime at all the feed ends at once. Each snapshot
    carries the full :class:`PodListRow` list of its runtime (pods are few; a re-list is one request).
    Broken streams are retried with exponential backoff (``SourceStatus`` "reconnecting").
    """
    podmans = [rt for rt in runtimes if isinstance(rt, PodmanRuntime)]
    if not podmans:
        return
    feeds = [_pod_feed_one(rt, backoff_start=backoff_start, backoff_max=backoff_max, coalesce_s=coalesce_s)
             for rt in podmans]
    async with contextlib.aclosing(merge_feeds(feeds)) as merged:
        async for msg in merged:
            yield msg


# ------------------------------------------------------------------------------------------------
# Rootless and user namespaces
# ------------------------------------------------------------------------------------------------
def _socket_of(runtime: PodmanRuntime, remote: Mapping[str, Any]) -> str:
    path = str(remote.get("path") or "") or runtime.endpoint.url
    for scheme in ("unix://", "http+unix://"):
        if path.startswith(scheme):
            return urllib.parse.unquote(path[len(scheme):])
    return path


def _user_name(runtime: PodmanRuntime, rootless: bool, uid_map: tuple[tuple[int, int, int], ...]) -> str:
    if not rootless:
        return "root"
    parsed = urllib.parse.urlparse(runtime.endpoint.url)
    if parsed.scheme.startswith("ssh") and parsed.username:
        return parsed.username
    uid = next((host for cont, host, _size in uid_map if cont == 0), -1)
    if uid < 0:
        return ""
    if parsed.scheme in ("unix", "http+unix", ""):
        try:
            import pwd  # POSIX only: imported lazily so the module loads on Windows

            return pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError):
            pass
    return f"uid {uid}"


def _rootless_note(rootless: bool, uid_map: tuple[tuple[int, int, int], ...], cgroups: str) -> str:
    parts: list[str] = []
    if rootless:
        host0 = next((host for cont, host, _size in uid_map if cont == 0), None)
        subs = [(c, h, s) for c, h, s in uid_map if c != 0]
        text = "rootless service: root in a container is"
        text += f" host uid {host0}" if host0 is not None else " the service's user"
        if subs:
            c, h, s = subs[0]
            text += f"; container uids {c}-{c + s - 1} map to host uids {h}-{h + s - 1} (subuid range)"
        else:
            text += "; no subuid range: only one uid is usable (add the user to /etc/subuid)"
        parts.append(text)
        parts.append("ports below 1024 need net.ipv4.ip_unprivileged_port_start")
        if cgroups == "v1":
            parts.append("cgroups v1: resource limits and pod stats are unavailable rootless")
    else:
        parts.append("rootful service: container root is host root unless a user namespace is set "
                     "(--userns=auto or keep-id)")
    return "; ".join(parts)


async def rootless_info(runtime: PodmanRuntime) -> RootlessInfo:
    """Rootless or not, the id mappings and socket of a Podman service (``/libpod/info``)."""
    data = await runtime._acall("GET", "/info", "the Podman service")
    host = (data or {}).get("host") or {}
    security = host.get("security") or {}
    rootless = bool(security.get("rootless", host.get("rootless", False)))
    mappings = host.get("idMappings") or {}
    uid_map = _id_maps(mappings.get("uidmap")) or (() if rootless else HOST_MAPPING)
    gid_map = _id_maps(mappings.get("gidmap")) or (() if rootless else HOST_MAPPING)
    cgroups = str(host.get("cgroupVersion") or "")
    return RootlessInfo(
        runtime=runtime.name,
        rootless=rootless,
        socket=_socket_of(runtime, host.get("remoteSocket") or {}),
        user=_user_name(runtime, rootless, uid_map),
        uid_map=uid_map,
        gid_map=gid_map,
        cgroups=cgroups,
        note=_rootless_note(rootless, uid_map, cgroups),
        cgroup_manager=str(host.get("cgroupManager") or ""),
    )


async def userns_mapping(
    runtime: PodmanRuntime, container: str
) -> tuple[str, list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """(mode, uid map, gid map) of a container.

    The mode comes from ``HostConfig.UsernsMode`` ("host" when unset and no mapping is configured,
    "private" when unset with mappings, else its kind: "keep-id", "auto", "nomap", "ns" ...). For a
    running container the maps are read from its ``/proc/1/uid_map`` and ``gid_map`` (the truth,
    also for rootless services); otherwise they come from ``HostConfig.IDMappings``, and a
    host-mode container gets the identity mapping ``(0, 0, 4294967295)`` on a rootful service.
    """
    details = await runtime.inspect_container(container)
    host_config = details.get("HostConfig") or {}
    raw_mode = str(host_config.get("UsernsMode") or "").strip()
    id_mappings = host_config.get("IDMappings") or {}
    uid_map = list(_id_maps(id_mappings.get("UidMap")))
    gid_map = list(_id_maps(id_mappings.get("GidMap")))
    mode = raw_mode.split(":", 1)[0].lower() if raw_mode else ("private" if uid_map else "host")
    running = bool((details.get("State") or {}).get("Running"))
    if running:
        proc: list[list[tuple[int, int, int]]] = []
        for path in ("/proc/1/uid_map", "/proc/1/gid_map"):
            try:
                result = await runtime.exec_run(str(details.get("Id") or container), ["cat", path])
            except TamerError:
                break
            parsed = parse_proc_id_map(result.output) if result.exit_code == 0 else ()
            if not parsed:
                break
            proc.append(list(parsed))
        if len(proc) == 2:
            return mode, proc[0], proc[1]
    if mode == "host" and not uid_map:
        info = await rootless_info(runtime)
        uid_map, gid_map = list(info.uid_map), list(info.gid_map)
    return mode, uid_map, gid_map


# ------------------------------------------------------------------------------------------------
# systemd units and kube YAML
# ------------------------------------------------------------------------------------------------
async def generate_systemd(
    runtime: PodmanRuntime,
    ident: str,
    *,
    new: bool = True,
    restart_policy: str = "on-failure",
    name_prefix: bool = False,
) -> dict[str, str]:
    """Unit file name (``web.service``) -> unit text, for a container or a pod (pods give several units).

    Units are named after the objects' names; ``name_prefix=True`` keeps Podman's ``container-``/``pod-``
    prefixes. ``new=True`` asks for units that create the container afresh (``podman run``); Podman can
    only do that for objects created by its CLI, so for others (created through the API, as Tamer does)
    the units start and stop the existing objects instead, with a comment saying so at their top.
    """
    if not str(ident or "").strip():
        raise InvalidInput("nothing to generate units for: the name is empty")
    policy = restart_policy.strip().lower()
    if policy not in _SYSTEMD_RESTART:
        raise InvalidInput(f"restart policy {restart_policy!r} is not one of {', '.join(_SYSTEMD_RESTART)}")
    what = f"container or pod '{ident}'"
    params: dict[str, Any] = {"useName": "true", "restartPolicy": policy}
    if not name_prefix:
        params.update({"containerPrefix": "", "podPrefix": ""})
    note = ""
    try:
        data = await runtime._acall("GET", f"/generate/{_quote(ident)}/systemd", what,
                                    params={**params, "new": "true" if new else "false"})
    except NotFound:
        raise NotFound(f"no container or pod named '{ident}'") from None
    except TamerError as exc:
        if not (new and "no create command" in str(exc).lower()):
            raise
        data = await runtime._acall("GET", f"/generate/{_quote(ident)}/systemd", what,
                                    params={**params, "new": "false"})
        note = (f"# Note (Tamer): '{ident}' was not created by the podman CLI, so Podman cannot write units\n"
                "# that re-create it (--new); these units start and stop the existing objects.\n")
    if not isinstance(data, Mapping) or not data:
        raise BackendError(f"Podman generated no systemd unit for {what}")
    units: dict[str, str] = {}
    for unit, text in data.items():
        filename = str(unit) if str(unit).endswith(".service") else f"{unit}.service"
        units[filename] = note + str(text)
    return units


async def generate_kube(runtime: PodmanRuntime, idents: Sequence[str], service: bool = False) -> str:
    """Kubernetes YAML for containers and/or pods (``podman kube generate``); ``service`` adds a Service."""
    names = [str(i).strip() for i in idents if str(i).strip()]
    if not names:
        raise InvalidInput("nothing to generate YAML for: no container or pod named")
    what = ", ".join(f"'{n}'" for n in names)
    status, body = await _raw(
        runtime, "GET", "/generate/kube", params=[*(("names", n) for n in names),
                                                  ("service", "true" if service else "false")],
    )
    if status >= 400:
        payload = _json(body)
        message = str(payload.get("message") if isinstance(payload, Mapping) else payload or "")
        if "not found" in message.lower() or "no such" in message.lower():
            raise NotFound(f"no container or pod {what}: {_condense(message)}")
        _raise_http(status, body, f"kube YAML of {what}")
    text = body.decode("utf-8", "replace")
    if not text.strip():
        raise BackendError(f"Podman generated empty YAML for {what}")
    return text


def _play_errors(message: str) -> TamerError:
    lowered = message.lower()
    if "yaml" in lowered and ("unmarshal" in lowered or "could not be split" in lowered or "line" in lowered):
        return InvalidInput(f"the kube YAML is not valid: {_condense(message)}")
    if "already exists" in lowered or "is in use" in lowered:
        return Conflict(f"{_condense(message)} (play it with replace=True to replace it)")
    return BackendError(f"kube play failed: {_condense(message)}")


async def _names_of(runtime: PodmanRuntime, kind: str, ids: Sequence[str]) -> list[str]:
    names: list[str] = []
    for ident in ids:
        try:
            data = await runtime._acall("GET", f"/{kind}/{_quote(ident)}/json", f"{kind[:-1]} '{ident}'")
        except TamerError:
            names.append(ident[:12])
            continue
        names.append(str((data or {}).get("Name") or ident[:12]).lstrip("/"))
    return names


async def play_kube(
    runtime: PodmanRuntime, yaml_text: str, *, replace: bool = False, start: bool = True
) -> PlayReport:
    """``podman kube play``: create (and by default start) the pods of a kube YAML.

    ``replace`` first tears down what the YAML describes (4.3's API has no server-side replace).
    Containers that fail to start do not raise: their errors are in :attr:`PlayReport.errors`.
    """
    if not yaml_text.strip():
        raise InvalidInput("the kube YAML is empty")
    if replace:
        with contextlib.suppress(NotFound):
            await play_kube_down(runtime, yaml_text)
    status, body = await _raw(
        runtime, "POST", "/play/kube",
        params={"start": "true" if start else "false"},
        data=yaml_text.encode("utf-8"),
        headers={"Content-Type": "application/x-yaml"},
        timeout=(CONNECT_TIMEOUT, 900.0),
    )
    payload = _json(body)
    if status >= 400:
        message = str(payload.get("message") if isinstance(payload, Mapping) else payload or f"HTTP {status}")
        if status in (401, 403, 404):
            _raise_http(status, body, "kube play")
        raise _play_errors(message)
    if not isinstance(payload, Mapping):
        raise BackendError("Podman answered kube play without a report")
    pod_ids: list[str] = []
    container_ids: list[str] = []
    errors: list[str] = []
    for pod in payload.get("Pods") or ():
        if not isinstance(pod, Mapping):
            continue
        pod_ids.append(str(pod.get("ID") or pod.get("Id") or ""))
        container_ids.extend(str(c) for c in (pod.get("InitContainers") or ()))
        container_ids.extend(str(c) for c in (pod.get("Containers") or ()))
        errors.extend(" ".join(str(e).split()) for e in (pod.get("ContainerErrors") or ()) if e)
    volumes = tuple(
        str(v.get("Name") or "") if isinstance(v, Mapping) else str(v) for v in payload.get("Volumes") or ()
    )
    container_names = await _names_of(runtime, "containers", container_ids)
    id_to_name = dict(zip(container_ids, container_names, strict=True))
    readable = []
    for err in errors:
        match = _ID_RE.search(err)
        if match and match.group(0) in id_to_name:
            err = err.replace(match.group(0), id_to_name[match.group(0)])
        readable.append(err)
    return PlayReport(
        pods=tuple(await _names_of(runtime, "pods", pod_ids)),
        containers=tuple(container_names),
        errors=tuple(readable),
        volumes=volumes,
        pod_ids=tuple(pod_ids),
        container_ids=tuple(container_ids),
    )


async def play_kube_down(runtime: PodmanRuntime, yaml_text: str) -> None:
    """``podman kube down``: stop and remove the pods a kube YAML describes (NotFound if none exists)."""
    if not yaml_text.strip():
        raise InvalidInput("the kube YAML is empty")
    status, body = await _raw(
        runtime, "DELETE", "/play/kube",
        data=yaml_text.encode("utf-8"),
        headers={"Content-Type": "application/x-yaml"},
        timeout=(CONNECT_TIMEOUT, 900.0),
    )
    payload = _json(body)
    if status >= 400:
        message = str(payload.get("message") if isinstance(payload, Mapping) else payload or f"HTTP {status}")
        cause = str(payload.get("cause") if isinstance(payload, Mapping) else "")
        if status == 404 or "no such pod" in f"{cause} {message}".lower():
            raise NotFound(f"nothing to tear down: {_condense(message)}")
        if status in (401, 403):
            _raise_http(status, body, "kube down")
        raise _play_errors(message)
    problems: list[str] = []
    if isinstance(payload, Mapping):
        for key in ("StopReport", "RmReport"):
            for report in payload.get(key) or ():
                if isinstance(report, Mapping):
                    problems += _errs_texts(report.get("Errs") or ([report["Err"]] if report.get("Err") else ()))
    if problems:
        raise PodActionError(f"kube down failed: {'; '.join(problems)}", [(p, p) for p in problems])


# ------------------------------------------------------------------------------------------------
# Quadlet from live objects
# ------------------------------------------------------------------------------------------------
async def container_quadlet_for(
    runtime: PodmanRuntime, ident: str, *, pod: str | None = None
) -> _quadlet.QuadletFile:
    """A ``.container`` file for a live container; the image's own env, labels, user and workdir are
    left out (they come with the image), which plain :func:`quadlet.container_quadlet` cannot know."""
    info = await runtime.inspect_container(ident)
    image: Mapping[str, Any] | None = None
    image_ref = str(info.get("Image") or (info.get("Config") or {}).get("Image") or "")
    if image_ref:
        with contextlib.suppress(TamerError):
            image = await runtime.inspect_image(image_ref)
    return _quadlet.container_quadlet(info, pod=pod, image=image)


async def pod_quadlet_files(runtime: PodmanRuntime, ident: str) -> list[_quadlet.QuadletFile]:
    """The ``.pod`` file of a pod, then one ``.container`` file per member (the infra container skipped)."""
    pods = PodmanPods(runtime)
    details = await pods.inspect(ident)
    pod_file = _quadlet.pod_quadlet(details)
    files = [pod_file]
    for row in await pods.containers(ident):
        if row.label(INFRA_LABEL) == "true":
            continue
        files.append(await container_quadlet_for(runtime, row.id, pod=pod_file.filename))
    return files
