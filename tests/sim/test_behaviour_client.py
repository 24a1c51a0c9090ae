"""The official Python ``kubernetes`` client against the simulator's behaviour layer: port-forward with
concurrent HTTP requests, exec over WebSocket (exit codes, stdin, TTY resize), the log API, the metrics
API, foreground deletion and the restricted user."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward, stream

from tamer_tui.sim import channels
from tamer_tui.sim.cluster import SimOptions
from tamer_tui.sim.metrics import container_usage, parse_quantity
from tamer_tui.sim.server import SimHandle


@pytest.fixture(scope="module")
def sim_options() -> SimOptions:
    """A small kind-flavored cluster."""
    return SimOptions(pods=30, namespaces=2, nodes=2, seed=5, flavor="kind", log_rate=4.0)


@pytest.fixture(scope="module")
def core(api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def fresh_core(sim: SimHandle) -> client.CoreV1Api:
    """A CoreV1Api on its own ApiClient (kubernetes.stream patches the client while it is in use)."""
    cfg = client.Configuration()
    config.load_kube_config(config_file=sim.kubeconfig, context=sim.context, client_configuration=cfg)
    return client.CoreV1Api(client.ApiClient(cfg))


def web_pod(core: client.CoreV1Api) -> str:
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    return next(p.metadata.name for p in pods if p.status.phase == "Running")


def http_get(pf: Any, port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("localhost", port, timeout=10)
    conn.sock = pf.socket(port)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, body


def test_portforward_concurrent_http(sim: SimHandle, core: client.CoreV1Api) -> None:
    """Several port-forwards at once, each carrying real HTTP requests, reach the pod's declared port."""
    pod = web_pod(core)
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            own = fresh_core(sim)
            pf = portforward(own.connect_get_namespaced_pod_portforward, pod, "default", ports="80")
            try:
                conn = http.client.HTTPConnection("localhost", 80, timeout=10)
                conn.sock = pf.socket(80)
                conn.request("GET", f"/req/{i}")
                resp = conn.getresponse()
                results.append((resp.status, resp.read().decode()))
                # a second request on the same forwarded connection (keep-alive)
                conn.request("GET", f"/again/{i}")
                resp = conn.getresponse()
                results.append((resp.status, resp.read().decode()))
                conn.close()
            finally:
                pf.close()
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(results) == 16
    assert all(status == 200 and body.startswith("Hello from " + pod) for status, body in results)
    paths = sorted(body.splitlines()[1] for _, body in results)
    assert paths == sorted([f"GET /req/{i}" for i in range(8)] + [f"GET /again/{i}" for i in range(8)])


def test_portforward_two_ports_and_refused_port(core: client.CoreV1Api) -> None:
    """Two ports on one WebSocket; a port the pod does not declare gets the kubelet's error."""
    pods = [p for p in core.list_pod_for_all_namespaces().items
            if p.status.phase == "Running" and len({cp.container_port for c in p.spec.containers for cp in (c.ports or [])}) >= 2]
    target = pods[0]
    ports = sorted({cp.container_port for c in target.spec.containers for cp in (c.ports or [])})[:2]
    pf = portforward(core.connect_get_namespaced_pod_portforward, target.metadata.name, target.metadata.namespace,
                     ports=",".join(str(p) for p in ports))
    try:
        for port in ports:
            status, body = http_get(pf, port, "/x")
            assert status == 200 and f"port {port}" in body
    finally:
        pf.close()
    pf = portforward(core.connect_get_namespaced_pod_portforward, target.metadata.name, target.metadata.namespace, ports="9999")
    try:
        sock = pf.socket(9999)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        err = wait_for(lambda: pf.error(9999), timeout=10)
        assert "error forwarding port 9999" in err and "connection refused" in err
    finally:
        pf.close()


