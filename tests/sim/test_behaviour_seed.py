"""Tests of the seeded cluster contents (tamer_tui.sim.seed) and seeding speed."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap

import msgspec
import pytest

from tamer_tui.sim.seed import ANN_BEHAVIOUR, ANN_LOG_RATE, build_seed, pod_template_hash

NOW = 1_730_000_000.0


def pods_of(data, namespace: str | None = None) -> list[dict]:
    return [p for p in data.get("v1/pods") if namespace is None or p["metadata"]["namespace"] == namespace]


def test_deterministic_for_seed() -> None:
    """The same options, seed and clock give byte-identical objects; another seed differs."""
    a = build_seed(pods=120, seed=7, now=NOW)
    b = build_seed(pods=120, seed=7, now=NOW)
    c = build_seed(pods=120, seed=8, now=NOW)
    enc = msgspec.json.encode
    assert enc(a.objects) == enc(b.objects)
    assert enc(a.objects) != enc(c.objects)


def test_pod_count_is_exact() -> None:
    """--pods N gives exactly N pods (system pods included)."""
    for n in (60, 333, 2000):
        assert len(build_seed(pods=n, now=NOW).get("v1/pods")) == n


def test_pod_json_size_and_shape() -> None:
    """The median pod is 5-6 KB of JSON and carries what real pods carry."""
    data = build_seed(pods=1000, now=NOW)
    pods = pods_of(data)
    sizes = [len(msgspec.json.encode(p)) for p in pods]
    median = statistics.median(sizes)
    print(f"\npod JSON size: median {median:.0f} B, min {min(sizes)}, max {max(sizes)}")
    assert 5000 <= median <= 6000
    app = next(p for p in pods if p["metadata"]["name"].startswith("cart-"))
    meta, spec, status = app["metadata"], app["spec"], app["status"]
    assert meta["ownerReferences"][0]["kind"] == "ReplicaSet" and meta["labels"]["pod-template-hash"]
    assert {m["manager"] for m in meta["managedFields"]} and meta["managedFields"][1]["subresource"] == "status"
    c = spec["containers"][0]
    assert len(c["env"]) >= 10 and c["livenessProbe"] and c["readinessProbe"] and c["resources"]["limits"]
    assert any(v["name"].startswith("kube-api-access-") and "projected" in v for v in spec["volumes"])
    assert spec["nodeName"] and spec["tolerations"]
    assert status["phase"] == "Running" and status["podIP"] and status["hostIP"] and status["qosClass"]
    assert {cond["type"] for cond in status["conditions"]} >= {"Ready", "PodScheduled", "Initialized", "ContainersReady"}
    assert status["containerStatuses"][0]["containerID"].startswith("containerd://")
    assert sum(1 for p in pods if len(p["spec"]["containers"]) == 2) > len(pods) // 5


def test_special_pods() -> None:
    """A chatty pod in default, CrashLoopBackOff pods with lastState, ImagePullBackOff pods."""
    data = build_seed(pods=80, now=NOW)
    pods = pods_of(data)
    chatty = [p for p in pods_of(data, "default") if p["metadata"]["name"].startswith("chatty-")]
    assert len(chatty) == 1 and float(chatty[0]["metadata"]["annotations"][ANN_LOG_RATE]) >= 1000
    crash = [p for p in pods if (p["metadata"].get("annotations") or {}).get(ANN_BEHAVIOUR) == "crashloop"]
    assert len(crash) >= 2
    cs = crash[0]["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff" and cs["restartCount"] > 0
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    pull = [p for p in pods if any((c.get("state") or {}).get("waiting", {}).get("reason") == "ImagePullBackOff"
                                   for c in p["status"]["containerStatuses"])]
    assert pull and pull[0]["status"]["phase"] == "Pending"
    warnings = [e for e in data.get("v1/events") if e["type"] == "Warning"]
    assert {e["reason"] for e in warnings} >= {"BackOff", "Failed"}


def test_cluster_shape_per_flavor() -> None:
    """System workloads depend on the flavor; app namespaces have every kind of object."""
    k3s = build_seed(flavor="k3s", namespaces=3, nodes=3, now=NOW)
    names = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in k3s.get("apps/v1/deployments")}
    assert {("kube-system", "coredns"), ("kube-system", "metrics-server"), ("kube-system", "traefik"),
            ("kube-system", "local-path-provisioner")} <= names
    assert [n["metadata"]["name"] for n in k3s.get("v1/nodes")] == ["k3s-server", "k3s-agent-1", "k3s-agent-2"]
    kind = build_seed(flavor="kind", name="dev", nodes=2, now=NOW)
    assert "kindnet" in {d["metadata"]["name"] for d in kind.get("apps/v1/daemonsets")}
    assert [n["metadata"]["name"] for n in kind.get("v1/nodes")] == ["dev-control-plane", "dev-worker"]
    assert any(d["metadata"]["namespace"] == "local-path-storage" for d in kind.get("apps/v1/deployments"))
    mini = build_seed(flavor="minikube", nodes=1, now=NOW)
    assert any(p["metadata"]["name"] == "storage-provisioner" for p in mini.get("v1/pods"))
    ns = {o["metadata"]["name"] for o in k3s.get("v1/namespaces")}
    assert {"default", "kube-system", "kube-public", "kube-node-lease", "shop", "payments", "analytics"} <= ns
    svc_types = {s["spec"]["type"] for s in k3s.get("v1/services")}
    assert {"ClusterIP", "NodePort", "LoadBalancer"} <= svc_types
    for key in ("apps/v1/statefulsets", "apps/v1/daemonsets", "batch/v1/jobs", "batch/v1/cronjobs", "v1/configmaps", "v1/secrets",
                "v1/persistentvolumeclaims", "v1/persistentvolumes", "storage.k8s.io/v1/storageclasses",
                "networking.k8s.io/v1/ingresses", "networking.k8s.io/v1/ingressclasses", "rbac.authorization.k8s.io/v1/roles",
                "rbac.authorization.k8s.io/v1/rolebindings", "v1/endpoints", "v1/events"):
        assert k3s.count(key) > 0, key
    secret_types = {s["type"] for s in k3s.get("v1/secrets")}
    assert {"Opaque", "kubernetes.io/service-account-token"} <= secret_types
    # every daemonset has one pod per node
    for ds in k3s.get("apps/v1/daemonsets"):
        owned = [p for p in k3s.get("v1/pods") if p["metadata"].get("ownerReferences", [{}])[0].get("uid") == ds["metadata"]["uid"]]
        assert sorted(p["spec"]["nodeName"] for p in owned) == sorted(n["metadata"]["name"] for n in k3s.get("v1/nodes"))


def test_replicasets_match_template_hash() -> None:
    """ReplicaSet names/labels carry the pod-template-hash of their template and pods are owned by them."""
    data = build_seed(pods=100, now=NOW)
    for rs in data.get("apps/v1/replicasets"):
        h = rs["metadata"]["labels"]["pod-template-hash"]
        assert rs["metadata"]["name"].endswith("-" + h)
        assert pod_template_hash(rs["spec"]["template"]) == h
    rs_uids = {rs["metadata"]["uid"] for rs in data.get("apps/v1/replicasets")}
    owned = [p for p in data.get("v1/pods") if (p["metadata"].get("ownerReferences") or [{}])[0].get("kind") == "ReplicaSet"]
    assert owned and all(p["metadata"]["ownerReferences"][0]["uid"] in rs_uids for p in owned)


def test_endpoints_list_ready_pods() -> None:
    """Seeded Endpoints list the IPs of the ready pods their service selects."""
    data = build_seed(pods=100, now=NOW)
    ep = next(e for e in data.get("v1/endpoints") if e["metadata"]["name"] == "web" and e["metadata"]["namespace"] == "default")
    ips = {a["ip"] for a in ep["subsets"][0]["addresses"]}
    web = [p for p in pods_of(data, "default") if p["metadata"]["labels"].get("app") == "web"]
    assert ips == {p["status"]["podIP"] for p in web}


SPEED_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from tamer_tui.sim.cluster import Cluster, SimOptions
    from tamer_tui.sim.behaviour import seed_store
    n = int(sys.argv[1])
    c = Cluster(SimOptions(pods=n))
    t = time.perf_counter()
    info = seed_store(c)
    print(json.dumps({"seconds": time.perf_counter() - t, "pods": info["counts"]["v1/pods"]}))
    """
)


@pytest.mark.parametrize("n", [10_000, 50_000])
def test_seeding_speed(n: int) -> None:
    """Seeding N pods into the store (build + bulk_load) takes well under 15 s (run in a fresh process)."""
    proc = subprocess.run([sys.executable, "-c", SPEED_SCRIPT, str(n)], capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nseeding {n} pods: {result['seconds']:.2f} s")
    assert result["pods"] == n
    assert result["seconds"] < 15.0
