"""The cluster dashboard's numbers, computed from the informers' compact rows (pure functions)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tamer_tui.core.kube.metrics import Usage
from tamer_tui.core.kube.rows import KubeRow


@dataclass
class NodeSummary:
    name: str
    status: str
    pressure: str
    roles: str
    cpu_alloc: float
    mem_alloc: float
    cpu_used: float | None = None
    mem_used: float | None = None
    pods: int = 0


@dataclass
class Summary:
    nodes: list[NodeSummary] = field(default_factory=list)
    nodes_ready: int = 0
    pods_by_status: list[tuple[str, int]] = field(default_factory=list)
    pods_total: int = 0
    degraded: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, ns/name, ready)
    restarters: list[tuple[str, int]] = field(default_factory=list)  # (ns/name, restarts)
    warnings: list[tuple[float, str, str, str]] = field(default_factory=list)  # (ts, object, reason, message)


def summarize(
    nodes: Iterable[KubeRow],
    pods: Iterable[KubeRow],
    workloads: Iterable[KubeRow],
    events: Iterable[KubeRow],
    node_usage: dict[str, Usage] | None = None,
    top: int = 8,
) -> Summary:
    s = Summary()
    pods_per_node: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    restarts: list[tuple[str, int]] = []
    for p in pods:
        s.pods_total += 1
        statuses[str(p.cells[1])] += 1
        if p.node:
            pods_per_node[p.node] += 1
        r = int(p.cells[2]) if len(p.cells) > 2 else 0
        if r:
            restarts.append((f"{p.namespace}/{p.name}", r))
    for n in nodes:
        status, roles, _ver, pressure, cpu, mem = (n.cells + ("",) * 6)[:6]
        use = (node_usage or {}).get(n.name)
        s.nodes.append(NodeSummary(n.name, str(status), str(pressure), str(roles), float(cpu or 0), float(mem or 0),
                                   use.cpu if use else None, use.memory if use else None, pods_per_node[n.name]))
        if str(status).startswith("Ready"):
            s.nodes_ready += 1
    s.nodes.sort(key=lambda x: x.name)
    s.pods_by_status = statuses.most_common()
    for w in workloads:
        if w.faulty:
            ready = str(w.cells[0]) if w.cells else ""
            s.degraded.append((w.resource, f"{w.namespace}/{w.name}", ready))
    s.degraded.sort()
    s.restarters = sorted(restarts, key=lambda x: -x[1])[:top]
    warns = [(float(e.cells[5] or 0), str(e.cells[2]), str(e.cells[1]), str(e.cells[4]))
             for e in events if e.cells and e.cells[0] == "Warning"]
    s.warnings = sorted(warns, reverse=True)[:top]
    return s
