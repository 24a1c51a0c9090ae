"""Real kubectl against the simulator's behaviour layer: logs, exec, top, rollouts, scaling, cascading
deletes, jobs, cronjobs, statefulsets, daemonsets, NotReady nodes, crash loops, events and attach."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tamer_tui.sim.cluster import SimOptions
from tamer_tui.sim.logs import parse_rfc3339
from tamer_tui.sim.server import SimHandle
from tests.services import kubectl_bin
from tests.sim.conftest import kubectl, kubectl_env

pytestmark = pytest.mark.kubectl


@pytest.fixture(scope="module")
def sim_options() -> SimOptions:
    """A small three-node k3s-like cluster with two app namespaces."""
    return SimOptions(pods=40, namespaces=2, nodes=3, seed=3, log_rate=5.0)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy (returned) or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


def get_json(sim: SimHandle, *args: str) -> Any:
    return json.loads(kubectl(sim, "get", *args, "-o", "json").stdout)


def pod_names(sim: SimHandle, namespace: str, selector: str) -> list[str]:
    out = kubectl(sim, "get", "pods", "-n", namespace, "-l", selector, "-o", "name").stdout.split()
    return [n.split("/", 1)[1] for n in out]


def one_pod(sim: SimHandle, namespace: str, selector: str) -> str:
    names = pod_names(sim, namespace, selector)
    assert names, f"no pod for {selector}"
    return names[0]


def ctrl(sim: SimHandle) -> Any:
    return sim.cluster.extras["controllers"]


# ---------------------------------------------------------------------------------------------- logs


def test_logs_tail_since_and_timestamps(sim: SimHandle) -> None:
    """--tail=N gives N lines; --since/--timestamps only return recent lines with RFC3339Nano stamps."""
    pod = one_pod(sim, "default", "app=web")
    out = kubectl(sim, "logs", "-n", "default", pod, "--tail=7").stdout
    assert len(out.splitlines()) == 7
    start = time.time()
    out = kubectl(sim, "logs", "-n", "default", pod, "--since=3s", "--timestamps").stdout
    lines = out.splitlines()
    assert lines, "no lines in the last 3 s at 5 lines/s"
    for line in lines:
        ts = parse_rfc3339(line.split(" ", 1)[0])
        assert ts is not None and start - 4.5 <= ts <= time.time() + 0.5


def test_logs_follow_chatty_rate(sim: SimHandle) -> None:
    """`kubectl logs -f` on the chatty pod streams thousands of lines per second (measured over 3 s)."""
    pod = one_pod(sim, "default", "app=chatty")
    argv = [kubectl_bin(), "--kubeconfig", sim.kubeconfig, "--context", sim.context, "logs", "-f", "--tail=0", "-n", "default", pod]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kubectl_env(sim))
    counter = [0]

    def reader() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            counter[0] += 1

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        wait_for(lambda: counter[0] > 0, timeout=15)
        c0, t0 = counter[0], time.monotonic()
        time.sleep(3.0)
        rate = (counter[0] - c0) / (time.monotonic() - t0)
    finally:
        proc.kill()
        proc.wait(10)
    print(f"\nchatty pod through kubectl logs -f: {rate:.0f} lines/s")
    assert rate > 1000


def test_logs_previous_and_container_selection(sim: SimHandle) -> None:
    """--previous shows the crashed run of a CrashLoopBackOff pod and errors for a healthy one; -c picks a container."""
    flaky = one_pod(sim, "default", "app=flaky")
    prev = kubectl(sim, "logs", "-n", "default", flaky, "--previous", "--tail=40").stdout
    assert "Traceback (most recent call last):" in prev or "fatal" in prev.lower()
    web = one_pod(sim, "default", "app=web")
    res = kubectl(sim, "logs", "-n", "default", web, "--previous", check=False)
    assert res.returncode != 0 and f'previous terminated container "nginx" in pod "{web}" not found' in res.stderr
    res = kubectl(sim, "logs", "-n", "default", web, "-c", "nosuch", check=False)
    assert res.returncode != 0 and f"container nosuch is not valid for pod {web}" in res.stderr
    # a two-container pod: the sidecar's log is reachable with -c
    pods = get_json(sim, "pods", "-A")["items"]
    two = next(p for p in pods if len(p["spec"]["containers"]) == 2 and p["status"]["phase"] == "Running")
    side = two["spec"]["containers"][1]["name"]
    out = kubectl(sim, "logs", "-n", two["metadata"]["namespace"], two["metadata"]["name"], "-c", side, "--tail=3").stdout
    assert len(out.splitlines()) == 3


# ---------------------------------------------------------------------------------------------- exec


def test_exec_exit_code_and_streams(sim: SimHandle) -> None:
    """kubectl exec runs the command in the built-in shell: stdout, stderr and the exit code come back."""
    pod = one_pod(sim, "default", "app=web")
    res = kubectl(sim, "exec", "-n", "default", pod, "--", "sh", "-c", "echo hello; echo oops >&2; exit 3", check=False)
    assert res.returncode == 3
    assert res.stdout == "hello\n"
    assert "oops" in res.stderr and "command terminated with exit code 3" in res.stderr
    res = kubectl(sim, "exec", "-n", "default", pod, "--", "nosuchcmd", check=False)
    assert res.returncode == 126 and "executable file not found" in res.stderr


def test_exec_stdin(sim: SimHandle) -> None:
    """kubectl exec -i forwards stdin (and its end) to the command."""
    pod = one_pod(sim, "default", "app=web")
    res = kubectl(sim, "exec", "-i", "-n", "default", pod, "--", "cat", input="line1\nline2\n")
    assert res.stdout == "line1\nline2\n"
    res = kubectl(sim, "exec", "-i", "-n", "default", pod, "--", "sh", input="echo $HOSTNAME\nexit 7\n", check=False)
    assert res.returncode == 7 and res.stdout == f"{pod}\n"


def test_exec_sees_container_env_and_files(sim: SimHandle) -> None:
    """The exec'd shell sees the resolved env (fieldRef, configMapKeyRef, KUBERNETES_*) and the fake filesystem."""
    web = one_pod(sim, "default", "app=web")
    out = kubectl(sim, "exec", "-n", "default", web, "--", "env").stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert env["HOSTNAME"] == web and env["KUBERNETES_SERVICE_PORT"] == "443"
    assert env["POD_NAME"] == web and env["POD_NAMESPACE"] == "default"
    assert kubectl(sim, "exec", "-n", "default", web, "--", "cat", "/etc/hostname").stdout == f"{web}\n"
    assert "nginx.conf" in kubectl(sim, "exec", "-n", "default", web, "--", "ls", "/etc/nginx/conf.d").stdout
    conf = kubectl(sim, "exec", "-n", "default", web, "--", "cat", "/etc/nginx/conf.d/nginx.conf").stdout
    assert "listen 80;" in conf


