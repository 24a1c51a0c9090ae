"""Server-side apply and managedFields tracking (pure functions over JSON-shaped dicts).

API:

* ``server_side_apply(live, applied, manager, force, lookup, *, subresource=None, reset_status=True,
  now=None) -> dict`` - merge the applied configuration into ``live`` (``None`` to create) the way
  structured-merge-diff does and return the new object (a new dict) with ``metadata.managedFields``
  updated: the manager's ``Apply`` entry owns exactly the fields of ``applied``; fields it owned before
  but no longer applies are removed when no other manager owns them; fields owned by another manager
  whose value would change raise :class:`ApplyConflict` unless ``force`` (then ownership moves).
  Server-managed metadata (uid, resourceVersion, creationTimestamp, ...) is kept from ``live``.
  With ``reset_status`` (types with a status subresource) ``status`` in the configuration is ignored on
  the main resource; with ``subresource="status"`` only ``status`` is applied.  A live object without
  managedFields first gets a ``before-first-apply`` manager owning everything (like the real server);
  the ``kubectl`` manager may take over fields of ``kubectl.kubernetes.io/last-applied-configuration``
  without conflict, and its applies keep that annotation in sync (client-side -> server-side apply
  upgrade, as kube-apiserver does).
* ``record_update(old, new, manager, operation, lookup, *, subresource=None, reset_status=False,
  now=None) -> dict`` - returns ``new`` (copied) with managedFields updated for an ordinary
  create/update/patch (``operation`` ``"Update"``; ``"Create"`` is recorded as ``Update`` like the real
  server): the manager gains the fields it added or changed (taking them from other managers), every
  manager loses the fields that were removed.  As on a real server, managedFields sent in ``new`` replace
  the live ones (``[{}]`` resets them), and objects without managedFields are not tracked on update.
* ``ApplyConflict`` (``.conflicts: list[tuple[manager_description, field_path]]``, ``.message`` like
  ``Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas``,
  ``.status()`` -> the 409 ``metav1.Status`` with ``FieldManagerConflict`` causes).
* ``ApplyError`` (``ValueError``) - the applied configuration is unusable (``.code``: 400 for a missing
  kind/apiVersion or managedFields set in the patch; 500 - like the real server, whose typed conversion
  errors are not Status errors - for ``failed to create typed patch object (default/web; apps/v1,
  Kind=Deployment): .spec.foo: field not declared in schema``, ``...: .spec.replicas: expected numeric
  (int or float), got string`` and ``...: .spec.template.spec.containers[name="c"].env: duplicate
  entries for key [name="K"]``); ``.status()`` gives the ``metav1.Status`` (no reason for 500, as the
  real server answers).
* ``fields_v1_to_paths`` / ``paths_to_fields_v1`` / ``path_string`` - the FieldsV1 encoding (``f:``,
  ``k:{...}``, ``v:``, ``i:``, ``.``) to and from sets of paths, and a path's conflict-message form
  (``.spec.template.spec.containers[name="nginx"].image``).
* ``managers(obj) -> list[str]`` - names of the managers recorded on an object.

Limits (honest): one API version per kind (no conversion between versions), list items of ``map``
lists are identified by ``x-kubernetes-list-map-keys`` (a missing ``protocol`` key defaults to ``TCP``
like the schema default; other missing keys are simply left out of the key), lists without a list
type and without a ``merge`` patch strategy are atomic, the 10-Update-manager cap
(``ancient-changes``) is not applied, and an empty granular map in an applied configuration owns
nothing (like structured-merge-diff).  Pruning of fields dropped from a configuration keeps a field
when another manager owns it or anything below it (slightly more conservative than the real server).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from tamer_tui.sim.openapi import (
    Schema,
    SchemaLookup,
    is_any,
    is_int_or_string,
    is_quantity,
    list_map_keys,
    list_type,
    map_is_atomic,
    schema_type,
)
from tamer_tui.sim.patch import json_equal

PathElement = tuple[str, Any]  # ("f", name) | ("k", ((key, json), ...)) | ("v", json) | ("i", index)
Path = tuple[PathElement, ...]
FieldSet = set[Path]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_MISSING: Any = object()
_KEY_DEFAULTS = {"protocol": "TCP"}
_STRIP: frozenset[Path] = frozenset(
    {
        (("f", "apiVersion"),),
        (("f", "kind"),),
        (("f", "metadata"),),
        (("f", "metadata"), ("f", "name")),
        (("f", "metadata"), ("f", "namespace")),
        (("f", "metadata"), ("f", "creationTimestamp")),
        (("f", "metadata"), ("f", "selfLink")),
        (("f", "metadata"), ("f", "uid")),
        (("f", "metadata"), ("f", "clusterName")),
        (("f", "metadata"), ("f", "generation")),
        (("f", "metadata"), ("f", "managedFields")),
        (("f", "metadata"), ("f", "resourceVersion")),
    }
)


# --------------------------------------------------------------------------- errors


def _status(message: str, reason: str, code: int, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
    }
    if reason:
        out["reason"] = reason
    if details is not None:
        out["details"] = details
    out["code"] = code
    return out


class ApplyError(ValueError):
    """The applied configuration cannot be used; ``code`` is the HTTP status (400/422/500)."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code

    def status(self) -> dict[str, Any]:
        """The ``metav1.Status`` the real server answers with."""
        reason = {400: "BadRequest", 422: "Invalid", 409: "Conflict"}.get(self.code, "")
        return _status(str(self), reason, self.code)


