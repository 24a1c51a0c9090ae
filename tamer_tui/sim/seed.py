"""Deterministic, realistic seed objects for the simulated cluster.

:func:`build_seed` produces every object a freshly looked-at cluster would show: nodes, namespaces,
the flavor's system workloads in ``kube-system`` (coredns, metrics-server and k3s traefik /
local-path-provisioner, kind kindnet / local-path, minikube storage-provisioner ...), ``--namespaces``
application namespaces with deployments -> replicasets -> pods, a statefulset with PVCs, a
daemonset on every node, jobs and a cronjob, services (ClusterIP, NodePort, one LoadBalancer),
configmaps, secrets, storage classes, ingresses, RBAC and events.  The output depends only on the
options, the seed and the ``now`` timestamp passed in.

Pods look like the real thing (about 5-6 KB of JSON: managedFields, probes, env, resources,
projected service-account token volume, tolerations, status with conditions and container
statuses).  To seed 50,000 pods quickly every ReplicaSet's pods come from one template with a
handful of placeholders (name, uid, node, IPs, container ids ...) compiled into a factory function
(:func:`compile_template`) that builds fresh dicts but shares the string constants.

Special pods: ``chatty-...`` in ``default`` logs thousands of lines per second (annotation
:data:`ANN_LOG_RATE`), a few pods are in CrashLoopBackOff (annotation :data:`ANN_BEHAVIOUR` =
``crashloop``) and some in ImagePullBackOff (an image whose tag contains ``doesnotexist``).
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# ----------------------------------------------------------------------------------------------
# Annotations the behaviour code understands (also usable on user-created pods)

SIM = "sim.tamer.dev/"
#: Log lines per second for every container of the pod (overrides ``--log-rate``).
ANN_LOG_RATE = SIM + "log-rate"
#: ``crashloop``: containers exit with an error shortly after starting and restart with back-off.
ANN_BEHAVIOUR = SIM + "behaviour"
#: Seconds a container runs before it exits on its own (with :data:`ANN_EXIT_CODE`).
ANN_EXIT_AFTER = SIM + "exit-after"
#: Exit code used together with :data:`ANN_EXIT_AFTER` (default 0).
ANN_EXIT_CODE = SIM + "exit-code"
#: Words in an image reference that make the image pull fail (ImagePullBackOff).
BAD_IMAGE_MARKERS = ("doesnotexist", "does-not-exist", "nonexistent", "invalid-image")

DEFAULT_CONTAINER_ANN = "kubectl.kubernetes.io/default-container"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def is_bad_image(image: str) -> bool:
    """True if pulling ``image`` fails in the simulator."""
    low = image.lower()
    return any(m in low for m in BAD_IMAGE_MARKERS)


def rfc3339(ts: float) -> str:
    """``2024-01-02T03:04:05Z`` for a UNIX timestamp."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_rfc3339(text: str | None) -> float | None:
    """UNIX timestamp of an RFC 3339 string (fractional seconds and offsets accepted)."""
    if not text:
        return None
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:?\d\d)?$", text.strip())
    if not m:
        return None
    import calendar

    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    ts = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) + (float(m.group(7)) if m.group(7) else 0.0)
    tz = m.group(8)
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ts -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return ts


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a, the hash the deployment controller uses for ``pod-template-hash``."""
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """apimachinery's ``rand.SafeEncodeString``: map characters onto a vowel-free alphabet."""
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in text)


def pod_template_hash(template: dict[str, Any], collision_count: int = 0) -> str:
    """The ``pod-template-hash`` of a pod template (ignores an existing hash label)."""
    tpl = copy.deepcopy(template)
    labels = (tpl.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)
    data = json.dumps(tpl, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def short_hash(text: str, n: int = 10) -> str:
    """A deterministic name-safe hash of ``text`` (controller-revision-hash and the like)."""
    digest = hashlib.sha1(text.encode()).digest()
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:n])


def revision_hash(template: dict[str, Any]) -> str:
    """The ``controller-revision-hash`` suffix of a StatefulSet/DaemonSet pod template."""
    return short_hash(json.dumps(template, sort_keys=True), 10)


def fields_v1(obj: Any, depth: int = 99) -> Any:
    """A FieldsV1 (``f:``/``k:`` set) describing the fields set in ``obj``, ``depth`` levels deep.

    Lists of objects with a ``name`` (containers, env, volumes ...) use ``k:{"name":...}`` keys,
    ``containerPort`` lists use ``k:{"containerPort":..,"protocol":..}``.
    """
    if isinstance(obj, dict) and depth > 0:
        out: dict[str, Any] = {".": {}} if obj else {}
        for key, value in obj.items():
            out[f"f:{key}"] = _fields_value(value, depth - 1)
        return out
    return {}


def _fields_value(value: Any, depth: int = 99) -> Any:
    if depth <= 0:
        return {}
    if isinstance(value, dict):
        inner = fields_v1(value, depth)
        return inner if inner else {}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out: dict[str, Any] = {}
        for item in value:
            if "name" in item:
                key = json.dumps({"name": item["name"]}, separators=(",", ":"))
            elif "containerPort" in item:
                key = json.dumps(
                    {"containerPort": item["containerPort"], "protocol": item.get("protocol", "TCP")},
                    separators=(",", ":"),
                )
            elif "type" in item:
                key = json.dumps({"type": item["type"]}, separators=(",", ":"))
            else:
                key = json.dumps({"key": str(item.get("key", item.get("ip", "")))}, separators=(",", ":"))
            out[f"k:{key}"] = fields_v1(item, depth - 1)
        return out
    return {}


_PLACEHOLDER = re.compile(r"@@([A-Z0-9]+)@@")


def compile_template(proto: Any) -> Callable[[dict[str, str]], dict[str, Any]]:
    """Compile a JSON-shaped object with ``@@NAME@@`` placeholders into a fast factory.

    The factory builds fresh dicts and lists on every call (nothing mutable is shared between the
    objects it returns) but re-uses the template's string constants, which keeps tens of thousands
    of seeded pods small in memory and quick to build.
    """
    consts: list[Any] = []

    def const(value: Any) -> str:
        consts.append(value)
        return f"_c[{len(consts) - 1}]"

    def emit(node: Any) -> str:
        if isinstance(node, dict):
            return "{" + ", ".join(f"{const(k)}: {emit(v)}" for k, v in node.items()) + "}"
        if isinstance(node, list):
            return "[" + ", ".join(emit(v) for v in node) + "]"
        if isinstance(node, str) and "@@" in node:
            pieces = []
            pos = 0
            for m in _PLACEHOLDER.finditer(node):
                if m.start() > pos:
                    pieces.append(const(node[pos : m.start()]))
                pieces.append(f"_v[{m.group(1)!r}]")
                pos = m.end()
            if pos < len(node):
                pieces.append(const(node[pos:]))
            return " + ".join(pieces) if pieces else const("")
        if node is None or isinstance(node, (bool, int, float)):
            return repr(node)
        return const(node)

    source = f"def _make(_v):\n    return {emit(proto)}\n"
    namespace: dict[str, Any] = {"_c": consts}
    exec(compile(source, "<pod-template>", "exec"), namespace)  # noqa: S102 - generated from our own template
    factory: Callable[[dict[str, str]], dict[str, Any]] = namespace["_make"]
    return factory


def managed_entry(manager: str, operation: str, when: str, fields: Any, subresource: str | None = None) -> dict[str, Any]:
    """One ``metadata.managedFields`` entry."""
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": "v1",
        "time": when,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


# ----------------------------------------------------------------------------------------------
# Flavors


@dataclass(frozen=True)
class Flavor:
    """What differs between k8s, k3s, kind and minikube clusters."""

    name: str
    pod_cidr: str  # first two octets, e.g. "10.42"
    service_cidr: str  # e.g. "10.43"
    dns_ip: str
    runtime: str
    os_image: str
    kernel: str
    node_ip_base: str  # e.g. "172.18.0."
    registry: str  # where system images come from


FLAVORS: dict[str, Flavor] = {
    "k3s": Flavor(
        "k3s", "10.42", "10.43", "10.43.0.10", "containerd://1.7.23-k3s2", "K3s v1.31.4+k3s1", "6.1.0-28-amd64",
        "172.20.0.", "docker.io/rancher/",
    ),
    "kind": Flavor(
        "kind", "10.244", "10.96", "10.96.0.10", "containerd://1.7.18", "Debian GNU/Linux 12 (bookworm)",
        "6.1.0-28-amd64", "172.18.0.", "registry.k8s.io/",
    ),
    "minikube": Flavor(
        "minikube", "10.244", "10.96", "10.96.0.10", "docker://27.4.0", "Ubuntu 22.04.5 LTS", "5.15.0-130-generic",
        "192.168.49.", "registry.k8s.io/",
    ),
    "k8s": Flavor(
        "k8s", "10.244", "10.96", "10.96.0.10", "containerd://1.7.22", "Ubuntu 24.04.1 LTS", "6.8.0-51-generic",
        "10.0.0.", "registry.k8s.io/",
    ),
}


def node_names(flavor: str, cluster_name: str, count: int) -> list[str]:
    """Node names the way each distribution names them."""
    count = max(1, count)
    if flavor == "kind":
        return [f"{cluster_name}-control-plane"] + [
            f"{cluster_name}-worker" + ("" if i == 1 else str(i)) for i in range(1, count)
        ]
    if flavor == "minikube":
        return ["minikube"] + [f"minikube-m{i + 1:02d}" for i in range(1, count)]
    if flavor == "k3s":
        return ["k3s-server"] + [f"k3s-agent-{i}" for i in range(1, count)]
    return ["control-plane-1"] + [f"worker-{i}" for i in range(1, count)]


# ----------------------------------------------------------------------------------------------
# Application catalogue


@dataclass(frozen=True)
class App:
    """A workload the seed can deploy."""

    name: str
    image: str
    port: int
    lang: str  # go|java|python|node|nginx|redis|postgres|generic
    weight: int = 2
    sidecar: bool = False


_NAMESPACE_APPS: list[tuple[str, list[App]]] = [
    (
        "shop",
        [
            App("frontend", "ghcr.io/acme/shop-frontend:2.14.1", 8080, "node", 2, True),
            App("cart", "ghcr.io/acme/cart:1.9.0", 8080, "go", 3),
            App("checkout", "ghcr.io/acme/checkout:3.2.7", 8080, "java", 2, True),
            App("catalog", "ghcr.io/acme/catalog:0.22.3", 8000, "python", 2),
        ],
    ),
    (
        "payments",
        [
            App("payments-api", "ghcr.io/acme/payments-api:5.0.2", 8080, "java", 2, True),
            App("fraud-detector", "ghcr.io/acme/fraud-detector:1.4.0", 8000, "python", 2),
            App("ledger", "ghcr.io/acme/ledger:2.1.1", 8080, "go", 3),
        ],
    ),
    (
        "analytics",
        [
            App("ingest", "ghcr.io/acme/ingest:0.9.12", 8080, "go", 3),
            App("query-api", "ghcr.io/acme/query-api:1.0.5", 8000, "python", 1, True),
            App("dashboard", "ghcr.io/acme/dashboard:4.3.0", 3000, "node", 1),
        ],
    ),
    (
        "auth",
        [
            App("auth-server", "quay.io/keycloak/keycloak:26.0.7", 8080, "java", 2, True),
            App("token-exchange", "ghcr.io/acme/token-exchange:0.3.1", 8080, "go", 3),
        ],
    ),
    (
        "search",
        [
            App("search-api", "ghcr.io/acme/search-api:2.0.0", 8080, "java", 2),
            App("indexer", "ghcr.io/acme/indexer:1.1.3", 8000, "python", 2),
        ],
    ),
    (
        "media",
        [
            App("thumbnailer", "ghcr.io/acme/thumbnailer:0.8.0", 8080, "go", 3),
            App("media-gateway", "nginx:1.27.3", 80, "nginx", 2, True),
        ],
    ),
    (
        "notifications",
        [
            App("mailer", "ghcr.io/acme/mailer:1.2.0", 8080, "python", 2),
            App("push-gateway", "ghcr.io/acme/push-gateway:3.0.1", 8080, "node", 2),
        ],
    ),
]

