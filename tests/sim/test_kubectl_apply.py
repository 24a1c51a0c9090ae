"""Real kubectl write paths against the simulator: create/apply (client- and server-side, with a
conflict), diff, patch, scale, field validation, dry-run and delete with each cascade mode."""

from __future__ import annotations

import json
import time

import pytest

from tamer_tui.sim.server import SimHandle
from tests.sim.conftest import kubectl

pytestmark = pytest.mark.kubectl

NS = "kapply"


def deployment(name: str, replicas: int = 1, image: str = "nginx:1.25", extra_spec: str = "") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {NS}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: app
        image: {image}
        ports: [{{containerPort: 80}}]{extra_spec}
"""


@pytest.fixture(scope="module", autouse=True)
def namespace(sim: SimHandle) -> None:
    kubectl(sim, "create", "namespace", NS)


def _get(sim: SimHandle, *args: str) -> dict:
    return json.loads(kubectl(sim, "get", *args, "-n", NS, "-o", "json", "--show-managed-fields").stdout)


def _wait_for(predicate, timeout: float = 20.0, interval: float = 0.3):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return last


def test_client_side_apply_create_update_unchanged(sim: SimHandle) -> None:
    """kubectl apply creates, then reports unchanged, then patches a changed field (3-way merge)."""
    res = kubectl(sim, "apply", "-f", "-", input=deployment("csa", replicas=1))
    assert "deployment.apps/csa created" in res.stdout
    res = kubectl(sim, "apply", "-f", "-", input=deployment("csa", replicas=1))
    assert "deployment.apps/csa unchanged" in res.stdout
    res = kubectl(sim, "apply", "-f", "-", input=deployment("csa", replicas=1, image="nginx:1.27"))
    assert "deployment.apps/csa configured" in res.stdout
    obj = _get(sim, "deploy", "csa")
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert obj["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]
    managers = {m["manager"] for m in obj["metadata"].get("managedFields", [])}
    assert "kubectl-client-side-apply" in managers


def test_server_side_apply_and_conflict(sim: SimHandle) -> None:
    """--server-side applies with managedFields; another manager changing an owned field conflicts until forced."""
    res = kubectl(sim, "apply", "--server-side", "-f", "-", input=deployment("ssa", replicas=2))
    assert "deployment.apps/ssa serverside-applied" in res.stdout
    obj = _get(sim, "deploy", "ssa")
    entry = next(m for m in obj["metadata"]["managedFields"] if m["manager"] == "kubectl")
    assert entry["operation"] == "Apply" and "f:replicas" in entry["fieldsV1"]["f:spec"]
    res = kubectl(
        sim,
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        "-",
        input=deployment("ssa", replicas=5),
        check=False,
    )
    assert res.returncode != 0
    assert "conflict" in res.stderr.lower() and ".spec.replicas" in res.stderr
    assert _get(sim, "deploy", "ssa")["spec"]["replicas"] == 2
    res = kubectl(
        sim,
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other",
        "-f",
        "-",
        input=deployment("ssa", replicas=5),
    )
    assert _get(sim, "deploy", "ssa")["spec"]["replicas"] == 5


def test_diff_reports_changes_only(sim: SimHandle) -> None:
    """kubectl diff exits 0 without changes and 1 with a unified diff of the change (server dry-run)."""
    kubectl(sim, "apply", "-f", "-", input=deployment("dif", replicas=1))
    same = kubectl(sim, "diff", "-f", "-", input=deployment("dif", replicas=1), check=False)
    assert same.returncode == 0, same.stderr
    changed = kubectl(sim, "diff", "-f", "-", input=deployment("dif", replicas=4), check=False)
    assert changed.returncode == 1, changed.stderr
    assert "-  replicas: 1" in changed.stdout and "+  replicas: 4" in changed.stdout
    assert _get(sim, "deploy", "dif")["spec"]["replicas"] == 1


def test_patch_types_and_scale(sim: SimHandle) -> None:
    """kubectl patch (strategic, merge, json) and kubectl scale change the stored object."""
    kubectl(sim, "apply", "-f", "-", input=deployment("pat", replicas=1))
    kubectl(
        sim,
        "patch",
        "deploy",
        "pat",
        "-n",
        NS,
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}',
    )
    obj = _get(sim, "deploy", "pat")
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1 and containers[0]["image"] == "nginx:2" and containers[0]["ports"]
    kubectl(
        sim, "patch", "deploy", "pat", "-n", NS, "--type=merge", "-p", '{"metadata":{"labels":{"x":"y"}}}'
    )
    kubectl(
        sim,
        "patch",
        "deploy",
        "pat",
        "-n",
        NS,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":2}]',
    )
    obj = _get(sim, "deploy", "pat")
    assert obj["metadata"]["labels"]["x"] == "y" and obj["spec"]["replicas"] == 2
    bad = kubectl(
        sim,
        "patch",
        "deploy",
        "pat",
        "-n",
        NS,
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":9}]',
        check=False,
    )
    assert bad.returncode != 0
    res = kubectl(sim, "scale", "deploy", "pat", "-n", NS, "--replicas=4")
    assert "scaled" in res.stdout
    assert _get(sim, "deploy", "pat")["spec"]["replicas"] == 4
    stale = kubectl(
        sim, "scale", "deploy", "pat", "-n", NS, "--current-replicas=1", "--replicas=2", check=False
    )
    assert stale.returncode != 0


def test_strict_field_validation(sim: SimHandle) -> None:
    """Unknown fields are rejected with kubectl's default --validate=strict and dropped with --validate=false."""
    bad = deployment("strict", extra_spec="\n        bogusField: 1")
    res = kubectl(sim, "apply", "-f", "-", input=bad, check=False)
    assert res.returncode != 0 and 'unknown field "spec.template.spec.containers[0].bogusField"' in res.stderr
    kubectl(sim, "apply", "--validate=false", "-f", "-", input=bad)
    obj = _get(sim, "deploy", "strict")
    assert "bogusField" not in obj["spec"]["template"]["spec"]["containers"][0]


