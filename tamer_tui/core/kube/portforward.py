"""Port-forwarding to pods and services (``:pf``): the engine the Port-forwards screen renders.

A :class:`PortForwardManager` runs any number of forwards on the caller's asyncio loop. Each forward
listens on a local address (``asyncio.start_server``) and opens one WebSocket to
``pods/<name>/portforward`` (sub-protocol ``v4.channel.k8s.io``, the one the official clients use)
per accepted TCP connection, where ``kubectl port-forward`` opens one SPDY stream pair per
connection. Data channel 0 carries the bytes, error channel 1 the kubelet's complaint (e.g.
"connection refused" for a port nobody listens on); the first frame on each is the 2-byte port. Both
directions are spliced with bounded buffers: a side is only read once the other side has drained.

Targets:

* ``pod/<ns>/<name>``: a declared container port (number or name) or any typed number. When the
  pod is deleted and its controller (ReplicaSet / StatefulSet / DaemonSet / Job ...) replaces it,
  the forward moves to a ready pod of the same owner (for a Deployment's ReplicaSet: any pod of the
  Deployment); a bare pod that is gone fails the forward with "pod gone".
* ``svc/<ns>/<name>``: service port (number or name) -> targetPort (number or name) -> a ready pod
  from the service's EndpointSlices (or Endpoints, or its selector); re-resolved whenever that pod
  goes away.

The current pod is watched; a forward whose pod went away is ``reconnecting`` until another pod is
found, and local connections arriving meanwhile wait (up to ``connect_wait`` seconds) for it.
Failures that cannot heal (403 on ``pods/portforward``, bare pod gone, service deleted) end the
forward as ``failed`` with the reason; its listener and connections are closed.

Saved forwards (``kube.port_forwards`` in settings.yaml) are plain dicts: :func:`spec_to_dict` /
:func:`spec_from_dict`, and :meth:`PortForwardManager.start_saved` starts those of a context.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import itertools
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tamer_tui.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TamerError,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.core.kube.client import KubeClient

log = logging.getLogger(__name__)

#: WebSocket sub-protocols offered for ``pods/portforward`` (most preferred first).
PORT_FORWARD_PROTOCOLS: tuple[str, ...] = ("v4.channel.k8s.io", "portforward.k8s.io")
#: Largest read from a local socket (one WebSocket frame).
CHUNK = 256 * 1024
#: Buffer limit of the local stream reader (reading pauses above twice this).
READ_LIMIT = 256 * 1024
#: Most bytes from the pod gathered into one local write.
COALESCE = 256 * 1024
#: Task names of this module start with this (the UI and tests can tell them apart).
TASK_PREFIX = "tamer-pf"
#: Backoff bounds (seconds) while looking for a pod to forward to.
BACKOFF_MIN = 0.1
BACKOFF_MAX = 2.0

_KINDS = {"pod": "pod", "pods": "pod", "po": "pod", "svc": "svc", "service": "svc", "services": "svc"}


class ForwardState(StrEnum):
    """Lifecycle of a forward."""

    STARTING = "starting"
    ACTIVE = "active"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


class PortInUse(Conflict):
    """The local address/port is already taken by another listener."""


class PodNotRunning(Conflict):
    """The target pod exists but is not running (Pending, Succeeded, Failed, terminating)."""


class PodGone(NotFound):
    """The target pod was deleted and nothing replaces it."""


class NoReadyPod(NotFound):
    """A service (or a pod's owner) currently has no ready pod to forward to."""


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class PortForwardSpec:
    """What to forward: the part a user types and settings.yaml stores.

    ``remote_port`` is a number or a port name (a pod's containerPort name, or a service port
    name). ``local_port`` ``None`` means "the same number as the remote port" (kubectl's ``8080``),
    ``0`` picks a free port (kubectl's ``:8080``); "the same number" is the number a port name
    resolves to, and for a service its service port (not the pod's targetPort), as with kubectl. ``address`` is the local IP to listen on (``localhost`` means 127.0.0.1;
    ``0.0.0.0`` / ``::`` listen on every interface).
    """

    context: str
    kind: str  # "pod" | "svc"
    namespace: str
    name: str
    remote_port: int | str
    local_port: int | None = None
    address: str = "127.0.0.1"
    autostart: bool = False

    @property
    def target(self) -> str:
        """``pod/<ns>/<name>`` or ``svc/<ns>/<name>``."""
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def ports(self) -> str:
        """``[<local>:]<remote>`` as typed (``:80`` for a free local port)."""
        if self.local_port is None:
            return str(self.remote_port)
        return f"{self.local_port or ''}:{self.remote_port}"

    def describe(self) -> str:
        """One line for messages: ``svc/shop/web 8080:80``."""
        return f"{self.target} {self.ports}"

    def validate(self) -> PortForwardSpec:
        """Raise :class:`InvalidInput` for anything unusable; returns ``self``."""
        if self.kind not in ("pod", "svc"):
            raise InvalidInput(f"port-forward: unknown target kind {self.kind!r} (pod or svc)")
        if not self.namespace or not self.name:
            raise InvalidInput(f"port-forward: {self.target}: namespace and name are required")
        if isinstance(self.remote_port, bool):
            raise InvalidInput("port-forward: remote port must be a number or a port name")
        if isinstance(self.remote_port, int):
            if not 0 < self.remote_port < 65536:
                raise InvalidInput(f"port-forward: remote port {self.remote_port} must be 1-65535")
        elif not self.remote_port or not _valid_port_name(self.remote_port):
            raise InvalidInput(f"port-forward: {self.remote_port!r} is neither a port number nor a port name")
        if self.local_port is not None and (isinstance(self.local_port, bool) or not 0 <= self.local_port < 65536):
            raise InvalidInput(f"port-forward: local port {self.local_port} must be 0-65535 (0: any free port)")
        if not self.address:
            raise InvalidInput("port-forward: local address is empty")
        return self


def _valid_port_name(name: str) -> bool:
    return 0 < len(name) <= 63 and all(c.isalnum() or c == "-" for c in name) and any(c.isalpha() for c in name)


def _port_value(text: str) -> int | str:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return text


def parse_ports(text: str) -> tuple[int | str, int | None, str | None]:
    """Parse ``[<address>:][<local>:]<remote>`` into ``(remote, local, address)``.

    ``8080`` -> local = remote (kubectl); ``:8080`` or ``0:8080`` -> any free local port;
    ``9000:http`` -> local 9000 to the port named ``http``; ``0.0.0.0:9000:80`` and
    ``[::1]:9000:80`` choose the local address too.
    """
    raw = text.strip()
    if not raw:
        raise InvalidInput("port-forward: no port given ([<local>:]<remote>)")
    address: str | None = None
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0 or raw[end + 1 : end + 2] != ":":
            raise InvalidInput(f"port-forward: bad address in {text!r} (use [::1]:<local>:<remote>)")
        address, raw = raw[1:end], raw[end + 2 :]
    parts = raw.split(":")
    if len(parts) > 3 or (len(parts) == 3 and address is not None):
        raise InvalidInput(f"port-forward: cannot parse {text!r} (expected [<address>:][<local>:]<remote>)")
    if len(parts) == 3:
        address = parts[0]
        parts = parts[1:]
    remote = _port_value(parts[-1])
    local: int | None = None
    if len(parts) == 2:
        ltext = parts[0].strip()
        if not ltext:
            local = 0
        elif ltext.isdigit():
            local = int(ltext)
        else:
            raise InvalidInput(f"port-forward: local port {ltext!r} is not a number")
    return remote, local, address


def parse_forward(target: str, ports: str, *, context: str, namespace: str = "default",
                  address: str | None = None, autostart: bool = False) -> PortForwardSpec:
    """The spec of ``:pf <target> <ports>``.

    ``target`` is ``pod/<ns>/<name>``, ``svc/<ns>/<name>`` (also ``pods``/``po``/``service``), or
    ``<kind>/<name>`` in ``namespace``. ``ports`` as :func:`parse_ports`.
    """
    kind_text, _, rest = target.strip().partition("/")
    kind = _KINDS.get(kind_text.lower())
    if kind is None or not rest:
        raise InvalidInput(f"port-forward: target must be pod/<ns>/<name> or svc/<ns>/<name>, not {target!r}")
    ns, _, name = rest.rpartition("/")
    remote, local, addr = parse_ports(ports)
    return PortForwardSpec(context=context, kind=kind, namespace=ns or namespace, name=name, remote_port=remote,
                           local_port=local, address=address or addr or "127.0.0.1", autostart=autostart).validate()


def spec_to_dict(spec: PortForwardSpec) -> dict[str, Any]:
    """A plain dict for settings.yaml (only built-in types; the inverse of :func:`spec_from_dict`)."""
    return {
        "context": spec.context,
        "target": spec.target,
        "remote_port": spec.remote_port,
        "local_port": spec.local_port,
        "address": spec.address,
        "autostart": spec.autostart,
    }


def spec_from_dict(data: Mapping[str, Any]) -> PortForwardSpec:
    """Rebuild a spec saved by :func:`spec_to_dict`; :class:`InvalidInput` if it is not usable."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"port-forward entry must be a mapping, not {type(data).__name__}")
    context = data.get("context")
    target = data.get("target")
    if not isinstance(context, str) or not context:
        raise InvalidInput("port-forward entry: 'context' is missing")
    if not isinstance(target, str):
        raise InvalidInput("port-forward entry: 'target' is missing")
    kind_text, _, rest = target.partition("/")
    ns, _, name = rest.partition("/")
    kind = _KINDS.get(kind_text.lower())
    if kind is None or not ns or not name or "/" in name:
        raise InvalidInput(f"port-forward entry: target must be pod/<ns>/<name> or svc/<ns>/<name>, not {target!r}")
    remote = data.get("remote_port")
    if isinstance(remote, str):
        remote = _port_value(remote)
    if not isinstance(remote, int | str) or isinstance(remote, bool):
        raise InvalidInput(f"port-forward entry {target}: bad remote_port {remote!r}")
    local = data.get("local_port")
    if local is not None and (not isinstance(local, int) or isinstance(local, bool)):
        if isinstance(local, str) and local.isdigit():
            local = int(local)
        else:
            raise InvalidInput(f"port-forward entry {target}: bad local_port {local!r}")
    address = data.get("address") or "127.0.0.1"
    if not isinstance(address, str):
        raise InvalidInput(f"port-forward entry {target}: bad address {address!r}")
    return PortForwardSpec(context=context, kind=kind, namespace=ns, name=name, remote_port=remote,
                           local_port=local, address=address, autostart=bool(data.get("autostart", False))).validate()


# --------------------------------------------------------------------------- live state


@dataclass
class PortForward:
    """One forward as the UI shows it (updated in place by the engine; read it, never write it).

    ``bytes_in`` counts bytes from the pod to local clients, ``bytes_out`` from local clients to
    the pod. Counters change with every chunk without a change notification: render them on a timer.
    """

    id: int
    spec: PortForwardSpec
    state: ForwardState = ForwardState.STARTING
    reason: str = ""  # why failed / why reconnecting
    local_address: str = ""
    local_port: int = 0
    pod: str = ""  # the pod currently used (last used once stopped)
    remote_port: int = 0  # the numeric container port on that pod
    connections: int = 0  # open right now
    total_connections: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    errors: int = 0  # connections that ended with an error (refused port, tunnel failure)
    last_error: str = ""
    reconnects: int = 0  # times the forward moved or re-attached to a pod
    created: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.monotonic)
    stopped_monotonic: float | None = None

    @property
    def target(self) -> str:
        return self.spec.target

    @property
    def context(self) -> str:
        return self.spec.context

    @property
    def age(self) -> float:
        """Seconds since the forward was started (frozen once it stopped or failed)."""
        end = self.stopped_monotonic if self.stopped_monotonic is not None else time.monotonic()
        return max(0.0, end - self.started_monotonic)

    @property
    def running(self) -> bool:
        """Listening (active or reconnecting or starting)."""
        return self.state in (ForwardState.STARTING, ForwardState.ACTIVE, ForwardState.RECONNECTING)

    @property
    def local_endpoint(self) -> str:
        """``127.0.0.1:8080`` / ``[::1]:8080``."""
        host = self.local_address or self.spec.address
        if ":" in host:
            host = f"[{host}]"
        return f"{host}:{self.local_port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:8080`` (a wildcard address is shown as ``localhost``)."""
        host = self.local_address or self.spec.address
        if host in ("0.0.0.0", "::", ""):
            host = "localhost"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.local_port}"


