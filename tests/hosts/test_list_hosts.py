"""list_hosts() from a temporary HOME / DOCKER_CONFIG: every Docker context, Podman 4 and 5 connections, TLS.

Nothing here connects anywhere: the files are written to tmp_path, default sockets are reported
missing (``probe_exists``), the system containers.conf is ignored (``system_dirs=[]``) and WSL is
not probed (``find_wsl=False``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tamer_tui.core.detect import TLSConfig, detect, docker_contexts, docker_env_tls
from tamer_tui.core.hosts import HostEntry, list_hosts, transport_of
from tamer_tui.core.models import RuntimeKind

DOCKER, PODMAN = RuntimeKind.DOCKER, RuntimeKind.PODMAN


def write_context(config_dir: Path, name: str, host: str, *, skip_verify: bool = False, description: str = "",
                  tls_files: tuple[str, ...] = ()) -> Path:
    """A context the way ``docker context create`` stores it; returns its TLS directory."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config_dir / "contexts" / "meta" / digest / "meta.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"Name": name, "Metadata": {"Description": description},
                                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}}}),
                    encoding="utf-8")
    tls_dir = config_dir / "contexts" / "tls" / digest / "docker"
    for file in tls_files:
        tls_dir.mkdir(parents=True, exist_ok=True)
        (tls_dir / file).write_text(f"-----BEGIN {file}-----\n", encoding="utf-8")
    return tls_dir


def hosts_for(env: dict[str, str], home: Path) -> list[HostEntry]:
    return list_hosts(env, home, find_wsl=False, probe_exists=lambda _p: False, system_dirs=[])


@pytest.fixture
def docker_cfg(tmp_path: Path) -> Path:
    """A DOCKER_CONFIG directory (not ~/.docker) with four contexts, the TLS one current."""
    cfg = tmp_path / "dockercfg"
    write_context(cfg, "local-unix", "unix:///srv/docker/docker.sock")
    write_context(cfg, "remote-tls", "tcp://10.1.2.3:2376", description="prod box",
                  tls_files=("ca.pem", "cert.pem", "key.pem"))
    write_context(cfg, "build-ssh", "ssh://me@build.example:2222")
    write_context(cfg, "insecure", "tcp://10.9.9.9:2376", skip_verify=True)
    (cfg / "config.json").write_text(json.dumps({"currentContext": "remote-tls"}), encoding="utf-8")
    return cfg