class ApplyConflict(Exception):
    """Fields owned by other managers would change; ``conflicts`` lists ``(manager, path)``
    where ``manager`` is the printed manager (``"kubectl-client-side-apply" using apps/v1``)."""

    def __init__(self, conflicts: list[tuple[str, str]]) -> None:
        self.conflicts = conflicts
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The real server's wording."""
        if len(self.conflicts) == 1:
            manager, path = self.conflicts[0]
            return f"Apply failed with 1 conflict: conflict with {manager}: {path}"
        by_manager: dict[str, list[str]] = {}
        for manager, path in self.conflicts:
            by_manager.setdefault(manager, []).append(path)
        lines: list[str] = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {p}" for p in by_manager[manager])
        return f"Apply failed with {len(self.conflicts)} conflicts: " + "\n".join(lines)

    def status(self) -> dict[str, Any]:
        """The 409 ``metav1.Status`` (reason Conflict, causes of type FieldManagerConflict)."""
        causes = [
            {"type": "FieldManagerConflict", "message": f"conflict with {m}", "field": p}
            for m, p in self.conflicts
        ]
        return _status(self.message, "Conflict", 409, {"causes": causes})


# --------------------------------------------------------------------------- paths and FieldsV1


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _elem_key(elem: PathElement) -> tuple[int, Any]:
    kind, val = elem
    rank = {"f": 0, "k": 1, "v": 2, "i": 3}[kind]
    if kind == "i":
        return rank, (int(val), "")
    if kind == "k":
        return rank, (0, _compact(dict((k, json.loads(v)) for k, v in val)))
    return rank, (0, str(val))


def _elem_fields_v1(elem: PathElement) -> str:
    kind, val = elem
    if kind == "f":
        return "f:" + str(val)
    if kind == "k":
        return "k:" + _compact({k: json.loads(v) for k, v in val})
    if kind == "v":
        return "v:" + str(val)
    return f"i:{val}"


def _parse_fields_v1_key(key: str) -> PathElement | None:
    if key.startswith("f:"):
        return ("f", key[2:])
    if key.startswith("k:"):
        try:
            keys = json.loads(key[2:])
        except ValueError:
            return None
        if not isinstance(keys, dict):
            return None
        return ("k", tuple(sorted((str(k), _compact(v)) for k, v in keys.items())))
    if key.startswith("v:"):
        try:
            return ("v", _compact(json.loads(key[2:])))
        except ValueError:
            return None
    if key.startswith("i:"):
        try:
            return ("i", int(key[2:]))
        except ValueError:
            return None
    return None


def fields_v1_to_paths(fields: dict[str, Any] | None) -> FieldSet:
    """Decode a FieldsV1 object into the set of paths it marks as owned."""
    out: FieldSet = set()

    def walk(node: Any, prefix: Path) -> None:
        if not isinstance(node, dict):
            return
        for key, child in node.items():
            if key == ".":
                if prefix:
                    out.add(prefix)
                continue
            elem = _parse_fields_v1_key(key)
            if elem is None:
                continue
            path = (*prefix, elem)
            if not child:
                out.add(path)
            else:
                walk(child, path)

    walk(fields or {}, ())
    return out


