"""OpenAPI documents and schema lookups for the simulator (pure functions, cached; no I/O but reading
the schema files shipped in the installed ``kubernetes_validate`` package).

API (sim-server codes against this):

* ``build_v3_index(kube_minor, crds, *, resources=None) -> dict`` - body of ``GET /openapi/v3``:
  ``{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<HASH>"}, "apis/apps/v1": ...}}``,
  one entry per group-version that has at least one resource (built-in or CRD).
* ``build_v3_document(kube_minor, path, crds, *, resources=None) -> dict | None`` - the OpenAPI 3.0 document
  for ``path`` (``"api/v1"``, ``"apis/apps/v1"``, ``"apis/stable.example.com/v1"``; a leading ``/`` or
  ``openapi/v3/`` prefix and a ``?hash=`` suffix are tolerated), ``None`` for an unknown group-version.
  ``components.schemas`` holds every definition reachable from the group-version's resources with refs
  rewritten to ``#/components/schemas/...``; ``paths`` has GET/POST/PUT/PATCH/DELETE operations carrying
  ``x-kubernetes-group-version-kind`` and ``x-kubernetes-action`` and the ``dryRun``, ``fieldManager``,
  ``fieldValidation`` (and ``force`` on PATCH) query parameters.
* ``v3_document_json(kube_minor, path, crds, *, resources=None) -> bytes | None`` - the same document
  serialised (cached; use this to answer requests quickly).
* ``v3_hash(kube_minor, path, crds, *, resources=None) -> str`` - the hash used in the index URL
  (128 upper-case hex digits like the real server); answer a stale ``?hash=`` with a redirect if you like.
* ``build_v2(kube_minor, crds, *, resources=None) -> dict`` - a Swagger 2.0 JSON document
  (``definitions`` + ``paths``).  Note: kubectl asks ``/openapi/v2`` for protobuf only; this JSON form is
  for other clients.
* ``schema_lookup(kube_minor, crds) -> SchemaLookup`` - resolves ``apiVersion``+``kind`` (+ a path inside the
  object) to sub-schemas; used by :mod:`tamer_tui.sim.patch`, :mod:`tamer_tui.sim.apply` and
  :mod:`tamer_tui.sim.validation`.
* helpers on resolved schema nodes: ``schema_type``, ``list_type``, ``list_map_keys``, ``patch_strategies``,
  ``patch_merge_key``, ``map_is_atomic``, ``preserves_unknown``, ``is_int_or_string``.
* ``schema_minor(kube_minor) -> int`` - the schema version actually used (nearest available).

``crds`` is a list of CustomResourceDefinition objects (``apiextensions.k8s.io/v1`` dicts, as stored);
only served versions are published.  ``resources`` is an iterable of objects shaped like
``tamer_tui.sim.store.ResourceType`` (``group, version, kind, plural, namespaced, subresources, verbs``);
it defaults to ``tamer_tui.sim.discovery.BUILTIN_TYPES``.  Results are cached per
(schema minor, CRD hash, resources); the returned dicts are shared - treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Schema = dict[str, Any]


def schema_minor(kube_minor: int) -> int:
    """The kubernetes-validate schema minor used for ``kube_minor`` (the nearest available one)."""
    raise NotImplementedError


class SchemaLookup:
    """Answers schema questions for the built-in kinds of one Kubernetes minor plus a set of CRDs.

    Nodes are plain dicts in Swagger-2-like form (``type`` a single string, ``$ref`` to
    ``#/definitions/<name>``, vendor extensions such as ``x-kubernetes-patch-strategy`` kept).
    ``resolve`` follows ``$ref``/``allOf`` and merges the referencing node's vendor extensions in.
    """

    kube_minor: int
    schema_minor: int

    def has_kind(self, api_version: str, kind: str) -> bool:
        """True when a schema exists for ``apiVersion``/``kind`` (built-in or CRD)."""
        raise NotImplementedError

    def is_crd(self, api_version: str, kind: str) -> bool:
        """True when ``apiVersion``/``kind`` is served by a CustomResourceDefinition."""
        raise NotImplementedError

    def definition_name(self, api_version: str, kind: str) -> str | None:
        """The definition name (``io.k8s.api.apps.v1.Deployment``) of a kind, or ``None``."""
        raise NotImplementedError

    def root(self, api_version: str, kind: str) -> Schema | None:
        """The resolved schema of a whole object of that kind, or ``None`` when unknown."""
        raise NotImplementedError

    def resolve(self, node: Schema | None) -> Schema | None:
        """Follow ``$ref``/single ``allOf``; the referencing node's ``x-kubernetes-*`` keys win."""
        raise NotImplementedError

    def field(self, node: Schema | None, name: str) -> Schema | None:
        """Resolved schema of property ``name`` of an object node (``additionalProperties`` for maps,
        an "anything" node under ``x-kubernetes-preserve-unknown-fields``), ``None`` when not declared."""
        raise NotImplementedError

    def items(self, node: Schema | None) -> Schema | None:
        """Resolved schema of the items of an array node."""
        raise NotImplementedError

    def at(self, api_version: str, kind: str, path: Sequence[str | int]) -> Schema | None:
        """Resolved sub-schema at ``path`` (strings: property names; ints: list indexes)."""
        raise NotImplementedError


def schema_lookup(kube_minor: int, crds: Sequence[dict[str, Any]] = ()) -> SchemaLookup:
    """The cached :class:`SchemaLookup` for a minor version and a set of CRDs."""
    raise NotImplementedError


def build_v3_index(
    kube_minor: int, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> dict[str, Any]:
    """Body of ``GET /openapi/v3``."""
    raise NotImplementedError


def build_v3_document(
    kube_minor: int, path: str, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> dict[str, Any] | None:
    """OpenAPI 3.0 document of one group-version, ``None`` when the group-version is not served."""
    raise NotImplementedError


def v3_document_json(
    kube_minor: int, path: str, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> bytes | None:
    """:func:`build_v3_document` serialised to JSON bytes (cached)."""
    raise NotImplementedError


def v3_hash(
    kube_minor: int, path: str, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> str:
    """The ``hash`` query value the index publishes for ``path`` (stable across calls)."""
    raise NotImplementedError


def build_v2(
    kube_minor: int, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> dict[str, Any]:
    """Swagger 2.0 document of every served resource."""
    raise NotImplementedError
