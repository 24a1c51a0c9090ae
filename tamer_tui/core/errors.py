"""Errors every backend raises, so the UI can show one clear message for each kind of failure."""

from __future__ import annotations


class TamerError(Exception):
    """Base class: ``str(err)`` is a message fit to show to a user."""


class RuntimeUnavailable(TamerError):
    """The daemon is not running, the socket is missing, or the connection broke."""


class PermissionDenied(TamerError):
    """The socket or API refused us (EACCES on the socket, 401/403 from the API)."""


class NotFound(TamerError):
    """The object does not exist (any more)."""


class Conflict(TamerError):
    """Name already in use, object in use, wrong state for the action (409)."""


class InvalidInput(TamerError):
    """The request was malformed (400/422) or the user typed something unusable."""


class ReadOnlyMode(TamerError):
    """A mutation was attempted while Tamer runs with ``--readonly``."""

    def __init__(self, action: str = "this action") -> None:
        super().__init__(f"read-only mode: {action} is disabled (started with --readonly)")


class BackendError(TamerError):
    """Anything else the backend reported (500s and unexpected payloads)."""
