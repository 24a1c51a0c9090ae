"""The real kubectl reading the simulator's OpenAPI documents: ``kubectl explain`` for built-in and
custom resources, client-side apply computing its strategic merge patch from the schema, and the
client-side -> server-side apply upgrade."""

from __future__ import annotations

import json

import pytest

from tamer_tui.sim.server import SimHandle
from tests.sim.conftest import kubectl

pytestmark = pytest.mark.kubectl

NS = "oapi"

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pizzas.food.example.com}
spec:
  group: food.example.com
  scope: Namespaced
  names: {plural: pizzas, singular: pizza, kind: Pizza}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A pizza to bake.
        properties:
          spec:
            type: object
            description: What goes on the pizza.
            properties:
              toppings:
                type: array
                description: Toppings in order of application.
                items: {type: string}
              size: {type: integer, description: Diameter in centimetres.}
"""


def deployment(containers: str, replicas: int = 1) -> str:
    """A Deployment manifest in the test namespace."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {NS}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:{containers}
"""


ONE = """
      - {name: a, image: "a:1", env: [{name: FOO, value: "1"}]}"""
TWO = """
      - {name: a, image: "a:2", env: [{name: FOO, value: "1"}, {name: BAR, value: "2"}]}
      - {name: b, image: "b:1"}"""


@pytest.fixture(scope="module", autouse=True)
def namespace(sim: SimHandle) -> None:
    """The namespace these tests write into."""
    kubectl(sim, "create", "namespace", NS)


def test_explain_builtin_fields_from_the_v3_documents(sim: SimHandle) -> None:
    """kubectl explain (which reads /openapi/v3) shows a built-in field's type, description and
    subfields."""
    out = kubectl(sim, "explain", "deployment.spec.strategy").stdout
    assert "KIND:       Deployment" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out
    out = kubectl(sim, "explain", "pods.spec.containers.ports").stdout
    assert "FIELD: ports <[]ContainerPort>" in out
    assert "containerPort\t<integer> -required-" in out


def test_explain_a_custom_resource(sim: SimHandle) -> None:
    """A new CRD is published in the v3 index and kubectl explain shows its schema."""
    kubectl(sim, "apply", "-f", "-", input=CRD)
    out = kubectl(sim, "explain", "pizzas.spec").stdout
    assert "KIND:       Pizza" in out and "GROUP:      food.example.com" in out
    assert "What goes on the pizza." in out
    assert "toppings\t<[]string>" in out and "size\t<integer>" in out


def test_client_side_apply_merges_lists_by_key_and_keeps_order(sim: SimHandle) -> None:
    """kubectl apply computes a strategic merge patch (with $setElementOrder) that the server applies:
    containers and env merge by name, the manifest's order is kept, and a removed container goes."""
    kubectl(sim, "apply", "-f", "-", input=deployment(ONE))
    kubectl(sim, "apply", "-f", "-", input=deployment(TWO))
    obj = json.loads(kubectl(sim, "get", "deploy", "web", "-n", NS, "-o", "json").stdout)
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["a", "b"]
    assert containers[0]["image"] == "a:2"
    assert [e["name"] for e in containers[0]["env"]] == ["FOO", "BAR"]
    kubectl(sim, "apply", "-f", "-", input=deployment(ONE))
    obj = json.loads(kubectl(sim, "get", "deploy", "web", "-n", NS, "-o", "json").stdout)
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["a"]
    assert [e["name"] for e in containers[0]["env"]] == ["FOO"]


def test_server_side_apply_takes_over_from_client_side_apply(sim: SimHandle) -> None:
    """After kubectl apply, kubectl apply --server-side with a new value takes the fields over without a
    conflict (last-applied upgrade) and keeps the last-applied annotation in sync; another manager
    still gets a conflict naming kubectl."""
    kubectl(sim, "apply", "--server-side", "-f", "-", input=deployment(ONE, replicas=3))
    obj = json.loads(
        kubectl(sim, "get", "deploy", "web", "-n", NS, "-o", "json", "--show-managed-fields").stdout
    )
    assert obj["spec"]["replicas"] == 3
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 3
    apply_entries = {e["manager"]: e for e in obj["metadata"]["managedFields"] if e["operation"] == "Apply"}
    assert "f:replicas" in apply_entries["kubectl"]["fieldsV1"]["f:spec"]
    res = kubectl(
        sim,
        "apply",
        "--server-side",
        "--field-manager=robot",
        "-f",
        "-",
        input=deployment(ONE, replicas=4),
        check=False,
    )
    assert res.returncode != 0
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in res.stderr