def test_exec_errors(sim: SimHandle) -> None:
    """exec into a missing pod or completed pod fails with the API server's messages."""
    res = kubectl(sim, "exec", "-n", "default", "no-such-pod", "--", "true", check=False)
    assert res.returncode != 0 and 'pods "no-such-pod" not found' in res.stderr


# ---------------------------------------------------------------------------------------------- top


def test_top_pods_and_nodes(sim: SimHandle) -> None:
    """kubectl top pods -A / top nodes work; the chatty pod burns more CPU than the crash-looper."""
    out = kubectl(sim, "top", "pods", "-A", "--no-headers").stdout
    rows = {line.split()[1]: line.split() for line in out.splitlines()}
    chatty = next(v for k, v in rows.items() if k.startswith("chatty-"))
    assert chatty[2].endswith("m") and int(chatty[2][:-1]) >= 400
    assert chatty[3].endswith("Mi")
    default_cpu = [int(v[2][:-1]) for v in rows.values() if v[0] == "default"]
    assert int(chatty[2][:-1]) == max(default_cpu)
    # a crash-looping pod uses next to nothing (and has no metrics at all while it waits to restart)
    assert all(int(v[2][:-1]) <= 5 for k, v in rows.items() if k.startswith("flaky-"))
    out = kubectl(sim, "top", "nodes", "--no-headers").stdout
    assert len(out.splitlines()) == 3
    assert all("%" in line for line in out.splitlines())


