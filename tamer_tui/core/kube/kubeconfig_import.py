"""``tamer kubeconfig import PATH... [--rename] [--kubeconfig DEST] [--yes]``: merge kubeconfigs.

The selected contexts of each source, with the clusters and users they reference, are merged into
DEST (``--kubeconfig``, else the first ``KUBECONFIG`` file, else ``~/.kube/config``):

* entries that DEST already has with identical content are skipped silently;
* a name clash (same context/cluster/user name, different content) is resolved by asking on stdin
  (rename / skip / overwrite / abort) when stdin is a terminal, automatically with ``--rename``
  (suffix ``-2``, ``-3`` ..., references updated), and otherwise refused with a message listing the
  clashes (nothing is written);
* relative file references of the sources are made absolute, since the entries move to another
  directory;
* DEST is backed up first (``<DEST>.bak-<timestamp>``) and written atomically (temp file in the same
  directory, then rename), mode 0600 for a new file, the old mode otherwise.

``current-context`` of DEST is kept; a DEST that had none gets the first source's current context.
``--yes`` skips the final "merge?" confirmation that an interactive run asks; ``--dry-run`` prints
the plan without writing. ``-`` as PATH reads a kubeconfig from stdin (no prompts then).

The library entry point is :func:`import_kubeconfigs` (the UI uses it with sources from
:func:`source_from_found`); :func:`add_arguments` / :func:`main` / :func:`run` are the CLI for
``tamer kubeconfig``, whose argv starts with ``import``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from tamer_tui.core.kube.kubeconfig import (
    KubeConfigError,
    absolutize_paths,
    kubeconfig_paths,
    parse_text,
    read_file,
)

SECTIONS: tuple[tuple[str, str], ...] = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
_SINGULAR = {"clusters": "cluster", "users": "user", "contexts": "context"}
CHOICES = ("rename", "skip", "overwrite", "abort")


class ImportAborted(KubeConfigError):
    """The user chose to abort at a clash prompt."""


@dataclass
class Source:
    """One kubeconfig to import: its data with absolute file references, and which contexts."""

    label: str
    data: dict[str, Any]
    contexts: list[str] | None = None


@dataclass(frozen=True)
class Clash:
    """An entry whose name DEST already uses for different content."""

    section: str
    name: str
    source: str
    suggestion: str

    def describe(self) -> str:
        """``cluster 'default' from /etc/rancher/k3s/k3s.yaml``."""
        return f"{_SINGULAR[self.section]} {self.name!r} from {self.source}"


@dataclass
class ImportResult:
    """What an import did (or, with clashes left unresolved or a dry run, would do)."""

    dest: str
    backup: str = ""
    written: bool = False
    added: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    clashes: list[Clash] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when DEST gains or changes anything."""
        return bool(self.added or self.renamed or self.overwritten)

    def summary(self) -> str:
        """Human-readable lines describing the result."""
        lines: list[str] = []
        for title, items in (("added", self.added), ("renamed", self.renamed), ("overwritten", self.overwritten),
                             ("skipped (identical)", self.identical), ("skipped", self.skipped)):
            lines.extend(f"  {title}: {item}" for item in items)
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


Resolver = Callable[[Clash], str]


# ------------------------------------------------------------------------------------ sources
def source_from_text(text: str, label: str, base_dir: str | os.PathLike[str],
                     contexts: Sequence[str] | None = None) -> Source:
    """A source from kubeconfig text; relative paths resolve against ``base_dir``."""
    data = parse_text(text, label)
    return Source(label, absolutize_paths(data, base_dir), list(contexts) if contexts is not None else None)


def source_from_path(path: str | os.PathLike[str], contexts: Sequence[str] | None = None) -> Source:
    """A source from a kubeconfig file (raises :class:`KubeConfigError` with a clear message)."""
    p = Path(os.path.expanduser(os.fspath(path)))
    data = read_file(p)
    return Source(str(p), absolutize_paths(data, p.parent.absolute()), list(contexts) if contexts is not None else None)


def source_from_found(found: Any, contexts: Sequence[str] | None = None) -> Source:
    """A source from a :class:`~tamer_tui.core.kube.clusters.FoundKubeconfig` (its ``content`` when
    set, else its file)."""
    if getattr(found, "error", ""):
        raise KubeConfigError(str(found.error))
    label = found.origin or found.path or found.kind
    if found.content:
        base = os.path.dirname(found.path) if found.path else os.getcwd()
        return source_from_text(found.content, label, base, contexts)
    return source_from_path(found.path, contexts)


