"""Loading kubeconfig files the way kubectl does, as a small pure data model.

Which files: an explicit ``--kubeconfig PATH`` (or several) wins; else every file in ``KUBECONFIG``
(``os.pathsep``-separated, duplicates dropped); else ``~/.kube/config``. Several files are merged
with kubectl's rules: the first file that defines a context, cluster or user name wins, and
``current-context`` comes from the first file that sets it. Relative paths inside a file
(``certificate-authority``, ``client-certificate``, ``client-key``, ``tokenFile`` and an exec
``command`` containing a path separator) are resolved against the directory of the file that
defined the entry, again like kubectl.

Unlike kubectl, a broken file (bad YAML, not a mapping, unreadable, missing) never stops the others
from loading: it becomes a readable line in :attr:`KubeConfig.warnings` naming the file and the
problem. Malformed entries (no name, wrong types) are skipped with a warning too.

:meth:`KubeConfig.connection_params` turns a context into :class:`ConnectionParams` (server, TLS
material, credentials, exec plugin config; ``*-data`` fields base64-decoded), and
:func:`resolve_credentials` turns those into usable material: files read, exec credential plugins
run (argv list, no shell, with a timeout, ``KUBERNETES_EXEC_INFO`` set) and their
``ExecCredential`` cached until it expires. It blocks: call it in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tamer_tui.core.errors import TamerError

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_TIMEOUT = 30.0
#: Credentials that expire within this many seconds are treated as expired (clock skew, latency).
EXPIRY_SKEW = 10.0
_MAX_FILE = 16 * 1024 * 1024


class KubeConfigError(TamerError):
    """A kubeconfig entry cannot be used (missing cluster, bad base64, exec plugin failed ...)."""


# ------------------------------------------------------------------------------------ data model
@dataclass(frozen=True)
class KubeCluster:
    """One ``clusters[]`` entry and the file that defined it."""

    name: str
    server: str
    source_file: str
    spec: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class KubeUser:
    """One ``users[]`` entry and the file that defined it (``spec`` holds secrets: not in repr)."""

    name: str
    source_file: str
    spec: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class KubeContext:
    """One context, with the facts a context list shows (no secrets).

    ``namespace`` is empty when the context does not set one (kubectl then uses ``default``: see
    :attr:`effective_namespace`). ``problem`` is empty when the context references a cluster and
    user that exist, else it says what is missing.
    """

    name: str
    cluster: str
    user: str
    namespace: str
    server: str
    source_file: str
    insecure: bool = False
    has_exec_auth: bool = False
    exec_command: str = ""
    auth_provider: str = ""
    has_client_cert: bool = False
    has_token: bool = False
    cluster_source_file: str = ""
    user_source_file: str = ""
    #: ``provider`` of the cluster's extensions (minikube writes ``minikube.sigs.k8s.io``).
    provider: str = ""
    problem: str = ""

    @property
    def effective_namespace(self) -> str:
        """The namespace kubectl uses for this context (``default`` when none is set)."""
        return self.namespace or "default"


@dataclass(frozen=True)
class ExecConfig:
    """``users[].user.exec``: a client-go credential plugin (paths already resolved)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1"
    install_hint: str = ""
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"
    source_file: str = ""


@dataclass(frozen=True)
class ConnectionParams:
    """Everything needed to talk to one context's API server (secrets hidden from repr)."""

    context: str
    cluster: str
    user: str
    namespace: str
    server: str
    ca_data: bytes | None = field(default=None, repr=False)
    ca_file: str = ""
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_cert_file: str = ""
    client_key_data: bytes | None = field(default=None, repr=False)
    client_key_file: str = ""
    token: str | None = field(default=None, repr=False)
    token_file: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    insecure_skip_tls_verify: bool = False
    tls_server_name: str = ""
    proxy_url: str = ""
    disable_compression: bool = False
    exec_config: ExecConfig | None = None
    auth_provider: str = ""
    auth_provider_config: Mapping[str, Any] = field(default_factory=dict, repr=False)
    impersonate_user: str = ""
    impersonate_uid: str = ""
    impersonate_groups: tuple[str, ...] = ()
    exec_cluster_config: Any = field(default=None, repr=False)
    source_file: str = ""


