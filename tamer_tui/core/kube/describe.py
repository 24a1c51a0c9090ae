"""A kubectl-like ``describe``: the fields people look at first, then the object's events."""

from __future__ import annotations

import time
from typing import Any

from tamer_tui.core.kube.rows import parse_ts


def _age(ts: str | None) -> str:
    t = parse_ts(ts)
    if not t:
        return "<unknown>"
    d = max(0, int(time.time() - t))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if d >= size:
            return f"{d // size}{unit}"
    return f"{d}s"


def _kv(d: dict[str, Any] | None) -> str:
    if not d:
        return "<none>"
    return "\n".join(f"{k}={v}" for k, v in sorted(d.items()))


def _block(title: str, value: str, width: int = 20) -> list[str]:
    lines = value.splitlines() or [""]
    out = [f"{title + ':':<{width}}{lines[0]}"]
    out.extend(" " * width + ln for ln in lines[1:])
    return out


def describe(obj: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """Text for the describe view of any object (pods, workloads, nodes and services get more)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    kind = obj.get("kind", "")
    out: list[str] = []
    out += _block("Name", str(meta.get("name", "")))
    if meta.get("namespace"):
        out += _block("Namespace", str(meta["namespace"]))
    out += _block("Kind", f"{kind} ({obj.get('apiVersion', '')})")
    out += _block("Created", f"{meta.get('creationTimestamp', '')} ({_age(meta.get('creationTimestamp'))} ago)")
    out += _block("Labels", _kv(meta.get("labels")))
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    out += _block("Annotations", _kv(annotations))
    for ref in meta.get("ownerReferences") or []:
        out += _block("Controlled By", f"{ref.get('kind')}/{ref.get('name')}")
    if meta.get("deletionTimestamp"):
        out += _block("Terminating", f"since {meta['deletionTimestamp']}")
    if kind == "Pod":
        out += _pod(spec, status)
    elif kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
        out += _workload(spec, status)
    elif kind == "Node":
        out += _node(spec, status)
    elif kind == "Service":
        out += _service(spec, status)
    elif kind == "Secret":
        out += _block("Type", str(obj.get("type", "")))
        out.append("Data")
        out.append("====")
        for k, v in sorted((obj.get("data") or {}).items()):
            out.append(f"{k}:  {len(v or '') * 3 // 4} bytes")
    elif kind == "ConfigMap":
        out.append("Data")
        out.append("====")
        for k, v in sorted((obj.get("data") or {}).items()):
            out += [f"{k}:", "----", str(v), ""]
    else:
        for key in ("spec", "status"):
            if obj.get(key):
                out.append(f"{key.capitalize()}: (see YAML view, y)")
    out.append("")
    out.append("Events:")
    if not events:
        out.append("  <none>")
    else:
        out.append(f"  {'Type':<8} {'Reason':<20} {'Age':<6} {'From':<22} Message")
        out.append(f"  {'----':<8} {'------':<20} {'---':<6} {'----':<22} -------")
        for e in events[-30:]:
            src = (e.get("source") or {}).get("component", "") or e.get("reportingComponent", "")
            ts = e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp")
            count = e.get("count") or 1
            age = _age(ts) + (f" (x{count})" if count > 1 else "")
            out.append(f"  {e.get('type', ''):<8} {e.get('reason', ''):<20} {age:<6} {src:<22} {e.get('message', '')}")
    return "\n".join(out)


def _pod(spec: dict[str, Any], status: dict[str, Any]) -> list[str]:
    out: list[str] = []
    out += _block("Node", f"{spec.get('nodeName', '<none>')}/{status.get('hostIP', '')}")
    out += _block("Status", str(status.get("phase", "")))
    out += _block("IP", str(status.get("podIP", "")))
    out += _block("QoS Class", str(status.get("qosClass", "")))
    statuses = {c.get("name"): c for c in status.get("containerStatuses") or []}
    out.append("Containers:")
    for c in spec.get("containers") or []:
        cs = statuses.get(c.get("name"), {})
        state = cs.get("state") or {}
        st_name = next(iter(state), "unknown")
        reason = (state.get(st_name) or {}).get("reason", "")
        out.append(f"  {c.get('name')}:")
        out.append(f"    Image:          {c.get('image', '')}")
        ports = ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in c.get("ports") or [])
        out.append(f"    Ports:          {ports or '<none>'}")
        out.append(f"    State:          {st_name.capitalize()}{f' ({reason})' if reason else ''}")
        last = cs.get("lastState") or {}
        if last:
            ln = next(iter(last))
            out.append(f"    Last State:     {ln.capitalize()} ({(last[ln] or {}).get('reason', '')})")
        out.append(f"    Ready:          {cs.get('ready', False)}")
        out.append(f"    Restart Count:  {cs.get('restartCount', 0)}")
        res = c.get("resources") or {}
        for k in ("limits", "requests"):
            if res.get(k):
                out.append(f"    {k.capitalize() + ':':<16}{', '.join(f'{a}={b}' for a, b in res[k].items())}")
    out.append("Conditions:")
    for cond in status.get("conditions") or []:
        out.append(f"  {cond.get('type', ''):<28}{cond.get('status', '')}")
    return out


def _workload(spec: dict[str, Any], status: dict[str, Any]) -> list[str]:
    out: list[str] = []
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    out += _block("Selector", ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>")
    if "replicas" in spec:
        out += _block("Replicas", f"{spec.get('replicas')} desired | {status.get('updatedReplicas', 0)} updated | "
                                  f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
                                  f"{status.get('unavailableReplicas', 0)} unavailable")
    strategy = (spec.get("strategy") or spec.get("updateStrategy") or {}).get("type")
    if strategy:
        out += _block("Strategy", str(strategy))
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    out.append("Pod Template:")
    for c in containers:
        out.append(f"  {c.get('name')}: {c.get('image')}")
    out.append("Conditions:")
    for cond in status.get("conditions") or []:
        out.append(f"  {cond.get('type', ''):<16}{cond.get('status', ''):<8}{cond.get('reason', '')}")
    return out


def _node(spec: dict[str, Any], status: dict[str, Any]) -> list[str]:
    out: list[str] = []
    taints = [f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}" for t in spec.get("taints") or []]
    out += _block("Taints", "\n".join(taints) or "<none>")
    out += _block("Unschedulable", str(bool(spec.get("unschedulable"))))
    out.append("Conditions:")
    for cond in status.get("conditions") or []:
        out.append(f"  {cond.get('type', ''):<22}{cond.get('status', ''):<8}{cond.get('reason', ''):<28}"
                   f"{cond.get('message', '')}")
    out.append("Addresses:")
    for a in status.get("addresses") or []:
        out.append(f"  {a.get('type')}: {a.get('address')}")
    for key in ("capacity", "allocatable"):
        out.append(f"{key.capitalize()}:")
        for k, v in (status.get(key) or {}).items():
            out.append(f"  {k + ':':<20}{v}")
    info = status.get("nodeInfo") or {}
    out.append("System Info:")
    for k in ("kubeletVersion", "containerRuntimeVersion", "osImage", "kernelVersion", "architecture"):
        if info.get(k):
            out.append(f"  {k + ':':<26}{info[k]}")
    return out


def _service(spec: dict[str, Any], status: dict[str, Any]) -> list[str]:
    out: list[str] = []
    out += _block("Selector", ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items()) or "<none>")
    out += _block("Type", str(spec.get("type", "ClusterIP")))
    out += _block("IP", str(spec.get("clusterIP", "")))
    for p in spec.get("ports") or []:
        out += _block("Port", f"{p.get('name', '<unset>')} {p.get('port')}/{p.get('protocol', 'TCP')}")
        out += _block("TargetPort", str(p.get("targetPort", "")))
        if p.get("nodePort"):
            out += _block("NodePort", str(p["nodePort"]))
    return out
