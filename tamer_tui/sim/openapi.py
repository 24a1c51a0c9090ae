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
  (``definitions`` + ``paths``); ``v2_json(...)`` is the cached serialised form.  Note: kubectl asks
  ``/openapi/v2`` for protobuf only; this JSON form is for other clients.
* ``schema_lookup(kube_minor, crds) -> SchemaLookup`` - resolves ``apiVersion``+``kind`` (+ a path inside the
  object) to sub-schemas; used by :mod:`tamer_tui.sim.patch`, :mod:`tamer_tui.sim.apply` and
  :mod:`tamer_tui.sim.validation`.
* helpers on resolved schema nodes: ``schema_type``, ``list_type``, ``list_map_keys``, ``patch_strategies``,
  ``patch_merge_key``, ``map_is_atomic``, ``preserves_unknown``, ``is_int_or_string``, ``is_quantity``.
* ``schema_minor(kube_minor) -> int`` - the schema version actually used (nearest available).
* ``crd_def_name(group, version, kind)`` - the definition name of a custom resource
  (``com.example.stable.v1.CronTab``).

``crds`` is a list of CustomResourceDefinition objects (``apiextensions.k8s.io/v1`` dicts, as stored);
only served versions are published.  ``resources`` is an iterable of objects shaped like
``tamer_tui.sim.store.ResourceType`` (``group, version, kind, plural, namespaced, subresources, verbs``);
it defaults to ``tamer_tui.sim.discovery.BUILTIN_TYPES``.  Results are cached per
(schema minor, CRD hash, resources); the returned dicts are shared - treat them as read-only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

Schema = dict[str, Any]

DEFAULT_MINOR = 31

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
_STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
_DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
_PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

#: A schema node that accepts anything (``x-kubernetes-preserve-unknown-fields``).
ANY: Schema = {"x-kubernetes-preserve-unknown-fields": True}

_ENCODER = msgspec.json.Encoder()
_OBJECT_META_REF: Schema = {"$ref": "#/definitions/" + _OBJECT_META}
_STRING: Schema = {"type": "string"}
_SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")


# --------------------------------------------------------------------------- schema files


def _schema_root() -> Path:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:  # pragma: no cover - it is a declared dependency
        raise RuntimeError("the kubernetes-validate package is not installed")
    return Path(spec.origin).parent / "kubernetes-json-schema"


@lru_cache(maxsize=1)
def available_minors() -> tuple[int, ...]:
    """Kubernetes minors whose schema ships with kubernetes-validate (sorted)."""
    minors = []
    for entry in _schema_root().iterdir():
        m = re.fullmatch(r"v1\.(\d+)\.0-local", entry.name)
        if m and (entry / "_definitions.json").is_file():
            minors.append(int(m.group(1)))
    if not minors:  # pragma: no cover - broken installation
        raise RuntimeError("kubernetes-validate ships no *-local schema directories")
    return tuple(sorted(minors))


def schema_minor(kube_minor: int) -> int:
    """The kubernetes-validate schema minor used for ``kube_minor`` (the nearest available one,
    the older one on a tie)."""
    minors = available_minors()
    return min(minors, key=lambda m: (abs(m - kube_minor), m))


def _single_type(value: Any) -> Any:
    if isinstance(value, list):
        real = [t for t in value if t != "null"]
        return real[0] if real else "null"
    return value


def _canon(node: Any) -> Any:
    """kubernetes-validate's JSON-Schema form -> Swagger-2-like canonical form."""
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref":
            out["$ref"] = "#/definitions/" + str(value).rsplit("/", 1)[-1]
        elif key == "type":
            out["type"] = _single_type(value)
        elif key == "properties":
            props: Schema = {}
            for pname, pnode in value.items():
                pc = _canon(pnode)
                if pname in ("apiVersion", "kind") and isinstance(pc, dict):
                    pc.pop("enum", None)  # added by kubernetes-validate, not in the real documents
                props[pname] = pc
            out["properties"] = props
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _canon(value)
        elif key == "oneOf" and isinstance(value, list):
            types = {_single_type(v.get("type")) for v in value if isinstance(v, dict)}
            out["type"] = "string"
            if "integer" in types:
                out["format"] = "int-or-string"
        else:
            out[key] = value
    return out


@lru_cache(maxsize=4)
def _builtin_defs(minor: int) -> dict[str, Schema]:
    """Canonical definitions of one schema minor (shared, read-only)."""
    path = _schema_root() / f"v1.{minor}.0-local" / "_definitions.json"
    raw = msgspec.json.decode(path.read_bytes())
    defs = raw.get("$defs") or raw.get("definitions") or {}
    return {name: _canon(node) for name, node in defs.items()}


@lru_cache(maxsize=4)
def _builtin_gvk_index(minor: int) -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, node in _builtin_defs(minor).items():
        gvks = node.get("x-kubernetes-group-version-kind") or []
        for gvk in gvks:
            key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
            # DeleteOptions/WatchEvent/Status carry many GVKs; a type's own package wins.
            if key not in index or len(gvks) == 1:
                index[key] = name
    return index


# --------------------------------------------------------------------------- node helpers


def schema_type(node: Schema | None) -> str | None:
    """The node's JSON type (``object``, ``array``, ``string``, ...) or ``None`` when untyped."""
    if not node:
        return None
    t = node.get("type")
    if isinstance(t, list):
        return _single_type(t)
    if t is None and ("properties" in node or "additionalProperties" in node):
        return "object"
    if t is None and "items" in node:
        return "array"
    return t


def patch_strategies(node: Schema | None) -> tuple[str, ...]:
    """``x-kubernetes-patch-strategy`` split on commas (``("merge", "retainKeys")``)."""
    if not node:
        return ()
    raw = node.get("x-kubernetes-patch-strategy") or ""
    return tuple(s.strip() for s in str(raw).split(",") if s.strip())


def patch_merge_key(node: Schema | None) -> str | None:
    """``x-kubernetes-patch-merge-key`` or ``None``."""
    if not node:
        return None
    key = node.get("x-kubernetes-patch-merge-key")
    return str(key) if key else None