@dataclass(frozen=True)
class ResolvedCredentials:
    """Credentials ready to use: files read, exec plugin run (secrets hidden from repr)."""

    token: str | None = field(default=None, repr=False)
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    ca_data: bytes | None = field(default=None, repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    expires_at: dt.datetime | None = None
    from_exec: bool = False


@dataclass
class KubeConfig:
    """The merged result of loading one or more kubeconfig files."""

    contexts: dict[str, KubeContext] = field(default_factory=dict)
    clusters: dict[str, KubeCluster] = field(default_factory=dict)
    users: dict[str, KubeUser] = field(default_factory=dict)
    current_context: str = ""
    #: Files that were read successfully, in merge order.
    files: list[str] = field(default_factory=list)
    #: Files that were considered (read or not), in order.
    candidates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def context_names(self) -> list[str]:
        """Context names in merge order."""
        return list(self.contexts)

    def context(self, name: str | None = None) -> KubeContext:
        """The named context (default: the current one); :class:`KubeConfigError` when unknown."""
        wanted = name or self.current_context
        if not wanted:
            raise KubeConfigError("no context given and the kubeconfig sets no current-context")
        try:
            return self.contexts[wanted]
        except KeyError:
            where = ", ".join(self.files) or "no kubeconfig file"
            raise KubeConfigError(f"context {wanted!r} not found in {where}") from None

    def connection_params(self, context: str | KubeContext | None = None) -> ConnectionParams:
        """Connection parameters for a context (default: the current one).

        Raises :class:`KubeConfigError` when the context, its cluster or its user is missing, the
        cluster has no server, or a ``*-data`` field is not valid base64.
        """
        ctx = context if isinstance(context, KubeContext) else self.context(context)
        cluster = self.clusters.get(ctx.cluster)
        if cluster is None:
            raise KubeConfigError(f"context {ctx.name!r} ({ctx.source_file}) refers to cluster "
                                  f"{ctx.cluster!r}, which no kubeconfig file defines")
        if not cluster.server:
            raise KubeConfigError(f"cluster {cluster.name!r} in {cluster.source_file} has no server")
        if ctx.user and ctx.user not in self.users:
            raise KubeConfigError(f"context {ctx.name!r} ({ctx.source_file}) refers to user "
                                  f"{ctx.user!r}, which no kubeconfig file defines")
        user = self.users.get(ctx.user) if ctx.user else None
        return build_params(ctx, cluster, user)


# ------------------------------------------------------------------------------- which files
def kubeconfig_paths(explicit: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
                     env: Mapping[str, str] | None = None,
                     home: Path | None = None) -> list[tuple[Path, str]]:
    """The files kubectl would read, each with where it came from.

    ``explicit`` (``--kubeconfig``; a list is accepted for Tamer's settings) wins; else
    ``KUBECONFIG`` split on ``os.pathsep`` with empty entries and duplicates dropped; else
    ``~/.kube/config``. The origin is ``"--kubeconfig"``, ``"KUBECONFIG"`` or ``"default"``.
    """
    environ = os.environ if env is None else env
    out: list[tuple[Path, str]] = []
    seen: set[str] = set()

    def add(raw: str | os.PathLike[str], origin: str) -> None:
        text = os.fspath(raw)
        if not text:
            return
        path = Path(os.path.expanduser(text))
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.append((path, origin))

    if explicit is not None:
        items = [explicit] if isinstance(explicit, (str, os.PathLike)) else list(explicit)
        for item in items:
            add(item, "--kubeconfig")
        if out:
            return out
    value = environ.get("KUBECONFIG", "")
    if value:
        for part in value.split(os.pathsep):
            add(part.strip(), "KUBECONFIG")
        if out:
            return out
    if home is None:
        from tamer_tui.core.platform import home_dir

        home = home_dir(env)
    add(home / ".kube" / "config", "default")
    return out


# ---------------------------------------------------------------------------------- parsing
def _yaml_problem(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)


def parse_text(text: str, source: str) -> dict[str, Any]:
    """Parse kubeconfig text; raises :class:`KubeConfigError` naming ``source`` and the problem.

    An empty document is an empty config (as in kubectl).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise KubeConfigError(f"kubeconfig {source} is not valid YAML: {_yaml_problem(err)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeConfigError(f"kubeconfig {source} is not a kubeconfig: the top level is a "
                              f"{type(data).__name__}, expected a mapping with clusters/users/contexts")
    return data


def read_file(path: Path) -> dict[str, Any]:
    """Read and parse one kubeconfig file; raises :class:`KubeConfigError` with a clear message."""
    try:
        if path.stat().st_size > _MAX_FILE:
            raise KubeConfigError(f"kubeconfig {path} is larger than {_MAX_FILE // (1024 * 1024)} MiB; skipped")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KubeConfigError(f"kubeconfig {path} does not exist") from None
    except IsADirectoryError:
        raise KubeConfigError(f"kubeconfig {path} is a directory, not a file") from None
    except PermissionError:
        raise KubeConfigError(f"cannot read kubeconfig {path}: permission denied") from None
    except OSError as err:
        raise KubeConfigError(f"cannot read kubeconfig {path}: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise KubeConfigError(f"kubeconfig {path} is not UTF-8 text (byte {err.start})") from None
    return parse_text(text, str(path))


def _entries(data: Mapping[str, Any], section: str, inner: str, source: str,
             warnings: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """``(name, spec)`` pairs of one section, skipping malformed entries with a warning."""
    items = data.get(section)
    if items is None:
        return []
    if not isinstance(items, list):
        warnings.append(f"kubeconfig {source}: '{section}' is a {type(items).__name__}, expected a list; ignored")
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(items):
        if not isinstance(entry, dict):
            warnings.append(f"kubeconfig {source}: {section}[{index}] is not a mapping; ignored")
            continue
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            warnings.append(f"kubeconfig {source}: {section}[{index}] has no name; ignored")
            continue
        spec = entry.get(inner)
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            warnings.append(f"kubeconfig {source}: {section[:-1]} {name!r} has a '{inner}' that is not "
                            "a mapping; ignored")
            continue
        out.append((name, spec))
    return out


def _str(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (str, int, float)) else ""


def _bool(spec: Mapping[str, Any], key: str) -> bool:
    value = spec.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _provider(spec: Mapping[str, Any]) -> str:
    extensions = spec.get("extensions")
    for ext in extensions if isinstance(extensions, list) else []:
        inner = ext.get("extension") if isinstance(ext, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("provider"), str):
            return str(inner["provider"])
    return ""


def _context_from(name: str, spec: Mapping[str, Any], source: str,
                  clusters: Mapping[str, KubeCluster], users: Mapping[str, KubeUser]) -> KubeContext:
    cluster_name = _str(spec, "cluster")
    user_name = _str(spec, "user")
    cluster = clusters.get(cluster_name)
    user = users.get(user_name)
    problem = ""
    if not cluster_name:
        problem = "the context names no cluster"
    elif cluster is None:
        problem = f"cluster {cluster_name!r} is not defined"
    elif not cluster.server:
        problem = f"cluster {cluster_name!r} has no server"
    elif user_name and user is None:
        problem = f"user {user_name!r} is not defined"
    uspec: Mapping[str, Any] = user.spec if user else {}
    exec_spec = uspec.get("exec")
    provider = uspec.get("auth-provider")
    return KubeContext(
        name=name,
        cluster=cluster_name,
        user=user_name,
        namespace=_str(spec, "namespace"),
        server=cluster.server if cluster else "",
        source_file=source,
        insecure=_bool(cluster.spec, "insecure-skip-tls-verify") if cluster else False,
        has_exec_auth=isinstance(exec_spec, dict),
        exec_command=_str(exec_spec, "command") if isinstance(exec_spec, dict) else "",
        auth_provider=_str(provider, "name") if isinstance(provider, dict) else "",
        has_client_cert=bool(uspec.get("client-certificate-data") or uspec.get("client-certificate")),
        has_token=bool(uspec.get("token") or uspec.get("tokenFile")),
        cluster_source_file=cluster.source_file if cluster else "",
        user_source_file=user.source_file if user else "",
        provider=_provider(cluster.spec) if cluster else "",
        problem=problem,
    )


def merge_documents(documents: Iterable[tuple[str, Mapping[str, Any]]],
                    warnings: list[str] | None = None) -> KubeConfig:
    """Merge parsed kubeconfig documents (``(source file, data)``) with kubectl's rules."""
    config = KubeConfig()
    sink: list[str] = [] if warnings is None else warnings
    context_specs: dict[str, tuple[dict[str, Any], str]] = {}
    for source, data in documents:
        config.files.append(source)
        current = data.get("current-context")
        if not config.current_context and isinstance(current, str) and current:
            config.current_context = current
        for name, spec in _entries(data, "clusters", "cluster", source, sink):
            if name not in config.clusters:
                server = spec.get("server")
                if server is not None and not isinstance(server, str):
                    sink.append(f"kubeconfig {source}: cluster {name!r} has a server that is not a string")
                    server = ""
                config.clusters[name] = KubeCluster(name, (server or "").strip(), source, spec)
        for name, spec in _entries(data, "users", "user", source, sink):
            if name not in config.users:
                config.users[name] = KubeUser(name, source, spec)
        for name, spec in _entries(data, "contexts", "context", source, sink):
            context_specs.setdefault(name, (spec, source))
    for name, (spec, source) in context_specs.items():
        config.contexts[name] = _context_from(name, spec, source, config.clusters, config.users)
    config.warnings = sink
    return config


def load_files(paths: Sequence[Path | tuple[Path, str]]) -> KubeConfig:
    """Load and merge these files; problems become warnings, never exceptions.

    An item may be a path or ``(path, origin)``; a missing file whose origin is ``"default"``
    (``~/.kube/config``) is silently skipped, any other missing file is a warning.
    """
    warnings: list[str] = []
    documents: list[tuple[str, Mapping[str, Any]]] = []
    candidates: list[str] = []
    for item in paths:
        path, origin = item if isinstance(item, tuple) else (item, "")
        candidates.append(str(path))
        try:
            data = read_file(path)
        except KubeConfigError as err:
            if origin == "default" and not path.exists():
                continue
            suffix = f" (from {origin})" if origin in ("KUBECONFIG", "--kubeconfig") else ""
            warnings.append(f"{err}{suffix}; skipped")
            continue
        documents.append((str(path), data))
    config = merge_documents(documents, warnings)
    config.candidates = candidates
    return config


def load_kubeconfig(explicit: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None, *,
                    env: Mapping[str, str] | None = None, home: Path | None = None) -> KubeConfig:
    """Load the kubeconfig kubectl would use (see :func:`kubeconfig_paths`); never raises."""
    return load_files(kubeconfig_paths(explicit, env, home))


def load_text(text: str, source: str) -> KubeConfig:
    """A :class:`KubeConfig` from kubeconfig text (``source`` names it in messages and resolves
    relative paths: pass the file it stands for). Raises :class:`KubeConfigError` when unparsable."""
    return merge_documents([(source, parse_text(text, source))])


# --------------------------------------------------------------------------- connection params
def _resolve_path(value: str, source_file: str) -> str:
    if not value:
        return ""
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded) or not source_file:
        return expanded
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(source_file)), expanded))


