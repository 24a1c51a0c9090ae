"""``tamer doctor``: concurrent probes with timeouts, the raw socket probe, kubeconfig parsing, output."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tamer_tui.core.doctor import (
    DoctorReport,
    probe_socket_version,
    read_kube_contexts,
    run_doctor,
    socket_probe,
)
from tamer_tui.core.errors import PermissionDenied, RuntimeUnavailable
from tamer_tui.core.models import RuntimeEndpoint, RuntimeInfo, RuntimeKind
from tamer_tui.core.settings import Settings
from tests.services import docker_host, podman_url

unix_only = pytest.mark.skipif(sys.platform == "win32", reason="unix sockets")

VERSION = {"Version": "27.1.1", "ApiVersion": "1.46", "Os": "linux", "Arch": "amd64",
           "Components": [{"Name": "Engine", "Version": "27.1.1"}]}

Handler = Callable[[str], Awaitable[bytes]]


def http(status: int, body: bytes, chunked: bool = False, reason: str = "OK") -> bytes:
    if chunked:
        half = len(body) // 2
        chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:half], body[half:]) if p)
        return (f"HTTP/1.1 {status} {reason}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                + chunks + b"0\r\n\r\n")
    return f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\nApi-Version: 1.46\r\n\r\n".encode() + body


def responder(handler: Handler) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            writer.write(await handler(target))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return on_client


async def serve(path: Path, handler: Handler) -> asyncio.AbstractServer:
    return await asyncio.start_unix_server(responder(handler), path=str(path))


@pytest.fixture
async def fake_daemon(tmp_path: Path) -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.AbstractServer] = []

    async def start(handler: Handler) -> str:
        path = tmp_path / f"d{len(servers)}.sock"
        servers.append(await serve(path, handler))
        return "unix://" + str(path)

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@unix_only
async def test_probe_socket_version_content_length(fake_daemon: Callable[[Handler], Awaitable[str]]) -> None:
    """The raw probe does GET /_ping then GET /version and returns the version JSON plus _ping."""
    seen: list[str] = []

    async def handler(target: str) -> bytes:
        seen.append(target)
        return http(200, b"OK") if target == "/_ping" else http(200, json.dumps(VERSION).encode())

    url = await fake_daemon(handler)
    data = await probe_socket_version(url)
    assert seen == ["/_ping", "/version"]
    assert data["Version"] == "27.1.1" and data["ApiVersion"] == "1.46" and data["_ping"] == "OK"


@unix_only
async def test_probe_socket_version_chunked(fake_daemon: Callable[[Handler], Awaitable[str]]) -> None:
    """Chunked transfer encoding (what some daemons send) is decoded."""
    async def handler(target: str) -> bytes:
        return http(200, b"OK", chunked=True) if target == "/_ping" else \
            http(200, json.dumps(VERSION).encode(), chunked=True)

    data = await probe_socket_version(await fake_daemon(handler))
    assert data["Components"][0]["Name"] == "Engine"


@unix_only
async def test_probe_errors_are_readable(fake_daemon: Callable[[Handler], Awaitable[str]], tmp_path: Path) -> None:
    """Missing socket, HTTP 403, HTTP 500 and non-JSON bodies become typed errors with clear text."""
    with pytest.raises(RuntimeUnavailable, match="does not exist"):
        await probe_socket_version("unix://" + str(tmp_path / "nope.sock"))

    async def forbidden(target: str) -> bytes:
        return http(403, b"no", reason="Forbidden")

    with pytest.raises(PermissionDenied, match="HTTP 403"):
        await probe_socket_version(await fake_daemon(forbidden))

    async def broken(target: str) -> bytes:
        return http(200, b"OK") if target == "/_ping" else http(500, b"boom", reason="Error")

    with pytest.raises(RuntimeUnavailable, match="HTTP 500: boom"):
        await probe_socket_version(await fake_daemon(broken))

    async def not_json(target: str) -> bytes:
        return http(200, b"OK") if target == "/_ping" else http(200, b"<html>")

    with pytest.raises(RuntimeUnavailable, match="did not return JSON"):
        await probe_socket_version(await fake_daemon(not_json))


async def test_probe_refuses_unsupported_schemes() -> None:
    """ssh:// and npipe:// are left to the real backends: the fallback probe says so."""
    with pytest.raises(RuntimeUnavailable, match="cannot reach ssh://"):
        await probe_socket_version("ssh://me@127.0.0.1")


