"""Server-side printing: ``meta.k8s.io/v1`` Table objects for ``kubectl get``.

The columns and cell values follow the real API server's printers (pkg/printers/internalversion)
for the main types; custom resources use their CRD's ``additionalPrinterColumns``; every other
type gets ``NAME AGE``.  Pure functions; no I/O.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import Any

Row = list[Any]
Column = tuple[str, str, str, int, str]  # name, type, format, priority, description
Printer = tuple[list[Column], Callable[[dict[str, Any], float], Row]]

_NAME_DESC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. "
    "More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_AGE_DESC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC."
)
_NAME: Column = ("Name", "string", "name", 0, _NAME_DESC)
_AGE: Column = ("Age", "string", "", 0, _AGE_DESC)


def _col(name: str, typ: str = "string", priority: int = 0, fmt: str = "", desc: str = "") -> Column:
    return (name, typ, fmt, priority, desc or name)


def parse_time(ts: str | None) -> float | None:
    """Seconds since the epoch of an RFC3339 timestamp (``None`` if absent or unparsable)."""
    if not ts:
        return None
    try:
        base = ts[:19]
        return float(calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration`` (``5m``, ``3h20m``, ``12d``...)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def age(ts: str | None, now: float) -> str:
    """``Age`` cell for a timestamp (``<unknown>`` when missing)."""
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration(now - t)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _age(obj: dict[str, Any], now: float) -> str:
    return age(_meta(obj).get("creationTimestamp"), now)


def _none(value: Any) -> Any:
    return "<none>" if value in (None, "", []) else value


def _containers_images(tpl_spec: dict[str, Any]) -> tuple[str, str]:
    containers = tpl_spec.get("containers") or []
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def format_selector(sel: dict[str, Any] | None) -> str:
    """A LabelSelector as the string kubectl prints (``app=web,tier in (a,b)``)."""
    if not sel:
        return "<none>"
    parts: list[str] = []
    for k, v in sorted((sel.get("matchLabels") or {}).items()):
        parts.append(f"{k}={v}")
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        key = e.get("key", "")
        vals = ",".join(sorted(e.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({vals})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({vals})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) if parts else "<none>"


def _map_selector(sel: dict[str, Any] | None) -> str:
    if not sel:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(sel.items()))


# --------------------------------------------------------------------------- pods


def pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int, float | None]:
    """(STATUS, ready, total, restarts, last restart time) computed like kubectl's printPod."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    restarts = 0
    last_restart: float | None = None
    total = len(spec.get("containers") or [])
    ready = 0
    reason = status.get("reason") or status.get("phase") or "Unknown"
    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode')}"
            initializing = True
        elif state.get("waiting") and state["waiting"].get("reason") not in (None, "", "PodInitializing"):
            reason = "Init:" + state["waiting"]["reason"]
            initializing = True
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
            initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last = (cs.get("lastState") or {}).get("terminated")
            if last:
                t = parse_time(last.get("finishedAt"))
                if t is not None and (last_restart is None or t > last_restart):
                    last_restart = t
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            term = state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = (
                    f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
                )
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
            reason = "Running" if conds.get("Ready") == "True" else "NotReady"
    meta = _meta(pod)
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason, ready, total, restarts, last_restart


def _pod_row(pod: dict[str, Any], now: float) -> Row:
    reason, ready, total, restarts, last = pod_status(pod)
    restarts_s = str(restarts)
    if last is not None and restarts:
        restarts_s = f"{restarts} ({human_duration(now - last)} ago)"
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    gates = spec.get("readinessGates") or []
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        ok = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_s = f"{ok}/{len(gates)}"
    else:
        gates_s = "<none>"
    return [
        _meta(pod).get("name", ""),
        f"{ready}/{total}",
        reason,
        restarts_s,
        _age(pod, now),
        _none(status.get("podIP")),
        _none(spec.get("nodeName")),
        _none(status.get("nominatedNodeName")),
        gates_s,
    ]


