"""The port-forward engine against `tamer sim`: real HTTP and bulk bytes through pod and service forwards,
recovery onto replacement pods, failures (403, port in use, pod not running, refused port, bare pod
gone), and a clean stop (no listener, task or file descriptor left behind)."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from tamer_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from tamer_tui.core.kube.client import Forbidden, KubeClient
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.core.kube.portforward import (
    ForwardState,
    PodNotRunning,
    PortForward,
    PortForwardManager,
    PortInUse,
    parse_forward,
    spec_to_dict,
)
from tamer_tui.sim.server import SimHandle
from tests.portforward.conftest import (
    bare_pod,
    can_connect,
    delete,
    deployment,
    engine_tasks,
    fd_count,
    http_get,
    unique,
    wait_until,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_pod_forward_serves_20_concurrent_requests(sim: SimHandle, client: KubeClient,
                                                        pfm: PortForwardManager) -> None:
    """A forward to a pod by port name serves 20 concurrent HTTP requests (one connection each) and
    counts connections and bytes both ways; the URL names the bound local port."""
    name = unique("conc")
    [pod] = await deployment(client, name)
    fwd = await pfm.start(parse_forward(f"pod/default/{pod}", ":http", context=sim.context))
    assert fwd.state == ForwardState.ACTIVE and fwd.pod == pod and fwd.remote_port == 8080
    assert fwd.local_port > 0 and fwd.url == f"http://127.0.0.1:{fwd.local_port}"
    results = await asyncio.gather(*(http_get(fwd.local_port, f"/item/{i}") for i in range(20)))
    assert [r[0] for r in results] == [200] * 20
    assert {r[1] for r in results} == {pod}
    assert sorted(r[2].splitlines()[1] for r in results) == sorted(f"GET /item/{i}" for i in range(20))
    assert fwd.total_connections == 20
    assert fwd.bytes_out > 20 * 30 and fwd.bytes_in > 20 * 100
    assert fwd.errors == 0 and fwd.state == ForwardState.ACTIVE
    await wait_until(lambda: fwd.connections == 0, what="connections closed")


async def test_bulk_echo_is_exact_and_counted(sim: SimHandle, client: KubeClient, pfm: PortForwardManager) -> None:
    """8 MB of random bytes written through one connection come back identical (the in-pod server
    echoes non-HTTP), while both directions are read and written at once; counters are exact."""
    [pod] = await deployment(client, unique("bulk"))
    fwd = await pfm.start(parse_forward(f"pod/default/{pod}", "0:8080", context=sim.context))
    payload = os.urandom(8 * 1024 * 1024)
    reader, writer = await asyncio.open_connection("127.0.0.1", fwd.local_port)

    async def send() -> None:
        for i in range(0, len(payload), 100_000):
            writer.write(payload[i : i + 100_000])
            await writer.drain()

    sender = asyncio.create_task(send())
    received = await asyncio.wait_for(reader.readexactly(len(payload)), 30)
    await sender
    writer.close()
    await writer.wait_closed()
    assert received == payload
    assert fwd.bytes_out == len(payload) and fwd.bytes_in == len(payload)


async def test_service_forward_by_number_and_name(sim: SimHandle, client: KubeClient,
                                                  pfm: PortForwardManager) -> None:
    """svc/<ns>/<name> resolves the service port (by number or by name) through its named targetPort
    to a ready backing pod's containerPort, and serves HTTP from that pod."""
    name = unique("svc")
    pods = await deployment(client, name, replicas=2, service=True)
    by_number = await pfm.start(parse_forward(f"svc/default/{name}", ":80", context=sim.context))
    by_name = await pfm.start(parse_forward(f"service/default/{name}", "0:web", context=sim.context))
    for fwd in (by_number, by_name):
        assert fwd.pod in pods and fwd.remote_port == 8080
        status, served_by, body = await http_get(fwd.local_port, "/svc")
        assert status == 200 and served_by == fwd.pod and "port 8080" in body