_STATEFUL: list[tuple[str, str, int, str]] = [
    ("postgres", "postgres:16.6", 5432, "postgres"),
    ("redis", "redis:7.4.1", 6379, "redis"),
    ("kafka", "bitnami/kafka:3.9.0", 9092, "java"),
    ("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.16.1", 9200, "java"),
]

FAKE_CA = (
    "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2VydmVy\n"
    "LWNhQDE3MzQ1NjcwMDAwHhcNMjQxMjE5MDAwMDAwWhcNMzQxMjE3MDAwMDAwWjAjMSEw\n-----END CERTIFICATE-----\n"
)


# ----------------------------------------------------------------------------------------------
# Output container


@dataclass
class SeedData:
    """Seeded objects keyed by resource type key (``v1/pods``, ``apps/v1/deployments`` ...)."""

    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    node_names: list[str] = field(default_factory=list)

    def add(self, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Append ``obj`` under ``key`` and return it."""
        self.objects.setdefault(key, []).append(obj)
        return obj

    def extend(self, key: str, objs: list[dict[str, Any]]) -> None:
        """Append several objects under ``key``."""
        self.objects.setdefault(key, []).extend(objs)

    def get(self, key: str) -> list[dict[str, Any]]:
        """Objects under ``key`` (empty list if none)."""
        return self.objects.get(key, [])

    def count(self, key: str) -> int:
        """How many objects under ``key``."""
        return len(self.objects.get(key, []))

    def items(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(key, objects) in load order: namespaces and cluster-scoped objects first."""
        first = ["v1/namespaces", "v1/nodes"]
        for key in first:
            if key in self.objects:
                yield key, self.objects[key]
        for key, objs in self.objects.items():
            if key not in first:
                yield key, objs


# ----------------------------------------------------------------------------------------------
# Builder


class _Builder:
    """Holds the RNG and counters while building one seed."""

    def __init__(self, *, name: str, flavor: str, nodes: int, seed: int, now: float, kube_version: str) -> None:
        self.rng = random.Random(seed)
        self.name = name
        self.flavor = FLAVORS.get(flavor, FLAVORS["k8s"])
        self.now = now
        self.kube_version = kube_version
        self.out = SeedData()
        self.cluster_created = now - 86400 * 12 - self.rng.randint(0, 86400 * 3)
        self.nodes = node_names(self.flavor.name, name, nodes)
        self.out.node_names = list(self.nodes)
        self.node_ips = {n: f"{self.flavor.node_ip_base}{i + 2}" for i, n in enumerate(self.nodes)}
        self.pod_ip_counter = {n: 0 for n in self.nodes}
        self.svc_ip_counter = 20
        self.node_rr = 0
        self.used_names: set[str] = set()

    # -- small helpers ---------------------------------------------------------------------
    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, n: int = 5) -> str:
        bits = self.rng.getrandbits(5 * n)
        out = []
        for _ in range(n):
            out.append(SAFE_ALPHABET[(bits & 31) % 27])
            bits >>= 5
        return "".join(out)

    def ts(self, when: float) -> str:
        return rfc3339(when)

    def between(self, start: float, end: float) -> float:
        return start + self.rng.random() * max(0.0, end - start)

    def next_node(self) -> str:
        node = self.nodes[self.node_rr % len(self.nodes)]
        self.node_rr += 1
        return node

    def pod_ip(self, node: str) -> str:
        idx = self.nodes.index(node)
        j = self.pod_ip_counter[node]
        self.pod_ip_counter[node] = j + 1
        third = (idx + len(self.nodes) * (j // 250)) % 256
        return f"{self.flavor.pod_cidr}.{third}.{2 + j % 250}"

    def svc_ip(self) -> str:
        self.svc_ip_counter += self.rng.randint(1, 40)
        return f"{self.flavor.service_cidr}.{(self.svc_ip_counter // 250) % 256}.{self.svc_ip_counter % 250 + 2}"

    def container_id(self) -> str:
        prefix = "docker://" if self.flavor.runtime.startswith("docker") else "containerd://"
        return prefix + f"{self.rng.getrandbits(256):064x}"

    def digest(self, image: str) -> str:
        repo = image.rsplit(":", 1)[0]
        if "/" not in repo:
            repo = "docker.io/library/" + repo
        elif repo.count("/") == 1 and "." not in repo.split("/")[0]:
            repo = "docker.io/" + repo
        return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"

    def meta(
        self,
        name: str,
        namespace: str | None,
        created: float,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        owner: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        m: dict[str, Any] = {"name": name}
        if namespace is not None:
            m["namespace"] = namespace
        m["uid"] = self.uid()
        m["creationTimestamp"] = self.ts(created)
        if labels:
            m["labels"] = dict(labels)
        if annotations:
            m["annotations"] = dict(annotations)
        if owner is not None:
            m["ownerReferences"] = [owner]
        return m

    @staticmethod
    def owner_ref(api_version: str, kind: str, obj: dict[str, Any], controller: bool = True) -> dict[str, Any]:
        return {
            "apiVersion": api_version,
            "kind": kind,
            "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"],
            "controller": controller,
            "blockOwnerDeletion": True,
        }

    # -- cluster level -----------------------------------------------------------------------
    def build_nodes(self) -> None:
        fl = self.flavor
        for i, name in enumerate(self.nodes):
            created = self.cluster_created + i * 40
            labels = {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
            }
            if i == 0:
                labels["node-role.kubernetes.io/control-plane"] = "true" if fl.name == "k3s" else ""
                if fl.name == "k3s":
                    labels["node-role.kubernetes.io/master"] = "true"
                    labels["node.kubernetes.io/instance-type"] = "k3s"
            if fl.name == "minikube":
                labels["minikube.k8s.io/name"] = "minikube"
                labels["minikube.k8s.io/primary"] = "true" if i == 0 else "false"
            annotations = {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            }
            if fl.name == "k3s":
                annotations["k3s.io/hostname"] = name
                annotations["k3s.io/internal-ip"] = self.node_ips[name]
                annotations["k3s.io/node-args"] = '["server"]' if i == 0 else '["agent"]'
            else:
                annotations["kubeadm.alpha.kubernetes.io/cri-socket"] = "unix:///run/containerd/containerd.sock"
            spec: dict[str, Any] = {
                "podCIDR": f"{fl.pod_cidr}.{i}.0/24",
                "podCIDRs": [f"{fl.pod_cidr}.{i}.0/24"],
            }
            if fl.name == "k3s":
                spec["providerID"] = f"k3s://{name}"
            elif fl.name == "kind":
                spec["providerID"] = f"kind://docker/{self.name}/{name}"
            if i == 0 and fl.name in ("kind", "k8s") and len(self.nodes) > 1:
                spec["taints"] = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
            hb = self.now - self.rng.randint(5, 40)
            cpu = 4 if i == 0 else 8
            mem_ki = 16_318_976 if i == 0 else 32_866_816
            node = {
                "metadata": self.meta(name, None, created, labels, annotations),
                "spec": spec,
                "status": {
                    "addresses": [
                        {"address": self.node_ips[name], "type": "InternalIP"},
                        {"address": name, "type": "Hostname"},
                    ],
                    "allocatable": {
                        "cpu": str(cpu),
                        "ephemeral-storage": "95491281146",
                        "hugepages-1Gi": "0",
                        "hugepages-2Mi": "0",
                        "memory": f"{mem_ki}Ki",
                        "pods": "110",
                    },
                    "capacity": {
                        "cpu": str(cpu),
                        "ephemeral-storage": "98160588Ki",
                        "hugepages-1Gi": "0",
                        "hugepages-2Mi": "0",
                        "memory": f"{mem_ki}Ki",
                        "pods": "110",
                    },
                    "conditions": [
                        _node_cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                                   "kubelet has sufficient memory available", hb, created),
                        _node_cond("DiskPressure", "False", "KubeletHasNoDiskPressure",
                                   "kubelet has no disk pressure", hb, created),
                        _node_cond("PIDPressure", "False", "KubeletHasSufficientPID",
                                   "kubelet has sufficient PID available", hb, created),
                        _node_cond("Ready", "True", "KubeletReady", "kubelet is posting ready status", hb, created + 20),
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "images": [
                        {"names": [self.digest("busybox:1.37.0"), "docker.io/library/busybox:1.37.0"], "sizeBytes": 2_166_802},
                        {"names": [self.digest("nginx:1.27.3"), "docker.io/library/nginx:1.27.3"], "sizeBytes": 72_955_450},
                    ],
                    "nodeInfo": {
                        "architecture": "amd64",
                        "bootID": self.uid(),
                        "containerRuntimeVersion": fl.runtime,
                        "kernelVersion": fl.kernel,
                        "kubeProxyVersion": self.kube_version,
                        "kubeletVersion": self.kube_version,
                        "machineID": f"{self.rng.getrandbits(128):032x}",
                        "operatingSystem": "linux",
                        "osImage": fl.os_image,
                        "systemUUID": self.uid(),
                    },
                },
            }
            self.out.add("v1/nodes", node)
            # the node's lease
            self.out.add(
                "coordination.k8s.io/v1/leases",
                {
                    "metadata": self.meta(name, "kube-node-lease", created, owner=self.owner_ref("v1", "Node", node, False)),
                    "spec": {
                        "holderIdentity": name,
                        "leaseDurationSeconds": 40,
                        "renewTime": rfc3339(hb).replace("Z", ".000000Z"),
                    },
                },
            )

    def build_namespaces(self, app_namespaces: list[str]) -> None:
        base = ["default", "kube-system", "kube-public", "kube-node-lease"]
        if self.flavor.name == "kind":
            base.append("local-path-storage")
        for ns in base + app_namespaces:
            created = self.cluster_created if ns in base else self.between(self.cluster_created, self.now - 86400)
            labels = {"kubernetes.io/metadata.name": ns}
            if ns in app_namespaces:
                labels["team"] = ns
                labels["environment"] = "production" if self.rng.random() < 0.7 else "staging"
            obj = {
                "metadata": self.meta(ns, None, created, labels),
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
            self.out.add("v1/namespaces", obj)
            self.out.add(
                "v1/configmaps",
                {
                    "metadata": self.meta(
                        "kube-root-ca.crt", ns, created, annotations={"kubernetes.io/description": _ROOT_CA_DESC}
                    ),
                    "data": {"ca.crt": FAKE_CA},
                },
            )
            self.out.add(
                "v1/serviceaccounts",
                {"metadata": self.meta("default", ns, created)},
            )

    def build_cluster_scoped(self) -> None:
        created = self.cluster_created
        if self.flavor.name == "minikube":
            sc_name, provisioner = "standard", "k8s.io/minikube-hostpath"
        elif self.flavor.name == "k8s":
            sc_name, provisioner = "standard", "kubernetes.io/no-provisioner"
        else:
            sc_name, provisioner = ("local-path", "rancher.io/local-path")
        self.storage_class = sc_name
        self.out.add(
            "storage.k8s.io/v1/storageclasses",
            {
                "metadata": self.meta(
                    sc_name, None, created, annotations={"storageclass.kubernetes.io/is-default-class": "true"}
                ),
                "provisioner": provisioner,
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "WaitForFirstConsumer" if provisioner == "rancher.io/local-path" else "Immediate",
            },
        )
        ic = "traefik" if self.flavor.name == "k3s" else "nginx"
        self.ingress_class = ic
        self.out.add(
            "networking.k8s.io/v1/ingressclasses",
            {
                "metadata": self.meta(
                    ic,
                    None,
                    created,
                    labels={"app.kubernetes.io/name": ic},
                    annotations={"ingressclass.kubernetes.io/is-default-class": "true"},
                ),
                "spec": {"controller": "traefik.io/ingress-controller" if ic == "traefik" else "k8s.io/ingress-nginx"},
            },
        )
        for role, rules in _CLUSTER_ROLES.items():
            self.out.add(
                "rbac.authorization.k8s.io/v1/clusterroles",
                {
                    "metadata": self.meta(
                        role,
                        None,
                        created,
                        labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
                        annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"},
                    ),
                    "rules": rules,
                },
            )
        self.out.add(
            "rbac.authorization.k8s.io/v1/clusterrolebindings",
            {
                "metadata": self.meta(
                    "cluster-admin",
                    None,
                    created,
                    labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
                    annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"},
                ),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}],
            },
        )
        self.out.add(
            "scheduling.k8s.io/v1/priorityclasses",
            {
                "metadata": self.meta("system-cluster-critical", None, created),
                "value": 2000000000,
                "globalDefault": False,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
            },
        )
        self.out.add(
            "scheduling.k8s.io/v1/priorityclasses",
            {
                "metadata": self.meta("system-node-critical", None, created),
                "value": 2000001000,
                "globalDefault": False,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": "Used for system critical pods that must not be moved from their current node.",
            },
        )
        # the kubernetes service
        svc = self.service("kubernetes", "default", created, {}, [("https", 443, 6443, "TCP")],
                           labels={"component": "apiserver", "provider": "kubernetes"},
                           cluster_ip=f"{self.flavor.service_cidr}.0.1")
        svc["spec"].pop("selector", None)
        self.out.add(
            "v1/endpoints",
            {
                "metadata": self.meta("kubernetes", "default", created,
                                      labels={"endpointslice.kubernetes.io/skip-mirror": "true"}),
                "subsets": [
                    {
                        "addresses": [{"ip": self.node_ips[self.nodes[0]]}],
                        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
                    }
                ],
            },
        )

    # -- workloads ---------------------------------------------------------------------------
    def container(
        self,
        name: str,
        image: str,
        port: int,
        lang: str,
        *,
        namespace: str,
        app: str,
        cpu: str = "100m",
        mem: str = "128Mi",
        env_count: int = 10,
        probes: bool = True,
        config_mount: str | None = None,
        sidecar: bool = False,
    ) -> dict[str, Any]:
        ports: list[dict[str, Any]] = [{"containerPort": port, "name": "http", "protocol": "TCP"}]
        if not sidecar and lang in ("go", "java"):
            ports.append({"containerPort": 9090, "name": "metrics", "protocol": "TCP"})
        env_all: list[Any] = [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
            {"name": "LOG_LEVEL", "value": self.rng.choice(["info", "info", "debug", "warn"])},
            {"name": "PORT", "value": str(port)},
            {"name": "OTEL_SERVICE_NAME", "value": app},
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability:4317"},
            {
                "name": "DATABASE_PASSWORD",
                "valueFrom": {"secretKeyRef": {"key": "password", "name": f"{app}-db"}},
            },
            {
                "name": "FEATURE_FLAGS",
                "valueFrom": {"configMapKeyRef": {"key": "feature-flags", "name": f"{app}-config"}},
            },
            {"name": "GOMAXPROCS" if lang == "go" else "WORKERS", "value": "2"},
            {"name": "TZ", "value": "UTC"},
        ]
        env: list[dict[str, Any]] = env_all[:env_count]
        c: dict[str, Any] = {
            "name": name,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "ports": ports,
            "env": env,
            "resources": {
                "limits": {"cpu": _double_cpu(cpu), "memory": _double_mem(mem)},
                "requests": {"cpu": cpu, "memory": mem},
            },
        }
        if probes:
            path = "/healthz" if lang != "java" else "/actuator/health/liveness"
            c["livenessProbe"] = {
                "failureThreshold": 3,
                "httpGet": {"path": path, "port": "http", "scheme": "HTTP"},
                "initialDelaySeconds": 10,
                "periodSeconds": 10,
                "successThreshold": 1,
                "timeoutSeconds": 2,
            }
            c["readinessProbe"] = {
                "failureThreshold": 3,
                "httpGet": {"path": "/readyz" if lang != "java" else "/actuator/health/readiness", "port": "http", "scheme": "HTTP"},
                "periodSeconds": 5,
                "successThreshold": 1,
                "timeoutSeconds": 1,
            }
        c["securityContext"] = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 10001}
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
        mounts = []
        if config_mount:
            mounts.append({"mountPath": config_mount, "name": "config", "readOnly": True})
        mounts.append({"mountPath": "/tmp", "name": "tmp"})
        c["volumeMounts"] = mounts
        return c

    def pod_template(
        self,
        app: str,
        labels: dict[str, str],
        containers: list[dict[str, Any]],
        *,
        service_account: str = "default",
        volumes: list[dict[str, Any]] | None = None,
        annotations: dict[str, str] | None = None,
        restart_policy: str = "Always",
        extra_tolerations: list[dict[str, Any]] | None = None,
        priority_class: str | None = None,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"labels": dict(labels)}
        if annotations:
            meta["annotations"] = dict(annotations)
        spec: dict[str, Any] = {
            "containers": containers,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": restart_policy,
            "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "serviceAccountName": service_account,
            "terminationGracePeriodSeconds": 30,
        }
        if volumes is None:
            volumes = [
                {"configMap": {"defaultMode": 420, "name": f"{app}-config"}, "name": "config"},
                {"emptyDir": {"sizeLimit": "256Mi"}, "name": "tmp"},
            ]
        spec["volumes"] = volumes
        if extra_tolerations:
            spec["tolerations"] = extra_tolerations
        if priority_class:
            spec["priorityClassName"] = priority_class
        return {"metadata": meta, "spec": spec}

    def deployment(
        self,
        name: str,
        namespace: str,
        template: dict[str, Any],
        replicas: int,
        created: float,
        labels: dict[str, str],
        *,
        revisions: int = 1,
        annotations: dict[str, str] | None = None,
        pod_annotations: dict[str, str] | None = None,
        pod_state: str = "running",
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A deployment with ``revisions`` ReplicaSets (the last one current) and its pods."""
        selector = {"matchLabels": {k: v for k, v in template["metadata"]["labels"].items() if k in ("app", "app.kubernetes.io/name", "k8s-app")}}
        if not selector["matchLabels"]:
            selector["matchLabels"] = dict(template["metadata"]["labels"])
        dep_ann = {"deployment.kubernetes.io/revision": str(revisions)}
        if annotations:
            dep_ann.update(annotations)
        dep = {
            "metadata": self.meta(name, namespace, created, labels, dep_ann),
            "spec": {
                "progressDeadlineSeconds": 600,
                "replicas": replicas,
                "revisionHistoryLimit": 10,
                "selector": selector,
                "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                "template": template,
            },
        }
        dep["metadata"]["generation"] = revisions
        ready = replicas if pod_state == "running" else 0
        dep["status"] = {
            "availableReplicas": ready,
            "conditions": [],
            "observedGeneration": revisions,
            "readyReplicas": ready,
            "replicas": replicas,
            "updatedReplicas": replicas,
        }
        if ready < replicas:
            dep["status"]["unavailableReplicas"] = replicas - ready
        if not ready:
            dep["status"].pop("readyReplicas")
            dep["status"].pop("availableReplicas")
        rollout_done = created + 60 * revisions
        dep["status"]["conditions"] = [
            _cond("Available", "True" if ready >= replicas - replicas // 4 or replicas == 0 else "False",
                  "MinimumReplicasAvailable" if ready >= replicas - replicas // 4 or replicas == 0 else "MinimumReplicasUnavailable",
                  "Deployment has minimum availability." if ready >= replicas - replicas // 4 or replicas == 0 else "Deployment does not have minimum availability.",
                  rollout_done, rollout_done),
            _cond("Progressing", "True", "NewReplicaSetAvailable",
                  f'ReplicaSet "{name}-{{HASH}}" has successfully progressed.', rollout_done, created),
        ]
        dep["metadata"]["managedFields"] = [
            managed_entry("kubectl-client-side-apply", "Update", self.ts(created), {"f:metadata": fields_v1({"labels": labels}), "f:spec": fields_v1({k: v for k, v in dep["spec"].items() if k != "template"})}),
            managed_entry("k3s" if self.flavor.name == "k3s" else "kube-controller-manager", "Update", self.ts(rollout_done),
                          {"f:status": fields_v1(dep["status"])}, "status"),
        ]
        for e in dep["metadata"]["managedFields"]:
            e["apiVersion"] = "apps/v1"
        self.out.add("apps/v1/deployments", dep)
        current_rs = None
        for rev in range(1, revisions + 1):
            tpl = copy.deepcopy(template)
            if rev < revisions:
                # older revisions differ in their image tag
                for c in tpl["spec"]["containers"]:
                    c["image"] = _older_tag(c["image"], revisions - rev)
            h = pod_template_hash(tpl)
            tpl["metadata"]["labels"]["pod-template-hash"] = h
            rs_created = created + 60 * (rev - 1) * self.rng.randint(1, 200)
            rs_replicas = replicas if rev == revisions else 0
            rs = {
                "metadata": self.meta(
                    f"{name}-{h}",
                    namespace,
                    rs_created,
                    {**tpl["metadata"]["labels"]},
                    {
                        "deployment.kubernetes.io/desired-replicas": str(replicas),
                        "deployment.kubernetes.io/max-replicas": str(replicas + max(1, -(-replicas // 4))),
                        "deployment.kubernetes.io/revision": str(rev),
                    },
                    self.owner_ref("apps/v1", "Deployment", dep),
                ),
                "spec": {
                    "replicas": rs_replicas,
                    "selector": {"matchLabels": {**selector["matchLabels"], "pod-template-hash": h}},
                    "template": tpl,
                },
                "status": {"observedGeneration": 1, "replicas": rs_replicas},
            }
            if rs_replicas:
                rs["status"].update({"fullyLabeledReplicas": rs_replicas})
                if ready:
                    rs["status"].update({"readyReplicas": ready, "availableReplicas": ready})
            self.out.add("apps/v1/replicasets", rs)
            current_rs = rs
        assert current_rs is not None
        h = current_rs["metadata"]["labels"]["pod-template-hash"]
        for c in dep["status"]["conditions"]:
            c["message"] = c["message"].replace("{HASH}", h)
        pods_created = created + 60 * (revisions - 1) * 100 + self.rng.randint(5, 3600)
        pods_created = min(pods_created, self.now - 120)
        self.pods_for(current_rs, "ReplicaSet", replicas, pods_created, pod_state=pod_state, pod_annotations=pod_annotations)
        return dep, current_rs

    def pods_for(
        self,
        owner: dict[str, Any],
        owner_kind: str,
        count: int,
        created: float,
        *,
        pod_state: str = "running",
        pod_annotations: dict[str, str] | None = None,
        names: list[str] | None = None,
        nodes: list[str] | None = None,
        extra_labels: dict[str, str] | None = None,
        hostname_subdomain: tuple[str, str] | None = None,
    ) -> None:
        """Render ``count`` pods from ``owner``'s template (fast path for running pods)."""
        if count <= 0:
            return
        tpl = owner["spec"]["template"]
        api_version = owner.get("apiVersion") or ("batch/v1" if owner_kind == "Job" else "apps/v1")
        oref = self.owner_ref(api_version, owner_kind, owner)
        base_name = owner["metadata"]["name"]
        if pod_state != "running":
            for i in range(count):
                pname = names[i] if names else f"{base_name}-{self.suffix()}"
                node = nodes[i] if nodes else self.next_node()
                self.out.add("v1/pods", self.single_pod(pname, owner["metadata"]["namespace"], tpl, oref, node,
                                                        created, pod_state, pod_annotations, base_name, extra_labels))
            return
        proto = self.single_pod("@@NAME@@", owner["metadata"]["namespace"], tpl, oref, "@@NODE@@", created,
                                "running", pod_annotations, base_name, extra_labels, placeholders=True)
        if hostname_subdomain:
            proto["spec"]["hostname"] = "@@NAME@@"
            proto["spec"]["subdomain"] = hostname_subdomain[1]
        make = compile_template(proto)
        ncont = len(tpl["spec"]["containers"])
        pods = self.out.objects.setdefault("v1/pods", [])
        spread = max(1.0, min(600.0, count * 0.5))
        rng = self.rng
        for i in range(count):
            pname = names[i] if names else f"{base_name}-{self.suffix()}"
            while pname in self.used_names:
                pname = f"{base_name}-{self.suffix()}"
            self.used_names.add(pname)
            node = nodes[i] if nodes else self.next_node()
            c_ts = created + rng.random() * spread
            vals = {
                "NAME": pname,
                "NODE": node,
                "UID": self.uid(),
                "TS": rfc3339(c_ts),
                "START": rfc3339(c_ts + 1),
                "READY": rfc3339(c_ts + 12),
                "PODIP": self.pod_ip(node),
                "HOSTIP": self.node_ips[node],
                "VOL": self.suffix(5),
            }
            for ci in range(ncont):
                vals[f"CID{ci}"] = self.container_id()
            pods.append(make(vals))

    def single_pod(
        self,
        name: str,
        namespace: str,
        tpl: dict[str, Any],
        oref: dict[str, Any] | None,
        node: str,
        created: float,
        state: str,
        pod_annotations: dict[str, str] | None,
        base_name: str,
        extra_labels: dict[str, str] | None = None,
        *,
        placeholders: bool = False,
    ) -> dict[str, Any]:
        """One pod from a template; with ``placeholders`` the per-pod values are ``@@X@@`` markers."""
        spec = copy.deepcopy(tpl["spec"])
        labels = dict(tpl["metadata"].get("labels") or {})
        if extra_labels:
            labels.update(extra_labels)
        ann = dict(tpl["metadata"].get("annotations") or {})
        if pod_annotations:
            ann.update(pod_annotations)
        if placeholders:
            uid, ts, start, ready_ts, pod_ip, host_ip, vol = "@@UID@@", "@@TS@@", "@@START@@", "@@READY@@", "@@PODIP@@", "@@HOSTIP@@", "@@VOL@@"
        else:
            uid, ts = self.uid(), rfc3339(created)
            start, ready_ts = rfc3339(created + 1), rfc3339(created + 12)
            pod_ip, host_ip, vol = self.pod_ip(node), self.node_ips[node], self.suffix(5)
        meta: dict[str, Any] = {"name": name, "generateName": base_name + "-", "namespace": namespace, "uid": uid,
                                "creationTimestamp": ts, "labels": labels}
        if ann:
            meta["annotations"] = ann
        if oref is not None:
            meta["ownerReferences"] = [oref]
        vol_name = f"kube-api-access-{vol}"
        for c in spec["containers"]:
            c.setdefault("volumeMounts", []).append(
                {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": vol_name, "readOnly": True}
            )
        spec.setdefault("volumes", []).append(
            {
                "name": vol_name,
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}
                                ]
                            }
                        },
                    ],
                },
            }
        )
        spec["nodeName"] = node
        spec.setdefault("enableServiceLinks", True)
        spec["preemptionPolicy"] = "PreemptLowerPriority"
        spec.setdefault("priority", 2000000000 if spec.get("priorityClassName") == "system-cluster-critical" else 2000001000 if spec.get("priorityClassName") == "system-node-critical" else 0)
        spec["serviceAccount"] = spec.get("serviceAccountName", "default")
        tol = list(spec.get("tolerations") or [])
        tol += [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
        ]
        spec["tolerations"] = tol
        statuses = []
        for ci, c in enumerate(spec["containers"]):
            cs: dict[str, Any] = {
                "containerID": f"@@CID{ci}@@" if placeholders else self.container_id(),
                "image": _full_image(c["image"]),
                "imageID": self.digest(c["image"]),
                "lastState": {},
                "name": c["name"],
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": start}},
            }
            statuses.append(cs)
        phase = "Running"
        conds = [
            _pcond("PodReadyToStartContainers", "True", start),
            _pcond("Initialized", "True", ts),
            _pcond("Ready", "True", ready_ts),
            _pcond("ContainersReady", "True", ready_ts),
            _pcond("PodScheduled", "True", ts),
        ]
        if state == "crashloop":
            restarts = self.rng.randint(8, 40)
            for cs in statuses[:1]:
                fin = self.now - self.rng.randint(20, 200)
                cs["ready"] = False
                cs["started"] = False
                cs["restartCount"] = restarts
                cs["lastState"] = {
                    "terminated": {
                        "containerID": cs["containerID"],
                        "exitCode": 1,
                        "finishedAt": rfc3339(fin),
                        "reason": "Error",
                        "startedAt": rfc3339(fin - 3),
                    }
                }
                cs["state"] = {
                    "waiting": {
                        "message": f"back-off 5m0s restarting failed container={cs['name']} pod={name}_{namespace}({uid})",
                        "reason": "CrashLoopBackOff",
                    }
                }
            not_ready = "containers with unready status: [" + statuses[0]["name"] + "]"
            conds[2] = _pcond("Ready", "False", rfc3339(self.now - 300), "ContainersNotReady", not_ready)
            conds[3] = _pcond("ContainersReady", "False", rfc3339(self.now - 300), "ContainersNotReady", not_ready)
        elif state == "imagepull":
            for cs in statuses:
                if is_bad_image(cs["image"]):
                    cs.pop("containerID")
                    cs["imageID"] = ""
                    cs["ready"] = False
                    cs["started"] = False
                    cs["state"] = {
                        "waiting": {
                            "message": f'Back-off pulling image "{cs["image"]}"',
                            "reason": "ImagePullBackOff",
                        }
                    }
                    cs.pop("volumeMounts", None)
            phase = "Pending"
            bad = [cs["name"] for cs in statuses if not cs["ready"]]
            msg = f"containers with unready status: [{' '.join(bad)}]"
            conds[0] = _pcond("PodReadyToStartContainers", "True", start)
            conds[2] = _pcond("Ready", "False", ts, "ContainersNotReady", msg)
            conds[3] = _pcond("ContainersReady", "False", ts, "ContainersNotReady", msg)
        elif state == "succeeded":
            for cs in statuses:
                cs["ready"] = False
                cs["started"] = False
                cs["state"] = {
                    "terminated": {
                        "containerID": cs["containerID"],
                        "exitCode": 0,
                        "finishedAt": rfc3339(created + 9),
                        "reason": "Completed",
                        "startedAt": start,
                    }
                }
            phase = "Succeeded"
            conds = [
                _pcond("PodReadyToStartContainers", "False", rfc3339(created + 10)),
                _pcond("Initialized", "True", ts, "PodCompleted"),
                _pcond("Ready", "False", rfc3339(created + 10), "PodCompleted"),
                _pcond("ContainersReady", "False", rfc3339(created + 10), "PodCompleted"),
                _pcond("PodScheduled", "True", ts),
            ]
        requests_only = all("limits" not in (c.get("resources") or {}) for c in spec["containers"])
        qos = "BestEffort" if all(not (c.get("resources") or {}) for c in spec["containers"]) else (
            "Guaranteed" if all((c.get("resources") or {}).get("limits") == (c.get("resources") or {}).get("requests") and (c.get("resources") or {}).get("limits") for c in spec["containers"]) else "Burstable")
        if requests_only and qos == "Guaranteed":
            qos = "Burstable"
        status: dict[str, Any] = {
            "conditions": conds,
            "containerStatuses": statuses,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "phase": phase,
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "qosClass": qos,
            "startTime": ts,
        }
        pod = {"metadata": meta, "spec": spec, "status": status}
        cm_manager = "k3s" if self.flavor.name == "k3s" else "kube-controller-manager"
        meta["managedFields"] = [
            managed_entry(
                cm_manager,
                "Update",
                ts,
                {
                    "f:metadata": fields_v1({k: v for k, v in meta.items() if k in ("generateName", "labels", "ownerReferences", "annotations")}, 2),
                    "f:spec": fields_v1(dict(tpl["spec"]), 2),
                },
            ),
            managed_entry(
                "k3s" if self.flavor.name == "k3s" else "kubelet",
                "Update",
                ready_ts,
                {"f:status": fields_v1({k: v for k, v in status.items() if k in ("conditions", "containerStatuses", "hostIP", "hostIPs", "phase", "podIP", "podIPs", "startTime")}, 1)},
                "status",
            ),
        ]
        return pod

    def service(
        self,
        name: str,
        namespace: str,
        created: float,
        selector: dict[str, str],
        ports: list[tuple[str, int, int | str, str]],
        *,
        svc_type: str = "ClusterIP",
        labels: dict[str, str] | None = None,
        cluster_ip: str | None = None,
        headless: bool = False,
    ) -> dict[str, Any]:
        ip = "None" if headless else (cluster_ip or self.svc_ip())
        spec: dict[str, Any] = {
            "clusterIP": ip,
            "clusterIPs": [ip],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [],
            "selector": dict(selector),
            "sessionAffinity": "None",
            "type": svc_type,
        }
        for pname, port, target, proto in ports:
            p: dict[str, Any] = {"name": pname, "port": port, "protocol": proto, "targetPort": target}
            if svc_type in ("NodePort", "LoadBalancer"):
                p["nodePort"] = 30000 + self.rng.randint(0, 2767)
            spec["ports"].append(p)
        status: dict[str, Any] = {"loadBalancer": {}}
        if svc_type == "LoadBalancer":
            spec["externalTrafficPolicy"] = "Cluster"
            spec["allocateLoadBalancerNodePorts"] = True
            status["loadBalancer"] = {"ingress": [{"ip": self.node_ips[n], "ipMode": "VIP"} for n in self.nodes]}
        obj = {"metadata": self.meta(name, namespace, created, labels or {"app": name}), "spec": spec, "status": status}
        self.out.add("v1/services", obj)
        return obj

    def endpoints_for(self, svc: dict[str, Any], pods_by_ns: dict[str, list[dict[str, Any]]]) -> None:
        """Endpoints for a service from the seeded pods (at most 1000 addresses, like the real one)."""
        sel = svc["spec"].get("selector") or {}
        if not sel:
            return
        ns = svc["metadata"]["namespace"]
        ready: list[dict[str, Any]] = []
        not_ready: list[dict[str, Any]] = []
        first_match: dict[str, Any] | None = None
        truncated = False
        items = tuple(sel.items())
        for pod in pods_by_ns.get(ns, ()):
            labels = pod["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in items):
                continue
            if first_match is None:
                first_match = pod
            if pod["status"].get("phase") in ("Succeeded", "Failed") or not pod["status"].get("podIP"):
                continue
            if len(ready) + len(not_ready) >= 1000:
                truncated = True
                break
            addr = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"]["nodeName"],
                "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": ns, "uid": pod["metadata"]["uid"]},
            }
            is_ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
            (ready if is_ready else not_ready).append(addr)
        ports = [
            {"name": p.get("name", ""), "port": _target_port(p, first_match), "protocol": p.get("protocol", "TCP")}
            for p in svc["spec"]["ports"]
        ]
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        ep: dict[str, Any] = {"metadata": self.meta(svc["metadata"]["name"], ns, _ts_of(svc), svc["metadata"].get("labels"))}
        if truncated:
            ep["metadata"]["annotations"] = {"endpoints.kubernetes.io/over-capacity": "truncated"}
        if subset:
            subset["ports"] = ports
            ep["subsets"] = [subset]
        self.out.add("v1/endpoints", ep)

    def configmap(self, name: str, namespace: str, created: float, data: dict[str, str], labels: dict[str, str] | None = None) -> None:
        self.out.add("v1/configmaps", {"metadata": self.meta(name, namespace, created, labels), "data": data})

    def secret(self, name: str, namespace: str, created: float, data: dict[str, str], stype: str = "Opaque",
               annotations: dict[str, str] | None = None) -> None:
        import base64

        enc = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.out.add("v1/secrets", {"metadata": self.meta(name, namespace, created, annotations=annotations), "data": enc, "type": stype})

    def event(self, obj: dict[str, Any], kind: str, api_version: str, reason: str, message: str, etype: str,
              component: str, when: float, count: int = 1, first: float | None = None) -> None:
        meta = obj["metadata"]
        ev_name = f"{meta['name']}.{self.rng.getrandbits(64):016x}"[:253]
        first_ts = first if first is not None else when
        self.out.add(
            "v1/events",
            {
                "metadata": self.meta(ev_name, meta.get("namespace", "default"), first_ts),
                "involvedObject": {
                    "apiVersion": api_version,
                    "kind": kind,
                    "name": meta["name"],
                    "namespace": meta.get("namespace", "default"),
                    "resourceVersion": "1",
                    "uid": meta["uid"],
                    **({"fieldPath": f"spec.containers{{{obj['spec']['containers'][0]['name']}}}"} if kind == "Pod" and reason not in ("Scheduled",) else {}),
                },
                "reason": reason,
                "message": message,
                "source": {"component": component, **({"host": obj["spec"].get("nodeName")} if kind == "Pod" and component == "kubelet" else {})},
                "firstTimestamp": rfc3339(first_ts),
                "lastTimestamp": rfc3339(when),
                "count": count,
                "type": etype,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": obj["spec"].get("nodeName", "") if kind == "Pod" and component == "kubelet" else "",
            },
        )