# ---------------------------------------------------------------------------------------------- rollouts


def test_rollout_restart_status_undo(sim: SimHandle) -> None:
    """rollout status waits for a real rolling update; restart and undo move between ReplicaSet revisions."""
    kubectl(sim, "create", "deployment", "roll", "--image=nginx:1.27.0", "--replicas=3")
    kubectl(sim, "rollout", "status", "deployment/roll", "--timeout=60s")
    kubectl(sim, "set", "image", "deployment/roll", "nginx=nginx:1.27.3")
    res = kubectl(sim, "rollout", "status", "deployment/roll", "--timeout=60s")
    assert "successfully rolled out" in res.stdout
    dep = get_json(sim, "deployment", "roll")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert dep["status"]["updatedReplicas"] == 3 and dep["status"]["availableReplicas"] == 3
    assert dep["status"]["observedGeneration"] == dep["metadata"]["generation"]
    conds = {c["type"]: c for c in dep["status"]["conditions"]}
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable" and conds["Available"]["status"] == "True"
    kubectl(sim, "rollout", "restart", "deployment/roll")
    kubectl(sim, "rollout", "status", "deployment/roll", "--timeout=60s")
    rs = get_json(sim, "rs", "-l", "app=roll")["items"]
    assert len(rs) == 3 and sorted(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for r in rs) == ["1", "2", "3"]
    kubectl(sim, "rollout", "undo", "deployment/roll")
    kubectl(sim, "rollout", "status", "deployment/roll", "--timeout=60s")
    dep = get_json(sim, "deployment", "roll")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.3"
    assert "kubectl.kubernetes.io/restartedAt" not in (dep["spec"]["template"]["metadata"].get("annotations") or {})
    kubectl(sim, "rollout", "undo", "deployment/roll", "--to-revision=1")
    kubectl(sim, "rollout", "status", "deployment/roll", "--timeout=60s")
    dep = get_json(sim, "deployment", "roll")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27.0"
    pods = get_json(sim, "pods", "-l", "app=roll")["items"]
    assert len(pods) == 3 and all(p["spec"]["containers"][0]["image"] == "nginx:1.27.0" for p in pods)
    history = kubectl(sim, "rollout", "history", "deployment/roll").stdout
    assert "REVISION" in history and "5" in history
    kubectl(sim, "delete", "deployment", "roll")


def test_scale(sim: SimHandle) -> None:
    """kubectl scale changes the number of running pods both ways."""
    kubectl(sim, "create", "deployment", "sc", "--image=nginx", "--replicas=1")
    kubectl(sim, "scale", "deployment/sc", "--replicas=5")
    kubectl(sim, "rollout", "status", "deployment/sc", "--timeout=60s")
    assert len(pod_names(sim, "default", "app=sc")) == 5
    kubectl(sim, "scale", "deployment/sc", "--replicas=2")
    wait_for(lambda: len(pod_names(sim, "default", "app=sc")) == 2)
    dep = get_json(sim, "deployment", "sc")
    wait_for(lambda: get_json(sim, "deployment", "sc")["status"].get("replicas") == 2)
    assert dep["spec"]["replicas"] == 2
    kubectl(sim, "delete", "deployment", "sc")


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_delete_deployment_cascades(sim: SimHandle, cascade: str) -> None:
    """Deleting a deployment deletes its ReplicaSets and pods (background and foreground)."""
    name = f"del-{cascade}"
    kubectl(sim, "create", "deployment", name, "--image=nginx", "--replicas=3")
    kubectl(sim, "rollout", "status", f"deployment/{name}", "--timeout=60s")
    kubectl(sim, "delete", "deployment", name, f"--cascade={cascade}", "--wait=true")
    wait_for(lambda: not kubectl(sim, "get", "rs,pods", "-l", f"app={name}", "-o", "name").stdout.strip())