async def test_default_local_port_is_the_service_port(sim: SimHandle, client: KubeClient,
                                                      pfm: PortForwardManager) -> None:
    """Without a local port, a service forward listens on the service port's number (kubectl's rule),
    a pod forward on the resolved container port, while both dial the pod's container port."""
    name = unique("svcport")
    port = free_port()
    [pod] = await deployment(client, name, service=True, service_port=port)
    fwd = await pfm.start(parse_forward(f"svc/default/{name}", "web", context=sim.context))
    assert fwd.local_port == port and fwd.remote_port == 8080
    assert (await http_get(port))[1] == pod
    await pfm.stop(fwd)
    if can_connect(8080):
        return  # something else on this machine holds 8080: the pod case cannot be shown here
    direct = await pfm.start(parse_forward(f"pod/default/{pod}", "http", context=sim.context))
    assert direct.local_port == 8080 and (await http_get(8080))[1] == pod


async def test_pod_forward_moves_to_replacement_pod(sim: SimHandle, client: KubeClient,
                                                    pfm: PortForwardManager) -> None:
    """Deleting the forwarded pod of a Deployment: the forward goes `reconnecting`, then `active` on
    the pod the ReplicaSet created instead, and requests are served by that pod."""
    name = unique("move")
    [old] = await deployment(client, name)
    states: list[tuple[ForwardState, str]] = []
    unsubscribe = pfm.subscribe(lambda f: states.append((f.state, f.pod)))
    fwd = await pfm.start(parse_forward(f"pod/default/{old}", "0:http", context=sim.context))
    assert (await http_get(fwd.local_port))[1] == old
    await delete(client, f"/api/v1/namespaces/default/pods/{old}")
    await wait_until(lambda: fwd.state == ForwardState.ACTIVE and fwd.pod != old, what="moved to a new pod")
    status, served_by, _ = await http_get(fwd.local_port, "/after")
    assert status == 200 and served_by == fwd.pod != old and served_by.startswith(name)
    assert fwd.reconnects >= 1
    assert any(s == ForwardState.RECONNECTING for s, _ in states)
    unsubscribe()
    seen = len(states)
    await pfm.stop(fwd)
    assert len(states) == seen  # unsubscribed: no more calls


async def test_requests_during_recovery_wait_for_the_new_pod(sim: SimHandle, client: KubeClient,
                                                             pfm: PortForwardManager) -> None:
    """Requests sent right after the pod behind a service is deleted are held until a replacement is
    ready and then served by it (none fails)."""
    name = unique("svcmove")
    [old] = await deployment(client, name, service=True)
    fwd = await pfm.start(parse_forward(f"svc/default/{name}", "0:80", context=sim.context))
    await delete(client, f"/api/v1/namespaces/default/pods/{old}")
    results = await asyncio.gather(*(http_get(fwd.local_port, f"/r/{i}") for i in range(5)))
    assert all(status == 200 for status, _, _ in results)
    assert all(pod.startswith(name) for _, pod, _ in results)
    await wait_until(lambda: fwd.pod != old and fwd.state == ForwardState.ACTIVE, what="service re-resolved")
    assert (await http_get(fwd.local_port))[1] == fwd.pod


async def test_bare_pod_gone_fails_the_forward(sim: SimHandle, client: KubeClient, pfm: PortForwardManager) -> None:
    """A pod without a controller that is deleted ends the forward: `failed`, "pod gone", and its
    listener is closed."""
    name = unique("bare")
    await bare_pod(client, name)
    fwd = await pfm.start(parse_forward(f"pod/default/{name}", "0:http", context=sim.context))
    assert (await http_get(fwd.local_port))[0] == 200
    await delete(client, f"/api/v1/namespaces/default/pods/{name}")
    await wait_until(lambda: fwd.state == ForwardState.FAILED, what="forward failed")
    assert fwd.reason == "pod gone"
    assert not can_connect(fwd.local_port)
    assert not fwd.running and fwd.connections == 0


async def test_restricted_user_gets_forbidden(sim: SimHandle, kube: KubeManager, pfm: PortForwardManager,
                                              client: KubeClient) -> None:
    """The restricted user may read pods in default but not create pods/portforward: start() raises
    Forbidden (a PermissionDenied) naming pods/portforward, the forward is listed as failed, and nothing
    listens."""
    [pod] = await deployment(client, unique("deny"))
    port = free_port()
    with pytest.raises(Forbidden) as err:
        await pfm.start(parse_forward(f"pod/default/{pod}", f"{port}:http", context=sim.restricted_context))
    assert isinstance(err.value, PermissionDenied)
    assert "pods/portforward" in str(err.value) and "forbidden" in str(err.value)
    [fwd] = pfm.list()
    assert fwd.state == ForwardState.FAILED and "forbidden" in fwd.reason
    assert not can_connect(port)


