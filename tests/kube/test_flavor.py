"""Flavor classification (pure) and context probes over real sockets.

Probes run against: a TCP server on 127.0.0.1 that accepts and never answers, a closed port, a
small mutual-TLS HTTPS server written here (client certificates, impersonation headers, EKS
labels), and the real ``tamer sim`` in each flavor (k3s, kind, minikube, k8s) with its admin and
restricted contexts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tamer_tui.core.kube.flavor import Flavor, classify, probe_context, proxy_for
from tamer_tui.core.kube.kubeconfig import ConnectionParams, KubeContext, clear_exec_cache, load_files
from tamer_tui.sim.cli import start_in_thread
from tamer_tui.sim.cluster import SimOptions
from tamer_tui.sim.server import SimHandle


def ctx(name: str = "ctx", cluster: str = "c", server: str = "https://10.0.0.1:6443", **kw: Any) -> KubeContext:
    return KubeContext(name=name, cluster=cluster, user="u", namespace="", server=server, source_file="kc", **kw)


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


# ------------------------------------------------------------------------------- classify
@pytest.mark.parametrize(("git", "expected"), [
    ("v1.31.4+k3s1", "k3s"),
    ("v1.30.2+rke2r1", "rke2"),
    ("v1.29.1+k0s", "k0s"),
    ("v1.29.3-eks-adc7111", "eks"),
    ("v1.30.5-gke.1014001", "gke"),
    ("v1.27.6+f67aeb3", "openshift"),
    ("v1.31.4", "k8s"),
])
def test_classify_by_version(git: str, expected: str) -> None:
    """gitVersion markers decide the flavor; a plain version is vanilla k8s."""
    flavor = classify({"gitVersion": git}, [], None)
    assert flavor.name == expected and git in flavor.evidence


@pytest.mark.parametrize(("nodes", "expected"), [
    ([node("ip-10-0-1-2.ec2.internal", **{"eks.amazonaws.com/nodegroup": "ng-1"})], "eks"),
    ([node("gke-pool-1-abc", **{"cloud.google.com/gke-nodepool": "pool-1"})], "gke"),
    ([node("aks-nodepool1-1234-vmss000000", **{"kubernetes.azure.com/cluster": "MC_rg"})], "aks"),
    ([node("master-0", **{"node.openshift.io/os_id": "rhcos"})], "openshift"),
    ([node("m1", **{"minikube.k8s.io/name": "dev"})], "minikube"),
    ([node("srv", **{"node.kubernetes.io/instance-type": "k3s"})], "k3s"),
    ([node("dev-control-plane", **{"node-role.kubernetes.io/control-plane": ""}), node("dev-worker"),
      node("dev-worker2")], "kind"),
    ([node("kind-control-plane")], "kind"),
    ([node("minikube"), node("minikube-m02")], "minikube"),
    ([node("docker-desktop")], "docker-desktop"),
    ([{"name": "x-control-plane", "labels": {}}], "kind"),
    ([{"metadata": {"name": "n1"}, "spec": {"providerID": "kind://docker/x/n1"}}], "kind"),
    ([node("control-plane-1"), node("worker-1")], "k8s"),
    ([node("prod-control-plane"), node("db-worker")], "k8s"),
])
def test_classify_by_nodes(nodes: list[dict[str, Any]], expected: str) -> None:
    """Node labels, providerIDs and naming schemes (kind's <name>-control-plane/-worker N,
    minikube's minikube/-m02) identify the distribution; mixed prefixes are not kind."""
    assert classify({"gitVersion": "v1.31.0"}, nodes, None).name == expected


@pytest.mark.parametrize(("context", "expected"), [
    (ctx("kind-dev", "kind-dev"), "kind"),
    (ctx("minikube", "minikube"), "minikube"),
    (ctx("dev", "dev", provider="minikube.sigs.k8s.io"), "minikube"),
    (ctx("docker-desktop", "docker-desktop"), "docker-desktop"),
    (ctx("default", "default", "https://127.0.0.1:6443"), "k3s"),
    (ctx("arn:aws:eks:eu-west-1:123:cluster/prod", "arn:aws:eks:eu-west-1:123:cluster/prod"), "eks"),
    (ctx("x", "x", "https://ABC.gr7.eu-west-1.eks.amazonaws.com"), "eks"),
    (ctx("gke_proj_europe-west1_prod", "gke_proj_europe-west1_prod"), "gke"),
    (ctx("aks", "aks", "https://aks-dns-1234.hcp.westeurope.azmk8s.io:443"), "aks"),
    (ctx("x", "x", has_exec_auth=True, exec_command="/usr/bin/gke-gcloud-auth-plugin"), "gke"),
    (ctx("x", "x", has_exec_auth=True, exec_command="kubelogin"), "aks"),
    (ctx("x", "x", has_exec_auth=True, exec_command="aws"), "eks"),
    (ctx("default/api-crc-testing:6443/kubeadmin", "api-crc-testing:6443"), "openshift"),
    (ctx("default", "default", "https://10.1.1.1:6443"), "unknown"),
])
def test_classify_by_kubeconfig_hints(context: KubeContext, expected: str) -> None:
    """Without server information, context/cluster names, minikube's extension, server hosts and
    exec plugins hint the flavor; nothing at all gives 'unknown'."""
    assert classify(None, [], context).name == expected


def test_classify_server_evidence_beats_hints() -> None:
    """What the server says wins over kubeconfig names (a context named kind-x on k3s is k3s)."""
    hint = ctx("kind-x", "kind-x")
    assert classify({"gitVersion": "v1.31.4+k3s1"}, [], hint) == Flavor("k3s", "gitVersion v1.31.4+k3s1")
    assert classify({"gitVersion": "v1.31.0"}, [node("a", **{"minikube.k8s.io/name": "a"})], hint).name == "minikube"
    assert classify({"gitVersion": "v1.31.0"}, [], hint).name == "kind"  # nodes unknown: the hint decides
    assert classify({"gitVersion": "v1.31.0"}, [], None).name == "k8s"


def test_proxy_from_env_skips_loopback_and_no_proxy() -> None:
    """HTTPS_PROXY is used like client-go: never for loopback, not for NO_PROXY hosts/suffixes/CIDRs;
    the cluster's proxy-url wins; SOCKS proxies are refused with a clear error."""
    base = ConnectionParams(context="c", cluster="c", user="u", namespace="default", server="https://api.corp:6443")
    env = {"HTTPS_PROXY": "proxy:3128", "NO_PROXY": ".internal,10.0.0.0/8,example.com"}
    assert proxy_for(base, env) == "http://proxy:3128"
    for server in ("https://127.0.0.1:6443", "https://localhost:1", "https://[::1]:1", "https://a.b.internal:1",
                   "https://10.2.3.4:6443", "https://example.com", "https://api.example.com"):
        assert proxy_for(replace(base, server=server), env) is None, server
    assert proxy_for(base, {}) is None
    assert proxy_for(replace(base, proxy_url="http://other:8080"), env) == "http://other:8080"
    from tamer_tui.core.kube.kubeconfig import KubeConfigError

    with pytest.raises(KubeConfigError, match="SOCKS proxies are not supported"):
        proxy_for(replace(base, proxy_url="socks5://p:1080"), env)


# ---------------------------------------------------------------------------- dead servers
def params_for(server: str, **kw: Any) -> ConnectionParams:
    return ConnectionParams(context="c", cluster="c", user="u", namespace="default", server=server, **kw)


async def test_black_holed_server_times_out() -> None:
    """A server that accepts the TCP connection but never answers costs exactly the timeout."""
    hold: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hold.append(writer)
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        started = time.perf_counter()
        result = await probe_context(params_for(f"https://127.0.0.1:{port}"), 1.0)
        elapsed = time.perf_counter() - started
    finally:
        for w in hold:
            w.close()
        server.close()
    assert not result.reachable and result.node_count is None
    assert result.error == f"no answer from https://127.0.0.1:{port} within 1s"
    assert 0.9 < elapsed < 1.8, elapsed


async def test_closed_port_fails_fast() -> None:
    """Nothing listening: 'connection refused' well before the timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    started = time.perf_counter()
    result = await probe_context(params_for(f"https://127.0.0.1:{port}"), 10.0)
    assert time.perf_counter() - started < 1.0
    assert not result.reachable
    assert result.error == f"cannot connect to 127.0.0.1:{port}: connection refused"


async def test_non_http_server_and_bad_url() -> None:
    """A server that closes without answering and a non-http server URL give readable errors."""
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)
        writer.close()

    server = await asyncio.start_server(rude, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await probe_context(params_for(f"http://127.0.0.1:{port}"), 3.0)
    finally:
        server.close()
    assert not result.reachable and "closed the connection" in result.error
    result = await probe_context(params_for("unix:///var/run/x.sock"), 1.0)
    assert not result.reachable and "not an http(s) URL" in result.error


# ------------------------------------------------------------------------- mutual TLS server
def client_pki() -> tuple[bytes, bytes, bytes]:
    """(client CA PEM, client cert PEM, client key PEM) with clientAuth usage."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alice")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (ca.public_bytes(pem), cert.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


Seen = list[dict[str, Any]]


@pytest.fixture
async def mtls_server(tmp_path: Path) -> AsyncIterator[tuple[str, bytes, bytes, bytes, Seen]]:
    """An HTTPS API imitation on 127.0.0.1 requiring a client certificate; it serves /version and
    /api/v1/nodes (two EKS nodes, a continue token and remainingItemCount) and records requests."""
    from tamer_tui.sim.tls import generate

    server_certs = generate("127.0.0.1", "fake")
    client_ca, client_cert, client_key = client_pki()
    ctx_ = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert_file = tmp_path / "server.pem"
    cert_file.write_bytes(server_certs.cert_pem + server_certs.key_pem)
    ctx_.load_cert_chain(str(cert_file))
    ctx_.load_verify_locations(cadata=client_ca.decode())
    ctx_.verify_mode = ssl.CERT_REQUIRED
    seen: Seen = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            target = head[0].split(" ")[1]
            headers: dict[str, list[str]] = {}
            for line in head[1:]:
                if ":" in line:
                    k, _s, v = line.partition(":")
                    headers.setdefault(k.strip().lower(), []).append(v.strip())
            peer = writer.get_extra_info("peercert") or {}
            seen.append({"target": target, "headers": headers, "peer": dict(x[0] for x in peer.get("subject", ()))})
            if target == "/version":
                body = json.dumps({"gitVersion": "v1.30.0", "major": "1", "minor": "30"}).encode()
            else:
                nodes = [node(f"ip-10-0-0-{i}.ec2.internal", **{"eks.amazonaws.com/nodegroup": "ng"}) for i in (1, 2)]
                body = json.dumps({"kind": "PartialObjectMetadataList", "items": nodes,
                                   "metadata": {"continue": "abc", "remainingItemCount": 600}}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx_)
    port = server.sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", server_certs.ca_pem, client_cert, client_key, seen
    server.close()


async def test_mtls_client_cert_from_data_and_files(mtls_server: tuple[str, bytes, bytes, bytes, Seen],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Client certificate data reaches the server through temp files that are deleted afterwards;
    file references are used directly; impersonation headers are sent; EKS labels give 'eks';
    node_count adds remainingItemCount; nodes are asked for as PartialObjectMetadataList."""
    url, ca_pem, cert, key, seen = mtls_server
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    params = params_for(url, ca_data=ca_pem, client_cert_data=cert, client_key_data=key,
                        impersonate_user="bob", impersonate_groups=("ops", "dev"))
    result = await probe_context(params, 5.0)
    assert result.reachable, result.error
    assert result.flavor.name == "eks" and result.node_count == 602 and not result.nodes_truncated
    assert list(scratch.iterdir()) == []  # the temp cert/key files are gone
    assert seen[0]["peer"]["commonName"] == "alice"
    assert seen[1]["target"] == "/api/v1/nodes?limit=500"
    assert "as=PartialObjectMetadataList" in seen[1]["headers"]["accept"][0]
    assert seen[0]["headers"]["impersonate-user"] == ["bob"]
    assert seen[0]["headers"]["impersonate-group"] == ["ops", "dev"]
    assert "authorization" not in seen[0]["headers"]
    (tmp_path / "c.crt").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(key)
    from_files = params_for(url, ca_data=ca_pem, client_cert_file=str(tmp_path / "c.crt"),
                            client_key_file=str(tmp_path / "c.key"))
    assert (await probe_context(from_files, 5.0)).reachable


async def test_tls_failures_are_explained(mtls_server: tuple[str, bytes, bytes, bytes, Seen]) -> None:
    """A server certificate from another CA is 'not trusted'; no client certificate makes the
    handshake fail; a garbage CA is reported before connecting."""
    from tamer_tui.sim.tls import generate

    url, ca_pem, cert, key, _seen = mtls_server
    wrong = await probe_context(params_for(url, ca_data=generate().ca_pem, client_cert_data=cert,
                                           client_key_data=key), 5.0)
    assert not wrong.reachable and "not trusted: unable to get local issuer certificate" in wrong.error
    no_cert = await probe_context(params_for(url, ca_data=ca_pem), 5.0)
    assert not no_cert.reachable and no_cert.error
    garbage = await probe_context(params_for(url, ca_data=b"-----BEGIN CERTIFICATE-----\nAAAA\n"), 5.0)
    assert not garbage.reachable and "not a usable certificate" in garbage.error


# ------------------------------------------------------------------------------- the sim
@pytest.fixture(scope="module", params=["k3s", "kind", "minikube", "k8s"])
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    """One small simulator at a time, named 'lab' so kubeconfig names give no flavor hints."""
    path = tmp_path_factory.mktemp("sim") / "kubeconfig"
    handle = start_in_thread(SimOptions(name="lab", flavor=request.param, pods=5, namespaces=1, nodes=3,
                                        controllers=False, kubeconfig=str(path)))
    try:
        yield handle
    finally:
        handle.stop()


async def test_sim_probe_reports_flavor_and_nodes(sim: SimHandle) -> None:
    """The admin context of each simulated flavor is reachable, classified right from the server's
    answers alone, with all 3 nodes counted."""
    config = load_files([Path(sim.kubeconfig)])
    context = config.contexts[sim.context]
    result = await probe_context(config.connection_params(context), 5.0, context=context)
    flavor = sim.cluster.options.flavor
    assert result.reachable and result.error == "" and result.nodes_error == ""
    assert result.flavor.name == flavor, result.flavor
    assert result.node_count == 3
    assert result.git_version == ("v1.31.4+k3s1" if flavor == "k3s" else "v1.31.4")
    assert result.elapsed_ms < 5000


async def test_sim_restricted_context_is_reachable_without_nodes(sim: SimHandle) -> None:
    """The restricted user gets 403 on nodes: still reachable, node count unknown, reason kept."""
    config = load_files([Path(sim.kubeconfig)])
    context = config.contexts[sim.restricted_context]
    result = await probe_context(config.connection_params(context), 5.0, context=context)
    assert result.reachable and result.error == ""
    assert result.node_count is None and "HTTP 403 forbidden" in result.nodes_error
    expected = "k3s" if sim.cluster.options.flavor == "k3s" else "k8s"  # only the version is known
    assert result.flavor.name == expected


@pytest.mark.parametrize("sim", ["k3s"], indirect=True)
async def test_sim_bad_token_and_insecure(sim: SimHandle) -> None:
    """A wrong token is reachable-but-unauthorized (401 from /version); insecure-skip-tls-verify
    works without the CA."""
    config = load_files([Path(sim.kubeconfig)])
    params = config.connection_params(sim.context)
    bad = await probe_context(replace(params, token="nope"), 5.0)
    assert bad.reachable and bad.error.startswith("/version: HTTP 401 unauthorized")
    insecure = await probe_context(replace(params, ca_data=None, insecure_skip_tls_verify=True), 5.0)
    assert insecure.reachable and insecure.node_count == 3
    no_ca = await probe_context(replace(params, ca_data=None), 5.0)
    assert not no_ca.reachable and "not trusted" in no_ca.error


EXEC_PLUGIN = """
import json, os
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential",
                  "status": {"token": os.environ["SIM_TOKEN"]}}))