def _b64(value: Any, what: str, owner: str, source: str) -> bytes | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise KubeConfigError(f"{what} of {owner} in {source} is not a string")
    compact = "".join(value.split())
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KubeConfigError(f"{what} of {owner} in {source} is not valid base64") from None


def _exec_config(spec: Mapping[str, Any], user: str, source: str) -> ExecConfig:
    command = spec.get("command")
    if not isinstance(command, str) or not command:
        raise KubeConfigError(f"exec credential plugin of user {user!r} in {source} has no command")
    args = spec.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
        raise KubeConfigError(f"exec credential plugin of user {user!r} in {source}: args must be a list of strings")
    env_pairs: list[tuple[str, str]] = []
    for item in spec.get("env") or []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise KubeConfigError(f"exec credential plugin of user {user!r} in {source}: env entries need "
                                  "'name' and 'value'")
        env_pairs.append((item["name"], "" if item.get("value") is None else str(item.get("value"))))
    api_version = _str(spec, "apiVersion")
    if not api_version:
        raise KubeConfigError(f"exec credential plugin of user {user!r} in {source} has no apiVersion "
                              f"(expected {EXEC_API_VERSIONS[0]})")
    if api_version not in EXEC_API_VERSIONS:
        raise KubeConfigError(f"exec credential plugin of user {user!r} in {source}: apiVersion "
                              f"{api_version!r} is not supported (use {' or '.join(EXEC_API_VERSIONS)})")
    if ("/" in command or os.sep in command) and not os.path.isabs(command):
        command = _resolve_path(command, source)
    mode = _str(spec, "interactiveMode") or "IfAvailable"
    return ExecConfig(
        command=command,
        args=tuple(str(a) for a in args),
        env=tuple(env_pairs),
        api_version=api_version,
        install_hint=_str(spec, "installHint"),
        provide_cluster_info=_bool(spec, "provideClusterInfo"),
        interactive_mode=mode,
        source_file=source,
    )