def test_server_dry_run_does_not_persist(sim: SimHandle) -> None:
    """--dry-run=server validates and answers, but nothing is stored."""
    res = kubectl(
        sim, "create", "configmap", "dry", "-n", NS, "--from-literal=a=b", "--dry-run=server", "-o", "json"
    )
    assert json.loads(res.stdout)["data"] == {"a": "b"}
    missing = kubectl(sim, "get", "configmap", "dry", "-n", NS, check=False)
    assert missing.returncode != 0 and 'configmaps "dry" not found' in missing.stderr


def test_delete_orphan_keeps_replicaset(sim: SimHandle) -> None:
    """kubectl delete --cascade=orphan removes the owner and leaves its dependents without ownerReferences."""
    kubectl(
        sim,
        "apply",
        "-f",
        "-",
        input=f"""
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: orphan-rs, namespace: {NS}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: orphan}}}}
  template:
    metadata: {{labels: {{app: orphan}}}}
    spec: {{containers: [{{name: c, image: busybox}}]}}
""",
    )
    uid = _get(sim, "rs", "orphan-rs")["metadata"]["uid"]
    kubectl(
        sim,
        "create",
        "-f",
        "-",
        input=f"""
apiVersion: v1
kind: ConfigMap
metadata:
  name: orphan-dep
  namespace: {NS}
  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: orphan-rs, uid: {uid}}}]
""",
    )
    kubectl(sim, "delete", "rs", "orphan-rs", "-n", NS, "--cascade=orphan")
    dep = _get(sim, "cm", "orphan-dep")
    assert "ownerReferences" not in dep["metadata"]


def test_delete_cascades_to_dependents(sim: SimHandle) -> None:
    """Deleting a deployment (background and foreground) removes its ReplicaSets and pods (garbage collector)."""
    kubectl(sim, "apply", "-f", "-", input=deployment("gc-bg", replicas=2))
    kubectl(sim, "apply", "-f", "-", input=deployment("gc-fg", replicas=1))
    for name in ("gc-bg", "gc-fg"):
        pods = _wait_for(lambda n=name: _get(sim, "pods", "-l", f"app={n}")["items"])
        assert pods, f"the deployment controller never created pods for {name}"
    kubectl(sim, "delete", "deploy", "gc-bg", "-n", NS)
    kubectl(sim, "delete", "deploy", "gc-fg", "-n", NS, "--cascade=foreground")
    for name in ("gc-bg", "gc-fg"):
        gone = _wait_for(
            lambda n=name: (
                not _get(sim, "rs", "-l", f"app={n}")["items"]
                and not _get(sim, "pods", "-l", f"app={n}")["items"]
            )
        )
        assert gone, f"dependents of {name} were not garbage-collected"


def test_delete_reports_not_found(sim: SimHandle) -> None:
    """Deleting a missing object prints the NotFound error; --ignore-not-found succeeds."""
    res = kubectl(sim, "delete", "configmap", "nope", "-n", NS, check=False)
    assert res.returncode != 0 and 'configmaps "nope" not found' in res.stderr
    kubectl(sim, "delete", "configmap", "nope", "-n", NS, "--ignore-not-found")