# --------------------------------------------------------------------------------------- plan
def _index(data: Mapping[str, Any], section: str) -> dict[str, dict[str, Any]]:
    inner = _SINGULAR[section]
    out: dict[str, dict[str, Any]] = {}
    for entry in data.get(section) or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"] not in out:
            spec = entry.get(inner)
            out[entry["name"]] = spec if isinstance(spec, dict) else {}
    return out


def _free_name(name: str, taken: set[str]) -> str:
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def plan_import(dest_data: Mapping[str, Any], sources: Sequence[Source], *, dest_dir: str | os.PathLike[str],
                resolve: Resolver | None = None, dest_label: str = "DEST") -> tuple[dict[str, Any], ImportResult]:
    """Merge ``sources`` into a copy of ``dest_data``; pure (no I/O).

    ``resolve`` decides each clash (``"rename"``, ``"skip"``, ``"overwrite"`` or ``"abort"``, which
    raises :class:`ImportAborted`); without it clashes are collected in ``result.clashes`` and the
    returned data must not be written.
    """
    merged: dict[str, Any] = copy.deepcopy(dict(dest_data))
    merged.setdefault("apiVersion", "v1")
    merged.setdefault("kind", "Config")
    for section, _inner in SECTIONS:
        if not isinstance(merged.get(section), list):
            merged[section] = []
    comparable = absolutize_paths(merged, dest_dir)
    existing = {section: _index(comparable, section) for section, _ in SECTIONS}
    result = ImportResult(dest=dest_label)
    first_current = ""
    for source in sources:
        src_ctx = _index(source.data, "contexts")
        src_clusters = _index(source.data, "clusters")
        src_users = _index(source.data, "users")
        wanted = list(src_ctx) if source.contexts is None else list(source.contexts)
        missing = [name for name in wanted if name not in src_ctx]
        if missing:
            raise KubeConfigError(f"{source.label} has no context named {', '.join(map(repr, missing))} "
                                  f"(it has: {', '.join(src_ctx) or 'none'})")
        renames: dict[str, dict[str, str]] = {"clusters": {}, "users": {}, "contexts": {}}

        def place(section: str, name: str, spec: dict[str, Any], source: Source = source,
                  renames: dict[str, dict[str, str]] = renames) -> None:
            kind = _SINGULAR[section]
            if name in renames[section]:
                return
            current = existing[section].get(name)
            if current is None:
                merged[section].append({"name": name, kind: spec})
                existing[section][name] = spec
                renames[section][name] = name
                result.added.append(f"{kind} {name}")
                return
            if current == spec:
                renames[section][name] = name
                result.identical.append(f"{kind} {name}")
                return
            taken = set(existing[section])
            clash = Clash(section, name, source.label, _free_name(name, taken))
            if resolve is None:
                result.clashes.append(clash)
                renames[section][name] = name
                return
            choice = resolve(clash)
            if choice == "abort":
                raise ImportAborted("import aborted; nothing was written")
            if choice == "skip":
                renames[section][name] = name
                result.skipped.append(f"{kind} {name} (kept the one in {dest_label})")
                return
            if choice == "overwrite":
                for entry in merged[section]:
                    if isinstance(entry, dict) and entry.get("name") == name:
                        entry[kind] = spec
                        break
                existing[section][name] = spec
                renames[section][name] = name
                result.overwritten.append(f"{kind} {name}")
                return
            if choice != "rename":
                raise KubeConfigError(f"unknown clash resolution {choice!r}")
            new_name = clash.suggestion
            merged[section].append({"name": new_name, kind: spec})
            existing[section][new_name] = spec
            renames[section][name] = new_name
            result.renamed.append(f"{kind} {name} -> {new_name}")

        for ctx_name in wanted:
            spec = src_ctx[ctx_name]
            cluster = spec.get("cluster")
            user = spec.get("user")
            if not isinstance(cluster, str) or cluster not in src_clusters:
                raise KubeConfigError(f"context {ctx_name!r} in {source.label} refers to cluster {cluster!r}, "
                                      "which that file does not define")
            if user and (not isinstance(user, str) or user not in src_users):
                raise KubeConfigError(f"context {ctx_name!r} in {source.label} refers to user {user!r}, "
                                      "which that file does not define")
            place("clusters", cluster, src_clusters[cluster])
            if user:
                place("users", user, src_users[user])
            new_spec = dict(spec)
            new_spec["cluster"] = renames["clusters"][cluster]
            if user:
                new_spec["user"] = renames["users"][user]
            place("contexts", ctx_name, new_spec)
            final = renames["contexts"][ctx_name]
            result.contexts.append(final)
        current = source.data.get("current-context")
        if not first_current and isinstance(current, str) and current in renames["contexts"]:
            first_current = renames["contexts"][current]
    if not merged.get("current-context") and first_current and not result.clashes:
        merged["current-context"] = first_current
        result.notes.append(f"current-context set to {first_current} ({dest_label} had none)")
    return merged, result