_ROOT_CA_DESC = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)

_CLUSTER_ROLES: dict[str, list[dict[str, Any]]] = {
    "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    "admin": [{"apiGroups": ["", "apps", "batch"], "resources": ["*"], "verbs": ["*"]}],
    "edit": [{"apiGroups": ["", "apps", "batch"], "resources": ["pods", "deployments", "services", "configmaps", "secrets", "jobs"], "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}],
    "view": [{"apiGroups": ["", "apps", "batch"], "resources": ["pods", "deployments", "services", "configmaps", "jobs"], "verbs": ["get", "list", "watch"]}],
    "system:metrics-server": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}, {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}],
}


def _node_cond(ctype: str, status: str, reason: str, message: str, hb: float, trans: float) -> dict[str, Any]:
    return {
        "lastHeartbeatTime": rfc3339(hb),
        "lastTransitionTime": rfc3339(trans),
        "message": message,
        "reason": reason,
        "status": status,
        "type": ctype,
    }


def _cond(ctype: str, status: str, reason: str, message: str, updated: float, trans: float) -> dict[str, Any]:
    out = {
        "lastTransitionTime": rfc3339(trans),
        "lastUpdateTime": rfc3339(updated),
        "message": message,
        "reason": reason,
        "status": status,
        "type": ctype,
    }
    return out


