"""Find the Docker and Podman endpoints a user most likely means, without connecting to any of them.

Detection only reports candidates, in priority order; connecting (and reporting a dead socket) is
the runtime manager's job. Nothing here hard-codes a single socket:

Docker, highest priority first
    ``settings.runtimes.docker.host``; ``DOCKER_HOST`` (unix://, tcp://, ssh://, npipe://); the
    current Docker context (``DOCKER_CONTEXT`` or ``currentContext`` in ``~/.docker/config.json``,
    whose endpoint is in ``~/.docker/contexts/meta/<sha256(name)>/meta.json``); then the sockets
    that exist among ``/var/run/docker.sock``, rootless ``$XDG_RUNTIME_DIR/docker.sock``, Docker
    Desktop ``~/.docker/run/docker.sock`` (and colima, OrbStack, Rancher Desktop), and on Windows
    the ``docker_engine`` named pipe.

Podman, highest priority first
    ``settings.runtimes.podman.url``; ``CONTAINER_HOST``; the connection named by
    ``CONTAINER_CONNECTION``; the default connection (Podman 5's ``podman-connections.json``
    ``Connection.Default``, else ``active_service`` in containers.conf); the sockets that exist among
    rootless ``$XDG_RUNTIME_DIR/podman/podman.sock`` and rootful ``/run/podman/podman.sock``; the
    podman machine pipe (Windows) or API socket (macOS); then the other configured connections.

Each endpoint records where it came from (``source``) and whether it is rootless. The same URL is
reported once (first wins), and a Docker default socket that is really a symlink to a Podman
socket (the ``podman-docker`` package) is reported as Podman only. The first endpoint of each kind
is named ``docker`` / ``podman``; the others ``docker@<context or label>``.

Endpoints also carry what it takes to reach them: TLS material for tcp:// Docker endpoints (a
context's ``contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem``, or ``DOCKER_TLS_VERIFY`` /
``DOCKER_CERT_PATH`` for ``DOCKER_HOST``) and the ssh identity of a Podman connection. The full
list of hosts (every context, WSL distros) is :func:`tamer_tui.core.hosts.list_hosts`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tamer_tui.core import platform
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind

if TYPE_CHECKING:
    from tamer_tui.core.settings import Settings

DOCKER_URL_SCHEMES = ("unix", "tcp", "ssh", "npipe", "http", "https")
PODMAN_URL_SCHEMES = ("unix", "tcp", "ssh", "npipe", "http", "https")

DOCKER_DEFAULT_SOCKET = "/var/run/docker.sock"
PODMAN_ROOTFUL_SOCKET = "/run/podman/podman.sock"
DOCKER_WINDOWS_PIPE = "npipe:////./pipe/docker_engine"
PODMAN_WINDOWS_PIPE = "npipe:////./pipe/podman-machine-default"
SYSTEM_CONTAINERS_DIRS: tuple[Path, ...] = (Path("/usr/share/containers"), Path("/etc/containers"))

Exists = Callable[[str], bool]


@dataclass(frozen=True)
class PodmanConnection:
    """One named Podman connection (``podman system connection list``)."""

    name: str
    uri: str
    identity: str = ""
    source: str = ""


@dataclass
class Detection:
    """Everything detection found: endpoints in priority order, and notes worth showing."""

    endpoints: list[RuntimeEndpoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: ssh identity file per endpoint name (Podman connections carry one; RuntimeEndpoint does not).
    identities: dict[str, str] = field(default_factory=dict)


@dataclass
class _Candidate:
    kind: RuntimeKind
    url: str
    source: str
    label: str
    rootless: bool = False
    identity: str = ""
    default_socket: bool = False


# ------------------------------------------------------------------------------------ URL helpers
def socket_url(path: str | Path) -> str:
    """``unix://`` URL for a socket path."""
    text = str(path)
    return "unix://" + (text if text.startswith("/") else "/" + text)


