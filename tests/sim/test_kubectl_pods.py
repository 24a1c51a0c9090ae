"""Real kubectl against the simulator's running workloads: logs (tail, follow, since, previous,
container), exec (command and stdin), top, and rollout restart/status/history/undo.

These need the behaviour layer (controllers, log generator, exec, metrics) behind the server."""

from __future__ import annotations

import calendar
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from tamer_tui.sim.server import SimHandle
from tests.services import kubectl_bin
from tests.sim.conftest import kubectl, kubectl_env

pytestmark = pytest.mark.kubectl

NS = "kpods"

WORKLOADS = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: duo, namespace: {NS}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: duo}}}}
  template:
    metadata:
      labels: {{app: duo}}
      annotations: {{sim.tamer.dev/log-rate: "20"}}
    spec:
      containers:
      - {{name: app, image: nginx:1.25, ports: [{{containerPort: 80}}]}}
      - {{name: sidecar, image: envoyproxy/envoy:v1.31.0}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: crashy, namespace: {NS}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: crashy}}}}
  template:
    metadata:
      labels: {{app: crashy}}
      annotations: {{sim.tamer.dev/behaviour: crashloop}}
    spec:
      containers:
      - {{name: main, image: busybox:1.36}}
"""


def _wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.3) -> Any:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return last


def _pods(sim: SimHandle, selector: str) -> list[dict]:
    out = kubectl(sim, "get", "pods", "-n", NS, "-l", selector, "-o", "json").stdout
    return json.loads(out)["items"]


def _running_pod(sim: SimHandle, selector: str) -> str:
    def ready() -> str | None:
        for p in _pods(sim, selector):
            if p.get("status", {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp"):
                return p["metadata"]["name"]
        return None

    name = _wait_for(ready)
    assert name, f"no Running pod for {selector}"
    return name


@pytest.fixture(scope="module", autouse=True)
def workloads(sim: SimHandle) -> None:
    kubectl(sim, "apply", "-f", "-", input=WORKLOADS)


@pytest.fixture(scope="module")
def duo(sim: SimHandle) -> str:
    return _running_pod(sim, "app=duo")


def test_logs_tail_container_and_timestamps(sim: SimHandle, duo: str) -> None:
    """kubectl logs --tail N -c C prints N lines of that container; --timestamps prefixes RFC3339 times."""
    deadline = time.time() + 20  # a pod that just started may not have written 5 lines yet
    while (len(kubectl(sim, "logs", duo, "-n", NS, "-c", "app").stdout.strip().splitlines()) < 6
           or len(kubectl(sim, "logs", duo, "-n", NS, "-c", "sidecar").stdout.strip().splitlines()) < 2):
        assert time.time() < deadline, "the containers never wrote enough lines"
        time.sleep(0.5)
    out = kubectl(sim, "logs", duo, "-n", NS, "-c", "app", "--tail", "5").stdout
    assert len(out.strip().splitlines()) == 5
    out = kubectl(sim, "logs", duo, "-n", NS, "-c", "sidecar", "--tail", "2", "--timestamps").stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line[:4].isdigit() and "T" in line.split()[0] for line in lines)
    res = kubectl(sim, "logs", duo, "-n", NS, "-c", "nope", check=False)
    assert res.returncode != 0 and "nope" in res.stderr
    out = kubectl(sim, "logs", duo, "-n", NS, "--all-containers", "--tail", "1").stdout
    assert len(out.strip().splitlines()) == 2


def test_logs_since_limits_to_recent_lines(sim: SimHandle, duo: str) -> None:
    """--since=1s returns only lines stamped within the last seconds, fewer than the whole log."""
    time.sleep(3.0)
    started = time.time()
    recent = (
        kubectl(sim, "logs", duo, "-n", NS, "-c", "app", "--since=1s", "--timestamps")
        .stdout.strip()
        .splitlines()
    )
    everything = kubectl(sim, "logs", duo, "-n", NS, "-c", "app").stdout.strip().splitlines()
    assert recent and len(everything) > len(recent)
    for line in recent:
        stamp = calendar.timegm(time.strptime(line.split()[0][:19], "%Y-%m-%dT%H:%M:%S"))
        assert stamp >= started - 3.0, line


def test_logs_follow_streams_new_lines(sim: SimHandle, duo: str) -> None:
    """kubectl logs -f keeps streaming lines until it is stopped."""
    argv = [
        kubectl_bin(), "--kubeconfig", sim.kubeconfig, "--context", sim.context,
        "logs", "-f", duo, "-n", NS, "-c", "app", "--tail", "0",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kubectl_env(sim)
    )
    try:
        assert proc.stdout is not None
        got = []
        deadline = time.time() + 15
        while time.time() < deadline and len(got) < 5:
            line = proc.stdout.readline()
            if not line:
                break
            got.append(line)
        assert len(got) >= 5, proc.stderr.read() if proc.poll() is not None and proc.stderr else got
        assert proc.poll() is None  # still following
    finally:
        proc.kill()
        proc.wait(10)


def test_logs_previous_of_a_crashing_container(sim: SimHandle) -> None:
    """A crash-looping container restarts, and --previous shows the last run's log."""

    def restarted() -> str | None:
        for p in _pods(sim, "app=crashy"):
            for cs in p.get("status", {}).get("containerStatuses") or []:
                if cs.get("restartCount", 0) >= 1:
                    return p["metadata"]["name"]
        return None

    name = _wait_for(restarted, timeout=45)
    assert name, "the crashloop container never restarted"
    out = kubectl(sim, "logs", name, "-n", NS, "--previous").stdout
    assert out.strip()


