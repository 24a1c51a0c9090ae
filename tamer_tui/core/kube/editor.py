"""The YAML editor's engine (no UI): open, validate, diff, apply, create, replace, delete, templates, $EDITOR.

Pieces, from pure to cluster-bound:

* Opening: :func:`render_template` (Deployment, Service, Ingress, ConfigMap, Secret, Job, CronJob,
  PVC, Namespace, blank), :func:`open_file`, :func:`open_directory` (a kustomization is built, plain
  directories are concatenated), :meth:`KubeEditor.open_object` (fetched fresh; managedFields and status
  stripped unless asked). Each returns an :class:`Opened` (text + :class:`~tamer_tui.core.kube.drafts.EditSource`).
* Validation: :mod:`tamer_tui.core.kube.yamlcheck` does the offline work; :meth:`KubeEditor.validate`
  picks the schema version nearest to the cluster's ``gitVersion`` and fetches CRD schemas from the
  cluster (cached 30 s); :meth:`KubeEditor.dry_run` asks the server (server-side apply, ``dryRun=All``,
  ``fieldValidation=Strict``) and maps its causes back to lines.
* Changes: :meth:`KubeEditor.diff` (live vs what a server-side apply would produce, one
  :class:`DiffSection` per object, "new object" when it does not exist), :meth:`KubeEditor.apply`
  (server-side apply with field manager ``tamer``; conflicts come back as :class:`FieldConflict` lists
  and can be forced), :meth:`KubeEditor.create`, :meth:`KubeEditor.replace` (PUT with the edited
  resourceVersion; a stale one is a clear conflict), :meth:`KubeEditor.delete`. Every mutation calls
  ``KubeManager.guard`` first (read-only mode).
* ``$EDITOR``: :func:`editor_argv` (``KUBE_EDITOR``, ``EDITOR``, ``VISUAL``, then ``vi``/``notepad``; an
  argv list from ``shlex.split``, never a shell string) and :class:`ExternalEdit` (temp-file round trip;
  the UI runs the argv while suspended).

Multi-document texts are handled object by object (``kind: List`` is unrolled); Namespaces and CRDs are
applied first, deletes go in reverse order.
"""

from __future__ import annotations

import asyncio
import copy
import difflib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tamer_tui.core.errors import InvalidInput, NotFound, RuntimeUnavailable, TamerError
from tamer_tui.core.kube.drafts import EditSource
from tamer_tui.core.kube.resources import BUILTIN, ResourceInfo, builtin, parse_group_resources
from tamer_tui.core.kube.yamlcheck import (
    ERROR,
    INFO,
    WARNING,
    Document,
    JsonPath,
    Problem,
    SchemaSet,
    ValidationResult,
    crd_schemas,
    iter_objects,
    load_schemas,
    parse_documents,
    parse_path,
    path_string,
    split_api_version,
    validate_documents,
)

if TYPE_CHECKING:
    from tamer_tui.core.kube.client import KubeClient
    from tamer_tui.core.kube.manager import KubeManager

FIELD_MANAGER = "tamer"
APPLY_PATCH = "application/apply-patch+yaml"

#: metadata the server owns: dropped from what is applied or created.
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")

_FIRST_KINDS = ("Namespace", "CustomResourceDefinition")


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class ObjectRef:
    """Which object: apiVersion, kind, namespace (``""`` for cluster-scoped) and name."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""

    def __str__(self) -> str:
        ident = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {ident}"


@dataclass(frozen=True)
class FieldConflict:
    """One field another manager owns (from a 409 Status ``details.causes`` entry)."""

    manager: str  # "other" (the quoted name in the server's message)
    field: str  # ".spec.replicas"
    message: str  # 'conflict with "other" using apps/v1'


@dataclass
class ApplyResult:
    """What happened to one object of the text."""

    doc: int
    ref: ObjectRef
    action: str  # created|configured|unchanged|replaced|deleted|not found|conflict|error|pruned
    message: str = ""
    conflicts: list[FieldConflict] = field(default_factory=list)
    object: dict[str, Any] | None = None
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    line: int = 0  # 1-based line of the object in the text (0: not from the text)

    @property
    def ok(self) -> bool:
        return self.action not in ("conflict", "error")

    def __str__(self) -> str:
        suffix = " (dry run)" if self.dry_run else ""
        text = f"{self.ref}: {self.action}{suffix}"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class DiffSection:
    """The diff of one object: live (``""`` when new) vs what applying the edit would give."""

    doc: int
    ref: ObjectRef
    status: str  # new|changed|unchanged|error
    diff: str  # unified diff ("" when unchanged)
    message: str = ""
    conflicts: list[FieldConflict] = field(default_factory=list)
    line: int = 0

    @property
    def header(self) -> str:
        what = {"new": "new object", "changed": "changed", "unchanged": "unchanged", "error": "error"}[self.status]
        return f"{self.ref}: {what}" + (f" ({self.message})" if self.message else "")


@dataclass
class Opened:
    """What an editor is opened with."""

    source: EditSource
    text: str
    note: str = ""  # e.g. "generated by kubectl kustomize: save-as only"
    files: list[str] = field(default_factory=list)  # the files of a directory

    @property
    def resource_version(self) -> str:
        return self.source.resource_version


# ------------------------------------------------------------------------------------ YAML out


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style, keys in server order, multi-line strings as literal blocks."""


def _str_representer(dumper: Any, data: str) -> Any:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)


def to_yaml(obj: Any, *, sort_keys: bool = False) -> str:
    """An object as the editor shows it (block style, literal multi-line strings; keys in the order given
    unless ``sort_keys``)."""
    if obj is None:
        return ""
    return str(yaml.dump(obj, Dumper=_Dumper, sort_keys=sort_keys, default_flow_style=False, allow_unicode=True,
                         width=100_000))


_TOP_ORDER = ("apiVersion", "kind", "metadata")


