"""``metrics.k8s.io/v1beta1``: PodMetrics and NodeMetrics whose values move over time.

Usage is a deterministic function of the seed, the pod/container and the time (quantised to the
metrics-server's 15 s resolution): a slow wave plus a faster wobble around a share of the
container's CPU/memory request, clamped below its limits.  Crash-looping and image-pull-failing
pods use almost nothing, the ``chatty`` pod burns a lot of CPU, node usage is the sum of its pods
plus system overhead.  NotReady nodes (and their pods) have no metrics, like a real metrics-server
that cannot scrape them.  So ``kubectl top pods -A`` and ``kubectl top nodes`` work.
"""

from __future__ import annotations

import math
import re
import time
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tamer_tui.sim import selectors
from tamer_tui.sim.seed import ANN_BEHAVIOUR, ANN_LOG_RATE, rfc3339
from tamer_tui.sim.store import ApiError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

GROUP_VERSION = "metrics.k8s.io/v1beta1"
RESOLUTION = 15.0
_QTY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 1024.0, "Mi": 1024.0**2, "Gi": 1024.0**3, "Ti": 1024.0**4,
}


def parse_quantity(text: str | int | float | None) -> float:
    """A Kubernetes quantity (``250m``, ``1.5``, ``128Mi``, ``2G``) as a float in base units."""
    if text is None:
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    m = _QTY.match(str(text).strip())
    if not m:
        return 0.0
    return float(m.group(1)) * _SUFFIX.get(m.group(2), 1.0)


def cpu_string(cores: float) -> str:
    """CPU usage as the metrics-server reports it (nanocores, ``123456789n``)."""
    return f"{max(0, int(cores * 1e9))}n"


def memory_string(num_bytes: float) -> str:
    """Memory usage as the metrics-server reports it (``45812Ki``)."""
    return f"{max(0, int(num_bytes // 1024))}Ki"


def _unit(seed: int, *parts: str) -> float:
    """A stable pseudo-random number in [0, 1) for the given key."""
    return (zlib.crc32(("/".join((str(seed), *parts))).encode()) & 0xFFFFFFFF) / 2**32


def container_usage(seed: int, pod: dict[str, Any], container: dict[str, Any], now: float) -> tuple[float, float]:
    """(cpu cores, memory bytes) of a container at ``now``."""
    meta = pod.get("metadata") or {}
    key = (meta.get("namespace", ""), meta.get("name", ""), container.get("name", ""))
    res = container.get("resources") or {}
    req = res.get("requests") or {}
    lim = res.get("limits") or {}
    cpu_req = parse_quantity(req.get("cpu")) or parse_quantity(lim.get("cpu")) or 0.05
    mem_req = parse_quantity(req.get("memory")) or parse_quantity(lim.get("memory")) or 48 * 1024**2
    cpu_lim = parse_quantity(lim.get("cpu")) or max(cpu_req * 4, 1.0)
    mem_lim = parse_quantity(lim.get("memory")) or max(mem_req * 3, 256 * 1024**2)
    t = math.floor(now / RESOLUTION) * RESOLUTION
    phase = _unit(seed, *key, "phase") * 2 * math.pi
    period = 300 + 900 * _unit(seed, *key, "period")
    wave = 0.5 + 0.5 * math.sin(2 * math.pi * t / period + phase)
    wobble = 0.5 + 0.5 * math.sin(2 * math.pi * t / 47.0 + phase * 3)
    jitter = _unit(seed, *key, str(int(t)))
    share = 0.15 + 0.55 * _unit(seed, *key, "share")
    ann = meta.get("annotations") or {}
    cpu = cpu_req * share * (0.4 + 0.8 * wave + 0.3 * wobble + 0.2 * jitter)
    mem = mem_req * (0.35 + 0.4 * _unit(seed, *key, "mem")) * (0.9 + 0.15 * wave + 0.05 * jitter)
    if ann.get(ANN_LOG_RATE):
        try:
            rate = float(ann[ANN_LOG_RATE])
        except ValueError:
            rate = 0.0
        cpu = max(cpu, min(cpu_lim * 0.95, 0.25 + rate / 4000.0 * (0.8 + 0.4 * wobble)))
    if ann.get(ANN_BEHAVIOUR) == "crashloop":
        cpu = 0.001 + 0.002 * jitter
        mem = 4 * 1024**2 + 2 * 1024**2 * jitter
    return min(cpu, cpu_lim * 0.98), min(mem, mem_lim * 0.97)


