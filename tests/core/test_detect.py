"""Endpoint detection from env dicts, temp home dirs and a fake ``exists`` (no real sockets)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from tamer_tui.core.detect import (
    detect,
    detect_endpoints,
    docker_context_meta_path,
    normalize_url,
    parse_containers_conf,
    parse_podman_connections,
    pipe_path,
    url_is_rootless,
)
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.settings import Settings

DOCKER = RuntimeKind.DOCKER
PODMAN = RuntimeKind.PODMAN


def only(paths: Iterable[str]) -> Callable[[str], bool]:
    present = set(paths)
    return lambda p: p in present


def nothing(_path: str) -> bool:
    return False


def run(tmp_path: Path, env: dict[str, str] | None = None, exists: Callable[[str], bool] = nothing,
        settings: Settings | None = None, platform_name: str = "linux") -> list[RuntimeEndpoint]:
    return detect_endpoints(env or {}, tmp_path, exists, settings, platform_name, system_dirs=[])


def docker_context(home: Path, name: str, host: str, current: bool = True) -> None:
    meta = home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": {
        "Host": host, "SkipTLSVerify": False}}}), encoding="utf-8")
    if current:
        (home / ".docker" / "config.json").write_text(json.dumps({"currentContext": name}), encoding="utf-8")


def test_nothing_found(tmp_path: Path) -> None:
    """No env, no config, no sockets: no endpoints (detection does not invent a socket)."""
    assert run(tmp_path) == []


def test_default_docker_socket_only_when_it_exists(tmp_path: Path) -> None:
    """/var/run/docker.sock is reported only when present, as the primary 'docker' endpoint."""
    eps = run(tmp_path, exists=only(["/var/run/docker.sock"]))
    assert eps == [RuntimeEndpoint(DOCKER, "docker", "unix:///var/run/docker.sock", "default socket", False)]


def test_docker_host_env_schemes(tmp_path: Path) -> None:
    """DOCKER_HOST is used as-is for unix, tcp, ssh and npipe URLs, even when nothing exists locally."""
    for url in ("unix:///tmp/d.sock", "tcp://127.0.0.1:2375", "ssh://me@127.0.0.1", "npipe:////./pipe/x"):
        [ep] = run(tmp_path, {"DOCKER_HOST": url})
        assert (ep.kind, ep.name, ep.url, ep.source) == (DOCKER, "docker", url, "DOCKER_HOST")


def test_bad_docker_host_is_a_note_not_an_endpoint(tmp_path: Path) -> None:
    """A DOCKER_HOST without a known scheme is ignored, and the notes say why."""
    result = detect({"DOCKER_HOST": "/var/run/docker.sock"}, tmp_path, nothing, None, "linux", [])
    assert result.endpoints == []
    assert any("DOCKER_HOST" in n and "not a Docker URL" in n for n in result.notes)


def test_docker_host_beats_default_socket_and_both_are_listed(tmp_path: Path) -> None:
    """DOCKER_HOST is the primary endpoint; an existing default socket follows as docker@default."""
    eps = run(tmp_path, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}, only(["/var/run/docker.sock"]))
    assert [(e.name, e.url) for e in eps] == [
        ("docker", "tcp://127.0.0.1:2375"), ("docker@default", "unix:///var/run/docker.sock")]


def test_current_docker_context(tmp_path: Path) -> None:
    """currentContext in ~/.docker/config.json selects the context's meta.json endpoint."""
    docker_context(tmp_path, "remote", "ssh://deploy@127.0.0.1:2222")
    [ep] = run(tmp_path)
    assert (ep.name, ep.url, ep.source) == ("docker", "ssh://deploy@127.0.0.1:2222", "docker context remote")


def test_docker_context_env_overrides_config(tmp_path: Path) -> None:
    """DOCKER_CONTEXT wins over currentContext; the meta path is sha256 of the context name."""
    docker_context(tmp_path, "a", "tcp://127.0.0.1:1")
    docker_context(tmp_path, "b", "tcp://127.0.0.1:2", current=False)
    assert docker_context_meta_path("b", {}, tmp_path).parent.name == hashlib.sha256(b"b").hexdigest()
    [ep] = run(tmp_path, {"DOCKER_CONTEXT": "b"})
    assert ep.url == "tcp://127.0.0.1:2" and ep.source == "docker context b"


