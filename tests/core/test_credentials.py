"""Credentials go to the keyring under service "tamer".

These tests never touch a real OS keyring: they install a small in-memory ``KeyringBackend``
subclass (defined below) or keyring's own ``fail`` backend with ``keyring.set_keyring`` and restore
the previous backend afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringError, PasswordDeleteError

from tamer_tui.core import credentials
from tamer_tui.core.errors import InvalidInput


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend (test only): {(service, username): password}."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None


class BrokenKeyring(MemoryKeyring):
    """A backend whose storage fails (a locked collection, a D-Bus error)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("collection is locked")


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_backend() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_set_get_delete_round_trip(memory: MemoryKeyring) -> None:
    """A stored secret comes back, lives under service "tamer", and is gone after delete."""
    credentials.set_secret("registry/ghcr.io", "s3cr3t")
    assert credentials.get_secret("registry/ghcr.io") == "s3cr3t"
    assert memory.store == {("tamer", "registry/ghcr.io"): "s3cr3t"}
    assert credentials.delete_secret("registry/ghcr.io") is True
    assert credentials.get_secret("registry/ghcr.io") is None
    assert memory.store == {}


def test_missing_secret_and_double_delete(memory: MemoryKeyring) -> None:
    """Reading an absent key gives None; deleting it reports False instead of raising."""
    assert credentials.get_secret("nope") is None
    assert credentials.delete_secret("nope") is False


def test_set_replaces_previous_value(memory: MemoryKeyring) -> None:
    """Setting a key twice keeps only the newest value."""
    credentials.set_secret("k", "one")
    credentials.set_secret("k", "two")
    assert credentials.get_secret("k") == "two"


def test_no_backend_gives_a_clear_error(no_backend: None) -> None:
    """Without a keyring backend every operation raises CredentialStoreUnavailable with a fix hint."""
    for call in (lambda: credentials.get_secret("k"), lambda: credentials.set_secret("k", "v"),
                 lambda: credentials.delete_secret("k")):
        with pytest.raises(credentials.CredentialStoreUnavailable) as info:
            call()
        message = str(info.value)
        assert "no keyring backend is available" in message and "PYTHON_KEYRING_BACKEND" in message
    ok, description = credentials.backend_status()
    assert ok is False and "fail.Keyring" in description


def test_backend_failure_is_wrapped() -> None:
    """A backend error becomes CredentialStoreUnavailable carrying the backend's message."""
    previous = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        with pytest.raises(credentials.CredentialStoreUnavailable, match="collection is locked"):
            credentials.get_secret("k")
    finally:
        keyring.set_keyring(previous)


def test_backend_status_with_working_backend(memory: MemoryKeyring) -> None:
    """backend_status reports a usable backend by its class path."""
    ok, description = credentials.backend_status()
    assert ok is True and description.endswith("MemoryKeyring")
    assert credentials.backend_name().endswith("MemoryKeyring")


def test_empty_key_and_non_string_value_are_rejected(memory: MemoryKeyring) -> None:
    """Keys must be non-empty strings and values strings; nothing is stored otherwise."""
    with pytest.raises(InvalidInput):
        credentials.set_secret("  ", "v")
    with pytest.raises(InvalidInput):
        credentials.set_secret("k", 5)  # type: ignore[arg-type]
    assert memory.store == {}