def build_params(ctx: KubeContext, cluster: KubeCluster, user: KubeUser | None) -> ConnectionParams:
    """:class:`ConnectionParams` from a context and its (already looked up) cluster and user."""
    c = cluster.spec
    u: Mapping[str, Any] = user.spec if user else {}
    csrc = cluster.source_file
    usrc = user.source_file if user else ""
    cowner = f"cluster {cluster.name!r}"
    uowner = f"user {user.name!r}" if user else ""
    exec_spec = u.get("exec")
    exec_config = None
    if exec_spec is not None:
        if not isinstance(exec_spec, dict):
            raise KubeConfigError(f"exec of {uowner} in {usrc} is not a mapping")
        exec_config = _exec_config(exec_spec, user.name if user else "", usrc)
    provider = u.get("auth-provider")
    provider_name = ""
    provider_config: Mapping[str, Any] = {}
    if isinstance(provider, dict):
        provider_name = _str(provider, "name")
        raw_config = provider.get("config")
        provider_config = raw_config if isinstance(raw_config, dict) else {}
    exec_cluster_config = None
    for ext in c.get("extensions") or []:
        if isinstance(ext, dict) and ext.get("name") == "client.authentication.k8s.io/exec":
            exec_cluster_config = ext.get("extension")
    groups = u.get("as-groups") or []
    token = u.get("token")
    return ConnectionParams(
        context=ctx.name,
        cluster=cluster.name,
        user=user.name if user else "",
        namespace=ctx.effective_namespace,
        server=cluster.server,
        ca_data=_b64(c.get("certificate-authority-data"), "certificate-authority-data", cowner, csrc),
        ca_file=_resolve_path(_str(c, "certificate-authority"), csrc),
        client_cert_data=_b64(u.get("client-certificate-data"), "client-certificate-data", uowner, usrc),
        client_cert_file=_resolve_path(_str(u, "client-certificate"), usrc),
        client_key_data=_b64(u.get("client-key-data"), "client-key-data", uowner, usrc),
        client_key_file=_resolve_path(_str(u, "client-key"), usrc),
        token=str(token) if token not in (None, "") else None,
        token_file=_resolve_path(_str(u, "tokenFile"), usrc),
        username=_str(u, "username"),
        password=_str(u, "password"),
        insecure_skip_tls_verify=_bool(c, "insecure-skip-tls-verify"),
        tls_server_name=_str(c, "tls-server-name"),
        proxy_url=_str(c, "proxy-url"),
        disable_compression=_bool(c, "disable-compression"),
        exec_config=exec_config,
        auth_provider=provider_name,
        auth_provider_config=provider_config,
        impersonate_user=_str(u, "as"),
        impersonate_uid=_str(u, "as-uid"),
        impersonate_groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
        exec_cluster_config=exec_cluster_config,
        source_file=ctx.source_file,
    )


