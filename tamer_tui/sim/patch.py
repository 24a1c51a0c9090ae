"""Patch application for the simulator: pure functions over JSON-shaped values (inputs never mutated).

API:

* ``json_merge_patch(target, patch) -> value`` - RFC 7386 (``application/merge-patch+json``).
* ``json_patch(target, ops) -> value`` - RFC 6902 (``application/json-patch+json``): add, remove, replace,
  move, copy, test.  Raises :class:`PatchError` on a failed ``test``, a bad path or a malformed op.
* ``strategic_merge_patch(target, patch, lookup, api_version, kind) -> dict`` -
  ``application/strategic-merge-patch+json`` as the API server implements it (k8s.io/apimachinery
  ``strategicpatch`` with ``MergeParallelList`` and ``IgnoreUnmatchedNulls``): lists merge by
  ``x-kubernetes-patch-merge-key`` when ``x-kubernetes-patch-strategy`` includes ``merge`` (containers by
  name, env by name, ports by containerPort, volumes by name, volumeMounts by mountPath, ...), primitive
  ``merge`` lists are unioned, other lists (tolerations, args, ...) are replaced; directives
  ``$patch: replace|merge|delete`` (on maps and on list items), ``$setElementOrder/<field>``,
  ``$retainKeys`` and ``$deleteFromPrimitiveList/<field>`` are honoured and never stored; ``null`` deletes
  a key.  Merged lists are ordered like the real implementation (patch order for patched items,
  interleaved with server-only items by their original position).  Raises :class:`PatchError` on
  malformed directives or list items without their merge key.
* ``json_equal(a, b) -> bool`` - JSON equality (``True != 1``, ``1 == 1.0``).

:class:`PatchError` is a ``ValueError``; the server answers it with 422 (failed json patch ``test``) or
400 (malformed patch).  Strategic merge patch is only defined for built-in kinds: the real server answers
415 UnsupportedMediaType for custom resources, which is the server's decision (``lookup.is_crd``); without
schema information this function falls back to merge-patch semantics for maps and replaces lists.
"""

from __future__ import annotations

import copy
from typing import Any

from tamer_tui.sim.openapi import Schema, SchemaLookup, patch_merge_key, patch_strategies


class PatchError(ValueError):
    """The patch cannot be applied (malformed, failed ``test``, bad path, bad directive)."""


_MISSING = object()


# --------------------------------------------------------------------------- helpers


def json_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON values: booleans never equal numbers, ``1 == 1.0``, deep for containers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        return all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# --------------------------------------------------------------------------- RFC 7386


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = _merge_into(current if isinstance(current, dict) else {}, value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch; returns a new value (``target`` is not modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    base = copy.deepcopy(target) if isinstance(target, dict) else {}
    return _merge_into(base, patch)


# --------------------------------------------------------------------------- RFC 6902


def _pointer(path: Any, what: str = "path") -> list[str]:
    if not isinstance(path, str):
        raise PatchError(f"{what} must be a string JSON pointer, got {path!r}")
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer must be empty or start with a "/": {path!r}')
    return [tok.replace("~1", "/").replace("~0", "~") for tok in path[1:].split("/")]


def _index(token: str, length: int, path: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in {path!r}")
    idx = int(token)
    limit = length if allow_end else length - 1
    if idx > limit:
        raise PatchError(f"array index out of bounds: {path!r} (length {length})")
    return idx


def _walk(doc: Any, tokens: list[str], path: str, op: str) -> Any:
    node = doc
    for tok in tokens:
        if isinstance(node, dict):
            if tok not in node:
                raise PatchError(
                    f'{op} operation does not apply: doc is missing path: "{path}": missing value'
                )
            node = node[tok]
        elif isinstance(node, list):
            node = node[_index(tok, len(node), path, allow_end=False)]
        else:
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return node


def _get(doc: Any, path: str, op: str) -> Any:
    return _walk(doc, _pointer(path), path, op)


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _walk(doc, tokens[:-1], path, op)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), path, allow_end=True), value)
    else:
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> tuple[Any, Any]:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError(f"{op} operation can not remove the whole document")
    parent = _walk(doc, tokens[:-1], path, op)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"unable to remove nonexistent key: {last}: missing value")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(last, len(parent), path, allow_end=False))
    raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')