async def test_probe_over_tcp() -> None:
    """tcp:// endpoints (DOCKER_HOST=tcp://...) are probed over a plain TCP connection."""
    async def handler(target: str) -> bytes:
        return http(200, b"OK") if target == "/_ping" else http(200, json.dumps(VERSION).encode())

    server = await asyncio.start_server(responder(handler), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        data = await probe_socket_version(f"tcp://127.0.0.1:{port}")
        assert data["Version"] == "27.1.1" and data["_ping"] == "OK"
    finally:
        server.close()
        await server.wait_closed()


async def test_probe_tcp_refused() -> None:
    """A closed TCP port on 127.0.0.1 is reported as unreachable, not raised as OSError."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(RuntimeUnavailable, match=f"127.0.0.1:{port}"):
        await probe_socket_version(f"tcp://127.0.0.1:{port}")


def ep(name: str, url: str = "unix:///x.sock", kind: RuntimeKind = RuntimeKind.DOCKER) -> RuntimeEndpoint:
    return RuntimeEndpoint(kind, name, url, "test", rootless=name == "slow")


async def test_probes_run_concurrently_with_timeouts(tmp_path: Path) -> None:
    """A hanging probe times out after `timeout` without delaying the others; errors are recorded."""
    async def probe(endpoint: RuntimeEndpoint) -> RuntimeInfo:
        if endpoint.name == "hang":
            await asyncio.sleep(60)
        if endpoint.name == "dead":
            raise RuntimeUnavailable("connection refused")
        if endpoint.name == "weird":
            raise ValueError("bad payload")
        await asyncio.sleep(0.2)
        return RuntimeInfo(endpoint.name, endpoint.kind, endpoint.url, version="1.0", api_version="1.41")

    endpoints = [ep("hang"), ep("a"), ep("b"), ep("dead"), ep("weird")]
    started = time.perf_counter()
    report = await run_doctor(Settings(), probe, timeout=0.5, env={"HOME": str(tmp_path), "PATH": ""},
                              home=tmp_path, endpoints=endpoints)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, elapsed  # 0.5 s timeout + concurrent 0.2 s probes, not 60 s or 0.4 s serial
    checks = {c.name: c for c in report.runtimes}
    assert [c.name for c in report.runtimes] == ["hang", "a", "b", "dead", "weird"]
    assert checks["hang"].reachable is False and checks["hang"].error == "no answer within 0.5s"
    assert checks["a"].reachable and checks["a"].version == "1.0" and checks["a"].api_version == "1.41"
    assert checks["dead"].error == "connection refused"
    assert checks["weird"].error == "ValueError: bad payload"


@unix_only
async def test_dead_socket_does_not_hang_doctor(tmp_path: Path) -> None:
    """A socket that accepts but never answers is cut off by the timeout in the default probe."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    path = tmp_path / "silent.sock"
    server = await asyncio.start_unix_server(silent, path=str(path))
    try:
        started = time.perf_counter()
        report = await run_doctor(Settings(), None, timeout=0.3, env={"PATH": ""}, home=tmp_path,
                                  endpoints=[ep("docker", "unix://" + str(path))])
        assert time.perf_counter() - started < 2.0
        assert report.runtimes[0].error == "no answer within 0.3s"
    finally:
        server.close()


def closed_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def write_kubeconfig(path: Path, current: str, contexts: list[tuple[str, str, str | None]],
                     clusters: dict[str, str]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in clusters.items()],
        "contexts": [{"name": n, "context": {"cluster": c, "user": "u", **({"namespace": ns} if ns else {})}}
                     for n, c, ns in contexts],
        "users": [{"name": "u", "user": {"token": "secret"}}],
    }), encoding="utf-8")
    return path


def test_kube_contexts_merge_like_kubectl(tmp_path: Path) -> None:
    """First file wins for duplicate names and current-context; missing files are skipped."""
    a = write_kubeconfig(tmp_path / "a", "dev", [("dev", "c1", "team"), ("both", "c1", None)],
                         {"c1": "https://127.0.0.1:6443"})
    b = write_kubeconfig(tmp_path / "b", "prod", [("prod", "c2", None), ("both", "c2", "other")],
                         {"c2": "https://127.0.0.1:7443"})
    found = read_kube_contexts([a, tmp_path / "missing", b])
    assert [(c.name, c.cluster, c.server, c.namespace, c.current) for c in found] == [
        ("dev", "c1", "https://127.0.0.1:6443", "team", True),
        ("both", "c1", "https://127.0.0.1:6443", "default", False),
        ("prod", "c2", "https://127.0.0.1:7443", "default", False),
    ]
    assert found[2].file == str(b)


