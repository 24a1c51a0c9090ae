"""The real helm binary against the simulator: install, list, status, upgrade, history, rollback and
uninstall of a small local chart (ConfigMap + Deployment + Service), with helm's default server-side
apply and with ``--server-side=false``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tamer_tui.sim.server import SimHandle
from tests.services import helm_bin
from tests.sim.conftest import kubectl, kubectl_env

pytestmark = pytest.mark.helm

CHART_YAML = """apiVersion: v2
name: demo
description: tamer sim test chart
version: 0.1.0
appVersion: "1.0"
"""
VALUES = """replicas: 1
image: nginx:1.25
message: hello
"""
TEMPLATES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels: {app.kubernetes.io/instance: {{ .Release.Name }}}
data:
  message: {{ .Values.message | quote }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app: {{ .Release.Name }}-web}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        ports: [{containerPort: 80, name: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: {{ .Release.Name }}-web}
  ports: [{port: 80, targetPort: http, name: http}]
"""


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chart") / "demo"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(CHART_YAML)
    (root / "values.yaml").write_text(VALUES)
    (root / "templates" / "all.yaml").write_text(TEMPLATES)
    return root


def helm(sim: SimHandle, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with the simulator's kubeconfig and private helm directories."""
    home = Path(sim.kubeconfig).parent
    env = kubectl_env(sim)
    env.update(
        HELM_CACHE_HOME=str(home / "helm-cache"),
        HELM_CONFIG_HOME=str(home / "helm-config"),
        HELM_DATA_HOME=str(home / "helm-data"),
    )
    env.pop("HELM_DRIVER", None)
    argv = [helm_bin(), "--kubeconfig", sim.kubeconfig, "--kube-context", sim.context, *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _deploy(sim: SimHandle, ns: str, name: str) -> dict:
    return json.loads(kubectl(sim, "get", "deploy", name, "-n", ns, "-o", "json").stdout)


@pytest.mark.parametrize("server_side", [True, False], ids=["server-side", "client-side"])
def test_helm_release_lifecycle(sim: SimHandle, chart: Path, server_side: bool) -> None:
    """install -> list -> status -> upgrade -> history -> rollback -> uninstall all work against the sim."""
    ns = "helm-ssa" if server_side else "helm-csa"
    mode = [] if server_side else ["--server-side=false"]
    res = helm(sim, "install", "demo", str(chart), "-n", ns, "--create-namespace", *mode)
    assert "STATUS: deployed" in res.stdout
    assert _deploy(sim, ns, "demo-web")["spec"]["replicas"] == 1
    svc = json.loads(kubectl(sim, "get", "svc", "demo-web", "-n", ns, "-o", "json").stdout)
    assert svc["spec"]["clusterIP"] and svc["spec"]["ports"][0]["targetPort"] == "http"

    releases = json.loads(helm(sim, "list", "-n", ns, "-o", "json").stdout)
    assert [(r["name"], r["status"], str(r["revision"])) for r in releases] == [("demo", "deployed", "1")]
    status = helm(sim, "status", "demo", "-n", ns).stdout
    assert "STATUS: deployed" in status and "REVISION: 1" in status

    helm(sim, "upgrade", "demo", str(chart), "-n", ns, "--set", "replicas=3", "--set", "message=bye", *mode)
    assert _deploy(sim, ns, "demo-web")["spec"]["replicas"] == 3
    cm = json.loads(kubectl(sim, "get", "cm", "demo-config", "-n", ns, "-o", "json").stdout)
    assert cm["data"]["message"] == "bye"
    history = json.loads(helm(sim, "history", "demo", "-n", ns, "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]

    helm(sim, "rollback", "demo", "1", "-n", ns, *mode)
    assert _deploy(sim, ns, "demo-web")["spec"]["replicas"] == 1
    cm = json.loads(kubectl(sim, "get", "cm", "demo-config", "-n", ns, "-o", "json").stdout)
    assert cm["data"]["message"] == "hello"
    history = json.loads(helm(sim, "history", "demo", "-n", ns, "-o", "json").stdout)
    assert [h["status"] for h in history] == ["superseded", "superseded", "deployed"]

    res = helm(sim, "uninstall", "demo", "-n", ns)
    assert 'release "demo" uninstalled' in res.stdout
    left = kubectl(sim, "get", "deploy,svc,cm,secret", "-n", ns, "-l", "owner!=nobody", "-o", "name").stdout.split()
    assert not [x for x in left if "demo" in x], left
    assert json.loads(helm(sim, "list", "-n", ns, "-o", "json").stdout) == []


def test_helm_binary_is_usable() -> None:
    """The helm binary found via TAMER_HELM_BIN / PATH runs (guards against a broken CI download)."""
    res = subprocess.run([helm_bin(), "version", "--short"], capture_output=True, text=True, timeout=30, check=False)
    assert res.returncode == 0 and res.stdout.startswith("v"), res.stderr
    assert os.access(helm_bin(), os.X_OK)
