"""Server-side apply and managedFields tracking (pure functions over JSON-shaped dicts).

API:

* ``server_side_apply(live, applied, manager, force, lookup, *, subresource=None, reset_status=True,
  now=None) -> dict`` - merge the applied configuration into ``live`` (``None`` to create) the way
  structured-merge-diff does and return the new object (a new dict) with ``metadata.managedFields``
  updated: the manager's ``Apply`` entry owns exactly the fields of ``applied``; fields it owned before
  but no longer applies are removed when no other manager owns them; fields owned by another manager
  whose value would change raise :class:`ApplyConflict` unless ``force`` (then ownership moves).
  Server-managed metadata (uid, resourceVersion, creationTimestamp, ...) is kept from ``live``.
  For the main resource ``status`` is not applied when ``reset_status`` (types with a status
  subresource); with ``subresource="status"`` only ``status`` is applied.
* ``record_update(old, new, manager, operation, lookup, *, subresource=None, now=None) -> dict`` - returns
  ``new`` (copied) with managedFields updated for an ordinary Create/Update/Patch (``operation="Update"``):
  the manager gains the fields it added or changed, every manager loses the fields that were removed.
  Objects without managedFields are not tracked on update (like the real server); on create they are.
* ``ApplyConflict`` (``.conflicts: list[tuple[manager_description, field_path]]``, ``.message`` like
  ``Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas``,
  ``.status()`` -> the 409 ``metav1.Status`` dict with ``FieldManagerConflict`` causes).
* ``ApplyError`` (``ValueError``) - the applied configuration is unusable (wrong kind/name, managedFields
  set, field not declared in schema ...); ``.code`` is the HTTP status to answer with.
* ``fields_v1_to_paths`` / ``paths_to_fields_v1`` - FieldsV1 encoding (``f:``, ``k:{...}``, ``v:``, ``i:``,
  ``.``) to and from sets of paths.

Limits (documented honestly): one API version per kind (no conversion between versions), list items are
identified by ``x-kubernetes-list-map-keys`` (defaulting ``protocol`` to ``TCP`` like the schema default),
lists without a list type are atomic, no ``last-applied-configuration`` migration between client- and
server-side apply, managers beyond 10 Update entries are not collapsed.
"""

from __future__ import annotations

from typing import Any

from tamer_tui.sim.openapi import SchemaLookup


class ApplyError(ValueError):
    """The applied configuration cannot be used; ``code`` is the HTTP status (400/422/500)."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


class ApplyConflict(Exception):
    """Fields owned by other managers would change; ``conflicts`` lists ``(manager, path)``."""

    def __init__(self, conflicts: list[tuple[str, str]]) -> None:
        self.conflicts = conflicts
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The real server's wording."""
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        """The 409 ``metav1.Status`` (reason Conflict, causes of type FieldManagerConflict)."""
        raise NotImplementedError


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    force: bool,
    lookup: SchemaLookup,
    *,
    subresource: str | None = None,
    reset_status: bool = True,
    now: str | None = None,
) -> dict[str, Any]:
    """Apply ``applied`` as ``manager``; returns the new object with managedFields."""
    raise NotImplementedError


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    operation: str,
    lookup: SchemaLookup,
    *,
    subresource: str | None = None,
    now: str | None = None,
) -> dict[str, Any]:
    """``new`` with managedFields updated for a non-apply write by ``manager``."""
    raise NotImplementedError