# ------------------------------------------------------------------------- credential resolution
def _read_secret_file(path: str, what: str, params: ConnectionParams) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(_MAX_FILE)
    except FileNotFoundError:
        raise KubeConfigError(f"{what} {path} of context {params.context!r} does not exist") from None
    except PermissionError:
        raise KubeConfigError(f"cannot read {what} {path} of context {params.context!r}: permission denied") from None
    except OSError as err:
        raise KubeConfigError(f"cannot read {what} {path} of context {params.context!r}: "
                              f"{err.strerror or err}") from None


def parse_timestamp(value: str) -> dt.datetime:
    """An RFC 3339 timestamp (``2024-05-01T10:00:00Z``) as an aware datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


@dataclass(frozen=True)
class ExecResult:
    """What an exec credential plugin returned (secrets hidden from repr)."""

    token: str | None = field(default=None, repr=False)
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    expires_at: dt.datetime | None = None


Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]

_cache: dict[tuple[Any, ...], ExecResult] = {}
_cache_lock = threading.Lock()
_key_locks: dict[tuple[Any, ...], threading.Lock] = {}


def clear_exec_cache() -> None:
    """Forget every cached exec credential (after a 401, or in tests)."""
    with _cache_lock:
        _cache.clear()


def _exec_info(config: ExecConfig, params: ConnectionParams) -> dict[str, Any]:
    spec: dict[str, Any] = {"interactive": False}
    if config.provide_cluster_info:
        cluster: dict[str, Any] = {"server": params.server}
        if params.tls_server_name:
            cluster["tls-server-name"] = params.tls_server_name
        if params.insecure_skip_tls_verify:
            cluster["insecure-skip-tls-verify"] = True
        ca = params.ca_data
        if ca is None and params.ca_file:
            ca = _read_secret_file(params.ca_file, "certificate authority file", params)
        if ca:
            cluster["certificate-authority-data"] = base64.b64encode(ca).decode("ascii")
        if params.proxy_url:
            cluster["proxy-url"] = params.proxy_url
        if params.disable_compression:
            cluster["disable-compression"] = True
        if params.exec_cluster_config is not None:
            cluster["config"] = params.exec_cluster_config
        spec["cluster"] = cluster
    return {"kind": "ExecCredential", "apiVersion": config.api_version, "spec": spec}


def _tail(data: bytes, limit: int = 300) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def run_exec_plugin(config: ExecConfig, params: ConnectionParams, *, timeout: float = EXEC_TIMEOUT,
                    env: Mapping[str, str] | None = None, runner: Runner = subprocess.run) -> ExecResult:
    """Run an exec credential plugin once and parse its ``ExecCredential`` (no cache).

    The plugin gets the process environment (or ``env``) plus the config's ``env`` entries and
    ``KUBERNETES_EXEC_INFO``; stdin is closed (Tamer never runs plugins interactively, so
    ``interactiveMode: Always`` is refused). Raises :class:`KubeConfigError` on any failure.
    """
    who = f"exec credential plugin {config.command!r} (user {params.user!r} in {config.source_file})"
    if config.interactive_mode == "Always":
        raise KubeConfigError(f"{who} requires an interactive terminal (interactiveMode: Always); "
                              "run kubectl once in a shell to log in")
    child_env = dict(os.environ if env is None else env)
    child_env.update(config.env)
    child_env["KUBERNETES_EXEC_INFO"] = json.dumps(_exec_info(config, params), separators=(",", ":"))
    command = config.command
    if not os.path.isabs(command) and "/" not in command and os.sep not in command:
        found = shutil.which(command, path=child_env.get("PATH", os.defpath))
        if found is None:
            hint = f" {config.install_hint.strip()}" if config.install_hint.strip() else ""
            raise KubeConfigError(f"{who}: executable not found on PATH.{hint}")
        command = found
    try:
        proc = runner([command, *config.args], env=child_env, stdin=subprocess.DEVNULL,
                      capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        hint = f" {config.install_hint.strip()}" if config.install_hint.strip() else ""
        raise KubeConfigError(f"{who}: executable not found.{hint}") from None
    except PermissionError:
        raise KubeConfigError(f"{who}: permission denied (is it executable?)") from None
    except subprocess.TimeoutExpired:
        raise KubeConfigError(f"{who}: no answer within {timeout:g}s") from None
    except OSError as err:
        raise KubeConfigError(f"{who}: cannot run it: {err.strerror or err}") from None
    if proc.returncode != 0:
        detail = _tail(proc.stderr or b"") or _tail(proc.stdout or b"")
        raise KubeConfigError(f"{who} exited with status {proc.returncode}" + (f": {detail}" if detail else ""))
    try:
        data = json.loads(proc.stdout or b"")
    except ValueError:
        raise KubeConfigError(f"{who} did not print an ExecCredential JSON object "
                              f"(got {_tail(proc.stdout or b'', 80)!r})") from None
    if not isinstance(data, dict) or data.get("kind") != "ExecCredential":
        raise KubeConfigError(f"{who} printed JSON that is not an ExecCredential")
    if data.get("apiVersion") != config.api_version:
        raise KubeConfigError(f"{who} answered with apiVersion {data.get('apiVersion')!r}, "
                              f"expected {config.api_version!r}")
    status = data.get("status")
    if not isinstance(status, dict):
        raise KubeConfigError(f"{who} returned an ExecCredential without status")
    token = status.get("token")
    cert = status.get("clientCertificateData")
    key = status.get("clientKeyData")
    if bool(cert) != bool(key):
        raise KubeConfigError(f"{who} returned only one of clientCertificateData and clientKeyData")
    if not token and not cert:
        raise KubeConfigError(f"{who} returned neither a token nor a client certificate")
    expires_at = None
    stamp = status.get("expirationTimestamp")
    if stamp:
        try:
            expires_at = parse_timestamp(str(stamp))
        except ValueError:
            raise KubeConfigError(f"{who} returned an invalid expirationTimestamp {stamp!r}") from None
    return ExecResult(
        token=str(token) if token else None,
        client_cert_data=str(cert).encode() if cert else None,
        client_key_data=str(key).encode() if key else None,
        expires_at=expires_at,
    )


def _cache_key(config: ExecConfig, params: ConnectionParams) -> tuple[Any, ...]:
    cluster = json.dumps(_exec_info(config, params), sort_keys=True) if config.provide_cluster_info else ""
    return (config.command, config.args, config.env, config.api_version, cluster)


def _fresh(result: ExecResult, now: float) -> bool:
    return result.expires_at is None or result.expires_at.timestamp() - EXPIRY_SKEW > now


def exec_credentials(config: ExecConfig, params: ConnectionParams, *, timeout: float = EXEC_TIMEOUT,
                     env: Mapping[str, str] | None = None, runner: Runner = subprocess.run,
                     clock: Callable[[], float] = time.time) -> ExecResult:
    """:func:`run_exec_plugin` with a process-wide cache: a result is reused until it expires
    (forever when the plugin gives no ``expirationTimestamp``); concurrent callers for the same
    plugin wait for one run instead of starting several."""
    key = _cache_key(config, params)
    with _cache_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and _fresh(cached, clock()):
            return cached
        result = run_exec_plugin(config, params, timeout=timeout, env=env, runner=runner)
        with _cache_lock:
            _cache[key] = result
        return result


def resolve_credentials(params: ConnectionParams, *, timeout: float = EXEC_TIMEOUT,
                        env: Mapping[str, str] | None = None, runner: Runner = subprocess.run,
                        clock: Callable[[], float] = time.time) -> ResolvedCredentials:
    """Usable credentials for ``params`` (blocking: files are read and exec plugins run).

    Inline data wins over files (as in kubectl); a token file is re-read on every call; an exec
    plugin's token or client certificate wins over static ones. Raises :class:`KubeConfigError`.
    """
    ca = params.ca_data
    if ca is None and params.ca_file:
        ca = _read_secret_file(params.ca_file, "certificate authority file", params)
    cert = params.client_cert_data
    if cert is None and params.client_cert_file:
        cert = _read_secret_file(params.client_cert_file, "client certificate file", params)
    key = params.client_key_data
    if key is None and params.client_key_file:
        key = _read_secret_file(params.client_key_file, "client key file", params)
    token = params.token
    if token is None and params.token_file:
        token = _read_secret_file(params.token_file, "token file", params).decode("utf-8", "replace").strip()
    expires_at = None
    from_exec = False
    if params.auth_provider:
        if params.auth_provider == "oidc":
            id_token = params.auth_provider_config.get("id-token")
            if not id_token:
                raise KubeConfigError(f"oidc auth-provider of user {params.user!r} has no id-token; "
                                      "log in with kubectl (or kubelogin) first")
            token = str(id_token)
        else:
            raise KubeConfigError(f"auth-provider {params.auth_provider!r} of user {params.user!r} is no longer "
                                  "supported by Kubernetes clients; switch to its exec credential plugin "
                                  "(e.g. gke-gcloud-auth-plugin, kubelogin)")
    if params.exec_config is not None:
        result = exec_credentials(params.exec_config, params, timeout=timeout, env=env, runner=runner, clock=clock)
        from_exec = True
        expires_at = result.expires_at
        if result.token:
            token = result.token
        if result.client_cert_data and result.client_key_data:
            cert, key = result.client_cert_data, result.client_key_data
    if bool(cert) != bool(key):
        missing = "client key" if cert else "client certificate"
        raise KubeConfigError(f"user {params.user!r} of context {params.context!r} has a "
                              f"{'client certificate' if cert else 'client key'} but no {missing}")
    return ResolvedCredentials(token=token or None, client_cert_data=cert, client_key_data=key, ca_data=ca,
                               username=params.username, password=params.password, expires_at=expires_at,
                               from_exec=from_exec)


# ------------------------------------------------------------------------------ file references
#: Keys of ``clusters[].cluster`` and ``users[].user`` that name files.
FILE_KEYS: dict[str, tuple[str, ...]] = {
    "clusters": ("certificate-authority",),
    "users": ("client-certificate", "client-key", "tokenFile"),
}


_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def absolutize_paths(data: Mapping[str, Any], base_dir: str | os.PathLike[str],
                     mapper: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A deep copy of kubeconfig ``data`` whose file references are absolute.

    Each reference (CA, client certificate/key, token file, an exec ``command`` with a path
    separator) is first passed through ``mapper`` (e.g. ``C:\\Users\\me\\ca.crt`` to
    ``/mnt/c/Users/me/ca.crt`` inside WSL), then resolved against ``base_dir`` if still relative.
    Needed whenever entries move to another file (import) or are read from another system.
    """
    copy: dict[str, Any] = json.loads(json.dumps(data, default=str))
    base = os.fspath(base_dir)

    def fix(value: Any) -> Any:
        if not isinstance(value, str) or not value:
            return value
        mapped = mapper(value) if mapper else value
        if mapped != value:
            return mapped
        if _WINDOWS_ABS.match(value) or os.path.isabs(os.path.expanduser(value)):
            return os.path.expanduser(value)
        return os.path.normpath(os.path.join(base, value))

    for section, inner in (("clusters", "cluster"), ("users", "user")):
        for entry in copy.get(section) or []:
            spec = entry.get(inner) if isinstance(entry, dict) else None
            if not isinstance(spec, dict):
                continue
            for key in FILE_KEYS[section]:
                if key in spec:
                    spec[key] = fix(spec[key])
            exec_spec = spec.get("exec") if section == "users" else None
            if isinstance(exec_spec, dict) and isinstance(exec_spec.get("command"), str):
                command = exec_spec["command"]
                if "/" in command or "\\" in command or os.sep in command:
                    exec_spec["command"] = fix(command)
    return copy
