"""Docker Swarm: nodes, services, tasks and stacks of a Docker Engine that is a swarm manager.

:class:`Swarm` wraps a :class:`~tamer_tui.core.docker_runtime.DockerRuntime` (its docker SDK
``APIClient``): the list calls return the daemon's JSON, which the pure ``parse_*`` functions turn
into compact rows; mutations fetch the current spec and post it back changed (``docker service
scale``/``update --image``/``rollback``, ``docker node update --availability``), retrying when the
object changed in between ("update out of sequence").

:func:`swarm_feed` is the live list of one kind (like :func:`tamer_tui.core.feeds.runtime_feed`):
a snapshot, then a fresh snapshot whenever the daemon's ``service``/``node`` events (or container
events of tasks) say something changed, and, because task states have no events, a re-list every
``interval`` seconds while it is consumed; a snapshot is only sent when the rows differ.

:class:`ServiceLogSource` is the ``logs service/NAME`` source: the Docker API's
``/services/{id}/logs`` (all tasks of a service, on every node), decoded like container logs, each
line prefixed with the task it came from (``web.2@node1 | ...``), with the same reconnect-and-resume
behaviour as a container's log.

An engine that is not a swarm manager (a worker, an engine outside any swarm, or Podman, which has
no swarm API) raises :class:`NotASwarmManager` with a message that says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from tamer_tui.core.aio import iterate_blocking_batches
from tamer_tui.core.errors import (
    BackendError,
    InvalidInput,
    NotFound,
    RuntimeUnavailable,
    TamerError,
)
from tamer_tui.core.feeds import FeedMessage, Snapshot, SourceStatus
from tamer_tui.core.logstream import Batch, LogOptions, LogSession, LogSink, LogSource, Resume, SourceEnd
from tamer_tui.core.logwire import LogBatch, decode_log_body, guarded, merge_batches, response_body
from tamer_tui.core.models import RuntimeKind

if TYPE_CHECKING:
    from tamer_tui.core.docker_runtime import DockerRuntime

T = TypeVar("T")

STACK_LABEL = "com.docker.stack.namespace"
SERVICE_ID_LABEL = "com.docker.swarm.service.id"
AVAILABILITIES = ("active", "pause", "drain")
SwarmKind = Literal["nodes", "services", "tasks", "stacks"]

_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_DETAILS_RE = re.compile(r"com\.docker\.swarm\.node\.id=[^ ]*com\.docker\.swarm\.task\.id=[^ ]* ?")
_TASK_ID_KEY = "com.docker.swarm.task.id="
_ENDED_STATES = frozenset({"complete", "failed", "shutdown", "rejected", "orphaned", "remove"})


class NotASwarmManager(InvalidInput):
    """The engine cannot answer swarm requests: it is a worker, outside any swarm, or has no swarm API."""


# -- rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NodeRow:
    """One node of the swarm as a manager sees it."""

    runtime: str
    id: str
    hostname: str
    role: str  # manager | worker
    availability: str  # active | pause | drain
    status: str  # ready | down | unknown | disconnected
    leader: bool
    engine: str
    addr: str
    created: float
    labels: tuple[tuple[str, str], ...] = ()
    reachability: str = ""  # managers: reachable | unreachable | unknown

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service: its mode, running/desired task counts, image (without digest), ports and stack."""

    runtime: str
    id: str
    name: str
    mode: str  # replicated | global | replicated-job | global-job
    running: int
    desired: int
    image: str
    ports: str  # "*:8080->80/tcp"
    stack: str  # com.docker.stack.namespace or ""
    updated: float
    update_state: str  # "" | updating | paused | completed | rollback_started | rollback_completed ...
    completed: int = 0  # jobs: tasks that completed
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"

    @property
    def replicas(self) -> str:
        return f"{self.running}/{self.desired}"


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task (a scheduled container of a service), as ``docker service ps`` shows it."""

    runtime: str
    id: str
    service: str  # service name
    slot: int  # 0 for global services
    node: str  # hostname ("" while unassigned)
    desired: str  # running | shutdown | ready ...
    state: str  # new | pending | assigned | preparing | starting | running | complete | failed | shutdown ...
    error: str  # Status.Err, e.g. "task: non-zero exit (1)"
    message: str  # Status.Message
    image: str
    updated: float
    container_id: str
    service_id: str = ""
    node_id: str = ""
    exit_code: int | None = None

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.id}"

    @property
    def name(self) -> str:
        """``web.2`` (replicated) or ``web.<node id>`` (global), like ``docker service ps``."""
        return f"{self.service}.{self.slot}" if self.slot else f"{self.service}.{self.node_id or self.id}"


@dataclass(frozen=True, slots=True)
class StackRow:
    """The services that carry one ``com.docker.stack.namespace`` label, summed."""

    runtime: str
    name: str
    services: int
    running: int
    desired: int

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.name}"

    @property
    def replicas(self) -> str:
        return f"{self.running}/{self.desired}"


# -- pure parsers -------------------------------------------------------------------------------
def _time(value: Any) -> float:
    from tamer_tui.core.docker_runtime import parse_time

    return parse_time(value)


def strip_digest(image: str) -> str:
    """``busybox:1.36@sha256:...`` -> ``busybox:1.36``."""
    return (image or "").split("@", 1)[0]


def service_mode(spec: Mapping[str, Any]) -> str:
    """``replicated``, ``global``, ``replicated-job`` or ``global-job`` of a service spec."""
    mode = spec.get("Mode") or {}
    if "Global" in mode:
        return "global"
    if "ReplicatedJob" in mode:
        return "replicated-job"
    if "GlobalJob" in mode:
        return "global-job"
    return "replicated"


def format_service_ports(service: Mapping[str, Any]) -> str:
    """``*:8080->80/tcp, 53/udp`` from the service's endpoint (or, before it exists, its spec)."""
    endpoint = service.get("Endpoint") or {}
    ports = endpoint.get("Ports") or (endpoint.get("Spec") or {}).get("Ports") \
        or ((service.get("Spec") or {}).get("EndpointSpec") or {}).get("Ports") or []
    out: list[str] = []
    for p in ports:
        target = p.get("TargetPort")
        proto = p.get("Protocol") or "tcp"
        published = p.get("PublishedPort")
        text = f"*:{published}->{target}/{proto}" if published else f"{target}/{proto}"
        if text not in out:
            out.append(text)
    return ", ".join(out)