def test_docker_config_env_moves_the_docker_dir(tmp_path: Path) -> None:
    """DOCKER_CONFIG points at another CLI config dir (contexts and Desktop socket live there)."""
    alt = tmp_path / "alt"
    docker_context(tmp_path, "ignored", "tcp://127.0.0.1:9")
    (alt / "contexts").mkdir(parents=True)
    digest = hashlib.sha256(b"x").hexdigest()
    (alt / "contexts" / "meta" / digest).mkdir(parents=True)
    (alt / "contexts" / "meta" / digest / "meta.json").write_text(
        json.dumps({"Endpoints": {"docker": {"Host": "tcp://127.0.0.1:7"}}}), encoding="utf-8")
    (alt / "config.json").write_text(json.dumps({"currentContext": "x"}), encoding="utf-8")
    [ep] = run(tmp_path, {"DOCKER_CONFIG": str(alt)})
    assert ep.url == "tcp://127.0.0.1:7"


def test_missing_context_and_corrupt_config_are_notes(tmp_path: Path) -> None:
    """A current context without meta.json, or an unreadable config.json, produce notes, not errors."""
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "gone"}), encoding="utf-8")
    result = detect({}, tmp_path, nothing, None, "linux", [])
    assert result.endpoints == [] and any("'gone' not found" in n for n in result.notes)
    (tmp_path / ".docker" / "config.json").write_text("{not json", encoding="utf-8")
    result = detect({}, tmp_path, nothing, None, "linux", [])
    assert any("cannot read" in n and "config.json" in n for n in result.notes)


def test_default_context_means_default_socket(tmp_path: Path) -> None:
    """currentContext 'default' has no meta dir: the default sockets are used, without a note."""
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"currentContext": "default"}), encoding="utf-8")
    result = detect({}, tmp_path, only(["/var/run/docker.sock"]), None, "linux", [])
    assert [e.url for e in result.endpoints] == ["unix:///var/run/docker.sock"] and result.notes == []


def test_rootless_and_desktop_docker_sockets(tmp_path: Path) -> None:
    """Rootless ($XDG_RUNTIME_DIR/docker.sock) and Docker Desktop sockets are found and labelled."""
    rootless = "/run/user/1000/docker.sock"
    desktop = str(tmp_path / ".docker" / "run" / "docker.sock")
    eps = run(tmp_path, {"XDG_RUNTIME_DIR": "/run/user/1000"}, only([rootless, desktop]))
    assert [(e.name, e.url, e.rootless) for e in eps] == [
        ("docker", "unix://" + rootless, True), ("docker@desktop", "unix://" + desktop, False)]


def test_windows_named_pipes(tmp_path: Path) -> None:
    r"""On Windows the docker_engine and podman machine pipes are probed as \\.\pipe\ paths."""
    assert pipe_path("npipe:////./pipe/docker_engine") == r"\\.\pipe\docker_engine"
    eps = run(tmp_path, exists=only([r"\\.\pipe\docker_engine", r"\\.\pipe\podman-machine-default"]),
              platform_name="win32")
    assert [(e.kind, e.url) for e in eps] == [
        (DOCKER, "npipe:////./pipe/docker_engine"), (PODMAN, "npipe:////./pipe/podman-machine-default")]
    assert run(tmp_path, exists=only(["/var/run/docker.sock"]), platform_name="win32") == []


def test_podman_sockets_rootless_then_rootful(tmp_path: Path) -> None:
    """Rootless podman socket comes first (podman), rootful second (podman@rootful); flags are right."""
    rootless = "/run/user/1000/podman/podman.sock"
    eps = run(tmp_path, {"XDG_RUNTIME_DIR": "/run/user/1000"}, only([rootless, "/run/podman/podman.sock"]))
    assert [(e.kind, e.name, e.url, e.rootless) for e in eps] == [
        (PODMAN, "podman", "unix://" + rootless, True),
        (PODMAN, "podman@rootful", "unix:///run/podman/podman.sock", False)]


def test_root_runtime_dir_is_not_rootless(tmp_path: Path) -> None:
    """uid 0's /run/user/0 socket belongs to root: it is not flagged rootless."""
    path = "/run/user/0/podman/podman.sock"
    [ep] = run(tmp_path, {"XDG_RUNTIME_DIR": "/run/user/0"}, only([path]))
    assert ep.rootless is False