def _pcond(ctype: str, status: str, when: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"lastProbeTime": None, "lastTransitionTime": when, "status": status, "type": ctype}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def _double_cpu(cpu: str) -> str:
    if cpu.endswith("m"):
        return f"{int(cpu[:-1]) * 2}m"
    return str(float(cpu) * 2).rstrip("0").rstrip(".")


def _double_mem(mem: str) -> str:
    m = re.match(r"(\d+)(\w*)", mem)
    if not m:
        return mem
    return f"{int(m.group(1)) * 2}{m.group(2)}"


def _older_tag(image: str, back: int) -> str:
    repo, _, tag = image.rpartition(":")
    if not repo:
        return image
    m = re.match(r"(\d+)\.(\d+)\.(\d+)(.*)", tag)
    if not m:
        return image
    major, minor, patch, rest = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
    if patch >= back:
        patch -= back
    else:
        minor = max(0, minor - back)
    return f"{repo}:{major}.{minor}.{patch}{rest}"


def _full_image(image: str) -> str:
    name = image
    if "/" not in name.split(":")[0]:
        name = "docker.io/library/" + name
    elif name.count("/") == 1 and "." not in name.split("/")[0]:
        name = "docker.io/" + name
    return name


def _ts_of(obj: dict[str, Any]) -> float:
    return parse_rfc3339(obj["metadata"].get("creationTimestamp")) or time.time()