def test_kube_contexts_bad_yaml_is_reported(tmp_path: Path) -> None:
    """A corrupt kubeconfig is skipped with an error message; others still load."""
    bad = tmp_path / "bad"
    bad.write_text("clusters: [\n", encoding="utf-8")
    good = write_kubeconfig(tmp_path / "good", "x", [("x", "c", None)], {"c": "https://127.0.0.1:1"})
    errors: list[str] = []
    assert [c.name for c in read_kube_contexts([bad, good], errors)] == ["x"]
    assert len(errors) == 1 and "not valid YAML" in errors[0]


async def test_report_json_and_text(tmp_path: Path) -> None:
    """The report carries runtimes, contexts (from settings.kube.kubeconfig), tools and paths,
    serialises to JSON, and the text form aligns its columns and never prints kube secrets."""
    dead = f"https://127.0.0.1:{closed_port()}"
    kc = write_kubeconfig(tmp_path / "kc", "dev", [("dev", "c1", "ns1")], {"c1": dead})
    settings = Settings()
    settings.kube.kubeconfig = [str(kc)]

    async def probe(endpoint: RuntimeEndpoint) -> RuntimeInfo:
        if endpoint.name == "podman":
            raise PermissionDenied("permission denied on /run/podman/podman.sock")
        return RuntimeInfo(endpoint.name, endpoint.kind, endpoint.url, version="27.1.1", api_version="1.46")

    env = {"PATH": "", "TAMER_CONFIG_DIR": str(tmp_path / "cfg"), "TAMER_DATA_DIR": str(tmp_path / "data"),
           "WSL_DISTRO_NAME": "Ubuntu"}
    endpoints = [ep("docker"), ep("podman", "unix:///run/podman/podman.sock", RuntimeKind.PODMAN)]
    report = await run_doctor(settings, probe, env=env, home=tmp_path, endpoints=endpoints)
    assert isinstance(report, DoctorReport)
    data = json.loads(report.to_json())
    assert data["wsl"] is (sys.platform.startswith("linux"))
    assert data["runtimes"][0]["version"] == "27.1.1" and data["runtimes"][1]["reachable"] is False
    kube = data["kube_contexts"][0]
    assert {k: kube[k] for k in ("name", "cluster", "server", "namespace", "user", "file", "current")} == {
        "name": "dev", "cluster": "c1", "server": dead, "namespace": "ns1", "user": "u",
        "file": str(kc), "current": True}
    assert kube["reachable"] is False and "connection refused" in kube["error"] and kube["flavor"] == "unknown"
    assert data["paths"]["config_dir"] == str(tmp_path / "cfg")
    assert set(data["tools"]) >= {"kubectl", "helm", "docker compose", "podman"}
    text = report.to_text()
    assert "secret" not in text and "secret" not in report.to_json()
    lines = text.splitlines()
    header = next(line for line in lines if line.strip().startswith("NAME"))
    rows = [line for line in lines if line.startswith("  docker ") or line.startswith("  podman ")]
    status_col = header.index("STATUS")
    assert rows[0][status_col:].startswith("ok 27.1.1 (API 1.46)")
    assert rows[1][status_col:].startswith("ERROR: permission denied")
    assert "* dev" in text.replace("  ", " ")