def url_scheme(url: str) -> str:
    """The lower-cased scheme of a URL, or '' when there is none."""
    head, sep, _rest = url.partition("://")
    return head.lower() if sep else ""


def socket_path(url: str) -> str | None:
    """The filesystem path of a ``unix://`` URL, else None."""
    if url_scheme(url) != "unix":
        return None
    return url.partition("://")[2] or None


def pipe_path(url: str) -> str | None:
    r"""``npipe:////./pipe/name`` -> ``\\.\pipe\name`` (what Windows APIs open), else None."""
    if url_scheme(url) != "npipe":
        return None
    rest = url.partition("://")[2].lstrip("/")
    return "\\\\" + rest.replace("/", "\\")


def normalize_url(url: str) -> str:
    """A comparison key: scheme lower-cased, socket paths resolved, trailing slashes dropped."""
    scheme = url_scheme(url)
    if scheme == "unix":
        path = socket_path(url) or ""
        return "unix://" + os.path.realpath(path)
    if scheme in ("tcp", "http", "https", "ssh"):
        return scheme + "://" + url.partition("://")[2].rstrip("/").lower()
    if scheme == "npipe":
        return "npipe://" + url.partition("://")[2].lower()
    return url


def _rootless_path(path: str, env: Mapping[str, str]) -> bool:
    """Sockets under the per-user runtime dir belong to a rootless daemon (uid 0's does not)."""
    runtime_dir = env.get("XDG_RUNTIME_DIR", "")
    if path.startswith("/run/user/"):
        return not path.startswith("/run/user/0/")
    return bool(runtime_dir) and path.startswith(runtime_dir.rstrip("/") + "/") and \
        not runtime_dir.rstrip("/").endswith("/user/0")


def url_is_rootless(url: str, env: Mapping[str, str]) -> bool:
    """Guess from a URL whether the daemon behind it runs rootless."""
    scheme = url_scheme(url)
    if scheme == "unix":
        return _rootless_path(socket_path(url) or "", env)
    if scheme == "ssh":
        parts = urlsplit(url)
        if parts.username == "root":
            return False
        return parts.path.startswith("/run/user/") and not parts.path.startswith("/run/user/0/")
    return False