def test_every_docker_context_is_listed_with_its_transport_and_tls(tmp_path: Path, docker_cfg: Path) -> None:
    """All contexts appear (DOCKER_CONFIG honoured); the current one is 'docker' with its TLS material."""
    hosts = hosts_for({"DOCKER_CONFIG": str(docker_cfg)}, tmp_path / "home")
    by_name = {h.name: h for h in hosts}
    assert [h.name for h in hosts] == ["docker", "docker@build-ssh", "docker@insecure", "docker@local-unix"]
    current = by_name["docker"]
    tls_dir = docker_cfg / "contexts" / "tls" / hashlib.sha256(b"remote-tls").hexdigest() / "docker"
    assert (current.url, current.transport, current.source, current.current) == (
        "tcp://10.1.2.3:2376", "tls", "docker context remote-tls", True)
    assert current.tls == TLSConfig(str(tls_dir / "ca.pem"), str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"), True)
    assert current.description == "prod box"
    assert (by_name["docker@build-ssh"].transport, by_name["docker@build-ssh"].url) == ("ssh", "ssh://me@build.example:2222")
    assert by_name["docker@build-ssh"].tls is None
    assert by_name["docker@insecure"].tls == TLSConfig(verify=False)
    assert by_name["docker@insecure"].transport == "tls"
    assert by_name["docker@local-unix"].transport == "unix"
    assert [h.current for h in hosts] == [True, False, False, False]
    assert all(h.kind is DOCKER and h.key == h.name for h in hosts)


def test_names_match_detect_for_the_endpoints_detect_reports(tmp_path: Path, docker_cfg: Path) -> None:
    """Every endpoint detect() names keeps that exact name (and URL) in list_hosts()."""
    env = {"DOCKER_CONFIG": str(docker_cfg), "DOCKER_HOST": "tcp://127.0.0.1:2375",
           "CONTAINER_HOST": "ssh://core@10.0.0.7/run/podman/podman.sock", "CONTAINER_SSHKEY": "/keys/core"}
    found = detect(env, tmp_path / "home", probe_exists=lambda _p: False, system_dirs=[])
    hosts = {h.name: h for h in hosts_for(env, tmp_path / "home")}
    assert found.endpoints, "detect found nothing to compare"
    for endpoint in found.endpoints:
        assert hosts[endpoint.name].url == endpoint.url
        assert hosts[endpoint.name].source == endpoint.source
    assert hosts["docker"].source == "DOCKER_HOST" and hosts["docker"].current
    assert hosts["docker@remote-tls"].source == "docker context remote-tls"
    assert not hosts["docker@remote-tls"].current
    assert hosts["podman"].identity == "/keys/core" and hosts["podman"].transport == "ssh"


def test_podman4_containers_conf_connections(tmp_path: Path) -> None:
    """Podman 4's [engine.service_destinations] become hosts with identities; active_service is current."""
    home = tmp_path / "home"
    conf = home / ".config" / "containers" / "containers.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(
        '[engine]\nactive_service = "p4"\n'
        '[engine.service_destinations.p4]\nuri = "ssh://core@10.0.0.4:22/run/user/1000/podman/podman.sock"\n'
        'identity = "/keys/p4"\n'
        '[engine.service_destinations.lab]\nuri = "tcp://10.0.0.44:8888"\n', encoding="utf-8")
    hosts = hosts_for({"HOME": str(home)}, home)
    assert [(h.name, h.kind, h.transport, h.current, h.identity) for h in hosts] == [
        ("podman", PODMAN, "ssh", True, "/keys/p4"),
        ("podman@lab", PODMAN, "tcp", False, ""),
    ]
    assert hosts[0].source == "podman connection p4 (default)"
    assert hosts[0].rootless  # a /run/user/1000 socket over ssh
    assert hosts[1].source == "podman connection lab"


def test_podman5_connections_json(tmp_path: Path) -> None:
    """Podman 5's podman-connections.json: every connection, Default first and current, identities kept."""
    home = tmp_path / "home"
    path = home / ".config" / "containers" / "podman-connections.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"Connection": {"Default": "m-root", "Connection": {
        "m": {"URI": "ssh://core@127.0.0.1:50123/run/user/1000/podman/podman.sock", "Identity": "/keys/m",
              "IsMachine": True},
        "m-root": {"URI": "ssh://root@127.0.0.1:50123/run/podman/podman.sock", "Identity": "/keys/m",
                   "IsMachine": True},
    }}, "Farm": {}}), encoding="utf-8")
    hosts = hosts_for({"HOME": str(home)}, home)
    assert [(h.name, h.url, h.current, h.identity) for h in hosts] == [
        ("podman", "ssh://root@127.0.0.1:50123/run/podman/podman.sock", True, "/keys/m"),
        ("podman@m", "ssh://core@127.0.0.1:50123/run/user/1000/podman/podman.sock", False, "/keys/m"),
    ]
    endpoint = hosts[0].endpoint()
    assert (endpoint.name, endpoint.url, endpoint.identity, endpoint.tls_verify) == (
        "podman", hosts[0].url, "/keys/m", None)


def test_duplicate_urls_are_listed_once_first_wins(tmp_path: Path) -> None:
    """A context pointing where DOCKER_HOST points is not listed a second time."""
    cfg = tmp_path / "cfg"
    write_context(cfg, "same", "tcp://127.0.0.1:2375/")
    write_context(cfg, "other", "tcp://127.0.0.1:2376")
    hosts = hosts_for({"DOCKER_CONFIG": str(cfg), "DOCKER_HOST": "tcp://127.0.0.1:2375"}, tmp_path)
    assert [(h.name, h.source) for h in hosts] == [("docker", "DOCKER_HOST"), ("docker@other", "docker context other")]