_POD_COLS: list[Column] = [
    _NAME,
    _col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", desc="The aggregate status of the containers in this pod."),
    _col(
        "Restarts",
        desc="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    _AGE,
    _col(
        "IP",
        priority=1,
        desc="IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    _col("Node", priority=1, desc="NodeName is a request to schedule this pod onto a specific node."),
    _col(
        "Nominated Node",
        priority=1,
        desc="nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    _col(
        "Readiness Gates",
        priority=1,
        desc="If specified, all readiness gates will be evaluated for pod readiness.",
    ),
]


# --------------------------------------------------------------------------- workloads


def _deploy_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cn, im = _containers_images(((spec.get("template") or {}).get("spec")) or {})
    desired = spec.get("replicas", 1)
    return [
        _meta(o).get("name", ""),
        f"{int(st.get('readyReplicas') or 0)}/{desired}",
        int(st.get("updatedReplicas") or 0),
        int(st.get("availableReplicas") or 0),
        _age(o, now),
        cn,
        im,
        format_selector(spec.get("selector")),
    ]


_DEPLOY_COLS: list[Column] = [
    _NAME,
    _col("Ready", desc="Number of the pod with ready state"),
    _col(
        "Up-to-date",
        "string",
        desc="Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    _col(
        "Available",
        "string",
        desc="Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    _AGE,
    _col("Containers", priority=1, desc="Names of each container in the template."),
    _col("Images", priority=1, desc="Images referenced by each container in the template."),
    _col(
        "Selector",
        priority=1,
        desc="Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
]


def _rs_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cn, im = _containers_images(((spec.get("template") or {}).get("spec")) or {})
    return [
        _meta(o).get("name", ""),
        int(spec.get("replicas", 1)),
        int(st.get("replicas") or 0),
        int(st.get("readyReplicas") or 0),
        _age(o, now),
        cn,
        im,
        format_selector(spec.get("selector")),
    ]


_RS_COLS: list[Column] = [
    _NAME,
    _col("Desired", "integer", desc="Replicas is the number of desired replicas."),
    _col("Current", "integer", desc="Replicas is the most recently observed number of replicas."),
    _col("Ready", "integer", desc="The number of ready replicas for this replica set."),
    _AGE,
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


def _sts_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cn, im = _containers_images(((spec.get("template") or {}).get("spec")) or {})
    return [
        _meta(o).get("name", ""),
        f"{int(st.get('readyReplicas') or 0)}/{spec.get('replicas', 1)}",
        _age(o, now),
        cn,
        im,
    ]


_STS_COLS: list[Column] = [
    _NAME,
    _col("Ready"),
    _AGE,
    _col("Containers", priority=1),
    _col("Images", priority=1),
]


def _ds_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    tpl = (spec.get("template") or {}).get("spec") or {}
    cn, im = _containers_images(tpl)
    return [
        _meta(o).get("name", ""),
        int(st.get("desiredNumberScheduled") or 0),
        int(st.get("currentNumberScheduled") or 0),
        int(st.get("numberReady") or 0),
        int(st.get("updatedNumberScheduled") or 0),
        int(st.get("numberAvailable") or 0),
        _map_selector(tpl.get("nodeSelector")),
        _age(o, now),
        cn,
        im,
        format_selector(spec.get("selector")),
    ]


_DS_COLS: list[Column] = [
    _NAME,
    _col("Desired", "integer"),
    _col("Current", "integer"),
    _col("Ready", "integer"),
    _col("Up-to-date", "integer"),
    _col("Available", "integer"),
    _col("Node Selector"),
    _AGE,
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


def _job_status(o: dict[str, Any]) -> str:
    st = o.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    if conds.get("Complete") == "True":
        return "Complete"
    if conds.get("Failed") == "True":
        return "Failed"
    if conds.get("FailureTarget") == "True":
        return "FailureTarget"
    if conds.get("SuccessCriteriaMet") == "True":
        return "SuccessCriteriaMet"
    if (o.get("spec") or {}).get("suspend"):
        return "Suspended"
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return "Running"


def _job_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cn, im = _containers_images(((spec.get("template") or {}).get("spec")) or {})
    completions = spec.get("completions")
    succeeded = int(st.get("succeeded") or 0)
    comp = (
        f"{succeeded}/{completions}"
        if completions is not None
        else f"{succeeded}/1 of {spec.get('parallelism', 1)}"
    )
    start = parse_time(st.get("startTime"))
    end = parse_time(st.get("completionTime"))
    duration = "" if start is None else human_duration((end if end is not None else now) - start)
    return [
        _meta(o).get("name", ""),
        _job_status(o),
        comp,
        duration,
        _age(o, now),
        cn,
        im,
        format_selector(spec.get("selector")),
    ]


_JOB_COLS: list[Column] = [
    _NAME,
    _col("Status"),
    _col("Completions"),
    _col("Duration"),
    _AGE,
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


def _cj_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    tpl = ((((spec.get("jobTemplate") or {}).get("spec")) or {}).get("template") or {}).get("spec") or {}
    cn, im = _containers_images(tpl)
    last = st.get("lastScheduleTime")
    return [
        _meta(o).get("name", ""),
        spec.get("schedule", ""),
        _none(spec.get("timeZone")),
        "True" if spec.get("suspend") else "False",
        len(st.get("active") or []),
        age(last, now) if last else "<none>",
        _age(o, now),
        cn,
        im,
        "<none>",
    ]


_CJ_COLS: list[Column] = [
    _NAME,
    _col("Schedule"),
    _col("Timezone"),
    _col("Suspend", "boolean"),
    _col("Active", "integer"),
    _col("Last Schedule"),
    _AGE,
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


# --------------------------------------------------------------------------- services & co


def _svc_ports(spec: dict[str, Any]) -> str:
    out = []
    for p in spec.get("ports") or []:
        s = str(p.get("port", ""))
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) if out else "<none>"


def _svc_external(o: dict[str, Any]) -> str:
    spec = o.get("spec") or {}
    typ = spec.get("type", "ClusterIP")
    ext = list(spec.get("externalIPs") or [])
    if typ == "ExternalName":
        return spec.get("externalName") or "<none>"
    if typ == "LoadBalancer":
        ing = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ips = [i.get("ip") or i.get("hostname") for i in ing if i.get("ip") or i.get("hostname")]
        ips += ext
        return ",".join(ips) if ips else "<pending>"
    return ",".join(ext) if ext else "<none>"


def _svc_row(o: dict[str, Any], now: float) -> Row:
    spec = o.get("spec") or {}
    return [
        _meta(o).get("name", ""),
        spec.get("type", "ClusterIP"),
        _none(spec.get("clusterIP")),
        _svc_external(o),
        _svc_ports(spec),
        _age(o, now),
        _map_selector(spec.get("selector")),
    ]


_SVC_COLS: list[Column] = [
    _NAME,
    _col("Type"),
    _col("Cluster-IP"),
    _col("External-IP"),
    _col("Port(s)"),
    _AGE,
    _col("Selector", priority=1),
]


def _ep_row(o: dict[str, Any], now: float) -> Row:
    addrs: list[str] = []
    for sub in o.get("subsets") or []:
        ports = [p.get("port") for p in sub.get("ports") or []] or [None]
        for a in sub.get("addresses") or []:
            for p in ports:
                addrs.append(f"{a.get('ip')}:{p}" if p is not None else str(a.get("ip")))
    if not addrs:
        text = "<none>"
    elif len(addrs) > 3:
        text = ",".join(addrs[:3]) + f" + {len(addrs) - 3} more..."
    else:
        text = ",".join(addrs)
    return [_meta(o).get("name", ""), text, _age(o, now)]


def _node_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    ready = conds.get("Ready")
    status = "Ready" if ready == "True" else ("NotReady" if ready == "False" else "Unknown")
    if spec.get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = _meta(o).get("labels") or {}
    roles = sorted(
        {k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    roles = [r for r in roles if r]
    info = st.get("nodeInfo") or {}
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    return [
        _meta(o).get("name", ""),
        status,
        ",".join(roles) if roles else "<none>",
        _age(o, now),
        info.get("kubeletVersion", ""),
        _none(addrs.get("InternalIP")),
        _none(addrs.get("ExternalIP")),
        info.get("osImage", "<unknown>"),
        info.get("kernelVersion", "<unknown>"),
        info.get("containerRuntimeVersion", "<unknown>"),
    ]


_NODE_COLS: list[Column] = [
    _NAME,
    _col("Status"),
    _col("Roles"),
    _AGE,
    _col("Version"),
    _col("Internal-IP", priority=1),
    _col("External-IP", priority=1),
    _col("OS-Image", priority=1),
    _col("Kernel-Version", priority=1),
    _col("Container-Runtime", priority=1),
]


def _ns_row(o: dict[str, Any], now: float) -> Row:
    return [_meta(o).get("name", ""), (o.get("status") or {}).get("phase", "Active"), _age(o, now)]


def _cm_row(o: dict[str, Any], now: float) -> Row:
    return [_meta(o).get("name", ""), len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o, now)]


def _secret_row(o: dict[str, Any], now: float) -> Row:
    return [
        _meta(o).get("name", ""),
        o.get("type", "Opaque"),
        len(o.get("data") or {}) + len(o.get("stringData") or {}),
        _age(o, now),
    ]


def _sa_row(o: dict[str, Any], now: float) -> Row:
    return [_meta(o).get("name", ""), len(o.get("secrets") or []), _age(o, now)]


def _event_row(o: dict[str, Any], now: float) -> Row:
    io = o.get("involvedObject") or {}
    last = o.get("lastTimestamp") or o.get("eventTime") or _meta(o).get("creationTimestamp")
    first = o.get("firstTimestamp") or o.get("eventTime") or _meta(o).get("creationTimestamp")
    src = o.get("source") or {}
    source = src.get("component", "") + (f", {src['host']}" if src.get("host") else "")
    kind = (io.get("kind") or "").lower()
    return [
        age(last, now),
        o.get("type", ""),
        o.get("reason", ""),
        f"{kind}/{io.get('name', '')}",
        (o.get("message") or "").strip(),
        io.get("fieldPath", ""),
        source or o.get("reportingComponent", ""),
        age(first, now),
        int(o.get("count") or 1),
        _meta(o).get("name", ""),
    ]


_EVENT_COLS: list[Column] = [
    _col("Last Seen"),
    _col("Type"),
    _col("Reason"),
    _col("Object"),
    _col("Message"),
    _col("Subobject", priority=1),
    _col("Source", priority=1),
    _col("First Seen", priority=1),
    _col("Count", "integer", priority=1),
    _col("Name", priority=1, fmt="name"),
]


def _pvc_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    cap = (st.get("capacity") or {}).get("storage", "")
    return [
        _meta(o).get("name", ""),
        st.get("phase", "Pending"),
        spec.get("volumeName", ""),
        cap,
        _access_modes(st.get("accessModes") or []),
        spec.get("storageClassName", ""),
        _none(spec.get("volumeAttributesClassName")),
        _age(o, now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _access_modes(modes: list[str]) -> str:
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return ",".join(short.get(m, m) for m in modes)


def _pv_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""
    return [
        _meta(o).get("name", ""),
        (spec.get("capacity") or {}).get("storage", ""),
        _access_modes(spec.get("accessModes") or []),
        spec.get("persistentVolumeReclaimPolicy", "Retain"),
        st.get("phase", "Pending"),
        claim,
        spec.get("storageClassName", ""),
        _none(spec.get("volumeAttributesClassName")),
        st.get("reason", ""),
        _age(o, now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _sc_row(o: dict[str, Any], now: float) -> Row:
    name = _meta(o).get("name", "")
    ann = _meta(o).get("annotations") or {}
    if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return [
        name,
        o.get("provisioner", ""),
        o.get("reclaimPolicy", "Delete"),
        o.get("volumeBindingMode", "Immediate"),
        "true" if o.get("allowVolumeExpansion") else "false",
        _age(o, now),
    ]


def _ing_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    hosts = [r.get("host") for r in spec.get("rules") or [] if r.get("host")]
    lb = (st.get("loadBalancer") or {}).get("ingress") or []
    addr = ",".join(i.get("ip") or i.get("hostname") or "" for i in lb)
    ports = "80, 443" if spec.get("tls") else "80"
    return [
        _meta(o).get("name", ""),
        _none(spec.get("ingressClassName")),
        ",".join(hosts) if hosts else "*",
        addr,
        ports,
        _age(o, now),
    ]


def _lease_row(o: dict[str, Any], now: float) -> Row:
    return [_meta(o).get("name", ""), (o.get("spec") or {}).get("holderIdentity", ""), _age(o, now)]


def _created_at_row(o: dict[str, Any], now: float) -> Row:
    return [_meta(o).get("name", ""), _meta(o).get("creationTimestamp", "")]


def _rb_row(o: dict[str, Any], now: float) -> Row:
    ref = o.get("roleRef") or {}
    subjects = o.get("subjects") or []

    def names(kind: str) -> str:
        out = []
        for s in subjects:
            if s.get("kind") == kind:
                out.append(
                    f"{s.get('namespace', '')}/{s.get('name')}"
                    if kind == "ServiceAccount"
                    else s.get("name", "")
                )
        return ",".join(out)

    return [
        _meta(o).get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _age(o, now),
        names("User"),
        names("Group"),
        names("ServiceAccount"),
    ]


def _hpa_row(o: dict[str, Any], now: float) -> Row:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    return [
        _meta(o).get("name", ""),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        "<unknown>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        int(st.get("currentReplicas") or 0),
        _age(o, now),
    ]


def _generic_row(o: dict[str, Any], now: float) -> Row:
    return [_meta(o).get("name", ""), _age(o, now)]


_CREATED: list[Column] = [_NAME, ("Created At", "date", "", 0, _AGE_DESC)]

PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "pods"): (_POD_COLS, _pod_row),
    ("apps", "deployments"): (_DEPLOY_COLS, _deploy_row),
    ("apps", "replicasets"): (_RS_COLS, _rs_row),
    ("apps", "statefulsets"): (_STS_COLS, _sts_row),
    ("apps", "daemonsets"): (_DS_COLS, _ds_row),
    ("batch", "jobs"): (_JOB_COLS, _job_row),
    ("batch", "cronjobs"): (_CJ_COLS, _cj_row),
    ("", "services"): (_SVC_COLS, _svc_row),
    ("", "endpoints"): ([_NAME, _col("Endpoints"), _AGE], _ep_row),
    ("", "nodes"): (_NODE_COLS, _node_row),
    ("", "namespaces"): ([_NAME, _col("Status"), _AGE], _ns_row),
    ("", "configmaps"): ([_NAME, _col("Data", "integer"), _AGE], _cm_row),
    ("", "secrets"): ([_NAME, _col("Type"), _col("Data", "integer"), _AGE], _secret_row),
    ("", "serviceaccounts"): ([_NAME, _col("Secrets", "integer"), _AGE], _sa_row),
    ("", "events"): (_EVENT_COLS, _event_row),
    ("", "persistentvolumeclaims"): (
        [
            _NAME,
            _col("Status"),
            _col("Volume"),
            _col("Capacity"),
            _col("Access Modes"),
            _col("StorageClass"),
            _col("VolumeAttributesClass"),
            _AGE,
            _col("VolumeMode", priority=1),
        ],
        _pvc_row,
    ),
    ("", "persistentvolumes"): (
        [
            _NAME,
            _col("Capacity"),
            _col("Access Modes"),
            _col("Reclaim Policy"),
            _col("Status"),
            _col("Claim"),
            _col("StorageClass"),
            _col("VolumeAttributesClass"),
            _col("Reason"),
            _AGE,
            _col("VolumeMode", priority=1),
        ],
        _pv_row,
    ),
    ("storage.k8s.io", "storageclasses"): (
        [
            _NAME,
            _col("Provisioner"),
            _col("ReclaimPolicy"),
            _col("VolumeBindingMode"),
            _col("AllowVolumeExpansion"),
            _AGE,
        ],
        _sc_row,
    ),
    ("networking.k8s.io", "ingresses"): (
        [_NAME, _col("Class"), _col("Hosts"), _col("Address"), _col("Ports"), _AGE],
        _ing_row,
    ),
    ("coordination.k8s.io", "leases"): ([_NAME, _col("Holder"), _AGE], _lease_row),
    ("rbac.authorization.k8s.io", "roles"): (_CREATED, _created_at_row),
    ("rbac.authorization.k8s.io", "clusterroles"): (_CREATED, _created_at_row),
    ("apiextensions.k8s.io", "customresourcedefinitions"): (_CREATED, _created_at_row),
    ("rbac.authorization.k8s.io", "rolebindings"): (
        [
            _NAME,
            _col("Role"),
            _AGE,
            _col("Users", priority=1),
            _col("Groups", priority=1),
            _col("ServiceAccounts", priority=1),
        ],
        _rb_row,
    ),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): (
        [
            _NAME,
            _col("Role"),
            _AGE,
            _col("Users", priority=1),
            _col("Groups", priority=1),
            _col("ServiceAccounts", priority=1),
        ],
        _rb_row,
    ),
    ("autoscaling", "horizontalpodautoscalers"): (
        [
            _NAME,
            _col("Reference"),
            _col("Targets"),
            _col("MinPods", "integer"),
            _col("MaxPods", "integer"),
            _col("Replicas", "integer"),
            _AGE,
        ],
        _hpa_row,
    ),
}

_GENERIC: Printer = (
    [_NAME, ("Age", "date", "", 0, _AGE_DESC)],
    lambda o, now: [_meta(o).get("name", ""), _age(o, now)],
)


# --------------------------------------------------------------------------- custom resources


def _jsonpath(obj: Any, path: str) -> Any:
    """Evaluate the simple JSONPath subset CRD printer columns use (``.spec.a.b``, ``.x[0].y``)."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    path = path.lstrip("$")
    cur: Any = obj
    for raw in path.split("."):
        if not raw:
            continue
        name, _, idx = raw.partition("[")
        if name:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(name)
        while idx:
            num, _, rest = idx.partition("]")
            if not isinstance(cur, list):
                return None
            try:
                cur = cur[int(num)] if num not in ("*", "") else cur
            except (ValueError, IndexError):
                return None
            idx = rest[1:] if rest.startswith("[") else ""
    return cur


def crd_printer(crd: dict[str, Any], version: str) -> Printer:
    """Columns for a custom resource: NAME, the CRD's additionalPrinterColumns, AGE (date)."""
    cols_cfg: list[dict[str, Any]] = []
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            cols_cfg = v.get("additionalPrinterColumns") or []
    has_age = any(c.get("jsonPath") == ".metadata.creationTimestamp" for c in cols_cfg)
    columns: list[Column] = [_NAME]
    for c in cols_cfg:
        columns.append(
            (
                c.get("name", ""),
                c.get("type", "string"),
                c.get("format", ""),
                int(c.get("priority", 0)),
                c.get("description", ""),
            )
        )
    if not has_age:
        columns.append(("Age", "date", "", 0, _AGE_DESC))
    paths = [c.get("jsonPath", "") for c in cols_cfg]
    types = [c.get("type", "string") for c in cols_cfg]

    def row(o: dict[str, Any], now: float) -> Row:
        cells: Row = [_meta(o).get("name", "")]
        for p, typ in zip(paths, types, strict=True):
            val = _jsonpath(o, p)
            if typ == "date" and isinstance(val, str):
                val = age(val, now)
            cells.append(val if isinstance(val, (str, int, float, bool)) or val is None else str(val))
        if not has_age:
            cells.append(_age(o, now))
        return cells

    return columns, row


def printer_for(group: str, plural: str, crd: dict[str, Any] | None = None, version: str = "") -> Printer:
    """The printer for a type (CRD columns when ``crd`` is given, else built-in or generic)."""
    if crd is not None:
        return crd_printer(crd, version)
    return PRINTERS.get((group, plural), _GENERIC)


def column_definitions(columns: list[Column]) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` of a Table."""
    return [
        {"name": n, "type": t, "format": f, "description": d, "priority": p} for (n, t, f, p, d) in columns
    ]


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """``PartialObjectMetadata`` for an object."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def build_table(
    objs: list[dict[str, Any]],
    printer: Printer,
    *,
    include_object: str = "Metadata",
    resource_version: str = "",
    continue_token: str = "",
    remaining: int | None = None,
    headers: bool = True,
    now: float | None = None,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objs`` (``include_object``: Object, Metadata or None)."""
    columns, row_fn = printer
    t = time.time() if now is None else now
    rows = []
    for o in objs:
        row: dict[str, Any] = {"cells": row_fn(o, t)}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = partial_metadata(o)
        rows.append(row)
    meta: dict[str, Any] = {}
    if resource_version:
        meta["resourceVersion"] = resource_version
    if continue_token:
        meta["continue"] = continue_token
    if remaining:
        meta["remainingItemCount"] = remaining
    out: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    out["columnDefinitions"] = column_definitions(columns) if headers else None
    out["rows"] = rows
    return out