def parse_node(runtime: str, n: Mapping[str, Any]) -> NodeRow:
    spec = n.get("Spec") or {}
    desc = n.get("Description") or {}
    status = n.get("Status") or {}
    manager = n.get("ManagerStatus") or {}
    return NodeRow(
        runtime=runtime,
        id=str(n.get("ID", "")),
        hostname=str(desc.get("Hostname", "")),
        role=str(spec.get("Role", "")),
        availability=str(spec.get("Availability", "")),
        status=str(status.get("State", "")),
        leader=bool(manager.get("Leader")),
        engine=str((desc.get("Engine") or {}).get("EngineVersion", "")),
        addr=str(status.get("Addr", "")),
        created=_time(n.get("CreatedAt")),
        labels=tuple(sorted((str(k), str(v)) for k, v in (spec.get("Labels") or {}).items())),
        reachability=str(manager.get("Reachability", "")),
    )


def count_tasks(service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """(running, desired) of a service counted from its tasks (for daemons without ServiceStatus)."""
    sid = service.get("ID")
    mine = [t for t in tasks if t.get("ServiceID") == sid]
    running = sum(1 for t in mine if (t.get("Status") or {}).get("State") == "running"
                  and t.get("DesiredState") == "running")
    spec = service.get("Spec") or {}
    mode = spec.get("Mode") or {}
    if "Replicated" in mode:
        desired = int((mode.get("Replicated") or {}).get("Replicas") or 0)
    elif "ReplicatedJob" in mode:
        desired = int((mode.get("ReplicatedJob") or {}).get("TotalCompletions") or 0)
    else:
        desired = len({t.get("NodeID") for t in mine if t.get("DesiredState") in ("running", "ready", "complete")})
    return running, desired


def parse_service(runtime: str, s: Mapping[str, Any], counts: tuple[int, int] | None = None) -> ServiceRow:
    """A service of ``GET /services?status=true``; ``counts`` (running, desired) when the payload
    has no ``ServiceStatus`` (older daemons)."""
    spec = s.get("Spec") or {}
    labels = spec.get("Labels") or {}
    status = s.get("ServiceStatus") or {}
    if counts is None:
        counts = (int(status.get("RunningTasks") or 0), int(status.get("DesiredTasks") or 0))
    image = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", "")
    return ServiceRow(
        runtime=runtime,
        id=str(s.get("ID", "")),
        name=str(spec.get("Name", "")),
        mode=service_mode(spec),
        running=counts[0],
        desired=counts[1],
        image=strip_digest(str(image)),
        ports=format_service_ports(s),
        stack=str(labels.get(STACK_LABEL, "")),
        updated=_time(s.get("UpdatedAt")),
        update_state=str((s.get("UpdateStatus") or {}).get("State", "")),
        completed=int(status.get("CompletedTasks") or 0),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
    )


def parse_task(runtime: str, t: Mapping[str, Any], service_names: Mapping[str, str],
               hostnames: Mapping[str, str]) -> TaskRow:
    status = t.get("Status") or {}
    cstatus = status.get("ContainerStatus") or {}
    sid = str(t.get("ServiceID", ""))
    nid = str(t.get("NodeID", ""))
    code = cstatus.get("ExitCode")
    image = ((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Image", "")
    return TaskRow(
        runtime=runtime,
        id=str(t.get("ID", "")),
        service=service_names.get(sid, sid[:12]),
        slot=int(t.get("Slot") or 0),
        node=hostnames.get(nid, nid[:12]),
        desired=str(t.get("DesiredState", "")),
        state=str(status.get("State", "")),
        error=str(status.get("Err", "") or ""),
        message=str(status.get("Message", "") or ""),
        image=strip_digest(str(image)),
        updated=_time(status.get("Timestamp") or t.get("UpdatedAt")),
        container_id=str(cstatus.get("ContainerID", "") or ""),
        service_id=sid,
        node_id=nid,
        exit_code=int(code) if isinstance(code, int) and status.get("State") in _ENDED_STATES else None,
    )


def task_sort_key(row: TaskRow) -> tuple[str, int, str, float]:
    """``docker service ps`` order: by service, slot (or node), newest first."""
    return row.service, row.slot, row.node if not row.slot else "", -row.updated


def group_stacks(runtime: str, services: Sequence[ServiceRow]) -> list[StackRow]:
    """Services with a ``com.docker.stack.namespace`` label, grouped by it (sorted by name)."""
    stacks: dict[str, list[ServiceRow]] = {}
    for s in services:
        if s.stack:
            stacks.setdefault(s.stack, []).append(s)
    return [StackRow(runtime, name, len(rows), sum(r.running for r in rows), sum(r.desired for r in rows))
            for name, rows in sorted(stacks.items())]


class TaskLabels:
    """Rewrites the ``details`` of service log lines into the task they came from (``web.2@node1 | ``).

    With ``details=1`` the daemon puts ``com.docker.swarm.node.id=..,com.docker.swarm.service.id=..,
    com.docker.swarm.task.id=..`` before each message. Runs in the reader thread: a task id not seen
    before makes it re-list the service's tasks at once (``lookup``, blocking); an id the list does
    not have yet is shown by its id and looked up again at most every ``min_refresh_s``."""

    def __init__(self, service_name: str, lookup: Callable[[], tuple[dict[str, str], dict[str, str]]] | None,
                 min_refresh_s: float = 1.0) -> None:
        self.service_name = service_name
        self._lookup = lookup
        self._min_refresh_s = min_refresh_s
        self._labels: dict[str, str] = {}
        self._tried: dict[str, float] = {}  # unknown task id -> when a lookup last failed to find it

    def _refresh(self) -> None:
        if self._lookup is None:
            return
        try:
            slots, nodes = self._lookup()
        except Exception:  # noqa: BLE001 - the label falls back to the task id
            return
        for task_id, slot in slots.items():
            host = nodes.get(task_id, "")
            base = f"{self.service_name}.{slot}" if slot and slot != "0" else self.service_name
            self._labels[task_id] = f"{base}@{host}" if host else base

    def label(self, task_id: str) -> str:
        found = self._labels.get(task_id)
        if found is not None:
            return found
        tried = self._tried.get(task_id)
        now = time.monotonic()
        if tried is None or now - tried >= self._min_refresh_s:
            self._refresh()
            found = self._labels.get(task_id)
            if found is not None:
                self._tried.pop(task_id, None)
                return found
            self._tried[task_id] = now
        return f"{self.service_name}.{task_id[:12]}"

    def text(self, text: str) -> str:
        head, sep, rest = text.partition(" ")
        pos = head.find(_TASK_ID_KEY)
        if pos < 0 or not head.startswith("com.docker."):
            return text
        task_id = head[pos + len(_TASK_ID_KEY):].split(",", 1)[0]
        if "com.docker.swarm.node.id=" in rest:  # a long line continued in a second frame
            rest = _DETAILS_RE.sub("", rest)
        return f"{self.label(task_id)} | {rest}"

    def apply(self, batch: LogBatch) -> LogBatch:
        if not batch.texts:
            return batch
        conv = self.text
        return LogBatch(batch.stamps, [conv(t) for t in batch.texts], batch.streams)


# -- the API ------------------------------------------------------------------------------------
def _is_bare_not_found(exc: BaseException | None) -> bool:
    """A 404 without a Docker message: the endpoint itself does not exist (Podman's compat API)."""
    text = str(getattr(exc, "explanation", "") or "").strip().lower()
    return getattr(exc, "status_code", None) == 404 and text in ("not found", "404 page not found", "page not found", "")


class Swarm:
    """Swarm operations on one Docker engine (a manager); every call runs in a worker thread."""

    def __init__(self, runtime: DockerRuntime) -> None:
        self.runtime = runtime

    @property
    def name(self) -> str:
        return self.runtime.name

    # -- plumbing --------------------------------------------------------------------------
    def _api(self) -> Any:
        return self.runtime._client()

    def _not_manager(self, detail: str = "") -> NotASwarmManager:
        extra = f" ({detail})" if detail else ""
        return NotASwarmManager(f"{self.name}: not a swarm manager{extra}; run `docker swarm init` or use a "
                                "manager node's engine")

    def _translate(self, exc: TamerError, listing: bool) -> TamerError:
        cause = exc.__cause__
        code = getattr(cause, "status_code", None)
        text = str(getattr(cause, "explanation", "") or exc)
        if code == 503 and "swarm" in text.lower():
            if "worker" in text.lower():
                return self._not_manager("this node is a worker")
            return self._not_manager("this engine is not in a swarm")
        if (code == 404 and (listing or _is_bare_not_found(cause))) or (code in (501, 503)
                                                                        and "not support" in text.lower()):
            return NotASwarmManager(f"{self.name}: this engine has no swarm API (Podman has no swarm mode; "
                                    "use a Docker Engine)")
        return exc

    async def _call(self, what: str, func: Callable[..., T], *args: Any, listing: bool = False, **kwargs: Any) -> T:
        try:
            return await self.runtime._call(what, func, *args, **kwargs)
        except TamerError as exc:
            translated = self._translate(exc, listing)
            if translated is exc:
                raise
            raise translated from exc

    # -- state -----------------------------------------------------------------------------
    async def state(self) -> str:
        """``inactive``, ``pending``, ``locked``, ``active-manager``, ``active-worker``, or
        ``error: ...`` (the swarm's own error, or why the engine could not be asked). Never raises."""
        try:
            info = await self.runtime._call(f"{self.name} swarm state", self._api().info)
        except TamerError as exc:
            return f"error: {exc}"
        sw = info.get("Swarm") or {}
        local = str(sw.get("LocalNodeState") or "inactive").lower()
        if local == "active":
            return "active-manager" if sw.get("ControlAvailable") else "active-worker"
        if local == "error":
            return f"error: {sw.get('Error') or 'the swarm reports an error'}"
        return local

    async def require_manager(self) -> None:
        """Raise :class:`NotASwarmManager` unless this engine is an active swarm manager."""
        st = await self.state()
        if st == "active-manager":
            return
        if st.startswith("error: "):
            raise BackendError(f"{self.name}: {st[7:]}")
        raise self._not_manager(f"swarm state: {st}")

    # -- lists -----------------------------------------------------------------------------
    def _services_raw(self, api: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
        """Services (with ServiceStatus when the API has it) and, without it, all tasks to count."""
        from docker.utils import version_gte

        if version_gte(api._version, "1.41"):
            return api.services(status=True), None
        return api.services(), api.tasks()

    async def nodes(self) -> list[NodeRow]:
        raw = await self._call(f"{self.name} nodes", self._api().nodes, listing=True)
        rows = [parse_node(self.name, n) for n in raw]
        return sorted(rows, key=lambda r: (r.role != "manager", r.hostname, r.id))

    async def services(self) -> list[ServiceRow]:
        api = self._api()
        services, tasks = await self._call(f"{self.name} services", self._services_raw, api, listing=True)
        rows = [parse_service(self.name, s, count_tasks(s, tasks) if tasks is not None else None) for s in services]
        return sorted(rows, key=lambda r: r.name)

    async def tasks(self, service: str | None = None, *, desired_state: str | None = None) -> list[TaskRow]:
        """Tasks of every service, or of one (name or id); ``desired_state="running"`` leaves out the
        history (``docker service ps --filter desired-state=running``)."""
        api = self._api()

        def fetch() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
            filters: dict[str, Any] = {}
            services = api.services()
            if service:
                match = [s for s in services if s.get("ID") == service or (s.get("Spec") or {}).get("Name") == service]
                match = match or [s for s in services if len(service) >= 3 and str(s.get("ID", "")).startswith(service)]
                if not match:
                    raise NotFound(f"no swarm service {service!r} on {self.name}")
                filters["service"] = match[0]["ID"]
            if desired_state:
                filters["desired-state"] = desired_state
            return api.tasks(filters=filters or None), services, api.nodes()

        tasks, services, nodes = await self._call(f"{self.name} tasks", fetch, listing=True)
        names = {str(s.get("ID")): str((s.get("Spec") or {}).get("Name", "")) for s in services}
        hosts = {str(n.get("ID")): str((n.get("Description") or {}).get("Hostname", "")) for n in nodes}
        return sorted((parse_task(self.name, t, names, hosts) for t in tasks), key=task_sort_key)

    async def stacks(self) -> list[StackRow]:
        return group_stacks(self.name, await self.services())

    async def inspect_node(self, ident: str) -> dict[str, Any]:
        return await self._call(f"node {ident}", self._api().inspect_node, ident)  # type: ignore[no-any-return]

    async def inspect_service(self, ident: str) -> dict[str, Any]:
        return await self._call(f"service {ident}", self._api().inspect_service, ident)  # type: ignore[no-any-return]

    # -- mutations -------------------------------------------------------------------------
    async def set_availability(self, node: str, availability: str) -> None:
        """``drain``, ``active`` or ``pause`` a node (by id or hostname)."""
        availability = availability.strip().lower()
        if availability == "activate":
            availability = "active"
        if availability not in AVAILABILITIES:
            raise InvalidInput(f"node availability must be one of {', '.join(AVAILABILITIES)}, got {availability!r}")
        api = self._api()

        def update() -> None:
            import docker.errors

            for attempt in range(4):
                n = api.inspect_node(node)
                spec = dict(n.get("Spec") or {})
                if spec.get("Availability") == availability:
                    return
                spec["Availability"] = availability
                try:
                    api.update_node(n["ID"], int((n.get("Version") or {}).get("Index") or 0), spec)
                    return
                except docker.errors.APIError as exc:
                    if "out of sequence" not in str(exc) or attempt == 3:
                        raise

        await self._call(f"node {node} availability", update)

    def _update_service(self, ident: str, mutate: Callable[[dict[str, Any], dict[str, Any]], None],
                        params: Mapping[str, str] | None = None) -> list[str]:
        """Blocking: inspect, change the spec, post it back (retrying on a version race); returns
        the daemon's warnings."""
        import docker.errors

        api = self._api()
        for attempt in range(4):
            svc = api.inspect_service(ident)
            spec = svc.get("Spec") or {}
            mutate(svc, spec)
            version = int((svc.get("Version") or {}).get("Index") or 0)
            try:
                res = api._post_json(api._url("/services/{0}/update", svc["ID"]), data=spec,
                                     params={"version": version, **(params or {})})
                data = api._result(res, json=True) or {}
                return [str(w) for w in data.get("Warnings") or []]
            except docker.errors.APIError as exc:
                if "out of sequence" not in str(exc) or attempt == 3:
                    raise
        return []

    async def scale(self, service: str, replicas: int) -> None:
        """Set a replicated service's replicas (a replicated job's total completions); global
        services run one task per node and cannot be scaled."""
        if replicas < 0:
            raise InvalidInput(f"replicas must be 0 or more, got {replicas}")

        def mutate(svc: dict[str, Any], spec: dict[str, Any]) -> None:
            mode = spec.setdefault("Mode", {})
            name = spec.get("Name", service)
            if "Replicated" in mode:
                mode["Replicated"] = {**(mode["Replicated"] or {}), "Replicas": replicas}
            elif "ReplicatedJob" in mode:
                mode["ReplicatedJob"] = {**(mode["ReplicatedJob"] or {}), "TotalCompletions": replicas}
            else:
                raise InvalidInput(f"service {name} is {service_mode(spec)}: it runs one task per node and "
                                   "cannot be scaled (only replicated services and jobs can)")

        await self._call(f"scale {service}", self._update_service, service, mutate)

    async def update_image(self, service: str, image: str) -> None:
        """``docker service update --image`` (the rolling update follows the service's UpdateConfig)."""
        image = image.strip()
        if not image or any(ch.isspace() for ch in image):
            raise InvalidInput(f"invalid image reference {image!r}")

        def mutate(svc: dict[str, Any], spec: dict[str, Any]) -> None:
            template = spec.setdefault("TaskTemplate", {})
            template.setdefault("ContainerSpec", {})["Image"] = image

        await self._call(f"update {service}", self._update_service, service, mutate)

    async def rollback(self, service: str) -> None:
        """Go back to the service's previous spec (``docker service rollback``)."""

        def mutate(svc: dict[str, Any], spec: dict[str, Any]) -> None:
            if not svc.get("PreviousSpec"):
                raise InvalidInput(f"service {spec.get('Name', service)} has no previous spec to roll back to")

        await self._call(f"rollback {service}", self._update_service, service, mutate, {"rollback": "previous"})

    async def remove_service(self, service: str) -> None:
        await self._call(f"remove service {service}", self._api().remove_service, service)

    async def remove_stack(self, stack: str, wait_networks_s: float = 20.0) -> None:
        """``docker stack rm``: the services, secrets, configs and networks labelled with the stack.

        Networks are removed once the tasks that use them are gone (waiting up to ``wait_networks_s``)."""
        if not stack:
            raise InvalidInput("remove_stack needs a stack name")
        api = self._api()
        flt = {"label": f"{STACK_LABEL}={stack}"}

        def remove() -> None:
            import docker.errors

            services = api.services(filters=flt)
            secrets = api.secrets(filters=flt)
            configs = api.configs(filters=flt)
            networks = api.networks(filters=flt)
            if not (services or secrets or configs or networks):
                raise NotFound(f"nothing found in stack {stack!r} on {self.name}")
            failed: list[str] = []
            for s in services:
                try:
                    api.remove_service(s["ID"])
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError as exc:
                    failed.append(f"service {(s.get('Spec') or {}).get('Name')}: {exc.explanation}")
            for what, items, rm in (("secret", secrets, api.remove_secret), ("config", configs, api.remove_config)):
                for item in items:
                    try:
                        rm(item["ID"])
                    except docker.errors.NotFound:
                        pass
                    except docker.errors.APIError as exc:
                        failed.append(f"{what} {(item.get('Spec') or {}).get('Name')}: {exc.explanation}")
            deadline = time.monotonic() + wait_networks_s
            for n in networks:
                while True:
                    try:
                        api.remove_network(n["Id"])
                        break
                    except docker.errors.NotFound:
                        break
                    except docker.errors.APIError as exc:
                        if "active endpoints" in str(exc) and time.monotonic() < deadline:
                            time.sleep(0.5)
                            continue
                        failed.append(f"network {n.get('Name')}: {exc.explanation}")
                        break
            if failed:
                raise BackendError(f"stack {stack}: could not remove {'; '.join(failed)}")

        await self._call(f"remove stack {stack}", remove, listing=True)

    async def create_service(
        self,
        name: str,
        image: str,
        command: Sequence[str] = (),
        replicas: int = 1,
        labels: Mapping[str, str] | None = None,
        *,
        mode: str = "replicated",
        env: Mapping[str, str] | None = None,
        ports: Sequence[tuple[int, int]] = (),
        restart_condition: str | None = None,
        restart_delay_s: float | None = None,
        tty: bool = False,
        stop_grace_s: float | None = None,
    ) -> str:
        """Create a service; ``command`` replaces the image's CMD (like ``docker service create IMAGE
        CMD...``), ``ports`` are (published, target) TCP pairs. The image is not resolved to a digest
        and no registry credentials are sent (a local image runs as it is). ``stop_grace_s`` is how long
        a task's container has after SIGTERM before it is killed (the daemon's default: 10 s). Returns
        the service id."""
        if not _NAME_RE.fullmatch(name or ""):
            raise InvalidInput(f"invalid service name {name!r}: use letters, digits, '_', '.', '-'")
        if not image or any(ch.isspace() for ch in image):
            raise InvalidInput(f"invalid image reference {image!r}")
        if replicas < 0:
            raise InvalidInput(f"replicas must be 0 or more, got {replicas}")
        container: dict[str, Any] = {"Image": image}
        if command:
            container["Args"] = [str(a) for a in command]
        if env:
            container["Env"] = [f"{k}={v}" for k, v in env.items()]
        if tty:
            container["TTY"] = True
        if stop_grace_s is not None:
            container["StopGracePeriod"] = int(max(0.0, stop_grace_s) * 1e9)
        template: dict[str, Any] = {"ContainerSpec": container}
        if restart_condition or restart_delay_s is not None:
            policy: dict[str, Any] = {}
            if restart_condition:
                if restart_condition not in ("none", "on-failure", "any"):
                    raise InvalidInput(f"restart condition must be none, on-failure or any, got {restart_condition!r}")
                policy["Condition"] = restart_condition
            if restart_delay_s is not None:
                policy["Delay"] = int(restart_delay_s * 1e9)
            template["RestartPolicy"] = policy
        modes = {"replicated": {"Replicated": {"Replicas": replicas}}, "global": {"Global": {}},
                 "replicated-job": {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": replicas}},
                 "global-job": {"GlobalJob": {}}}
        if mode not in modes:
            raise InvalidInput(f"service mode must be one of {', '.join(modes)}, got {mode!r}")
        spec: dict[str, Any] = {"Name": name, "Labels": dict(labels or {}), "TaskTemplate": template,
                                "Mode": modes[mode]}
        if ports:
            spec["EndpointSpec"] = {"Ports": [{"Protocol": "tcp", "PublishedPort": int(p), "TargetPort": int(t)}
                                              for p, t in ports]}
        api = self._api()

        def create() -> str:
            res = api._post_json(api._url("/services/create"), data=spec)
            return str((api._result(res, json=True) or {}).get("ID", ""))

        return await self._call(f"create service {name}", create)

    # -- logs ------------------------------------------------------------------------------
    def _task_lookup(self, service_id: str) -> Callable[[], tuple[dict[str, str], dict[str, str]]]:
        api = self._api()

        def lookup() -> tuple[dict[str, str], dict[str, str]]:
            tasks = api.tasks(filters={"service": service_id})
            hosts = {str(n.get("ID")): str((n.get("Description") or {}).get("Hostname", "")) for n in api.nodes()}
            slots = {str(t.get("ID")): str(t.get("Slot") or 0) for t in tasks}
            nodes = {str(t.get("ID")): hosts.get(str(t.get("NodeID", "")), "") for t in tasks}
            return slots, nodes

        return lookup

    async def service_log_text_batches(
        self,
        service: str,
        follow: bool = True,
        tail: int | None = 1000,
        since: float | None = None,
        timestamps: bool = True,
        streams: bool = False,
        task_labels: bool = True,
    ) -> AsyncGenerator[LogBatch, None]:
        """The log of every task of a service (``GET /services/{id}/logs``) as column batches, like
        :meth:`DockerRuntime.log_text_batches`; an empty batch first says the daemon answered.

        ``tail`` counts per task (as the daemon does). With ``task_labels`` each text starts with the
        task it came from, ``NAME.SLOT@NODE | ``."""
        api = self._api()
        svc = await self.inspect_service(service)
        sid = str(svc.get("ID", service))
        spec = svc.get("Spec") or {}
        tty = bool(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("TTY"))
        params: dict[str, Any] = {
            "stdout": 1,
            "stderr": 1,
            "follow": 1 if follow else 0,
            "timestamps": 1 if timestamps else 0,
            "tail": "all" if tail is None else str(max(0, tail)),
            "details": 1 if task_labels else 0,
        }
        if since:
            params["since"] = f"{since:.9f}"
        labels = TaskLabels(str(spec.get("Name", service)), self._task_lookup(sid)) if task_labels else None
        holder: dict[str, Any] = {}
        what = f"logs of service {spec.get('Name', service)}"

        def mapped(exc: Exception) -> Exception:
            from tamer_tui.core.docker_runtime import map_error

            return map_error(exc, what)

        def open_stream() -> Iterator[LogBatch]:
            try:
                res = api._get(api._url("/services/{0}/logs", sid), params=params, stream=True, timeout=None)
                api._raise_for_status(res)
            except Exception as exc:  # noqa: BLE001
                raise mapped(exc) from exc
            holder["res"] = res
            body = decode_log_body(response_body(res), timestamps, framed=not tty, keep_streams=streams)
            if labels is not None:
                body = (labels.apply(b) for b in body)
            return guarded(body, mapped)

        def close(_stream: Any) -> None:
            res = holder.get("res")
            if res is not None:
                from docker.types.daemon import CancellableStream

                with contextlib.suppress(Exception):
                    CancellableStream(iter(()), res).close()

        pieces = cast("AsyncGenerator[list[LogBatch], None]",
                      iterate_blocking_batches(open_stream, close, max_pending=64))
        try:
            async with contextlib.aclosing(pieces):
                async for batches in pieces:
                    yield merge_batches(batches)
        except TamerError as exc:
            translated = self._translate(exc, False)
            if translated is exc:
                raise
            raise translated from exc


# -- the log source ------------------------------------------------------------------------------
class ServiceLogSource(LogSource):
    """The log of all tasks of a swarm service; reconnects (resuming from the last line) until the
    service is removed."""

    def __init__(self, swarm: Swarm, service_id: str, options: LogOptions, name: str | None = None) -> None:
        super().__init__(name or service_id, options)
        self.swarm = swarm
        self.service_id = service_id
        # the tasks' lines arrive interleaved, each task stamped by its own clock: resume from 2 s back
        self.resume = Resume(window_ns=2_000_000_000)

    async def open(self, first: bool) -> AsyncGenerator[Batch, None]:
        tail, since = self.start_window(first)
        batches = self.swarm.service_log_text_batches(self.service_id, follow=self.options.follow, tail=tail,
                                                      since=since, timestamps=True)
        async with contextlib.aclosing(batches):
            async for batch in batches:
                yield batch.stamps, batch.texts

    async def after_end(self, error: TamerError | None, sink: LogSink) -> SourceEnd:
        delay = 0.25
        while True:
            try:
                await self.swarm.inspect_service(self.service_id)
            except NotFound:
                return SourceEnd(False, f"service {self.name} was removed", "left")
            except NotASwarmManager as exc:
                return SourceEnd(False, str(exc), "error")
            except TamerError as exc:  # the daemon is away: resume when it is back
                await self.gap(sink, f"{exc}; waiting for the daemon")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if error is not None:
                await self.gap(sink, f"stream broken ({error}); reconnecting")
            return SourceEnd(True)


async def open_service_logs(runtimes: Sequence[Any], rest: str, options: LogOptions) -> LogSession:
    """The session of ``logs service/[RUNTIME:]NAME``: the service (name, id or id prefix) is looked up
    on the Docker runtimes that are swarm managers; one that does not exist raises here."""
    if not rest:
        raise InvalidInput("logs service: expected service/[RUNTIME:]NAME")
    names = {rt.name for rt in runtimes}
    runtime_name: str | None = None
    ident = rest
    if ":" in rest:
        head, _, tail = rest.partition(":")
        if head in names or head in ("docker", "podman"):
            runtime_name, ident = head, tail
    if not ident:
        raise InvalidInput(f"logs service/{rest}: no service name")
    dockers = [rt for rt in runtimes if getattr(rt, "kind", None) == RuntimeKind.DOCKER
               and runtime_name in (None, rt.name)]
    if not dockers:
        which = f" named {runtime_name!r}" if runtime_name else ""
        raise InvalidInput(f"logs service: no Docker runtime{which} (swarm services live on Docker engines)")
    hits: list[tuple[Swarm, dict[str, Any]]] = []
    errors: list[str] = []
    for rt in dockers:
        swarm = Swarm(rt)
        try:
            try:
                svc = await swarm.inspect_service(ident)
            except RuntimeUnavailable:
                await rt.connect()
                svc = await swarm.inspect_service(ident)
        except NotFound:
            continue
        except TamerError as exc:
            errors.append(str(exc) if str(exc).startswith(rt.name) else f"{rt.name}: {exc}")
            continue
        hits.append((swarm, svc))
    if not hits:
        where = f" ({'; '.join(errors)})" if errors else ""
        raise NotFound(f"no swarm service {ident!r}{where}")
    if len(hits) > 1:
        found = ", ".join(f"{sw.name}:{(svc.get('Spec') or {}).get('Name')}" for sw, svc in hits[:5])
        raise InvalidInput(f"service/{ident} is ambiguous: {found}; prefix the runtime, e.g. "
                           f"service/{hits[0][0].name}:{ident}")
    swarm, svc = hits[0]
    display = str((svc.get("Spec") or {}).get("Name") or ident)
    session = LogSession(f"service/{swarm.name}:{display}")
    session.start_source(ServiceLogSource(swarm, str(svc.get("ID") or ident), options, name=display))
    return session


# -- the live feed --------------------------------------------------------------------------------
async def _list(swarm: Swarm, kind: SwarmKind, service: str | None) -> list[Any]:
    if kind == "nodes":
        return await swarm.nodes()
    if kind == "services":
        return await swarm.services()
    if kind == "stacks":
        return await swarm.stacks()
    if kind == "tasks":
        return await swarm.tasks(service)
    raise InvalidInput(f"unknown swarm list {kind!r} (nodes, services, tasks, stacks)")


def _relevant(kind: SwarmKind, event: Any) -> bool:
    if event.type == "node":
        return True
    if event.type == "service":
        return kind != "nodes"
    if event.type == "container" and kind != "nodes":
        # a task's container started or died on this node: counts and task states changed
        return any(k == SERVICE_ID_LABEL for k, _v in event.attributes) and \
            event.action.split(":", 1)[0] in ("start", "die", "kill", "stop", "destroy", "create", "oom")
    return False


_TICK = object()


async def swarm_feed(
    runtime: DockerRuntime,
    kind: SwarmKind,
    service: str | None = None,
    interval: float = 2.0,
    *,
    backoff_start: float = 0.5,
    backoff_max: float = 10.0,
    not_manager_retry: float = 30.0,
    coalesce_s: float = 0.1,
) -> AsyncGenerator[FeedMessage, None]:
    """The live list of ``kind`` (``tasks`` of one ``service`` when given); runs until cancelled.

    ``SourceStatus`` connecting, a ``Snapshot``, live; then a ``Snapshot`` whenever the rows changed:
    re-listed on each burst of swarm events (and task container events) and every ``interval``
    seconds (nodes: every 5 x ``interval``). A failure yields ``reconnecting`` and retries with
    backoff; an engine that is not a swarm manager is retried every ``not_manager_retry`` seconds."""
    if kind not in ("nodes", "services", "tasks", "stacks"):
        raise InvalidInput(f"unknown swarm list {kind!r} (nodes, services, tasks, stacks)")
    swarm = Swarm(runtime)
    name = runtime.name
    period = interval * 5 if kind == "nodes" else interval
    delay = backoff_start
    first = True
    while True:
        try:
            if first:
                yield SourceStatus(name, "connecting")
            await runtime.connect()
            t0 = time.time()
            rows = tuple(await _list(swarm, kind, service))
            yield Snapshot(name, rows)
            yield SourceStatus(name, "live")
            delay = backoff_start
            first = False
            async for fresh in _follow(swarm, kind, service, t0 - 1, period, coalesce_s, rows):
                yield Snapshot(name, fresh)
        except asyncio.CancelledError:
            raise
        except NotASwarmManager as exc:
            yield SourceStatus(name, "reconnecting", f"{exc}; retrying in {not_manager_retry:.0f}s")
            await asyncio.sleep(not_manager_retry)
            first = False
        except (TamerError, OSError) as exc:
            yield SourceStatus(name, "reconnecting", f"{exc}; retrying in {delay:.1f}s")
            await asyncio.sleep(delay)
            delay = min(backoff_max, delay * 2)
            first = False


async def _follow(swarm: Swarm, kind: SwarmKind, service: str | None, since: float, period: float,
                  coalesce_s: float, rows: tuple[Any, ...]) -> AsyncIterator[tuple[Any, ...]]:
    """Rows whenever they differ from the last ones, re-listed on relevant events and on a timer."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for ev in swarm.runtime.events(since=since):
                await queue.put(ev)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            await queue.put(exc)

    async def tick() -> None:
        while True:
            await asyncio.sleep(period)
            await queue.put(_TICK)

    tasks = [asyncio.create_task(pump()), asyncio.create_task(tick())]
    last = rows
    try:
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(coalesce_s)  # one re-list for a burst (a stack deploy, a rolling update)
            while not queue.empty():
                batch.append(queue.get_nowait())
            errors = [b for b in batch if isinstance(b, BaseException)]
            if errors:
                raise errors[0]
            if any(b is _TICK or _relevant(kind, b) for b in batch):
                fresh = tuple(await _list(swarm, kind, service))
                if fresh != last:
                    last = fresh
                    yield fresh
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