def test_docker_host_tls_from_environment(tmp_path: Path) -> None:
    """DOCKER_TLS_VERIFY + DOCKER_CERT_PATH give DOCKER_HOST its TLS material (detect() and list_hosts())."""
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("x", encoding="utf-8")
    env = {"DOCKER_HOST": "tcp://10.0.0.9:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs),
           "DOCKER_CONFIG": str(tmp_path / "nocfg")}
    expected = TLSConfig(str(certs / "ca.pem"), str(certs / "cert.pem"), str(certs / "key.pem"), True)
    assert docker_env_tls(env) == expected
    endpoint = detect(env, tmp_path, probe_exists=lambda _p: False, system_dirs=[]).endpoints[0]
    assert (endpoint.tls_ca, endpoint.tls_cert, endpoint.tls_key, endpoint.tls_verify) == (
        expected.ca, expected.cert, expected.key, True)
    host = hosts_for(env, tmp_path)[0]
    assert (host.transport, host.tls) == ("tls", expected)
    assert host.endpoint().tls_cert == expected.cert
    # DOCKER_TLS alone: TLS without verification; no variable: plain TCP
    assert docker_env_tls({"DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(certs)}) == TLSConfig(
        expected.ca, expected.cert, expected.key, False)
    plain = hosts_for({"DOCKER_HOST": "tcp://10.0.0.9:2375", "DOCKER_CONFIG": str(tmp_path / "nocfg")}, tmp_path)[0]
    assert (plain.transport, plain.tls, plain.endpoint().tls_verify) == ("tcp", None, None)


def test_detect_gives_the_current_context_its_tls_material(tmp_path: Path, docker_cfg: Path) -> None:
    """The runtime manager's endpoints (detect()) carry the current context's TLS, so the app can connect."""
    endpoint = detect({"DOCKER_CONFIG": str(docker_cfg)}, tmp_path, probe_exists=lambda _p: False,
                      system_dirs=[]).endpoints[0]
    assert endpoint.source == "docker context remote-tls"
    assert endpoint.tls_verify is True and endpoint.tls_ca.endswith("/docker/ca.pem")
    assert endpoint.tls_cert.endswith("/docker/cert.pem") and endpoint.tls_key.endswith("/docker/key.pem")


def test_contexts_with_broken_or_foreign_meta_are_skipped(tmp_path: Path) -> None:
    """Unreadable meta.json, a context without a docker endpoint and unknown schemes do not break listing."""
    cfg = tmp_path / "cfg"
    write_context(cfg, "good", "ssh://h")
    bad = cfg / "contexts" / "meta" / ("0" * 64) / "meta.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json", encoding="utf-8")
    k8s = cfg / "contexts" / "meta" / ("1" * 64) / "meta.json"
    k8s.parent.mkdir(parents=True)
    k8s.write_text(json.dumps({"Name": "k8s", "Endpoints": {"kubernetes": {}}}), encoding="utf-8")
    write_context(cfg, "weird", "fd://")
    notes: list[str] = []
    assert [c.name for c in docker_contexts({"DOCKER_CONFIG": str(cfg)}, tmp_path, notes)] == ["good", "weird"]
    assert notes
    hosts = hosts_for({"DOCKER_CONFIG": str(cfg)}, tmp_path)
    assert [(h.name, h.url) for h in hosts] == [("docker@good", "ssh://h")]


def test_transport_names() -> None:
    """transport_of maps each URL scheme (and tcp with TLS) to the transport the UI shows."""
    assert [transport_of(u) for u in ("unix:///s", "tcp://h:1", "ssh://h", "npipe:////./pipe/x", "wsl://D",
                                      "https://h")] == ["unix", "tcp", "ssh", "npipe", "wsl", "tls"]
    assert transport_of("tcp://h:2376", TLSConfig()) == "tls"


def test_an_engine_disabled_in_settings_gets_no_hosts(tmp_path: Path, docker_cfg: Path) -> None:
    """runtimes.docker.enabled: false hides every Docker host, contexts included; Podman ones stay."""
    from tamer_tui.core.settings import Settings

    home = tmp_path / "home"
    conf = home / ".config" / "containers" / "containers.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('[engine.service_destinations.lab]\nuri = "tcp://10.0.0.44:8888"\n', encoding="utf-8")
    settings = Settings()
    settings.runtimes.docker.enabled = False
    env = {"DOCKER_CONFIG": str(docker_cfg), "HOME": str(home)}
    hosts = list_hosts(env, home, find_wsl=False, settings=settings, probe_exists=lambda _p: False, system_dirs=[])
    assert [(h.name, h.kind) for h in hosts] == [("podman", PODMAN)]
    assert len(hosts_for(env, home)) == 5
