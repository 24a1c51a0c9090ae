"""Where registry credentials come from (keyring, Docker config, credential helpers, Podman's auth
file), how they are stored (keyring only) and that a password is never shown.

The credential helper used here, ``docker-credential-tamertest``, is a test-only shell script written
into ``tmp_path`` and put on the ``PATH`` given to :func:`find_auth`; it is not part of Tamer.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from tamer_tui.core.credentials import CredentialStoreUnavailable
from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.registry_auth import (
    RegistryAuth,
    find_auth,
    forget_auth,
    normalize_registry,
    registry_of,
    store_auth,
)


class MemoryKeyring(KeyringBackend):
    """A test-only in-memory keyring backend."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.data:
            raise PasswordDeleteError("not found")
        del self.data[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment that points every lookup into tmp_path (nothing of the real user is read)."""
    home_cfg = tmp_path / "docker-config"
    home_cfg.mkdir(exist_ok=True)
    env = {"DOCKER_CONFIG": str(home_cfg), "PATH": str(tmp_path / "bin"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    env.update(extra)
    return env


def _write_config(tmp_path: Path, config: dict[str, object]) -> Path:
    path = tmp_path / "docker-config" / "config.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _helper(tmp_path: Path, registry_url: str, user: str, secret: str) -> None:
    """Write the test-only ``docker-credential-tamertest`` script (answers for one server URL)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "docker-credential-tamertest"
    answer = json.dumps({"ServerURL": registry_url, "Username": user, "Secret": secret})
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || exit 2\n'
        "read -r server\n"
        f'if [ "$server" = "{registry_url}" ]; then\n'
        f"  printf '%s' '{answer}'\n"
        "  exit 0\n"
        "fi\n"
        "echo 'credentials not found in native keychain' >&2\n"
        "exit 1\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        ("nginx", "docker.io"),
        ("library/nginx:1.25", "docker.io"),
        ("docker.io/library/nginx", "docker.io"),
        ("index.docker.io/x/y", "docker.io"),
        ("ghcr.io/org/app:v1", "ghcr.io"),
        ("127.0.0.1:5000/team/app:v1", "127.0.0.1:5000"),
        ("localhost/app", "localhost"),
        ("localhost:5000/app", "localhost:5000"),
        ("myhost:5000/app@sha256:" + "a" * 64, "myhost:5000"),
        ("user/app", "docker.io"),
    ],
)
def test_registry_of(reference: str, registry: str) -> None:
    """Docker's rules: a first component with a dot, a port or 'localhost' is the registry, else docker.io."""
    assert registry_of(reference) == registry


def test_normalize_registry_keys() -> None:
    """Config keys with schemes, paths and Docker Hub aliases map to the plain registry name."""
    assert normalize_registry("https://index.docker.io/v1/") == "docker.io"
    assert normalize_registry("http://127.0.0.1:5000/v2/") == "127.0.0.1:5000"
    assert normalize_registry("GHCR.IO") == "ghcr.io"


def test_repr_never_shows_the_password() -> None:
    """repr/str of RegistryAuth (and of anything holding one) mask the password."""
    auth = RegistryAuth("ghcr.io", "me", "hunter2-very-secret", "keyring")
    for text in (repr(auth), str(auth), repr([auth]), f"{auth}", repr({"a": auth})):
        assert "hunter2-very-secret" not in text
    assert "'***'" in repr(auth) and "me" in repr(auth)
    header = json.loads(base64.urlsafe_b64decode(auth.header()))
    assert header == {"username": "me", "password": "hunter2-very-secret", "serveraddress": "ghcr.io"}