def test_delete_orphan_keeps_replicaset(sim: SimHandle) -> None:
    """--cascade=orphan removes the deployment only; the ReplicaSet loses its ownerReference."""
    kubectl(sim, "create", "deployment", "orph", "--image=nginx", "--replicas=2")
    kubectl(sim, "rollout", "status", "deployment/orph", "--timeout=60s")
    kubectl(sim, "delete", "deployment", "orph", "--cascade=orphan")
    time.sleep(0.5)
    rs = get_json(sim, "rs", "-l", "app=orph")["items"]
    assert len(rs) == 1 and not rs[0]["metadata"].get("ownerReferences")
    assert len(pod_names(sim, "default", "app=orph")) == 2
    kubectl(sim, "delete", "rs", "-l", "app=orph")
    wait_for(lambda: not pod_names(sim, "default", "app=orph"))


# ---------------------------------------------------------------------------------------------- jobs


def test_job_completes(sim: SimHandle) -> None:
    """A Job's pod runs its script in the built-in shell, succeeds, and the Job becomes Complete."""
    kubectl(sim, "create", "job", "hello", "--image=busybox", "--", "sh", "-c", "echo hello from job; sleep 0.5; echo done")
    kubectl(sim, "wait", "--for=condition=complete", "job/hello", "--timeout=60s")
    job = get_json(sim, "job", "hello")
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    assert kubectl(sim, "logs", "job/hello").stdout == "hello from job\ndone\n"
    pod = get_json(sim, "pods", "-l", "job-name=hello")["items"][0]
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


def test_failing_job_hits_backoff_limit(sim: SimHandle) -> None:
    """A Job whose pods exit non-zero fails once backoffLimit is exceeded."""
    kubectl(sim, "apply", "-f", "-", input="""
apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: [sh, -c, "echo failing; exit 4"]}]
""")
    kubectl(sim, "wait", "--for=condition=failed", "job/doomed", "--timeout=60s")
    job = get_json(sim, "job", "doomed")
    assert job["status"]["failed"] == 2
    assert any(c["type"] == "Failed" and c["reason"] == "BackoffLimitExceeded" for c in job["status"]["conditions"])


def test_cronjob_fires_with_speedup(sim: SimHandle) -> None:
    """With the cron clock sped up 60x, a `* * * * *` CronJob creates Jobs that complete."""
    kubectl(sim, "create", "cronjob", "tick", "--image=busybox", "--schedule=* * * * *", "--", "echo", "tick")
    ctrl(sim).set_time_speed(60)
    try:
        jobs = wait_for(lambda: [j for j in get_json(sim, "jobs")["items"]
                                 if (j["metadata"].get("ownerReferences") or [{}])[0].get("name") == "tick"], timeout=20)
        name = jobs[0]["metadata"]["name"]
        kubectl(sim, "wait", "--for=condition=complete", f"job/{name}", "--timeout=60s")
        assert kubectl(sim, "logs", f"job/{name}").stdout == "tick\n"
        cj = wait_for(lambda: get_json(sim, "cronjob", "tick").get("status", {}).get("lastSuccessfulTime") and get_json(sim, "cronjob", "tick"))
        assert cj["status"]["lastScheduleTime"]
    finally:
        ctrl(sim).set_time_speed(1)
        kubectl(sim, "delete", "cronjob", "tick")


def test_cronjob_trigger(sim: SimHandle) -> None:
    """Controllers.trigger_cronjob starts a Job right away (like `kubectl create job --from=cronjob/x`)."""
    cj = get_json(sim, "cronjobs", "-A")["items"][0]
    name = ctrl(sim).trigger_cronjob(cj["metadata"]["namespace"], cj["metadata"]["name"])
    kubectl(sim, "wait", "-n", cj["metadata"]["namespace"], "--for=condition=complete", f"job/{name}", "--timeout=60s")


# ---------------------------------------------------------------------------------------------- other workloads


