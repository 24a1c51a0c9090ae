"""Schema validation of incoming objects for ``fieldValidation=Strict|Warn|Ignore`` (pure functions).

API:

* ``validate(obj, lookup, *, raw=None, sort_keys=False, check_required=True) -> list[FieldError]`` - unknown fields
  (``kind="unknown"``), JSON type mismatches (``kind="type"``) and missing required fields
  (``kind="required"``) of ``obj`` against the schema of its ``apiVersion``/``kind`` (built-in or CRD).
  With ``raw`` (the request body as received, JSON) duplicate keys are reported too (``kind="duplicate"``)
  in the order the real server reports them (document order for built-ins; duplicates first for CRDs).
  ``sort_keys=True`` walks maps in sorted key order - the order the real server reports unknown fields
  of a *patched* object.  ``metadata`` is checked against ObjectMeta; ``apiVersion``/``kind`` are always
  accepted; ``x-kubernetes-preserve-unknown-fields``/``additionalProperties``/embedded resources
  respected.  Unknown kinds give ``[]``.  Required fields are not checked under ``status``/``metadata``
  (nor at all with ``check_required=False``).
* ``duplicate_fields(raw) -> list[FieldError]`` - duplicate keys of any JSON document (e.g. a patch body),
  document order.
* ``prune_unknown(obj, lookup) -> dict`` - a copy without undeclared fields (what the decoder keeps
  under Warn/Ignore).
* ``FieldError.message`` is worded like the real server: ``unknown field "spec.foo"``,
  ``duplicate field "spec.replicas"``, ``json: cannot unmarshal string into Go struct field
  DeploymentSpec.spec.replicas of type int32`` (built-in type errors; the Go decoder stops at the first),
  ``spec.replicas in body must be of type integer: "string"`` (CRD type errors),
  ``Required value`` (required).  ``FieldError.path`` is ``.spec.foo`` style (list items as ``[0]``);
  ``FieldError.smd_message`` is the server-side-apply wording
  ``.spec.template.spec.containers[name="c1"].foo: field not declared in schema``.
* ``strict_error_message(api_version, kind, errors) -> str`` - the 400 BadRequest message of a POST/PUT:
  ``Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field
  "spec.foo", unknown field "spec.bar"`` (with a built-in type error: ``...: json: cannot unmarshal ...``).
* ``warning_messages(errors) -> list[str]`` - the texts for ``Warning: 299 - "<text>"`` headers (Warn mode).
* ``invalid_status(kind, group, name, errors) -> dict`` - 422 ``metav1.Status`` for required/CRD type errors
  (``CronTab.stable.example.com "x" is invalid: spec.replicas: Invalid value: "three": ...``).
* ``invalid_patch_status(shown_value, detail) -> dict`` - the 422 the real server answers for a strict
  failure of a patch: ``"" is invalid: patch: Invalid value: "<value>": strict decoding error: ...``
  (``shown_value`` is ``go_repr(patch)`` for strategic merge patches, the patched JSON for merge/json patches).
* ``go_repr(value) -> str`` - Go's ``%+v`` rendering of a decoded JSON value (``map[a:1 b:[x y]]``).

How the server should use it: ``Ignore`` -> no unknown/duplicate checks (type errors still fail with 400);
``Warn`` (the default) -> one warning per unknown/duplicate field, unknown fields dropped
(:func:`prune_unknown`); ``Strict`` -> 400 with :func:`strict_error_message` (POST/PUT) or 422 with
:func:`invalid_patch_status` (patches) when any unknown/duplicate field exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tamer_tui.sim.openapi import (
    Schema,
    SchemaLookup,
    is_any,
    is_int_or_string,
    is_quantity,
    list_map_keys,
    list_type,
    preserves_unknown,
    schema_type,
)


@dataclass(frozen=True)
class FieldError:
    """One problem found in an object."""

    path: str  # ".spec.foo", ".spec.template.spec.containers[0].foo"
    kind: str  # "unknown" | "type" | "required" | "duplicate"
    message: str
    smd_path: str = ""  # structured-merge-diff path: .spec.containers[name="c1"].foo
    value: Any = field(default=None, compare=False)
    crd: bool = False

    @property
    def field_path(self) -> str:
        """The path without the leading dot (``spec.foo``), as field errors print it."""
        return self.path[1:] if self.path.startswith(".") else self.path

    @property
    def smd_message(self) -> str:
        """The server-side apply wording (``.spec.foo: field not declared in schema``)."""
        where = self.smd_path or self.path
        if self.kind == "unknown":
            return f"{where}: field not declared in schema"
        if self.kind == "type":
            return f"{where}: expected {self.message.rsplit(' ', 1)[-1]}"
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------- raw JSON with duplicates


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object decoded as its ordered ``(key, value)`` pairs (duplicates kept)."""