def test_exec_stream_exit_codes(core: client.CoreV1Api) -> None:
    """exec via kubernetes.stream returns stdout/stderr separately and the exit code from the Status."""
    pod = web_pod(core)
    resp = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["sh", "-c", "echo out; echo err >&2; exit 2"],
                  stderr=True, stdout=True, stdin=False, tty=False, _preload_content=False)
    resp.run_forever(timeout=10)
    assert resp.returncode == 2
    assert resp.read_stdout() == "out\n" and resp.read_stderr() == "err\n"
    out = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["hostname"], stderr=True, stdout=True,
                 stdin=False, tty=False)
    assert out == f"{pod}\n"


def test_exec_interactive_stdin_and_resize(core: client.CoreV1Api) -> None:
    """An interactive TTY session: prompt, echoed input, stty size after a resize, exit code on close."""
    pod = web_pod(core)
    resp = stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["sh"], stderr=True, stdout=True, stdin=True,
                  tty=True, _preload_content=False)
    try:
        resp.write_channel(channels.RESIZE, json.dumps({"Width": 101, "Height": 33}))
        buf = ""

        def read_until(text: str) -> str:
            nonlocal buf
            deadline = time.monotonic() + 10
            while text not in buf and time.monotonic() < deadline:
                resp.update(timeout=0.5)
                if resp.peek_stdout():
                    buf += resp.read_stdout()
            assert text in buf, buf
            return buf

        read_until("/ # ")
        resp.write_stdin("stty size\r")
        read_until("33 101")
        resp.write_stdin("exit 9\r")
        deadline = time.monotonic() + 10
        while resp.is_open() and time.monotonic() < deadline:
            resp.update(timeout=0.5)
        assert resp.returncode == 9
    finally:
        resp.close()


def test_log_api(core: client.CoreV1Api) -> None:
    """read_namespaced_pod_log honours tail_lines, limit_bytes, timestamps and reports `previous` errors."""
    pod = web_pod(core)
    text = core.read_namespaced_pod_log(pod, "default", tail_lines=4)
    assert len(text.splitlines()) == 4
    text = core.read_namespaced_pod_log(pod, "default", limit_bytes=50)
    assert len(text.encode()) == 50
    text = core.read_namespaced_pod_log(pod, "default", tail_lines=1, timestamps=True)
    assert text.split(" ", 1)[0].endswith("Z")
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod_log(pod, "default", previous=True)
    assert info.value.status == 400 and "previous terminated container" in info.value.body
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod_log("nope", "default")
    assert info.value.status == 404


def test_log_follow_stream_ends_when_pod_deleted(core: client.CoreV1Api) -> None:
    """A followed log stream ends once the pod is deleted."""
    core.create_namespaced_pod("default", {"metadata": {"name": "follow-me"},
                                           "spec": {"containers": [{"name": "c", "image": "ghcr.io/acme/cart:1.9.0"}]}})
    wait_for(lambda: core.read_namespaced_pod("follow-me", "default").status.phase == "Running")
    resp = core.read_namespaced_pod_log("follow-me", "default", follow=True, _preload_content=False)
    got: list[bytes] = []
    done = threading.Event()

    def reader() -> None:
        for chunk in resp.stream(1024):
            got.append(chunk)
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(1.0)
    core.delete_namespaced_pod("follow-me", "default", _preload_content=False)
    assert done.wait(10), "the follow stream did not end after the pod was deleted"
    assert b"".join(got)


def test_metrics_api(api_client: Any, core: client.CoreV1Api) -> None:
    """metrics.k8s.io serves PodMetrics/NodeMetrics lists and single objects with sane quantities."""
    co = client.CustomObjectsApi(api_client)
    pods = co.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods")
    assert pods["kind"] == "PodMetricsList" and pods["items"]
    item = pods["items"][0]
    for c in item["containers"]:
        assert c["usage"]["cpu"].endswith("n") and c["usage"]["memory"].endswith("Ki")
    one = co.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", item["metadata"]["namespace"], "pods", item["metadata"]["name"])
    assert one["metadata"]["name"] == item["metadata"]["name"]
    nodes = co.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert len(nodes["items"]) == 2
    assert all(parse_quantity(n["usage"]["cpu"]) > 0.1 for n in nodes["items"])
    with pytest.raises(ApiException) as info:
        co.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default", "pods", "nope")
    assert info.value.status == 404


