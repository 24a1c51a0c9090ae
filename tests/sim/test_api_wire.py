"""Wire-level pieces of the simulator's server: Kubernetes protobuf request bodies (what typed
client-go clients such as kubectl >= 1.32 and helm send), content negotiation, continue tokens and
the watch fan-out's slow-watcher cut-off; plus newer kubectl binaries' typed create commands."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tamer_tui.sim.cluster import Cluster, SimOptions
from tamer_tui.sim.server import (
    SimHandle,
    WatchHub,
    decode_body,
    decode_continue,
    encode_continue,
    wanted_format,
    wants_aggregated,
)
from tamer_tui.sim.store import ApiError

# ---------------------------------------------------------------------------- a tiny protobuf writer


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _f(num: int, value: bytes | str | int | bool) -> bytes:
    if isinstance(value, int):  # bool is an int too
        return _varint(num << 3) + _varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _entry(num: int, key: str, value: bytes | str) -> bytes:
    return _f(num, _f(1, key) + _f(2, value))


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return b"k8s\x00" + _f(1, _f(1, api_version) + _f(2, kind)) + _f(2, raw) + _f(3, "") + _f(4, "")


def test_protobuf_secret_and_configmap() -> None:
    """A protobuf Secret decodes to JSON shape (bytes data base64, labels, zero fields omitted)."""
    meta = _f(1, "s1") + _f(3, "team") + _f(7, 0) + _entry(11, "app", "web") + _f(8, b"")
    raw = _f(1, meta) + _entry(2, "password", b"\x00\x01hi") + _f(3, "Opaque")
    obj = decode_body(_envelope("v1", "Secret", raw), "application/vnd.kubernetes.protobuf")
    assert obj == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s1", "namespace": "team", "labels": {"app": "web"}},
        "data": {"password": "AAFoaQ=="},
        "type": "Opaque",
    }
    cm = decode_body(
        _envelope("v1", "ConfigMap", _f(1, _f(1, "c")) + _entry(2, "k", "v")),
        "application/vnd.kubernetes.protobuf",
    )
    assert cm["data"] == {"k": "v"} and cm["metadata"] == {"name": "c"}


def test_protobuf_deployment_with_nested_template() -> None:
    """Nested messages, repeated fields, int-or-string and quantities decode like their JSON forms."""
    container = (
        _f(1, "web")
        + _f(2, "nginx:1.25")
        + _f(3, "sleep")
        + _f(3, "10")
        + _f(6, _f(3, 80) + _f(4, "TCP") + _f(2, 0))
        + _f(8, _entry(2, "cpu", _f(1, "100m")))
        + _f(16, False)
    )
    template = _f(1, _f(1, "") + _entry(11, "app", "web")) + _f(2, _f(2, container) + _f(3, "Always"))
    spec = _f(1, 3) + _f(2, _entry(1, "app", "web")) + _f(3, template) + _f(4, _f(1, "")) + _f(5, 0)
    obj = decode_body(_envelope("apps/v1", "Deployment", _f(1, _f(1, "d")) + _f(2, spec)), "")
    assert obj["spec"]["replicas"] == 3
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert obj["spec"]["strategy"] == {}
    c = obj["spec"]["template"]["spec"]["containers"][0]
    assert c == {
        "name": "web",
        "image": "nginx:1.25",
        "command": ["sleep", "10"],
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m"}},
    }
    svc_port = _f(1, "http") + _f(3, 80) + _f(4, _f(1, 1) + _f(3, "web"))
    svc = decode_body(
        _envelope("v1", "Service", _f(1, _f(1, "s")) + _f(2, _f(1, svc_port) + _f(4, "NodePort"))), ""
    )
    assert svc["spec"] == {"ports": [{"name": "http", "port": 80, "targetPort": "web"}], "type": "NodePort"}


def test_protobuf_delete_options_and_unsupported_kind() -> None:
    """DeleteOptions decode without apiVersion/kind; an unknown kind is 415; garbage is 400."""
    opts = decode_body(_envelope("meta.k8s.io/v1", "DeleteOptions", _f(4, "Foreground") + _f(5, "All")), "")
    assert opts == {"propagationPolicy": "Foreground", "dryRun": ["All"]}
    with pytest.raises(ApiError) as err:
        decode_body(_envelope("v1", "Node", b""), "application/vnd.kubernetes.protobuf")
    assert err.value.code == 415
    with pytest.raises(ApiError) as err:
        decode_body(b"k8s\x00\x0a\xff", "application/vnd.kubernetes.protobuf")
    assert err.value.code == 400


def test_content_negotiation() -> None:
    """Accept headers select Table, PartialObjectMetadata, JSON or aggregated discovery like kubectl sends them."""
    table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    assert wanted_format(table) == "table"
    assert (
        wanted_format("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json")
        == "pom"
    )
    assert wanted_format("application/vnd.kubernetes.protobuf,application/json") == "json"
    assert wanted_format("application/vnd.kubernetes.protobuf") == "protobuf"
    assert wanted_format(None) == "json"
    agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    assert wants_aggregated(agg) == "v2"
    assert wants_aggregated("application/json") is None


def test_continue_token_round_trip() -> None:
    """Continue tokens are opaque and round-trip; a foreign token is 400."""
    token = encode_continue(42, "ns", "name-7")
    assert "ns" not in token and decode_continue(token) == (42, "ns", "name-7")
    with pytest.raises(ApiError) as err:
        decode_continue("not-a-token")
    assert err.value.code == 400


def test_slow_watcher_is_cut_off_without_blocking_others() -> None:
    """A watcher whose queue passes the limit is marked overflowed and closed; others get every event."""
    cluster = Cluster(SimOptions())
    cms = cluster.rtype("", "v1", "configmaps")
    ns = cluster.rtype("", "v1", "namespaces")
    cluster.store.create(ns, {"metadata": {"name": "default"}})
    hub = WatchHub(cluster.store, limit=5)
    slow = hub.add(cms.key, "default")
    fast = hub.add(cms.key, "")
    for i in range(5):
        cluster.store.create(cms, {"metadata": {"name": f"c{i}"}})
        fast.queue.get_nowait()  # a consumer keeping up
    assert not slow.overflow and slow.queue.qsize() == 5
    cluster.store.create(cms, {"metadata": {"name": "c5"}})
    assert slow.overflow and hub.dropped == 1
    assert fast.queue.get_nowait().ev.obj["metadata"]["name"] == "c5"
    hub.remove(slow)
    assert hub.count() == 1
    hub.close()


def _newer_kubectls() -> list[str]:
    found = []
    for path in sorted(glob.glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.*")):
        m = re.search(r"kubectl\.1\.(\d+)$", path)
        if m and int(m.group(1)) >= 32 and os.access(path, os.X_OK):
            found.append(path)
    return found


@pytest.mark.kubectl
@pytest.mark.parametrize("binary", _newer_kubectls() or ["none"])
def test_typed_create_commands_of_newer_kubectl(binary: str, sim: SimHandle, tmp_path: Path) -> None:
    """kubectl >= 1.32 sends protobuf for `create <kind>` and `auth`; every such command works against the sim."""
    if binary == "none":
        pytest.skip("no kubectl >= 1.32 binary besides the default one on this machine")
    env = {**os.environ, "KUBECACHEDIR": str(tmp_path / "cache"), "HOME": str(tmp_path)}

    def k(*args: str) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [binary, "--kubeconfig", sim.kubeconfig, "--context", sim.context, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert res.returncode == 0, f"{args}: {res.stderr}"
        return res

    ns = "pb-" + Path(binary).name.replace(".", "-")
    k("create", "namespace", ns)
    k("create", "configmap", "cm", "-n", ns, "--from-literal=a=b")
    k("create", "secret", "generic", "sec", "-n", ns, "--from-literal=p=q")
    k("create", "serviceaccount", "sa", "-n", ns)
    k("create", "deployment", "dep", "-n", ns, "--image=nginx:1.25", "--port=80", "--replicas=2")
    k("create", "service", "nodeport", "svc", "-n", ns, "--tcp=80:8080")
    k("create", "job", "job", "-n", ns, "--image=busybox", "--", "echo", "hi")
    k("create", "cronjob", "cj", "-n", ns, "--image=busybox", "--schedule=*/5 * * * *")
    k("create", "role", "role", "-n", ns, "--verb=get", "--resource=pods")
    k("create", "rolebinding", "rb", "-n", ns, "--role=role", "--user=bob")
    k("create", "ingress", "ing", "-n", ns, "--rule=foo.example.com/bar=svc:80")
    k("create", "poddisruptionbudget", "pdb", "-n", ns, "--selector=app=dep", "--min-available=1")
    k("create", "quota", "quota", "-n", ns, "--hard=pods=5,cpu=2")
    assert k("create", "token", "sa", "-n", ns).stdout.count(".") == 2
    assert k("auth", "can-i", "create", "pods", "-n", ns).stdout.strip() == "yes"
    assert "admin" in k("auth", "whoami").stdout
    dep = json.loads(k("get", "deploy", "dep", "-n", ns, "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    svc = json.loads(k("get", "svc", "svc", "-n", ns, "-o", "json").stdout)
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["targetPort"] == 8080
    secret = json.loads(k("get", "secret", "sec", "-n", ns, "-o", "json").stdout)
    assert secret["data"] == {"p": "cQ=="}
    ing = json.loads(k("get", "ingress", "ing", "-n", ns, "-o", "json").stdout)
    path = ing["spec"]["rules"][0]["http"]["paths"][0]
    assert path["path"] == "/bar" and path["backend"]["service"] == {"name": "svc", "port": {"number": 80}}
