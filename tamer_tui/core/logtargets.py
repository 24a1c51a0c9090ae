"""``:logs TARGET [options]``: parse a log target and open a :class:`LogSession` for it.

Targets::

    pod/NS/NAME[/CONTAINER]        one container, or all containers of the pod interleaved
    deploy|sts|ds|job|rs/NS/NAME    all pods of a workload (pods of a rollout join by themselves)
    selector/NS/LABEL-SELECTOR      all pods matching a label selector
    container/[RUNTIME:]NAME        a Docker or Podman container
    compose/[RUNTIME:]PROJECT[/SERVICE]  the containers of a compose project (docker-compose, podman-compose)
    podman-pod/NAME                 the containers of a Podman pod
    service/[RUNTIME:]NAME          every task of a Docker Swarm service (the daemon's service logs)

Options: ``--tail=N|all``, ``--since=30s|5m|1h|all``, ``--timestamps``, ``--previous``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tamer_tui.core.commands import parse_target
from tamer_tui.core.compose import container_number, project_of, service_of
from tamer_tui.core.errors import InvalidInput, NotFound, RuntimeUnavailable, TamerError
from tamer_tui.core.logstream import (
    WORKLOAD_ALIASES,
    LogOptions,
    LogSession,
    RuntimeContainerSource,
    pod_containers,
    pod_session,
    runtime_session,
    selector_session,
    workload_selector,
)
from tamer_tui.core.models import ContainerRow, RuntimeKind

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_NUMBER = "com.docker.compose.container-number"
KUBE_KINDS = {"pod", "pods", "po", "selector", "sel", "label", *WORKLOAD_ALIASES}
SINCE_PRESETS = {"1": 60.0, "2": 300.0, "3": 900.0, "4": 1800.0, "5": 3600.0, "0": None}


@dataclass(frozen=True, slots=True)
class LogRequest:
    """A parsed ``logs`` command: the target, what to fetch, and whether to show the stamps."""

    target: str
    options: LogOptions
    timestamps: bool = False


def parse_duration(text: str) -> float | None:
    """``30s``, ``5m``, ``1h30m``, ``2d``, ``all`` (None)."""
    if text in ("all", "", "0"):
        return None
    parts = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not parts or not any(parts.groups()):
        raise InvalidInput(f"--since takes a duration like 30s, 5m, 1h or 'all', got {text!r}")
    d, h, m, s = (int(g) if g else 0 for g in parts.groups())
    return float(((d * 24 + h) * 60 + m) * 60 + s)


def parse_log_args(args: Sequence[str], default_tail: int = 1000) -> LogRequest:
    """``TARGET [--tail=N|all] [--since=5m|all] [--timestamps] [--previous]`` (``--tail N`` and
    ``--since 5m`` work too, as in kubectl)."""
    if not args:
        raise InvalidInput("logs needs a target, e.g. logs pod/NS/NAME or logs container/NAME")
    target = ""
    tail: int | None = default_tail
    since: float | None = None
    previous = timestamps = False
    items = list(args)
    i = 0
    while i < len(items):
        a = items[i]
        i += 1
        if a in ("--tail", "--since"):
            if i >= len(items):
                raise InvalidInput(f"{a} needs a value, e.g. {a}={'100' if a == '--tail' else '5m'}")
            a = f"{a}={items[i]}"
            i += 1
        if a.startswith("--tail="):
            value = a.split("=", 1)[1]
            if value in ("all", "-1"):
                tail = None
            elif value.isdigit():
                tail = int(value)
            else:
                raise InvalidInput(f"--tail takes a number or 'all', got {value!r}")
        elif a.startswith("--since="):
            since = parse_duration(a.split("=", 1)[1])
        elif a in ("--timestamps", "-t"):
            timestamps = True
        elif a in ("--previous", "-p"):
            previous = True
        elif a.startswith("-"):
            raise InvalidInput(f"unknown logs option {a!r} (--tail=N|all, --since=5m, --timestamps, --previous)")
        elif target:
            raise InvalidInput(f"logs takes one target, got {target!r} and {a!r}")
        else:
            target = a
    if not target:
        raise InvalidInput("logs needs a target, e.g. logs pod/NS/NAME or logs container/NAME")
    return LogRequest(target, LogOptions(tail=tail, since_seconds=since, previous=previous), timestamps)


def is_kube_log_target(target: str) -> bool:
    """Whether a target names Kubernetes objects (else Docker/Podman ones)."""
    return target.partition("/")[0].lower() in KUBE_KINDS


def _ns_name(kube: Any, rest: str, what: str) -> tuple[str, str, str | None]:
    parts = rest.split("/")
    if len(parts) == 1 and parts[0]:
        return kube.namespace or kube.state().namespace or "default", parts[0], None
    if len(parts) >= 2 and parts[0] and parts[1]:
        return parts[0], parts[1], "/".join(parts[2:]) or None
    raise InvalidInput(f"logs {what}: expected {what}/NAMESPACE/NAME")


async def open_kube_logs(kube: Any, target: str, options: LogOptions) -> LogSession:
    """A session for a Kubernetes target (``pod/``, ``deploy/``, ``sts/``, ``ds/``, ``job/``, ``rs/``,
    ``selector/``) on the current context; a target that does not exist raises here."""
    kind, _, rest = target.partition("/")
    kind = kind.lower()
    context = kube.current
    if kind in ("pod", "pods", "po"):
        ns, name, container = _ns_name(kube, rest, "pod")
        pod, names = await pod_containers(kube, context, ns, name)
        if container:
            if container not in names:
                raise InvalidInput(f"pod {ns}/{name} has no container {container!r} (it has {', '.join(names)})")
            names = [container]
        if not names:
            raise InvalidInput(f"pod {ns}/{name} has no containers")
        session = pod_session(kube, context, ns, name, names, options, pod=pod)
        session.title = f"pod/{ns}/{name}" + (f"/{container}" if container else "")
        return session
    if kind in ("selector", "sel", "label"):
        ns, _, selector = rest.partition("/")
        if not ns or not selector:
            raise InvalidInput("logs selector: expected selector/NAMESPACE/LABEL-SELECTOR, e.g. selector/web/app=api")
        return selector_session(kube, context, ns, selector, options, f"selector/{ns}/{selector}")
    short = WORKLOAD_ALIASES.get(kind)
    if short is None:
        raise InvalidInput(f"no logs for {kind!r}: use pod, deploy, sts, ds, job, rs or selector")
    ns, name, container = _ns_name(kube, rest, short)
    selector = await workload_selector(kube, context, short, ns, name)
    return selector_session(kube, context, ns, selector, options, f"{short}/{ns}/{name}", container)


async def _containers(rt: Any) -> list[ContainerRow]:
    """All containers of a runtime, connecting it first when it is not connected yet."""
    try:
        rows: list[ContainerRow] = await rt.list_containers(all=True)
    except RuntimeUnavailable:
        await rt.connect()
        rows = await rt.list_containers(all=True)
    return rows


async def _find_podman_pod(runtimes: list[Any], ident: str) -> tuple[Any, Any]:
    """(runtime, PodRow) of the Podman pod named ``ident`` (or whose id starts with it)."""
    hits: list[tuple[Any, Any]] = []
    errors: list[str] = []
    for rt in runtimes:
        try:
            pods = await rt.list_pods()
        except RuntimeUnavailable:
            try:
                await rt.connect()
                pods = await rt.list_pods()
            except TamerError as exc:
                errors.append(f"{rt.name}: {exc}")
                continue
        exact = [p for p in pods if p.name == ident or p.id == ident]
        hits.extend((rt, p) for p in exact or [p for p in pods if len(ident) >= 3 and p.id.startswith(ident)])
    if not hits:
        where = f" ({'; '.join(errors)})" if errors else ""
        raise NotFound(f"no Podman pod {ident!r}{where}")
    if len(hits) > 1:
        names = ", ".join(f"{rt.name}:{p.name}" for rt, p in hits[:5])
        raise InvalidInput(f"podman-pod/{ident} is ambiguous: {names}")
    return hits[0]


async def _open_compose_logs(runtimes: list[Any], rest: str, options: LogOptions) -> LogSession:
    """``compose/[RUNTIME:]PROJECT[/SERVICE]``: the containers of a compose project, grouped by the label
    helpers of :mod:`tamer_tui.core.compose` (docker-compose v1/v2 and podman-compose projects alike)."""
    runtime_name, sep, spec = rest.partition(":")
    if sep and any(rt.name == runtime_name for rt in runtimes):
        runtimes = [rt for rt in runtimes if rt.name == runtime_name]
    else:
        runtime_name, spec = "", rest
    project, _, service = spec.partition("/")
    if not project:
        raise InvalidInput("logs compose: expected compose/[RUNTIME:]PROJECT[/SERVICE]")
    projects: set[str] = set()
    services: set[str] = set()
    holders: set[str] = set()  # runtimes that have the project
    for rt in runtimes:
        with contextlib.suppress(TamerError):
            for row in await _containers(rt):
                name = project_of(row)
                if name:
                    projects.add(name)
                if name == project:
                    holders.add(rt.name)
                    services.add(service_of(row) or row.name)
    if project not in projects:
        known = ", ".join(sorted(projects)) or "none"
        where = f" on {runtime_name}" if runtime_name else ""
        raise NotFound(f"no containers of compose project {project!r}{where} (projects: {known})")
    if service and service not in services:
        raise NotFound(f"compose project {project!r} has no service {service!r} "
                       f"(services: {', '.join(sorted(services))})")
    several = len(holders) > 1  # the same project name on two engines: say which is which

    def in_project(row: ContainerRow) -> bool:
        return project_of(row) == project and service in ("", service_of(row) or row.name)

    def compose_label(row: ContainerRow) -> str:
        svc = service_of(row)
        number = container_number(row)
        text = f"{svc}-{number}" if svc and number else row.name
        return f"{row.runtime}:{text}" if several else text

    title = f"compose/{runtime_name + ':' if runtime_name else ''}{project}" + (f"/{service}" if service else "")
    return runtime_session(runtimes, title, in_project, compose_label, options)


async def open_runtime_logs(manager: Any, target: str, options: LogOptions) -> LogSession:
    """A session for a Docker/Podman target (``container/``, ``compose/``, ``podman-pod/``, a swarm
    ``service/``); a target that does not exist raises here."""
    from tamer_tui.core.manager import resolve_target

    if options.previous:
        raise InvalidInput("--previous is for Kubernetes pods (Docker and Podman keep one log per container)")
    kind, _, rest = target.partition("/")
    kind = kind.lower()
    runtimes = list(manager.runtimes)
    if kind == "compose":
        return await _open_compose_logs(runtimes, rest, options)
    if kind in ("service", "swarm-service"):
        from tamer_tui.core.swarm import open_service_logs

        return await open_service_logs(runtimes, rest, options)
    if kind in ("podman-pod", "ppod", "pod-podman"):
        if not rest:
            raise InvalidInput("logs podman-pod: expected podman-pod/NAME")
        podmans = [rt for rt in runtimes if rt.kind == RuntimeKind.PODMAN]
        if not podmans:
            raise InvalidInput("logs podman-pod: no Podman runtime is configured")
        prt, pod = await _find_podman_pod(podmans, rest)
        keys = {pod.name, pod.id[:12]}

        def in_pod(row: ContainerRow) -> bool:
            # ContainerRow.pod is the pod's name (or the first 12 characters of its id); the infra
            # (pause) container holds the namespaces and logs nothing
            return row.runtime == prt.name and row.pod in keys and row.id != pod.infra_id

        def pod_label(row: ContainerRow) -> str:
            return row.name

        return runtime_session([prt], f"podman-pod/{pod.name}", in_pod, pod_label, options)
    target_obj = parse_target(target, "container")
    rt, ident, display = await resolve_target(manager, target_obj)
    session = LogSession(f"container/{rt.name}:{display}")
    session.start_source(RuntimeContainerSource(rt, ident, options, name=display))
    return session