# ---------------------------------------------------------------------------------- writing
def default_dest(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Where imports go by default: the first ``KUBECONFIG`` file, else ``~/.kube/config``."""
    return kubeconfig_paths(None, env, home)[0][0]


def backup_file(path: Path, now: dt.datetime | None = None) -> Path:
    """Copy ``path`` to ``<path>.bak-<YYYYmmdd-HHMMSS>`` (a free name) and return the copy."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bak-{stamp}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        n += 1
    shutil.copy2(path, target)
    return target


def write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write kubeconfig data atomically, keeping the file's mode (0600 for a new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(dict(data), fh, default_flow_style=False, sort_keys=False)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def import_kubeconfigs(sources: Sequence[Source], dest: str | os.PathLike[str], *, resolve: Resolver | None = None,
                       rename: bool = False, dry_run: bool = False, confirm: Callable[[ImportResult], bool] | None = None,
                       now: dt.datetime | None = None) -> ImportResult:
    """Merge ``sources`` into ``dest`` (see the module docstring); returns what happened.

    Clashes go to ``resolve``, or are renamed with ``rename=True``; left unresolved they are
    returned in ``result.clashes`` and nothing is written. ``confirm`` sees the planned result and
    may veto the write. Raises :class:`KubeConfigError` when DEST cannot be read or written.
    """
    dest_path = Path(os.path.expanduser(os.fspath(dest)))
    dest_data: dict[str, Any] = {}
    if dest_path.exists():
        dest_data = read_file(dest_path)
    resolver = resolve if resolve is not None else ((lambda _c: "rename") if rename else None)
    merged, result = plan_import(dest_data, sources, dest_dir=dest_path.parent.absolute(), resolve=resolver,
                                 dest_label=str(dest_path))
    result.dest = str(dest_path)
    if result.clashes or dry_run or not result.changed:
        return result
    if confirm is not None and not confirm(result):
        result.notes.append("not confirmed; nothing was written")
        return result
    try:
        if dest_path.exists():
            result.backup = str(backup_file(dest_path, now))
        write_atomic(dest_path, merged)
    except OSError as err:
        raise KubeConfigError(f"cannot write {dest_path}: {err.strerror or err}") from None
    result.written = True
    return result


# ---------------------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``tamer kubeconfig`` options: ``import PATH... [--rename] [--kubeconfig DEST] [--yes]``."""
    sub = parser.add_subparsers(dest="kubeconfig_command", metavar="COMMAND")
    sub.required = True
    imp = sub.add_parser("import", help="merge kubeconfig files into your kubeconfig",
                         description="Merge the contexts (with their clusters and users) of PATH... into DEST.")
    imp.add_argument("paths", nargs="+", metavar="PATH", help="kubeconfig file(s) to import ('-' reads stdin)")
    imp.add_argument("--kubeconfig", dest="dest", default=None, metavar="DEST",
                     help="file to merge into (default: first KUBECONFIG file or ~/.kube/config)")
    imp.add_argument("--rename", action="store_true", help="rename clashing entries automatically (name-2 ...)")
    imp.add_argument("--context", dest="contexts", action="append", default=None, metavar="NAME",
                     help="import only this context (repeatable; default: all)")
    imp.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    imp.add_argument("--dry-run", action="store_true", help="show what would be merged, write nothing")