def test_exec_command_and_stdin(sim: SimHandle, duo: str) -> None:
    """kubectl exec runs a command; with -i it feeds stdin and returns the shell's exit code."""
    res = kubectl(sim, "exec", duo, "-n", NS, "-c", "app", "--", "echo", "hello", "tamer")
    assert res.stdout.strip() == "hello tamer"
    res = kubectl(
        sim,
        "exec",
        "-i",
        duo,
        "-n",
        NS,
        "-c",
        "app",
        "--",
        "sh",
        input="echo from-stdin\nexit 3\n",
        check=False,
    )
    assert "from-stdin" in res.stdout and res.returncode == 3
    res = kubectl(sim, "exec", duo, "-n", NS, "--", "hostname")
    assert res.stdout.strip() == duo


def test_top_nodes_and_pods(sim: SimHandle, duo: str) -> None:
    """kubectl top nodes and top pods print metrics from metrics.k8s.io."""
    rows = [line.split() for line in kubectl(sim, "top", "nodes").stdout.strip().splitlines()]
    assert rows[0][:3] == ["NAME", "CPU(cores)", "CPU%"] and len(rows) > 1
    assert rows[1][1].endswith("m")

    def pod_rows() -> list[list[str]] | None:
        res = kubectl(sim, "top", "pods", "-n", NS, "-l", "app=duo", check=False)
        if res.returncode != 0:
            return None
        found = [line.split() for line in res.stdout.strip().splitlines()[1:]]
        return found or None

    found = _wait_for(pod_rows, timeout=20)
    assert found and found[0][0] == duo and found[0][2].endswith("Mi")


def test_rollout_restart_status_history_undo(sim: SimHandle, duo: str) -> None:
    """rollout restart creates a new revision, status waits for it, undo returns to the previous template."""
    kubectl(sim, "rollout", "restart", "deploy/duo", "-n", NS)
    res = kubectl(sim, "rollout", "status", "deploy/duo", "-n", NS, "--timeout=60s", timeout=90)
    assert 'deployment "duo" successfully rolled out' in res.stdout
    history = kubectl(sim, "rollout", "history", "deploy/duo", "-n", NS).stdout
    assert [line.split()[0] for line in history.strip().splitlines()[2:]] == ["1", "2"]
    dep = json.loads(kubectl(sim, "get", "deploy", "duo", "-n", NS, "-o", "json").stdout)
    assert "kubectl.kubernetes.io/restartedAt" in dep["spec"]["template"]["metadata"].get("annotations", {})
    kubectl(sim, "rollout", "undo", "deploy/duo", "-n", NS)
    kubectl(sim, "rollout", "status", "deploy/duo", "-n", NS, "--timeout=60s", timeout=90)
    dep = json.loads(kubectl(sim, "get", "deploy", "duo", "-n", NS, "-o", "json").stdout)
    assert "kubectl.kubernetes.io/restartedAt" not in dep["spec"]["template"]["metadata"].get(
        "annotations", {}
    )
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
