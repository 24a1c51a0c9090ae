"""Kustomize for the editor: build a directory, list its overlays, apply the output with optional pruning.

* Building runs ``kustomize build DIR`` when the ``kustomize`` binary is on PATH, else ``kubectl
  kustomize DIR`` (kubectl has embedded kustomize since v1.14); with neither, :func:`find_builder`
  raises a message naming both. Commands are argv lists, run without a shell.
* :func:`list_overlays` of a base: every directory under the base's parent (3 levels deep) whose
  kustomization references the base through ``resources``/``bases``/``components``, plus every
  ``overlays/*`` directory next to the base that has a kustomization (``references_base`` tells which).
* :func:`apply_kustomization` builds and server-side applies every object (field manager ``tamer``).
  Pruning is label based and opt-in: with ``prune_label="key=value"`` that label is added to every
  applied object, and once *every* object applied cleanly, objects carrying the label that are no longer
  in the output are deleted. Looked at: the kinds in the output plus kubectl's default prune kinds
  (ConfigMap, Secret, Service, PVC, Deployment, StatefulSet, DaemonSet, Job, CronJob, Ingress), in the
  namespaces of the output (cluster-scoped kinds cluster-wide); objects owned by a controller
  (``ownerReferences``) are never pruned. Namespaces are pruned only when the output holds Namespaces.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tamer_tui.core.errors import InvalidInput, RuntimeUnavailable
from tamer_tui.core.kube.resources import ResourceInfo, builtin

if TYPE_CHECKING:
    from tamer_tui.core.kube.editor import ApplyResult, KubeEditor, ObjectRef

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

#: Kinds looked at when pruning, besides those in the output (kubectl's default allowlist, minus
#: Pods, ReplicaSets, Endpoints and PersistentVolumes, which controllers own or create).
DEFAULT_PRUNE_KINDS = ("configmaps", "secrets", "services", "persistentvolumeclaims", "deployments",
                       "statefulsets", "daemonsets", "jobs", "cronjobs", "ingresses")

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def kustomization_file(directory: str | Path) -> Path | None:
    """The kustomization file of a directory, or None."""
    d = Path(directory)
    for name in KUSTOMIZATION_FILES:
        candidate = d / name
        if candidate.is_file():
            return candidate
    return None


def find_builder(which: Callable[[str], str | None] = shutil.which, kubectl: str | None = None) -> list[str]:
    """The argv prefix that builds a kustomization: ``[kustomize, "build"]`` or ``[kubectl, "kustomize"]``."""
    found = which("kustomize")
    if found:
        return [found, "build"]
    kubectl_path = kubectl or which("kubectl")
    if kubectl_path:
        return [kubectl_path, "kustomize"]
    raise RuntimeUnavailable("building a kustomization needs the `kustomize` binary or `kubectl` "
                             "(`kubectl kustomize`) on PATH: neither was found")


async def build(directory: str | Path, *, builder: Sequence[str] | None = None, timeout: float = 60.0) -> str:
    """The multi-document YAML a kustomization builds to. Raises InvalidInput with kustomize's own
    message when the build fails, RuntimeUnavailable when the tool is missing or hangs."""
    d = Path(directory).expanduser()
    if kustomization_file(d) is None:
        raise InvalidInput(f"{d} has no kustomization.yaml")
    argv = [*(builder or find_builder()), str(d)]
    try:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise RuntimeUnavailable(f"{argv[0]} not found") from None
    except OSError as exc:
        raise RuntimeUnavailable(f"{argv[0]}: {exc.strerror or exc}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeUnavailable(f"{' '.join(argv[:2])} did not finish within {timeout:.0f}s") from None
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise InvalidInput(f"{Path(argv[0]).name} {argv[1]} {d.name} failed: {message}")
    return out.decode("utf-8", "replace")


def kustomization_refs(directory: str | Path) -> list[Path]:
    """The local directories a kustomization refers to (``resources``, ``bases``, ``components``), resolved."""
    d = Path(directory)
    path = kustomization_file(d)
    if path is None:
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(data, dict):
        return []
    out: list[Path] = []
    for key in ("resources", "bases", "components"):
        for entry in data.get(key) or ():
            if not isinstance(entry, str) or "://" in entry or entry.startswith(("git@", "github.com/")):
                continue
            target = (d / entry).resolve()
            if target.is_dir():
                out.append(target)
    return out


@dataclass(frozen=True)
class Overlay:
    """A kustomization built on top of a base."""

    path: Path
    name: str  # the path relative to the base's parent ("overlays/dev")
    references_base: bool


def list_overlays(base: str | Path, *, max_depth: int = 3) -> list[Overlay]:
    """Overlays of ``base`` (see the module docstring), sorted by name."""
    base_dir = Path(base).expanduser().resolve()
    root = base_dir.parent
    found: dict[Path, Overlay] = {}

    def visit(d: Path, depth: int) -> None:
        if depth > max_depth:
            return
        try:
            children = sorted(c for c in d.iterdir() if c.is_dir() and not c.name.startswith("."))
        except OSError:
            return
        for child in children:
            resolved = child.resolve()
            if resolved != base_dir and kustomization_file(child) is not None:
                refs = kustomization_refs(child)
                in_overlays = resolved.parent == (root / "overlays").resolve()
                if base_dir in refs or in_overlays:
                    found[resolved] = Overlay(resolved, resolved.relative_to(root).as_posix(), base_dir in refs)
            visit(child, depth + 1)

    visit(root, 1)
    return sorted(found.values(), key=lambda o: o.name)


def parse_label(label: str) -> tuple[str, str]:
    """``key=value`` -> (key, value); raises InvalidInput for an invalid label."""
    key, sep, value = label.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not _LABEL_KEY.match(key) or len(value) > 63 or not _LABEL_VALUE.match(value):
        raise InvalidInput(f"prune label must be key=value with a valid label key and value, not {label!r}")
    return key, value


@dataclass
class KustomizeResult:
    """What :func:`apply_kustomization` did."""

    text: str
    applied: list[ApplyResult] = field(default_factory=list)
    pruned: list[ApplyResult] = field(default_factory=list)
    prune_skipped: str = ""  # why pruning did not run, when it was asked for

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.applied) and all(r.ok for r in self.pruned)


async def apply_kustomization(editor: KubeEditor, directory: str | Path, *, prune_label: str | None = None,
                              force: bool = False, dry_run: bool = False,
                              builder: Sequence[str] | None = None, text: str | None = None) -> KustomizeResult:
    """Build ``directory`` (or use the already built ``text``) and apply it; prune on request."""
    built = text if text is not None else await build(directory, builder=builder)
    labels = dict([parse_label(prune_label)]) if prune_label else None
    applied = await editor.apply(built, force=force, dry_run=dry_run, extra_labels=labels)
    result = KustomizeResult(built, applied)
    if prune_label:
        if not all(r.ok for r in applied):
            result.prune_skipped = "not every object applied cleanly: nothing was pruned"
        else:
            result.pruned = await prune(editor, applied, prune_label, dry_run=dry_run)
    return result


async def prune(editor: KubeEditor, applied: Sequence[ApplyResult], prune_label: str, *,
                dry_run: bool = False, kinds: Sequence[str] = DEFAULT_PRUNE_KINDS) -> list[ApplyResult]:
    """Delete objects labelled ``prune_label`` that are not among ``applied`` (see the module docstring)."""
    key, value = parse_label(prune_label)
    selector = f"{key}={value}"
    keep = {(r.ref.api_version.rpartition("/")[0], r.ref.kind, r.ref.namespace, r.ref.name) for r in applied}
    infos: dict[tuple[str, str], ResourceInfo] = {}
    namespaces = {r.ref.namespace for r in applied if r.ref.namespace} or {editor.namespace}
    for r in applied:
        try:
            info = await editor.resource_info(r.ref.api_version, r.ref.kind)
        except InvalidInput:
            continue
        infos[(info.group, info.kind)] = info
    for word in kinds:
        known = builtin(word)
        if known is not None:
            infos.setdefault((known.group, known.kind), known)
    doomed: list[tuple[ResourceInfo, ObjectRef]] = []
    from tamer_tui.core.kube.editor import ObjectRef

    for info in infos.values():
        if "list" not in info.verbs or "delete" not in info.verbs:
            continue
        for obj in await editor.list_labeled(info, selector, namespaces):
            meta: dict[str, Any] = obj.get("metadata") or {}
            ident = (info.group, info.kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            if ident in keep or meta.get("ownerReferences") or meta.get("deletionTimestamp"):
                continue
            doomed.append((info, ObjectRef(info.api_version, info.kind, ident[3], ident[2])))
    return await editor.delete_refs(doomed, action="pruned", dry_run=dry_run)