def test_statefulset_ordinals_and_rollout(sim: SimHandle) -> None:
    """A StatefulSet gets ordinal pods with PVCs, rolls out one pod at a time and scales down from the top."""
    kubectl(sim, "apply", "-f", "-", input="""
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16, ports: [{containerPort: 5432}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
""")
    kubectl(sim, "rollout", "status", "statefulset/db", "--timeout=60s")
    assert sorted(pod_names(sim, "default", "app=db")) == ["db-0", "db-1", "db-2"]
    pvcs = get_json(sim, "pvc", "-l", "app=db")["items"]
    assert sorted(p["metadata"]["name"] for p in pvcs) == ["data-db-0", "data-db-1", "data-db-2"]
    assert all(p["status"]["phase"] == "Bound" for p in pvcs)
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in get_json(sim, "pods", "-l", "app=db")["items"]}
    kubectl(sim, "rollout", "restart", "statefulset/db")
    kubectl(sim, "rollout", "status", "statefulset/db", "--timeout=60s")
    after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in get_json(sim, "pods", "-l", "app=db")["items"]}
    assert set(after) == set(before) and all(after[k] != before[k] for k in after)
    sts = get_json(sim, "sts", "db")
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    kubectl(sim, "scale", "statefulset/db", "--replicas=1")
    wait_for(lambda: pod_names(sim, "default", "app=db") == ["db-0"])
    kubectl(sim, "delete", "statefulset", "db")


def test_daemonset_and_not_ready_node(sim: SimHandle) -> None:
    """A DaemonSet runs one pod per Ready node; a NotReady node drops out and comes back."""
    kubectl(sim, "apply", "-f", "-", input="""
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox, command: [sh, -c, "while true; do echo beat; sleep 1; done"]}]
""")
    kubectl(sim, "rollout", "status", "daemonset/agent", "--timeout=60s")
    pods = get_json(sim, "pods", "-l", "app=agent")["items"]
    nodes = [n["metadata"]["name"] for n in get_json(sim, "nodes")["items"]]
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(nodes)
    log = wait_for(lambda: kubectl(sim, "logs", pods[0]["metadata"]["name"]).stdout, timeout=10)
    assert log.startswith("beat\n")
    victim = nodes[-1]
    ctrl(sim).set_node_ready(victim, False)
    try:
        out = kubectl(sim, "get", "node", victim, "--no-headers").stdout
        assert "NotReady" in out or "Unknown" in out
        node = get_json(sim, "node", victim)
        assert {t["key"] for t in node["spec"]["taints"]} == {"node.kubernetes.io/unreachable"}
        ds = wait_for(lambda: (d := get_json(sim, "ds", "agent"))["status"]["desiredNumberScheduled"] == len(nodes) - 1 and d)
        assert ds["status"]["desiredNumberScheduled"] == len(nodes) - 1
        on_victim = [p for p in get_json(sim, "pods", "-A")["items"] if p["spec"].get("nodeName") == victim and p["status"]["phase"] == "Running"]
        assert on_victim and all(any(c["type"] == "Ready" and c["status"] == "False" for c in p["status"]["conditions"]) for p in on_victim)
        # new pods are not scheduled there
        kubectl(sim, "create", "deployment", "spread", "--image=nginx", "--replicas=4")
        kubectl(sim, "rollout", "status", "deployment/spread", "--timeout=60s")
        assert all(p["spec"]["nodeName"] != victim for p in get_json(sim, "pods", "-l", "app=spread")["items"])
    finally:
        ctrl(sim).set_node_ready(victim, True)
    wait_for(lambda: get_json(sim, "ds", "agent")["status"]["numberReady"] == len(nodes))
    assert "Ready" in kubectl(sim, "get", "node", victim, "--no-headers").stdout
    kubectl(sim, "delete", "daemonset", "agent")
    kubectl(sim, "delete", "deployment", "spread")


def test_crashloop_restart_count_rises(sim: SimHandle) -> None:
    """A crash-looping pod keeps restarting: restartCount rises, lastState.terminated is set, BackOff events."""
    ctrl(sim).configure(crash_after=0.3, crash_backoff=0.5, crash_backoff_max=1.0)
    try:
        # a fresh replica picks up the short back-off at once
        kubectl(sim, "delete", "pod", "-n", "default", "-l", "app=flaky")
        pod = wait_for(lambda: pod_names(sim, "default", "app=flaky"))[0]

        def restarts() -> int:
            statuses = get_json(sim, "pod", pod, "-n", "default")["status"].get("containerStatuses") or [{}]
            return int(statuses[0].get("restartCount") or 0)

        wait_for(lambda: restarts() >= 2, timeout=30)
        cs = get_json(sim, "pod", pod, "-n", "default")["status"]["containerStatuses"][0]
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        events = kubectl(sim, "get", "events", "-n", "default", f"--field-selector=involvedObject.name={pod}").stdout
        assert "BackOff" in events
    finally:
        ctrl(sim).configure(crash_after=2.0, crash_backoff=5.0, crash_backoff_max=20.0)