def paths_to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """Encode a set of paths as FieldsV1 (``.`` marks a node that is owned and has owned children)."""
    tree: dict[PathElement, list[Any]] = {}
    for path in paths:
        node = tree
        for i, elem in enumerate(path):
            entry = node.get(elem)
            if entry is None:
                entry = [False, {}]
                node[elem] = entry
            if i == len(path) - 1:
                entry[0] = True
            node = entry[1]

    def encode(node: dict[PathElement, list[Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for elem in sorted(node, key=_elem_key):
            member, children = node[elem]
            if children:
                child: dict[str, Any] = {".": {}} if member else {}
                child.update(encode(children))
                out[_elem_fields_v1(elem)] = child
            else:
                out[_elem_fields_v1(elem)] = {}
        return out

    return encode(tree)


def _value_string(raw_json: str) -> str:
    value = json.loads(raw_json)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return _compact(value)


def path_string(path: Path) -> str:
    """A path as structured-merge-diff prints it (``.spec.containers[name="c1"].image``)."""
    parts: list[str] = []
    for kind, val in path:
        if kind == "f":
            parts.append("." + str(val))
        elif kind == "k":
            parts.append("[" + ",".join(f"{k}={_value_string(v)}" for k, v in val) + "]")
        elif kind == "v":
            parts.append(f"[={_value_string(val)}]")
        else:
            parts.append(f"[{val}]")
    return "".join(parts)


# --------------------------------------------------------------------------- typed walking


class _Typed:
    """Schema-guided operations on one object (ToFieldSet, Merge, Compare, RemoveItems)."""

    def __init__(self, lookup: SchemaLookup | None) -> None:
        self.lookup = lookup

    # -- schema helpers
    def field(self, node: Schema | None, name: str) -> Schema | None:
        if node is None or self.lookup is None:
            return None
        return self.lookup.field(node, name)

    def items(self, node: Schema | None) -> Schema | None:
        if node is None or self.lookup is None:
            return None
        return self.lookup.items(node)

    @staticmethod
    def kind(node: Schema | None, value: Any) -> str:
        """``scalar`` | ``map`` | ``atomic`` | ``set`` | ``assoc`` for a value under a schema node."""
        if node is None or is_any(node):
            if isinstance(value, dict):
                return "map"
            return "atomic" if isinstance(value, list) else "scalar"
        if is_int_or_string(node) or is_quantity(node):
            return "scalar"
        t = schema_type(node)
        if t == "object" or (t is None and isinstance(value, dict)):
            if not isinstance(value, dict) and value is not _MISSING and value is not None:
                return "scalar"
            return "atomic" if map_is_atomic(node) else "map"
        if t == "array":
            if not isinstance(value, list) and value is not _MISSING and value is not None:
                return "scalar"
            lt = list_type(node)
            return {"map": "assoc", "set": "set"}.get(lt, "atomic")
        return "scalar"

    def pe(self, node: Schema | None, kind: str, item: Any, index: int) -> PathElement:
        if kind == "set":
            return ("v", _compact(item))
        if kind == "assoc" and isinstance(item, dict):
            keys = list_map_keys(node)
            parts = []
            for k in keys:
                if k in item and item[k] is not None:
                    parts.append((k, _compact(item[k])))
                elif k in _KEY_DEFAULTS:
                    parts.append((k, _compact(_KEY_DEFAULTS[k])))
            if parts:
                return ("k", tuple(sorted(parts)))
        return ("i", index)

    def list_pes(self, node: Schema | None, kind: str, items: list[Any]) -> list[PathElement]:
        return [self.pe(node, kind, item, i) for i, item in enumerate(items)]

    # -- ToFieldSet
    def to_field_set(self, value: Any, node: Schema | None, *, check: bool = False) -> FieldSet:
        """The owned-field set of a configuration (structured-merge-diff ``ToFieldSet``).

        With ``check`` the value is type-checked the way the typed conversion of an apply patch is:
        undeclared fields, scalar type mismatches and duplicate list-map keys raise :class:`ApplyError`
        with structured-merge-diff's wording (the caller prefixes the object's identity)."""
        out: FieldSet = set()
        self._tfs(value, node, (), out, check)
        return out

    @staticmethod
    def _what(value: Any) -> str:
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, (int, float)):
            return "numeric"
        if isinstance(value, str):
            return "string"
        if isinstance(value, dict):
            return "map"
        return "list" if isinstance(value, list) else "null"

    def _check_scalar(self, value: Any, node: Schema | None, path: Path) -> None:
        if node is None or value is None or is_any(node) or is_int_or_string(node) or is_quantity(node):
            return
        t = schema_type(node)
        want = {
            "integer": "numeric (int or float)",
            "number": "numeric (int or float)",
            "string": "string",
            "boolean": "boolean",
            "object": "map",
            "array": "list",
        }.get(t or "")
        if want is None:
            return
        got = self._what(value)
        ok = {
            "numeric (int or float)": got == "numeric",
            "string": got == "string",
            "boolean": got == "bool",
            "map": got == "map",
            "list": got == "list",
        }[want]
        if not ok:
            raise ApplyError(f"{path_string(path)}: expected {want}, got {got}", 500)

    def _tfs(self, value: Any, node: Schema | None, path: Path, out: FieldSet, check: bool) -> None:
        kind = self.kind(node, value)
        if kind == "scalar" or kind == "atomic":
            if check and path:
                self._check_scalar(value, node, path)
            if path:
                out.add(path)
            return
        if kind == "map":
            if not isinstance(value, dict):
                if path:
                    out.add(path)
                return
            for key, child in value.items():
                sub = self.field(node, key)
                if sub is None and node is not None and not is_any(node):
                    raise ApplyError(f"{path_string((*path, ('f', key)))}: field not declared in schema", 500)
                child_path = (*path, ("f", key))
                if child is None:
                    out.add(child_path)
                else:
                    self._tfs(child, sub, child_path, out, check)
            return
        if not isinstance(value, list):
            if path:
                out.add(path)
            return
        items = self.items(node)
        seen: set[PathElement] = set()
        for i, item in enumerate(value):
            pe = self.pe(node, kind, item, i)
            if check and kind == "assoc" and pe in seen:
                raise ApplyError(f"{path_string(path)}: duplicate entries for key {path_string((pe,))}", 500)
            seen.add(pe)
            item_path = (*path, pe)
            out.add(item_path)
            if kind == "assoc":
                self._tfs(item, items, item_path, out, check)

    # -- Merge (rhs wins)
    def merge(self, lhs: Any, rhs: Any, node: Schema | None) -> Any:
        if rhs is _MISSING:
            return lhs
        if lhs is _MISSING or lhs is None or rhs is None:
            return copy.deepcopy(rhs)
        kind = self.kind(node, rhs)
        if kind == "map" and isinstance(lhs, dict) and isinstance(rhs, dict):
            out = dict(lhs)
            for key, rv in rhs.items():
                out[key] = self.merge(lhs.get(key, _MISSING), rv, self.field(node, key))
            return out
        if kind in ("assoc", "set") and isinstance(lhs, list) and isinstance(rhs, list):
            return self._merge_list(lhs, rhs, node, kind)
        return copy.deepcopy(rhs)

    def _merge_list(self, lhs: list[Any], rhs: list[Any], node: Schema | None, kind: str) -> list[Any]:
        items = self.items(node)
        lpes = self.list_pes(node, kind, lhs)
        rpes = self.list_pes(node, kind, rhs)
        obs_l = dict(zip(lpes, lhs, strict=True))
        obs_r = dict(zip(rpes, rhs, strict=True))
        shared = [pe for pe in rpes if pe in obs_l]
        shared_i = 0
        next_shared = shared[0] if shared else None

        def advance() -> None:
            nonlocal shared_i, next_shared
            shared_i += 1
            next_shared = shared[shared_i] if shared_i < len(shared) else None

        def item(lv: Any, rv: Any) -> Any:
            if kind == "set":
                return copy.deepcopy(rv)
            return self.merge(lv, rv, items)

        out: list[Any] = []
        merged_r: set[PathElement] = set()
        li = ri = 0
        while li < len(lpes) or ri < len(rpes):
            if li < len(lpes) and ri < len(rpes):
                pe = lpes[li]
                if pe == rpes[ri]:
                    merged_r.add(pe)
                    out.append(item(obs_l[pe], obs_r[pe]))
                    li += 1
                    ri += 1
                    if next_shared is not None:
                        advance()
                    continue
                if pe in obs_r and next_shared is not None and next_shared != pe:
                    li += 1
                    continue
            if li < len(lpes):
                pe = lpes[li]
                if pe not in obs_r:
                    out.append(lhs[li])
                    li += 1
                    continue
                if pe in merged_r:
                    li += 1
                    continue
            if ri < len(rpes):
                pe = rpes[ri]
                merged_r.add(pe)
                out.append(item(obs_l.get(pe, _MISSING), obs_r[pe]))
                ri += 1
                if next_shared is not None and next_shared == pe:
                    advance()
        return out

    # -- Compare
    def compare(self, lhs: Any, rhs: Any, node: Schema | None) -> tuple[FieldSet, FieldSet, FieldSet]:
        added: FieldSet = set()
        modified: FieldSet = set()
        removed: FieldSet = set()
        self._cmp(lhs, rhs, node, (), added, modified, removed)
        return added, modified, removed

    def _cmp(
        self,
        lhs: Any,
        rhs: Any,
        node: Schema | None,
        path: Path,
        added: FieldSet,
        modified: FieldSet,
        removed: FieldSet,
    ) -> None:
        ref = rhs if rhs is not _MISSING else lhs
        kind = self.kind(node, ref)

        def empty(v: Any) -> bool:
            return v is _MISSING or v is None or v == {} or v == []

        leaf = kind in ("scalar", "atomic") or (empty(lhs) and empty(rhs))
        if not leaf and kind == "map" and not (isinstance(lhs, dict) or lhs is _MISSING or lhs is None):
            leaf = True
        if not leaf and kind == "map" and not (isinstance(rhs, dict) or rhs is _MISSING or rhs is None):
            leaf = True
        if leaf:
            if not path:
                return
            if lhs is _MISSING:
                added.add(path)
            elif rhs is _MISSING:
                removed.add(path)
            elif not json_equal(lhs, rhs):
                modified.add(path)
            return
        if kind == "map":
            ld = lhs if isinstance(lhs, dict) else {}
            rd = rhs if isinstance(rhs, dict) else {}
            for key in list(ld) + [k for k in rd if k not in ld]:
                self._cmp(
                    ld.get(key, _MISSING),
                    rd.get(key, _MISSING),
                    self.field(node, key),
                    (*path, ("f", key)),
                    added,
                    modified,
                    removed,
                )
        else:
            ll = lhs if isinstance(lhs, list) else []
            rl = rhs if isinstance(rhs, list) else []
            items = self.items(node)
            obs_l = dict(zip(self.list_pes(node, kind, ll), ll, strict=True))
            obs_r = dict(zip(self.list_pes(node, kind, rl), rl, strict=True))
            for pe in list(obs_l) + [p for p in obs_r if p not in obs_l]:
                lv = obs_l.get(pe, _MISSING)
                rv = obs_r.get(pe, _MISSING)
                item_path = (*path, pe)
                if kind == "set":
                    if lv is _MISSING:
                        added.add(item_path)
                    elif rv is _MISSING:
                        removed.add(item_path)
                    continue
                self._cmp(lv, rv, items, item_path, added, modified, removed)
        if path:
            if lhs is _MISSING:
                added.add(path)
            elif rhs is _MISSING:
                removed.add(path)

    # -- RemoveItems
    def remove(self, value: Any, node: Schema | None, path: Path) -> None:
        """Remove the member at ``path`` from ``value`` in place (missing paths are ignored).

        Maps (``additionalProperties``) and lists left empty by the removal are removed too, the way a
        typed object drops an empty ``omitempty`` map; empty structs stay."""
        if not path:
            return
        (kind_e, val), rest = path[0], path[1:]
        if kind_e == "f":
            if not isinstance(value, dict) or val not in value:
                return
            sub = self.field(node, val)
            if rest:
                child = value[val]
                self.remove(child, sub, rest)
                if self._prunable_empty(child, sub):
                    del value[val]
            else:
                del value[val]
            return
        if not isinstance(value, list):
            return
        kind = self.kind(node, value)
        for i, item in enumerate(value):
            if self.pe(node, kind, item, i) == (kind_e, val):
                if rest:
                    self.remove(item, self.items(node), rest)
                else:
                    del value[i]
                return

    @staticmethod
    def _prunable_empty(value: Any, node: Schema | None) -> bool:
        if isinstance(value, list):
            return not value
        if not isinstance(value, dict) or value:
            return False
        if node is None:
            return True
        return "properties" not in node


# --------------------------------------------------------------------------- managed fields


class _Entry:
    """One managedFields entry, decoded."""

    __slots__ = ("manager", "operation", "api_version", "subresource", "time", "fields")

    def __init__(
        self,
        manager: str,
        operation: str,
        api_version: str,
        subresource: str,
        time: str | None,
        fields: FieldSet,
    ) -> None:
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.subresource = subresource
        self.time = time
        self.fields = fields

    @property
    def ident(self) -> tuple[str, str, str, str]:
        return (
            self.manager,
            self.operation,
            self.api_version if self.operation != "Apply" else "",
            self.subresource,
        )

    def printed(self) -> str:
        out = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            out += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            out += f" using {self.api_version}"
        return out

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = paths_to_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _decode_managed(entries: Any) -> dict[tuple[str, str, str, str], _Entry]:
    out: dict[tuple[str, str, str, str], _Entry] = {}
    if not isinstance(entries, list):
        return out
    for raw in entries:
        if not isinstance(raw, dict) or not raw:
            continue
        entry = _Entry(
            str(raw.get("manager") or ""),
            str(raw.get("operation") or "Update"),
            str(raw.get("apiVersion") or ""),
            str(raw.get("subresource") or ""),
            raw.get("time"),
            fields_v1_to_paths(raw.get("fieldsV1")),
        )
        prev = out.get(entry.ident)
        if prev is not None:
            prev.fields |= entry.fields
        else:
            out[entry.ident] = entry
    return out


def _encode_managed(managed: dict[tuple[str, str, str, str], _Entry]) -> list[dict[str, Any]]:
    entries = [e for e in managed.values() if e.fields]

    def sort_key(e: _Entry) -> tuple[str, float, str, str, str]:
        seconds = 0.0
        if e.time:
            try:
                seconds = datetime.fromisoformat(str(e.time).replace("Z", "+00:00")).timestamp()
            except ValueError:
                seconds = 0.0
        return (e.operation, seconds, e.manager, e.api_version, e.subresource)

    return [e.encode() for e in sorted(entries, key=sort_key)]


def _is_reset(entries: Any) -> bool:
    return isinstance(entries, list) and len(entries) == 1 and entries[0] == {}


def _now(now: str | None) -> str:
    return now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(obj: dict[str, Any] | None) -> dict[str, Any]:
    """A shallow-copied object without metadata.managedFields."""
    if not obj:
        return {}
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        meta = dict(meta)
        del meta["managedFields"]
        out["metadata"] = meta
    return out


def _under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def _without(paths: FieldSet, prefixes: Iterable[Path]) -> FieldSet:
    pre = list(prefixes)
    if not pre:
        return set(paths)
    return {p for p in paths if not any(_under(p, q) for q in pre)}


def _ignored(subresource: str | None, reset_status: bool, obj: dict[str, Any]) -> list[Path]:
    """Path prefixes a write does not own (the "reset fields" of the real strategies)."""
    if subresource == "status":
        return [(("f", k),) for k in obj if k != "status"]
    if reset_status:
        return [(("f", "status"),)]
    return []


def _strip_meta(paths: FieldSet) -> FieldSet:
    return {p for p in paths if p not in _STRIP}


def _split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        g, v = api_version.split("/", 1)
        return g, v
    return "", api_version


def _update_managers(
    typed: _Typed,
    managed: dict[tuple[str, str, str, str], _Entry],
    old: dict[str, Any],
    new: dict[str, Any],
    node: Schema | None,
    ident: tuple[str, str, str, str],
    ignored: list[Path],
) -> tuple[FieldSet, FieldSet, FieldSet]:
    """Compare ``old``/``new``; take changed fields from other managers, drop removed ones everywhere."""
    added, modified, removed = typed.compare(old, new, node)
    added, modified, removed = (_without(s, ignored) for s in (added, modified, removed))
    changed = added | modified
    for key, entry in managed.items():
        if key == ident:
            continue
        entry.fields -= changed
        entry.fields -= removed
    return added, modified, removed


# --------------------------------------------------------------------------- public API


def managers(obj: dict[str, Any]) -> list[str]:
    """Names of the managers recorded in ``metadata.managedFields``."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    entries = meta.get("managedFields") if isinstance(meta, dict) else None
    if not isinstance(entries, list):
        return []
    return [str(e.get("manager", "")) for e in entries if isinstance(e, dict)]


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    operation: str,
    lookup: SchemaLookup | None,
    *,
    subresource: str | None = None,
    reset_status: bool = False,
    now: str | None = None,
) -> dict[str, Any]:
    """``new`` (copied) with managedFields updated for a non-apply write by ``manager``."""
    result = copy.deepcopy(new)
    meta = result.get("metadata")
    if not isinstance(meta, dict):
        return result
    api_version = str(result.get("apiVersion") or (old or {}).get("apiVersion") or "")
    kind = str(result.get("kind") or (old or {}).get("kind") or "")
    node = lookup.root(api_version, kind) if lookup is not None else None
    typed = _Typed(lookup)

    old_meta = (old or {}).get("metadata") or {}
    sent = meta.get("managedFields")
    if subresource:
        managed = _decode_managed(old_meta.get("managedFields"))
    elif _is_reset(sent):
        managed = {}
    else:
        managed = _decode_managed(sent)
        if not managed:
            managed = _decode_managed(old_meta.get("managedFields"))
    meta.pop("managedFields", None)

    if not managed and old is not None and old_meta.get("uid"):
        return result  # untracked object: the real server does not start tracking on update

    ignored = _ignored(subresource, reset_status, result)
    ident = (manager or "unknown", "Update", api_version, subresource or "")
    typed_old = _typed_skeleton(_body(old), node, lookup, api_version, kind)
    typed_new = _typed_skeleton(_body(result), node, lookup, api_version, kind)
    added, modified, removed = _update_managers(typed, managed, typed_old, typed_new, node, ident, ignored)
    gained = _strip_meta(added | modified)
    entry = managed.get(ident)
    if entry is None:
        entry = _Entry(ident[0], "Update", api_version, subresource or "", None, set())
        managed[ident] = entry
    entry.fields = _without(_strip_meta((entry.fields - removed) | gained), ignored)
    entry.api_version = api_version
    if gained:
        entry.time = _now(now)
    encoded = _encode_managed(managed)
    if encoded:
        meta["managedFields"] = encoded
    return result


_STRUCT_TOP = ("metadata", "spec", "status")


def _typed_skeleton(
    body: dict[str, Any], node: Schema | None, lookup: SchemaLookup | None, api_version: str, kind: str
) -> dict[str, Any]:
    """``body`` as a typed (Go) object would serialise it: built-in kinds always carry their
    ``metadata``/``spec``/``status`` structs, so a missing one compares as ``{}``."""
    if node is None or lookup is None or lookup.is_crd(api_version, kind):
        return body
    props = node.get("properties") or {}
    missing = [k for k in _STRUCT_TOP if k in props and k not in body]
    if not missing:
        return body
    out = dict(body)
    for key in missing:
        out[key] = {}
    return out


def _object_ident(config: dict[str, Any], live: dict[str, Any] | None) -> str:
    """``namespace/name; `` as the real error shows the object (empty when the name is unknown)."""
    raw_meta = config.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    live_meta = (live or {}).get("metadata") or {}
    name = meta.get("name") or live_meta.get("name") or ""
    namespace = meta.get("namespace") or live_meta.get("namespace") or ""
    return f"{namespace}/{name}; " if name else ""


def _gvk_string(api_version: str, kind: str) -> str:
    group, version = _split_api_version(api_version)
    return f"{group}/{version}, Kind={kind}"


def _last_applied_allowed(typed: _Typed, live: dict[str, Any], node: Schema | None) -> FieldSet | None:
    annotations = ((live.get("metadata") or {}).get("annotations")) or {}
    raw = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not raw:
        return None
    try:
        last = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(last, dict):
        return None
    try:
        fields = typed.to_field_set(last, node)
    except ApplyError:
        return None
    added, modified, removed = typed.compare(last, _body(live), node)
    return fields - modified - added - removed


def _iter_conflicts(
    managed: dict[tuple[str, str, str, str], _Entry], ident: tuple[str, str, str, str], changed: FieldSet
) -> Iterator[tuple[_Entry, Path]]:
    for key, entry in managed.items():
        if key == ident:
            continue
        for path in sorted(entry.fields & changed, key=path_string):
            yield entry, path


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    force: bool,
    lookup: SchemaLookup | None,
    *,
    subresource: str | None = None,
    reset_status: bool = True,
    now: str | None = None,
) -> dict[str, Any]:
    """Apply ``applied`` as ``manager``; returns the new object with managedFields (``live`` is not changed:
    the store's object must stay as it is for a dry run and until the new one is stored)."""
    if live is not None:
        live = copy.deepcopy(live)
    if not isinstance(applied, dict):
        raise ApplyError("the apply configuration must be a JSON/YAML object")
    api_version = applied.get("apiVersion")
    kind = applied.get("kind")
    if not api_version or not isinstance(api_version, str):
        raise ApplyError("apiVersion must be set in the apply configuration")
    if not kind or not isinstance(kind, str):
        raise ApplyError("kind must be set in the apply configuration")
    meta = applied.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise ApplyError("metadata must be an object")
    if isinstance(meta, dict) and meta.get("managedFields"):
        raise ApplyError("metadata.managedFields must be nil")
    if live is not None and live.get("kind") not in (None, kind):
        raise ApplyError(
            f"kind mismatch: the object is a {live.get('kind')}, the configuration a {kind}", 400
        )

    node = lookup.root(api_version, kind) if lookup is not None else None
    typed = _Typed(lookup)
    manager = manager or "unknown"

    config = copy.deepcopy(applied)
    if isinstance(config.get("metadata"), dict):
        config["metadata"].pop("managedFields", None)
    ignored = _ignored(subresource, reset_status and subresource is None, config)
    if subresource == "status":
        config = {k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")}
        if isinstance(config.get("metadata"), dict):
            config["metadata"] = {
                k: v for k, v in config["metadata"].items() if k in ("name", "namespace", "resourceVersion")
            }
    elif reset_status and subresource is None:
        config.pop("status", None)

    try:
        applied_set = typed.to_field_set(config, node, check=True)
    except ApplyError as err:
        who = _object_ident(config, live)
        raise ApplyError(
            f"failed to create typed patch object ({who}{_gvk_string(api_version, kind)}): {err}", 500
        ) from None
    applied_set = _without(_strip_meta(applied_set), ignored)

    live_body = _body(live)
    live_meta = (live or {}).get("metadata") or {}
    managed = _decode_managed(live_meta.get("managedFields")) if live is not None else {}
    if live is not None and not managed:
        before = ("before-first-apply", "Update", api_version, subresource or "")
        b_added, b_modified, _ = typed.compare(
            _typed_skeleton({}, node, lookup, api_version, kind), live_body, node
        )
        owned = _without(_strip_meta(b_added | b_modified), ignored)
        if owned:
            managed[before] = _Entry(before[0], "Update", api_version, subresource or "", None, owned)

    ident = (manager, "Apply", "", subresource or "")
    previous = managed.get(ident)
    last_set = set(previous.fields) if previous is not None else set()

    merged = typed.merge(live_body if live is not None else {}, config, node)
    if not isinstance(merged, dict):
        raise ApplyError("the merged object is not an object", 500)

    # prune what this manager applied last time but no longer applies and nobody else owns
    if last_set:
        others: FieldSet = set(applied_set)
        for key, entry in managed.items():
            if key != ident:
                others |= entry.fields
        prefixes = {p[:i] for p in others for i in range(1, len(p) + 1)}
        doomed_set = {p for p in last_set - others if p not in prefixes}
        doomed = [p for p in doomed_set if not _is_kept_key(p, doomed_set)]
        for path in sorted(doomed, key=len):
            typed.remove(merged, node, path)

    merged = _drop_nulls(merged)
    added, modified, removed = typed.compare(
        _typed_skeleton(live_body if live is not None else {}, node, lookup, api_version, kind),
        _typed_skeleton(merged, node, lookup, api_version, kind),
        node,
    )
    added, modified, removed = (_without(s, ignored) for s in (added, modified, removed))
    changed = added | modified
    conflicts = list(_iter_conflicts(managed, ident, changed))
    if conflicts and not force and manager == "kubectl" and live is not None:
        allowed = _last_applied_allowed(typed, live, node)
        if allowed is not None:
            conflicts = [(e, p) for e, p in conflicts if p not in allowed]
            if not conflicts:
                force = True
    if conflicts and not force:
        raise ApplyConflict([(e.printed(), path_string(p)) for e, p in conflicts])
    for key, other in managed.items():
        if key == ident:
            continue
        other.fields -= changed
        other.fields -= removed

    mine = managed.get(ident)
    if mine is None:
        mine = _Entry(manager, "Apply", api_version, subresource or "", None, set())
        managed[ident] = mine
    mine.fields = applied_set
    mine.api_version = api_version
    changed_object = live is None or not json_equal(live_body, merged)
    if changed_object or previous is None:
        mine.time = _now(now)

    if manager == "kubectl":
        annotations = (merged.get("metadata") or {}).get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            last = copy.deepcopy(applied)
            last_meta = last.get("metadata")
            if isinstance(last_meta, dict):
                ann = last_meta.get("annotations")
                if isinstance(ann, dict):
                    ann.pop(LAST_APPLIED, None)
            merged = dict(merged)
            merged["metadata"] = dict(merged["metadata"])
            merged["metadata"]["annotations"] = dict(annotations)
            merged["metadata"]["annotations"][LAST_APPLIED] = _compact(last) + "\n"

    result = copy.deepcopy(merged)
    result_meta = result.setdefault("metadata", {})
    encoded = _encode_managed(managed)
    if encoded:
        result_meta["managedFields"] = encoded
    else:
        result_meta.pop("managedFields", None)
    return result


def _is_kept_key(path: Path, doomed: FieldSet) -> bool:
    """True for a key field of a list item that itself survives pruning (items keep their keys)."""
    if len(path) < 2 or path[-1][0] != "f" or path[-2][0] != "k":
        return False
    keys = {k for k, _ in path[-2][1]}
    return path[-1][1] in keys and path[:-1] not in doomed


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
