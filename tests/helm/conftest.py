"""Fixtures for the Helm engine tests.

* ``helm_env`` (module): private ``HELM_CONFIG_HOME``/``HELM_CACHE_HOME``/``HELM_DATA_HOME`` (and a
  private kube discovery cache) under tmp_path, so no test touches the real user's helm state.
* ``chart_server`` (module): a chart repository served by ``http.server`` on 127.0.0.1 from a thread:
  the chart ``demo`` in versions 0.1.0, 0.2.0 and 0.3.0-rc.1 and the chart ``toolbox``, made with the
  real ``helm create``/``helm package``/``helm repo index`` (relative URLs, under ``/charts``). Every
  request path is recorded, to check what was downloaded. The charts add a ConfigMap showing
  ``.Values.message``, a test hook running ``.Values.testScript``, and (``failHook=true``) a
  post-install/upgrade hook pod that exits 4.
* ``sim`` (module): a small ``tamer sim``; ``kube`` a :class:`KubeManager` on it (closed after the test).
* ``helm(...)``: run the real helm CLI with the test environment (for cross-checks).
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tamer_tui.core.kube.helm import HelmEngine
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.sim.server import SimHandle
from tests.services import helm_bin
from tests.sim_fixtures import module_sim, sim_kube

TEST_HOOK = """apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "%(name)s.fullname" . }}-test"
  labels:
    {{- include "%(name)s.labels" . | nindent 4 }}
  annotations:
    "helm.sh/hook": test
spec:
  containers:
    - name: check
      image: busybox
      command: ["sh", "-c", {{ .Values.testScript | quote }}]
  restartPolicy: Never
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "%(name)s.fullname" . }}-settings
data:
  message: {{ .Values.message | quote }}
  chartVersion: {{ .Chart.Version | quote }}
"""
FAIL_HOOK = """{{- if .Values.failHook }}
apiVersion: v1
kind: Pod
metadata:
  name: "{{ include "%(name)s.fullname" . }}-fail-hook"
  annotations:
    "helm.sh/hook": post-install,post-upgrade
