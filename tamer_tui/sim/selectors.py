"""Label and field selectors, parsed and matched the way the Kubernetes API server does.

Label selectors support ``=``, ``==``, ``!=``, ``in``, ``notin``, existence (``key``), non-existence
(``!key``) and the numeric ``>``/``<``.  Field selectors support ``=``, ``==`` and ``!=`` on the fields
each resource type allows (``metadata.name``, ``metadata.namespace`` everywhere, plus e.g.
``status.phase`` and ``spec.nodeName`` for pods).  Parse errors raise ``ApiError`` 400 BadRequest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tamer_tui.sim.store import ResourceType

_KEY_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _bad(message: str) -> Exception:
    from tamer_tui.sim.store import ApiError

    return ApiError(400, "BadRequest", message)


# --------------------------------------------------------------------------- label selectors


@dataclass(frozen=True)
class Requirement:
    """One label requirement: ``key <op> values``."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a label map satisfies this requirement."""
        op = self.op
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        if op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        if op in ("!=", "notin"):
            return self.key not in labels or labels[self.key] not in self.values
        if self.key not in labels:
            return False
        try:
            have = int(labels[self.key])
        except ValueError:
            return False
        want = int(self.values[0])
        return have > want if op == "gt" else have < want


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: all requirements must hold."""

    requirements: tuple[Requirement, ...]

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether an object's ``metadata.labels`` satisfy the selector."""
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_labels(self, labels: dict[str, str]) -> bool:
        """Whether a plain label map satisfies the selector."""
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """An empty selector matches everything."""
        return not self.requirements


_SPECIAL = ("==", "!=", "=", "!", "(", ")", ",", ">", "<")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        for sp in _SPECIAL:
            if text.startswith(sp, i):
                out.append(sp)
                i += len(sp)
                break
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "=!(),<>":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _check_key(key: str) -> None:
    if not key or key in _SPECIAL:
        raise _bad(f"unable to parse requirement: found '{key}', expected: identifier")
    prefix, _, name = key.rpartition("/")
    ok = bool(_KEY_NAME.match(name)) and (
        not prefix or (len(prefix) <= 253 and bool(_DNS_SUBDOMAIN.match(prefix)))
    )
    if not ok or "/" in prefix:
        raise _bad(
            f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must consist of alphanumeric '
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise _bad(
            f'unable to parse requirement: values[0]: Invalid value: "{value}": a valid label must be an empty '
            "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a label selector string; ``ApiError`` 400 on a syntax error."""
    if not text or not text.strip():
        return LabelSelector(())
    toks = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def peek(k: int = 0) -> str | None:
        return toks[i + k] if i + k < len(toks) else None

    while i < len(toks):
        tok = toks[i]
        if tok == "!":
            i += 1
            key = peek()
            if key is None:
                raise _bad("unable to parse requirement: found '', expected: identifier")
            _check_key(key)
            i += 1
            reqs.append(Requirement(key, "!"))
        else:
            key = tok
            _check_key(key)
            i += 1
            op = peek()
            if op is None or op == ",":
                reqs.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!="):
                i += 1
                val = peek()
                if val is None or val == ",":
                    val = ""
                else:
                    if val in _SPECIAL:
                        raise _bad(f"unable to parse requirement: found '{val}', expected: identifier")
                    i += 1
                _check_value(val)
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", (val,)))
            elif op in ("in", "notin"):
                i += 1
                if peek() != "(":
                    raise _bad(f"unable to parse requirement: found '{peek() or ''}', expected: '('")
                i += 1
                vals: list[str] = []
                while True:
                    t = peek()
                    if t is None:
                        raise _bad("unable to parse requirement: found '', expected: ')'")
                    if t == ")":
                        i += 1
                        break
                    if t == ",":
                        i += 1
                        if peek() in (",", ")"):
                            vals.append("")
                        continue
                    if t in _SPECIAL:
                        raise _bad(
                            f"unable to parse requirement: found '{t}', expected: ',', ')' or identifier"
                        )
                    _check_value(t)
                    vals.append(t)
                    i += 1
                if not vals:
                    raise _bad(
                        "unable to parse requirement: for 'in', 'notin' operators, values set can't be empty"
                    )
                reqs.append(Requirement(key, op, tuple(vals)))
            elif op in (">", "<"):
                i += 1
                val = peek()
                if val is None:
                    raise _bad("unable to parse requirement: found '', expected: identifier")
                try:
                    int(val)
                except ValueError:
                    raise _bad(
                        f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: {val}"
                    ) from None
                i += 1
                reqs.append(Requirement(key, "gt" if op == ">" else "lt", (val,)))
            else:
                raise _bad(
                    f"unable to parse requirement: found '{op}', expected: '=', '!=', '==', 'in', notin'"
                )
        t = peek()
        if t is None:
            break
        if t != ",":
            raise _bad(f"found '{t}', expected: ',' or 'end of string'")
        i += 1
        if peek() is None:
            raise _bad("found '', expected: identifier after ','")
    return LabelSelector(tuple(reqs))


def selector_from_match(selector: dict[str, Any] | None) -> LabelSelector:
    """Convert a ``metav1.LabelSelector`` (``matchLabels``/``matchExpressions``) or a plain map."""
    if not selector:
        return LabelSelector(())
    reqs: list[Requirement] = []
    if "matchLabels" in selector or "matchExpressions" in selector:
        for k, v in sorted((selector.get("matchLabels") or {}).items()):
            reqs.append(Requirement(k, "=", (str(v),)))
        for expr in selector.get("matchExpressions") or []:
            op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}.get(
                expr.get("operator", "")
            )
            if op is None:
                raise _bad(f"{expr.get('operator')!r} is not a valid label selector operator")
            reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    else:
        for k, v in sorted(selector.items()):
            reqs.append(Requirement(k, "=", (str(v),)))
    return LabelSelector(tuple(reqs))


# --------------------------------------------------------------------------- field selectors

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_TYPE_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    ),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("events.k8s.io", "events"): (
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "reason",
        "reportingController",
        "type",
    ),
    ("", "secrets"): ("type",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "namespaces"): ("status.phase",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("spec.signerName",),
}