def _decode_pairs(raw: bytes | str) -> Any:
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    return json.loads(text, object_pairs_hook=_Pairs)


def _items(node: Any, sort_keys: bool) -> Iterator[tuple[str, Any, bool]]:
    """``(key, value, is_duplicate)`` of a dict or a ``_Pairs`` object."""
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        pairs = sorted(node, key=lambda kv: kv[0]) if sort_keys else node
        for key, value in pairs:
            yield key, value, key in seen
            seen.add(key)
    else:
        keys = sorted(node) if sort_keys else list(node)
        for key in keys:
            yield key, node[key], False


def _is_obj(value: Any) -> bool:
    return isinstance(value, (dict, _Pairs))


def _plain(value: Any) -> Any:
    """``_Pairs`` trees -> plain dicts (last duplicate wins, like the decoder)."""
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def duplicate_fields(raw: bytes | str) -> list[FieldError]:
    """Duplicate keys in a raw JSON document, in document order (the decoder keeps the last one)."""
    try:
        doc = _decode_pairs(raw)
    except ValueError:
        return []
    out: list[FieldError] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, _Pairs):
            for key, value, dup in _items(node, False):
                p = f"{path}.{key}" if path else key
                if dup:
                    out.append(FieldError("." + p, "duplicate", f'duplicate field "{p}"'))
                walk(value, p)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(doc, "")
    return out


# --------------------------------------------------------------------------- Go naming


def _go_package(def_name: str) -> str:
    parts = def_name.split(".")
    return parts[-2] if len(parts) >= 2 else ""


def _def_name(node: Schema | None) -> str | None:
    if not node:
        return None
    name = node.get("x-tamer-def")
    return str(name) if name else None


def _go_type(lookup: SchemaLookup, node: Schema | None) -> str:
    if node is None:
        return "interface {}"
    name = _def_name(node)
    if name and schema_type(node) in ("object", None, "string"):
        return f"{_go_package(name)}.{name.rsplit('.', 1)[-1]}"
    t = schema_type(node)
    if t == "array":
        return "[]" + _go_type(lookup, lookup.items(node))
    if t == "object":
        add = node.get("additionalProperties")
        if isinstance(add, dict):
            return "map[string]" + _go_type(lookup, lookup.resolve(add))
        return "map[string]interface {}"
    if t == "integer":
        fmt = node.get("format")
        return str(fmt) if fmt in ("int32", "int64") else "int"
    if t == "number":
        return "float32" if node.get("format") == "float" else "float64"
    if t == "boolean":
        return "bool"
    if t == "string":
        return "[]uint8" if node.get("format") == "byte" else "string"
    return "interface {}"