# ---------------------------------------------------------------------------------- Docker config
def docker_context_meta_path(name: str, env: Mapping[str, str] | None = None,
                             home: Path | None = None) -> Path:
    """``~/.docker/contexts/meta/<sha256(name)>/meta.json`` (the Docker CLI's own layout)."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    return platform.docker_config_dir(env, home) / "contexts" / "meta" / digest / "meta.json"


def current_docker_context(env: Mapping[str, str], home: Path, notes: list[str] | None = None) -> str:
    """``DOCKER_CONTEXT`` or ``currentContext`` from the Docker CLI config; '' when unset."""
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"]
    config = platform.docker_config_dir(env, home) / "config.json"
    data = _read_json(config, notes)
    if isinstance(data, dict):
        value = data.get("currentContext", "")
        return value if isinstance(value, str) else ""
    return ""


def docker_context_host(name: str, env: Mapping[str, str], home: Path,
                        notes: list[str] | None = None) -> str | None:
    """The Docker endpoint ``Host`` of context ``name``; None when unknown or unreadable."""
    meta = docker_context_meta_path(name, env, home)
    if not meta.exists():
        if notes is not None:
            notes.append(f"docker context {name!r} not found ({meta} is missing)")
        return None
    data = _read_json(meta, notes)
    try:
        host = data["Endpoints"]["docker"]["Host"]
    except (KeyError, TypeError):
        if notes is not None:
            notes.append(f"docker context {name!r}: {meta} has no Endpoints.docker.Host")
        return None
    return host if isinstance(host, str) and host else None


def _read_json(path: Path, notes: list[str] | None) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        if notes is not None:
            notes.append(f"cannot read {path}: {err}")
        return None


# ---------------------------------------------------------------------------------- Podman config
def containers_conf_files(env: Mapping[str, str], home: Path,
                          system_dirs: Sequence[Path] = SYSTEM_CONTAINERS_DIRS) -> list[Path]:
    """containers.conf files in the order Podman reads them (later ones override earlier ones).

    ``CONTAINERS_CONF`` replaces the whole list; ``CONTAINERS_CONF_OVERRIDE`` is read last.
    """
    files: list[Path] = []
    if env.get("CONTAINERS_CONF"):
        files.append(Path(env["CONTAINERS_CONF"]))
    else:
        user_dir = platform.xdg_config_home(env, home) / "containers"
        for directory in [*system_dirs, user_dir]:
            files.append(directory / "containers.conf")
            drop_in = directory / "containers.conf.d"
            if drop_in.is_dir():
                files.extend(sorted(drop_in.glob("*.conf")))
    if env.get("CONTAINERS_CONF_OVERRIDE"):
        files.append(Path(env["CONTAINERS_CONF_OVERRIDE"]))
    return files


def parse_containers_conf(files: Iterable[Path],
                          notes: list[str] | None = None) -> tuple[str, dict[str, PodmanConnection]]:
    """``(active_service, {name: connection})`` merged from containers.conf files (TOML)."""
    active = ""
    connections: dict[str, PodmanConnection] = {}
    for path in files:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError) as err:
            if notes is not None:
                notes.append(f"cannot read {path}: {err}")
            continue
        engine = data.get("engine")
        if not isinstance(engine, dict):
            continue
        if isinstance(engine.get("active_service"), str):
            active = engine["active_service"]
        destinations = engine.get("service_destinations")
        if isinstance(destinations, dict):
            for name, spec in destinations.items():
                if isinstance(spec, dict) and isinstance(spec.get("uri"), str) and spec["uri"]:
                    identity = spec.get("identity", "")
                    connections[name] = PodmanConnection(
                        name, spec["uri"], identity if isinstance(identity, str) else "", str(path))
    return active, connections


def podman_connections_json_path(env: Mapping[str, str], home: Path) -> Path:
    """Podman 5's connection store: ``$XDG_CONFIG_HOME/containers/podman-connections.json``."""
    return platform.xdg_config_home(env, home) / "containers" / "podman-connections.json"


def parse_podman_connections(path: Path,
                             notes: list[str] | None = None) -> tuple[str, dict[str, PodmanConnection]]:
    """``(default, {name: connection})`` from ``podman-connections.json``.

    The file looks like ``{"Connection": {"Default": "m", "Connection": {"m": {"URI": ...,
    "Identity": ..., "IsMachine": true}}}, "Farm": {...}}``.
    """
    data = _read_json(path, notes)
    if not isinstance(data, dict):
        return "", {}
    section = data.get("Connection")
    if not isinstance(section, dict):
        return "", {}
    default = section.get("Default", "")
    entries = section.get("Connection")
    connections: dict[str, PodmanConnection] = {}
    if isinstance(entries, dict):
        for name, spec in entries.items():
            if isinstance(spec, dict) and isinstance(spec.get("URI"), str) and spec["URI"]:
                identity = spec.get("Identity", "")
                connections[name] = PodmanConnection(
                    name, spec["URI"], identity if isinstance(identity, str) else "", str(path))
    return (default if isinstance(default, str) else ""), connections