def _target_port(port: dict[str, Any], pod: dict[str, Any] | None) -> int:
    """Resolve a service port's (possibly named) targetPort against a selected pod."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if pod is not None:
        for c in pod["spec"]["containers"]:
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p["containerPort"])
    return int(port.get("port", 80))


def _split(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    if not weights:
        return []
    wsum = sum(weights) or 1
    raw = [total * w / wsum for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(weights)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[:rest]:
        out[i] += 1
    return out


def app_namespace_names(count: int) -> list[str]:
    """Names of the ``--namespaces N`` application namespaces."""
    names = [n for n, _ in _NAMESPACE_APPS]
    out = names[:count]
    i = 0
    while len(out) < count:
        out.append(f"{names[i % len(names)]}-{i // len(names) + 2}")
        i += 1
    return out


# ----------------------------------------------------------------------------------------------
# The public entry point


def build_seed(
    *,
    name: str = "tamer-sim",
    flavor: str = "k3s",
    pods: int = 60,
    namespaces: int = 4,
    nodes: int = 3,
    seed: int = 1,
    now: float | None = None,
    kube_version: str = "v1.31.4",
) -> SeedData:
    """Build every seeded object (deterministic for the arguments, ``now`` included).

    The cyclic garbage collector is paused while building: tens of thousands of fresh dicts would
    otherwise trigger full collections over and over.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(name, flavor, pods, namespaces, nodes, seed, now, kube_version)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(name: str, flavor: str, pods: int, namespaces: int, nodes: int, seed: int, now: float | None,
           kube_version: str) -> SeedData:
    b = _Builder(name=name, flavor=flavor, nodes=nodes, seed=seed,
                 now=time.time() if now is None else now, kube_version=kube_version)
    app_ns = app_namespace_names(max(0, namespaces))
    b.build_nodes()
    b.build_namespaces(app_ns)
    b.build_cluster_scoped()
    services: list[dict[str, Any]] = []
    _system_workloads(b, services)
    fixed_before_apps = b.out.count("v1/pods")
    # fixed special workloads in default and the app namespaces
    _default_namespace(b, services)
    plans = _app_namespace_plans(b, app_ns)
    fixed = b.out.count("v1/pods") - fixed_before_apps + sum(p["fixed_pods"] for p in plans)
    remaining = max(0, pods - fixed_before_apps - fixed)
    weights = [app.weight for plan in plans for app in plan["apps"]]
    counts = _split(remaining, weights) if weights else []
    k = 0
    for plan in plans:
        replicas = counts[k : k + len(plan["apps"])]
        k += len(plan["apps"])
        _app_namespace(b, plan, replicas, services)
    pods_by_ns: dict[str, list[dict[str, Any]]] = {}
    for pod in b.out.get("v1/pods"):
        pods_by_ns.setdefault(pod["metadata"]["namespace"], []).append(pod)
    for svc in services:
        b.endpoints_for(svc, pods_by_ns)
    seed_events(b.out, b.now, seed)
    return b.out