Listener = Callable[[PortForward], None]
ClientFactory = Callable[[str], Awaitable["KubeClient"]]


@dataclass(frozen=True)
class _Target:
    """The pod a forward currently tunnels to."""

    pod: str
    uid: str
    port: int
    owner: tuple[str, str, str] | None  # controller (kind, name, uid)
    service_port: int = 0  # for a service target: the service port (the default local port)


# --------------------------------------------------------------------------- resolution helpers


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "Unknown")


def pod_running(pod: Mapping[str, Any]) -> bool:
    """Running and not being deleted."""
    return pod_phase(pod) == "Running" and not _meta(pod).get("deletionTimestamp")


def pod_ready(pod: Mapping[str, Any]) -> bool:
    """Running, not deleting, and its Ready condition is True."""
    if not pod_running(pod):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def controller_of(pod: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """``(kind, name, uid)`` of the pod's controller ownerReference, if any."""
    for ref in _meta(pod).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("kind", "")), str(ref.get("name", "")), str(ref.get("uid", ""))
    return None


def container_port(pod: Mapping[str, Any], port: int | str) -> int:
    """The numeric port to dial in ``pod``: a number as is, a name through its TCP containerPorts."""
    if isinstance(port, int):
        return port
    udp_only = False
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == port:
                if (p.get("protocol") or "TCP") != "TCP":
                    udp_only = True
                    continue
                return int(p["containerPort"])
    name = _meta(pod).get("name", "?")
    if udp_only:
        raise InvalidInput(f"port-forward: port {port!r} of pod {name} is not TCP (only TCP can be forwarded)")
    raise InvalidInput(f"port-forward: pod {name} has no container port named {port!r}")


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """A label selector (a service's plain map or a LabelSelector) as the ``labelSelector`` query text."""
    if not selector:
        return ""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