# -------------------------------------------------------------------------------------- detection
def _docker_candidates(env: Mapping[str, str], home: Path, exists: Exists, settings: Settings | None,
                       platform_name: str, notes: list[str]) -> list[_Candidate]:
    found: list[_Candidate] = []
    kind = RuntimeKind.DOCKER

    def explicit(url: str, source: str, label: str) -> None:
        if url_scheme(url) not in DOCKER_URL_SCHEMES:
            notes.append(f"{source}: {url!r} is not a Docker URL (unix://, tcp://, ssh:// or npipe://)"
                         " - ignored")
            return
        found.append(_Candidate(kind, url, source, label, url_is_rootless(url, env)))

    if settings is not None and settings.runtimes.docker.host:
        explicit(settings.runtimes.docker.host, "settings runtimes.docker.host", "settings")
    if env.get("DOCKER_HOST"):
        explicit(env["DOCKER_HOST"], "DOCKER_HOST", "env")
    context = current_docker_context(env, home, notes)
    if context and context != "default":
        host = docker_context_host(context, env, home, notes)
        if host:
            explicit(host, f"docker context {context}", context)

    def socket(path: str, source: str, label: str, rootless: bool = False) -> None:
        if exists(path):
            found.append(_Candidate(kind, socket_url(path), source, label, rootless, default_socket=True))

    if platform.is_windows(platform_name):
        if exists(pipe_path(DOCKER_WINDOWS_PIPE) or ""):
            found.append(_Candidate(kind, DOCKER_WINDOWS_PIPE, "default named pipe", "default",
                                    default_socket=True))
        return found
    socket(DOCKER_DEFAULT_SOCKET, "default socket", "default")
    runtime_dir = env.get("XDG_RUNTIME_DIR", "")
    if runtime_dir:
        path = str(Path(runtime_dir) / "docker.sock")
        socket(path, "rootless socket ($XDG_RUNTIME_DIR)", "rootless", _rootless_path(path, env))
    docker_dir = platform.docker_config_dir(env, home)
    socket(str(docker_dir / "run" / "docker.sock"), "Docker Desktop socket", "desktop")
    socket(str(docker_dir / "desktop" / "docker.sock"), "Docker Desktop socket", "desktop")
    socket(str(home / ".colima" / "default" / "docker.sock"), "colima socket", "colima")
    socket(str(home / ".orbstack" / "run" / "docker.sock"), "OrbStack socket", "orbstack")
    socket(str(home / ".rd" / "docker.sock"), "Rancher Desktop socket", "rancher-desktop")
    return found


def _podman_candidates(env: Mapping[str, str], home: Path, exists: Exists, settings: Settings | None,
                       platform_name: str, system_dirs: Sequence[Path],
                       notes: list[str]) -> list[_Candidate]:
    found: list[_Candidate] = []
    kind = RuntimeKind.PODMAN

    def explicit(url: str, source: str, label: str, identity: str = "") -> None:
        if url_scheme(url) not in PODMAN_URL_SCHEMES:
            notes.append(f"{source}: {url!r} is not a Podman URL (unix://, tcp://, ssh:// or npipe://)"
                         " - ignored")
            return
        found.append(_Candidate(kind, url, source, label, url_is_rootless(url, env), identity))

    if settings is not None and settings.runtimes.podman.url:
        explicit(settings.runtimes.podman.url, "settings runtimes.podman.url", "settings")
    if env.get("CONTAINER_HOST"):
        explicit(env["CONTAINER_HOST"], "CONTAINER_HOST", "env", env.get("CONTAINER_SSHKEY", ""))

    conf_files = [] if platform.is_windows(platform_name) and not env.get("CONTAINERS_CONF") else \
        containers_conf_files(env, home, system_dirs)
    active, conf_connections = parse_containers_conf(conf_files, notes)
    json_default, json_connections = parse_podman_connections(podman_connections_json_path(env, home), notes)
    connections = {**conf_connections, **json_connections}
    chosen: list[tuple[PodmanConnection, str]] = []
    wanted = env.get("CONTAINER_CONNECTION", "")
    if wanted:
        if wanted in connections:
            chosen.append((connections[wanted], f"CONTAINER_CONNECTION {wanted}"))
        else:
            notes.append(f"CONTAINER_CONNECTION names an unknown podman connection {wanted!r}")
    default = json_default or active
    if default and default in connections:
        chosen.append((connections[default], f"podman connection {default} (default)"))
    elif default:
        notes.append(f"the default podman connection {default!r} is not defined")
    for conn, source in chosen:
        explicit(conn.uri, source, conn.name, conn.identity)

    def socket(path: str, source: str, label: str, rootless: bool) -> None:
        if exists(path):
            found.append(_Candidate(kind, socket_url(path), source, label, rootless, default_socket=True))

    if platform.is_windows(platform_name):
        if exists(pipe_path(PODMAN_WINDOWS_PIPE) or ""):
            found.append(_Candidate(kind, PODMAN_WINDOWS_PIPE, "podman machine pipe", "machine",
                                    default_socket=True))
    else:
        runtime_dir = env.get("XDG_RUNTIME_DIR", "")
        if runtime_dir:
            path = str(Path(runtime_dir) / "podman" / "podman.sock")
            socket(path, "rootless socket ($XDG_RUNTIME_DIR)", "rootless", _rootless_path(path, env))
        socket(PODMAN_ROOTFUL_SOCKET, "rootful socket", "rootful", False)
        if platform.is_macos(platform_name):
            tmp = env.get("TMPDIR", "/tmp")
            socket(str(Path(tmp) / "podman" / "podman-machine-default-api.sock"),
                   "podman machine socket", "machine", False)
            machine_dir = home / ".local" / "share" / "containers" / "podman" / "machine"
            socket(str(machine_dir / "podman.sock"), "podman machine socket", "machine", False)
            socket(str(machine_dir / "qemu" / "podman.sock"), "podman machine socket", "machine", False)
    chosen_names = {conn.name for conn, _source in chosen}
    for name in sorted(connections):
        if name not in chosen_names:
            conn = connections[name]
            explicit(conn.uri, f"podman connection {name}", name, conn.identity)
    return found