def test_image_pull_backoff_for_new_pod(sim: SimHandle) -> None:
    """A pod with an image that cannot be pulled ends in ErrImagePull/ImagePullBackOff with Failed events."""
    kubectl(sim, "run", "badimg", "--image=registry.example.com/nope:doesnotexist")
    reason = wait_for(lambda: get_json(sim, "pod", "badimg")["status"].get("containerStatuses", [{}])[0]
                      .get("state", {}).get("waiting", {}).get("reason") in ("ErrImagePull", "ImagePullBackOff"), timeout=15)
    assert reason
    events = kubectl(sim, "get", "events", "--field-selector=involvedObject.name=badimg").stdout
    assert "Failed" in events and "Pulling" in events
    kubectl(sim, "delete", "pod", "badimg")


def test_events_for_new_pod_and_service_endpoints(sim: SimHandle) -> None:
    """A new deployment yields the usual events, and its Service's Endpoints list the ready pods."""
    kubectl(sim, "create", "deployment", "evt", "--image=nginx", "--replicas=2")
    kubectl(sim, "expose", "deployment", "evt", "--port=80")
    kubectl(sim, "rollout", "status", "deployment/evt", "--timeout=60s")
    ips = sorted(p["status"]["podIP"] for p in get_json(sim, "pods", "-l", "app=evt")["items"])
    ep = wait_for(lambda: (e := get_json(sim, "endpoints", "evt")).get("subsets") and e)
    assert sorted(a["ip"] for a in ep["subsets"][0]["addresses"]) == ips
    events = get_json(sim, "events")["items"]
    reasons = {e["reason"] for e in events if e["involvedObject"]["name"].startswith("evt")}
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Pulling", "Pulled", "Created", "Started"} <= reasons
    kubectl(sim, "scale", "deployment/evt", "--replicas=1")
    wait_for(lambda: len((get_json(sim, "endpoints", "evt").get("subsets") or [{}])[0].get("addresses", [])) == 1)
    kubectl(sim, "delete", "deployment,service", "evt")


def test_run_interactive_attach(sim: SimHandle) -> None:
    """`kubectl run -i` attaches to the container's shell: stdin runs commands, output comes back."""
    res = kubectl(sim, "run", "shell", "-i", "--restart=Never", "--image=busybox", "--", "sh",
                  input="echo hello-from-attach\nexit 0\n")
    assert "hello-from-attach" in res.stdout
    wait_for(lambda: get_json(sim, "pod", "shell")["status"]["phase"] == "Succeeded")
    assert "hello-from-attach" in kubectl(sim, "logs", "shell").stdout
    kubectl(sim, "delete", "pod", "shell")


def test_kubectl_port_forward(sim: SimHandle) -> None:
    """Real `kubectl port-forward` (SPDY tunnelled through a WebSocket) serves concurrent HTTP requests."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
    argv = [kubectl_bin(), "--kubeconfig", sim.kubeconfig, "--context", sim.context, "port-forward", "-n", "default",
            "deploy/web", f"{local}:80"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kubectl_env(sim))
    try:
        def ready() -> bool:
            try:
                socket.create_connection(("127.0.0.1", local), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(ready, timeout=20)
        bodies: list[str] = []

        def fetch(i: int) -> None:
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/item/{i}", timeout=10) as resp:
                bodies.append(resp.read().decode())

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(bodies) == 6 and all(b.startswith("Hello from web-") for b in bodies)
        assert sorted(b.splitlines()[1] for b in bodies) == sorted(f"GET /item/{i}" for i in range(6))
    finally:
        proc.kill()
        proc.wait(10)