spec:
  containers:
    - name: fail
      image: busybox
      command: ["sh", "-c", "exit 4"]
  restartPolicy: Never
{{- end }}
"""


@dataclass
class ChartServer:
    """The served chart repository."""

    url: str
    root: Path
    source: Path  # chart directories, packages and the index
    requests: list[str] = field(default_factory=list)


def helm_run(env: dict[str, str], *args: str, check: bool = True, cwd: Path | None = None,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real helm with ``env``; fails the test with helm's output when ``check`` and it fails."""
    proc = subprocess.run([helm_bin(), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120, check=False, input=input)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@functools.cache
def helm_major() -> int:
    """The major version of the helm under test (3 or 4: their ``helm list`` defaults differ)."""
    out = subprocess.run([helm_bin(), "version", "--short"], capture_output=True, text=True, timeout=30, check=False)
    text = out.stdout.strip().lstrip("v")
    return int(text.split(".")[0]) if text[:1].isdigit() else 3


def list_all_args() -> list[str]:
    """``helm list`` flags for every status (helm 3 needs --all; helm 4 lists all by default, no --all)."""
    return ["--all"] if helm_major() < 4 else []


def list_default_args() -> list[str]:
    """``helm list`` flags for helm 3's default states (deployed and failed), on helm 3 and 4."""
    return [] if helm_major() < 4 else ["--deployed", "--failed"]


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """HELM_* homes, repository file and cache, and KUBECACHEDIR in a private temp dir (values only)."""
    base = tmp_path_factory.mktemp("helm-home")
    return {
        "HELM_CONFIG_HOME": str(base / "config"),
        "HELM_CACHE_HOME": str(base / "cache"),
        "HELM_DATA_HOME": str(base / "data"),
        "HELM_REPOSITORY_CONFIG": str(base / "config" / "repositories.yaml"),
        "HELM_REPOSITORY_CACHE": str(base / "cache" / "repository"),
        "KUBECACHEDIR": str(base / "kube-cache"),
    }


def full_env(helm_env: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **helm_env}
    for var in ("HELM_DRIVER", "HELM_DEBUG", "HELM_NAMESPACE", "HELM_KUBECONTEXT", "KUBECONFIG"):
        env.pop(var, None)
    return env


def _make_chart(env: dict[str, str], parent: Path, name: str, version: str, app_version: str,
                message: str, extra_values: str = "", keywords: tuple[str, ...] = ()) -> Path:
    helm_run(env, "create", name, cwd=parent)
    root = parent / name
    chart_yaml = (root / "Chart.yaml").read_text()
    chart_yaml = chart_yaml.replace("version: 0.1.0", f"version: {version}")
    chart_yaml = chart_yaml.replace('appVersion: "1.16.0"', f'appVersion: "{app_version}"')
    if keywords:
        chart_yaml += "keywords:\n" + "".join(f"  - {k}\n" for k in keywords)
        chart_yaml = chart_yaml.replace("description: A Helm chart for Kubernetes",
                                        "description: Swiss army knife for operators")
    (root / "Chart.yaml").write_text(chart_yaml)
    values = (root / "values.yaml").read_text()
    values += f"\nmessage: {message}\ntestScript: echo connection-ok\n{extra_values}"
    (root / "values.yaml").write_text(values)
    (root / "templates" / "tests" / "test-connection.yaml").write_text(TEST_HOOK % {"name": name})
    (root / "templates" / "settings.yaml").write_text(CONFIGMAP % {"name": name})
    (root / "templates" / "fail-hook.yaml").write_text(FAIL_HOOK % {"name": name})
    (root / "README.md").write_text(f"# {name} {version}\n\nThe {name} chart for Tamer's tests.\n")
    return root


@pytest.fixture(scope="module")
def chart_server(tmp_path_factory: pytest.TempPathFactory, helm_env: dict[str, str]) -> Iterator[ChartServer]:
    """A static chart repository on 127.0.0.1 (served from a thread) with demo 0.1.0/0.2.0/0.3.0-rc.1
    and toolbox 1.0.0."""
    env = full_env(helm_env)
    root = tmp_path_factory.mktemp("repo-root")
    served = root / "charts"
    served.mkdir()
    work = tmp_path_factory.mktemp("chart-src")
    for version, app, message, extra in (("0.1.0", "1.0.0", "hello", ""),
                                         ("0.2.0", "2.0.0", "hello-two", "feature:\n  enabled: true\n"),
                                         ("0.3.0-rc.1", "3.0.0-rc.1", "preview", "")):
        parent = work / version
        parent.mkdir()
        chart = _make_chart(env, parent, "demo", version, app, message, extra)
        helm_run(env, "package", str(chart), "-d", str(served))
    parent = work / "toolbox"
    parent.mkdir()
    chart = _make_chart(env, parent, "toolbox", "1.0.0", "9.9.9", "tools", keywords=("database", "debug"))
    helm_run(env, "package", str(chart), "-d", str(served))
    helm_run(env, "repo", "index", str(served))

    server_info = ChartServer(url="", root=root, source=work)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            server_info.requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, name="chart-repo", daemon=True)
    thread.start()
    server_info.url = f"http://127.0.0.1:{httpd.server_address[1]}/charts"
    try:
        yield server_info
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """A small simulator for the whole module (controllers run pods and test hooks)."""
    with module_sim(tmp_path_factory, "helm-sim", pods=4, namespaces=1, nodes=1, seed=5, log_rate=0.0) as handle:
        yield handle


@pytest.fixture
async def kube(sim: SimHandle) -> AsyncIterator[KubeManager]:
    """A KubeManager on the simulator, closed after the test."""
    async with sim_kube(sim) as km:
        yield km


@pytest.fixture
def engine(kube: KubeManager, helm_env: dict[str, str]) -> HelmEngine:
    """The engine with the real helm binary and the private helm homes."""
    return HelmEngine(kube, helm_bin=helm_bin(), env=helm_env)


def sim_helm(sim: SimHandle, helm_env: dict[str, str], *args: str, check: bool = True,
             extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real helm against the simulator (its kubeconfig and admin context)."""
    env = {**full_env(helm_env), **(extra_env or {})}
    return helm_run(env, *args, "--kubeconfig", sim.kubeconfig, "--kube-context", sim.context, check=check)