def _dedupe_and_name(docker: list[_Candidate],
                     podman: list[_Candidate]) -> list[tuple[_Candidate, str]]:
    podman_keys = {normalize_url(c.url) for c in podman}
    named: list[tuple[_Candidate, str]] = []
    for group in (docker, podman):
        seen: set[str] = set()
        used: set[str] = set()
        for cand in group:
            key = normalize_url(cand.url)
            if key in seen:
                continue
            if cand.kind is RuntimeKind.DOCKER and cand.default_socket and key in podman_keys:
                continue  # podman-docker: docker.sock is a symlink to the Podman socket
            seen.add(key)
            base = cand.kind.value
            name = base if not used else f"{base}@{cand.label}"
            counter = 1
            while name in used:
                counter += 1
                name = f"{base}@{cand.label}-{counter}"
            used.add(name)
            named.append((cand, name))
    return named


def detect(env: Mapping[str, str] | None = None, home: Path | None = None, probe_exists: Exists = os.path.exists,
           settings: Settings | None = None, platform_name: str | None = None,
           system_dirs: Sequence[Path] | None = None) -> Detection:
    """Detect endpoints and collect notes (bad variables, missing contexts, unreadable files).

    ``env``, ``home``, ``probe_exists``, ``platform_name`` and ``system_dirs`` (where the system
    containers.conf lives) default to the real machine; tests pass their own.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    home_path = home or platform.home_dir(environ)
    plat = platform_name or sys.platform
    dirs = SYSTEM_CONTAINERS_DIRS if system_dirs is None else system_dirs
    result = Detection()
    docker: list[_Candidate] = []
    podman: list[_Candidate] = []
    if settings is None or settings.runtimes.docker.enabled:
        docker = _docker_candidates(environ, home_path, probe_exists, settings, plat, result.notes)
    else:
        result.notes.append("docker is disabled in settings (runtimes.docker.enabled: false)")
    if settings is None or settings.runtimes.podman.enabled:
        podman = _podman_candidates(environ, home_path, probe_exists, settings, plat, dirs, result.notes)
    else:
        result.notes.append("podman is disabled in settings (runtimes.podman.enabled: false)")
    for cand, name in _dedupe_and_name(docker, podman):
        endpoint = RuntimeEndpoint(cand.kind, name, cand.url, cand.source, cand.rootless)
        tls = endpoint_tls(cand.kind, cand.url, cand.source, cand.label, environ, home_path)
        result.endpoints.append(with_security(endpoint, tls, cand.identity))
        if cand.identity:
            result.identities[name] = cand.identity
    return result


def detect_endpoints(env: Mapping[str, str] | None = None, home: Path | None = None,
                     probe_exists: Exists = os.path.exists, settings: Settings | None = None,
                     platform_name: str | None = None,
                     system_dirs: Sequence[Path] | None = None) -> list[RuntimeEndpoint]:
    """The endpoints :func:`detect` finds, primary Docker first, then Podman (see module doc)."""
    return detect(env, home, probe_exists, settings, platform_name, system_dirs).endpoints


# ------------------------------------------------------------- TLS, contexts, identities (hosts)
@dataclass(frozen=True, slots=True)
class TLSConfig:
    """TLS material for a ``tcp://`` Docker endpoint (paths; '' when absent).

    ``verify`` False means TLS without checking the server certificate (``--tls`` without
    ``--tlsverify``, or a context's ``SkipTLSVerify``). The client certificate is presented when
    both ``cert`` and ``key`` are set.
    """

    ca: str = ""
    cert: str = ""
    key: str = ""
    verify: bool = True


@dataclass(frozen=True, slots=True)
class DockerContext:
    """One Docker CLI context from ``contexts/meta/<sha256(name)>/meta.json``."""

    name: str
    host: str
    description: str = ""
    tls: TLSConfig | None = None
    meta_path: str = ""


def _existing(path: Path) -> str:
    return str(path) if path.is_file() else ""


def docker_context_tls_dir(name: str, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """``~/.docker/contexts/tls/<sha256(name)>/docker`` (where ``docker context create`` stores certs)."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    return platform.docker_config_dir(env, home) / "contexts" / "tls" / digest / "docker"


def docker_context_tls(name: str, skip_verify: bool = False, env: Mapping[str, str] | None = None,
                       home: Path | None = None) -> TLSConfig | None:
    """The TLS material of context ``name``; None when the context has none and verifies normally.

    Like the Docker CLI: TLS is used when the context stores any of ca/cert/key.pem, or when its
    endpoint says ``SkipTLSVerify``.
    """
    directory = docker_context_tls_dir(name, env, home)
    ca, cert, key = (_existing(directory / f) for f in ("ca.pem", "cert.pem", "key.pem"))
    if not (ca or cert or key or skip_verify):
        return None
    return TLSConfig(ca, cert, key, verify=not skip_verify)


def _context_from_meta(meta: Path, env: Mapping[str, str], home: Path,
                       notes: list[str] | None) -> DockerContext | None:
    data = _read_json(meta, notes)
    if not isinstance(data, dict):
        return None
    name = data.get("Name")
    try:
        endpoint = data["Endpoints"]["docker"]
        host = endpoint["Host"]
    except (KeyError, TypeError):
        if notes is not None:
            notes.append(f"{meta} has no Endpoints.docker.Host")
        return None
    if not isinstance(name, str) or not name or not isinstance(host, str) or not host:
        return None
    metadata = data.get("Metadata")
    description = metadata.get("Description", "") if isinstance(metadata, dict) else ""
    skip = bool(endpoint.get("SkipTLSVerify")) if isinstance(endpoint, dict) else False
    tls = docker_context_tls(name, skip, env, home) if url_scheme(host) in ("tcp", "https", "http") else None
    return DockerContext(name, host, description if isinstance(description, str) else "", tls, str(meta))


def docker_contexts(env: Mapping[str, str] | None = None, home: Path | None = None,
                    notes: list[str] | None = None) -> list[DockerContext]:
    """Every Docker CLI context (``DOCKER_CONFIG`` honoured), sorted by name; ``default`` is implicit."""
    environ: Mapping[str, str] = os.environ if env is None else env
    home_path = home or platform.home_dir(environ)
    meta_dir = platform.docker_config_dir(environ, home_path) / "contexts" / "meta"
    found: dict[str, DockerContext] = {}
    if not meta_dir.is_dir():
        return []
    for meta in sorted(meta_dir.glob("*/meta.json")):
        context = _context_from_meta(meta, environ, home_path, notes)
        if context is not None and context.name not in found:
            found[context.name] = context
    return [found[name] for name in sorted(found)]


def docker_context(name: str, env: Mapping[str, str] | None = None, home: Path | None = None,
                   notes: list[str] | None = None) -> DockerContext | None:
    """Context ``name`` (host and TLS material), or None when it is not defined."""
    environ: Mapping[str, str] = os.environ if env is None else env
    home_path = home or platform.home_dir(environ)
    meta = docker_context_meta_path(name, environ, home_path)
    if not meta.is_file():
        return None
    return _context_from_meta(meta, environ, home_path, notes)


def docker_env_tls(env: Mapping[str, str] | None = None, home: Path | None = None) -> TLSConfig | None:
    """TLS from ``DOCKER_TLS_VERIFY`` / ``DOCKER_TLS`` / ``DOCKER_CERT_PATH`` (the Docker CLI's rules).

    Any non-empty ``DOCKER_TLS_VERIFY`` means TLS with verification; a non-empty ``DOCKER_TLS``
    alone means TLS without verification. Certificates are ``ca.pem``, ``cert.pem`` and
    ``key.pem`` in ``DOCKER_CERT_PATH`` (default: the Docker config directory), when they exist.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    if not verify and not environ.get("DOCKER_TLS"):
        return None
    cert_dir = Path(environ["DOCKER_CERT_PATH"]) if environ.get("DOCKER_CERT_PATH") else \
        platform.docker_config_dir(environ, home)
    return TLSConfig(_existing(cert_dir / "ca.pem"), _existing(cert_dir / "cert.pem"),
                     _existing(cert_dir / "key.pem"), verify=verify)


def endpoint_tls(kind: RuntimeKind, url: str, source: str, label: str, env: Mapping[str, str],
                 home: Path) -> TLSConfig | None:
    """The TLS material that applies to a detected Docker endpoint, by where it came from.

    ``DOCKER_HOST`` and the settings host use the ``DOCKER_TLS*`` variables; a context endpoint
    uses the context's own material. Only tcp:// (and https://) endpoints use TLS.
    """
    if kind is not RuntimeKind.DOCKER or url_scheme(url) not in ("tcp", "https"):
        return None
    if source.startswith("docker context "):
        context = docker_context(label, env, home)
        return context.tls if context is not None else None
    if source in ("DOCKER_HOST", "settings runtimes.docker.host"):
        return docker_env_tls(env, home)
    return None


def with_security(endpoint: RuntimeEndpoint, tls: TLSConfig | None, identity: str = "") -> RuntimeEndpoint:
    """``endpoint`` carrying ``tls`` and an ssh ``identity`` (RuntimeEndpoint's optional fields)."""
    if tls is None:
        return replace(endpoint, identity=identity or endpoint.identity)
    return replace(endpoint, tls_ca=tls.ca, tls_cert=tls.cert, tls_key=tls.key, tls_verify=tls.verify,
                   identity=identity or endpoint.identity)


def tls_of(endpoint: RuntimeEndpoint) -> TLSConfig | None:
    """The TLS material an endpoint carries (None for plain connections)."""
    if endpoint.tls_verify is None:
        return None
    return TLSConfig(endpoint.tls_ca, endpoint.tls_cert, endpoint.tls_key, endpoint.tls_verify)