def canonical_order(obj: Mapping[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first, status last, everything else in between in its own order."""
    out = {k: obj[k] for k in _TOP_ORDER if k in obj}
    out.update({k: v for k, v in obj.items() if k not in out and k != "status"})
    if "status" in obj:
        out["status"] = obj["status"]
    return out


def to_yaml_all(objs: Iterable[Any]) -> str:
    return "---\n".join(to_yaml(o) for o in objs)


def strip_for_edit(obj: Mapping[str, Any], *, keep_managed_fields: bool = False,
                   keep_status: bool = False) -> dict[str, Any]:
    """A live object for the editor: managedFields and status dropped unless asked (copy)."""
    out = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict) and not keep_managed_fields:
        meta.pop("managedFields", None)
    if not keep_status:
        out.pop("status", None)
    return canonical_order(out)


def for_diff(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An object as diffs show it: managedFields, resourceVersion, generation, uid and creationTimestamp
    hidden (they change or appear on every write and say nothing about the edit)."""
    if obj is None:
        return None
    out = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"):
            meta.pop(key, None)
    return out


def unified_diff(before: str, after: str, before_label: str = "live", after_label: str = "edited",
                 context: int = 3) -> str:
    """A unified diff of two texts (``""`` when equal)."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 before_label, after_label, n=context)
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def object_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, label: str = "") -> str:
    """Unified diff of two objects as YAML (after :func:`for_diff`; keys sorted like ``kubectl diff``, so
    the order the server happens to return keys in never shows up as a change)."""
    a = to_yaml(for_diff(before), sort_keys=True) if before is not None else ""
    b = to_yaml(for_diff(after), sort_keys=True) if after is not None else ""
    return unified_diff(a, b, f"live/{label}" if label else "live", f"edited/{label}" if label else "edited")


# ------------------------------------------------------------------------------------ templates

_TEMPLATES: dict[str, str] = {
    "deployment": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: {name}
        image: nginx:1.27
        ports:
        - containerPort: 80
        resources:
          requests:
            cpu: 50m
            memory: 64Mi
          limits:
            memory: 128Mi
""",
    "service": """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  type: ClusterIP
  selector:
    app: {name}
  ports:
  - name: http
    port: 80
    targetPort: 80
    protocol: TCP
""",
    "ingress": """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {namespace}
spec:
  rules:
  - host: {name}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: {name}
            port:
              number: 80
""",
    "configmap": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {namespace}
data:
  key: value
  config.yaml: |
    setting: true
""",
    "secret": """\
apiVersion: v1
kind: Secret
metadata:
  name: {name}
  namespace: {namespace}
type: Opaque
stringData:
  username: admin
  password: change-me
""",
    "job": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: {namespace}
spec:
  backoffLimit: 2
  ttlSecondsAfterFinished: 3600
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: {name}
        image: busybox:1.36
        command: ["sh", "-c", "echo hello"]
""",
    "cronjob": """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: {namespace}
spec:
  schedule: "*/15 * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: {name}
            image: busybox:1.36
            command: ["sh", "-c", "date"]
""",
    "pvc": """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
  namespace: {namespace}
spec:
  accessModes:
  - ReadWriteOnce
  resources:
    requests:
      storage: 1Gi
""",
    "namespace": """\
apiVersion: v1
kind: Namespace
metadata:
  name: {name}
""",
    "blank": "",
}

_TEMPLATE_KINDS = {"deployment": "Deployment", "service": "Service", "ingress": "Ingress",
                   "configmap": "ConfigMap", "secret": "Secret", "job": "Job", "cronjob": "CronJob",
                   "pvc": "PersistentVolumeClaim", "namespace": "Namespace", "blank": ""}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def template_names() -> list[str]:
    """The templates a new object can start from (``blank`` is an empty document)."""
    return list(_TEMPLATES)


def render_template(template: str, *, name: str = "example", namespace: str = "default") -> str:
    """The YAML of a new object from ``template`` (a name of :func:`template_names`, or a kind/short name:
    ``Deployment``, ``deploy``, ``cm``...)."""
    key = template.lower().strip()
    if key not in _TEMPLATES:
        info = builtin(key)
        key = next((k for k, kind in _TEMPLATE_KINDS.items() if info is not None and kind == info.kind), key)
    if key not in _TEMPLATES:
        raise InvalidInput(f"no template {template!r} (templates: {', '.join(_TEMPLATES)})")
    if not _DNS_LABEL.match(name):
        raise InvalidInput(f"{name!r} is not a valid name (lower-case letters, digits and '-')")
    if namespace and not _DNS_LABEL.match(namespace):
        raise InvalidInput(f"{namespace!r} is not a valid namespace")
    return _TEMPLATES[key].format(name=name, namespace=namespace or "default")


def open_template(template: str, *, name: str = "example", namespace: str = "default",
                  context: str = "") -> Opened:
    """An editor buffer for a new object (origin ``new``; ``blank`` gives an empty buffer)."""
    text = render_template(template, name=name, namespace=namespace)
    key = template.lower().strip()
    kind = _TEMPLATE_KINDS.get(key, "")
    if not kind and key not in _TEMPLATES:
        info = builtin(key)
        kind = info.kind if info else ""
    origin = "blank" if not text else "new"
    return Opened(EditSource(origin=origin, context=context, kind=kind, namespace=namespace if kind != "Namespace" else "",
                             name=name if text else "", template=key), text)


# ------------------------------------------------------------------------------------ files

YAML_SUFFIXES = (".yaml", ".yml", ".json")


def open_file(path: str | os.PathLike[str]) -> Opened:
    """A local file (UTF-8; a BOM is dropped). Raises NotFound / InvalidInput."""
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{p} is a directory") from None
    except OSError as exc:
        raise InvalidInput(f"{p}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{p} is not UTF-8 text") from None
    return Opened(EditSource(origin="file", path=str(p)), text)


def directory_files(path: str | os.PathLike[str]) -> list[Path]:
    """The YAML/JSON files of a directory (not recursive, sorted, hidden files skipped)."""
    p = Path(path).expanduser()
    try:
        entries = sorted(p.iterdir())
    except OSError as exc:
        raise InvalidInput(f"{p}: {exc.strerror or exc}") from None
    return [e for e in entries if e.is_file() and e.suffix.lower() in YAML_SUFFIXES and not e.name.startswith(".")]


async def open_directory(path: str | os.PathLike[str], *, builder: Sequence[str] | None = None) -> Opened:
    """A directory: a kustomization is built (origin ``generated``: save-as only); any other directory
    gives its YAML files concatenated, each introduced by a ``# Source: NAME`` comment (origin
    ``directory``: apply and save-as work, saving back into the separate files does not)."""
    from tamer_tui.core.kube import kustomize

    p = Path(path).expanduser()
    if not p.is_dir():
        raise NotFound(f"{p}: no such directory")
    if kustomize.kustomization_file(p) is not None:
        argv = list(builder) if builder else kustomize.find_builder()
        text = await kustomize.build(p, builder=argv)
        return Opened(EditSource(origin="generated", path=str(p)), text,
                      note=f"generated by {' '.join(Path(argv[0]).name.split() + argv[1:])}: save-as only")
    files = directory_files(p)
    parts = []
    for f in files:
        body = open_file(f).text
        parts.append(f"# Source: {f.name}\n" + body + ("" if body.endswith("\n") or not body else "\n"))
    return Opened(EditSource(origin="directory", path=str(p)), "---\n".join(parts),
                  note="" if files else "no YAML files in this directory", files=[str(f) for f in files])


def save_as(path: str | os.PathLike[str], text: str) -> Path:
    """Save the buffer to a file atomically (the old file stays intact if anything fails)."""
    from tamer_tui.core.kube.drafts import write_atomic

    target = Path(path).expanduser()
    if target.is_dir():
        raise InvalidInput(f"{target} is a directory")
    try:
        return write_atomic(target, text)
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------------------------ $EDITOR


def editor_argv(path: str, env: Mapping[str, str] | None = None, *, windows: bool | None = None,
                which: Any = shutil.which) -> list[str]:
    """The argv to edit ``path`` in the user's editor: ``KUBE_EDITOR``, else ``EDITOR``, else ``VISUAL``
    (split with :func:`shlex.split`, so ``code --wait`` works; never run through a shell), else ``vi``
    (``notepad`` on Windows). Raises InvalidInput for an unparsable variable."""
    environ = os.environ if env is None else env
    win = sys.platform.startswith("win") if windows is None else windows
    for var in ("KUBE_EDITOR", "EDITOR", "VISUAL"):
        value = (environ.get(var) or "").strip()
        if not value:
            continue
        try:
            parts = shlex.split(value, posix=not win)
        except ValueError as exc:
            raise InvalidInput(f"${var} cannot be parsed ({exc}): {value!r}") from None
        if win:
            parts = [p[1:-1] if len(p) >= 2 and p[0] == p[-1] == '"' else p for p in parts]
        if parts:
            return [*parts, path]
    if win:
        return ["notepad", path]
    for candidate in ("vi", "vim", "nano"):
        if which(candidate):
            return [candidate, path]
    return ["vi", path]


@dataclass
class ExternalEdit:
    """The ``$EDITOR`` round trip: :meth:`start` writes a temp file and returns the argv to run (the UI
    runs it while suspended), :meth:`finish` reads the result back and removes the file."""

    text: str
    suffix: str = ".yaml"
    path: str = ""
    result: str | None = None

    def start(self, env: Mapping[str, str] | None = None) -> list[str]:
        fd, name = tempfile.mkstemp(prefix="tamer-edit-", suffix=self.suffix)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(self.text)
        self.path = name
        return editor_argv(name, env)

    def finish(self) -> str:
        """The edited text (the original when the file vanished); the temp file is removed.

        A file the editor left in another encoding is kept (never lose an edit): InvalidInput names it."""
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as handle:
                self.result = handle.read()
        except UnicodeDecodeError:
            raise InvalidInput(f"the edited file is not UTF-8 text; it was kept at {self.path}") from None
        except OSError:
            self.result = self.text
        self.cleanup()
        return self.result

    @property
    def changed(self) -> bool:
        return self.result is not None and self.result != self.text

    def cleanup(self) -> None:
        if self.path:
            try:
                os.unlink(self.path)
            except OSError:
                pass


# ------------------------------------------------------------------------------------ HTTP


@dataclass
class _Reply:
    """A raw answer: HTTP status, body and the texts of its ``Warning`` headers."""

    status: int
    body: bytes
    warnings: list[str]

    def data(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


_WARNING = re.compile(r'^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"')


def _warning_text(header: str) -> str:
    m = _WARNING.match(header)
    return m.group(1).replace('\\"', '"') if m else header


async def _send(client: KubeClient, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: bytes | None = None, content_type: str = "application/json", what: str = "") -> _Reply:
    """One request that returns the status, body and ``Warning`` headers instead of raising on 4xx/5xx
    (conflict causes and dry-run warnings live there). Uses the client's session, TLS and credentials;
    transport failures raise :class:`RuntimeUnavailable` like ``KubeClient.request``."""
    import aiohttp

    from tamer_tui.core.kube.client import _params

    session = await client._get_session()  # noqa: SLF001 - same package; KubeClient.request hides the body
    headers = client._headers()  # noqa: SLF001
    if body is not None:
        headers["Content-Type"] = content_type
    tmo = aiohttp.ClientTimeout(total=client.request_timeout, sock_connect=client.connect_timeout)
    label = what or f"{method} {path}"
    try:
        async with session.request(method, client.config.server + path, params=_params(params), data=body,
                                   headers=headers, timeout=tmo, auth=client._auth()) as resp:  # noqa: SLF001
            data = await resp.read()
            warnings = [_warning_text(h) for h in resp.headers.getall("Warning", [])]
            if resp.status == 401 and client.config.refresh is not None:
                await asyncio.to_thread(client._refresh_token)  # noqa: SLF001
            return _Reply(resp.status, bytes(data), warnings)
    except TimeoutError:
        raise RuntimeUnavailable(f"{client.context}: no answer from {client.config.server} ({label})") from None
    except aiohttp.ClientError as exc:
        raise RuntimeUnavailable(f"{client.context}: {client.config.server} unreachable ({exc})") from None
    except OSError as exc:
        raise RuntimeUnavailable(f"{client.context}: {exc}") from None


def status_message(reply: _Reply) -> str:
    """The server's message for a failed request (``HTTP 500`` when the body says nothing)."""
    data = reply.data()
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    text = reply.body[:300].decode("utf-8", "replace").strip()
    return text or f"HTTP {reply.status}"


def conflicts_from_status(status: Any) -> list[FieldConflict]:
    """``FieldManagerConflict`` causes of a 409 apply ``Status`` -> conflicts (manager, field, message).

    Falls back to the message text (``conflict with "m" using apps/v1: .spec.x``) when there are no causes."""
    out: list[FieldConflict] = []
    if not isinstance(status, dict):
        return out
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes or ():
        if not isinstance(cause, dict):
            continue
        if cause.get("type") not in (None, "FieldManagerConflict"):
            continue
        message = str(cause.get("message") or "")
        m = re.search(r'conflict with "([^"]*)"', message)
        out.append(FieldConflict(m.group(1) if m else message, str(cause.get("field") or ""), message))
    if out:
        return out
    message = str(status.get("message") or "")
    for m in re.finditer(r'conflict with "([^"]*)"[^:\n]*: (\S+)', message):
        out.append(FieldConflict(m.group(1), m.group(2), m.group(0)))
    current = None
    for line in message.splitlines():
        head = re.search(r'conflicts with "([^"]*)"', line)
        if head:
            current = head.group(1)
        elif current and line.startswith("- "):
            out.append(FieldConflict(current, line[2:].strip(), f'conflict with "{current}"'))
    return out


def _server_paths(status: Any) -> list[tuple[str, str]]:
    """``(field path, message)`` of a failed request's causes, or found in its message."""
    out: list[tuple[str, str]] = []
    if not isinstance(status, dict):
        return out
    details = status.get("details")
    for cause in (details.get("causes") if isinstance(details, dict) else None) or ():
        if isinstance(cause, dict) and cause.get("field"):
            out.append((str(cause["field"]), str(cause.get("message") or cause.get("reason") or "")))
    message = str(status.get("message") or "")
    if not out:
        for m in re.finditer(r'unknown field "([^"]+)"', message):
            out.append((m.group(1), f'unknown field "{m.group(1)}"'))
        for m in re.finditer(r'(?:^|[\s(:;])(\.[\w.\-\[\]="/]+): ([^;]+?)(?=;|$)', message):
            out.append((m.group(1), m.group(2).strip()))
    return out


# ------------------------------------------------------------------------------------ engine


@dataclass
class _Target:
    """One object of the text on its way to the server: where it is, its type and namespace."""

    doc: Document
    path: JsonPath
    obj: dict[str, Any]
    info: ResourceInfo | None = None
    namespace: str = ""
    error: str = ""

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata")
        return str(meta.get("name") or "") if isinstance(meta, dict) else ""

    @property
    def generate_name(self) -> str:
        meta = self.obj.get("metadata")
        return str(meta.get("generateName") or "") if isinstance(meta, dict) else ""

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(str(self.obj.get("apiVersion") or ""), str(self.obj.get("kind") or ""),
                         self.name or (self.generate_name + "*" if self.generate_name else "?"), self.namespace)

    @property
    def line(self) -> int:
        return self.doc.locate(self.path)[0]


def _body(obj: Mapping[str, Any], namespace: str | None, *, extra_labels: Mapping[str, str] | None = None,
          keep: Sequence[str] = ()) -> dict[str, Any]:
    """What is sent: server-owned metadata and status dropped (except the keys in ``keep``)."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        out["metadata"] = meta
    for key in SERVER_METADATA:
        if key not in keep:
            meta.pop(key, None)
    if namespace:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    if extra_labels:
        labels = meta.get("labels")
        meta["labels"] = {**(labels if isinstance(labels, dict) else {}), **extra_labels}
    return out


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Equal as diffs show them, status ignored (controllers change it at any time)."""
    fa, fb = for_diff(a), for_diff(b)
    if fa is not None:
        fa.pop("status", None)
    if fb is not None:
        fb.pop("status", None)
    return fa == fb


class KubeEditor:
    """The editor's link to one Kubernetes context: schemas, CRDs, diff, apply, create, replace, delete.

    ``namespace`` is where namespaced objects without ``metadata.namespace`` go (default: the manager's
    current namespace, else the context's, else ``default``)."""

    CACHE_SECONDS = 30.0

    def __init__(self, km: KubeManager, context: str | None = None, namespace: str | None = None,
                 field_manager: str = FIELD_MANAGER) -> None:
        self.km = km
        self.context = context or km.current
        self._namespace = namespace
        self.field_manager = field_manager
        self._gv_cache: dict[str, tuple[float, list[ResourceInfo]]] = {}
        self._crd_cache: dict[tuple[str, str], tuple[float, dict[str, Any] | None, str, bool]] = {}
        self._git_version: str | None = None

    # -- basics ---------------------------------------------------------------------------------
    @property
    def namespace(self) -> str:
        if self._namespace:
            return self._namespace
        if self.context == self.km.current and self.km.namespace:
            return self.km.namespace
        try:
            return self.km.state(self.context).namespace or "default"
        except NotFound:
            return "default"

    async def client(self) -> KubeClient:
        return await self.km.client(self.context)

    async def git_version(self) -> str:
        """The cluster's ``gitVersion`` (from the last probe, else asked once); ``""`` when unreachable."""
        if self._git_version is None:
            version = ""
            try:
                version = self.km.state(self.context).version
            except NotFound:
                version = ""
            if not version:
                try:
                    client = await self.client()
                    version = str((await client.version(timeout=5.0)).get("gitVersion", ""))
                except (TamerError, TimeoutError):
                    return ""
            self._git_version = version
        return self._git_version

    async def schemas(self) -> SchemaSet | None:
        """The built-in schemas nearest to the cluster's version (the newest shipped when unknown)."""
        return await asyncio.to_thread(load_schemas, await self.git_version() or None)

    async def resource_info(self, api_version: str, kind: str) -> ResourceInfo:
        """Where objects of ``apiVersion``/``kind`` live on this cluster (discovery of that group-version,
        cached 30 s). Raises InvalidInput when the server does not serve it (e.g. no CRD)."""
        group, version = split_api_version(api_version)
        for info in BUILTIN:
            if info.group == group and info.version == version and info.kind == kind:
                return info
        for attempt in range(2):
            cached = self._gv_cache.get(api_version)
            if cached is None or attempt == 1 or time.monotonic() - cached[0] > self.CACHE_SECONDS:
                if cached is not None and attempt == 1 and time.monotonic() - cached[0] < 1.0:
                    break
                client = await self.client()
                path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                try:
                    data = json.loads(await client.get(path, what=f"discovery {api_version}"))
                except NotFound:
                    data = {}
                except ValueError:
                    data = {}
                infos = parse_group_resources(api_version, data) if isinstance(data, dict) else []
                cached = (time.monotonic(), infos)
                self._gv_cache[api_version] = cached
            for info in cached[1]:
                if info.kind == kind:
                    return info
        raise InvalidInput(f"the cluster does not serve {kind} in {api_version}"
                           + (" (is its CRD installed?)" if "." in group else ""))

    # -- opening ----------------------------------------------------------------------------------
    async def open_object(self, what: ResourceInfo | str, namespace: str, name: str, *,
                          keep_managed_fields: bool = False, keep_status: bool = False) -> Opened:
        """A live object fetched fresh, as YAML (managedFields and status stripped unless asked)."""
        info = what if isinstance(what, ResourceInfo) else await self.km.resolve(what, self.context)
        obj = await self.km.get_object(info, namespace if info.namespaced else "", name, self.context)
        meta = obj.get("metadata") or {}
        text = to_yaml(strip_for_edit(obj, keep_managed_fields=keep_managed_fields, keep_status=keep_status))
        source = EditSource(origin="object", context=self.context, api_version=str(obj.get("apiVersion") or info.api_version),
                            kind=str(obj.get("kind") or info.kind), namespace=str(meta.get("namespace") or ""),
                            name=str(meta.get("name") or name), resource_version=str(meta.get("resourceVersion") or ""))
        return Opened(source, text)

    # -- validation ------------------------------------------------------------------------------
    async def crd_schema(self, api_version: str, kind: str) -> tuple[dict[str, Any] | None, str, bool]:
        """``(openAPIV3Schema, "", False)`` of a custom resource from its CRD on the cluster, else
        ``(None, why not, served)`` where ``served`` is False when the cluster said it does not serve the
        kind at all (an error: applying it must fail) and True when the schema could not be had for
        another reason (unreachable, forbidden: only a warning)."""
        key = (api_version, kind)
        cached = self._crd_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.CACHE_SECONDS:
            return cached[1], cached[2], cached[3]
        schema: dict[str, Any] | None = None
        why = ""
        served = True
        try:
            info = await self.resource_info(api_version, kind)
            client = await self.client()
            group, _ = split_api_version(api_version)
            crd_name = f"{info.plural}.{group}"
            raw = await client.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd_name}",
                                   what=f"CRD {crd_name}")
            schema = crd_schemas([json.loads(raw)]).get(key)
            if schema is None:
                why = f"CRD {crd_name} does not serve {api_version}"
        except NotFound:
            why = f"no CRD for {kind} ({api_version}) on {self.context}"
        except InvalidInput as exc:
            why, served = str(exc), False
        except (TamerError, ValueError, TimeoutError) as exc:
            why = f"CRD schema of {kind} not available: {exc}"
        self._crd_cache[key] = (time.monotonic(), schema, why, served)
        return schema, why, served

    async def validate(self, text: str) -> ValidationResult:
        """Syntax, built-in schemas (the cluster's version) and CRD schemas fetched from the cluster.

        Never raises: a cluster that cannot be reached only loses the CRD checks (reported as warnings).
        The CPU work runs in a thread, so the UI's event loop stays responsive."""
        try:
            schemas = await self.schemas()
        except Exception:  # noqa: BLE001 - validation must never fail
            schemas = None
        docs, problems = await asyncio.to_thread(parse_documents, text)
        crds: dict[tuple[str, str], dict[str, Any]] = {}
        extra: list[Problem] = []
        wanted: dict[tuple[str, str], list[tuple[Document, JsonPath]]] = {}
        for doc, path, obj in iter_objects(docs):
            av, kind = obj.get("apiVersion"), obj.get("kind")
            if not isinstance(av, str) or not isinstance(kind, str) or not av or not kind:
                continue
            if schemas is not None and schemas.schema_for(av, kind) is not None:
                continue
            group, _ = split_api_version(av)
            if schemas is not None and group in schemas.groups:
                continue  # a built-in group: the offline check names the problem
            wanted.setdefault((av, kind), []).append((doc, path))
        for (av, kind), where in wanted.items():
            try:
                schema, why, served = await self.crd_schema(av, kind)
            except Exception as exc:  # noqa: BLE001 - validation never raises
                schema, why, served = None, str(exc), True
            if schema is not None:
                crds[(av, kind)] = schema
                continue
            for doc, path in where:
                line, col = doc.locate((*path, "kind"))
                severity = WARNING if served else ERROR
                extra.append(Problem(doc.index, line, col, severity, f"{why}: {kind} not validated", path_string((*path, "kind")), "crd"))
        covered = set(wanted)
        result = await asyncio.to_thread(validate_documents, docs, problems, schemas, crds, skip=covered - set(crds))
        result.problems = sorted([*result.problems, *extra], key=Problem.sort_key)
        return result

    # -- parsing for changes ------------------------------------------------------------------------
    async def _targets(self, text: str) -> list[_Target]:
        """The objects of ``text`` with their resource types; refuses a text with syntax errors or
        objects without apiVersion/kind/name (nothing is sent then)."""
        docs, problems = await asyncio.to_thread(parse_documents, text)
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            first = errors[0]
            raise InvalidInput(f"line {first.line}: {first.message}")
        targets: list[_Target] = []
        for doc, path, obj in iter_objects(docs):
            target = _Target(doc, path, obj)
            av, kind = obj.get("apiVersion"), obj.get("kind")
            if not isinstance(av, str) or not av or not isinstance(kind, str) or not kind:
                raise InvalidInput(f"line {target.line}: apiVersion and kind are required")
            if not target.name and not target.generate_name:
                raise InvalidInput(f"line {target.line}: metadata.name is required")
            targets.append(target)
        for doc in docs:
            if doc.parsed and not isinstance(doc.value, dict):
                raise InvalidInput(f"line {doc.start_line}: a Kubernetes object must be a mapping")
        if not targets:
            raise InvalidInput("nothing to send: the text holds no Kubernetes object")
        for target in targets:
            try:
                target.info = await self.resource_info(target.ref.api_version, target.ref.kind)
            except InvalidInput as exc:
                target.error = str(exc)
                continue
            meta = target.obj.get("metadata")
            ns = str(meta.get("namespace") or "") if isinstance(meta, dict) else ""
            target.namespace = (ns or self.namespace) if target.info.namespaced else ""
        return targets

    @staticmethod
    def _ordered(targets: list[_Target]) -> list[_Target]:
        first = [t for t in targets if t.ref.kind in _FIRST_KINDS]
        return first + [t for t in targets if t.ref.kind not in _FIRST_KINDS]

    async def _live(self, client: KubeClient, target: _Target) -> dict[str, Any] | None:
        assert target.info is not None
        if not target.name:
            return None
        reply = await _send(client, "GET", target.info.path(target.namespace or None, target.name),
                            what=f"get {target.ref}")
        if reply.status == 404:
            return None
        if reply.status >= 400:
            from tamer_tui.core.kube.client import error_for

            raise error_for(reply.status, reply.body, f"get {target.ref}")
        data = reply.data()
        return data if isinstance(data, dict) else None

    async def _server_apply(self, client: KubeClient, target: _Target, *, force: bool, dry_run: bool,
                            extra_labels: Mapping[str, str] | None = None) -> _Reply:
        assert target.info is not None
        body = _body(target.obj, target.namespace or None, extra_labels=extra_labels)
        params = {"fieldManager": self.field_manager, "fieldValidation": "Strict",
                  "force": "true" if force else None, "dryRun": "All" if dry_run else None}
        return await _send(client, "PATCH", target.info.path(target.namespace or None, target.name),
                           params=params, body=json.dumps(body).encode(), content_type=APPLY_PATCH,
                           what=f"apply {target.ref}")

    async def _create_one(self, client: KubeClient, target: _Target, *, dry_run: bool,
                          extra_labels: Mapping[str, str] | None = None) -> _Reply:
        assert target.info is not None
        body = _body(target.obj, target.namespace or None, extra_labels=extra_labels)
        params = {"fieldManager": self.field_manager, "fieldValidation": "Strict",
                  "dryRun": "All" if dry_run else None}
        return await _send(client, "POST", target.info.path(target.namespace or None), params=params,
                           body=json.dumps(body).encode(), what=f"create {target.ref}")

    def _result(self, target: _Target, action: str, message: str = "", **kw: Any) -> ApplyResult:
        return ApplyResult(target.doc.index, target.ref, action, message, line=target.line, **kw)

    # -- dry run ------------------------------------------------------------------------------------
    async def dry_run(self, text: str) -> list[Problem]:
        """Server-side validation: a dry-run server-side apply (``dryRun=All``, ``fieldValidation=Strict``)
        of every object. Refusals become errors at the line of the field the server names (else at the
        object), server warnings become warnings, accepted objects an ``info`` line. Syntax errors in the
        text raise InvalidInput (validate first)."""
        targets = await self._targets(text)
        client = await self.client()
        out: list[Problem] = []
        for target in self._ordered(targets):
            line, col = target.doc.locate(target.path)
            if target.error or target.info is None:
                kline, kcol = target.doc.locate((*target.path, "kind"))
                out.append(Problem(target.doc.index, kline, kcol, ERROR, target.error, path_string((*target.path, "kind")), "server"))
                continue
            try:
                live = await self._live(client, target)
                if target.name:
                    reply = await self._server_apply(client, target, force=False, dry_run=True)
                else:
                    reply = await self._create_one(client, target, dry_run=True)
            except TamerError as exc:
                out.append(Problem(target.doc.index, line, col, ERROR, f"{target.ref}: {exc}", "", "server"))
                continue
            for w in reply.warnings:
                out.append(Problem(target.doc.index, line, col, WARNING, f"{target.ref}: {w}", "", "server"))
            if reply.status == 409:
                status = reply.data()
                conflicts = conflicts_from_status(status)
                for c in conflicts:
                    fpath = (*target.path, *parse_path(c.field))
                    cl, cc = target.doc.locate(fpath)
                    out.append(Problem(target.doc.index, cl, cc, ERROR,
                                       f"{target.ref}: field owned by {c.manager!r} ({c.message}); apply with force to take it",
                                       path_string(fpath), "server"))
                if not conflicts:
                    out.append(Problem(target.doc.index, line, col, ERROR, f"{target.ref}: {status_message(reply)}", "", "server"))
                continue
            if reply.status >= 400:
                status = reply.data()
                located = _server_paths(status)
                message = status_message(reply)
                if located:
                    for fld, msg in located:
                        fpath = (*target.path, *parse_path(fld))
                        fl, fc = target.doc.locate(fpath, at_key=True)
                        out.append(Problem(target.doc.index, fl, fc, ERROR, f"{target.ref}: {msg or message}",
                                           path_string(fpath), "server"))
                else:
                    out.append(Problem(target.doc.index, line, col, ERROR, f"{target.ref}: {message}", "", "server"))
                continue
            merged = reply.data()
            verb = "created" if live is None else ("unchanged" if _same(live, merged) else "configured")
            out.append(Problem(target.doc.index, line, col, INFO, f"{target.ref}: server dry run OK (would be {verb})",
                               "", "server"))
        out.sort(key=Problem.sort_key)
        return out

    # -- diff -----------------------------------------------------------------------------------------
    async def diff(self, text: str, *, force: bool = False,
                   extra_labels: Mapping[str, str] | None = None) -> list[DiffSection]:
        """Live vs edited, one section per object, computed from a dry-run server-side apply (what the
        server would really store, defaults included). A conflict is reported in the section and the diff
        shows the forced result; when the server refuses the object the section is an ``error`` with a
        local diff (live vs the edited object as typed). Pass the same ``extra_labels`` as to :meth:`apply`
        (prune labels): without them the diff shows the labels being removed, which is what applying the
        plain text would do."""
        targets = await self._targets(text)
        client = await self.client()
        out: list[DiffSection] = []
        for target in targets:
            label = f"{target.ref.kind}/{target.ref.namespace + '/' if target.ref.namespace else ''}{target.ref.name}"
            if target.error or target.info is None:
                out.append(DiffSection(target.doc.index, target.ref, "error",
                                       object_diff(None, target.obj, label), target.error, line=target.line))
                continue
            try:
                live = await self._live(client, target)
                conflicts: list[FieldConflict] = []
                if target.name:
                    reply = await self._server_apply(client, target, force=force, dry_run=True,
                                                     extra_labels=extra_labels)
                    if reply.status == 409:
                        conflicts = conflicts_from_status(reply.data())
                        reply = await self._server_apply(client, target, force=True, dry_run=True,
                                                         extra_labels=extra_labels)
                else:
                    reply = await self._create_one(client, target, dry_run=True, extra_labels=extra_labels)
            except TamerError as exc:
                out.append(DiffSection(target.doc.index, target.ref, "error", "", str(exc), line=target.line))
                continue
            if reply.status >= 400:
                local = _body(target.obj, target.namespace or None, extra_labels=extra_labels)
                out.append(DiffSection(target.doc.index, target.ref, "error",
                                       object_diff(strip_for_edit(live) if live else None, local, label),
                                       f"the server refused it: {status_message(reply)}", conflicts, target.line))
                continue
            merged = reply.data()
            text_diff = object_diff(strip_for_edit(live) if live else None, strip_for_edit(merged), label)
            status = "new" if live is None else ("changed" if text_diff else "unchanged")
            message = ""
            if conflicts:
                owners = sorted({c.manager for c in conflicts})
                message = f"conflicts with {', '.join(owners)}: applying needs force"
            out.append(DiffSection(target.doc.index, target.ref, status, text_diff, message, conflicts, target.line))
        return out

    # -- apply / create / replace / delete -----------------------------------------------------------
    async def apply(self, text: str, *, force: bool = False, dry_run: bool = False,
                    extra_labels: Mapping[str, str] | None = None) -> list[ApplyResult]:
        """Server-side apply of every object (field manager ``tamer``, ``fieldValidation=Strict``).

        A 409 gives ``action="conflict"`` with the owning managers and fields (``force=True`` takes them
        over: only after the user confirmed). Objects with only ``generateName`` are created. Namespaces
        and CRDs go first. ``extra_labels`` are added to every object (prune labels)."""
        targets = await self._targets(text)
        if not dry_run:
            self.km.guard(f"apply {len(targets)} object{'s' if len(targets) != 1 else ''}", self.context)
        client = await self.client()
        results: list[ApplyResult] = []
        for target in self._ordered(targets):
            results.append(await self._apply_target(client, target, force=force, dry_run=dry_run,
                                                    extra_labels=extra_labels))
        return results

    async def _apply_target(self, client: KubeClient, target: _Target, *, force: bool, dry_run: bool,
                            extra_labels: Mapping[str, str] | None) -> ApplyResult:
        if target.error or target.info is None:
            return self._result(target, "error", target.error, dry_run=dry_run)
        try:
            live = await self._live(client, target)
            if target.name:
                reply = await self._server_apply(client, target, force=force, dry_run=dry_run,
                                                 extra_labels=extra_labels)
            else:
                reply = await self._create_one(client, target, dry_run=dry_run, extra_labels=extra_labels)
        except TamerError as exc:
            return self._result(target, "error", str(exc), dry_run=dry_run)
        if reply.status == 409 and target.name:
            conflicts = conflicts_from_status(reply.data())
            owners = sorted({c.manager for c in conflicts})
            message = (f"fields owned by {', '.join(owners)}: " + ", ".join(c.field for c in conflicts)
                       if conflicts else status_message(reply))
            return self._result(target, "conflict", message, conflicts=conflicts, dry_run=dry_run,
                                warnings=reply.warnings)
        if reply.status >= 400:
            return self._result(target, "error", status_message(reply), dry_run=dry_run, warnings=reply.warnings)
        result = reply.data()
        if live is None:
            action = "created"
        elif _same(live, result):
            action = "unchanged"
        else:
            action = "configured"
        return self._result(target, action, object=result if isinstance(result, dict) else None,
                            dry_run=dry_run, warnings=reply.warnings)

    async def create(self, text: str, *, dry_run: bool = False) -> list[ApplyResult]:
        """POST every object (``fieldValidation=Strict``); an existing one is an error that says so."""
        targets = await self._targets(text)
        if not dry_run:
            self.km.guard(f"create {len(targets)} object{'s' if len(targets) != 1 else ''}", self.context)
        client = await self.client()
        results: list[ApplyResult] = []
        for target in self._ordered(targets):
            if target.error or target.info is None:
                results.append(self._result(target, "error", target.error, dry_run=dry_run))
                continue
            try:
                reply = await self._create_one(client, target, dry_run=dry_run)
            except TamerError as exc:
                results.append(self._result(target, "error", str(exc), dry_run=dry_run))
                continue
            if reply.status == 409:
                results.append(self._result(target, "error", f"{target.ref} already exists: apply or replace it instead",
                                            dry_run=dry_run))
            elif reply.status >= 400:
                results.append(self._result(target, "error", status_message(reply), dry_run=dry_run,
                                            warnings=reply.warnings))
            else:
                created = reply.data()
                results.append(self._result(target, "created", object=created if isinstance(created, dict) else None,
                                            dry_run=dry_run, warnings=reply.warnings))
        return results

    async def replace(self, text: str, *, resource_version: str | None = None,
                      dry_run: bool = False) -> list[ApplyResult]:
        """PUT every object with the resourceVersion it was edited from (the text's
        ``metadata.resourceVersion``, else ``resource_version``: the draft's). If someone changed the
        object since, the server answers 409 and the result is a ``conflict`` naming both versions.
        Without any resourceVersion the object is replaced unconditionally (like ``kubectl replace``)."""
        targets = await self._targets(text)
        if not dry_run:
            self.km.guard(f"replace {len(targets)} object{'s' if len(targets) != 1 else ''}", self.context)
        client = await self.client()
        results: list[ApplyResult] = []
        for target in self._ordered(targets):
            if target.error or target.info is None or not target.name:
                results.append(self._result(target, "error", target.error or "replace needs metadata.name",
                                            dry_run=dry_run))
                continue
            meta = target.obj.get("metadata") if isinstance(target.obj.get("metadata"), dict) else {}
            rv = str((meta or {}).get("resourceVersion") or (resource_version if len(targets) == 1 else "") or "")
            body = _body(target.obj, target.namespace or None, keep=("uid",))
            if rv:
                body["metadata"]["resourceVersion"] = rv
            params = {"fieldManager": self.field_manager, "fieldValidation": "Strict",
                      "dryRun": "All" if dry_run else None}
            path = target.info.path(target.namespace or None, target.name)
            try:
                reply = await _send(client, "PUT", path, params=params, body=json.dumps(body).encode(),
                                    what=f"replace {target.ref}")
                if reply.status == 409:
                    live = await self._live(client, target)
                    now = str(((live or {}).get("metadata") or {}).get("resourceVersion") or "?")
                    results.append(self._result(
                        target, "conflict",
                        f"{target.ref} was changed on the server since it was loaded (edited resourceVersion "
                        f"{rv or '?'}, the server has {now}): reload it and redo the edit, or apply instead",
                        dry_run=dry_run))
                    continue
            except TamerError as exc:
                results.append(self._result(target, "error", str(exc), dry_run=dry_run))
                continue
            if reply.status == 404:
                results.append(self._result(target, "error", f"{target.ref} does not exist: create or apply it",
                                            dry_run=dry_run))
            elif reply.status >= 400:
                results.append(self._result(target, "error", status_message(reply), dry_run=dry_run,
                                            warnings=reply.warnings))
            else:
                obj = reply.data()
                note = "" if rv else "no resourceVersion: replaced unconditionally"
                results.append(self._result(target, "replaced", note, object=obj if isinstance(obj, dict) else None,
                                            dry_run=dry_run, warnings=reply.warnings))
        return results

    async def delete(self, text: str, *, dry_run: bool = False) -> list[ApplyResult]:
        """DELETE every object of the text (reverse order; background propagation). A missing object is
        ``not found``, not an error."""
        targets = await self._targets(text)
        if not dry_run:
            self.km.guard(f"delete {len(targets)} object{'s' if len(targets) != 1 else ''}", self.context)
        client = await self.client()
        results: list[ApplyResult] = []
        for target in reversed(self._ordered(targets)):
            results.append(await self._delete_target(client, target, dry_run=dry_run))
        return results

    async def _delete_target(self, client: KubeClient, target: _Target, *, dry_run: bool) -> ApplyResult:
        if target.error or target.info is None or not target.name:
            return self._result(target, "error", target.error or "delete needs metadata.name", dry_run=dry_run)
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if dry_run:
            body["dryRun"] = ["All"]
        try:
            reply = await _send(client, "DELETE", target.info.path(target.namespace or None, target.name),
                                params={"dryRun": "All" if dry_run else None}, body=json.dumps(body).encode(),
                                what=f"delete {target.ref}")
        except TamerError as exc:
            return self._result(target, "error", str(exc), dry_run=dry_run)
        if reply.status == 404:
            return self._result(target, "not found", dry_run=dry_run)
        if reply.status >= 400:
            return self._result(target, "error", status_message(reply), dry_run=dry_run)
        return self._result(target, "deleted", dry_run=dry_run)

    async def delete_refs(self, refs: Iterable[tuple[ResourceInfo, ObjectRef]], *, action: str = "deleted",
                          dry_run: bool = False) -> list[ApplyResult]:
        """DELETE objects known by reference (prune); ``action`` names what happened to them."""
        refs = list(refs)
        if not dry_run and refs:
            self.km.guard(f"delete {len(refs)} object{'s' if len(refs) != 1 else ''}", self.context)
        client = await self.client()
        out: list[ApplyResult] = []
        for info, ref in refs:
            body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
            try:
                reply = await _send(client, "DELETE", info.path(ref.namespace or None, ref.name),
                                    params={"dryRun": "All" if dry_run else None},
                                    body=json.dumps(body).encode(), what=f"delete {ref}")
            except TamerError as exc:
                out.append(ApplyResult(-1, ref, "error", str(exc), dry_run=dry_run))
                continue
            if reply.status == 404:
                out.append(ApplyResult(-1, ref, "not found", dry_run=dry_run))
            elif reply.status >= 400:
                out.append(ApplyResult(-1, ref, "error", status_message(reply), dry_run=dry_run))
            else:
                out.append(ApplyResult(-1, ref, action, dry_run=dry_run))
        return out

    async def list_labeled(self, info: ResourceInfo, selector: str, namespaces: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Objects of one type carrying a label selector (in the given namespaces, or cluster-wide)."""
        client = await self.client()
        paths = [info.path(ns) for ns in sorted(set(namespaces))] if info.namespaced else [info.path()]
        if info.namespaced and not paths:
            paths = [info.path()]
        out: list[dict[str, Any]] = []
        for path in paths:
            try:
                raw = await client.get(path, {"labelSelector": selector}, what=f"list {info.plural}")
            except NotFound:
                continue
            items = json.loads(raw).get("items") or []
            for item in items:
                if isinstance(item, dict):
                    item.setdefault("apiVersion", info.api_version)
                    item.setdefault("kind", info.kind)
                    out.append(item)
        return out


def results_text(results: Iterable[ApplyResult]) -> str:
    """One line per result, like kubectl prints (``Deployment default/web: configured``)."""
    return "\n".join(str(r) for r in results)