def _field_value(obj: dict[str, Any], path: str) -> str:
    if path == "source":
        src = obj.get("source") or {}
        return str(src.get("component", ""))
    if path == "status.podIPs":
        ips = (obj.get("status") or {}).get("podIPs") or []
        return ",".join(str(x.get("ip", "")) for x in ips)
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


@dataclass(frozen=True)
class FieldRequirement:
    """One field requirement: ``field = value`` or ``field != value``."""

    field: str
    negate: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: all requirements must hold."""

    requirements: tuple[FieldRequirement, ...]
    getter: Callable[[dict[str, Any], str], str] = _field_value

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether the object satisfies every requirement."""
        for r in self.requirements:
            have = self.getter(obj, r.field)
            if (have == r.value) == r.negate:
                return False
        return True

    def exact_value(self, field: str) -> str | None:
        """The value required with ``=`` for ``field`` (used to narrow e.g. a namespace)."""
        for r in self.requirements:
            if r.field == field and not r.negate:
                return r.value
        return None


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                raise _bad(f"invalid field selector: {text}: trailing escape character")
            nxt = text[i + 1]
            if nxt not in "\\,=":
                raise _bad(f"invalid field selector: {text}: invalid escape sequence: \\{nxt}")
            out.append(nxt)
            i += 2
            continue
        if c in ",=":
            raise _bad(f"invalid field selector: {text}: unescaped '{c}'")
        out.append(c)
        i += 1
    return "".join(out)


def _find_op(term: str) -> tuple[int, str] | None:
    i = 0
    while i < len(term):
        c = term[i]
        if c == "\\":
            i += 2
            continue
        if term.startswith("!=", i):
            return i, "!="
        if term.startswith("==", i):
            return i, "=="
        if c == "=":
            return i, "="
        i += 1
    return None


def allowed_fields(rtype: ResourceType) -> tuple[str, ...]:
    """The field selector labels the type supports."""
    return _COMMON_FIELDS + _TYPE_FIELDS.get((rtype.group, rtype.plural), ())


def parse_field_selector(text: str | None, rtype: ResourceType | None = None) -> FieldSelector:
    """Parse a field selector; with ``rtype`` unsupported fields are rejected like the real server."""
    if not text or not text.strip():
        return FieldSelector(())
    reqs: list[FieldRequirement] = []
    for term in _split_unescaped(text, ","):
        if not term:
            continue
        found = _find_op(term)
        if found is None:
            raise _bad(f"invalid selector: '{text}'; can't understand '{term}'")
        pos, op = found
        field = term[:pos].strip()
        value = _unescape(term[pos + len(op) :])
        if rtype is not None and field not in allowed_fields(rtype):
            if rtype.group and rtype.plural not in {p for _, p in _TYPE_FIELDS}:
                raise _bad(
                    f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"'
                )
            raise _bad(f"field label not supported: {field}")
        reqs.append(FieldRequirement(field, op == "!=", value))
    return FieldSelector(tuple(reqs))
