"""Pod and node usage from ``metrics.k8s.io`` (served by metrics-server; polled, it cannot be watched)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from msgspec import Struct, field

from tamer_tui.core.errors import NotFound
from tamer_tui.core.kube.client import KubeClient
from tamer_tui.core.kube.rows import quantity


class _Meta(Struct):
    name: str = ""
    namespace: str = ""


class _CUsage(Struct):
    usage: dict[str, str] = {}


class _PodMetrics(Struct):
    metadata: _Meta = field(default_factory=_Meta)
    containers: list[_CUsage] = []


class _PodMetricsList(Struct):
    items: list[_PodMetrics] = []


class _NodeMetrics(Struct):
    metadata: _Meta = field(default_factory=_Meta)
    usage: dict[str, str] = {}


class _NodeMetricsList(Struct):
    items: list[_NodeMetrics] = []


@dataclass(frozen=True, slots=True)
class Usage:
    cpu: float  # cores
    memory: float  # bytes


async def pod_usage(client: KubeClient, namespace: str | None) -> dict[str, Usage] | None:
    """``{"ns/name": Usage}``, or None when the cluster serves no metrics API."""
    path = "/apis/metrics.k8s.io/v1beta1" + (f"/namespaces/{namespace}" if namespace else "") + "/pods"
    try:
        data = await client.get(path, what="pod metrics", timeout=10)
    except NotFound:
        return None
    out: dict[str, Usage] = {}
    for item in msgspec.json.decode(data, type=_PodMetricsList).items:
        cpu = sum(quantity(c.usage.get("cpu")) for c in item.containers)
        mem = sum(quantity(c.usage.get("memory")) for c in item.containers)
        out[f"{item.metadata.namespace}/{item.metadata.name}"] = Usage(cpu, mem)
    return out


async def node_usage(client: KubeClient) -> dict[str, Usage] | None:
    try:
        data = await client.get("/apis/metrics.k8s.io/v1beta1/nodes", what="node metrics", timeout=10)
    except NotFound:
        return None
    return {
        n.metadata.name: Usage(quantity(n.usage.get("cpu")), quantity(n.usage.get("memory")))
        for n in msgspec.json.decode(data, type=_NodeMetricsList).items
    }