def _prompt_resolver(ask: Callable[[str], str], out: TextIO) -> Resolver:
    def resolve(clash: Clash) -> str:
        while True:
            answer = ask(f"{clash.describe()} differs from the existing one: "
                         f"[r]ename to {clash.suggestion}, [s]kip, [o]verwrite, [a]bort? ").strip().lower()
            for choice in CHOICES:
                if answer in (choice, choice[0]):
                    return choice
            print("please answer r, s, o or a", file=out)
    return resolve


def main(args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None, env: Mapping[str, str] | None = None, home: Path | None = None,
         interactive: bool | None = None, ask: Callable[[str], str] | None = None) -> int:
    """Run ``tamer kubeconfig import``; 0 on success (also when nothing was new), 1 when refused
    or failed, 2 on usage errors."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    inp = stdin or sys.stdin
    if getattr(args, "kubeconfig_command", "import") != "import":
        print(f"tamer kubeconfig: unknown command {args.kubeconfig_command!r}", file=err)
        return 2
    paths: list[str] = list(args.paths)
    reads_stdin = "-" in paths
    if paths.count("-") > 1:
        print("tamer kubeconfig import: '-' (stdin) may be given once", file=err)
        return 2
    if interactive is None:
        interactive = not reads_stdin and bool(getattr(inp, "isatty", lambda: False)())
    ask_fn = ask or (lambda prompt: (print(prompt, end="", file=out, flush=True), inp.readline())[1] or "abort")
    dest = Path(args.dest).expanduser() if args.dest else default_dest(env, home)
    sources: list[Source] = []
    try:
        for path in paths:
            if path == "-":
                sources.append(source_from_text(inp.read(), "stdin", os.getcwd(), args.contexts))
            else:
                if Path(path).expanduser().absolute() == dest.absolute():
                    print(f"tamer kubeconfig import: {path} is the destination itself; skipped", file=err)
                    continue
                sources.append(source_from_path(path, args.contexts if len(paths) == 1 else None))
    except KubeConfigError as exc:
        print(f"tamer kubeconfig import: {exc}", file=err)
        return 1
    if args.contexts and len(paths) > 1:
        for source in sources:
            names = set(_index(source.data, "contexts"))
            source.contexts = [c for c in args.contexts if c in names]
        found = {c for s in sources for c in (s.contexts or [])}
        missing = [c for c in args.contexts if c not in found]
        if missing:
            print(f"tamer kubeconfig import: no source has context {', '.join(missing)}", file=err)
            return 1
    if not sources:
        print("tamer kubeconfig import: nothing to import", file=err)
        return 1
    resolve: Resolver | None = None
    if args.rename:
        resolve = lambda _clash: "rename"  # noqa: E731
    elif interactive:
        resolve = _prompt_resolver(ask_fn, out)

    def confirm(result: ImportResult) -> bool:
        if args.yes or not interactive:
            return True
        print(f"about to merge into {dest}:\n{result.summary()}", file=out)
        return ask_fn("proceed? [y/N] ").strip().lower() in ("y", "yes")

    try:
        result = import_kubeconfigs(sources, dest, resolve=resolve, dry_run=args.dry_run, confirm=confirm)
    except ImportAborted as exc:
        print(f"tamer kubeconfig import: {exc}", file=err)
        return 1
    except KubeConfigError as exc:
        print(f"tamer kubeconfig import: {exc}", file=err)
        return 1
    if result.clashes:
        print(f"tamer kubeconfig import: refused: these names already exist in {dest} with different content:",
              file=err)
        for clash in result.clashes:
            print(f"  {clash.describe()}", file=err)
        print("use --rename to import them as name-2 ..., or run it in a terminal to choose per entry", file=err)
        return 1
    if args.dry_run:
        print(f"dry run: would merge into {dest}:", file=out)
        print(result.summary() or "  nothing new", file=out)
        return 0
    if not result.written:
        if result.changed:
            print(f"nothing written to {dest}", file=out)
        else:
            print(f"nothing new to merge into {dest}", file=out)
        if result.summary():
            print(result.summary(), file=out)
        return 0
    backup = f" (backup: {result.backup})" if result.backup else ""
    print(f"merged into {dest}{backup}:", file=out)
    print(result.summary(), file=out)
    return 0


def run(argv: Sequence[str], **kwargs: Any) -> int:
    """Parse ``argv`` (what follows ``tamer kubeconfig``) and run it."""
    parser = argparse.ArgumentParser(prog="tamer kubeconfig", description="Manage kubeconfig files.")
    add_arguments(parser)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    return main(args, **kwargs)