"""


@pytest.mark.parametrize("sim", ["minikube"], indirect=True)
async def test_sim_exec_plugin_token(sim: SimHandle, tmp_path: Path) -> None:
    """An exec credential plugin's token is used for the probe (the kubeconfig has no token)."""
    clear_exec_cache()
    script = tmp_path / "plugin.py"
    script.write_text(EXEC_PLUGIN, encoding="utf-8")
    data = yaml.safe_load(Path(sim.kubeconfig).read_text(encoding="utf-8"))
    data["users"] = [{"name": "lab-admin", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable, "args": [str(script)],
        "env": [{"name": "SIM_TOKEN", "value": sim.token}], "interactiveMode": "Never"}}}]
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_files([kc])
    result = await probe_context(config.connection_params("lab"), 10.0, context=config.contexts["lab"])
    assert result.reachable and result.node_count == 3 and result.flavor.name == "minikube"
    data["users"][0]["user"]["exec"]["env"][0]["value"] = "wrong"
    data["users"][0]["user"]["exec"]["args"] = [str(script), "again"]  # another cache key
    kc.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_files([kc])
    wrong = await probe_context(config.connection_params("lab"), 10.0)
    assert wrong.reachable and "401" in wrong.error
    data["users"][0]["user"]["exec"]["command"] = str(tmp_path / "missing-plugin")
    kc.write_text(yaml.safe_dump(data), encoding="utf-8")
    config = load_files([kc])
    broken = await probe_context(config.connection_params("lab"), 10.0)
    assert not broken.reachable and broken.error.startswith("credentials: exec credential plugin")
    clear_exec_cache()


@pytest.mark.parametrize("sim", ["kind"], indirect=True)
async def test_probes_run_concurrently(sim: SimHandle) -> None:
    """Probing the sim while a black hole hangs: the sim answers immediately, total = one timeout."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = load_files([Path(sim.kubeconfig)])
    jobs: list[Awaitable[Any]] = [probe_context(params_for(f"https://127.0.0.1:{port}"), 1.0)]
    jobs += [probe_context(config.connection_params(name), 1.0) for name in config.context_names]
    started = time.perf_counter()
    try:
        results = await asyncio.gather(*jobs)
    finally:
        server.close()
    assert time.perf_counter() - started < 1.8
    assert [r.reachable for r in results] == [False, True, True]