_OWNER_PATHS = {
    "ReplicaSet": "/apis/apps/v1/namespaces/{ns}/replicasets/{name}",
    "StatefulSet": "/apis/apps/v1/namespaces/{ns}/statefulsets/{name}",
    "DaemonSet": "/apis/apps/v1/namespaces/{ns}/daemonsets/{name}",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
    "Job": "/apis/batch/v1/namespaces/{ns}/jobs/{name}",
    "ReplicationController": "/api/v1/namespaces/{ns}/replicationcontrollers/{name}",
}


async def _get_json(client: KubeClient, path: str, params: Mapping[str, Any] | None = None, what: str = "") -> Any:
    return json.loads(await client.get(path, params=params, what=what))


async def _get_pod(client: KubeClient, ns: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = await _get_json(client, f"/api/v1/namespaces/{ns}/pods/{name}", what=f"pod {ns}/{name}")
    return pod


async def _owner_pods(client: KubeClient, ns: str, owner: tuple[str, str, str]) -> tuple[list[dict[str, Any]], str]:
    """Pods that the owner (or, for a Deployment's ReplicaSet, the Deployment) manages; and a label."""
    kind, name, uid = owner
    label = f"{kind} {name}"
    selector = ""
    path = _OWNER_PATHS.get(kind)
    if path:
        try:
            obj = await _get_json(client, path.format(ns=ns, name=name), what=f"{kind} {ns}/{name}")
        except NotFound:
            raise PodGone(f"pod gone (its {kind} {name} was deleted too)") from None
        except TamerError:
            obj = None
        if obj is not None:
            top = controller_of(obj)
            if kind == "ReplicaSet" and top and top[0] == "Deployment":
                with contextlib.suppress(TamerError):
                    dep = await _get_json(client, _OWNER_PATHS["Deployment"].format(ns=ns, name=top[1]),
                                          what=f"Deployment {ns}/{top[1]}")
                    selector = selector_string((dep.get("spec") or {}).get("selector"))
                    label = f"Deployment {top[1]}"
            if not selector:
                selector = selector_string((obj.get("spec") or {}).get("selector"))
    params = {"labelSelector": selector} if selector else None
    data = await _get_json(client, f"/api/v1/namespaces/{ns}/pods", params=params, what=f"pods of {label}")
    items: list[dict[str, Any]] = list(data.get("items") or [])
    if not selector:
        items = [p for p in items if (controller_of(p) or ("", "", ""))[2] == uid]
    return items, label


def _pick(pods: Iterable[dict[str, Any]], prefer_owner_uid: str = "") -> dict[str, Any] | None:
    """The ready pod to use: the same owner first, then by name (deterministic)."""
    ready = [p for p in pods if pod_ready(p)]
    if not ready:
        return None
    ready.sort(key=lambda p: ((controller_of(p) or ("", "", ""))[2] != prefer_owner_uid, _meta(p).get("name", "")))
    return ready[0]


async def _forbidden_check(client: KubeClient, ns: str, pod: str) -> None:
    """SelfSubjectAccessReview for ``create pods/portforward`` (what the upgrade needs): raise if denied.

    Inconclusive answers (the review API refused or missing) are ignored: the upgrade itself tells.
    """
    from tamer_tui.core.kube.client import Forbidden

    body = json.dumps({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": ns, "verb": "create", "resource": "pods",
                                        "subresource": "portforward", "name": pod}},
    }).encode()
    try:
        raw = await client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=body,
                                   what="access review")
        status = json.loads(raw).get("status") or {}
    except (TamerError, ValueError):
        return
    if status.get("allowed") is False:
        why = status.get("reason") or status.get("evaluationError") or ""
        raise Forbidden(f"{client.context}: forbidden: you may not create pods/portforward in namespace "
                        f'"{ns}" (pod {pod}){": " + why if why else ""}')


