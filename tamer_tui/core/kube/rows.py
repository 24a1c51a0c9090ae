"""Typed partial decoding of Kubernetes objects into compact rows.

Each resource has a msgspec Struct that declares only the fields its table needs; msgspec skips the
rest of the JSON without building it (10k realistic pods: 0.09 s vs 1.5 s for ``json.loads``), and a
row keeps a handful of strings and numbers instead of a 25 KB dict. Full objects are fetched on
demand for describe/YAML. ``COLUMNS[plural]`` names the cells of each row, in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from msgspec import Struct, field


# -- common pieces ------------------------------------------------------------------------------
class OwnerRef(Struct):
    kind: str = ""
    name: str = ""
    controller: bool | None = None


class Meta(Struct):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resourceVersion: str = ""
    creationTimestamp: str | None = None
    deletionTimestamp: str | None = None
    labels: dict[str, str] | None = None
    ownerReferences: list[OwnerRef] | None = None
    generation: int = 0


class ListMeta(Struct):
    resourceVersion: str = ""
    continue_: str = field(default="", name="continue")


class Status(Struct):
    code: int = 0
    reason: str = ""
    message: str = ""


# -- pods -----------------------------------------------------------------------------------------
class Resources(Struct):
    requests: dict[str, str] | None = None
    limits: dict[str, str] | None = None


class Container(Struct):
    name: str = ""
    image: str = ""
    resources: Resources | None = None


class PodSpec(Struct):
    nodeName: str = ""
    containers: list[Container] = []
    initContainers: list[Container] | None = None


class Waiting(Struct):
    reason: str = ""


class Terminated(Struct):
    reason: str = ""
    exitCode: int = 0
    signal: int = 0


class CState(Struct):
    waiting: Waiting | None = None
    running: dict[str, Any] | None = None
    terminated: Terminated | None = None


class CStatus(Struct):
    name: str = ""
    ready: bool = False
    restartCount: int = 0
    state: CState | None = None
    lastState: CState | None = None


class PodStatus(Struct):
    phase: str = ""
    reason: str = ""
    podIP: str = ""
    containerStatuses: list[CStatus] | None = None
    initContainerStatuses: list[CStatus] | None = None


class Pod(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: PodSpec = field(default_factory=PodSpec)
    status: PodStatus = field(default_factory=PodStatus)


# -- workloads --------------------------------------------------------------------------------------
class DeploySpec(Struct):
    replicas: int | None = None
    selector: dict[str, Any] | None = None
    suspend: bool | None = None
    schedule: str = ""


class DeployStatus(Struct):
    replicas: int = 0
    readyReplicas: int = 0
    updatedReplicas: int = 0
    availableReplicas: int = 0
    currentReplicas: int = 0
    numberReady: int = 0
    desiredNumberScheduled: int = 0
    currentNumberScheduled: int = 0
    updatedNumberScheduled: int = 0
    numberAvailable: int = 0
    succeeded: int = 0
    failed: int = 0
    active: Any = None
    lastScheduleTime: str | None = None
    completionTime: str | None = None


class JobSpec(Struct):
    completions: int | None = None


class Workload(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: DeploySpec = field(default_factory=DeploySpec)
    status: DeployStatus = field(default_factory=DeployStatus)


class Job(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: JobSpec = field(default_factory=JobSpec)
    status: DeployStatus = field(default_factory=DeployStatus)


# -- networking -----------------------------------------------------------------------------------
class SvcPort(Struct):
    port: int = 0
    protocol: str = "TCP"
    nodePort: int | None = None
    name: str = ""


class SvcSpec(Struct):
    type: str = "ClusterIP"
    clusterIP: str = ""
    ports: list[SvcPort] | None = None
    externalIPs: list[str] | None = None
    selector: dict[str, str] | None = None


class LBIngress(Struct):
    ip: str = ""
    hostname: str = ""


class LBStatus(Struct):
    ingress: list[LBIngress] | None = None


class SvcStatus(Struct):
    loadBalancer: LBStatus | None = None


class Service(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: SvcSpec = field(default_factory=SvcSpec)
    status: SvcStatus = field(default_factory=SvcStatus)


class IngRule(Struct):
    host: str = ""


class IngSpec(Struct):
    ingressClassName: str = ""
    rules: list[IngRule] | None = None


class Ingress(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: IngSpec = field(default_factory=IngSpec)
    status: SvcStatus = field(default_factory=SvcStatus)


# -- config and storage ----------------------------------------------------------------------------
class DataObject(Struct):
    metadata: Meta = field(default_factory=Meta)
    data: dict[str, Any] | None = None
    type: str = ""


class PVSpec(Struct):
    capacity: dict[str, str] | None = None
    accessModes: list[str] | None = None
    persistentVolumeReclaimPolicy: str = ""
    storageClassName: str = ""
    claimRef: dict[str, Any] | None = None
    volumeName: str = ""
    resources: Resources | None = None


class PVStatus(Struct):
    phase: str = ""
    capacity: dict[str, str] | None = None


class Volume(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: PVSpec = field(default_factory=PVSpec)
    status: PVStatus = field(default_factory=PVStatus)


class StorageClass(Struct):
    metadata: Meta = field(default_factory=Meta)
    provisioner: str = ""
    reclaimPolicy: str = ""
    volumeBindingMode: str = ""


# -- cluster --------------------------------------------------------------------------------------
class Taint(Struct):
    key: str = ""
    effect: str = ""


class NodeSpec(Struct):
    unschedulable: bool = False
    taints: list[Taint] | None = None


class Condition(Struct):
    type: str = ""
    status: str = ""
    reason: str = ""
    message: str = ""


class NodeInfo(Struct):
    kubeletVersion: str = ""


class Address(Struct):
    type: str = ""
    address: str = ""


class NodeStatus(Struct):
    conditions: list[Condition] | None = None
    capacity: dict[str, str] | None = None
    allocatable: dict[str, str] | None = None
    nodeInfo: NodeInfo = field(default_factory=NodeInfo)
    addresses: list[Address] | None = None


class Node(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: NodeSpec = field(default_factory=NodeSpec)
    status: NodeStatus = field(default_factory=NodeStatus)


class NsStatus(Struct):
    phase: str = ""


class Namespace(Struct):
    metadata: Meta = field(default_factory=Meta)
    status: NsStatus = field(default_factory=NsStatus)


class Involved(Struct):
    kind: str = ""
    name: str = ""
    namespace: str = ""


class EventSource(Struct):
    component: str = ""


class Event(Struct):
    metadata: Meta = field(default_factory=Meta)
    type: str = ""
    reason: str = ""
    message: str = ""
    count: int | None = None
    involvedObject: Involved = field(default_factory=Involved)
    lastTimestamp: str | None = None
    eventTime: str | None = None
    firstTimestamp: str | None = None
    source: EventSource | None = None


class Generic(Struct):
    metadata: Meta = field(default_factory=Meta)


class CRDNames(Struct):
    kind: str = ""
    plural: str = ""


class CRDSpec(Struct):
    group: str = ""
    scope: str = ""
    names: CRDNames = field(default_factory=CRDNames)


class CRD(Struct):
    metadata: Meta = field(default_factory=Meta)
    spec: CRDSpec = field(default_factory=CRDSpec)


# -- rows -----------------------------------------------------------------------------------------
Cell = str | int | float


@dataclass(frozen=True, slots=True)
class KubeRow:
    """One object as a table row: identity plus the cells of ``COLUMNS[resource]``."""

    context: str
    resource: str
    namespace: str
    name: str
    uid: str
    created: float
    cells: tuple[Cell, ...]
    faulty: bool = False
    owner: str = ""  # Kind/name of the controller
    node: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    resource_version: str = ""
    search: str = ""  # what the / filter searches: namespace, name and cells, one per line, lower-case

    @property
    def key(self) -> str:
        return f"{self.context}/{self.namespace}/{self.name}"

    @property
    def runtime(self) -> str:  # RowStore groups rows by source
        return self.context

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def parse_ts(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


_QTY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_BIN = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6}
_DEC = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def quantity(value: str | None) -> float:
    """Kubernetes quantity to a float in base units (cores for CPU, bytes for memory)."""
    if not value:
        return 0.0
    m = _QTY.match(str(value).strip())
    if not m:
        return 0.0
    num, suffix = float(m.group(1)), m.group(2)
    if suffix in _BIN:
        return num * _BIN[suffix]
    return num * _DEC.get(suffix, 1.0)


def _common(ctx: str, resource: str, meta: Meta, cells: tuple[Cell, ...], faulty: bool = False,
            node: str = "") -> KubeRow:
    owner = ""
    for ref in meta.ownerReferences or ():
        if ref.controller or not owner:
            owner = f"{ref.kind}/{ref.name}"
    return KubeRow(
        context=ctx,
        resource=resource,
        namespace=meta.namespace,
        name=meta.name,
        uid=meta.uid,
        created=parse_ts(meta.creationTimestamp),
        cells=cells,
        faulty=faulty,
        owner=owner,
        node=node,
        labels=tuple(sorted((meta.labels or {}).items())),
        resource_version=meta.resourceVersion,
        search="\n".join((meta.namespace, meta.name, *map(str, cells))).lower(),
    )


def pod_status(p: Pod) -> str:
    """The STATUS column the way kubectl prints it."""
    if p.metadata.deletionTimestamp:
        return "Terminating"
    reason = p.status.reason or p.status.phase or "Unknown"
    for i, cs in enumerate(p.status.initContainerStatuses or ()):
        st = cs.state
        if st and st.terminated and st.terminated.exitCode == 0:
            continue
        if st and st.terminated:
            return f"Init:{st.terminated.reason or 'Error'}"
        if st and st.waiting and st.waiting.reason and st.waiting.reason != "PodInitializing":
            return f"Init:{st.waiting.reason}"
        return f"Init:{i}/{len(p.spec.initContainers or ())}"
    running = False
    for cs in reversed(p.status.containerStatuses or ()):
        st = cs.state
        if st and st.waiting and st.waiting.reason:
            reason = st.waiting.reason
        elif st and st.terminated and st.terminated.reason:
            reason = st.terminated.reason
        elif st and st.terminated:
            reason = f"Signal:{st.terminated.signal}" if st.terminated.signal else f"ExitCode:{st.terminated.exitCode}"
        elif st and st.running is not None and cs.ready:
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    return reason


_OK_POD = frozenset({"Running", "Completed", "Succeeded"})


def pod_row(ctx: str, p: Pod) -> KubeRow:
    statuses = p.status.containerStatuses or []
    ready = sum(1 for c in statuses if c.ready)
    total = len(p.spec.containers) or len(statuses)
    restarts = sum(c.restartCount for c in statuses)
    status = pod_status(p)
    cpu_req = sum(quantity((c.resources.requests or {}).get("cpu")) for c in p.spec.containers if c.resources)
    cpu_lim = sum(quantity((c.resources.limits or {}).get("cpu")) for c in p.spec.containers if c.resources)
    mem_req = sum(quantity((c.resources.requests or {}).get("memory")) for c in p.spec.containers if c.resources)
    mem_lim = sum(quantity((c.resources.limits or {}).get("memory")) for c in p.spec.containers if c.resources)
    faulty = status not in _OK_POD or (status == "Running" and ready < total)
    cells: tuple[Cell, ...] = (
        f"{ready}/{total}", status, restarts, p.status.podIP or "<none>", p.spec.nodeName or "<none>",
        cpu_req, cpu_lim, mem_req, mem_lim,
    )
    return _common(ctx, "pods", p.metadata, cells, faulty, node=p.spec.nodeName)


def deployment_row(ctx: str, d: Workload) -> KubeRow:
    want = d.spec.replicas if d.spec.replicas is not None else 1
    s = d.status
    return _common(ctx, "deployments", d.metadata, (f"{s.readyReplicas}/{want}", s.updatedReplicas,
                                                     s.availableReplicas), faulty=s.readyReplicas < want)


def replicaset_row(ctx: str, d: Workload) -> KubeRow:
    want = d.spec.replicas if d.spec.replicas is not None else 1
    s = d.status
    return _common(ctx, "replicasets", d.metadata, (want, s.replicas, s.readyReplicas), faulty=s.readyReplicas < want)


def statefulset_row(ctx: str, d: Workload) -> KubeRow:
    want = d.spec.replicas if d.spec.replicas is not None else 1
    s = d.status
    return _common(ctx, "statefulsets", d.metadata, (f"{s.readyReplicas}/{want}",), faulty=s.readyReplicas < want)


def daemonset_row(ctx: str, d: Workload) -> KubeRow:
    s = d.status
    return _common(ctx, "daemonsets", d.metadata, (s.desiredNumberScheduled, s.currentNumberScheduled,
                                                    s.numberReady, s.updatedNumberScheduled, s.numberAvailable),
                   faulty=s.numberReady < s.desiredNumberScheduled)


def job_row(ctx: str, j: Job) -> KubeRow:
    want = j.spec.completions if j.spec.completions is not None else 1
    s = j.status
    status = "Complete" if j.status.completionTime else ("Failed" if s.failed and not s.active else "Running")
    return _common(ctx, "jobs", j.metadata, (status, f"{s.succeeded}/{want}", s.failed),
                   faulty=status == "Failed")


def cronjob_row(ctx: str, c: Workload) -> KubeRow:
    active = len(c.status.active) if isinstance(c.status.active, list) else 0
    last = parse_ts(c.status.lastScheduleTime)
    return _common(ctx, "cronjobs", c.metadata, (c.spec.schedule, "True" if c.spec.suspend else "False", active,
                                                  last))


def service_row(ctx: str, s: Service) -> KubeRow:
    ports = ",".join(
        f"{p.port}:{p.nodePort}/{p.protocol}" if p.nodePort else f"{p.port}/{p.protocol}" for p in s.spec.ports or ()
    ) or "<none>"
    lb = [i.ip or i.hostname for i in ((s.status.loadBalancer.ingress if s.status.loadBalancer else None) or ())]
    external = ",".join(lb or (s.spec.externalIPs or [])) or ("<pending>" if s.spec.type == "LoadBalancer" else "<none>")
    return _common(ctx, "services", s.metadata, (s.spec.type, s.spec.clusterIP or "<none>", external, ports))


def ingress_row(ctx: str, i: Ingress) -> KubeRow:
    hosts = ",".join(r.host or "*" for r in i.spec.rules or ()) or "*"
    lb = [x.ip or x.hostname for x in ((i.status.loadBalancer.ingress if i.status.loadBalancer else None) or ())]
    return _common(ctx, "ingresses", i.metadata, (i.spec.ingressClassName or "<none>", hosts, ",".join(lb)))


def configmap_row(ctx: str, c: DataObject) -> KubeRow:
    return _common(ctx, "configmaps", c.metadata, (len(c.data or {}),))


def secret_row(ctx: str, c: DataObject) -> KubeRow:
    return _common(ctx, "secrets", c.metadata, (c.type or "Opaque", len(c.data or {})))


def pv_row(ctx: str, v: Volume) -> KubeRow:
    claim = v.spec.claimRef or {}
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    return _common(ctx, "persistentvolumes", v.metadata, (
        (v.spec.capacity or {}).get("storage", ""), ",".join(_modes(v.spec.accessModes)),
        v.spec.persistentVolumeReclaimPolicy, v.status.phase, claim_text, v.spec.storageClassName),
        faulty=v.status.phase == "Failed")


def pvc_row(ctx: str, v: Volume) -> KubeRow:
    return _common(ctx, "persistentvolumeclaims", v.metadata, (
        v.status.phase, v.spec.volumeName, (v.status.capacity or {}).get("storage", ""),
        ",".join(_modes(v.spec.accessModes)), v.spec.storageClassName), faulty=v.status.phase not in ("Bound",))


def storageclass_row(ctx: str, s: StorageClass) -> KubeRow:
    return _common(ctx, "storageclasses", s.metadata, (s.provisioner, s.reclaimPolicy, s.volumeBindingMode))


def _modes(modes: list[str] | None) -> list[str]:
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return [short.get(m, m) for m in modes or ()]


def node_status_text(n: Node) -> str:
    ready = "Unknown"
    for c in n.status.conditions or ():
        if c.type == "Ready":
            ready = "Ready" if c.status == "True" else "NotReady"
    if n.spec.unschedulable:
        ready += ",SchedulingDisabled"
    return ready


def node_roles(n: Node) -> str:
    roles = sorted(k.split("/", 1)[1] for k in (n.metadata.labels or {}) if k.startswith("node-role.kubernetes.io/"))
    return ",".join(r for r in roles if r) or "<none>"


def node_row(ctx: str, n: Node) -> KubeRow:
    status = node_status_text(n)
    pressure = [c.type for c in n.status.conditions or () if c.type.endswith("Pressure") and c.status == "True"]
    alloc = n.status.allocatable or {}
    return _common(ctx, "nodes", n.metadata, (
        status, node_roles(n), n.status.nodeInfo.kubeletVersion, ",".join(pressure) or "-",
        quantity(alloc.get("cpu")), quantity(alloc.get("memory")), len(n.spec.taints or ())),
        faulty=not status.startswith("Ready") or bool(pressure))


def namespace_row(ctx: str, n: Namespace) -> KubeRow:
    return _common(ctx, "namespaces", n.metadata, (n.status.phase or "Active",),
                   faulty=n.status.phase == "Terminating")


def event_row(ctx: str, e: Event) -> KubeRow:
    last = parse_ts(e.lastTimestamp or e.eventTime or e.firstTimestamp) or parse_ts(e.metadata.creationTimestamp)
    obj = f"{e.involvedObject.kind.lower()}/{e.involvedObject.name}"
    row = _common(ctx, "events", e.metadata, (e.type or "Normal", e.reason, obj, e.count or 1, e.message, last),
                  faulty=e.type == "Warning")
    return row


def crd_row(ctx: str, c: CRD) -> KubeRow:
    return _common(ctx, "customresourcedefinitions", c.metadata, (c.spec.group, c.spec.names.kind, c.spec.scope))


def generic_row(resource: str) -> Callable[[str, Generic], KubeRow]:
    def build(ctx: str, g: Generic) -> KubeRow:
        return _common(ctx, resource, g.metadata, ())

    return build


@dataclass(frozen=True)
class RowSpec:
    """How to decode and draw one resource: its Struct, its row builder and its column titles."""

    struct: type[Any]
    build: Callable[[str, Any], KubeRow]
    columns: tuple[str, ...]


ROW_SPECS: dict[str, RowSpec] = {
    "pods": RowSpec(Pod, pod_row, ("READY", "STATUS", "RESTARTS", "IP", "NODE", "CPU/R", "CPU/L", "MEM/R", "MEM/L")),
    "deployments": RowSpec(Workload, deployment_row, ("READY", "UP-TO-DATE", "AVAILABLE")),
    "replicasets": RowSpec(Workload, replicaset_row, ("DESIRED", "CURRENT", "READY")),
    "statefulsets": RowSpec(Workload, statefulset_row, ("READY",)),
    "daemonsets": RowSpec(Workload, daemonset_row, ("DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE")),
    "jobs": RowSpec(Job, job_row, ("STATUS", "COMPLETIONS", "FAILED")),
    "cronjobs": RowSpec(Workload, cronjob_row, ("SCHEDULE", "SUSPEND", "ACTIVE", "LAST SCHEDULE")),
    "services": RowSpec(Service, service_row, ("TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)")),
    "ingresses": RowSpec(Ingress, ingress_row, ("CLASS", "HOSTS", "ADDRESS")),
    "configmaps": RowSpec(DataObject, configmap_row, ("DATA",)),
    "secrets": RowSpec(DataObject, secret_row, ("TYPE", "DATA")),
    "persistentvolumes": RowSpec(Volume, pv_row, ("CAPACITY", "ACCESS", "RECLAIM", "STATUS", "CLAIM", "CLASS")),
    "persistentvolumeclaims": RowSpec(Volume, pvc_row, ("STATUS", "VOLUME", "CAPACITY", "ACCESS", "CLASS")),
    "storageclasses": RowSpec(StorageClass, storageclass_row, ("PROVISIONER", "RECLAIM", "BINDING")),
    "nodes": RowSpec(Node, node_row, ("STATUS", "ROLES", "VERSION", "PRESSURE", "CPU", "MEM", "TAINTS")),
    "namespaces": RowSpec(Namespace, namespace_row, ("STATUS",)),
    "events": RowSpec(Event, event_row, ("TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE", "LAST SEEN")),
    "customresourcedefinitions": RowSpec(CRD, crd_row, ("GROUP", "KIND", "SCOPE")),
}


def spec_for(resource: str) -> RowSpec:
    return ROW_SPECS.get(resource) or RowSpec(Generic, generic_row(resource), ())


# -- list and watch envelopes ------------------------------------------------------------------------
_LIST_TYPES: dict[type[Any], Any] = {}
_WATCH_TYPES: dict[type[Any], Any] = {}


def list_type(struct: type[Any]) -> Any:
    if struct not in _LIST_TYPES:
        _LIST_TYPES[struct] = msgspec.defstruct(
            f"{struct.__name__}List", [("metadata", ListMeta, field(default_factory=ListMeta)), ("items", list[struct], [])]  # type: ignore[valid-type]
        )
    return _LIST_TYPES[struct]


def watch_type(struct: type[Any]) -> Any:
    if struct not in _WATCH_TYPES:
        _WATCH_TYPES[struct] = msgspec.defstruct(
            f"{struct.__name__}Watch", [("type", str, ""), ("object", msgspec.Raw, msgspec.Raw(b"{}"))]
        )
    return _WATCH_TYPES[struct]