async def test_forbidden_upgrade_fails_the_forward(sim: SimHandle, kube: KubeManager, client: KubeClient) -> None:
    """When only the upgrade itself is refused (the access review said nothing), the first connection
    gets the API server's 403 message, the forward fails with it, and its listener closes."""
    import tamer_tui.core.kube.portforward as pf

    [pod] = await deployment(client, unique("deny2"))
    original = pf._forbidden_check

    async def inconclusive(*_: object) -> None:
        return None

    pf._forbidden_check = inconclusive  # type: ignore[assignment]
    mgr = PortForwardManager(kube.client)
    try:
        fwd = await mgr.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.restricted_context))
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await http_get(fwd.local_port)
        await wait_until(lambda: fwd.state == ForwardState.FAILED, what="forward failed")
        assert 'cannot create resource "pods/portforward"' in fwd.reason
        assert not can_connect(fwd.local_port)
    finally:
        pf._forbidden_check = original  # type: ignore[assignment]
        await mgr.stop_all()


async def test_local_port_in_use(sim: SimHandle, client: KubeClient) -> None:
    """A local port another listener holds: PortInUse with the address in the message; the other
    listener is untouched, and once the client is closed no descriptor of the attempt is left."""
    [pod] = await deployment(client, unique("busy"))
    await asyncio.sleep(0.3)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        before = fd_count()
        km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context)
        km.load()
        mgr = PortForwardManager(km.client)
        with pytest.raises(PortInUse) as err:
            await mgr.start(parse_forward(f"pod/default/{pod}", f"{port}:http", context=sim.context))
        assert f"127.0.0.1:{port} is already in use" in str(err.value)
        assert mgr.list()[-1].state == ForwardState.FAILED and "already in use" in mgr.list()[-1].reason
        assert engine_tasks() == []
        await km.close()
        await wait_until(lambda: fd_count() <= before, timeout=10, what=f"fds back to {before} (now {fd_count()})")
        assert can_connect(port)


async def test_pod_not_running_and_missing(sim: SimHandle, client: KubeClient, pfm: PortForwardManager) -> None:
    """A Pending pod (image cannot be pulled) -> PodNotRunning naming the phase; a missing pod ->
    NotFound; an unknown port name -> InvalidInput; a service without that port -> InvalidInput."""
    name = unique("pending")
    await bare_pod(client, name, image="registry.example.com/app:doesnotexist", wait_ready=False)
    with pytest.raises(PodNotRunning, match="Pending"):
        await pfm.start(parse_forward(f"pod/default/{name}", "0:http", context=sim.context))
    with pytest.raises(NotFound, match="not found"):
        await pfm.start(parse_forward("pod/default/no-such-pod", "0:80", context=sim.context))
    [pod] = await deployment(client, unique("noport"), service=True)
    with pytest.raises(InvalidInput, match="no container port named 'grpc'"):
        await pfm.start(parse_forward(f"pod/default/{pod}", "0:grpc", context=sim.context))
    svc = pod.rsplit("-", 2)[0]
    with pytest.raises(InvalidInput, match="no TCP port 8443"):
        await pfm.start(parse_forward(f"svc/default/{svc}", "0:8443", context=sim.context))
    assert all(f.state == ForwardState.FAILED for f in pfm.list())