def list_type(node: Schema | None) -> str:
    """``atomic``, ``set`` or ``map`` as structured-merge-diff sees the list.

    An explicit ``x-kubernetes-list-type`` wins; otherwise a ``merge`` patch strategy with a merge key
    means ``map``, ``merge`` without a key means ``set``, anything else is ``atomic``.
    """
    if not node:
        return "atomic"
    explicit = node.get("x-kubernetes-list-type")
    if explicit in ("atomic", "set", "map"):
        return str(explicit)
    if "merge" in patch_strategies(node):
        return "map" if patch_merge_key(node) else "set"
    return "atomic"


def list_map_keys(node: Schema | None) -> tuple[str, ...]:
    """The key fields of a ``map`` list (``x-kubernetes-list-map-keys``, else the patch merge key)."""
    if not node:
        return ()
    keys = node.get("x-kubernetes-list-map-keys")
    if keys:
        return tuple(str(k) for k in keys)
    key = patch_merge_key(node)
    return (key,) if key else ()


def map_is_atomic(node: Schema | None) -> bool:
    """True when the object/map is replaced as a whole (``x-kubernetes-map-type: atomic``)."""
    return bool(node) and node.get("x-kubernetes-map-type") == "atomic"  # type: ignore[union-attr]


def preserves_unknown(node: Schema | None) -> bool:
    """True when unknown fields are kept (``x-kubernetes-preserve-unknown-fields``)."""
    return bool(node) and bool(node.get("x-kubernetes-preserve-unknown-fields"))  # type: ignore[union-attr]


def is_int_or_string(node: Schema | None) -> bool:
    """True for IntOrString nodes (built-in ``format: int-or-string`` or CRD ``x-kubernetes-int-or-string``)."""
    if not node:
        return False
    return bool(node.get("x-kubernetes-int-or-string")) or node.get("format") == "int-or-string"


def is_quantity(node: Schema | None) -> bool:
    """True for resource.Quantity nodes (a string that may also arrive as a JSON number)."""
    return bool(node) and node.get("x-tamer-quantity") is True  # type: ignore[union-attr]


def is_any(node: Schema | None) -> bool:
    """True when the node accepts any JSON value (no type, no structure)."""
    if node is None:
        return False
    if preserves_unknown(node) and "properties" not in node:
        return True
    return (
        "type" not in node
        and "properties" not in node
        and "items" not in node
        and "additionalProperties" not in node
        and "$ref" not in node
        and "allOf" not in node
        and "anyOf" not in node
        and "oneOf" not in node
    )


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def crd_def_name(group: str, version: str, kind: str) -> str:
    """Definition name of a custom resource, like the real server: reversed group, version, kind."""
    rev = ".".join(reversed(group.split("."))) if group else "core"
    return f"{rev}.{version}.{kind}"


# --------------------------------------------------------------------------- CRDs