async def test_socket_probe_prefers_podman_component_version(
        fake_daemon: Callable[[Handler], Awaitable[str]]) -> None:
    """Podman's compat /version reports the Podman Engine component version as the runtime version."""
    payload = {"Version": "4.3.1", "ApiVersion": "1.41", "Os": "linux", "Arch": "amd64",
               "Components": [{"Name": "Podman Engine", "Version": "4.3.1-dev"}]}

    async def handler(target: str) -> bytes:
        return http(200, b"OK") if target == "/_ping" else http(200, json.dumps(payload).encode())

    url = await fake_daemon(handler)
    info = await socket_probe(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", url, "test"))
    assert (info.version, info.api_version, info.os) == ("4.3.1-dev", "1.41", "linux")


@unix_only
async def test_real_docker_daemon_probe() -> None:
    """Against the real test Docker daemon the raw probe gets a pong and a version."""
    url = docker_host()
    data = await asyncio.wait_for(probe_socket_version(url), 10)
    assert data["_ping"] == "OK"
    assert data["Version"] and data["ApiVersion"].count(".") == 1
    report = await run_doctor(Settings(), None, timeout=10, endpoints=[ep("docker", url)])
    assert report.runtimes[0].reachable, report.runtimes[0].error


@unix_only
async def test_real_podman_service_probe() -> None:
    """Podman's Docker-compatible API answers the same raw probe (unix:// URLs only)."""
    url = podman_url()
    if not url.startswith("unix://"):
        pytest.skip("the raw probe handles unix:// only for this check")
    info = await asyncio.wait_for(socket_probe(ep("podman", url, RuntimeKind.PODMAN)), 10)
    assert info.version and info.api_version


@pytest.fixture(scope="module")
def sim_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A small kind-flavoured ``tamer sim`` whose kubeconfig also holds a dead and a broken context."""
    import yaml

    from tamer_tui.sim.cli import start_in_thread
    from tamer_tui.sim.cluster import SimOptions

    path = tmp_path_factory.mktemp("doctor-sim") / "kubeconfig"
    handle = start_in_thread(SimOptions(name="lab", flavor="kind", pods=3, namespaces=1, nodes=2,
                                        controllers=False, kubeconfig=str(path)))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    dead = f"https://127.0.0.1:{closed_port()}"
    data["clusters"].append({"name": "dead", "cluster": {"server": dead}})
    data["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": "lab-admin"}})
    data["contexts"].append({"name": "broken", "context": {"cluster": "nowhere"}})
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        yield path, handle.url, dead
    finally:
        handle.stop()


async def test_doctor_probes_kube_contexts(sim_kubeconfig: tuple[Path, str, str], tmp_path: Path) -> None:
    """Every context is probed concurrently: the sim's admin context is reachable with its flavor
    (kind, from node names) and node count, the restricted one reachable with nodes unknown (403),
    a closed port and a missing cluster are errors; JSON and text carry it all. A minikube profile
    in the (fake) home shows up under other kubeconfigs as not merged."""
    path, url, dead = sim_kubeconfig
    settings = Settings()
    settings.kube.kubeconfig = [str(path)]
    profile = tmp_path / ".minikube" / "profiles" / "mk"
    profile.mkdir(parents=True)
    (profile / "config.json").write_text(json.dumps({"Name": "mk", "Driver": "kvm2", "Nodes": [
        {"IP": "192.168.39.2", "Port": 8443, "ControlPlane": True}]}), encoding="utf-8")
    started = time.perf_counter()
    report = await run_doctor(settings, None, timeout=2.0, env={"PATH": ""}, home=tmp_path, endpoints=[])
    assert time.perf_counter() - started < 4.0
    by_name = {c.name: c for c in report.kube_contexts}
    assert list(by_name) == ["lab", "lab-restricted", "dead", "broken"]
    lab = by_name["lab"]
    assert (lab.reachable, lab.flavor, lab.version, lab.nodes, lab.current) == (True, "kind", "v1.31.4", 2, True)
    assert "lab-control-plane" in lab.flavor_evidence and lab.server == url
    restricted = by_name["lab-restricted"]
    assert restricted.reachable and restricted.nodes is None and "403" in restricted.nodes_error
    assert by_name["dead"].reachable is False and "connection refused" in by_name["dead"].error
    assert by_name["broken"].reachable is False and "cluster 'nowhere'" in by_name["broken"].error
    data = json.loads(report.to_json())
    assert data["kube_contexts"][0]["flavor"] == "kind" and data["kube_contexts"][0]["nodes"] == 2
    mk = [f for f in data["found_kubeconfigs"] if f["kind"] == "minikube"]
    assert mk == [{"kind": "minikube", "name": "mk", "path": str(profile / "config.json"),
                   "origin": str(profile / "config.json"), "contexts": ["mk"], "merged": False, "error": ""}]
    text = report.to_text()
    assert "ok v1.31.4, 2 nodes" in text
    assert "ok v1.31.4, nodes unknown (HTTP 403 forbidden" in text
    assert f"ERROR: cannot connect to {dead.removeprefix('https://')}: connection refused" in text
    assert "Other kubeconfigs found" in text and f"not merged: tamer kubeconfig import {profile / 'config.json'}" in text
    token_lines = [line for line in text.splitlines() if "admin-" in line]
    assert token_lines == []


async def test_doctor_kube_probe_can_be_skipped(sim_kubeconfig: tuple[Path, str, str], tmp_path: Path) -> None:
    """probe_kube=False lists contexts without connecting (reachable None, STATUS '-')."""
    path, _url, _dead = sim_kubeconfig
    settings = Settings()
    settings.kube.kubeconfig = [str(path)]
    report = await run_doctor(settings, None, env={"PATH": ""}, home=tmp_path, endpoints=[],
                              probe_kube=False, discover_kube=False)
    assert [c.reachable for c in report.kube_contexts] == [None, None, None, None]
    assert report.found_kubeconfigs == []
    assert report.kube_contexts[3].error == "cluster 'nowhere' is not defined"