async def test_refused_port_is_a_connection_error_not_a_dead_forward(sim: SimHandle, client: KubeClient,
                                                                    pfm: PortForwardManager) -> None:
    """A typed port the pod does not listen on: the kubelet's "connection refused" (error channel) ends
    that connection and is reported as the forward's last error; the forward stays active and keeps
    accepting connections."""
    [pod] = await deployment(client, unique("refused"))
    fwd = await pfm.start(parse_forward(f"pod/default/{pod}", "0:9999", context=sim.context))
    for attempt in (1, 2):
        reader, writer = await asyncio.open_connection("127.0.0.1", fwd.local_port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed without an answer
        writer.close()
        await wait_until(lambda a=attempt: fwd.errors == a, what=f"error {attempt} recorded")
    assert "connection refused" in fwd.last_error and fwd.last_error.startswith(f"{pod}:9999: ")
    assert fwd.state == ForwardState.ACTIVE and can_connect(fwd.local_port)


async def test_half_closed_client_still_gets_its_answer(sim: SimHandle, client: KubeClient,
                                                        pfm: PortForwardManager) -> None:
    """A client that shuts down its sending side right after the request still receives the reply."""
    [pod] = await deployment(client, unique("half"))
    fwd = await pfm.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context))
    reader, writer = await asyncio.open_connection("127.0.0.1", fwd.local_port)
    writer.write(b"GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    writer.write_eof()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert data.startswith(b"HTTP/1.1 200 OK") and b"GET /half" in data


async def test_stop_leaves_nothing_behind(sim: SimHandle, client: KubeClient) -> None:
    """stop_all() with connections still open: the listeners refuse connections, no engine task is
    left in asyncio.all_tasks(), states are `stopped`, and once the client session is closed the
    process has no more file descriptors than before the forwards existed."""
    [pod] = await deployment(client, unique("clean"))
    await asyncio.sleep(0.3)
    before = fd_count()
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context)
    km.load()
    mgr = PortForwardManager(km.client)
    forwards = [await mgr.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context)) for _ in range(3)]
    assert (await http_get(forwards[0].local_port))[0] == 200
    idle = [await asyncio.open_connection("127.0.0.1", f.local_port) for f in forwards for _ in range(3)]
    busy_reader, busy_writer = idle[0]
    busy_writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
    await busy_reader.readuntil(b"\r\n\r\n")
    await wait_until(lambda: sum(f.connections for f in forwards) == 9, what="9 connections open")
    assert engine_tasks()
    await mgr.stop_all()
    assert all(f.state == ForwardState.STOPPED and f.connections == 0 for f in forwards)
    assert engine_tasks() == []
    assert not any(can_connect(f.local_port) for f in forwards)
    assert (await asyncio.wait_for(busy_reader.read(), 5)).startswith(b"Hello from")  # the rest, then EOF
    for reader, writer in idle:
        if reader is not busy_reader:
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the stop
        writer.close()
    await km.close()
    await wait_until(lambda: fd_count() <= before, timeout=10, what=f"fds back to {before} (now {fd_count()})")


async def test_stop_many_restart_and_saved(sim: SimHandle, client: KubeClient, pfm: PortForwardManager) -> None:
    """stop_many stops only the given forwards; restart brings one back on the same local port;
    start_saved starts the autostart entries of one context and reports bad entries as errors."""
    [pod] = await deployment(client, unique("many"))
    fwds = [await pfm.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context)) for _ in range(3)]
    await pfm.stop_many(fwds[:2])
    assert [f.state for f in fwds] == [ForwardState.STOPPED, ForwardState.STOPPED, ForwardState.ACTIVE]
    assert [f.id for f in pfm.active()] == [fwds[2].id]
    again = await pfm.restart(fwds[0].id)
    assert again.id == fwds[0].id and again.local_port == fwds[0].local_port and again.state == ForwardState.ACTIVE
    assert (await http_get(again.local_port))[1] == pod
    await pfm.remove(fwds[1])
    assert pfm.get(fwds[1].id) is None

    entries = [
        {**spec_to_dict(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context)), "autostart": True},
        spec_to_dict(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context)),  # not autostart
        {**spec_to_dict(parse_forward(f"pod/default/{pod}", "0:http", context="other")), "autostart": True},
        {"context": sim.context, "target": "deploy/x", "remote_port": 80},
    ]
    results = await pfm.start_saved(entries, context=sim.context)
    assert len(results) == 2
    started, bad = results
    assert isinstance(started, PortForward) and started.state == ForwardState.ACTIVE
    assert isinstance(bad, InvalidInput)
    assert (await http_get(started.local_port))[0] == 200


