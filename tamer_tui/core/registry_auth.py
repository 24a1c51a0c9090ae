"""Registry credentials for pushes: where they are found, and how Tamer stores its own.

Lookup order of :func:`find_auth` (the first hit wins):

1. the OS keyring (:mod:`tamer_tui.core.credentials`), key ``registry/<registry>``, holding the JSON
   ``{"username": ..., "password": ...}`` that :func:`store_auth` writes;
2. the Docker client config (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``), ``auths``
   entries with a base64 ``auth`` (``user:password``) or explicit ``username``/``password``;
3. the credential helper named by ``credHelpers[<registry>]`` or ``credsStore`` of that config:
   ``docker-credential-<name> get`` is run (an argv list, never a shell) with the server URL on stdin
   and answers ``{"ServerURL", "Username", "Secret"}`` on stdout;
4. Podman's auth file (``$REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json`` or
   ``~/.config/containers/auth.json``), same ``auths`` format as Docker's.

Secrets are never logged, never written to a plain file by Tamer and never shown: the ``repr`` of a
:class:`RegistryAuth` masks the password. :func:`store_auth` writes to the keyring only.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tamer_tui.core import credentials
from tamer_tui.core.errors import InvalidInput

DOCKER_HUB = "docker.io"
# The server URL Docker's tooling (config "auths" keys, credential helpers) uses for Docker Hub.
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
HELPER_TIMEOUT = 30.0
KEY_PREFIX = "registry/"


@dataclass(frozen=True)
class RegistryAuth:
    """A username/password for one registry, and where it came from (the password is never shown)."""

    registry: str
    username: str
    password: str = field(repr=False)
    source: str = "keyring"  # "keyring" | "docker config" | "credential helper NAME" | "podman auth file"

    def __repr__(self) -> str:
        masked = "***" if self.password else ""
        return (
            f"RegistryAuth(registry={self.registry!r}, username={self.username!r}, "
            f"password={masked!r}, source={self.source!r})"
        )

    __str__ = __repr__

    def docker_auth_config(self) -> dict[str, str]:
        """The ``X-Registry-Auth`` payload both engines understand (Docker adds ``serveraddress``)."""
        server = DOCKER_HUB_SERVER if self.registry == DOCKER_HUB else self.registry
        return {"username": self.username, "password": self.password, "serveraddress": server}

    def header(self) -> str:
        """The base64url-encoded ``X-Registry-Auth`` header value."""
        raw = json.dumps(self.docker_auth_config()).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii")


def normalize_registry(name: str) -> str:
    """``https://index.docker.io/v1/`` -> ``docker.io``; ``http://127.0.0.1:5000/v2`` -> ``127.0.0.1:5000``."""
    text = (name or "").strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].lower()
    return DOCKER_HUB if text in _HUB_ALIASES else text


def registry_of(reference: str) -> str:
    """The registry an image reference lives on (Docker's rules: ``docker.io`` for bare names).

    The first path component is a registry when it contains a dot or a port, or is ``localhost``:
    ``nginx`` and ``library/nginx:1`` are on ``docker.io``, ``127.0.0.1:5000/x/y:1`` on ``127.0.0.1:5000``.
    """
    ref = (reference or "").strip()
    if not ref:
        raise InvalidInput("empty image reference")
    first, sep, _rest = ref.partition("/")
    if not sep:
        return DOCKER_HUB
    if "." in first or ":" in first or first == "localhost":
        return normalize_registry(first)
    return DOCKER_HUB


# -- sources ------------------------------------------------------------------------------------
def _from_keyring(registry: str) -> RegistryAuth | None:
    try:
        raw = credentials.get_secret(KEY_PREFIX + registry)
    except credentials.CredentialStoreUnavailable:
        return None  # no keyring on this machine: the other sources still apply
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, Mapping) or not data.get("username"):
        return None
    return RegistryAuth(registry, str(data["username"]), str(data.get("password") or ""), "keyring")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open("r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def docker_config_path(env: Mapping[str, str] | None = None, docker_config: Path | None = None) -> Path:
    """Where the Docker CLI keeps its config (``DOCKER_CONFIG`` is a directory, like the CLI's)."""
    if docker_config is not None:
        path = Path(docker_config)
        return path / "config.json" if path.is_dir() else path
    environ = os.environ if env is None else env
    base = environ.get("DOCKER_CONFIG")
    if base:
        return Path(base) / "config.json"
    return Path.home() / ".docker" / "config.json"


def podman_auth_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """Podman's auth files in the order Podman reads them."""
    environ = os.environ if env is None else env
    paths: list[Path] = []
    if environ.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(environ["REGISTRY_AUTH_FILE"]))
    if environ.get("XDG_RUNTIME_DIR"):
        paths.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    paths.append(Path.home() / ".config" / "containers" / "auth.json")
    return paths