# --------------------------------------------------------------------------- one forward


class _Fatal(Exception):
    """Internal: the forward cannot continue (carries the user-facing reason)."""


class _Forwarder:
    """The machinery behind one :class:`PortForward`: listener, supervisor, connections."""

    def __init__(self, manager: PortForwardManager, fwd: PortForward, client: KubeClient) -> None:
        self.manager = manager
        self.fwd = fwd
        self.client = client
        self.server: asyncio.base_events.Server | None = None
        self.target: _Target | None = None
        self.owner: tuple[str, str, str] | None = None
        self.supervisor: asyncio.Task[None] | None = None
        self.conn_tasks: set[asyncio.Task[Any]] = set()
        self.closing = False
        self.closed = asyncio.Event()
        self.target_ready = asyncio.Event()
        self.wake = asyncio.Event()  # a connection found the target broken, or a fatal error
        self.fatal: str = ""
        self.lost: set[str] = set()  # uids of pods that went away (endpoints may still list them)
        self.session: Any = None  # this forward's own aiohttp session for its tunnels
        self.broken_reason = ""
        self.last_uid = ""  # the pod most recently used

    # ---------------------------------------------------------------- resolution
    async def resolve(self, first: bool) -> _Target:
        spec = self.fwd.spec
        if spec.kind == "svc":
            return await self._resolve_service()
        return await self._resolve_pod(first)

    def _target_of(self, pod: Mapping[str, Any], port: int) -> _Target:
        meta = _meta(pod)
        return _Target(pod=str(meta.get("name", "")), uid=str(meta.get("uid", "")), port=port,
                       owner=controller_of(pod))

    async def _resolve_pod(self, first: bool) -> _Target:
        spec = self.fwd.spec
        ns = spec.namespace
        pod: dict[str, Any] | None
        try:
            # re-resolving: the pod we used may be back under its name (a StatefulSet's is)
            pod = await _get_pod(self.client, ns, spec.name if first else (self.fwd.pod or spec.name))
        except NotFound:
            pod = None
        if first:
            if pod is None:
                raise NotFound(f"port-forward: pod {ns}/{spec.name} not found")
            if not pod_running(pod):
                why = "being deleted" if _meta(pod).get("deletionTimestamp") else f"phase {pod_phase(pod)}"
                raise PodNotRunning(f"port-forward: pod {ns}/{spec.name} is not running ({why})")
            self.owner = controller_of(pod)
            return self._target_of(pod, container_port(pod, spec.remote_port))
        if pod is not None and str(_meta(pod).get("uid")) not in self.lost:
            same = str(_meta(pod).get("uid")) == self.last_uid  # only the tunnel broke: keep the pod
            if pod_running(pod) and (same or self.owner is None) or pod_ready(pod):
                return self._target_of(pod, container_port(pod, spec.remote_port))
        if self.owner is None:
            if pod is None:
                raise _Fatal("pod gone")
            if pod_phase(pod) in ("Succeeded", "Failed"):
                raise _Fatal(f"pod terminated (phase {pod_phase(pod)})")
            raise PodNotRunning(f"pod {ns}/{pod['metadata'].get('name')} is not running ({pod_phase(pod)})")
        try:
            pods, label = await _owner_pods(self.client, ns, self.owner)
        except PodGone as exc:
            raise _Fatal(str(exc)) from None
        pods = [p for p in pods if str(_meta(p).get("uid")) not in self.lost]
        chosen = _pick(pods, self.owner[2])
        if chosen is None:
            raise NoReadyPod(f"waiting for a ready pod of {label}")
        return self._target_of(chosen, container_port(chosen, spec.remote_port))

    async def _resolve_service(self) -> _Target:
        spec = self.fwd.spec
        ns = spec.namespace
        try:
            svc = await _get_json(self.client, f"/api/v1/namespaces/{ns}/services/{spec.name}",
                                  what=f"service {ns}/{spec.name}")
        except NotFound:
            if self.target is None and self.fwd.state == ForwardState.STARTING:
                raise NotFound(f"port-forward: service {ns}/{spec.name} not found") from None
            raise _Fatal("service gone") from None
        sport = None
        for p in (svc.get("spec") or {}).get("ports") or []:
            if (p.get("protocol") or "TCP") != "TCP":
                continue
            if spec.remote_port in (p.get("port"), p.get("name")):
                sport = p
                break
        if sport is None:
            raise InvalidInput(f"port-forward: service {ns}/{spec.name} has no TCP port {spec.remote_port!r}")
        target_port = sport.get("targetPort", sport.get("port"))
        if isinstance(target_port, str) and target_port.isdigit():
            target_port = int(target_port)
        names = await self._service_pods(svc)
        last_error: TamerError | None = None
        for name in names:
            try:
                pod = await _get_pod(self.client, ns, name)
            except NotFound:
                continue
            if not pod_ready(pod) or str(_meta(pod).get("uid")) in self.lost:
                continue
            try:
                target = self._target_of(pod, container_port(pod, target_port))
                return replace(target, service_port=int(sport.get("port") or 0))
            except InvalidInput as exc:
                last_error = exc
        if last_error is not None:
            raise last_error
        raise NoReadyPod(f"service {ns}/{spec.name} has no ready pod")

    async def _service_pods(self, svc: Mapping[str, Any]) -> list[str]:
        """Names of the ready pods behind a service: EndpointSlices, else Endpoints, else its selector."""
        ns = self.fwd.spec.namespace
        name = str(_meta(svc).get("name", ""))
        names: list[str] = []
        try:
            data = await _get_json(self.client, f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
                                   params={"labelSelector": f"kubernetes.io/service-name={name}"},
                                   what=f"endpointslices of {ns}/{name}")
            for sl in data.get("items") or []:
                for ep in sl.get("endpoints") or []:
                    ref = ep.get("targetRef") or {}
                    if ref.get("kind") == "Pod" and (ep.get("conditions") or {}).get("ready", True) is not False:
                        names.append(str(ref.get("name")))
        except TamerError:
            with contextlib.suppress(TamerError):
                eps = await _get_json(self.client, f"/api/v1/namespaces/{ns}/endpoints/{name}",
                                      what=f"endpoints of {ns}/{name}")
                for subset in eps.get("subsets") or []:
                    for addr in subset.get("addresses") or []:
                        ref = addr.get("targetRef") or {}
                        if ref.get("kind") == "Pod":
                            names.append(str(ref.get("name")))
        selector = (svc.get("spec") or {}).get("selector")
        if selector:
            # the selector also covers pods the endpoints controller has not caught up with yet
            with contextlib.suppress(TamerError):
                data = await _get_json(self.client, f"/api/v1/namespaces/{ns}/pods",
                                       params={"labelSelector": selector_string(selector)},
                                       what=f"pods of service {ns}/{name}")
                extra = sorted(str(_meta(p).get("name")) for p in data.get("items") or [] if pod_ready(p))
                names.extend(n for n in extra if n not in names)
        return list(dict.fromkeys(names))

    # ---------------------------------------------------------------- lifecycle
    async def open_session(self) -> None:
        """The forward's own HTTP session: tunnels never compete with the UI's API requests, and
        there is no limit on concurrent connections."""
        import aiohttp

        ssl_ctx = await asyncio.to_thread(self.client.config.ssl_context)
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl_ctx, limit=0, force_close=True))

    async def close_session(self) -> None:
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.close()
            self.session = None

    async def listen(self) -> None:
        spec = self.fwd.spec
        assert self.target is not None
        port = spec.local_port if spec.local_port is not None else (self.target.service_port or self.target.port)
        address = "127.0.0.1" if spec.address == "localhost" else spec.address
        await self.bind(address, port)

    async def bind(self, address: str, port: int) -> None:
        try:
            self.server = await asyncio.start_server(self._on_client, host=address, port=port, limit=READ_LIMIT,
                                                     reuse_address=True)
        except OSError as exc:
            where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port-forward: local port {where} is already in use") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise PermissionDenied(f"port-forward: not allowed to listen on {where} ({exc.strerror})") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise InvalidInput(f"port-forward: {address} is not a local address") from None
            raise InvalidInput(f"port-forward: cannot listen on {where}: {exc.strerror or exc}") from None
        sockname = self.server.sockets[0].getsockname()
        self.fwd.local_address, self.fwd.local_port = str(sockname[0]), int(sockname[1])

    def set_target(self, target: _Target) -> None:
        moved = self.fwd.pod and self.fwd.pod != target.pod
        if self.target is None and self.fwd.state == ForwardState.RECONNECTING or moved:
            self.fwd.reconnects += 1
        self.target = target
        self.last_uid = target.uid
        if target.owner is not None:
            self.owner = target.owner
        self.fwd.pod, self.fwd.remote_port = target.pod, target.port
        self.fwd.state, self.fwd.reason = ForwardState.ACTIVE, ""
        self.target_ready.set()
        self.manager._notify(self.fwd)

    def clear_target(self, reason: str) -> None:
        self.target = None
        self.target_ready.clear()
        if self.fwd.state != ForwardState.FAILED:
            self.fwd.state, self.fwd.reason = ForwardState.RECONNECTING, reason
            self.manager._notify(self.fwd)

    def start_supervisor(self) -> None:
        self.supervisor = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"{TASK_PREFIX}:{self.fwd.id}:supervisor")

    async def _supervise(self) -> None:
        backoff = BACKOFF_MIN
        try:
            while not self.closing:
                if self.fatal:
                    raise _Fatal(self.fatal)
                target = self.target
                if target is None:
                    try:
                        self.set_target(await self.resolve(first=False))
                    except _Fatal:
                        raise
                    except TamerError as exc:
                        if self.fwd.reason != str(exc):
                            self.fwd.reason = str(exc)
                            self.manager._notify(self.fwd)
                        await self._pause(backoff)
                        backoff = min(BACKOFF_MAX, backoff * 2)
                    continue
                reason = await self._watch(target)
                if self.fatal:
                    raise _Fatal(self.fatal)
                if reason.startswith("pod "):
                    self.lost.add(target.uid)
                    backoff = BACKOFF_MIN
                self.clear_target(reason)
                if not reason.startswith("pod "):
                    await self._pause(backoff)
                    backoff = min(BACKOFF_MAX, backoff * 2)
        except _Fatal as exc:
            await self.shutdown(ForwardState.FAILED, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - never die silently: the forward shows why
            log.exception("port-forward %s supervisor crashed", self.fwd.spec.describe())
            await self.shutdown(ForwardState.FAILED, f"internal error: {exc}")

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)
        self.wake.clear()

    async def _watch(self, target: _Target) -> str:
        """Wait until ``target`` goes away (returns why) or a connection reports a broken tunnel."""
        watcher = asyncio.get_running_loop().create_task(self._watch_pod(target),
                                                         name=f"{TASK_PREFIX}:{self.fwd.id}:watch")
        waker = asyncio.get_running_loop().create_task(self.wake.wait(), name=f"{TASK_PREFIX}:{self.fwd.id}:wake")
        try:
            await asyncio.wait({watcher, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (watcher, waker):
                t.cancel()
            await asyncio.gather(watcher, waker, return_exceptions=True)
        if watcher.done() and not watcher.cancelled() and watcher.exception() is None:
            return watcher.result()
        self.wake.clear()
        return self.broken_reason or "tunnel broken"

    async def _watch_pod(self, target: _Target) -> str:
        """Watch the target pod (from a fresh list's resourceVersion); returns why it went away."""
        ns = self.fwd.spec.namespace
        field_selector = f"metadata.name={target.pod}"
        rv = ""
        while True:
            if not rv:
                try:
                    data = await _get_json(self.client, f"/api/v1/namespaces/{ns}/pods",
                                           params={"fieldSelector": field_selector}, what=f"pod {ns}/{target.pod}")
                except TamerError as exc:
                    return f"tunnel broken: {exc}"
                items = data.get("items") or []
                gone = self._gone_reason(target, items[0] if items else None)
                if gone:
                    return gone
                rv = str(_meta(data).get("resourceVersion") or "")
            params = {"watch": "true", "fieldSelector": field_selector, "allowWatchBookmarks": "true",
                      "timeoutSeconds": 300, "resourceVersion": rv}
            try:
                stream: Any = self.client.stream_lines(f"/api/v1/namespaces/{ns}/pods", params=params,
                                                       what=f"watch pod {ns}/{target.pod}")
                async with contextlib.aclosing(stream) as lines:
                    async for line in lines:
                        try:
                            event = json.loads(line)
                        except ValueError:
                            continue
                        obj = event.get("object") or {}
                        if event.get("type") == "ERROR":  # 410 Expired and the like: list again
                            rv = ""
                            break
                        rv = str(_meta(obj).get("resourceVersion") or rv)
                        if event.get("type") == "BOOKMARK" or _meta(obj).get("name") != target.pod:
                            continue
                        gone = self._gone_reason(target, None if event.get("type") == "DELETED" else obj)
                        if gone:
                            return gone
            except TamerError:
                rv = ""
            if not rv:
                await asyncio.sleep(BACKOFF_MIN)  # never spin on a server that keeps refusing the watch

    @staticmethod
    def _gone_reason(target: _Target, pod: Mapping[str, Any] | None) -> str:
        """Why ``pod`` (the target's current object, None if deleted) can no longer be used; "" if it can."""
        if pod is None or str(_meta(pod).get("uid")) != target.uid:
            return f"pod {target.pod} deleted"
        if _meta(pod).get("deletionTimestamp"):
            return f"pod {target.pod} terminating"
        if pod_phase(pod) != "Running":
            return f"pod {target.pod} stopped running ({pod_phase(pod)})"
        return ""

    def report_broken(self, target: _Target, exc: TamerError) -> None:
        """A connection could not open a tunnel to ``target``: re-resolve (unless already moved on)."""
        if self.target is target:
            self.broken_reason = f"tunnel broken: {exc}"
            self.target = None
            self.target_ready.clear()
            self.wake.set()

    def report_fatal(self, reason: str) -> None:
        if not self.fatal:
            self.fatal = reason
            self.wake.set()

    async def shutdown(self, state: ForwardState, reason: str = "") -> None:
        """Close the listener and every connection; idempotent; returns once all is closed."""
        if self.closing:
            await self.closed.wait()
            if self.supervisor is not None and self.supervisor is not asyncio.current_task():
                await asyncio.gather(self.supervisor, return_exceptions=True)
            return
        self.closing = True
        try:
            if self.server is not None:
                self.server.close()
            for _ in range(3):  # connections accepted just before the close start their handler tasks
                await asyncio.sleep(0)
            current = asyncio.current_task()
            tasks = [t for t in self.conn_tasks if t is not current]
            if self.supervisor is not None and self.supervisor is not current:
                tasks.append(self.supervisor)
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if self.server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.server.wait_closed(), 5)
            await self.close_session()
        finally:
            self.target = None
            self.target_ready.set()  # wake waiting connections (they see closing)
            self.fwd.state, self.fwd.reason = state, reason
            self.fwd.connections = 0
            self.fwd.stopped_monotonic = time.monotonic()
            self.closed.set()
            self.manager._notify(self.fwd)

    # ---------------------------------------------------------------- connections
    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self.closing or task is None:
            writer.close()
            return
        task.set_name(f"{TASK_PREFIX}:{self.fwd.id}:conn")
        self.conn_tasks.add(task)
        fwd = self.fwd
        fwd.connections += 1
        fwd.total_connections += 1
        self.manager._notify(fwd)
        ws: Any = None
        try:
            with contextlib.suppress(OSError):
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            opened = await self._open_tunnel()
            if opened is None:
                return
            ws, target = opened
            error = await self._splice(reader, writer, ws)
            if error:
                fwd.errors += 1
                fwd.last_error = f"{target.pod}:{target.port}: {error}"
                self.manager._notify(fwd)
        except (ConnectionError, OSError) as exc:
            log.debug("port-forward connection ended: %s", exc)
        except asyncio.CancelledError:
            # only shutdown() cancels these tasks; asyncio's stream callback would log a cancelled
            # handler task as an error, so end normally once everything is closed below
            task.uncancel()
        except Exception as exc:  # noqa: BLE001 - one broken connection must not surface as a loop error
            log.debug("port-forward connection failed", exc_info=True)
            fwd.errors += 1
            fwd.last_error = f"connection failed: {exc}"
        finally:
            if ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 2)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)
            self.conn_tasks.discard(task)
            if not self.closing:
                fwd.connections = max(0, fwd.connections - 1)
                self.manager._notify(fwd)

    async def _open_tunnel(self) -> tuple[Any, _Target] | None:
        from tamer_tui.core.kube.client import Forbidden, Unauthorized

        fwd = self.fwd
        ns = fwd.spec.namespace
        for _attempt in range(4):
            if not self.target_ready.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.target_ready.wait(), self.manager.connect_wait)
            target = self.target
            if self.closing:
                return None
            if target is None:
                fwd.errors += 1
                fwd.last_error = f"connection dropped: no pod to forward to ({fwd.reason or 'reconnecting'})"
                self.manager._notify(fwd)
                return None
            try:
                ws = await self.client.ws_connect(f"/api/v1/namespaces/{ns}/pods/{target.pod}/portforward",
                                                  {"ports": target.port}, PORT_FORWARD_PROTOCOLS,
                                                  what=f"port-forward to pod {ns}/{target.pod}", session=self.session)
            except (Forbidden, Unauthorized) as exc:
                fwd.errors += 1
                fwd.last_error = str(exc)
                self.report_fatal(str(exc))
                return None
            except TamerError as exc:
                self.report_broken(target, exc)
                continue
            return ws, target
        fwd.errors += 1
        fwd.last_error = f"connection dropped: could not open a tunnel ({fwd.reason or 'retries exhausted'})"
        self.manager._notify(fwd)
        return None

    async def _splice(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ws: Any) -> str:
        """Copy both ways until one side ends; returns the error-channel message, if any."""
        loop = asyncio.get_running_loop()
        progress = [0]
        up = loop.create_task(self._pump_up(reader, ws), name=f"{TASK_PREFIX}:{self.fwd.id}:up")
        down = loop.create_task(self._pump_down(ws, writer, progress), name=f"{TASK_PREFIX}:{self.fwd.id}:down")
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if up.done() and not down.done() and not up.cancelled() and up.exception() is None:
                # the local client finished sending: the WebSocket cannot half-close, so keep the
                # answer flowing until the pod side ends or stays quiet for `linger` seconds
                while not down.done():
                    before = progress[0]
                    await asyncio.wait({down}, timeout=self.manager.linger)
                    if progress[0] == before:
                        break
        finally:
            for t in (up, down):
                t.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
        if down.done() and not down.cancelled() and down.exception() is None:
            return down.result()
        return ""

    async def _pump_up(self, reader: asyncio.StreamReader, ws: Any) -> None:
        fwd = self.fwd
        send = ws.send_bytes
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return
            await send(b"\x00" + data)  # channel 0; send_bytes drains once aiohttp's buffer is full
            fwd.bytes_out += len(data)

    async def _pump_down(self, ws: Any, writer: asyncio.StreamWriter, progress: list[int]) -> str:
        """Pod -> local. Messages already received are written together (one send instead of one
        per 32 KiB frame), then the local socket is drained before anything more is read."""
        from aiohttp import WSMsgType

        fwd = self.fwd
        prefix_left = {0: 2, 1: 2}
        # aiohttp's queue of received messages (public in its Cython class); without it: no batching
        ready: Any = getattr(getattr(ws, "_reader", None), "_buffer", None)
        if not hasattr(ready, "__len__"):
            ready = ()
        batch: list[memoryview] = []
        size = 0
        try:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.BINARY:
                    raw = msg.data
                elif msg.type == WSMsgType.TEXT:
                    raw = msg.data.encode("latin-1", "replace")
                else:  # CLOSE / CLOSING / CLOSED / ERROR
                    return ""
                if not raw:
                    continue
                channel = raw[0]
                view = memoryview(raw)[1:]
                skip = prefix_left.get(channel, 0)
                if skip:
                    prefix_left[channel] = max(0, skip - len(view))
                    view = view[skip:]
                if channel == 0:
                    if view:
                        batch.append(view)
                        size += len(view)
                    if batch and (size >= COALESCE or not len(ready)):
                        writer.write(b"".join(batch) if len(batch) > 1 else batch[0])
                        batch.clear()
                        fwd.bytes_in += size
                        progress[0] += size
                        size = 0
                        await writer.drain()
                elif channel == 1 and view:
                    # the kubelet reports a failure in one frame: this connection is over, the forward is not
                    return bytes(view).decode("utf-8", "replace").strip()
        finally:
            if batch and not writer.is_closing():
                writer.write(b"".join(batch))
                fwd.bytes_in += size

