"""Real kubectl against the simulator: get (table, wide, json/yaml, selectors, -A, -w), describe,
CRDs and their custom resources, auth can-i, the restricted user's 403 and a bad token's 401."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from tamer_tui.sim.server import SimHandle
from tests.services import kubectl_bin
from tests.sim.conftest import kubectl, kubectl_env

pytestmark = pytest.mark.kubectl

NS = "kget"

FIXTURES = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: v1
kind: Node
metadata:
  name: kget-node-1
  labels: {{node-role.kubernetes.io/control-plane: "true", kubernetes.io/hostname: kget-node-1}}
spec: {{podCIDR: 10.42.9.0/24}}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: {NS}
  labels: {{app: web, tier: front}}
spec:
  nodeName: kget-node-1
  containers:
  - {{name: app, image: nginx:1.25, ports: [{{containerPort: 80}}]}}
  - {{name: sidecar, image: busybox:1.36, command: [sleep, "3600"]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: db-1
  namespace: {NS}
  labels: {{app: db, tier: back}}
spec:
  containers:
  - {{name: postgres, image: postgres:16}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {NS}, labels: {{app: web}}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: app, image: nginx:1.25}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {NS}}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"""

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              color: {type: string}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Size, type: integer, jsonPath: .spec.size}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusterthings.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: clusterthings, singular: clusterthing, kind: ClusterThing}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


@pytest.fixture(scope="module", autouse=True)
def objects(sim: SimHandle) -> None:
    kubectl(sim, "apply", "-f", "-", input=FIXTURES)


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.strip().splitlines()]


def test_get_pods_table(sim: SimHandle) -> None:
    """kubectl get pods prints the server's table: NAME READY STATUS RESTARTS AGE."""
    out = kubectl(sim, "get", "pods", "-n", NS).stdout
    rows = _rows(out)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    names = {r[0]: r for r in rows[1:]}
    assert set(names) >= {"web-1", "db-1"}
    assert names["web-1"][1].endswith("/2")
    assert names["db-1"][1].endswith("/1")


def test_get_pods_wide(sim: SimHandle) -> None:
    """-o wide adds IP, NODE, NOMINATED NODE and READINESS GATES."""
    out = kubectl(sim, "get", "pod", "web-1", "-n", NS, "-o", "wide").stdout
    header = out.splitlines()[0]
    for col in ("IP", "NODE", "NOMINATED NODE", "READINESS GATES"):
        assert col in header
    assert "kget-node-1" in out.splitlines()[1]