def _replace(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _walk(doc, tokens[:-1], path, "replace")
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = value
    elif isinstance(parent, list):
        parent[_index(last, len(parent), path, allow_end=False)] = value
    else:
        raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
    return doc


def json_patch(target: Any, ops: list[dict[str, Any]]) -> Any:
    """RFC 6902 JSON patch; returns a new value (``target`` is not modified)."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a JSON array of operations")
    doc = copy.deepcopy(target)
    for i, op in enumerate(ops):
        if not isinstance(op, dict):
            raise PatchError(f"operation {i} is not a JSON object: {op!r}")
        name = op.get("op")
        if "path" not in op:
            raise PatchError(f"operation {i} ({name}) is missing 'path'")
        path = op["path"]
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {i} ({name}) is missing 'value'")
        if name == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif name == "remove":
            doc, _ = _remove(doc, path)
        elif name == "replace":
            doc = _replace(doc, path, copy.deepcopy(op["value"]))
        elif name in ("move", "copy"):
            if "from" not in op:
                raise PatchError(f"operation {i} ({name}) is missing 'from'")
            src = op["from"]
            _pointer(src, "from")
            if name == "move":
                if isinstance(path, str) and path.startswith(src + "/"):
                    raise PatchError(f"move operation can not move {src!r} into its own child {path!r}")
                if path == src:
                    _get(doc, src, "move")
                    continue
                doc, value = _remove(doc, src, "move")
            else:
                value = copy.deepcopy(_get(doc, src, "copy"))
            doc = _add(doc, path, value, name)
        elif name == "test":
            try:
                current = _get(doc, path, "test")
            except PatchError:
                raise PatchError(f"testing value {path} failed: test failed") from None
            if not json_equal(current, op["value"]):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {name}")
    return doc


# --------------------------------------------------------------------------- strategic merge patch

_PATCH = "$patch"
_RETAIN = "$retainKeys"
_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


def _index_in(order: list[Any], item: Any, merge_key: str | None) -> int:
    if merge_key is not None and isinstance(item, dict):
        want = item.get(merge_key, _MISSING)
        for i, o in enumerate(order):
            if isinstance(o, dict) and want is not _MISSING and json_equal(o.get(merge_key, _MISSING), want):
                return i
        return -1
    for i, o in enumerate(order):
        if json_equal(o, item):
            return i
    return -1


def _sort_by(items: list[Any], order: list[Any], merge_key: str | None) -> list[Any]:
    return sorted(items, key=lambda x: _index_in(order, x, merge_key))


def _merge_sorted(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str | None
) -> list[Any]:
    """Interleave server-only items (left) and patch items (right) like apimachinery's mergeSortedSlice."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index_in(server_order, left[i], merge_key)
            ri = _index_in(server_order, right[j], merge_key)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _normalize_order(
    merged: list[Any], order: list[Any], server_order: list[Any], merge_key: str | None
) -> list[Any]:
    patch_items = [m for m in merged if _index_in(order, m, merge_key) >= 0]
    server_only = [m for m in merged if _index_in(order, m, merge_key) < 0]
    patch_items = _sort_by(patch_items, order, merge_key)
    server_only = _sort_by(server_only, server_order, merge_key)
    return _merge_sorted(server_only, patch_items, server_order, merge_key)


def _dedupe(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in items:
        if not any(json_equal(x, y) for y in out):
            out.append(x)
    return out


class _SMP:
    """One strategic merge (holds the schema lookup)."""

    def __init__(self, lookup: SchemaLookup | None) -> None:
        self.lookup = lookup

    def field(self, schema: Schema | None, name: str) -> Schema | None:
        if schema is None or self.lookup is None:
            return None
        return self.lookup.field(schema, name)

    def items(self, schema: Schema | None) -> Schema | None:
        if schema is None or self.lookup is None:
            return None
        return self.lookup.items(schema)

    def fresh(self, value: Any, schema: Schema | None) -> Any:
        """A patch value that has nothing to merge with: directives processed, nulls dropped."""
        if isinstance(value, dict):
            return self.merge_map({}, value, schema)
        if isinstance(value, list):
            return self.merge_list([], value, schema, None)
        return value

    def merge_map(
        self, original: dict[str, Any], patch: dict[str, Any], schema: Schema | None
    ) -> dict[str, Any]:
        patch = dict(patch)
        directive = patch.pop(_PATCH, None)
        if directive == "replace":
            return {k: self.fresh(v, self.field(schema, k)) for k, v in patch.items() if v is not None}
        if directive == "delete":
            return {}
        if directive not in (None, "merge"):
            raise PatchError(f"Unknown patch type: {directive} in map: {patch}")

        if _RETAIN in patch:
            retain = patch.pop(_RETAIN)
            if not isinstance(retain, list):
                raise PatchError(f"invalid patch: $retainKeys must be a list, got {retain!r}")
            for key in [k for k in original if k not in retain]:
                del original[key]

        orders: dict[str, list[Any]] = {}
        for key in [k for k in patch if k.startswith(_ORDER)]:
            order = patch.pop(key)
            if not isinstance(order, list):
                raise PatchError(f"invalid patch: {key} must be a list, got {order!r}")
            orders[key[len(_ORDER) :]] = order

        for key in [k for k in patch if k.startswith(_DELETE_PRIMITIVE)]:
            values = patch.pop(key)
            name = key[len(_DELETE_PRIMITIVE) :]
            if not isinstance(values, list):
                raise PatchError(f"invalid patch: {key} must be a list, got {values!r}")
            current = original.get(name)
            if isinstance(current, list):
                original[name] = [x for x in current if not any(json_equal(x, v) for v in values)]

        for key, pv in patch.items():
            if pv is None:
                original.pop(key, None)
                continue
            sub = self.field(schema, key)
            ov = original.get(key, _MISSING)
            if isinstance(pv, dict):
                if isinstance(ov, dict):
                    original[key] = self.merge_map(ov, pv, sub)
                elif pv.get(_PATCH) == "delete":
                    original.pop(key, None)
                else:
                    original[key] = self.merge_map({}, pv, sub)
            elif isinstance(pv, list):
                base = ov if isinstance(ov, list) else []
                original[key] = self.merge_list(base, pv, sub, orders.pop(key, None))
            else:
                original[key] = pv

        for name, order in orders.items():
            current = original.get(name)
            if isinstance(current, list):
                sub = self.field(schema, name)
                key_name = patch_merge_key(sub) if "merge" in patch_strategies(sub) else None
                if any(isinstance(x, dict) for x in current) and key_name is None:
                    continue
                original[name] = _normalize_order(current, order, current, key_name)
        return original

    def merge_list(
        self, original: list[Any], patch: list[Any], schema: Schema | None, order: list[Any] | None
    ) -> list[Any]:
        item_schema = self.items(schema)
        for item in patch:
            if isinstance(item, dict) and item.get(_PATCH) == "replace":
                return [
                    self.fresh(x, item_schema) for x in patch if not (isinstance(x, dict) and _PATCH in x)
                ]
        strategies = patch_strategies(schema)
        if "merge" not in strategies:
            return [self.fresh(x, item_schema) for x in patch]

        merge_key = patch_merge_key(schema)
        has_maps = any(isinstance(x, dict) for x in original) or any(isinstance(x, dict) for x in patch)
        if not has_maps:
            merged = _dedupe(list(original) + list(patch))
            merged = _normalize_order(merged, patch, original, None)
            if order is not None:
                merged = _normalize_order(merged, order, original, None)
            return merged
        if merge_key is None:
            raise PatchError("cannot merge lists without merge key")

        merged = list(original)
        plain: list[dict[str, Any]] = []
        for item in patch:
            if not isinstance(item, dict):
                raise PatchError(f"invalid patch: list item {item!r} is not a map (merge key {merge_key})")
            directive = item.get(_PATCH)
            if directive == "delete":
                if merge_key not in item:
                    raise PatchError(f"delete patch type with no merge key defined: {item}")
                value = item[merge_key]
                merged = [
                    m for m in merged if not (isinstance(m, dict) and json_equal(m.get(merge_key), value))
                ]
                continue
            if directive not in (None, "merge"):
                raise PatchError(f"Unknown patch type: {directive} in list item: {item}")
            if directive == "merge" and len(item) == 1:
                continue
            if merge_key not in item:
                raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
            plain.append(item)
        for item in plain:
            value = item[merge_key]
            for i, m in enumerate(merged):
                if isinstance(m, dict) and json_equal(m.get(merge_key, _MISSING), value):
                    merged[i] = self.merge_map(m, item, item_schema)
                    break
            else:
                merged.append(self.merge_map({}, item, item_schema))
        merged = _normalize_order(merged, plain, original, merge_key)
        if order is not None:
            merged = _normalize_order(merged, order, original, merge_key)
        return merged


def strategic_merge_patch(
    target: dict[str, Any], patch: dict[str, Any], lookup: SchemaLookup | None, api_version: str, kind: str
) -> dict[str, Any]:
    """Kubernetes strategic merge patch; returns a new dict (``target`` is not modified)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    schema = lookup.root(api_version, kind) if lookup is not None else None
    base = copy.deepcopy(target) if isinstance(target, dict) else {}
    return _SMP(lookup).merge_map(base, copy.deepcopy(patch), schema)
