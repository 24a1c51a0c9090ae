"""YAML documents with line numbers, and offline validation of Kubernetes objects (pure functions).

What the editor's "validate while typing" runs, with no I/O except reading the schema files shipped in
the ``kubernetes-validate`` package (cached per Kubernetes minor version):

* :func:`parse_documents` splits a (multi-document) text at its ``---``/``...`` markers and parses each
  document on its own, so a syntax error in one document never hides the others. Every
  :class:`Document` keeps its composed node tree: :meth:`Document.locate` maps a JSON path
  (``("spec", "template", "spec", "containers", 0, "image")``) to the 1-based line and column of that
  field in the *whole* text. Values are converted the way Kubernetes reads YAML: timestamps stay strings,
  keys become strings, duplicate keys are errors.
* :func:`validate_text` adds schema problems: built-in kinds against the Kubernetes OpenAPI schemas of
  the chosen version (:func:`pick_schema_version` picks the nearest one the package ships), custom
  resources against their CRD's ``openAPIV3Schema`` (:func:`crd_schemas` extracts them from CRD
  objects). Unknown fields, wrong types, ``int32`` ranges, enums, missing required fields (warnings:
  a partial object is a legal server-side apply of an existing object) and, for CRDs, the usual value
  validations (pattern, min/max, lengths, item and property counts).
* :class:`Problem` is one finding: document index, 1-based line and column, severity, message and
  the ``.spec.replicas``-style path. Validation never raises: any input gives a list of problems.
"""

from __future__ import annotations

import base64
import datetime as _dt
import difflib
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

ERROR = "error"
WARNING = "warning"
INFO = "info"

_SEVERITY_RANK = {ERROR: 0, WARNING: 1, INFO: 2}

JsonPath = tuple[str | int, ...]

#: Nodes a document may expand to (aliases included) before it is refused: protects against alias bombs.
MAX_NODES = 300_000

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in the edited text, ready for a problems list that jumps to the line."""

    doc: int  # index of the document in the text (0-based, empty documents not counted)
    line: int  # 1-based line in the whole text
    column: int  # 1-based column
    severity: str  # "error" | "warning" | "info"
    message: str
    path: str = ""  # ".spec.template.spec.containers[0].image"; "" for syntax problems
    source: str = "yaml"  # "yaml" | "schema" | "crd" | "server"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self) -> tuple[int, int, int, int]:
        return (self.line, self.column, _SEVERITY_RANK.get(self.severity, 3), self.doc)

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}"
        path = f" ({self.path})" if self.path else ""
        return f"{where} {self.severity}: {self.message}{path}"


def path_string(path: Sequence[str | int]) -> str:
    """``("spec", "containers", 0, "image")`` -> ``.spec.containers[0].image``."""
    out = []
    for p in path:
        if isinstance(p, int):
            out.append(f"[{p}]")
        else:
            out.append("." + str(p))
    return "".join(out)


_PATH_TOKEN = re.compile(r"\[(\d+)\]|\[([^\]]*)\]|([^.\[\]]+)")


def parse_path(text: str) -> JsonPath:
    """``spec.containers[0].image`` / ``.spec.containers[0].image`` -> ``("spec", "containers", 0, "image")``.

    Server-side-apply list keys (``containers[name="c"]``) are kept as strings; :meth:`Document.locate`
    resolves them against the document."""
    out: list[str | int] = []
    for m in _PATH_TOKEN.finditer(text.strip()):
        if m.group(1) is not None:
            out.append(int(m.group(1)))
        elif m.group(2) is not None:
            out.append("[" + m.group(2) + "]")
        else:
            out.append(m.group(3))
    return tuple(out)


# ------------------------------------------------------------------------------------ loading


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe constructor the way Kubernetes reads YAML: ``=`` is a plain string (PyYAML issue 89)."""

    def construct_value(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        raise yaml.constructor.ConstructorError(None, None, f"expected a scalar, but found {getattr(node, 'id', '?')}",
                                                node.start_mark)


_Constructor.add_constructor("tag:yaml.org,2002:value", _Constructor.construct_value)  # type: ignore[type-var]

_ParserBase: Any
try:
    from yaml.cyaml import CParser as _ParserBase  # type: ignore[attr-defined,no-redef]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _ParserBase = None


if _ParserBase is not None:

    class _Loader(_ParserBase, _Constructor, yaml.resolver.Resolver):  # type: ignore[misc]
        """libyaml parser, our constructor, the standard resolver without timestamps."""

        def __init__(self, stream: str) -> None:
            _ParserBase.__init__(self, stream)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml

    class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,  # type: ignore[no-redef]
                  yaml.composer.Composer, _Constructor, yaml.resolver.Resolver):
        """Pure-Python parser, our constructor, the standard resolver without timestamps."""

        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