def test_container_host_env_and_ssh_key(tmp_path: Path) -> None:
    """CONTAINER_HOST is the primary podman endpoint; CONTAINER_SSHKEY is recorded as its identity."""
    url = "ssh://core@127.0.0.1:2222/run/user/1000/podman/podman.sock"
    result = detect({"CONTAINER_HOST": url, "CONTAINER_SSHKEY": "/k/id"}, tmp_path, nothing, None, "linux", [])
    [ep] = result.endpoints
    assert (ep.kind, ep.name, ep.url, ep.source, ep.rootless) == (PODMAN, "podman", url, "CONTAINER_HOST", True)
    assert result.identities == {"podman": "/k/id"}


def write_connections(home: Path, default: str, conns: dict[str, dict[str, object]]) -> Path:
    path = home / ".config" / "containers" / "podman-connections.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Connection": {"Default": default, "Connection": conns}, "Farm": {}}),
                    encoding="utf-8")
    return path


def test_podman5_connections_json(tmp_path: Path) -> None:
    """podman-connections.json: the Default connection is primary, the others follow by name."""
    write_connections(tmp_path, "m", {
        "m": {"URI": "ssh://core@127.0.0.1:50000/run/user/501/podman/podman.sock", "Identity": "/id/m",
              "IsMachine": True},
        "m-root": {"URI": "ssh://root@127.0.0.1:50000/run/podman/podman.sock", "Identity": "/id/m"},
    })
    result = detect({}, tmp_path, nothing, None, "linux", [])
    assert [(e.name, e.source, e.rootless) for e in result.endpoints] == [
        ("podman", "podman connection m (default)", True),
        ("podman@m-root", "podman connection m-root", False)]
    assert result.identities == {"podman": "/id/m", "podman@m-root": "/id/m"}


def test_container_connection_env_selects_a_connection(tmp_path: Path) -> None:
    """CONTAINER_CONNECTION picks a named connection ahead of the default one."""
    write_connections(tmp_path, "a", {"a": {"URI": "tcp://127.0.0.1:1"}, "b": {"URI": "tcp://127.0.0.1:2"}})
    eps = run(tmp_path, {"CONTAINER_CONNECTION": "b"})
    assert [(e.name, e.url) for e in eps] == [("podman", "tcp://127.0.0.1:2"), ("podman@a", "tcp://127.0.0.1:1")]
    result = detect({"CONTAINER_CONNECTION": "zz"}, tmp_path, nothing, None, "linux", [])
    assert any("unknown podman connection 'zz'" in n for n in result.notes)


def test_containers_conf_service_destinations(tmp_path: Path) -> None:
    """containers.conf [engine.service_destinations] + active_service are read (TOML), later files win."""
    system = tmp_path / "etc"
    system.mkdir()
    (system / "containers.conf").write_text(
        '[engine]\nactive_service = "sys"\n[engine.service_destinations.sys]\nuri = "tcp://127.0.0.1:5"\n',
        encoding="utf-8")
    user = tmp_path / ".config" / "containers"
    user.mkdir(parents=True)
    (user / "containers.conf").write_text(
        '[engine]\nactive_service = "dev"\n'
        '[engine.service_destinations.dev]\nuri = "ssh://me@127.0.0.1:22/run/user/1000/podman/podman.sock"\n'
        'identity = "/home/me/.ssh/id"\n', encoding="utf-8")
    result = detect({}, tmp_path, nothing, None, "linux", [system])
    assert [(e.name, e.source) for e in result.endpoints] == [
        ("podman", "podman connection dev (default)"), ("podman@sys", "podman connection sys")]
    assert result.identities["podman"] == "/home/me/.ssh/id"


def test_containers_conf_env_replaces_search_path(tmp_path: Path) -> None:
    """CONTAINERS_CONF names the only file read; a broken file is a note."""
    conf = tmp_path / "only.conf"
    conf.write_text('[engine.service_destinations.x]\nuri = "tcp://127.0.0.1:3"\n', encoding="utf-8")
    eps = run(tmp_path, {"CONTAINERS_CONF": str(conf)})
    assert [(e.name, e.url) for e in eps] == [("podman", "tcp://127.0.0.1:3")]
    conf.write_text("[engine\n", encoding="utf-8")
    result = detect({"CONTAINERS_CONF": str(conf)}, tmp_path, nothing, None, "linux", [])
    assert result.endpoints == [] and any("cannot read" in n for n in result.notes)


