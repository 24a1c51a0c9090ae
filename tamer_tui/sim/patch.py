"""Patch application for the simulator: pure functions over JSON-shaped dicts (inputs never mutated).

API:

* ``json_merge_patch(target, patch) -> dict`` - RFC 7386 (``application/merge-patch+json``).
* ``json_patch(target, ops) -> dict`` - RFC 6902 (``application/json-patch+json``): add, remove, replace,
  move, copy, test.  Raises :class:`PatchError` on a failed ``test``, a bad path or a malformed op.
* ``strategic_merge_patch(target, patch, lookup, api_version, kind) -> dict`` -
  ``application/strategic-merge-patch+json`` as the API server implements it: lists merge by
  ``x-kubernetes-patch-merge-key`` when ``x-kubernetes-patch-strategy`` includes ``merge`` (containers by
  name, env by name, ports by containerPort, volumes by name, volumeMounts by mountPath, ...), other lists
  are replaced; directives ``$patch: replace|merge|delete`` (on maps and list items),
  ``$setElementOrder/<field>``, ``$retainKeys``, ``$deleteFromPrimitiveList/<field>``; ``null`` deletes a key.
  Raises :class:`PatchError` on malformed directives.

:class:`PatchError` is a ``ValueError``; the server answers it with 422 (json patch test failure) or 400.
"""

from __future__ import annotations

from typing import Any

from tamer_tui.sim.openapi import SchemaLookup


class PatchError(ValueError):
    """The patch cannot be applied (malformed, failed ``test``, bad path, bad directive)."""


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch; returns a new value (``target`` is not modified)."""
    raise NotImplementedError


def json_patch(target: Any, ops: list[dict[str, Any]]) -> Any:
    """RFC 6902 JSON patch; returns a new value (``target`` is not modified)."""
    raise NotImplementedError


def strategic_merge_patch(
    target: dict[str, Any], patch: dict[str, Any], lookup: SchemaLookup, api_version: str, kind: str
) -> dict[str, Any]:
    """Kubernetes strategic merge patch; returns a new dict (``target`` is not modified)."""
    raise NotImplementedError