def test_metrics_move_over_time_and_respect_limits(core: client.CoreV1Api) -> None:
    """Usage values change between 15 s windows and stay under the container limits."""
    pod = core.list_namespaced_pod("default", label_selector="app=web").items[0]
    p = client.ApiClient().sanitize_for_serialization(pod)
    c = p["spec"]["containers"][0]
    samples = [container_usage(5, p, c, 1_700_000_000 + k * 15) for k in range(20)]
    assert len({round(cpu, 6) for cpu, _ in samples}) > 10
    cpu_limit = parse_quantity(c["resources"]["limits"]["cpu"])
    mem_limit = parse_quantity(c["resources"]["limits"]["memory"])
    assert all(0 < cpu < cpu_limit and 0 < mem < mem_limit for cpu, mem in samples)


def test_foreground_deletion(sim: SimHandle, api_client: Any, core: client.CoreV1Api) -> None:
    """Foreground deletion: the owner gets foregroundDeletion, dependents go first, the owner last."""
    apps = client.AppsV1Api(api_client)
    body = {"metadata": {"name": "fg"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "fg"}},
                                                 "template": {"metadata": {"labels": {"app": "fg"}},
                                                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    apps.create_namespaced_deployment("default", body)
    wait_for(lambda: (apps.read_namespaced_deployment("fg", "default").status.ready_replicas or 0) == 2)
    log: list[tuple[str, str, str, bool]] = []

    def record(ev: Any) -> None:
        meta = ev.obj["metadata"]
        labels = meta.get("labels") or {}
        if meta.get("name") == "fg" or labels.get("app") == "fg":
            log.append((ev.type, ev.rtype.kind, meta["name"], "foregroundDeletion" in (meta.get("finalizers") or [])))

    unsubscribe = sim.cluster.store.subscribe(record)
    try:
        apps.delete_namespaced_deployment("fg", "default", propagation_policy="Foreground")

        def gone() -> bool:
            try:
                apps.read_namespaced_deployment("fg", "default")
            except ApiException as exc:
                return exc.status == 404
            return False

        wait_for(gone)
    finally:
        unsubscribe()
    assert not core.list_namespaced_pod("default", label_selector="app=fg").items
    assert not apps.list_namespaced_replica_set("default", label_selector="app=fg").items
    first = log[0]
    assert first[:2] == ("MODIFIED", "Deployment") and first[3], log
    deleted = [(kind, name) for etype, kind, name, _ in log if etype == "DELETED"]
    assert deleted[-1] == ("Deployment", "fg")
    assert {kind for kind, _ in deleted[:-1]} == {"Pod", "ReplicaSet"}
    last_pod = max(i for i, (kind, _) in enumerate(deleted) if kind == "Pod")
    rs_index = next(i for i, (kind, _) in enumerate(deleted) if kind == "ReplicaSet")
    assert last_pod < rs_index, deleted


def test_restricted_user_cannot_exec(sim: SimHandle) -> None:
    """The restricted user may read logs in default but not exec (authorization happens before the routes)."""
    cfg = client.Configuration()
    config.load_kube_config(config_file=sim.kubeconfig, context=sim.restricted_context, client_configuration=cfg)
    with client.ApiClient(cfg) as api:
        core = client.CoreV1Api(api)
        pod = web_pod(core)
        assert core.read_namespaced_pod_log(pod, "default", tail_lines=1)
        with pytest.raises(ApiException) as info:
            core.read_namespaced_pod_log(pod, "kube-system", tail_lines=1)
        assert info.value.status in (403, 404)
        with pytest.raises(Exception) as exc_info:
            stream(core.connect_get_namespaced_pod_exec, pod, "default", command=["true"], stderr=True, stdout=True,
                   stdin=False, tty=False)
        assert "403" in str(exc_info.value) or "Forbidden" in str(exc_info.value)


def raw_ws(sim: SimHandle, path: str, protocols: list[str]) -> Any:
    """A websocket-client connection to the simulator with the admin token and the sim's CA."""
    import ssl
    import tempfile

    import websocket

    pem = sim.ca_pem or b""
    with tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False) as ca:
        ca.write(pem if isinstance(pem, bytes) else pem.encode())
    url = sim.url.replace("https://", "wss://") + path
    ws = websocket.WebSocket(sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": ca.name})
    try:
        ws.connect(url, header=[f"Authorization: Bearer {sim.token}"], subprotocols=protocols)
    finally:
        os.unlink(ca.name)
    return ws


def read_frames(ws: Any, timeout: float = 10.0) -> dict[int, bytes]:
    """Collect channel payloads until the server closes the socket."""
    import websocket

    ws.settimeout(timeout)
    got: dict[int, bytes] = {}
    while True:
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketConnectionClosedException:
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
        if data:
            got[data[0]] = got.get(data[0], b"") + data[1:]
    return got


def test_exec_v4_protocol(sim: SimHandle, core: client.CoreV1Api) -> None:
    """A v4.channel.k8s.io client gets stdout/stderr frames and the exit Status on channel 3."""
    pod = web_pod(core)
    ws = raw_ws(sim, f"/api/v1/namespaces/default/pods/{pod}/exec?command=sh&command=-c&command=echo+hi%3B+echo+no+%3E%262%3B+exit+5"
                     "&stdout=true&stderr=true", ["v4.channel.k8s.io"])
    assert ws.subprotocol == "v4.channel.k8s.io"
    got = read_frames(ws)
    assert got[1] == b"hi\n" and got[2] == b"no\n"
    status = json.loads(got[3])
    assert status["reason"] == "NonZeroExitCode" and channels.exit_code_of(status) == 5


def test_exec_v5_close_stdin(sim: SimHandle, core: client.CoreV1Api) -> None:
    """With v5, closing channel 0 ends the command's stdin (cat returns after echoing)."""
    pod = web_pod(core)
    ws = raw_ws(sim, f"/api/v1/namespaces/default/pods/{pod}/exec?command=wc&command=-l&stdin=true&stdout=true&stderr=true",
                ["v5.channel.k8s.io", "v4.channel.k8s.io"])
    assert ws.subprotocol == "v5.channel.k8s.io"
    ws.send_binary(b"\x00a\nb\nc\n")
    ws.send_binary(channels.close_frame(channels.STDIN))
    got = read_frames(ws)
    assert got[1].strip() == b"3"
    assert json.loads(got[3]) == {"metadata": {}, "status": "Success"}


def test_attach_streams_process_output(sim: SimHandle, core: client.CoreV1Api) -> None:
    """Attaching to a long-running container streams its output as it is produced."""
    pod = core.list_namespaced_pod("default", label_selector="app=chatty").items[0].metadata.name
    ws = raw_ws(sim, f"/api/v1/namespaces/default/pods/{pod}/attach?stdout=true&stderr=true", ["v5.channel.k8s.io"])
    ws.settimeout(10)
    data = b""
    while data.count(b"\n") < 50:
        _, frame = ws.recv_data()
        if frame and frame[0] == 1:
            data += frame[1:]
    ws.close()
    assert data.count(b'"level"') >= 50


def test_exec_into_missing_container_is_rejected(sim: SimHandle, core: client.CoreV1Api) -> None:
    """exec with an unknown container name is refused before the upgrade with a 400 Status."""
    import websocket

    pod = web_pod(core)
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        raw_ws(sim, f"/api/v1/namespaces/default/pods/{pod}/exec?command=true&container=nope", ["v5.channel.k8s.io"])
    assert info.value.status_code == 400