async def test_statefulset_pod_comes_back_under_its_name(sim: SimHandle, client: KubeClient,
                                                         pfm: PortForwardManager) -> None:
    """A StatefulSet pod that is deleted comes back under the same name (new uid): the forward waits
    for it to be ready and serves from it again."""
    from tests.portforward.conftest import container, create, is_ready, pods_of

    name = unique("sts")
    labels = {"app": name}
    await create(client, "/apis/apps/v1/namespaces/default/statefulsets", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [container()]}}},
    })

    async def ready_uid() -> str:
        pods = [p for p in await pods_of(client, f"app={name}") if is_ready(p)]
        return str(pods[0]["metadata"]["uid"]) if pods else ""

    old_uid = await wait_until(ready_uid, what="statefulset pod ready")
    fwd = await pfm.start(parse_forward(f"pod/default/{name}-0", "0:http", context=sim.context))
    await delete(client, f"/api/v1/namespaces/default/pods/{name}-0")
    await wait_until(lambda: fwd.reconnects >= 1 and fwd.state == ForwardState.ACTIVE, what="re-attached")
    assert await ready_uid() not in ("", old_uid)
    status, served_by, _ = await http_get(fwd.local_port)
    assert status == 200 and served_by == f"{name}-0" == fwd.pod


async def test_api_server_outage_reconnects(sim: SimHandle, client: KubeClient, tmp_path: object) -> None:
    """The connection to the API server breaks (a proxy in between is cut): the forward goes
    `reconnecting` with the reason; once the server is reachable again it is `active` and serves."""
    from pathlib import Path
    from urllib.parse import urlparse

    import yaml

    from tests.socket_proxy import TcpProxy

    [pod] = await deployment(client, unique("outage"))
    u = urlparse(sim.url)
    proxy = TcpProxy(u.hostname or "127.0.0.1", int(u.port or 443))
    await proxy.start()
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for c in cfg["clusters"]:
        c["cluster"]["server"] = f"https://{proxy.url}"
    path = Path(str(tmp_path)) / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    km = KubeManager(kubeconfig=str(path), context=sim.context)
    km.load()
    mgr = PortForwardManager(km.client, connect_wait=1.0)
    try:
        fwd = await mgr.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context))
        assert (await http_get(fwd.local_port))[0] == 200
        await proxy.stop()
        await wait_until(lambda: fwd.state == ForwardState.RECONNECTING, what="reconnecting")
        assert fwd.reason and can_connect(fwd.local_port)  # still listening while it reconnects
        await proxy.start()
        await wait_until(lambda: fwd.state == ForwardState.ACTIVE, timeout=15, what="active again")
        status, served_by, _ = await http_get(fwd.local_port)
        assert status == 200 and served_by == pod
        assert fwd.reconnects >= 1
    finally:
        await mgr.stop_all()
        await km.close()
        await proxy.stop()


async def test_lifecycle_notifications_and_stop_while_starting(sim: SimHandle, client: KubeClient,
                                                               pfm: PortForwardManager) -> None:
    """Listeners see starting -> active -> stopped; a forward stopped while still starting ends up
    `stopped` with nothing listening and no engine task left."""
    [pod] = await deployment(client, unique("life"))
    seen: list[tuple[int, ForwardState]] = []
    pfm.subscribe(lambda f: seen.append((f.id, f.state)))
    fwd = await pfm.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context))
    await pfm.stop(fwd)
    states = [s for i, s in seen if i == fwd.id]
    assert states[0] == ForwardState.STARTING and states[-1] == ForwardState.STOPPED
    assert ForwardState.ACTIVE in states and fwd.age > 0

    starting = asyncio.create_task(pfm.start(parse_forward(f"pod/default/{pod}", "0:http", context=sim.context)))
    await asyncio.sleep(0)
    pending = pfm.list()[-1]
    assert pending.state == ForwardState.STARTING and pending.running
    await pfm.stop(pending.id)
    result = await starting
    assert result is pending and result.state == ForwardState.STOPPED
    assert result.local_port == 0 or not can_connect(result.local_port)
    assert engine_tasks() == []


async def test_ipv6_loopback_listener(sim: SimHandle, client: KubeClient, pfm: PortForwardManager) -> None:
    """A forward can listen on [::1]; its URL brackets the address and it serves HTTP there."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    [pod] = await deployment(client, unique("v6"))
    fwd = await pfm.start(parse_forward(f"pod/default/{pod}", "[::1]::http", context=sim.context))
    assert fwd.local_address == "::1" and fwd.url == f"http://[::1]:{fwd.local_port}"
    status, served_by, _ = await http_get(fwd.local_port, host="::1")
    assert status == 200 and served_by == pod