def test_get_other_tables(sim: SimHandle) -> None:
    """Deployments, services and nodes print their usual columns."""
    out = kubectl(sim, "get", "deploy", "-n", NS).stdout
    assert _rows(out)[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert _rows(out)[1][:2] == ["web", "0/0"]
    out = kubectl(sim, "get", "svc", "web", "-n", NS).stdout
    assert _rows(out)[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    row = _rows(out)[1]
    assert row[1] == "ClusterIP" and row[2].count(".") == 3 and row[4] == "80/TCP"
    out = kubectl(sim, "get", "nodes").stdout
    assert _rows(out)[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert any(r[0] == "kget-node-1" and r[2] == "control-plane" for r in _rows(out)[1:])


def test_get_json_and_yaml(sim: SimHandle) -> None:
    """-o json returns a v1 List; -o yaml returns the object with server-filled metadata."""
    data = json.loads(kubectl(sim, "get", "pods", "-n", NS, "-o", "json").stdout)
    assert data["kind"] == "List" and {i["metadata"]["name"] for i in data["items"]} >= {"web-1", "db-1"}
    pod = yaml.safe_load(kubectl(sim, "get", "pod", "db-1", "-n", NS, "-o", "yaml").stdout)
    assert pod["kind"] == "Pod" and pod["metadata"]["uid"] and pod["metadata"]["resourceVersion"]
    assert pod["spec"]["containers"][0]["image"] == "postgres:16"


def test_get_with_selectors_and_all_namespaces(sim: SimHandle) -> None:
    """-l and --field-selector filter; -A adds the NAMESPACE column."""
    out = kubectl(sim, "get", "pods", "-n", NS, "-l", "tier in (front),app!=db", "-o", "name").stdout
    assert out.split() == ["pod/web-1"]
    out = kubectl(
        sim, "get", "pods", "-n", NS, "--field-selector", "spec.nodeName=kget-node-1", "-o", "name"
    ).stdout
    assert out.split() == ["pod/web-1"]
    out = kubectl(sim, "get", "pods", "-A", "-l", "app=db").stdout
    rows = _rows(out)
    assert rows[0][0] == "NAMESPACE" and [NS, "db-1"] in [r[:2] for r in rows[1:]]
    bad = kubectl(sim, "get", "pods", "-n", NS, "--field-selector", "spec.bogus=1", check=False)
    assert bad.returncode != 0 and "field label not supported: spec.bogus" in bad.stderr


def test_describe_pod_deployment_node(sim: SimHandle) -> None:
    """kubectl describe works for a pod, a deployment and a node."""
    out = kubectl(sim, "describe", "pod", "web-1", "-n", NS).stdout
    assert "Name:" in out and "web-1" in out and "nginx:1.25" in out and "sidecar:" in out
    out = kubectl(sim, "describe", "deployment", "web", "-n", NS).stdout
    assert "Selector:" in out and "app=web" in out and "RollingUpdateStrategy" in out
    out = kubectl(sim, "describe", "node", "kget-node-1").stdout
    assert "Name:" in out and "kget-node-1" in out and "PodCIDR" in out


def test_get_watch_prints_new_objects(sim: SimHandle) -> None:
    """kubectl get -w prints the current list, then a line for an object created afterwards."""
    argv = [
        kubectl_bin(),
        "--kubeconfig",
        sim.kubeconfig,
        "--context",
        sim.context,
        "get",
        "cm",
        "-n",
        NS,
        "-w",
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kubectl_env(sim)
    )
    try:
        time.sleep(1.5)
        kubectl(sim, "create", "configmap", "watched-cm", "-n", NS, "--from-literal=a=b")
        deadline = time.time() + 20
        lines: list[str] = []
        assert proc.stdout is not None
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "watched-cm" in line:
                break
        assert any(line.split()[:2] == ["watched-cm", "1"] for line in lines), lines
    finally:
        proc.kill()
        proc.wait(10)


def test_crd_then_custom_resources(sim: SimHandle) -> None:
    """A created CRD is served at once: kubectl creates and lists its resources by plural and short name."""
    kubectl(sim, "apply", "-f", "-", input=CRD)
    kubectl(
        sim,
        "apply",
        "-f",
        "-",
        input=f"""
apiVersion: example.com/v1
kind: Gadget
metadata: {{name: g1, namespace: {NS}}}
spec: {{size: 3, color: red}}
---
apiVersion: example.com/v1alpha1
kind: ClusterThing
metadata: {{name: thing-1}}
anything: [1, 2]
""",
    )
    rows = _rows(kubectl(sim, "get", "gd", "-n", NS).stdout)
    assert rows[0] == ["NAME", "COLOR", "SIZE", "AGE"]
    assert rows[1][:3] == ["g1", "red", "3"]
    assert not rows[1][3].startswith("20")  # AGE is relative, not a timestamp
    out = kubectl(sim, "get", "gadgets.example.com", "g1", "-n", NS, "-o", "json").stdout
    assert json.loads(out)["spec"] == {"size": 3, "color": "red"}
    out = kubectl(sim, "get", "clusterthings", "-o", "name").stdout
    assert out.split() == ["clusterthing.example.com/thing-1"]
    res = kubectl(sim, "api-resources", "--api-group=example.com").stdout
    assert "gadgets" in res and "gd" in res and "clusterthings" in res
    kubectl(sim, "delete", "crd", "clusterthings.example.com")
    gone = kubectl(sim, "get", "clusterthings.example.com", check=False)
    assert gone.returncode != 0


def test_auth_can_i(sim: SimHandle) -> None:
    """kubectl auth can-i says yes for the admin and no for the restricted user outside default."""
    assert kubectl(sim, "auth", "can-i", "delete", "pods", "-n", "kube-system").stdout.strip() == "yes"
    res = kubectl(
        sim, "auth", "can-i", "list", "pods", "-n", "kube-system", context=sim.restricted_context, check=False
    )
    assert res.stdout.strip() == "no" and res.returncode == 1
    res = kubectl(sim, "auth", "can-i", "list", "pods", "-n", "default", context=sim.restricted_context)
    assert res.stdout.strip() == "yes"


def test_restricted_user_is_forbidden(sim: SimHandle) -> None:
    """The restricted context gets the real 403 message outside namespace default."""
    res = kubectl(sim, "get", "pods", "-n", "kube-system", context=sim.restricted_context, check=False)
    assert res.returncode != 0
    assert (
        'pods is forbidden: User "restricted" cannot list resource "pods" in API group "" in the namespace "kube-system"'
        in res.stderr
    )
    ok = kubectl(sim, "get", "pods", "-n", "default", context=sim.restricted_context)
    assert ok.returncode == 0


def test_wrong_token_is_unauthorized(sim: SimHandle) -> None:
    """A wrong bearer token makes kubectl report Unauthorized."""
    res = kubectl(sim, "get", "pods", "--token", "not-a-token", check=False)
    assert res.returncode != 0 and "Unauthorized" in res.stderr
