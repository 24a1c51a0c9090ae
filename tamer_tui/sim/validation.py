"""Schema validation of incoming objects for ``fieldValidation=Strict|Warn|Ignore`` (pure functions).

API:

* ``validate(obj, lookup) -> list[FieldError]`` - unknown fields (``kind="unknown"``), JSON type mismatches
  (``kind="type"``) and missing required fields (``kind="required"``) of ``obj`` against the schema of its
  ``apiVersion``/``kind`` (built-in or CRD).  ``metadata`` is checked against ObjectMeta; ``apiVersion`` and
  ``kind`` are always accepted; ``x-kubernetes-preserve-unknown-fields``/``additionalProperties`` respected.
  Unknown kinds give ``[]``.
* ``duplicate_fields(raw) -> list[FieldError]`` - duplicate keys in a raw JSON request body (``kind="duplicate"``).
* ``FieldError.message`` is worded like the real server: ``unknown field "spec.foo"``,
  ``duplicate field "spec.replicas"``, ``json: cannot unmarshal string into Go struct field
  DeploymentSpec.spec.replicas of type int32`` (built-ins) / ``spec.replicas in body must be of type
  integer: "string"`` (CRDs), ``spec.selector: Required value``.  ``FieldError.path`` is ``.spec.foo`` style;
  ``FieldError.smd_message`` is the server-side-apply wording ``.spec.foo: field not declared in schema``.
* ``strict_error_message(api_version, kind, errors) -> str`` - the full BadRequest message for Strict mode:
  ``Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field
  "spec.foo", unknown field "spec.bar"`` (type errors produce the ``json: cannot unmarshal`` form).
* ``warning_messages(errors) -> list[str]`` - the ``Warning:`` header texts for Warn mode.

How the server should use it: ``Ignore`` -> do nothing (but type errors still fail with 400, as on a real
server); ``Warn`` -> add one ``Warning: 299 - "<msg>"`` header per unknown/duplicate field; ``Strict`` -> 400
BadRequest with :func:`strict_error_message` if any unknown/duplicate field.  Unknown fields are dropped
from the stored object with :func:`prune_unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tamer_tui.sim.openapi import SchemaLookup


@dataclass(frozen=True)
class FieldError:
    """One problem found in an object."""

    path: str  # ".spec.foo", ".spec.template.spec.containers[0].foo"
    kind: str  # "unknown" | "type" | "required" | "duplicate"
    message: str

    @property
    def smd_message(self) -> str:
        """The server-side apply wording (``.spec.foo: field not declared in schema``)."""
        raise NotImplementedError


def validate(obj: dict[str, Any], lookup: SchemaLookup) -> list[FieldError]:
    """Every unknown field, type mismatch and missing required field of ``obj``."""
    raise NotImplementedError


def duplicate_fields(raw: bytes | str) -> list[FieldError]:
    """Duplicate keys in a raw JSON body (the decoder would keep the last one)."""
    raise NotImplementedError


def prune_unknown(obj: dict[str, Any], lookup: SchemaLookup) -> dict[str, Any]:
    """A copy of ``obj`` without the fields its schema does not declare (what the decoder drops)."""
    raise NotImplementedError


def strict_error_message(api_version: str, kind: str, errors: list[FieldError]) -> str:
    """The BadRequest message of a Strict-mode rejection."""
    raise NotImplementedError


def warning_messages(errors: list[FieldError]) -> list[str]:
    """Warning texts for Warn mode (one per unknown/duplicate field)."""
    raise NotImplementedError