def _running(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Containers of a running pod that have a running container status."""
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return []
    running = {cs.get("name") for cs in status.get("containerStatuses") or [] if "running" in (cs.get("state") or {})}
    return [c for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name") in running]


def _node_ready(node: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (node.get("status") or {}).get("conditions") or [])


class MetricsModel:
    """Computes PodMetrics/NodeMetrics documents from the store."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.seed = cluster.options.seed

    def _ready_nodes(self) -> dict[str, dict[str, Any]]:
        store = self.cluster.store
        return {n["metadata"]["name"]: n for n in store.iter_objects(store.type_for("", "v1", "nodes")) if _node_ready(n)}

    def pod_metrics(self, pod: dict[str, Any], now: float, ready_nodes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """The PodMetrics of ``pod`` (``None`` when it has no running containers or its node is down)."""
        containers = _running(pod)
        if not containers:
            return None
        node = (pod.get("spec") or {}).get("nodeName")
        if ready_nodes is not None and node not in ready_nodes:
            return None
        meta = pod["metadata"]
        t = math.floor(now / RESOLUTION) * RESOLUTION
        items = []
        for c in containers:
            cpu, mem = container_usage(self.seed, pod, c, now)
            items.append({"name": c["name"], "usage": {"cpu": cpu_string(cpu), "memory": memory_string(mem)}})
        out_meta: dict[str, Any] = {"name": meta["name"], "namespace": meta.get("namespace", ""), "creationTimestamp": rfc3339(now)}
        if meta.get("labels"):
            out_meta["labels"] = dict(meta["labels"])
        return {"kind": "PodMetrics", "apiVersion": GROUP_VERSION, "metadata": out_meta, "timestamp": rfc3339(t),
                "window": "15.022s", "containers": items}

    def node_metrics(self, node: dict[str, Any], now: float, pods_on_node: list[dict[str, Any]]) -> dict[str, Any]:
        """The NodeMetrics of ``node`` (sum of its pods plus system overhead)."""
        name = node["metadata"]["name"]
        cpu = 0.12 + 0.1 * _unit(self.seed, name, str(int(now // RESOLUTION)))
        mem = (900 + 400 * _unit(self.seed, name, "mem")) * 1024**2
        for pod in pods_on_node:
            for c in _running(pod):
                c_cpu, c_mem = container_usage(self.seed, pod, c, now)
                cpu += c_cpu
                mem += c_mem
        alloc = (node.get("status") or {}).get("allocatable") or {}
        cpu = min(cpu, parse_quantity(alloc.get("cpu")) or cpu)
        mem = min(mem, parse_quantity(alloc.get("memory")) or mem)
        t = math.floor(now / RESOLUTION) * RESOLUTION
        meta: dict[str, Any] = {"name": name, "creationTimestamp": rfc3339(now)}
        if node["metadata"].get("labels"):
            meta["labels"] = dict(node["metadata"]["labels"])
        return {"kind": "NodeMetrics", "apiVersion": GROUP_VERSION, "metadata": meta, "timestamp": rfc3339(t), "window": "20.034s",
                "usage": {"cpu": cpu_string(cpu), "memory": memory_string(mem)}}

    # ------------------------------------------------------------------ HTTP
    def _selectors(self, request: web.Request) -> tuple[Any, Any]:
        ls = request.query.get("labelSelector")
        fs = request.query.get("fieldSelector")
        lsel = selectors.parse_label_selector(ls) if ls else None
        fsel = selectors.parse_field_selector(fs) if fs else None
        return lsel, fsel

    async def nodes(self, request: web.Request) -> web.Response:
        """``GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]``."""
        store = self.cluster.store
        now = time.time()
        name = request.match_info.get("name")
        ready = self._ready_nodes()
        by_node: dict[str, list[dict[str, Any]]] = {}
        for pod in store.iter_objects(store.type_for("", "v1", "pods")):
            n = (pod.get("spec") or {}).get("nodeName")
            if n in ready:
                by_node.setdefault(n, []).append(pod)
        if name:
            node = ready.get(name)
            if node is None:
                return _not_found("nodemetrics", name)
            return web.json_response(self.node_metrics(node, now, by_node.get(name, [])))
        try:
            lsel, _ = self._selectors(request)
        except ApiError as exc:
            return web.json_response(exc.status(), status=exc.code)
        items = [self.node_metrics(n, now, by_node.get(nm, [])) for nm, n in sorted(ready.items())
                 if lsel is None or lsel.matches(n)]
        return web.json_response({"kind": "NodeMetricsList", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items})

    async def pods(self, request: web.Request) -> web.Response:
        """``GET /apis/metrics.k8s.io/v1beta1/[namespaces/{namespace}/]pods[/{name}]``."""
        store = self.cluster.store
        pods_t = store.type_for("", "v1", "pods")
        now = time.time()
        ns = request.match_info.get("namespace")
        name = request.match_info.get("name")
        ready = self._ready_nodes()
        if name and ns:
            pod = store.try_get(pods_t, ns, name)
            doc = self.pod_metrics(pod, now, ready) if pod is not None else None
            if doc is None:
                return _not_found("podmetrics", f"{ns}/{name}")
            return web.json_response(doc)
        try:
            lsel, fsel = self._selectors(request)
        except ApiError as exc:
            return web.json_response(exc.status(), status=exc.code)
        items = []
        for pod in store.iter_objects(pods_t, ns or None):
            if lsel is not None and not lsel.matches(pod):
                continue
            if fsel is not None and not fsel.matches(pod):
                continue
            doc = self.pod_metrics(pod, now, ready)
            if doc is not None:
                items.append(doc)
        return web.json_response({"kind": "PodMetricsList", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items})


def _not_found(resource: str, name: str) -> web.Response:
    return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": f'{resource}.metrics.k8s.io "{name}" not found', "reason": "NotFound",
                              "details": {"name": name, "group": "metrics.k8s.io", "kind": resource}, "code": 404}, status=404)
