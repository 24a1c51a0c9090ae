"""Secrets (registry passwords, tokens) in the OS keyring, never in settings.yaml.

Every secret is stored with the service name ``"tamer"`` and a caller-chosen key such as
``"registry/ghcr.io"``. The ``keyring`` package is imported lazily (its backend discovery scans
entry points, which is slow at start-up). When no usable backend exists - a headless Linux box
without Secret Service, for instance, where keyring falls back to its ``fail`` backend - every call
raises :class:`CredentialStoreUnavailable` with a message that says how to fix it, instead of the
backend's bare ``NoKeyringError``.
"""

from __future__ import annotations

from typing import Any

from tamer_tui.core.errors import InvalidInput, TamerError

SERVICE = "tamer"

_HOW_TO_FIX = (
    "install and unlock a keyring (GNOME Keyring / KWallet via Secret Service, macOS Keychain, "
    "Windows Credential Locker) or select a backend with PYTHON_KEYRING_BACKEND"
)


class CredentialStoreUnavailable(TamerError):
    """No keyring backend can store secrets on this machine, or the backend failed."""


def _keyring() -> Any:
    try:
        import keyring
    except ImportError as err:  # pragma: no cover - keyring is a hard dependency
        raise CredentialStoreUnavailable(f"the keyring package is not installed: {err}") from err
    return keyring


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("credential key must be a non-empty string")


def _unavailable(action: str, err: Exception) -> CredentialStoreUnavailable:
    from keyring.errors import NoKeyringError

    if isinstance(err, NoKeyringError):
        return CredentialStoreUnavailable(f"cannot {action}: no keyring backend is available; {_HOW_TO_FIX}")
    detail = str(err) or type(err).__name__
    return CredentialStoreUnavailable(f"cannot {action}: the keyring backend failed: {detail}")


def backend_name() -> str:
    """The active keyring backend, e.g. ``keyring.backends.SecretService.Keyring``."""
    backend = _keyring().get_keyring()
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_status() -> tuple[bool, str]:
    """``(usable, description)`` for ``tamer doctor``; never raises."""
    try:
        keyring = _keyring()
        backend = keyring.get_keyring()
    except Exception as err:
        return False, f"keyring unavailable: {err}"
    from keyring.backends import fail

    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if isinstance(backend, fail.Keyring):
        return False, f"no keyring backend ({name}); {_HOW_TO_FIX}"
    return True, name


def get_secret(key: str) -> str | None:
    """The secret stored under ``key``, or None when there is none."""
    _check_key(key)
    keyring = _keyring()
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(SERVICE, key)
    except (KeyringError, RuntimeError) as err:
        raise _unavailable(f"read credential {key!r}", err) from err
    return value if isinstance(value, str) else None


def set_secret(key: str, value: str) -> None:
    """Store ``value`` under ``key`` (replacing any previous value)."""
    _check_key(key)
    if not isinstance(value, str):
        raise InvalidInput("credential value must be a string")
    keyring = _keyring()
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, key, value)
    except (KeyringError, RuntimeError) as err:
        raise _unavailable(f"store credential {key!r}", err) from err


def delete_secret(key: str) -> bool:
    """Remove the secret under ``key``; returns False when there was nothing to delete."""
    _check_key(key)
    keyring = _keyring()
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, key)
    except PasswordDeleteError:
        return False
    except (KeyringError, RuntimeError) as err:
        raise _unavailable(f"delete credential {key!r}", err) from err
    return True