# --------------------------------------------------------------------------- manager


class PortForwardManager:
    """All port-forwards of a session.

    ``clients`` maps a context name to its :class:`KubeClient` (``KubeManager.client`` fits).
    Subscribe with :meth:`subscribe` (or pass ``on_change``): listeners are called on the loop with
    the changed :class:`PortForward` on every state, pod or connection-count change (not on byte
    counters: render those on a timer).
    """

    def __init__(self, clients: ClientFactory, *, on_change: Listener | None = None,
                 connect_wait: float = 10.0, linger: float = 1.0) -> None:
        self._clients = clients
        self._listeners: list[Listener] = [on_change] if on_change else []
        self._forwards: dict[int, PortForward] = {}
        self._runners: dict[int, _Forwarder] = {}
        self._ids = itertools.count(1)
        self._starting: set[int] = set()
        self._stop_requested: set[int] = set()
        self.connect_wait = connect_wait
        self.linger = linger

    # ---------------------------------------------------------------- queries
    def list(self) -> list[PortForward]:
        """Every forward (running, failed, stopped) in start order."""
        return [self._forwards[i] for i in sorted(self._forwards)]

    def active(self) -> builtins.list[PortForward]:
        """Forwards that still listen."""
        return [f for f in self.list() if f.running]

    def get(self, forward_id: int) -> PortForward | None:
        return self._forwards.get(forward_id)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(forward)`` on every change; returns the function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, fwd: PortForward) -> None:
        for listener in list(self._listeners):
            try:
                listener(fwd)
            except Exception:  # noqa: BLE001 - a broken listener must not break forwarding
                log.exception("port-forward listener failed")

    # ---------------------------------------------------------------- actions
    async def start(self, spec: PortForwardSpec, *, forward_id: int | None = None,
                    local_port: int | None = None) -> PortForward:
        """Resolve the target, check permission, listen, and return the live :class:`PortForward`.

        Raises a :class:`TamerError` (:class:`PortInUse`, :class:`PodNotRunning`, ``Forbidden``,
        :class:`NotFound`, :class:`InvalidInput`, :class:`RuntimeUnavailable` ...) when the forward
        cannot start; it is then listed as ``failed`` with that reason, and nothing stays open.
        """
        spec.validate()
        fid = forward_id if forward_id is not None else next(self._ids)
        fwd = PortForward(id=fid, spec=spec, local_address=spec.address, local_port=spec.local_port or 0)
        self._forwards[fid] = fwd
        self._starting.add(fid)
        self._notify(fwd)
        runner: _Forwarder | None = None
        try:
            client = await self._clients(spec.context)
            runner = _Forwarder(self, fwd, client)
            target = await runner.resolve(first=True)
            await _forbidden_check(client, spec.namespace, target.pod)
            runner.target = target
            await runner.open_session()
            if local_port is not None:
                try:
                    await runner.bind("127.0.0.1" if spec.address == "localhost" else spec.address, local_port)
                except PortInUse:
                    await runner.listen()
            else:
                await runner.listen()
        except BaseException as exc:
            self._starting.discard(fid)
            self._stop_requested.discard(fid)
            if runner is not None:
                await asyncio.shield(self._abort_start(runner))
            if isinstance(exc, _Fatal):
                self._fail_start(fwd, str(exc))
                raise NotFound(f"port-forward {spec.describe()}: {exc}") from None
            self._fail_start(fwd, "cancelled" if isinstance(exc, asyncio.CancelledError) else str(exc))
            raise
        self._starting.discard(fid)
        if fid in self._stop_requested:  # stop() was called while it was starting
            self._stop_requested.discard(fid)
            await self._abort_start(runner)
            fwd.state, fwd.stopped_monotonic = ForwardState.STOPPED, time.monotonic()
            self._notify(fwd)
            return fwd
        self._runners[fid] = runner
        runner.set_target(target)
        runner.start_supervisor()
        return fwd

    @staticmethod
    async def _abort_start(runner: _Forwarder) -> None:
        if runner.server is not None:
            runner.server.close()
            await runner.server.wait_closed()
        await runner.close_session()

    def _fail_start(self, fwd: PortForward, reason: str) -> None:
        fwd.state, fwd.reason = ForwardState.FAILED, reason
        fwd.stopped_monotonic = time.monotonic()
        self._notify(fwd)

    async def stop(self, forward: PortForward | int) -> None:
        """Stop one forward: listener closed, connections closed, its tasks finished.

        A forward still starting is stopped as soon as its :meth:`start` has got that far (which then
        returns it ``stopped``); a failed or stopped one is left as it is.
        """
        fid = forward if isinstance(forward, int) else forward.id
        if fid in self._starting:
            self._stop_requested.add(fid)
            return
        runner = self._runners.pop(fid, None)
        if runner is not None:
            await runner.shutdown(ForwardState.STOPPED)

    async def stop_many(self, forwards: Iterable[PortForward | int]) -> None:
        """Stop several forwards concurrently."""
        await asyncio.gather(*(self.stop(f) for f in list(forwards)))

    async def stop_all(self) -> None:
        """Stop every forward (call it when the app exits)."""
        await self.stop_many(list(self._runners))

    async def remove(self, forward: PortForward | int) -> None:
        """Stop a forward and drop it from :meth:`list`."""
        fid = forward if isinstance(forward, int) else forward.id
        await self.stop(fid)
        self._forwards.pop(fid, None)

    async def restart(self, forward: PortForward | int) -> PortForward:
        """Start a stopped or failed forward again under the same id (the same local port if free)."""
        fid = forward if isinstance(forward, int) else forward.id
        old = self._forwards.get(fid)
        if old is None:
            raise NotFound(f"port-forward #{fid} not found")
        await self.stop(fid)
        reuse = old.local_port if old.spec.local_port == 0 and old.local_port else None
        return await self.start(old.spec, forward_id=fid, local_port=reuse)

    async def start_saved(self, entries: Iterable[Mapping[str, Any]], *, context: str | None = None,
                          autostart_only: bool = True) -> builtins.list[PortForward | TamerError]:
        """Start saved forwards (settings' ``kube.port_forwards``) of ``context`` (all contexts if None).

        One result per entry that was attempted, in order: the forward, or the error that stopped it
        (a malformed entry gives its :class:`InvalidInput`).
        """
        results: builtins.list[PortForward | TamerError] = []
        for entry in entries:
            try:
                spec = spec_from_dict(entry)
            except TamerError as exc:
                results.append(exc)
                continue
            if (context is not None and spec.context != context) or (autostart_only and not spec.autostart):
                continue
            try:
                results.append(await self.start(spec))
            except TamerError as exc:
                results.append(exc)
        return results

    async def close(self) -> None:
        """Alias of :meth:`stop_all`."""
        await self.stop_all()


__all__ = [
    "PORT_FORWARD_PROTOCOLS",
    "ForwardState",
    "NoReadyPod",
    "PodGone",
    "PodNotRunning",
    "PortForward",
    "PortForwardManager",
    "PortForwardSpec",
    "PortInUse",
    "container_port",
    "parse_forward",
    "parse_ports",
    "selector_string",
    "spec_from_dict",
    "spec_to_dict",
]

