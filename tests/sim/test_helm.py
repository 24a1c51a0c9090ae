"""The real helm binaries against the simulator: install, list, status, upgrade, history, rollback and
uninstall of a small local chart (ConfigMap + Deployment + Service).

``TAMER_HELM_BIN`` (helm 3 in CI) runs its default mode; helm 4 (``TAMER_HELM4_BIN``, or
``TAMER_HELM_BIN`` when that is already helm 4) runs both its default server-side apply and
``--server-side=false``.  Helm stores releases in Secrets written as Kubernetes protobuf."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tamer_tui.sim.server import SimHandle
from tests.services import helm_bin, require
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


def _major(binary: str) -> int:
    out = subprocess.run(
        [binary, "version", "--short"], capture_output=True, text=True, timeout=30, check=False
    )
    text = out.stdout.strip().lstrip("v")
    return int(text.split(".")[0]) if text[:1].isdigit() else 0


def helm4_bin() -> str:
    """The helm 4 binary: TAMER_HELM_BIN when it is helm 4, else TAMER_HELM4_BIN."""
    default = helm_bin()
    if _major(default) >= 4:
        return default
    return require("TAMER_HELM4_BIN", "helm 4")


def helm(
    sim: SimHandle, *args: str, check: bool = True, binary: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run helm with the simulator's kubeconfig and private helm directories."""
    home = Path(sim.kubeconfig).parent
    env = kubectl_env(sim)
    env.update(
        HELM_CACHE_HOME=str(home / "helm-cache"),
        HELM_CONFIG_HOME=str(home / "helm-config"),
        HELM_DATA_HOME=str(home / "helm-data"),
    )
    env.pop("HELM_DRIVER", None)
    argv = [binary or helm_bin(), "--kubeconfig", sim.kubeconfig, "--kube-context", sim.context, *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def _deploy(sim: SimHandle, ns: str, name: str) -> dict:
    return json.loads(kubectl(sim, "get", "deploy", name, "-n", ns, "-o", "json").stdout)


def _lifecycle(sim: SimHandle, chart: Path, ns: str, binary: str, mode: list[str]) -> None:
    """install -> list -> status -> upgrade -> history -> rollback -> uninstall, checking the cluster."""
    res = helm(sim, "install", "demo", str(chart), "-n", ns, "--create-namespace", *mode, binary=binary)
    assert "STATUS: deployed" in res.stdout
    assert _deploy(sim, ns, "demo-web")["spec"]["replicas"] == 1
    svc = json.loads(kubectl(sim, "get", "svc", "demo-web", "-n", ns, "-o", "json").stdout)
    assert svc["spec"]["clusterIP"] and svc["spec"]["ports"][0]["targetPort"] == "http"

    releases = json.loads(helm(sim, "list", "-n", ns, "-o", "json", binary=binary).stdout)
    assert [(r["name"], r["status"], str(r["revision"])) for r in releases] == [("demo", "deployed", "1")]
    status = helm(sim, "status", "demo", "-n", ns, binary=binary).stdout
    assert "STATUS: deployed" in status and "REVISION: 1" in status

    helm(
        sim,
        "upgrade",
        "demo",
        str(chart),
        "-n",
        ns,
        "--set",
        "replicas=3",
        "--set",
        "message=bye",
        *mode,
        binary=binary,
    )
    assert _deploy(sim, ns, "demo-web")["spec"]["replicas"] == 3
    cm = json.loads(kubectl(sim, "get", "cm", "demo-config", "-n", ns, "-o", "json").stdout)
    assert cm["data"]["message"] == "bye"
    history = json.loads(helm(sim, "history", "demo", "-n", ns, "-o", "json", binary=binary).stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]

    helm(sim, "rollback", "demo", "1", "-n", ns, *mode, binary=binary)
    assert _deploy(sim, ns, "demo-web")["spec"]["replicas"] == 1
    cm = json.loads(kubectl(sim, "get", "cm", "demo-config", "-n", ns, "-o", "json").stdout)
    assert cm["data"]["message"] == "hello"
    history = json.loads(helm(sim, "history", "demo", "-n", ns, "-o", "json", binary=binary).stdout)
    assert [h["status"] for h in history] == ["superseded", "superseded", "deployed"]

    res = helm(sim, "uninstall", "demo", "-n", ns, binary=binary)
    assert 'release "demo" uninstalled' in res.stdout
    left = kubectl(sim, "get", "deploy,svc,cm,secret", "-n", ns, "-o", "name").stdout.split()
    assert not [x for x in left if "demo" in x], left
    assert json.loads(helm(sim, "list", "-n", ns, "-o", "json", binary=binary).stdout) == []


def test_helm_release_lifecycle(sim: SimHandle, chart: Path) -> None:
    """The default helm (TAMER_HELM_BIN, helm 3 in CI) runs a whole release lifecycle against the sim."""
    _lifecycle(sim, chart, "helm-default", helm_bin(), [])


@pytest.mark.parametrize("server_side", [True, False], ids=["server-side", "client-side"])
def test_helm4_release_lifecycle(sim: SimHandle, chart: Path, server_side: bool) -> None:
    """helm 4 runs a whole release lifecycle with server-side apply (its default) and without."""
    binary = helm4_bin()
    ns = "helm4-ssa" if server_side else "helm4-csa"
    _lifecycle(sim, chart, ns, binary, [] if server_side else ["--server-side=false"])


def test_helm_binary_is_usable() -> None:
    """The helm binary found via TAMER_HELM_BIN / PATH runs (guards against a broken CI download)."""
    res = subprocess.run(
        [helm_bin(), "version", "--short"], capture_output=True, text=True, timeout=30, check=False
    )
    assert res.returncode == 0 and res.stdout.startswith("v"), res.stderr
    assert os.access(helm_bin(), os.X_OK)