def test_find_auth_from_docker_config(tmp_path: Path, no_keyring: None) -> None:
    """A base64 'auth' entry of config.json ($DOCKER_CONFIG) is found, under any spelling of the registry key."""
    token = base64.b64encode(b"alice:pa:ss").decode()
    _write_config(
        tmp_path,
        {
            "auths": {
                "http://127.0.0.1:5000/v2/": {"auth": token},
                "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hubuser:hubpass").decode()},
                "ghcr.io": {},
            }
        },
    )
    env = _env(tmp_path)
    auth = find_auth("127.0.0.1:5000", env=env)
    assert auth == RegistryAuth("127.0.0.1:5000", "alice", "pa:ss", "docker config")
    hub = find_auth("docker.io", env=env)
    assert hub is not None and (hub.username, hub.password) == ("hubuser", "hubpass")
    assert find_auth("ghcr.io", env=env) is None  # an empty entry holds nothing
    assert find_auth("quay.io", env=env) is None
    # an explicit config file wins over DOCKER_CONFIG
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"auths": {"quay.io": {"username": "q", "password": "w"}}}), encoding="utf-8")
    found = find_auth("quay.io", docker_config=other, env=env)
    assert found is not None and found.username == "q"


@pytest.mark.skipif(os.name == "nt", reason="the stand-in helper is a POSIX shell script")
def test_find_auth_from_credential_helper(tmp_path: Path, no_keyring: None) -> None:
    """credHelpers (per registry) and credsStore run docker-credential-<name> get with the server URL on stdin."""
    _helper(tmp_path, "127.0.0.1:5000", "helper-user", "helper-secret")
    _write_config(tmp_path, {"credHelpers": {"127.0.0.1:5000": "tamertest"}, "auths": {"127.0.0.1:5000": {}}})
    env = _env(tmp_path)
    auth = find_auth("127.0.0.1:5000", env=env)
    assert auth == RegistryAuth("127.0.0.1:5000", "helper-user", "helper-secret", "credential helper tamertest")
    # the helper knows nothing about another registry: no credentials, no error
    assert find_auth("ghcr.io", env=env) is None
    # credsStore applies to every registry without its own helper
    _write_config(tmp_path, {"credsStore": "tamertest"})
    assert find_auth("127.0.0.1:5000", env=env) == auth
    # a configured helper that is not installed is skipped
    _write_config(tmp_path, {"credsStore": "not-installed-anywhere"})
    assert find_auth("127.0.0.1:5000", env=env) is None


def test_find_auth_from_podman_auth_file(tmp_path: Path, no_keyring: None) -> None:
    """${XDG_RUNTIME_DIR}/containers/auth.json (Podman's login file) is read after the Docker config."""
    authfile = tmp_path / "run" / "containers" / "auth.json"
    authfile.parent.mkdir(parents=True)
    authfile.write_text(json.dumps({"auths": {"quay.io": {"auth": base64.b64encode(b"pod:man").decode()}}}), encoding="utf-8")
    auth = find_auth("quay.io", env=_env(tmp_path))
    assert auth == RegistryAuth("quay.io", "pod", "man", "podman auth file")


def test_keyring_first_and_store_auth(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    """store_auth writes JSON to the keyring only; find_auth prefers it over the Docker config; forget_auth removes it."""
    _write_config(tmp_path, {"auths": {"ghcr.io": {"auth": base64.b64encode(b"file:user").decode()}}})
    env = _env(tmp_path)
    store_auth("https://ghcr.io", "kr-user", "kr-pass")
    assert json.loads(memory_keyring.data[("tamer", "registry/ghcr.io")]) == {"username": "kr-user", "password": "kr-pass"}
    assert find_auth("ghcr.io", env=env) == RegistryAuth("ghcr.io", "kr-user", "kr-pass", "keyring")
    assert forget_auth("ghcr.io") is True and forget_auth("ghcr.io") is False
    found = find_auth("ghcr.io", env=env)
    assert found is not None and found.source == "docker config"
    with pytest.raises(InvalidInput):
        store_auth("ghcr.io", " ", "x")
    with pytest.raises(InvalidInput):
        store_auth("ghcr.io", "u", "")


def test_store_auth_without_a_keyring(no_keyring: None) -> None:
    """Without a keyring backend store_auth fails with the clear how-to-fix message (nothing is written anywhere)."""
    with pytest.raises(CredentialStoreUnavailable, match="no keyring backend is available"):
        store_auth("ghcr.io", "u", "p")