@dataclass(frozen=True)
class _Res:
    """A served resource (shape-compatible with ``store.ResourceType`` for what this module needs)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )
    list_kind: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _as_res(r: Any) -> _Res:
    if isinstance(r, _Res):
        return r
    kind = str(r.kind)
    return _Res(
        group=str(r.group),
        version=str(r.version),
        kind=kind,
        plural=str(r.plural),
        namespaced=bool(r.namespaced),
        subresources=tuple(getattr(r, "subresources", ()) or ()),
        verbs=tuple(getattr(r, "verbs", None) or _Res.verbs),
        list_kind=str(getattr(r, "list_kind", "") or kind + "List"),
    )


def _mark_closed(node: Any) -> Any:
    """Copy of a CRD (structural) schema where objects without declared fields are marked closed:
    unlike built-in free-form objects, their unknown fields are pruned."""
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {k: _mark_closed(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _mark_closed(value)
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [_mark_closed(v) for v in value]
        else:
            out[key] = value
    if (
        out.get("type") == "object"
        and "properties" not in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
        and not out.get("x-kubernetes-embedded-resource")
    ):
        out["x-tamer-closed"] = True
    return out


def _crd_schema(root: Any, group: str, version: str, kind: str) -> Schema:
    """The published schema of one CRD version: its openAPIV3Schema plus apiVersion/kind/metadata."""
    if isinstance(root, dict) and root:
        node: Schema = _mark_closed(root)
    else:
        node = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    node.setdefault("type", "object")
    props = dict(node.get("properties") or {})
    props["apiVersion"] = {
        "description": "APIVersion defines the versioned schema of this representation of an object.",
        "type": "string",
    }
    props["kind"] = {
        "description": "Kind is a string value representing the REST resource this object represents.",
        "type": "string",
    }
    props["metadata"] = {
        "$ref": "#/definitions/" + _OBJECT_META,
        "description": "Standard object's metadata.",
    }
    node["properties"] = props
    node["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
    return node


def _crd_list_schema(group: str, version: str, kind: str, list_kind: str) -> Schema:
    return {
        "description": f"{list_kind} is a list of {kind}",
        "properties": {
            "apiVersion": {"type": "string"},
            "items": {
                "description": f"List of {kind.lower()}s.",
                "items": {"$ref": "#/definitions/" + crd_def_name(group, version, kind)},
                "type": "array",
            },
            "kind": {"type": "string"},
            "metadata": {"$ref": "#/definitions/" + _LIST_META},
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": group, "kind": list_kind, "version": version}],
    }


@dataclass(frozen=True)
class _CrdInfo:
    key: str
    defs: dict[str, Schema]
    gvk: dict[tuple[str, str, str], str]
    resources: tuple[_Res, ...]
    gv_hash: dict[str, str]  # "apis/<group>/<version>" -> hash of that group-version's CRD content


def _crd_key(crds: Sequence[dict[str, Any]]) -> str:
    if not crds:
        return ""
    parts = sorted(
        _ENCODER.encode((c.get("metadata") or {}).get("name", "")) + _ENCODER.encode(c.get("spec") or {})
        for c in crds
    )
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


_CRD_CACHE: OrderedDict[str, _CrdInfo] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _crd_info(crds: Sequence[dict[str, Any]]) -> _CrdInfo:
    key = _crd_key(crds)
    with _CACHE_LOCK:
        hit = _CRD_CACHE.get(key)
        if hit is not None:
            _CRD_CACHE.move_to_end(key)
            return hit
    defs: dict[str, Schema] = {}
    gvk: dict[tuple[str, str, str], str] = {}
    resources: list[_Res] = []
    gv_parts: dict[str, list[bytes]] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        group = str(spec.get("group") or "")
        names = spec.get("names") or {}
        kind = str(names.get("kind") or "")
        plural = str(names.get("plural") or "")
        if not group or not kind or not plural:
            continue
        list_kind = str(names.get("listKind") or kind + "List")
        namespaced = spec.get("scope", "Namespaced") != "Cluster"
        for ver in spec.get("versions") or []:
            if not ver.get("served", True):
                continue
            version = str(ver.get("name") or "")
            if not version:
                continue
            root = ((ver.get("schema") or {}).get("openAPIV3Schema")) or (
                (spec.get("validation") or {}).get("openAPIV3Schema")
            )
            name = crd_def_name(group, version, kind)
            list_name = crd_def_name(group, version, list_kind)
            defs[name] = _crd_schema(root, group, version, kind)
            defs[list_name] = _crd_list_schema(group, version, kind, list_kind)
            gvk[(group, version, kind)] = name
            gvk[(group, version, list_kind)] = list_name
            subs = []
            sub_spec = ver.get("subresources") or spec.get("subresources") or {}
            if "status" in sub_spec:
                subs.append("status")
            if "scale" in sub_spec:
                subs.append("scale")
            resources.append(_Res(group, version, kind, plural, namespaced, tuple(subs), list_kind=list_kind))
            gv_parts.setdefault(f"apis/{group}/{version}", []).append(
                _ENCODER.encode([kind, plural, namespaced, subs, defs[name]])
            )
    gv_hash = {gv: hashlib.sha256(b"\0".join(sorted(p))).hexdigest() for gv, p in gv_parts.items()}
    info = _CrdInfo(key, defs, gvk, tuple(resources), gv_hash)
    with _CACHE_LOCK:
        _CRD_CACHE[key] = info
        while len(_CRD_CACHE) > 16:
            _CRD_CACHE.popitem(last=False)
    return info


# --------------------------------------------------------------------------- SchemaLookup


class SchemaLookup:
    """Answers schema questions for the built-in kinds of one Kubernetes minor plus a set of CRDs.

    Nodes are plain dicts in Swagger-2-like form (``type`` a single string, ``$ref`` to
    ``#/definitions/<name>``, vendor extensions such as ``x-kubernetes-patch-strategy`` kept).
    ``resolve`` follows ``$ref``/``allOf`` and merges the referencing node's vendor extensions in.
    Every returned node is shared: never mutate it.
    """

    def __init__(self, kube_minor: int, crds: Sequence[dict[str, Any]] = ()) -> None:
        self.kube_minor = kube_minor
        self.schema_minor = schema_minor(kube_minor)
        self._builtin = _builtin_defs(self.schema_minor)
        self._crd = _crd_info(crds)
        self._gvk = dict(_builtin_gvk_index(self.schema_minor))
        self._gvk.update(self._crd.gvk)
        self._crd_gvks = frozenset(self._crd.gvk)
        self._resolved: dict[int, Schema] = {}
        self._root_refs: dict[str, Schema] = {}

    @staticmethod
    def _split(api_version: str) -> tuple[str, str]:
        if "/" in api_version:
            group, version = api_version.split("/", 1)
            return group, version
        return "", api_version

    def definition(self, name: str) -> Schema | None:
        """A definition by name (``io.k8s.api.core.v1.Pod``), unresolved."""
        node = self._crd.defs.get(name)
        if node is None:
            node = self._builtin.get(name)
        return node

    def definition_names(self) -> list[str]:
        """Every definition name this lookup knows (built-in and CRD)."""
        return list(self._builtin) + [n for n in self._crd.defs if n not in self._builtin]

    def definition_name(self, api_version: str, kind: str) -> str | None:
        """The definition name (``io.k8s.api.apps.v1.Deployment``) of a kind, or ``None``."""
        group, version = self._split(api_version)
        return self._gvk.get((group, version, kind))

    def has_kind(self, api_version: str, kind: str) -> bool:
        """True when a schema exists for ``apiVersion``/``kind`` (built-in or CRD)."""
        return self.definition_name(api_version, kind) is not None

    def is_crd(self, api_version: str, kind: str) -> bool:
        """True when ``apiVersion``/``kind`` is served by a CustomResourceDefinition."""
        group, version = self._split(api_version)
        return (group, version, kind) in self._crd_gvks

    def root(self, api_version: str, kind: str) -> Schema | None:
        """The resolved schema of a whole object of that kind, or ``None`` when unknown."""
        name = self.definition_name(api_version, kind)
        if name is None:
            return None
        ref = self._root_refs.get(name)
        if ref is None:
            ref = self._root_refs.setdefault(name, {"$ref": "#/definitions/" + name})
        return self.resolve(ref)

    def resolve(self, node: Schema | None) -> Schema | None:
        """Follow ``$ref``/single ``allOf``; the referencing node's ``x-kubernetes-*`` keys win."""
        if node is None:
            return None
        cached = self._resolved.get(id(node))
        if cached is not None and cached.get("x-tamer-src") is node:
            return cached
        current = node
        extensions: Schema = {}
        def_name: str | None = None
        for _ in range(32):  # ref chains are short; guard against cycles
            ref = current.get("$ref")
            if ref is None:
                all_of = current.get("allOf")
                if (
                    isinstance(all_of, list)
                    and len(all_of) == 1
                    and isinstance(all_of[0], dict)
                    and "properties" not in current
                    and "type" not in current
                ):
                    for k, v in current.items():
                        if k.startswith("x-kubernetes-") and k not in extensions:
                            extensions[k] = v
                    current = all_of[0]
                    continue
                break
            for k, v in current.items():
                if k.startswith("x-kubernetes-") and k not in extensions:
                    extensions[k] = v
            def_name = _ref_name(str(ref))
            target = self.definition(def_name)
            if target is None:
                return None
            current = target
        if current is node and not extensions:
            return node
        result = dict(current)
        result.update(extensions)
        if def_name is not None:
            result["x-tamer-def"] = def_name
            if def_name == _QUANTITY:
                result["x-tamer-quantity"] = True
        result["x-tamer-src"] = node
        self._resolved[id(node)] = result
        return result

    def field(self, node: Schema | None, name: str) -> Schema | None:
        """Resolved schema of property ``name`` of an object node (``additionalProperties`` for maps,
        an "anything" node under ``x-kubernetes-preserve-unknown-fields``), ``None`` when not declared."""
        if node is None:
            return None
        props = node.get("properties")
        embedded = bool(node.get("x-kubernetes-embedded-resource"))
        if embedded and name == "metadata":
            return self.resolve(_OBJECT_META_REF)
        if props and name in props:
            return self.resolve(props[name])
        add = node.get("additionalProperties")
        if isinstance(add, dict):
            return self.resolve(add)
        if add is True or preserves_unknown(node):
            return ANY
        if embedded and name in ("apiVersion", "kind"):
            return _STRING
        if node.get("x-tamer-closed"):
            return None
        if not props and add is None and schema_type(node) in (None, "object") and "items" not in node:
            return ANY  # untyped / free-form object (RawExtension, FieldsV1, JSON, ...)
        return None

    def items(self, node: Schema | None) -> Schema | None:
        """Resolved schema of the items of an array node (``ANY`` for free-form nodes)."""
        if node is None:
            return None
        items = node.get("items")
        if isinstance(items, dict):
            return self.resolve(items)
        if is_any(node) or preserves_unknown(node):
            return ANY
        return None

    def at(self, api_version: str, kind: str, path: Sequence[str | int]) -> Schema | None:
        """Resolved sub-schema at ``path`` (strings: property names; ints: list indexes)."""
        node = self.root(api_version, kind)
        for part in path:
            if node is None:
                return None
            node = self.items(node) if isinstance(part, int) else self.field(node, part)
        return node


_LOOKUP_CACHE: OrderedDict[tuple[int, str], SchemaLookup] = OrderedDict()


def schema_lookup(kube_minor: int, crds: Sequence[dict[str, Any]] = ()) -> SchemaLookup:
    """The cached :class:`SchemaLookup` for a minor version and a set of CRDs."""
    key = (schema_minor(kube_minor), _crd_key(crds))
    with _CACHE_LOCK:
        hit = _LOOKUP_CACHE.get(key)
        if hit is not None:
            _LOOKUP_CACHE.move_to_end(key)
            return hit
    lookup = SchemaLookup(kube_minor, crds)
    with _CACHE_LOCK:
        _LOOKUP_CACHE[key] = lookup
        while len(_LOOKUP_CACHE) > 16:
            _LOOKUP_CACHE.popitem(last=False)
    return lookup


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class _Param:
    name: str
    where: str  # "query" | "path"
    type: str
    description: str


def _p(name: str, type_: str, description: str, where: str = "query") -> _Param:
    return _Param(name, where, type_, description)


_P_NAME = "name"
_P_NAMESPACE = _p("namespace", "string", "object name and auth scope, such as for teams and projects", "path")
_P_PRETTY = _p(
    "pretty",
    "string",
    "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a "
    "browser or command-line HTTP tool (curl and wget).",
)
_P_DRY_RUN = _p(
    "dryRun",
    "string",
    "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun "
    "directive will result in an error response and no further processing of the request. Valid values "
    "are: - All: all dry run stages will be processed",
)
_P_FIELD_MANAGER = _p(
    "fieldManager",
    "string",
    "fieldManager is a name associated with the actor or entity that is making these changes. The value "
    "must be less than or 128 characters long, and only contain printable characters, as defined by "
    "https://golang.org/pkg/unicode/#IsPrint.",
)
_P_FIELD_MANAGER_PATCH = _p(
    "fieldManager",
    "string",
    _P_FIELD_MANAGER.description + " This field is required for apply requests (application/apply-patch) "
    "but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).",
)
_P_FIELD_VALIDATION = _p(
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) "
    "containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown "
    "fields that are silently dropped from the object, and will ignore all but the last duplicate field "
    "that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a "
    "warning via the standard warning response header for each unknown field that is dropped from the "
    "object, and for each duplicate field that is encountered. The request will still succeed if there "
    "are no other errors, and will only persist the last of any duplicate fields. This is the default in "
    "v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be "
    "dropped from the object, or if any duplicate fields are present. The error returned from the server "
    "will contain all unknown and duplicate fields encountered.",
)
_P_FORCE = _p(
    "force",
    "boolean",
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by '
    "other people. Force flag must be unset for non-apply patch requests.",
)
_LIST_PARAMS = (
    _p("allowWatchBookmarks", "boolean", 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
    _p(
        "continue",
        "string",
        "The continue option should be set when retrieving more results from the server.",
    ),
    _p(
        "fieldSelector",
        "string",
        "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
    ),
    _p(
        "labelSelector",
        "string",
        "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
    ),
    _p("limit", "integer", "limit is a maximum number of responses to return for a list call."),
    _p(
        "resourceVersion",
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    _p(
        "resourceVersionMatch",
        "string",
        "resourceVersionMatch determines how resourceVersion is applied to list calls.",
    ),
    _p("sendInitialEvents", "boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
    _p("timeoutSeconds", "integer", "Timeout for the list/watch call."),
    _p(
        "watch",
        "boolean",
        "Watch for changes to the described resources and return them as a stream of "
        "add, update, and remove notifications. Specify resourceVersion.",
    ),
)
_DELETE_PARAMS = (
    _P_DRY_RUN,
    _p("gracePeriodSeconds", "integer", "The duration in seconds before the object should be deleted."),
    _p("orphanDependents", "boolean", "Deprecated: please use the PropagationPolicy."),
    _p(
        "propagationPolicy",
        "string",
        "Whether and how garbage collection will be performed. Acceptable "
        "values are: 'Orphan', 'Background', 'Foreground'.",
    ),
)
_LOG_PARAMS = (
    _p("container", "string", "The container for which to stream logs."),
    _p("follow", "boolean", "Follow the log stream of the pod."),
    _p(
        "insecureSkipTLSVerifyBackend",
        "boolean",
        "insecureSkipTLSVerifyBackend indicates that the apiserver "
        "should not confirm the validity of the serving certificate of the backend it is connecting to.",
    ),
    _p(
        "limitBytes",
        "integer",
        "If set, the number of bytes to read from the server before terminating the log output.",
    ),
    _p("previous", "boolean", "Return previous terminated container logs. Defaults to false."),
    _p(
        "sinceSeconds",
        "integer",
        "A relative time in seconds before the current time from which to show logs.",
    ),
    _p("tailLines", "integer", "If set, the number of lines from the end of the logs to show."),
    _p(
        "timestamps",
        "boolean",
        "If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output.",
    ),
)
_STREAM_PARAMS = (
    _p("container", "string", "The container in which to execute the command."),
    _p("stderr", "boolean", "Redirect the standard error stream of the pod for this call."),
    _p("stdin", "boolean", "Redirect the standard input stream of the pod for this call."),
    _p("stdout", "boolean", "Redirect the standard output stream of the pod for this call."),
    _p("tty", "boolean", "TTY if true indicates that a tty will be allocated for the exec call."),
)
_EXEC_PARAMS = (
    _p("command", "string", "Command is the remote command to execute. argv array."),
    *_STREAM_PARAMS,
)
_PORTFORWARD_PARAMS = (_p("ports", "integer", "List of ports to forward."),)

_JSON_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_WATCH_TYPES = ("application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


@dataclass
class _Op:
    """One operation, independent of the OpenAPI version it is rendered into."""

    method: str
    operation_id: str
    description: str
    action: str
    gvk: dict[str, str]
    tag: str
    params: tuple[_Param, ...] = ()
    body: str | None = None  # definition name of the request body
    body_types: tuple[str, ...] = ("*/*",)
    body_required: bool = True
    response: str | None = None  # definition name, None -> string
    codes: tuple[str, ...] = ("200",)
    produces: tuple[str, ...] = _JSON_TYPES


@dataclass
class _PathItem:
    path: str
    params: tuple[_Param, ...]
    ops: list[_Op]


def _group_camel(group: str) -> str:
    if not group:
        return "Core"
    g = group[: -len(".k8s.io")] if group.endswith(".k8s.io") else group
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.\-]", g) if part)


def _tag(group: str, version: str) -> str:
    camel = _group_camel(group)
    return camel[:1].lower() + camel[1:] + "_" + version


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _defs_for(lookup: SchemaLookup, group: str, version: str, kind: str) -> str | None:
    return lookup.definition_name(f"{group}/{version}" if group else version, kind)


_SUB_KINDS: dict[str, tuple[str, str, str | None]] = {
    "scale": ("autoscaling", "v1", "Scale"),
    "eviction": ("policy", "v1", "Eviction"),
    "binding": ("", "v1", "Binding"),
    "token": ("authentication.k8s.io", "v1", "TokenRequest"),
    "status": ("", "", None),
    "ephemeralcontainers": ("", "", None),
    "finalize": ("", "", None),
    "approval": ("", "", None),
    "resize": ("", "", None),
}


def _resource_paths(lookup: SchemaLookup, r: _Res) -> list[_PathItem]:
    """Every path item of one resource (collection, item, subresources)."""
    obj_def = _defs_for(lookup, r.group, r.version, r.kind)
    if obj_def is None:
        return []
    list_def = _defs_for(lookup, r.group, r.version, r.list_kind) or _defs_for(
        lookup, r.group, r.version, r.kind + "List"
    )
    is_crd = lookup.is_crd(r.api_version, r.kind)
    gc = _group_camel(r.group)
    vc = r.version[:1].upper() + r.version[1:]
    pre = gc + vc
    kind = r.kind
    ns_word = "Namespaced" if r.namespaced else ""
    tag = _tag(r.group, r.version)
    gvk = {"group": r.group, "kind": r.kind, "version": r.version}
    base = "/" + _gv_path(r.group, r.version)
    coll = f"{base}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{base}/{r.plural}"
    item = coll + "/{name}"
    p_name = _p(_P_NAME, "string", f"name of the {kind}", "path")
    coll_params: tuple[_Param, ...] = ((_P_NAMESPACE,) if r.namespaced else ()) + (_P_PRETTY,)
    item_params: tuple[_Param, ...] = (p_name,) + coll_params
    verbs = set(r.verbs)
    patch_types = _PATCH_TYPES if not is_crd else tuple(t for t in _PATCH_TYPES if "strategic" not in t)
    items: list[_PathItem] = []

    c_ops: list[_Op] = []
    if "list" in verbs and list_def:
        c_ops.append(
            _Op(
                "get",
                f"list{pre}{ns_word}{kind}",
                f"list or watch objects of kind {kind}",
                "list",
                gvk,
                tag,
                _LIST_PARAMS,
                response=list_def,
                produces=_JSON_TYPES + _WATCH_TYPES,
            )
        )
    if "create" in verbs:
        c_ops.append(
            _Op(
                "post",
                f"create{pre}{ns_word}{kind}",
                f"create a {kind}",
                "post",
                gvk,
                tag,
                (_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION),
                body=obj_def,
                response=obj_def,
                codes=("200", "201", "202"),
            )
        )
    if "deletecollection" in verbs:
        c_ops.append(
            _Op(
                "delete",
                f"delete{pre}Collection{ns_word}{kind}",
                f"delete collection of {kind}",
                "deletecollection",
                gvk,
                tag,
                _LIST_PARAMS[1:8] + _DELETE_PARAMS,
                body=_DELETE_OPTIONS,
                body_required=False,
                response=_STATUS,
            )
        )
    if c_ops:
        items.append(_PathItem(coll, coll_params, c_ops))

    i_ops: list[_Op] = []
    if "get" in verbs:
        i_ops.append(
            _Op(
                "get",
                f"read{pre}{ns_word}{kind}",
                f"read the specified {kind}",
                "get",
                gvk,
                tag,
                response=obj_def,
            )
        )
    if "update" in verbs:
        i_ops.append(
            _Op(
                "put",
                f"replace{pre}{ns_word}{kind}",
                f"replace the specified {kind}",
                "put",
                gvk,
                tag,
                (_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION),
                body=obj_def,
                response=obj_def,
                codes=("200", "201"),
            )
        )
    if "patch" in verbs:
        i_ops.append(
            _Op(
                "patch",
                f"patch{pre}{ns_word}{kind}",
                f"partially update the specified {kind}",
                "patch",
                gvk,
                tag,
                (_P_DRY_RUN, _P_FIELD_MANAGER_PATCH, _P_FIELD_VALIDATION, _P_FORCE),
                body=_PATCH,
                body_types=patch_types,
                response=obj_def,
                codes=("200", "201"),
            )
        )
    if "delete" in verbs:
        i_ops.append(
            _Op(
                "delete",
                f"delete{pre}{ns_word}{kind}",
                f"delete a {kind}",
                "delete",
                gvk,
                tag,
                _DELETE_PARAMS,
                body=_DELETE_OPTIONS,
                body_required=False,
                response=_STATUS,
                codes=("200", "202"),
            )
        )
    if i_ops:
        items.append(_PathItem(item, item_params, i_ops))

    if r.namespaced and "list" in verbs and list_def:
        items.append(
            _PathItem(
                f"{base}/{r.plural}",
                (_P_PRETTY,),
                [
                    _Op(
                        "get",
                        f"list{pre}{kind}ForAllNamespaces",
                        f"list or watch objects of kind {kind}",
                        "list",
                        gvk,
                        tag,
                        _LIST_PARAMS,
                        response=list_def,
                        produces=_JSON_TYPES + _WATCH_TYPES,
                    )
                ],
            )
        )

    for sub in r.subresources:
        sub_cap = sub[:1].upper() + sub[1:]
        sub_path = f"{item}/{sub}"
        if sub in _SUB_KINDS:
            sg, sv, sk = _SUB_KINDS[sub]
            s_def: str | None
            if sk is None:
                s_def, s_gvk = obj_def, gvk
            else:
                s_def = _defs_for(lookup, sg, sv, sk)
                s_gvk = {"group": sg, "kind": sk, "version": sv}
            if s_def is None:
                continue
            s_ops: list[_Op] = []
            if sub in ("eviction", "binding", "token"):
                s_ops.append(
                    _Op(
                        "post",
                        f"create{pre}{ns_word}{kind}{sub_cap}",
                        f"create {sub} of a {kind}",
                        "post",
                        s_gvk,
                        tag,
                        (_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION),
                        body=s_def,
                        response=s_def,
                        codes=("200", "201", "202"),
                    )
                )
            else:
                if sub not in ("finalize", "approval"):
                    s_ops.append(
                        _Op(
                            "get",
                            f"read{pre}{ns_word}{kind}{sub_cap}",
                            f"read {sub} of the specified {kind}",
                            "get",
                            s_gvk,
                            tag,
                            response=s_def,
                        )
                    )
                s_ops.append(
                    _Op(
                        "put",
                        f"replace{pre}{ns_word}{kind}{sub_cap}",
                        f"replace {sub} of the specified {kind}",
                        "put",
                        s_gvk,
                        tag,
                        (_P_DRY_RUN, _P_FIELD_MANAGER, _P_FIELD_VALIDATION),
                        body=s_def,
                        response=s_def,
                        codes=("200", "201"),
                    )
                )
                if sub not in ("finalize", "approval"):
                    s_ops.append(
                        _Op(
                            "patch",
                            f"patch{pre}{ns_word}{kind}{sub_cap}",
                            f"partially update {sub} of the specified {kind}",
                            "patch",
                            s_gvk,
                            tag,
                            (_P_DRY_RUN, _P_FIELD_MANAGER_PATCH, _P_FIELD_VALIDATION, _P_FORCE),
                            body=_PATCH,
                            body_types=patch_types,
                            response=s_def,
                            codes=("200", "201"),
                        )
                    )
            items.append(_PathItem(sub_path, (p_name,) + coll_params, s_ops))
        elif sub == "log":
            items.append(
                _PathItem(
                    sub_path,
                    (p_name,) + coll_params,
                    [
                        _Op(
                            "get",
                            f"read{pre}{ns_word}{kind}Log",
                            f"read log of the specified {kind}",
                            "get",
                            gvk,
                            tag,
                            _LOG_PARAMS,
                            response=None,
                            produces=("text/plain", "application/json", "application/yaml"),
                        )
                    ],
                )
            )
        elif sub in ("exec", "attach", "portforward"):
            opt_kind = {
                "exec": "PodExecOptions",
                "attach": "PodAttachOptions",
                "portforward": "PodPortForwardOptions",
            }[sub]
            params = {"exec": _EXEC_PARAMS, "attach": _STREAM_PARAMS, "portforward": _PORTFORWARD_PARAMS}[sub]
            s_gvk = {"group": "", "kind": opt_kind, "version": "v1"}
            ops = [
                _Op(
                    m,
                    f"connect{pre}{m.capitalize()}{ns_word}{kind}{sub_cap}",
                    f"connect {m.upper()} requests to {sub} of {kind}",
                    "connect",
                    s_gvk,
                    tag,
                    params,
                    response=None,
                    produces=("*/*",),
                )
                for m in ("get", "post")
            ]
            items.append(_PathItem(sub_path, (p_name,) + coll_params, ops))
    return items


# --------------------------------------------------------------------------- rendering


def _strip_internal(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_internal(v) for k, v in node.items() if not k.startswith("x-tamer-")}
    if isinstance(node, list):
        return [_strip_internal(v) for v in node]
    return node


def _to_v3(node: Any) -> Any:
    """Canonical schema node -> OpenAPI 3 node (refs under ``allOf`` like the real documents)."""
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    ref = node.get("$ref")
    if ref is not None:
        out["allOf"] = [{"$ref": "#/components/schemas/" + _ref_name(str(ref))}]
    for key, value in node.items():
        if key == "$ref" or key.startswith("x-tamer-"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {pk: _to_v3(pv) for pk, pv in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _to_v3(value)
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [_to_v3(v) for v in value]
        else:
            out[key] = value
    return out


def _refs(node: Any, acc: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                acc.add(_ref_name(value))
            elif key in ("properties", "patternProperties", "definitions"):
                if isinstance(value, dict):
                    for v in value.values():
                        _refs(v, acc)
            elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
                _refs(value, acc)
    elif isinstance(node, list):
        for v in node:
            _refs(v, acc)


def _closure(lookup: SchemaLookup, roots: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    stack = [r for r in roots if r]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        node = lookup.definition(name)
        if node is None:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs(node, found)
        stack.extend(found - seen)
    return sorted(seen)


def _op_defs(items: Iterable[_PathItem]) -> set[str]:
    names: set[str] = set()
    for it in items:
        for op in it.ops:
            if op.body:
                names.add(op.body)
            if op.response:
                names.add(op.response)
    return names


def _param_v3(p: _Param) -> Schema:
    out: Schema = {"description": p.description, "in": p.where, "name": p.name}
    if p.where == "path":
        out["required"] = True
    out["schema"] = {"type": p.type, "uniqueItems": True}
    return out


def _param_v2(p: _Param) -> Schema:
    out: Schema = {
        "description": p.description,
        "in": p.where,
        "name": p.name,
        "type": p.type,
        "uniqueItems": True,
    }
    if p.where == "path":
        out["required"] = True
    return out


_CODE_TEXT = {"200": "OK", "201": "Created", "202": "Accepted"}


def _op_v3(op: _Op) -> Schema:
    out: Schema = {"description": op.description, "operationId": op.operation_id}
    if op.params:
        out["parameters"] = [_param_v3(p) for p in op.params]
    if op.body:
        body: Schema = {
            "content": {t: {"schema": {"$ref": "#/components/schemas/" + op.body}} for t in op.body_types}
        }
        if op.body_required:
            body["required"] = True
        out["requestBody"] = body
    responses: Schema = {}
    for code in op.codes:
        if op.response:
            schema: Schema = {"$ref": "#/components/schemas/" + op.response}
        else:
            schema = {"type": "string"}
        responses[code] = {
            "content": {t: {"schema": schema} for t in op.produces},
            "description": _CODE_TEXT[code],
        }
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    out["tags"] = [op.tag]
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = dict(op.gvk)
    return out


def _op_v2(op: _Op) -> Schema:
    out: Schema = {
        "consumes": list(op.body_types) if op.body else ["*/*"],
        "description": op.description,
        "operationId": op.operation_id,
    }
    params = [_param_v2(p) for p in op.params]
    if op.body:
        params.insert(
            0,
            {
                "in": "body",
                "name": "body",
                "required": op.body_required,
                "schema": {"$ref": "#/definitions/" + op.body},
            },
        )
    if params:
        out["parameters"] = params
    out["produces"] = list(op.produces)
    responses: Schema = {}
    for code in op.codes:
        schema: Schema = {"$ref": "#/definitions/" + op.response} if op.response else {"type": "string"}
        responses[code] = {"description": _CODE_TEXT[code], "schema": schema}
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    out["schemes"] = ["https"]
    out["tags"] = [op.tag]
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = dict(op.gvk)
    return out


# --------------------------------------------------------------------------- built documents cache


def _resources_key(resources: Iterable[Any] | None) -> tuple[tuple[Any, ...], tuple[_Res, ...]]:
    if resources is None:
        from tamer_tui.sim.discovery import BUILTIN_TYPES  # lazy: sim-server's registry

        resources = BUILTIN_TYPES
    res = tuple(_as_res(r) for r in resources)
    return tuple(
        (r.group, r.version, r.kind, r.plural, r.namespaced, r.subresources, r.verbs) for r in res
    ), res


class _Built:
    """Everything built for one (schema minor, CRD set, resource set)."""

    def __init__(
        self, lookup: SchemaLookup, resources: tuple[_Res, ...], crd: _CrdInfo, res_sig: str
    ) -> None:
        self.lookup = lookup
        self.crd = crd
        self.by_gv: dict[str, list[_Res]] = {}
        seen: set[tuple[str, str, str]] = set()
        for r in (*resources, *crd.resources):
            key = (r.group, r.version, r.plural)
            if key in seen or not lookup.has_kind(r.api_version, r.kind):
                continue
            seen.add(key)
            self.by_gv.setdefault(_gv_path(r.group, r.version), []).append(r)
        self.res_sig = res_sig
        self.docs: dict[str, Schema] = {}
        self.doc_json: dict[str, bytes] = {}
        self.hashes: dict[str, str] = {}
        self.v2: Schema | None = None
        self.v2_json: bytes | None = None
        self.lock = threading.Lock()

    def hash_for(self, gv: str) -> str:
        h = self.hashes.get(gv)
        if h is None:
            rs = self.by_gv.get(gv, [])
            sig = _ENCODER.encode(
                [
                    self.lookup.schema_minor,
                    gv,
                    self.crd.gv_hash.get(gv, ""),
                    [(r.kind, r.plural, r.namespaced, r.subresources, r.verbs) for r in rs],
                ]
            )
            h = hashlib.sha512(sig).hexdigest().upper()
            self.hashes[gv] = h
        return h

    def path_items(self, gv: str) -> list[_PathItem]:
        items: list[_PathItem] = []
        for r in self.by_gv.get(gv, []):
            items.extend(_resource_paths(self.lookup, r))
        return items

    def v3_doc(self, gv: str) -> Schema | None:
        doc = self.docs.get(gv)
        if doc is not None:
            return doc
        if gv not in self.by_gv:
            return None
        with self.lock:
            doc = self.docs.get(gv)
            if doc is not None:
                return doc
            items = self.path_items(gv)
            names = _closure(self.lookup, _op_defs(items) | {_STATUS, _DELETE_OPTIONS, _PATCH})
            schemas = {n: _v3_def(self.lookup, n) for n in names}
            paths: Schema = {}
            group_version = gv.split("/", 1)[1]
            prefix = "/" + gv + "/"
            paths[prefix] = {
                "get": {
                    "description": "get available resources",
                    "operationId": "get"
                    + _group_camel(group_version.rsplit("/", 1)[0] if "/" in group_version else "")
                    + "APIResources",
                    "responses": {
                        "200": {
                            "content": {
                                t: {
                                    "schema": {
                                        "$ref": "#/components/schemas/"
                                        "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"
                                    }
                                }
                                for t in _JSON_TYPES
                            },
                            "description": "OK",
                        },
                        "401": {"description": "Unauthorized"},
                    },
                    "tags": [_tag(*_split_gv(gv))],
                }
            }
            for it in items:
                entry: Schema = {op.method: _op_v3(op) for op in it.ops}
                entry["parameters"] = [_param_v3(p) for p in it.params]
                paths[it.path] = dict(sorted(entry.items()))
            resource_list = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"
            if resource_list not in schemas:
                extra = _closure(self.lookup, [resource_list])
                for n in extra:
                    schemas.setdefault(n, _v3_def(self.lookup, n))
                schemas = dict(sorted(schemas.items()))
            doc = {
                "components": {
                    "schemas": schemas,
                    "securitySchemes": {
                        "BearerToken": {
                            "description": "Bearer Token authentication",
                            "in": "header",
                            "name": "authorization",
                            "type": "apiKey",
                        }
                    },
                },
                "info": {"title": "Kubernetes", "version": f"v1.{self.lookup.kube_minor}.0"},
                "openapi": "3.0.0",
                "paths": paths,
                "security": [{"BearerToken": []}],
            }
            self.docs[gv] = doc
            return doc

    def v3_json(self, gv: str) -> bytes | None:
        data = self.doc_json.get(gv)
        if data is None:
            doc = self.v3_doc(gv)
            if doc is None:
                return None
            data = _ENCODER.encode(doc)
            self.doc_json[gv] = data
        return data

    def build_v2(self) -> Schema:
        if self.v2 is not None:
            return self.v2
        with self.lock:
            if self.v2 is not None:
                return self.v2
            paths: Schema = {}
            for gv in sorted(self.by_gv):
                for it in self.path_items(gv):
                    entry: Schema = {op.method: _op_v2(op) for op in it.ops}
                    entry["parameters"] = [_param_v2(p) for p in it.params]
                    paths[it.path] = dict(sorted(entry.items()))
            definitions = {n: _v2_def(self.lookup, n) for n in sorted(self.lookup.definition_names())}
            self.v2 = {
                "definitions": definitions,
                "info": {"title": "Kubernetes", "version": f"v1.{self.lookup.kube_minor}.0"},
                "paths": paths,
                "security": [{"BearerToken": []}],
                "securityDefinitions": {
                    "BearerToken": {
                        "description": "Bearer Token authentication",
                        "in": "header",
                        "name": "authorization",
                        "type": "apiKey",
                    }
                },
                "swagger": "2.0",
            }
            return self.v2


def _split_gv(gv: str) -> tuple[str, str]:
    parts = gv.split("/")
    if parts[0] == "api":
        return "", parts[1]
    return parts[1], parts[2]


_V3_DEF_CACHE: dict[tuple[int, str], Schema] = {}
_V2_DEF_CACHE: dict[tuple[int, str], Schema] = {}


def _v3_def(lookup: SchemaLookup, name: str) -> Schema:
    node = lookup.definition(name) or {}
    if name in lookup._crd.defs:
        return _to_v3(node)  # type: ignore[no-any-return]
    key = (lookup.schema_minor, name)
    hit = _V3_DEF_CACHE.get(key)
    if hit is None:
        hit = _to_v3(node)
        _V3_DEF_CACHE[key] = hit  # type: ignore[assignment]
    return hit  # type: ignore[return-value]


def _v2_def(lookup: SchemaLookup, name: str) -> Schema:
    node = lookup.definition(name) or {}
    if name in lookup._crd.defs:
        return _strip_internal(node)  # type: ignore[no-any-return]
    key = (lookup.schema_minor, name)
    hit = _V2_DEF_CACHE.get(key)
    if hit is None:
        hit = _strip_internal(node)
        _V2_DEF_CACHE[key] = hit  # type: ignore[assignment]
    return hit  # type: ignore[return-value]


_BUILT: OrderedDict[tuple[int, str, str], _Built] = OrderedDict()


def _built(kube_minor: int, crds: Sequence[dict[str, Any]], resources: Iterable[Any] | None) -> _Built:
    sig_tuple, res = _resources_key(resources)
    res_sig = hashlib.sha256(_ENCODER.encode(sig_tuple)).hexdigest()
    lookup = schema_lookup(kube_minor, crds)
    key = (lookup.schema_minor, lookup._crd.key, res_sig)
    with _CACHE_LOCK:
        hit = _BUILT.get(key)
        if hit is not None:
            _BUILT.move_to_end(key)
            return hit
    built = _Built(lookup, res, lookup._crd, res_sig)
    with _CACHE_LOCK:
        _BUILT[key] = built
        while len(_BUILT) > 8:
            _BUILT.popitem(last=False)
    return built


def _normalize_gv_path(path: str) -> str:
    p = path.split("?", 1)[0].strip("/")
    if p.startswith("openapi/v3/"):
        p = p[len("openapi/v3/") :]
    return p.strip("/")


# --------------------------------------------------------------------------- public builders


def build_v3_index(
    kube_minor: int, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> dict[str, Any]:
    """Body of ``GET /openapi/v3``: one entry per served group-version with a stable hash URL."""
    built = _built(kube_minor, crds, resources)
    return {
        "paths": {
            gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={built.hash_for(gv)}"}
            for gv in sorted(built.by_gv, key=lambda g: (not g.startswith("api/"), g))
        }
    }


def build_v3_document(
    kube_minor: int, path: str, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> dict[str, Any] | None:
    """OpenAPI 3.0 document of one group-version, ``None`` when the group-version is not served."""
    return _built(kube_minor, crds, resources).v3_doc(_normalize_gv_path(path))


def v3_document_json(
    kube_minor: int, path: str, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> bytes | None:
    """:func:`build_v3_document` serialised to JSON bytes (cached)."""
    return _built(kube_minor, crds, resources).v3_json(_normalize_gv_path(path))


def v3_hash(
    kube_minor: int, path: str, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> str:
    """The ``hash`` query value the index publishes for ``path`` (stable across calls)."""
    return _built(kube_minor, crds, resources).hash_for(_normalize_gv_path(path))


def build_v2(
    kube_minor: int, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> dict[str, Any]:
    """Swagger 2.0 document of every served resource (all definitions of the schema version + CRDs)."""
    return _built(kube_minor, crds, resources).build_v2()


def v2_json(
    kube_minor: int, crds: Sequence[dict[str, Any]] = (), *, resources: Iterable[Any] | None = None
) -> bytes:
    """:func:`build_v2` serialised to JSON bytes (cached)."""
    built = _built(kube_minor, crds, resources)
    if built.v2_json is None:
        built.v2_json = _ENCODER.encode(built.build_v2())
    return built.v2_json