# Timestamps stay strings (Kubernetes never turns `2024-01-01` into a date).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


class _TooBig(Exception):
    """The document expands (through aliases) to more than :data:`MAX_NODES` nodes."""


class _Recursive(Exception):
    """A recursive alias (a node that contains itself)."""


def _key_str(key: Any) -> str:
    """A mapping key as JSON sees it (sigs.k8s.io/yaml stringifies non-string keys)."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _jsonable(value: Any, budget: list[int], active: set[int]) -> Any:
    """The constructed value made JSON-compatible (bytes -> base64, dates -> ISO strings, sets -> lists)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    if isinstance(value, dict):
        if id(value) in active:
            raise _Recursive
        active.add(id(value))
        try:
            return {_key_str(k): _jsonable(v, budget, active) for k, v in value.items()}
        finally:
            active.discard(id(value))
    if isinstance(value, list | tuple):
        if id(value) in active:
            raise _Recursive
        active.add(id(value))
        try:
            return [_jsonable(v, budget, active) for v in value]
        finally:
            active.discard(id(value))
    if isinstance(value, set | frozenset):
        return sorted(_key_str(v) for v in value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    return value


def _mark_problem(exc: yaml.MarkedYAMLError, doc: int, line_offset: int, fallback_line: int) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = (mark.line + 1 + line_offset) if mark is not None else fallback_line
    column = (mark.column + 1) if mark is not None else 1
    message = str(exc.problem or exc.context or "invalid YAML").strip()
    if exc.context and exc.problem:
        ctx = str(exc.context).strip()
        if exc.context_mark is not None and exc.context_mark is not mark:
            ctx += f" started at line {exc.context_mark.line + 1 + line_offset}, column {exc.context_mark.column + 1}"
        message = f"{message} ({ctx})"
    prefix = "YAML" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax"
    return Problem(doc, line, column, ERROR, f"{prefix}: {message}", "", "yaml")


@dataclass
class Document:
    """One YAML document of the text: where it is, its parsed value and its node tree for line lookups."""

    index: int
    start_line: int  # 1-based first line (the ``---`` marker line when there is one)
    end_line: int  # 1-based last line
    text: str
    value: Any = None  # JSON-compatible value; None when it did not parse
    parsed: bool = False
    node: Any = field(default=None, repr=False)
    _key_cache: dict[int, str] = field(default_factory=dict, repr=False)

    # -- what the document is --------------------------------------------------------------------
    @property
    def obj(self) -> dict[str, Any]:
        """The value when it is a mapping, else ``{}``."""
        return self.value if isinstance(self.value, dict) else {}

    @property
    def api_version(self) -> str:
        v = self.obj.get("apiVersion")
        return v if isinstance(v, str) else ""

    @property
    def kind(self) -> str:
        v = self.obj.get("kind")
        return v if isinstance(v, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        m = self.obj.get("metadata")
        return m if isinstance(m, dict) else {}

    @property
    def name(self) -> str:
        v = self.metadata.get("name")
        return v if isinstance(v, str) else ""

    @property
    def namespace(self) -> str:
        v = self.metadata.get("namespace")
        return v if isinstance(v, str) else ""

    @property
    def title(self) -> str:
        """``Deployment default/web`` (what the problems list and the diff sections show)."""
        ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind or '?'} {ident or '?'}".strip()

    # -- positions ---------------------------------------------------------------------------------
    def _content_start(self) -> tuple[int, int]:
        if self.node is not None:
            return self.node.start_mark.line + self.start_line, self.node.start_mark.column + 1
        return self.start_line, 1

    def _key_of(self, node: Any) -> str:
        cached = self._key_cache.get(id(node))
        if cached is not None:
            return cached
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            text = str(node.value)
        else:
            try:
                text = _key_str(_Constructor().construct_object(node, deep=True))
            except Exception:  # noqa: BLE001 - an unusable key never matches
                text = "\x00"
        self._key_cache[id(node)] = text
        return text

    def locate(self, path: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the node at ``path`` in the whole text.

        ``at_key`` points at the key of the last mapping entry (unknown fields) rather than its value.
        A path that goes further than the document does resolves to the deepest existing node (a missing
        required field points at its parent)."""
        if self.node is None:
            return self._content_start()
        node = self.node
        key_node = None
        for part in tuple(path)[:200]:
            if isinstance(node, yaml.MappingNode):
                found = None
                for k, v in node.value:
                    if self._key_of(k) == str(part):
                        found = (k, v)  # last one wins, like the constructed dict
                if found is None:
                    break
                key_node, node = found
            elif isinstance(node, yaml.SequenceNode):
                idx = self._seq_index(node, part)
                if idx is None:
                    break
                key_node, node = None, node.value[idx]
            else:
                break
        else:
            if at_key and key_node is not None:
                node = key_node
        mark = node.start_mark
        return mark.line + self.start_line, mark.column + 1

    def _seq_index(self, node: Any, part: str | int) -> int | None:
        if isinstance(part, int):
            return part if 0 <= part < len(node.value) else None
        m = re.fullmatch(r"\[(\w+)=(.*)\]", str(part))
        if m is None:
            return None
        key, raw = m.group(1), m.group(2)
        want = raw.strip('"')
        for i, item in enumerate(node.value):
            if isinstance(item, yaml.MappingNode):
                for k, v in item.value:
                    if self._key_of(k) == key and isinstance(v, yaml.ScalarNode) and str(v.value) == want:
                        return i
        return None


_MARKER = re.compile(r"^(---|\.\.\.)(?:[ \t]|$)")
_BLANK = re.compile(r"^(?:[ \t]*(?:#.*)?|(?:---|\.\.\.)[ \t]*(?:#.*)?)$")


def _split(lines: list[str]) -> list[tuple[int, int]]:
    """``[(first, last_exclusive), ...]`` 0-based line ranges of the documents (markers included)."""
    chunks: list[tuple[int, int]] = []
    start = 0
    for i, line in enumerate(lines):
        m = _MARKER.match(line)
        if m is None:
            continue
        if m.group(1) == "---":
            if i > start:
                chunks.append((start, i))
            start = i
        else:  # "..." ends the current document
            chunks.append((start, i + 1))
            start = i + 1
    if start < len(lines):
        chunks.append((start, len(lines)))
    return chunks


def _duplicates(node: Any, doc: int, offset: int, out: list[Problem], budget: list[int]) -> None:
    """Duplicate mapping keys anywhere below ``node`` (Kubernetes refuses them); merge keys ignored."""
    stack = [node]
    seen_nodes: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen_nodes:
            continue
        seen_nodes.add(id(n))
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooBig
        if isinstance(n, yaml.MappingNode):
            keys: dict[str, Any] = {}
            for k, v in n.value:
                stack.append(v)
                if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE_TAG:
                    continue
                text = str(k.value)
                if text in keys:
                    first = keys[text]
                    out.append(Problem(doc, k.start_mark.line + offset + 1, k.start_mark.column + 1, ERROR,
                                       f'duplicate key "{text}" (first defined at line '
                                       f"{first.start_mark.line + offset + 1})", "", "yaml"))
                else:
                    keys[text] = k
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


def _is_empty(node: Any) -> bool:
    """An explicit ``---`` with nothing after it composes to an empty null scalar: no document."""
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"
                            and node.value == "" and not getattr(node, "style", None))


def parse_documents(text: str) -> tuple[list[Document], list[Problem]]:
    """Split and parse every document of ``text``; syntax problems are returned, never raised.

    Lines are counted like the editor counts them (:meth:`str.splitlines`: ``\\r\\n``, ``\\r``, ``\\n`` and
    the Unicode separators); each document is parsed with ``\\n`` breaks. Documents that hold
    nothing (only comments or markers) are dropped and not counted in ``Document.index``."""
    if not isinstance(text, str):
        text = str(text)
    lines = text.splitlines()  # the editor's (Textual's) line breaks, Unicode separators included
    docs: list[Document] = []
    problems: list[Problem] = []
    for first, last in _split(lines):
        if all(_BLANK.match(line) for line in lines[first:last]):
            continue
        chunk = "\n".join(lines[first:last])
        index = len(docs)
        doc = Document(index=index, start_line=first + 1, end_line=max(first + 1, last), text=chunk)
        doc_problems: list[Problem] = []
        node = None
        try:
            loader = _Loader(chunk)
            try:
                node = loader.get_single_node()
                if _is_empty(node):
                    node = None
                if node is not None:
                    _duplicates(node, index, first, doc_problems, [MAX_NODES])
                    value = loader.construct_document(node)
                    doc.value = _jsonable(value, [MAX_NODES], set())
                    doc.parsed = True
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            doc_problems.append(_mark_problem(exc, index, first, first + 1))
        except _TooBig:
            doc_problems.append(Problem(index, first + 1, 1, ERROR,
                                        f"the document expands to more than {MAX_NODES} nodes (aliases?)",
                                        "", "yaml"))
            doc.value, doc.parsed = None, False
        except _Recursive:
            doc_problems.append(Problem(index, first + 1, 1, ERROR, "recursive alias: a node contains itself",
                                        "", "yaml"))
            doc.value, doc.parsed = None, False
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            line = (node.start_mark.line + first + 1) if node is not None else first + 1
            doc_problems.append(Problem(index, line, 1, ERROR, f"YAML: {exc}", "", "yaml"))
            doc.value, doc.parsed = None, False
        doc.node = node if doc.parsed else None
        if node is None and not doc_problems:
            continue  # an empty document (comments only)
        docs.append(doc)
        problems.extend(doc_problems)
    return docs, problems


# ------------------------------------------------------------------------------------ schemas


def _schema_root() -> Any:
    import importlib.resources

    return importlib.resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")


@lru_cache(maxsize=1)
def available_schema_versions() -> tuple[tuple[int, int], ...]:
    """(major, minor) of every strict schema set the installed ``kubernetes-validate`` ships, sorted."""
    out = set()
    try:
        for entry in _schema_root().iterdir():
            m = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
            if m:
                out.add((int(m.group(1)), int(m.group(2))))
    except (OSError, ModuleNotFoundError):
        return ()
    return tuple(sorted(out))


def pick_schema_version(git_version: str | None) -> str:
    """The shipped schema version nearest to a cluster's ``gitVersion`` (``v1.31.4+k3s1`` -> ``1.31``).

    Ties go to the older version; an unknown or unparsable version gets the newest one; ``""`` when the
    package ships no schemas at all."""
    versions = available_schema_versions()
    if not versions:
        return ""
    m = re.match(r"v?(\d+)\.(\d+)", (git_version or "").strip())
    if m is None:
        major, minor = versions[-1]
        return f"{major}.{minor}"
    want = (int(m.group(1)), int(m.group(2)))
    best = min(versions, key=lambda v: (abs((v[0] - want[0]) * 1000 + v[1] - want[1]), v))
    return f"{best[0]}.{best[1]}"


class SchemaSet:
    """The built-in object schemas of one Kubernetes minor version (strict: unknown fields refused)."""

    def __init__(self, version: str, definitions: dict[str, Any]) -> None:
        self.version = version
        self.defs: dict[str, Any] = definitions
        self.by_gvk: dict[tuple[str, str, str], str] = {}
        self.versions_of_kind: dict[str, list[str]] = {}
        self.groups: set[str] = set()
        for name, schema in definitions.items():
            for gvk in schema.get("x-kubernetes-group-version-kind") or ():
                group, ver, kind = str(gvk.get("group", "")), str(gvk.get("version", "")), str(gvk.get("kind", ""))
                self.by_gvk.setdefault((group, ver, kind), name)
                av = f"{group}/{ver}" if group else ver
                if kind not in ("DeleteOptions", "WatchEvent", "Status"):
                    self.versions_of_kind.setdefault(kind, [])
                    if av not in self.versions_of_kind[kind]:
                        self.versions_of_kind[kind].append(av)
                    self.groups.add(group)

    def schema_for(self, api_version: str, kind: str) -> dict[str, Any] | None:
        group, ver = split_api_version(api_version)
        name = self.by_gvk.get((group, ver, kind))
        return self.defs.get(name) if name else None

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 20:
            ref = str(schema["$ref"])
            target = self.defs.get(ref.rsplit("/", 1)[-1])
            if target is None:
                return {}
            schema = target
            seen += 1
        return schema

    @property
    def object_meta(self) -> dict[str, Any] | None:
        return self.defs.get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")


@lru_cache(maxsize=3)
def load_schemas(version: str | None = None) -> SchemaSet | None:
    """The :class:`SchemaSet` of ``version`` (``"1.31"``; nearest shipped one; newest if None), cached.

    ``None`` when the ``kubernetes-validate`` package or its files are missing. Blocking (reads and
    decodes ~1.3 MB of JSON, ~30 ms): call it in a thread from the UI."""
    import msgspec

    chosen = pick_schema_version(version)
    if not chosen:
        return None
    try:
        path = _schema_root().joinpath(f"v{chosen}.0-local-strict").joinpath("_definitions.json")
        data = msgspec.json.decode(path.read_bytes())
    except (OSError, ModuleNotFoundError, msgspec.DecodeError):
        return None
    defs = data.get("$defs") or data.get("definitions") or {}
    return SchemaSet(chosen, defs)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``apps/v1`` -> ``("apps", "v1")``; ``v1`` -> ``("", "v1")``."""
    group, _, ver = api_version.rpartition("/")
    return group, ver


def crd_schemas(crds: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(apiVersion, kind): openAPIV3Schema}`` of every served version of the given CRD objects.

    A version without a schema gets ``{"type": "object", "x-kubernetes-preserve-unknown-fields": True}``."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for crd in crds:
        if not isinstance(crd, Mapping):
            continue
        spec = crd.get("spec") or {}
        if not isinstance(spec, Mapping):
            continue
        group = str(spec.get("group") or "")
        kind = str((spec.get("names") or {}).get("kind") or "")
        legacy = (spec.get("validation") or {}).get("openAPIV3Schema") if isinstance(spec.get("validation"),
                                                                                     Mapping) else None
        for ver in spec.get("versions") or ():
            if not isinstance(ver, Mapping) or not ver.get("served", True):
                continue
            schema = (ver.get("schema") or {}).get("openAPIV3Schema") if isinstance(ver.get("schema"),
                                                                                    Mapping) else None
            schema = schema or legacy or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            out[(f"{group}/{ver.get('name')}", kind)] = dict(schema)
    return out


# ------------------------------------------------------------------------------------ validation


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _types_of(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [str(x) for x in t]
    return []


def _shown(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}"'
    if isinstance(value, dict | list):
        return _json_type(value)
    return repr(value) if not isinstance(value, bool) else ("true" if value else "false")


_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


class _Walker:
    """Walks a value against a schema (Kubernetes JSON schemas or CRD OpenAPI v3) collecting problems."""

    def __init__(self, doc: Document, schemas: SchemaSet | None, crd: bool, source: str,
                 base: JsonPath = ()) -> None:
        self.doc = doc
        self.schemas = schemas
        self.crd = crd
        self.source = source
        self.base = base
        self.problems: list[Problem] = []
        self.budget = MAX_NODES

    def resolve(self, schema: Any) -> Mapping[str, Any]:
        if not isinstance(schema, Mapping):
            return {}
        if "$ref" in schema and self.schemas is not None:
            return self.schemas.resolve(schema)
        return schema

    def add(self, path: JsonPath, severity: str, message: str, *, at_key: bool = False,
            locate_path: JsonPath | None = None) -> None:
        full = self.base + path
        line, col = self.doc.locate(full if locate_path is None else self.base + locate_path, at_key=at_key)
        self.problems.append(Problem(self.doc.index, line, col, severity, message, path_string(full), self.source))

    def field_name(self, path: JsonPath) -> str:
        return path_string(self.base + path).lstrip(".")

    # -- the walk -------------------------------------------------------------------------------
    def walk(self, value: Any, schema: Any, path: JsonPath, *, root: bool = False) -> None:
        self.budget -= 1
        if self.budget < 0 or len(path) > 100:
            return
        s = self.resolve(schema)
        if not s:
            return
        if value is None:
            return  # null means "unset" (the server drops it)
        if not self._check_type(value, s, path):
            return
        if self.crd:
            self._crd_value_checks(value, s, path)
        elif "enum" in s and not (root or path[-1:] in (("apiVersion",), ("kind",))):
            self._enum(value, s, path)
        fmt = s.get("format")
        if isinstance(value, int) and not isinstance(value, bool) and fmt in _INT_RANGES:
            lo, hi = _INT_RANGES[str(fmt)]
            if not lo <= value <= hi:
                self.add(path, ERROR, f"{self.field_name(path)}: {value} is out of the {fmt} range")
        if isinstance(value, dict):
            self._object(value, s, path, root)
        elif isinstance(value, list):
            items = s.get("items")
            if isinstance(items, Mapping):
                for i, item in enumerate(value):
                    self.walk(item, items, (*path, i))
        if self.crd:
            for sub in s.get("allOf") or ():
                self.walk(value, sub, path)

    def _check_type(self, value: Any, s: Mapping[str, Any], path: JsonPath) -> bool:
        actual = _json_type(value)
        if s.get("x-kubernetes-int-or-string"):
            if actual in ("integer", "string"):
                return True
            self.add(path, ERROR, f"{self.field_name(path)}: expected integer or string, got {actual} {_shown(value)}")
            return False
        one_of = s.get("oneOf")
        if not self.crd and isinstance(one_of, list) and one_of and "type" not in s:
            allowed: list[str] = []
            for alt in one_of:
                allowed.extend(t for t in _types_of(self.resolve(alt)) if t != "null")
            if allowed and actual not in allowed and not (actual == "integer" and "number" in allowed):
                self.add(path, ERROR,
                         f"{self.field_name(path)}: expected {' or '.join(dict.fromkeys(allowed))}, "
                         f"got {actual} {_shown(value)}")
                return False
            return True
        types = [t for t in _types_of(s) if t != "null"]
        if not types:
            return True
        if actual in types or (actual == "integer" and "number" in types):
            return True
        self.add(path, ERROR, f"{self.field_name(path)}: expected {' or '.join(types)}, got {actual} {_shown(value)}")
        return False

    def _enum(self, value: Any, s: Mapping[str, Any], path: JsonPath) -> None:
        enum = s.get("enum")
        if isinstance(enum, list) and enum and value not in enum:
            allowed = ", ".join(_shown(e) for e in enum[:12])
            self.add(path, ERROR, f"{self.field_name(path)}: unsupported value {_shown(value)}: supported values: {allowed}")

    def _object(self, value: dict[str, Any], s: Mapping[str, Any], path: JsonPath, root: bool) -> None:
        props = s.get("properties")
        props = props if isinstance(props, Mapping) else {}
        addl = s.get("additionalProperties")
        preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
        embedded = bool(s.get("x-kubernetes-embedded-resource"))
        meta_schema = self.schemas.object_meta if self.schemas is not None else None
        for key, item in value.items():
            sub_path = (*path, key)
            if (root or embedded) and key in ("apiVersion", "kind"):
                if not isinstance(item, str):
                    self.add(sub_path, ERROR, f"{self.field_name(sub_path)}: expected string, got {_json_type(item)}")
                continue
            if (root or embedded) and key == "metadata" and (self.crd or key not in props):
                if meta_schema is not None:
                    self.walk(item, meta_schema, sub_path)
                elif not isinstance(item, dict) and item is not None:
                    self.add(sub_path, ERROR, f"{self.field_name(sub_path)}: expected object, got {_json_type(item)}")
                continue
            if key in props:
                self.walk(item, props[key], sub_path)
            elif isinstance(addl, Mapping):
                self.walk(item, addl, sub_path)
            elif addl is True or preserve:
                continue
            elif addl is False or (self.crd and (props or "type" in s)):
                self.add(sub_path, ERROR, f'unknown field "{self.field_name(sub_path)}"', at_key=True)
        required = s.get("required")
        if isinstance(required, list) and not self._skip_required(path):
            for name in required:
                if isinstance(name, str) and name not in value:
                    missing = (*path, name)
                    self.add(missing, WARNING, f"{self.field_name(missing)}: required field is missing",
                             at_key=True, locate_path=path)
        if self.crd:
            n = len(value)
            lo, hi = s.get("minProperties"), s.get("maxProperties")
            if isinstance(lo, int) and n < lo:
                self.add(path, ERROR, f"{self.field_name(path) or 'object'}: should have at least {lo} properties")
            if isinstance(hi, int) and n > hi:
                self.add(path, ERROR, f"{self.field_name(path) or 'object'}: should have at most {hi} properties")

    @staticmethod
    def _skip_required(path: JsonPath) -> bool:
        return bool(path) and path[0] in ("status", "metadata")

    def _crd_value_checks(self, value: Any, s: Mapping[str, Any], path: JsonPath) -> None:
        name = self.field_name(path) or "value"
        self._enum(value, s, path)
        if isinstance(value, str):
            pattern = s.get("pattern")
            if isinstance(pattern, str):
                rx = _regex(pattern)
                if rx is not None and rx.search(value) is None:
                    self.add(path, ERROR, f"{name}: {_shown(value)} does not match the pattern {pattern!r}")
            lo, hi = s.get("minLength"), s.get("maxLength")
            if isinstance(lo, int) and len(value) < lo:
                self.add(path, ERROR, f"{name}: should be at least {lo} characters long")
            if isinstance(hi, int) and len(value) > hi:
                self.add(path, ERROR, f"{name}: should be at most {hi} characters long")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            lo, hi = s.get("minimum"), s.get("maximum")
            if isinstance(lo, int | float) and (value < lo or (s.get("exclusiveMinimum") is True and value == lo)):
                op = ">" if s.get("exclusiveMinimum") is True else ">="
                self.add(path, ERROR, f"{name}: should be {op} {lo}")
            if isinstance(hi, int | float) and (value > hi or (s.get("exclusiveMaximum") is True and value == hi)):
                op = "<" if s.get("exclusiveMaximum") is True else "<="
                self.add(path, ERROR, f"{name}: should be {op} {hi}")
            mult = s.get("multipleOf")
            if isinstance(mult, int | float) and mult > 0 and math.isfinite(float(value)):
                quotient = value / mult
                if abs(quotient - round(quotient)) > 1e-9:
                    self.add(path, ERROR, f"{name}: should be a multiple of {mult}")
        elif isinstance(value, list):
            lo, hi = s.get("minItems"), s.get("maxItems")
            if isinstance(lo, int) and len(value) < lo:
                self.add(path, ERROR, f"{name}: should have at least {lo} items")
            if isinstance(hi, int) and len(value) > hi:
                self.add(path, ERROR, f"{name}: should have at most {hi} items")
            if s.get("x-kubernetes-list-type") == "set" or s.get("uniqueItems") is True:
                seen: list[Any] = []
                for i, item in enumerate(value):
                    if item in seen:
                        self.add((*path, i), ERROR, f"{self.field_name((*path, i))}: duplicate entry {_shown(item)}")
                    else:
                        seen.append(item)
        for key in ("anyOf", "oneOf"):
            alts = s.get(key)
            if isinstance(alts, list) and alts:
                matches = sum(1 for alt in alts if self._matches(value, alt))
                if matches == 0 or (key == "oneOf" and matches > 1):
                    what = "any" if key == "anyOf" else "exactly one"
                    self.add(path, ERROR, f"{name}: does not match {what} of the allowed schemas ({key})")

    def _matches(self, value: Any, schema: Any) -> bool:
        probe = _Walker(self.doc, self.schemas, self.crd, self.source)
        probe.budget = min(self.budget, 10_000)
        probe.walk(value, schema, ())
        # value validations with only "required" (common in anyOf) count as failures too
        ok = not any(p.severity == ERROR for p in probe.problems)
        req = schema.get("required") if isinstance(schema, Mapping) else None
        if ok and isinstance(req, list) and isinstance(value, dict):
            ok = all(r in value for r in req)
        return ok


@dataclass
class ValidationResult:
    """Documents and every problem found, sorted by position."""

    documents: list[Document]
    problems: list[Problem]
    schema_version: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def for_document(self, index: int) -> list[Problem]:
        return [p for p in self.problems if p.doc == index]


_NAME_OPTIONAL = frozenset({"List"})


def validate_document(doc: Document, schemas: SchemaSet | None,
                      crds: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
                      *, missing_crd_severity: str = WARNING,
                      skip: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> list[Problem]:
    """Schema problems of one parsed document (no syntax checks; see :func:`validate_text`)."""
    out: list[Problem] = []
    if not doc.parsed:
        return out
    if not isinstance(doc.value, dict):
        line, col = doc.locate(())
        out.append(Problem(doc.index, line, col, ERROR,
                           f"a Kubernetes object must be a mapping, not {_json_type(doc.value)}", "", "schema"))
        return out
    if doc.kind == "List" and isinstance(doc.obj.get("items"), list):
        for i, item in enumerate(doc.obj["items"]):
            out.extend(_validate_object(doc, item, ("items", i), schemas, crds, missing_crd_severity, skip))
        return out
    return _validate_object(doc, doc.value, (), schemas, crds, missing_crd_severity, skip)


def _validate_object(doc: Document, obj: Any, base: JsonPath, schemas: SchemaSet | None,
                     crds: Mapping[tuple[str, str], Mapping[str, Any]] | None, missing_crd_severity: str,
                     skip: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()) -> list[Problem]:
    out: list[Problem] = []

    def add(path: JsonPath, severity: str, message: str, *, at_key: bool = False) -> None:
        line, col = doc.locate(base + path, at_key=at_key)
        out.append(Problem(doc.index, line, col, severity, message, path_string(base + path), "schema"))

    if not isinstance(obj, dict):
        add((), ERROR, f"a Kubernetes object must be a mapping, not {_json_type(obj)}")
        return out
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not api_version:
        add((), ERROR, "apiVersion is missing" if api_version is None else "apiVersion must be a non-empty string")
    if not isinstance(kind, str) or not kind:
        add((), ERROR, "kind is missing" if kind is None else "kind must be a non-empty string")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        return out
    meta = obj.get("metadata")
    if kind not in _NAME_OPTIONAL:
        if not isinstance(meta, dict):
            if meta is None:
                add((), ERROR, "metadata.name is missing")
        elif not meta.get("name") and not meta.get("generateName"):
            add(("metadata",), ERROR, "metadata.name is missing", at_key=True)
    group, _ver = split_api_version(api_version)
    schema = schemas.schema_for(api_version, kind) if schemas is not None else None
    crd_schema = (crds or {}).get((api_version, kind))
    if schema is not None:
        walker = _Walker(doc, schemas, False, "schema", base)
        walker.walk(obj, schema, (), root=True)
        out.extend(walker.problems)
    elif crd_schema is not None:
        walker = _Walker(doc, schemas, True, "crd", base)
        walker.walk(obj, crd_schema, (), root=True)
        out.extend(walker.problems)
    elif (api_version, kind) in skip:
        pass
    elif schemas is not None:
        known = schemas.versions_of_kind.get(kind)
        if group in schemas.groups and not crds_cover(crds, group):
            if known:
                add(("apiVersion",), ERROR,
                    f"no {kind} in {api_version} (Kubernetes {schemas.version} has it in {', '.join(known)})")
            else:
                kinds = sorted(k for (g, _v, k) in schemas.by_gvk if g == group)
                close = difflib.get_close_matches(kind, kinds, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                add(("kind",), ERROR, f"unknown kind {kind} in {api_version}{hint}")
        elif known and not _custom_group(group):
            add(("apiVersion",), ERROR,
                f"no {kind} in {api_version} (Kubernetes {schemas.version} has it in {', '.join(known)})")
        else:
            add(("kind",), missing_crd_severity,
                f"{kind} ({api_version}) is not a built-in type and no CRD schema is known: not validated")
    return out


def _custom_group(group: str) -> bool:
    """A group only a CRD (or an aggregated API) can serve: dotted and not Kubernetes' own."""
    return "." in group and not group.endswith(".k8s.io")


def crds_cover(crds: Mapping[tuple[str, str], Any] | None, group: str) -> bool:
    return any(split_api_version(av)[0] == group for av, _k in (crds or {}))


def validate_text(text: str, schemas: SchemaSet | None = None,
                  crds: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
                  *, missing_crd_severity: str = WARNING) -> ValidationResult:
    """Syntax and schema problems of every document of ``text``, sorted by line. Never raises.

    ``schemas`` is a :class:`SchemaSet` (:func:`load_schemas`); without it only syntax and the basic
    object shape (apiVersion, kind, metadata.name) are checked. ``crds`` maps ``(apiVersion, kind)`` to an
    ``openAPIV3Schema`` (:func:`crd_schemas`)."""
    try:
        docs, problems = parse_documents(text)
    except RecursionError:
        return ValidationResult([], [Problem(0, 1, 1, ERROR, "the text is nested too deeply", "", "yaml")],
                                schemas.version if schemas else "")
    return validate_documents(docs, problems, schemas, crds, missing_crd_severity=missing_crd_severity)


def validate_documents(docs: list[Document], problems: list[Problem], schemas: SchemaSet | None,
                       crds: Mapping[tuple[str, str], Mapping[str, Any]] | None = None, *,
                       missing_crd_severity: str = WARNING,
                       skip: Iterable[tuple[str, str]] = ()) -> ValidationResult:
    """:func:`validate_text` for documents already parsed (``problems``: their syntax problems).

    ``skip`` lists ``(apiVersion, kind)`` pairs whose missing schema the caller already reported."""
    out = list(problems)
    skipped = set(skip)
    for doc in docs:
        try:
            out.extend(validate_document(doc, schemas, crds, missing_crd_severity=missing_crd_severity,
                                         skip=skipped))
        except RecursionError:
            out.append(Problem(doc.index, doc.start_line, 1, ERROR, "the document is nested too deeply", "", "schema"))
    out.sort(key=Problem.sort_key)
    return ValidationResult(docs, _dedupe(out), schemas.version if schemas else "")


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[int, int, int, str, str]] = set()
    out = []
    for p in problems:
        key = (p.doc, p.line, p.column, p.severity, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def iter_objects(docs: Iterable[Document]) -> Iterator[tuple[Document, JsonPath, dict[str, Any]]]:
    """Every Kubernetes object of the documents: ``(document, path, object)``; ``kind: List`` is unrolled."""
    for doc in docs:
        if not doc.parsed or not isinstance(doc.value, dict):
            continue
        if doc.kind == "List" and isinstance(doc.obj.get("items"), list):
            for i, item in enumerate(doc.obj["items"]):
                if isinstance(item, dict):
                    yield doc, ("items", i), item
        else:
            yield doc, (), doc.value