def _json_word(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if _is_obj(value):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def _openapi_word(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if _is_obj(value):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null"


def go_repr(value: Any) -> str:
    """Go's ``%+v`` of a decoded JSON value (maps sorted by key, like ``fmt`` prints them)."""
    if isinstance(value, _Pairs):
        value = _plain(value)
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_repr(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_repr(v) for v in value) + "]"
    return str(value)


def _go_quote(text: str) -> str:
    """``strconv.Quote`` (close enough: JSON string escaping)."""
    return json.dumps(text, ensure_ascii=False)


def _bad_value(value: Any) -> str:
    if isinstance(value, str):
        return _go_quote(value)
    return go_repr(value)


# --------------------------------------------------------------------------- the walker

_INT32 = (-(2**31), 2**31 - 1)


def _key_repr(v: Any) -> str:
    if isinstance(v, str):
        return _go_quote(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v)


class _Walker:
    def __init__(self, lookup: SchemaLookup, crd: bool, sort_keys: bool, check_required: bool) -> None:
        self.lookup = lookup
        self.crd = crd
        self.sort_keys = sort_keys
        self.check_required = check_required
        self.errors: list[FieldError] = []
        self.duplicates: list[FieldError] = []

    # path helpers: path is a list of (json_repr, smd_repr, go_name or None)
    @staticmethod
    def _fmt(path: list[tuple[str, str, str | None]]) -> tuple[str, str, str]:
        json_path = "".join(p[0] for p in path)
        smd_path = "".join(p[1] for p in path)
        go_path = ".".join(p[2] for p in path if p[2] is not None)
        return json_path, smd_path, go_path

    def _type_error(
        self,
        path: list[tuple[str, str, str | None]],
        value: Any,
        node: Schema,
        parent_struct: str,
        want: str,
    ) -> None:
        json_path, smd_path, go_path = self._fmt(path)
        bare = json_path[1:] if json_path.startswith(".") else json_path
        if self.crd:
            msg = f'{bare} in body must be of type {want}: "{_openapi_word(value)}"'
        else:
            word = _json_word(value)
            if word == "number" and isinstance(value, float) and schema_type(node) == "integer":
                word = f"number {go_repr(value)}"
            msg = (
                f"json: cannot unmarshal {word} into Go struct field {parent_struct}.{go_path} "
                f"of type {_go_type(self.lookup, node)}"
            )
        self.errors.append(FieldError(json_path, "type", msg, smd_path, value, self.crd))

    def walk(
        self,
        value: Any,
        node: Schema | None,
        path: list[tuple[str, str, str | None]],
        parent_struct: str,
        in_skip: bool,
    ) -> None:
        if value is None or node is None:
            return
        if is_int_or_string(node):
            if (
                isinstance(value, bool)
                or not isinstance(value, (str, int, float))
                or (isinstance(value, float) and not value.is_integer())
            ):
                self._type_error(path, value, node, parent_struct, "integer,string")
            return
        if is_quantity(node):
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self._type_error(path, value, node, parent_struct, "string")
            return
        t = schema_type(node)
        if t is None:
            if is_any(node):
                return
            t = "object" if _is_obj(value) else None
            if t is None:
                return
        if t == "object":
            if not _is_obj(value):
                self._type_error(path, value, node, parent_struct, "object")
                return
            self.walk_object(value, node, path, parent_struct, in_skip)
        elif t == "array":
            if not isinstance(value, list):
                self._type_error(path, value, node, parent_struct, "array")
                return
            items = self.lookup.items(node)
            lt = list_type(node)
            keys = list_map_keys(node) if lt == "map" else ()
            for i, item in enumerate(value):
                smd = f"[{i}]"
                if lt == "map" and _is_obj(item):
                    plain = _plain(item) if isinstance(item, _Pairs) else item
                    parts = [f"{k}={_key_repr(plain[k])}" for k in sorted(keys) if k in plain]
                    if parts:
                        smd = "[" + ",".join(parts) + "]"
                elif lt == "set":
                    smd = f"[={_key_repr(item)}]"
                self.walk(item, items, [*path, (f"[{i}]", smd, None)], parent_struct, in_skip)
        elif t == "string":
            if not isinstance(value, str):
                self._type_error(path, value, node, parent_struct, "string")
        elif t == "integer":
            bad = isinstance(value, bool) or not isinstance(value, (int, float))
            if not bad and isinstance(value, float):
                bad = not value.is_integer() or not self.crd
            if not bad and node.get("format") == "int32" and not self.crd:
                bad = not (_INT32[0] <= int(value) <= _INT32[1])
            if bad:
                self._type_error(path, value, node, parent_struct, "integer")
        elif t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._type_error(path, value, node, parent_struct, "number")
        elif t == "boolean" and not isinstance(value, bool):
            self._type_error(path, value, node, parent_struct, "boolean")

    def walk_object(
        self,
        value: Any,
        node: Schema,
        path: list[tuple[str, str, str | None]],
        parent_struct: str,
        in_skip: bool,
    ) -> None:
        name = _def_name(node)
        struct = name.rsplit(".", 1)[-1] if name else parent_struct
        is_map = "properties" not in node and isinstance(node.get("additionalProperties"), dict)
        present: set[str] = set()
        for key, child, dup in _items(value, self.sort_keys):
            sub = self.lookup.field(node, key)
            go_name: str | None = None if is_map else key
            child_path = [*path, (f".{key}", f".{key}", go_name)]
            if dup:
                json_path, smd_path, _ = self._fmt(child_path)
                bare = json_path[1:]
                err = FieldError(
                    json_path, "duplicate", f'duplicate field "{bare}"', smd_path, None, self.crd
                )
                if self.crd:
                    self.duplicates.append(err)
                elif sub is not None:
                    self.errors.append(err)
                continue
            present.add(key)
            if sub is None:
                if not path and key in ("apiVersion", "kind"):
                    continue
                json_path, smd_path, _ = self._fmt(child_path)
                bare = json_path[1:]
                self.errors.append(
                    FieldError(json_path, "unknown", f'unknown field "{bare}"', smd_path, None, self.crd)
                )
                continue
            skip = in_skip or (not path and key in ("status", "metadata"))
            self.walk(child, sub, child_path, struct, skip)
        if self.check_required and not in_skip and not preserves_unknown(node):
            for req in node.get("required") or ():
                if req not in present:
                    json_path, smd_path, _ = self._fmt([*path, (f".{req}", f".{req}", req)])
                    self.errors.append(
                        FieldError(json_path, "required", "Required value", smd_path, None, self.crd)
                    )


def validate(
    obj: dict[str, Any],
    lookup: SchemaLookup,
    *,
    raw: bytes | str | None = None,
    sort_keys: bool = False,
    check_required: bool = True,
) -> list[FieldError]:
    """Every unknown field, type mismatch and missing required field of ``obj`` (plus duplicate keys of
    ``raw`` when given; ``obj`` must then be the decoded ``raw``)."""
    if not isinstance(obj, dict):
        return []
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    root = lookup.root(api_version, kind)
    if root is None:
        return []
    doc: Any = obj
    if raw is not None:
        try:
            doc = _decode_pairs(raw)
        except ValueError:
            doc = obj
    walker = _Walker(lookup, lookup.is_crd(api_version, kind), sort_keys, check_required)
    walker.walk_object(doc, root, [], kind, False)
    return walker.duplicates + walker.errors


# --------------------------------------------------------------------------- pruning


def _prune(value: Any, node: Schema | None, lookup: SchemaLookup, top: bool) -> Any:
    if value is None or node is None or is_int_or_string(node) or is_quantity(node):
        return value
    t = schema_type(node)
    if isinstance(value, dict) and (t == "object" or (t is None and not is_any(node))):
        out: dict[str, Any] = {}
        for key, child in value.items():
            sub = lookup.field(node, key)
            if sub is None:
                if top and key in ("apiVersion", "kind"):
                    out[key] = child
                continue
            out[key] = _prune(child, sub, lookup, False)
        return out
    if isinstance(value, list) and t == "array":
        items = lookup.items(node)
        return [_prune(v, items, lookup, False) for v in value]
    return value


def prune_unknown(obj: dict[str, Any], lookup: SchemaLookup) -> dict[str, Any]:
    """A copy of ``obj`` without the fields its schema does not declare (what the decoder drops).
    Unknown kinds are returned as an unchanged (shallow) copy."""
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return dict(obj)
    root = lookup.root(api_version, kind)
    if root is None:
        return dict(obj)
    pruned = _prune(obj, root, lookup, True)
    return pruned if isinstance(pruned, dict) else dict(obj)


# --------------------------------------------------------------------------- messages


def strict_error_message(api_version: str, kind: str, errors: list[FieldError]) -> str:
    """The BadRequest message of a POST/PUT rejected by the decoder (type error or Strict mode)."""
    version = api_version.rsplit("/", 1)[-1]
    head = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    for err in errors:
        if err.kind == "type" and not err.crd:
            return head + err.message
    strict = [e.message for e in errors if e.kind in ("unknown", "duplicate")]
    return head + "strict decoding error: " + ", ".join(strict)


def warning_messages(errors: list[FieldError]) -> list[str]:
    """Warning texts for Warn mode (one per unknown/duplicate field)."""
    return [e.message for e in errors if e.kind in ("unknown", "duplicate")]


def _status(message: str, reason: str, code: int, details: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        out["details"] = details
    out["code"] = code
    return out


def _cause(err: FieldError) -> tuple[str, str, str]:
    """``(reason, body, error string)`` of one field error."""
    fp = err.field_path
    if err.kind == "required":
        return "FieldValueRequired", "Required value", f"{fp}: Required value"
    if err.kind == "type":
        body = f"Invalid value: {_bad_value(err.value)}: {err.message}"
        return "FieldValueTypeInvalid", body, f"{fp}: {body}"
    body = f"Invalid value: {_bad_value(err.value)}: {err.message}"
    return "FieldValueInvalid", body, f"{fp}: {body}"


def invalid_status(kind: str, group: str, name: str, errors: list[FieldError]) -> dict[str, Any]:
    """422 Invalid ``metav1.Status`` for required-field and CRD schema errors."""
    qualified = f"{kind}.{group}" if group else kind
    causes = []
    texts = []
    for err in errors:
        reason, body, text = _cause(err)
        causes.append({"reason": reason, "message": body, "field": err.field_path})
        texts.append(text)
    agg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details = {"name": name, "group": group, "kind": kind, "causes": causes}
    return _status(f'{qualified} "{name}" is invalid: {agg}', "Invalid", 422, details)


def invalid_patch_status(shown_value: str, detail: str) -> dict[str, Any]:
    """The 422 a real server answers when a patched object fails strict decoding."""
    body = f"Invalid value: {_go_quote(shown_value)}: {detail}"
    return _status(
        f' "" is invalid: patch: {body}',
        "Invalid",
        422,
        {"causes": [{"reason": "FieldValueInvalid", "message": body, "field": "patch"}]},
    )