def test_parsers_tolerate_garbage(tmp_path: Path) -> None:
    """Odd shapes in connection files are skipped instead of crashing."""
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"Connection": {"Default": 3, "Connection": {"a": "x", "b": {"URI": ""}}}}),
                    encoding="utf-8")
    assert parse_podman_connections(path) == ("", {})
    conf = tmp_path / "c.conf"
    conf.write_text('engine = 3\n', encoding="utf-8")
    assert parse_containers_conf([conf]) == ("", {})


def test_macos_podman_machine_socket(tmp_path: Path) -> None:
    """On macOS the podman machine API socket under $TMPDIR is found."""
    sock = "/var/folders/xy/T/podman/podman-machine-default-api.sock"
    eps = run(tmp_path, {"TMPDIR": "/var/folders/xy/T"}, only([sock]), platform_name="darwin")
    assert [(e.kind, e.url, e.source) for e in eps] == [(PODMAN, "unix://" + sock, "podman machine socket")]


def test_settings_override_wins_and_disable(tmp_path: Path) -> None:
    """runtimes.docker.host beats DOCKER_HOST; enabled: false removes a runtime entirely."""
    s = Settings()
    s.runtimes.docker.host = "tcp://127.0.0.1:9999"
    s.runtimes.podman.url = "unix:///custom/podman.sock"
    eps = run(tmp_path, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}, settings=s)
    assert [(e.name, e.url, e.source) for e in eps] == [
        ("docker", "tcp://127.0.0.1:9999", "settings runtimes.docker.host"),
        ("docker@env", "tcp://127.0.0.1:2375", "DOCKER_HOST"),
        ("podman", "unix:///custom/podman.sock", "settings runtimes.podman.url")]
    s.runtimes.docker.enabled = False
    result = detect({"DOCKER_HOST": "tcp://127.0.0.1:2375"}, tmp_path, nothing, s, "linux", [])
    assert [e.kind for e in result.endpoints] == [PODMAN]
    assert any("docker is disabled" in n for n in result.notes)


def test_duplicates_removed_first_wins(tmp_path: Path) -> None:
    """The same URL from two sources is reported once, with the higher-priority source."""
    eps = run(tmp_path, {"DOCKER_HOST": "unix:///var/run/docker.sock"}, only(["/var/run/docker.sock"]))
    assert [(e.name, e.source) for e in eps] == [("docker", "DOCKER_HOST")]
    assert normalize_url("TCP://127.0.0.1:2375/") == normalize_url("tcp://127.0.0.1:2375")


def test_docker_socket_symlinked_to_podman_is_podman_only(tmp_path: Path) -> None:
    """podman-docker: a docker.sock that resolves to the podman socket is reported as podman only."""
    real = tmp_path / "podman.sock"
    real.touch()
    link = tmp_path / "docker.sock"
    link.symlink_to(real)
    s = Settings()
    s.runtimes.podman.url = "unix://" + str(real)
    eps = detect_endpoints({"XDG_RUNTIME_DIR": str(tmp_path)}, tmp_path, only([str(link)]), s, "linux", [])
    assert [(e.kind, e.url) for e in eps] == [(PODMAN, "unix://" + str(real))]


def test_rootless_guess_from_urls() -> None:
    """Rootless is inferred from /run/user/<uid> paths and non-root ssh users."""
    env = {"XDG_RUNTIME_DIR": "/run/user/1000"}
    assert url_is_rootless("unix:///run/user/1000/podman/podman.sock", env)
    assert not url_is_rootless("unix:///run/podman/podman.sock", env)
    assert url_is_rootless("ssh://core@h/run/user/501/podman/podman.sock", env)
    assert not url_is_rootless("ssh://root@h/run/user/501/podman/podman.sock", env)
    assert not url_is_rootless("tcp://127.0.0.1:2375", env)


def test_real_machine_detection_does_not_crash() -> None:
    """With the real environment detection returns well-formed, uniquely named endpoints."""
    eps = detect_endpoints()
    assert len({e.name for e in eps}) == len(eps)
    assert all(e.url.split("://", 1)[0] in ("unix", "tcp", "ssh", "npipe", "http", "https") for e in eps)