def _decode_entry(entry: Any) -> tuple[str, str] | None:
    """``(username, password)`` of one ``auths`` entry, or None when it holds none."""
    if not isinstance(entry, Mapping):
        return None
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"]), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user, sep, password = decoded.partition(":")
        if sep and user:
            return user, password
        return None
    if entry.get("username"):
        return str(entry["username"]), str(entry.get("password") or "")
    return None


def _from_auths(config: Mapping[str, Any], registry: str, source: str) -> RegistryAuth | None:
    auths = config.get("auths")
    if not isinstance(auths, Mapping):
        return None
    for key, entry in auths.items():
        if normalize_registry(str(key)) != registry:
            continue
        pair = _decode_entry(entry)
        if pair is not None:
            return RegistryAuth(registry, pair[0], pair[1], source)
    return None


def run_credential_helper(
    helper: str, registry: str, env: Mapping[str, str] | None = None, timeout: float = HELPER_TIMEOUT
) -> RegistryAuth | None:
    """Ask ``docker-credential-<helper>`` for the registry's credentials (None when it has none).

    The helper's stderr and stdout are never logged or put into error messages: they may hold secrets.
    """
    environ = dict(os.environ if env is None else env)
    program = shutil.which(f"docker-credential-{helper}", path=environ.get("PATH"))
    if not program:
        return None
    server = DOCKER_HUB_SERVER if registry == DOCKER_HUB else registry
    try:
        proc = subprocess.run(
            [program, "get"],
            input=server.encode("utf-8"),
            capture_output=True,
            env=environ,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None  # "credentials not found in native keychain" and friends
    try:
        data = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, Mapping) or not data.get("Username"):
        return None
    return RegistryAuth(registry, str(data["Username"]), str(data.get("Secret") or ""), f"credential helper {helper}")


def _helper_for(config: Mapping[str, Any], registry: str) -> str:
    helpers = config.get("credHelpers")
    if isinstance(helpers, Mapping):
        for key, name in helpers.items():
            if normalize_registry(str(key)) == registry and name:
                return str(name)
    store = config.get("credsStore")
    return str(store) if store else ""


def find_auth(
    registry: str,
    *,
    docker_config: Path | None = None,
    env: Mapping[str, str] | None = None,
    use_keyring: bool = True,
) -> RegistryAuth | None:
    """The credentials for ``registry`` (see the module docstring for the order), or None.

    ``docker_config`` is a ``config.json`` file or the directory holding it; ``env`` replaces
    ``os.environ`` (``DOCKER_CONFIG``, ``PATH`` for credential helpers, ``XDG_RUNTIME_DIR``,
    ``REGISTRY_AUTH_FILE``). Blocking (it may run a credential helper): call it from a thread.
    """
    name = normalize_registry(registry)
    if not name:
        raise InvalidInput("no registry given")
    if use_keyring:
        found = _from_keyring(name)
        if found is not None:
            return found
    config = _read_json(docker_config_path(env, docker_config))
    found = _from_auths(config, name, "docker config")
    if found is not None:
        return found
    helper = _helper_for(config, name)
    if helper:
        found = run_credential_helper(helper, name, env)
        if found is not None:
            return found
    for path in podman_auth_paths(env):
        found = _from_auths(_read_json(path), name, "podman auth file")
        if found is not None:
            return found
    return None


def store_auth(registry: str, username: str, password: str) -> None:
    """Keep credentials in the OS keyring (never in a file); raises CredentialStoreUnavailable."""
    name = normalize_registry(registry)
    if not name:
        raise InvalidInput("no registry given")
    if not username.strip():
        raise InvalidInput("the username is empty")
    if not password:
        raise InvalidInput("the password is empty")
    credentials.set_secret(KEY_PREFIX + name, json.dumps({"username": username.strip(), "password": password}))


def forget_auth(registry: str) -> bool:
    """Remove Tamer's stored credentials for ``registry``; False when there were none."""
    return credentials.delete_secret(KEY_PREFIX + normalize_registry(registry))