def _system_workloads(b: _Builder, services: list[dict[str, Any]]) -> None:
    fl = b.flavor.name
    created = b.cluster_created + 30
    crit = "system-cluster-critical"
    cp_tol = [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"},
    ]
    # coredns
    dns_image = "docker.io/rancher/mirrored-coredns-coredns:1.12.0" if fl == "k3s" else "registry.k8s.io/coredns/coredns:v1.11.3"
    dns_labels = {"k8s-app": "kube-dns"}
    c = b.container("coredns", dns_image, 53, "generic", namespace="kube-system", app="coredns", cpu="100m", mem="70Mi",
                    env_count=0, probes=True, config_mount="/etc/coredns")
    c["ports"] = [
        {"containerPort": 53, "name": "dns", "protocol": "UDP"},
        {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
        {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
    ]
    c.pop("env")
    c["args"] = ["-conf", "/etc/coredns/Corefile"]
    c["livenessProbe"]["httpGet"] = {"path": "/health", "port": 8080, "scheme": "HTTP"}
    c["readinessProbe"]["httpGet"] = {"path": "/ready", "port": 8181, "scheme": "HTTP"}
    c["resources"] = {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}
    tpl = b.pod_template("coredns", dns_labels, [c], service_account="coredns",
                         volumes=[{"configMap": {"defaultMode": 420, "items": [{"key": "Corefile", "path": "Corefile"}], "name": "coredns"}, "name": "config"},
                                  {"emptyDir": {}, "name": "tmp"}],
                         extra_tolerations=cp_tol, priority_class=crit)
    b.deployment("coredns", "kube-system", tpl, 1 if fl in ("k3s", "minikube") else 2, created, {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"})
    b.configmap("coredns", "kube-system", created, {"Corefile": _COREFILE})
    b.out.add("v1/serviceaccounts", {"metadata": b.meta("coredns", "kube-system", created)})
    services.append(b.service("kube-dns", "kube-system", created, dns_labels,
                              [("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53, "TCP"), ("metrics", 9153, 9153, "TCP")],
                              labels={"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
                              cluster_ip=b.flavor.dns_ip))
    # metrics-server
    ms_image = "docker.io/rancher/mirrored-metrics-server:v0.7.2" if fl == "k3s" else "registry.k8s.io/metrics-server/metrics-server:v0.7.2"
    c = b.container("metrics-server", ms_image, 10250, "go", namespace="kube-system", app="metrics-server", cpu="100m", mem="70Mi", env_count=0)
    c.pop("env")
    c["args"] = ["--cert-dir=/tmp", "--secure-port=10250", "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                 "--kubelet-use-node-status-port", "--metric-resolution=15s"]
    c["ports"] = [{"containerPort": 10250, "name": "https", "protocol": "TCP"}]
    tpl = b.pod_template("metrics-server", {"k8s-app": "metrics-server"}, [c], service_account="metrics-server",
                         volumes=[{"emptyDir": {}, "name": "tmp"}], extra_tolerations=cp_tol, priority_class=crit)
    b.deployment("metrics-server", "kube-system", tpl, 1, created, {"k8s-app": "metrics-server"})
    services.append(b.service("metrics-server", "kube-system", created, {"k8s-app": "metrics-server"}, [("https", 443, "https", "TCP")],
                              labels={"kubernetes.io/cluster-service": "true", "kubernetes.io/name": "Metrics-server"}))
    if fl == "k3s":
        # local-path-provisioner, traefik with its svclb daemonset, helm install jobs
        c = b.container("local-path-provisioner", "docker.io/rancher/local-path-provisioner:v0.0.30", 8080, "go",
                        namespace="kube-system", app="local-path-provisioner", env_count=2, probes=False)
        c["command"] = ["local-path-provisioner", "start", "--config", "/etc/config/config.json"]
        tpl = b.pod_template("local-path-provisioner", {"app": "local-path-provisioner"}, [c],
                             service_account="local-path-provisioner-service-account", extra_tolerations=cp_tol, priority_class=crit)
        b.deployment("local-path-provisioner", "kube-system", tpl, 1, created, {"app": "local-path-provisioner"})
        b.configmap("local-path-provisioner-config", "kube-system", created, {"config.json": '{"nodePathMap":[{"node":"DEFAULT_PATH_FOR_NON_LISTED_NODES","paths":["/var/lib/rancher/k3s/storage"]}]}'})
        c = b.container("traefik", "docker.io/rancher/mirrored-library-traefik:3.3.2", 8000, "go",
                        namespace="kube-system", app="traefik", env_count=4)
        c["ports"] = [
            {"containerPort": 9100, "name": "metrics", "protocol": "TCP"},
            {"containerPort": 8080, "name": "traefik", "protocol": "TCP"},
            {"containerPort": 8000, "name": "web", "protocol": "TCP"},
            {"containerPort": 8443, "name": "websecure", "protocol": "TCP"},
        ]
        c["livenessProbe"]["httpGet"] = {"path": "/ping", "port": 8080, "scheme": "HTTP"}
        c["readinessProbe"]["httpGet"] = {"path": "/ping", "port": 8080, "scheme": "HTTP"}
        traefik_labels = {"app.kubernetes.io/instance": "traefik-kube-system", "app.kubernetes.io/name": "traefik"}
        tpl = b.pod_template("traefik", traefik_labels, [c], service_account="traefik", extra_tolerations=cp_tol, priority_class=crit)
        b.deployment("traefik", "kube-system", tpl, 1, created + 60,
                     {**traefik_labels, "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "traefik-34.2.1_up34.2.0"},
                     annotations={"meta.helm.sh/release-name": "traefik", "meta.helm.sh/release-namespace": "kube-system"})
        services.append(b.service("traefik", "kube-system", created + 60, traefik_labels,
                                  [("web", 80, "web", "TCP"), ("websecure", 443, "websecure", "TCP")], svc_type="LoadBalancer",
                                  labels={**traefik_labels, "app.kubernetes.io/managed-by": "Helm"}))
        lb = b.container("lb-tcp-80", "docker.io/rancher/klipper-lb:v0.4.9", 80, "generic", namespace="kube-system",
                         app="svclb-traefik", env_count=0, probes=False)
        lb.pop("env")
        lb["securityContext"] = {"capabilities": {"add": ["NET_ADMIN"]}}
        _daemonset(b, "svclb-traefik-" + short_hash("traefik", 8), "kube-system", [lb], created + 60,
                   {"app": "svclb-traefik-" + short_hash("traefik", 8), "svccontroller.k3s.cattle.io/svcname": "traefik"},
                   extra_tolerations=[{"effect": "NoSchedule", "key": "node-role.kubernetes.io/master", "operator": "Exists"},
                                      {"key": "CriticalAddonsOnly", "operator": "Exists"}])
        for chart in ("traefik", "traefik-crd"):
            _job(b, f"helm-install-{chart}", "kube-system", created + 10, "rancher/klipper-helm:v0.9.4-build20250113",
                 labels={"helmcharts.helm.cattle.io/chart": chart})
    else:
        # kube-proxy on every node
        kp = b.container("kube-proxy", f"registry.k8s.io/kube-proxy:{b.kube_version.split('+')[0]}", 10249, "generic",
                         namespace="kube-system", app="kube-proxy", env_count=4, probes=False)
        kp["command"] = ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"]
        kp["securityContext"] = {"privileged": True}
        kp.pop("resources")
        _daemonset(b, "kube-proxy", "kube-system", [kp], created, {"k8s-app": "kube-proxy"},
                   extra_tolerations=[{"operator": "Exists"}], priority_class="system-node-critical")
        if fl == "kind":
            kn = b.container("kindnet-cni", "docker.io/kindest/kindnetd:v20241108-5c6d2daf", 0, "generic",
                             namespace="kube-system", app="kindnet", env_count=4, probes=False)
            kn.pop("ports")
            kn["resources"] = {"limits": {"cpu": "100m", "memory": "50Mi"}, "requests": {"cpu": "100m", "memory": "50Mi"}}
            _daemonset(b, "kindnet", "kube-system", [kn], created, {"app": "kindnet", "k8s-app": "kindnet", "tier": "node"},
                       extra_tolerations=[{"effect": "NoSchedule", "operator": "Exists"}])
            c = b.container("local-path-provisioner", "docker.io/kindest/local-path-provisioner:v20241108-5c6d2daf", 8080, "go",
                            namespace="local-path-storage", app="local-path-provisioner", env_count=2, probes=False)
            tpl = b.pod_template("local-path-provisioner", {"app": "local-path-provisioner"}, [c],
                                 service_account="local-path-provisioner-service-account", extra_tolerations=cp_tol)
            b.deployment("local-path-provisioner", "local-path-storage", tpl, 1, created, {"app": "local-path-provisioner"})
        if fl == "minikube":
            c = b.container("storage-provisioner", "gcr.io/k8s-minikube/storage-provisioner:v5", 0, "go",
                            namespace="kube-system", app="storage-provisioner", env_count=0, probes=False)
            c.pop("env")
            c.pop("ports")
            c["command"] = ["/storage-provisioner"]
            pod = b.single_pod("storage-provisioner", "kube-system",
                               {"metadata": {"labels": {"addonmanager.kubernetes.io/mode": "Reconcile",
                                                        "integration-test": "storage-provisioner"}},
                                "spec": {"containers": [c], "serviceAccountName": "storage-provisioner", "restartPolicy": "Always",
                                         "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "volumes": [{"emptyDir": {}, "name": "tmp"}]}},
                               None, b.nodes[0], created, "running", None, "storage-provisioner")
            pod["metadata"].pop("generateName")
            b.out.add("v1/pods", pod)
        # static control-plane pods on the first node (mirror pods owned by the Node)
        node = b.out.get("v1/nodes")[0]
        node_owner = b.owner_ref("v1", "Node", node)
        node_owner.pop("blockOwnerDeletion")
        for comp, port in (("etcd", 2381), ("kube-apiserver", 6443), ("kube-controller-manager", 10257), ("kube-scheduler", 10259)):
            image = f"registry.k8s.io/{comp}:{b.kube_version.split('+')[0]}" if comp != "etcd" else "registry.k8s.io/etcd:3.5.16-0"
            c = b.container(comp, image, port, "generic", namespace="kube-system", app=comp, env_count=0, probes=True)
            c.pop("env")
            c.pop("volumeMounts")
            c["command"] = [comp, f"--advertise-address={b.node_ips[b.nodes[0]]}"] if comp != "etcd" else ["etcd", "--data-dir=/var/lib/etcd"]
            c["resources"] = {"requests": {"cpu": "250m" if comp == "kube-apiserver" else "100m", "memory": "100Mi"}}
            pod = b.single_pod(f"{comp}-{b.nodes[0]}", "kube-system",
                               {"metadata": {"labels": {"component": comp, "tier": "control-plane"},
                                             "annotations": {"kubernetes.io/config.source": "file", "kubernetes.io/config.hash": short_hash(comp, 16)}},
                                "spec": {"containers": [c], "hostNetwork": True, "priorityClassName": "system-node-critical",
                                         "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler"}},
                               node_owner, b.nodes[0], created - 25, "running", None, comp)
            pod["metadata"].pop("generateName")
            pod["status"]["podIP"] = pod["status"]["hostIP"]
            pod["status"]["podIPs"] = [{"ip": pod["status"]["hostIP"]}]
            b.out.add("v1/pods", pod)


def _daemonset(
    b: _Builder,
    name: str,
    namespace: str,
    containers: list[dict[str, Any]],
    created: float,
    labels: dict[str, str],
    *,
    extra_tolerations: list[dict[str, Any]] | None = None,
    priority_class: str | None = None,
) -> dict[str, Any]:
    tpl = b.pod_template(name, labels, containers, volumes=[{"emptyDir": {}, "name": "tmp"}],
                         extra_tolerations=extra_tolerations, priority_class=priority_class)
    n = len(b.nodes)
    rev_hash = revision_hash(tpl)
    tpl_with_hash = copy.deepcopy(tpl)
    ds = {
        "metadata": b.meta(name, namespace, created, labels, {"deprecated.daemonset.template.generation": "1"}),
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(labels)},
            "template": tpl,
            "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"},
        },
        "status": {
            "currentNumberScheduled": n,
            "desiredNumberScheduled": n,
            "numberAvailable": n,
            "numberMisscheduled": 0,
            "numberReady": n,
            "observedGeneration": 1,
            "updatedNumberScheduled": n,
        },
    }
    b.out.add("apps/v1/daemonsets", ds)
    tpl_with_hash["metadata"]["labels"] = {**labels, "controller-revision-hash": rev_hash, "pod-template-generation": "1"}
    ds_for_pods = {"metadata": ds["metadata"], "spec": {"template": tpl_with_hash}, "apiVersion": "apps/v1"}
    b.out.add("apps/v1/controllerrevisions", {
        "metadata": b.meta(f"{name}-{rev_hash}", namespace, created, {**labels, "controller-revision-hash": rev_hash},
                           owner=b.owner_ref("apps/v1", "DaemonSet", ds)),
        "data": {"spec": {"template": {"$patch": "replace", **copy.deepcopy(tpl)}}},
        "revision": 1,
    })
    b.pods_for(ds_for_pods, "DaemonSet", n, created + 5, nodes=list(b.nodes))
    return ds


def _job(
    b: _Builder,
    name: str,
    namespace: str,
    created: float,
    image: str,
    *,
    labels: dict[str, str] | None = None,
    owner: dict[str, Any] | None = None,
    command: list[str] | None = None,
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": "main" if owner is None else "report",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": command or ["/bin/sh", "-c", "echo starting; sleep 2; echo done"],
        "env": [{"name": "JOB_NAME", "value": name}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    job_uid = b.uid()
    pod_labels = {
        "batch.kubernetes.io/controller-uid": job_uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": job_uid,
        "job-name": name,
        **(labels or {}),
    }
    tpl = {
        "metadata": {"labels": pod_labels},
        "spec": {
            "containers": [c],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Never" if owner else "OnFailure",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
        },
    }
    finished = created + 11
    job: dict[str, Any] = {
        "metadata": b.meta(name, namespace, created, {**(labels or {}), "batch.kubernetes.io/controller-uid": job_uid,
                                                          "batch.kubernetes.io/job-name": name, "controller-uid": job_uid,
                                                          "job-name": name}, owner=owner),
        "spec": {
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "completions": 1,
            "manualSelector": False,
            "parallelism": 1,
            "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
            "suspend": False,
            "template": tpl,
        },
        "status": {
            "completionTime": rfc3339(finished),
            "conditions": [
                {"lastProbeTime": rfc3339(finished), "lastTransitionTime": rfc3339(finished), "message": "Reached expected number of succeeded pods",
                 "reason": "CompletionsReached", "status": "True", "type": "SuccessCriteriaMet"},
                {"lastProbeTime": rfc3339(finished), "lastTransitionTime": rfc3339(finished), "message": "Reached expected number of succeeded pods",
                 "reason": "CompletionsReached", "status": "True", "type": "Complete"},
            ],
            "ready": 0,
            "startTime": rfc3339(created),
            "succeeded": 1,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        },
    }
    job["metadata"]["uid"] = job_uid
    b.out.add("batch/v1/jobs", job)
    job_for_pods = {"metadata": job["metadata"], "spec": {"template": tpl}, "apiVersion": "batch/v1"}
    b.pods_for(job_for_pods, "Job", 1, created + 1, pod_state="succeeded")
    return job


def _default_namespace(b: _Builder, services: list[dict[str, Any]]) -> None:
    created = b.cluster_created + 3600 * 5
    # chatty: a very talkative log producer
    c = b.container("chatty", "ghcr.io/acme/chatty-logger:1.0.0", 8080, "go", namespace="default", app="chatty", env_count=6,
                    cpu="500m", mem="128Mi")
    tpl = b.pod_template("chatty", {"app": "chatty"}, [c], annotations={ANN_LOG_RATE: "3000"})
    b.configmap("chatty-config", "default", created, {"feature-flags": "verbose=true", "config.yaml": "level: debug\n"})
    b.deployment("chatty", "default", tpl, 1, created, {"app": "chatty"})
    # web: plain nginx
    c = b.container("nginx", "nginx:1.27.3", 80, "nginx", namespace="default", app="web", cpu="50m", mem="64Mi", env_count=3,
                    config_mount="/etc/nginx/conf.d")
    c["livenessProbe"]["httpGet"] = {"path": "/", "port": 80, "scheme": "HTTP"}
    c["readinessProbe"]["httpGet"] = {"path": "/", "port": 80, "scheme": "HTTP"}
    c["securityContext"] = {}
    tpl = b.pod_template("web", {"app": "web"}, [c])
    b.configmap("web-config", "default", created, {"feature-flags": "", "nginx.conf": _NGINX_CONF})
    b.deployment("web", "default", tpl, 2, created + 600, {"app": "web"}, revisions=2)
    services.append(b.service("web", "default", created + 600, {"app": "web"}, [("http", 80, "http", "TCP")]))
    # flaky: CrashLoopBackOff
    c = b.container("flaky", "ghcr.io/acme/flaky-worker:0.4.2", 8080, "python", namespace="default", app="flaky", env_count=8)
    tpl = b.pod_template("flaky", {"app": "flaky"}, [c], annotations={ANN_BEHAVIOUR: "crashloop"})
    b.configmap("flaky-config", "default", created, {"feature-flags": "fail-fast=true"})
    b.secret("flaky-db", "default", created, {"password": "s3cr3t-flaky"})
    b.deployment("flaky", "default", tpl, 1, created + 900, {"app": "flaky"}, pod_state="crashloop")


def _app_namespace_plans(b: _Builder, namespaces: list[str]) -> list[dict[str, Any]]:
    plans = []
    for i, ns in enumerate(namespaces):
        apps = list(_NAMESPACE_APPS[i % len(_NAMESPACE_APPS)][1])
        fixed = 0
        stateful = _STATEFUL[i % len(_STATEFUL)]
        sts_replicas = 3 if stateful[0] in ("kafka", "elasticsearch") else 2
        fixed += sts_replicas
        if i == 0:
            fixed += len(b.nodes)  # daemonset
            fixed += 1  # db-migrate job pod
            fixed += 1  # legacy-api ImagePullBackOff
        if i == 1:
            fixed += 1  # crash-looping worker
        fixed += 2  # cronjob history pods
        plans.append({"ns": ns, "index": i, "apps": apps, "stateful": stateful, "sts_replicas": sts_replicas, "fixed_pods": fixed})
    return plans


def _app_namespace(b: _Builder, plan: dict[str, Any], replicas: list[int], services: list[dict[str, Any]]) -> None:
    ns = plan["ns"]
    i = plan["index"]
    ns_created = next(_ts_of(o) for o in b.out.get("v1/namespaces") if o["metadata"]["name"] == ns)
    b.out.add("v1/serviceaccounts", {"metadata": b.meta(f"{ns}-app", ns, ns_created)})
    b.out.add("rbac.authorization.k8s.io/v1/roles", {
        "metadata": b.meta(f"{ns}-app", ns, ns_created),
        "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "watch"]}],
    })
    b.out.add("rbac.authorization.k8s.io/v1/rolebindings", {
        "metadata": b.meta(f"{ns}-app", ns, ns_created),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{ns}-app"},
        "subjects": [{"kind": "ServiceAccount", "name": f"{ns}-app", "namespace": ns}],
    })
    b.secret(f"{ns}-app-token", ns, ns_created, {"token": f"eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.{ns}", "ca.crt": FAKE_CA, "namespace": ns},
             stype="kubernetes.io/service-account-token", annotations={"kubernetes.io/service-account.name": f"{ns}-app"})
    b.secret(f"{ns}-tls", ns, ns_created, {"tls.crt": FAKE_CA, "tls.key": "-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----\n"},
             stype="kubernetes.io/tls")
    nodeport_done = False
    for app, count in zip(plan["apps"], replicas, strict=True):
        created = b.between(ns_created, b.now - 3 * 86400)
        labels = {"app": app.name, "app.kubernetes.io/name": app.name, "app.kubernetes.io/part-of": ns, "app.kubernetes.io/version": app.image.rsplit(":", 1)[-1]}
        containers = [b.container(app.name, app.image, app.port, app.lang, namespace=ns, app=app.name,
                                  cpu=b.rng.choice(["50m", "100m", "200m", "250m"]), mem=b.rng.choice(["64Mi", "128Mi", "256Mi", "512Mi"]),
                                  config_mount="/etc/" + app.name)]
        pod_ann = {"prometheus.io/scrape": "true", "prometheus.io/port": "9090", DEFAULT_CONTAINER_ANN: app.name}
        if app.sidecar:
            side = b.container("envoy", "envoyproxy/envoy:v1.32.3", 15001, "generic", namespace=ns, app=app.name, cpu="50m", mem="64Mi",
                               env_count=2, probes=False, sidecar=True)
            side.pop("securityContext")
            side["args"] = ["--config-path", "/etc/envoy/envoy.yaml", "--log-level", "info"]
            containers.append(side)
        tpl = b.pod_template(app.name, {"app": app.name, "app.kubernetes.io/name": app.name, "version": labels["app.kubernetes.io/version"]},
                             containers, service_account=f"{ns}-app", annotations=pod_ann)
        b.configmap(f"{app.name}-config", ns, created, {"feature-flags": "new-checkout=false,dark-mode=true", "app.yaml": f"name: {app.name}\nport: {app.port}\n"},
                    labels={"app": app.name})
        b.secret(f"{app.name}-db", ns, created, {"password": f"pw-{short_hash(ns + app.name, 12)}", "username": app.name.replace("-", "_")})
        b.deployment(app.name, ns, tpl, count, created, labels, revisions=1 + b.rng.randint(0, 3),
                     annotations={"kubernetes.io/change-cause": f"kubectl set image deployment/{app.name} {app.name}={app.image}"})
        svc_type = "ClusterIP"
        if not nodeport_done and app.lang in ("node", "nginx"):
            svc_type = "NodePort"
            nodeport_done = True
        services.append(b.service(app.name, ns, created, {"app": app.name}, [("http", 80, "http", "TCP")], svc_type=svc_type,
                                  labels={"app": app.name}))
        if app.lang in ("node", "nginx") or app is plan["apps"][0]:
            b.out.add("networking.k8s.io/v1/ingresses", {
                "metadata": b.meta(app.name, ns, created, {"app": app.name}),
                "spec": {
                    "ingressClassName": b.ingress_class,
                    "rules": [{"host": f"{app.name}.{ns}.example.com", "http": {"paths": [
                        {"backend": {"service": {"name": app.name, "port": {"name": "http"}}}, "path": "/", "pathType": "Prefix"}]}}],
                    "tls": [{"hosts": [f"{app.name}.{ns}.example.com"], "secretName": f"{ns}-tls"}],
                },
                "status": {"loadBalancer": {"ingress": [{"ip": b.node_ips[b.nodes[0]]}]}},
            })
    # statefulset with PVCs
    sname, simage, sport, slang = plan["stateful"]
    sreplicas = plan["sts_replicas"]
    _statefulset(b, sname, ns, simage, sport, slang, sreplicas, ns_created + 120, services)
    if i == 0:
        c = b.container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2", 9100, "go", namespace=ns, app="node-exporter",
                        cpu="50m", mem="32Mi", env_count=2)
        c["args"] = ["--path.rootfs=/host"]
        _daemonset(b, "node-exporter", ns, [c], ns_created + 60, {"app.kubernetes.io/name": "node-exporter"},
                   extra_tolerations=[{"effect": "NoSchedule", "operator": "Exists"}])
        _job(b, "db-migrate-" + short_hash(ns, 5), ns, b.now - 86400 * 2, "ghcr.io/acme/migrations:2024.12.1",
             command=["/bin/sh", "-c", "echo applying migrations; echo 42 migrations applied"])
        # ImagePullBackOff
        c = b.container("legacy-api", "registry.example.com/legacy/api:v0.9.9-doesnotexist", 8080, "java", namespace=ns, app="legacy-api")
        tpl = b.pod_template("legacy-api", {"app": "legacy-api"}, [c])
        b.deployment("legacy-api", ns, tpl, 1, b.now - 3600 * 3, {"app": "legacy-api"}, pod_state="imagepull")
    if i == 1:
        c = b.container("reconciler", "ghcr.io/acme/reconciler:0.7.1", 8080, "python", namespace=ns, app="reconciler")
        tpl = b.pod_template("reconciler", {"app": "reconciler"}, [c], annotations={ANN_BEHAVIOUR: "crashloop"})
        b.deployment("reconciler", ns, tpl, 1, b.now - 3600 * 6, {"app": "reconciler"}, pod_state="crashloop")
    # cronjob with two finished jobs
    cj_name = ["nightly-report", "cleanup", "rollup", "sync"][i % 4]
    schedule = ["0 2 * * *", "*/30 * * * *", "15 * * * *", "*/10 * * * *"][i % 4]
    cj = {
        "metadata": b.meta(cj_name, ns, ns_created + 300),
        "spec": {
            "concurrencyPolicy": "Forbid",
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {}, "spec": {"backoffLimit": 2, "template": {"metadata": {}, "spec": {
                "containers": [{"name": "report", "image": "busybox:1.37.0", "imagePullPolicy": "IfNotPresent",
                                "command": ["/bin/sh", "-c", f"echo running {cj_name}; date; echo done"],
                                "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "OnFailure", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30}}}},
            "schedule": schedule,
            "successfulJobsHistoryLimit": 3,
            "suspend": False,
        },
        "status": {},
    }
    b.out.add("batch/v1/cronjobs", cj)
    from tamer_tui.sim.controllers import CronSchedule  # late import: controllers imports this module

    sched = CronSchedule.parse(schedule)
    latest = sched.last_at_or_before(b.now - 60, b.now - 3 * 86400)
    earlier = sched.last_at_or_before(latest - 1, latest - 3 * 86400) if latest is not None else None
    last = None
    for when in (earlier, latest):
        if when is None:
            continue
        jname = f"{cj_name}-{int(when // 60)}"
        _job(b, jname, ns, when, "busybox:1.37.0", owner=b.owner_ref("batch/v1", "CronJob", cj),
             command=["/bin/sh", "-c", f"echo running {cj_name}; date; echo done"])
        last = when
    if last is not None:
        cj["status"] = {"lastScheduleTime": rfc3339(last), "lastSuccessfulTime": rfc3339(last + 11)}


def _statefulset(b: _Builder, name: str, ns: str, image: str, port: int, lang: str, replicas: int, created: float,
                 services: list[dict[str, Any]]) -> None:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "database" if lang in ("postgres", "redis") else "broker"}
    c = b.container(name, image, port, lang, namespace=ns, app=name, cpu="250m", mem="512Mi", env_count=6, probes=True)
    c["ports"] = [{"containerPort": port, "name": "tcp", "protocol": "TCP"}]
    c["livenessProbe"] = {"exec": {"command": ["/bin/sh", "-c", "exec true"]}, "failureThreshold": 6, "initialDelaySeconds": 30,
                          "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 5}
    c["readinessProbe"] = {"tcpSocket": {"port": port}, "failureThreshold": 6, "initialDelaySeconds": 5, "periodSeconds": 10,
                           "successThreshold": 1, "timeoutSeconds": 5}
    c["securityContext"] = {"runAsUser": 1001, "runAsNonRoot": True}
    c["volumeMounts"] = [{"mountPath": "/var/lib/data", "name": "data"}, {"mountPath": "/tmp", "name": "tmp"}]
    tpl = b.pod_template(name, dict(labels), [c], volumes=[{"emptyDir": {}, "name": "tmp"}])
    rev = f"{name}-{revision_hash(tpl)}"
    sts = {
        "metadata": b.meta(name, ns, created, dict(labels)),
        "spec": {
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "podManagementPolicy": "OrderedReady",
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(labels)},
            "serviceName": f"{name}-headless",
            "template": tpl,
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
            "volumeClaimTemplates": [{
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}, "volumeMode": "Filesystem"},
                "status": {"phase": "Pending"},
            }],
        },
        "status": {
            "availableReplicas": replicas,
            "collisionCount": 0,
            "currentReplicas": replicas,
            "currentRevision": rev,
            "observedGeneration": 1,
            "readyReplicas": replicas,
            "replicas": replicas,
            "updateRevision": rev,
            "updatedReplicas": replicas,
        },
    }
    b.out.add("apps/v1/statefulsets", sts)
    b.out.add("apps/v1/controllerrevisions", {
        "metadata": b.meta(rev, ns, created, {**labels, "controller.kubernetes.io/hash": rev.rsplit("-", 1)[1]},
                           owner=b.owner_ref("apps/v1", "StatefulSet", sts)),
        "data": {"spec": {"template": {"$patch": "replace", **copy.deepcopy(tpl)}}},
        "revision": 1,
    })
    services.append(b.service(f"{name}-headless", ns, created, labels, [("tcp", port, "tcp", "TCP")], headless=True,
                              labels=dict(labels)))
    services.append(b.service(name, ns, created, labels, [("tcp", port, "tcp", "TCP")], labels=dict(labels)))
    names = [f"{name}-{k}" for k in range(replicas)]
    nodes = [b.nodes[k % len(b.nodes)] for k in range(replicas)]
    tpl_pods = copy.deepcopy(tpl)
    tpl_pods["spec"]["volumes"].insert(0, {"name": "data", "persistentVolumeClaim": {"claimName": "@@PVC@@"}})
    for k, (pname, node) in enumerate(zip(names, nodes, strict=True)):
        pvc_name = f"data-{pname}"
        t = copy.deepcopy(tpl_pods)
        t["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] = pvc_name
        t["metadata"]["labels"] = {**labels, "apps.kubernetes.io/pod-index": str(k), "controller-revision-hash": rev,
                                   "statefulset.kubernetes.io/pod-name": pname}
        owner = {"metadata": sts["metadata"], "spec": {"template": t}, "apiVersion": "apps/v1"}
        b.pods_for(owner, "StatefulSet", 1, created + 30 * k, names=[pname], nodes=[node],
                   hostname_subdomain=(pname, f"{name}-headless"))
        pod = b.out.get("v1/pods")[-1]
        pod["spec"]["hostname"] = pname
        pv_name = f"pvc-{b.uid()}"
        pvc = {
            "metadata": b.meta(pvc_name, ns, created + 30 * k, dict(labels), {
                "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
                "volume.kubernetes.io/selected-node": node}),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}},
                     "storageClassName": b.storage_class, "volumeMode": "Filesystem", "volumeName": pv_name},
            "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "8Gi"}, "phase": "Bound"},
        }
        pvc["metadata"]["finalizers"] = ["kubernetes.io/pvc-protection"]
        b.out.add("v1/persistentvolumeclaims", pvc)
        b.out.add("v1/persistentvolumes", {
            "metadata": b.meta(pv_name, None, created + 30 * k + 2, annotations={"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"}),
            "spec": {
                "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "8Gi"},
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": pvc_name, "namespace": ns,
                             "uid": pvc["metadata"]["uid"]},
                "hostPath": {"path": f"/var/lib/rancher/k3s/storage/{pv_name}_{ns}_{pvc_name}", "type": "DirectoryOrCreate"},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
                "persistentVolumeReclaimPolicy": "Delete", "storageClassName": b.storage_class, "volumeMode": "Filesystem",
            },
            "status": {"phase": "Bound"},
        })


_COREFILE = """.:53 {
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
"""

_NGINX_CONF = """server {
    listen 80;
    location / {
        root /usr/share/nginx/html;
        index index.html;
    }
}
"""


def seed_events(data: SeedData, now: float, rng_seed: int = 0) -> None:
    """Add the events a real cluster would show for the seeded trouble-makers (BackOff, Failed ...)."""
    rng = random.Random(rng_seed)
    for pod in data.get("v1/pods"):
        statuses = pod["status"].get("containerStatuses") or []
        for cs in statuses:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason not in ("CrashLoopBackOff", "ImagePullBackOff"):
                continue
            meta = pod["metadata"]
            base = {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
                "fieldPath": f"spec.containers{{{cs['name']}}}",
            }
            first = parse_rfc3339(meta["creationTimestamp"]) or now
            items = []
            if reason == "CrashLoopBackOff":
                items.append(("Warning", "BackOff", "Back-off restarting failed container "
                              f"{cs['name']} in pod {meta['name']}_{meta['namespace']}({meta['uid']})", cs["restartCount"] * 5))
                items.append(("Normal", "Pulled", f'Container image "{cs["image"]}" already present on machine', cs["restartCount"]))
            else:
                items.append(("Normal", "Pulling", f'Pulling image "{cs["image"]}"', 40))
                items.append(("Warning", "Failed", f'Failed to pull image "{cs["image"]}": rpc error: code = NotFound desc = failed to pull and '
                              f'unpack image "{cs["image"]}": failed to resolve reference "{cs["image"]}": '
                              f'{cs["image"]}: not found', 40))
                items.append(("Warning", "Failed", "Error: ErrImagePull", 40))
                items.append(("Normal", "BackOff", f'Back-off pulling image "{cs["image"]}"', 700))
                items.append(("Warning", "Failed", "Error: ImagePullBackOff", 700))
            for etype, ereason, msg, count in items:
                data.add("v1/events", {
                    "metadata": {"name": f"{meta['name']}.{rng.getrandbits(64):016x}", "namespace": meta["namespace"],
                                 "creationTimestamp": rfc3339(first)},
                    "involvedObject": base,
                    "reason": ereason,
                    "message": msg,
                    "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
                    "firstTimestamp": rfc3339(first),
                    "lastTimestamp": rfc3339(now - rng.randint(5, 60)),
                    "count": count,
                    "type": etype,
                    "eventTime": None,
                    "reportingComponent": "kubelet",
                    "reportingInstance": pod["spec"]["nodeName"],
                })
