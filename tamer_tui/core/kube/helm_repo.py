"""Helm chart repositories and charts (the chart browser's engine): no helm binary needed to browse.

* The repositories are helm's own: ``repositories.yaml`` at helm's path (``$HELM_REPOSITORY_CONFIG``
  or the config home), their indexes cached where helm caches them (``$HELM_REPOSITORY_CACHE``, files
  ``NAME-index.yaml`` and ``NAME-charts.txt``), so helm and Tamer share one state.
* :meth:`ChartRepos.update` fetches ``index.yaml`` with aiohttp (TLS files, basic auth, insecure
  flag of each entry), parses it with ``yaml.CSafeLoader`` in a thread (indexes can be tens of MB)
  and writes the cache atomically. Parsed indexes stay in memory until their file changes.
* :meth:`ChartRepos.search` works like ``helm search repo``: a case-insensitive substring of
  ``repo/name``, description or keywords; the latest stable version of each chart, or every version,
  or pre-releases too (``devel``).
* :meth:`ChartRepos.chart` downloads a chart version's ``.tgz`` (its index URL, resolved against the
  repository URL the way helm does), checks its sha256 digest, caches it, and reads it with
  :mod:`tarfile` into a :class:`ChartContent` (Chart.yaml, README, values.yaml, templates, every
  other text file). :func:`read_chart` reads local chart directories and ``.tgz`` packages the same way.
* Repositories are added/removed with the helm CLI when it is present (``--password-stdin``, never a
  password in argv), otherwise by editing ``repositories.yaml`` atomically (temp file + rename, mode
  0600) with helm's own rules (same name and config: nothing to do; different config: refused unless
  ``force_update``; the index is fetched before the entry is written).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import io
import os
import re
import ssl
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import yaml

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
    TamerError,
)
from tamer_tui.core.kube.helm import HelmCLI, HelmPaths

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
#: helm's limits for a chart archive (``MaxDecompressedChartSize`` / ``MaxDecompressedFileSize``).
MAX_CHART_BYTES = 100 * 1024 * 1024
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_INDEX_BYTES = 512 * 1024 * 1024
README_NAMES = ("readme.md", "readme.txt", "readme")
_NAME_OK = re.compile(r"^[^/\\\s]+$")


# --------------------------------------------------------------------------- repositories.yaml


@dataclass
class RepoEntry:
    """One repository of ``repositories.yaml`` (helm's field names in :meth:`to_yaml`)."""

    name: str
    url: str
    username: str = ""
    password: str = ""
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_tls_verify: bool = False
    pass_credentials_all: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # keys of newer helm versions, kept as they are

    _YAML_KEYS = {"caFile": "ca_file", "certFile": "cert_file", "keyFile": "key_file",
                  "insecure_skip_tls_verify": "insecure_skip_tls_verify",
                  "pass_credentials_all": "pass_credentials_all", "username": "username",
                  "password": "password", "name": "name", "url": "url"}

    @classmethod
    def from_yaml(cls, data: Mapping[str, Any]) -> RepoEntry:
        kw: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            attr = cls._YAML_KEYS.get(str(key))
            if attr is None:
                extra[str(key)] = value
            elif attr in ("insecure_skip_tls_verify", "pass_credentials_all"):
                kw[attr] = bool(value)
            else:
                kw[attr] = "" if value is None else str(value)
        kw.setdefault("name", "")
        kw.setdefault("url", "")
        return cls(extra=extra, **kw)

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "caFile": self.ca_file, "certFile": self.cert_file,
            "insecure_skip_tls_verify": self.insecure_skip_tls_verify, "keyFile": self.key_file,
            "name": self.name, "pass_credentials_all": self.pass_credentials_all,
            "password": self.password, "url": self.url, "username": self.username,
        }
        out.update(self.extra)
        return out

    def same_config(self, other: RepoEntry) -> bool:
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "extra")


def read_repositories(path: Path) -> list[RepoEntry]:
    """The entries of a ``repositories.yaml`` (none when the file does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PermissionDenied(f"{path}: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: not a helm repositories file")
    return [RepoEntry.from_yaml(r) for r in data.get("repositories") or [] if isinstance(r, dict)]


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``path`` in one step: a temporary file in the same directory, fsync, rename over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_repositories(path: Path, entries: Sequence[RepoEntry]) -> None:
    """Rewrite ``repositories.yaml`` atomically (mode 0600, as helm does), keeping its other keys."""
    header: dict[str, Any] = {"apiVersion": "", "generated": "0001-01-01T00:00:00Z"}
    with contextlib.suppress(OSError, yaml.YAMLError):
        old = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        if isinstance(old, dict):
            header.update({k: v for k, v in old.items() if k != "repositories"})
    header["repositories"] = [e.to_yaml() for e in entries]
    text = yaml.dump(header, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)
    atomic_write(path, text.encode("utf-8"), 0o600)


# --------------------------------------------------------------------------- versions and indexes

_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(version: str) -> tuple[Any, ...]:
    """A sort key ordering versions like semver (pre-releases before their release; not-semver last)."""
    m = _SEMVER.match(version.strip())
    if not m:
        return (0, (), version)
    nums = tuple(int(g or 0) for g in m.group(1, 2, 3))
    pre = m.group(4)
    if pre is None:
        return (1, nums, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (1, nums, 0, ids)


def is_prerelease(version: str) -> bool:
    m = _SEMVER.match(version.strip())
    return bool(m and m.group(4))


@dataclass(frozen=True)
class ChartVersion:
    """One chart version of a repository index."""

    repo: str
    name: str
    version: str
    app_version: str = ""
    description: str = ""
    created: str = ""
    digest: str = ""
    urls: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    home: str = ""
    sources: tuple[str, ...] = ()
    icon: str = ""
    deprecated: bool = False
    kube_version: str = ""
    chart_type: str = ""
    api_version: str = ""

    @property
    def ref(self) -> str:
        """``repo/name``, what ``helm install`` takes."""
        return f"{self.repo}/{self.name}"

    @property
    def prerelease(self) -> bool:
        return is_prerelease(self.version)


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v is not None)
    return ()


def _version_from(repo: str, name: str, raw: Mapping[str, Any]) -> ChartVersion | None:
    version = raw.get("version")
    if version is None or not str(version).strip():
        return None  # helm skips entries without a version
    return ChartVersion(
        repo=repo, name=str(raw.get("name") or name), version=str(version),
        app_version=str(raw.get("appVersion") or ""), description=str(raw.get("description") or ""),
        created=str(raw.get("created") or ""), digest=str(raw.get("digest") or ""), urls=_strs(raw.get("urls")),
        keywords=_strs(raw.get("keywords")), home=str(raw.get("home") or ""), sources=_strs(raw.get("sources")),
        icon=str(raw.get("icon") or ""), deprecated=bool(raw.get("deprecated")),
        kube_version=str(raw.get("kubeVersion") or ""), chart_type=str(raw.get("type") or ""),
        api_version=str(raw.get("apiVersion") or ""))


@dataclass
class RepoIndex:
    """A parsed ``index.yaml``: every chart's versions, newest first."""

    repo: str
    entries: dict[str, list[ChartVersion]]
    generated: str = ""
    api_version: str = "v1"

    def versions(self, chart: str, *, devel: bool = True) -> list[ChartVersion]:
        """Every version of ``chart``, newest first (``devel=False``: without pre-releases)."""
        if chart not in self.entries:
            raise NotFound(f'chart "{chart}" not found in {self.repo} repository')
        return [v for v in self.entries[chart] if devel or not v.prerelease]

    def latest(self, chart: str, *, devel: bool = False) -> ChartVersion | None:
        vs = self.versions(chart, devel=devel)
        return vs[0] if vs else None

    def get(self, chart: str, version: str | None = None, *, devel: bool = False) -> ChartVersion:
        """One version (``None``: the latest stable one, or latest of all with ``devel``)."""
        if not version:
            found = self.latest(chart, devel=devel)
            if found is None:
                raise NotFound(f'chart "{chart}" has no {"" if devel else "stable "}version in {self.repo} repository')
            return found
        want = version.strip().removeprefix("v")
        for v in self.versions(chart):
            if v.version.removeprefix("v") == want:
                return v
        raise NotFound(f'chart "{chart}" version "{version}" not found in {self.repo} repository')

    def chart_names(self) -> list[str]:
        return sorted(self.entries)


def parse_index(data: bytes | str, repo: str) -> RepoIndex:
    """An ``index.yaml`` (or JSON) to a :class:`RepoIndex`; versions sorted newest first."""
    try:
        raw = yaml.load(data, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{repo}: index is not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{repo}: not a chart repository index")
    if not raw.get("apiVersion"):
        raise InvalidInput(f"{repo}: not a chart repository index (no API version specified)")
    entries: dict[str, list[ChartVersion]] = {}
    for name, versions in (raw.get("entries") or {}).items():
        if not isinstance(versions, list):
            continue
        parsed = [cv for v in versions if isinstance(v, dict) and (cv := _version_from(repo, str(name), v))]
        if parsed:
            parsed.sort(key=lambda cv: semver_key(cv.version), reverse=True)
            entries[str(name)] = parsed
    return RepoIndex(repo, entries, str(raw.get("generated") or ""), str(raw.get("apiVersion")))


def index_url(repo_url: str) -> str:
    """``URL/index.yaml``, keeping the URL's query (helm's ``JoinPath``)."""
    parts = urlsplit(repo_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/index.yaml"))


def resolve_chart_url(repo_url: str, ref: str) -> str:
    """A chart URL of the index resolved against the repository URL (helm's ``ResolveReferenceURL``:
    absolute URLs as they are; relative ones under the repo path, with the repo URL's query)."""
    if urlsplit(ref).scheme:
        return ref
    base = urlsplit(repo_url)
    base_dir = urlunsplit(base._replace(path=base.path.rstrip("/") + "/", query="", fragment=""))
    joined = urlsplit(urljoin(base_dir, ref))
    return urlunsplit(joined._replace(query=base.query or joined.query))


# --------------------------------------------------------------------------- chart content


@dataclass
class ChartContent:
    """What a chart (archive or directory) holds, for the chart browser."""

    source: str
    metadata: dict[str, Any]
    chart_yaml: str
    values_yaml: str
    readme: str
    readme_name: str
    files: dict[str, str]  # every text file, path relative to the chart root -> text
    binary_files: dict[str, int] = field(default_factory=dict)  # path -> size (subchart .tgz, images)
    values_schema: str = ""

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def version(self) -> str:
        return str(self.metadata.get("version") or "")

    @property
    def app_version(self) -> str:
        return str(self.metadata.get("appVersion") or "")

    @property
    def templates(self) -> dict[str, str]:
        """``templates/...`` files of the chart itself (not of subcharts), sorted by path."""
        return {p: t for p, t in sorted(self.files.items()) if p.startswith("templates/")}

    @property
    def subcharts(self) -> list[str]:
        """Subcharts under ``charts/`` (directories and archives)."""
        names = {p.split("/")[1] for p in [*self.files, *self.binary_files]
                 if p.startswith("charts/") and p.count("/") >= 2}
        names |= {p.split("/")[1] for p in self.binary_files if p.startswith("charts/") and p.endswith(".tgz")}
        return sorted(names)

    def values(self) -> dict[str, Any]:
        """``values.yaml`` parsed ({} when empty)."""
        try:
            data = yaml.load(self.values_yaml or "", Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{self.source}: values.yaml is not valid YAML ({exc})") from None
        return dict(data) if isinstance(data, dict) else {}


def _is_text(blob: bytes) -> bool:
    return b"\x00" not in blob[:8192]


def _content_from(source: str, files: dict[str, bytes], sizes: dict[str, int]) -> ChartContent:
    if "Chart.yaml" not in files:
        raise InvalidInput(f"{source}: not a helm chart (no Chart.yaml)")
    texts: dict[str, str] = {}
    binary: dict[str, int] = {}
    for path, blob in files.items():
        if _is_text(blob):
            texts[path] = blob.decode("utf-8", "replace")
        else:
            binary[path] = len(blob)
    for path, size in sizes.items():
        if path not in files:
            binary[path] = size
    chart_yaml = texts.get("Chart.yaml", "")
    try:
        metadata = yaml.load(chart_yaml, Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: Chart.yaml is not valid YAML ({exc})") from None
    if not isinstance(metadata, dict):
        raise InvalidInput(f"{source}: Chart.yaml is not a map")
    readme_name = ""
    for candidate in README_NAMES:
        readme_name = next((p for p in texts if "/" not in p and p.lower() == candidate), "")
        if readme_name:
            break
    return ChartContent(source=source, metadata=metadata, chart_yaml=chart_yaml,
                        values_yaml=texts.get("values.yaml", ""), readme=texts.get(readme_name, ""),
                        readme_name=readme_name, files=texts, binary_files=binary,
                        values_schema=texts.get("values.schema.json", ""))


def read_chart_archive(archive: Path | bytes, source: str = "") -> ChartContent:
    """A chart ``.tgz``: every regular file under its top directory (helm's size limits apply)."""
    label = source or (str(archive) if isinstance(archive, Path) else "chart archive")
    files: dict[str, bytes] = {}
    sizes: dict[str, int] = {}
    total = 0
    try:
        fileobj: Any = io.BytesIO(archive) if isinstance(archive, bytes) else open(archive, "rb")  # noqa: SIM115
    except OSError as exc:
        raise NotFound(f"{label}: {exc.strerror or exc}") from None
    try:
        with fileobj, tarfile.open(fileobj=fileobj, mode="r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                parts = [p for p in member.name.replace("\\", "/").split("/") if p not in ("", ".")]
                if len(parts) < 2 or ".." in parts:
                    continue
                rel = "/".join(parts[1:])
                total += member.size
                if total > MAX_CHART_BYTES:
                    raise InvalidInput(f"{label}: chart is larger than {MAX_CHART_BYTES >> 20} MiB uncompressed")
                if member.size > MAX_FILE_BYTES:
                    sizes[rel] = member.size
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    files[rel] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidInput(f"{label}: not a chart archive ({exc})") from None
    return _content_from(label, files, sizes)


def _helmignore(root: Path) -> list[str]:
    try:
        lines = (root / ".helmignore").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def _ignored(rel: str, is_dir: bool, patterns: list[str]) -> bool:
    base = rel.rsplit("/", 1)[-1]
    for pat in patterns:
        negate = pat.startswith("!")
        p = pat[1:] if negate else pat
        if p.endswith("/"):
            if not is_dir:
                continue
            p = p.rstrip("/")
        p = p.lstrip("/")
        hit = fnmatch.fnmatch(rel, p) if "/" in p else fnmatch.fnmatch(base, p)
        if hit:
            return not negate
    return False


def read_chart_dir(root: Path) -> ChartContent:
    """A chart directory (``.helmignore`` honoured for the usual glob patterns; ``.git`` skipped)."""
    if not (root / "Chart.yaml").is_file():
        raise InvalidInput(f"{root}: not a helm chart (no Chart.yaml)")
    patterns = _helmignore(root)
    files: dict[str, bytes] = {}
    sizes: dict[str, int] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if d != ".git" and not _ignored(rel_dir + d, True, patterns))
        for name in sorted(filenames):
            rel = rel_dir + name
            if _ignored(rel, False, patterns):
                continue
            path = Path(dirpath) / name
            try:
                size = path.stat().st_size
                total += size
                if total > MAX_CHART_BYTES:
                    raise InvalidInput(f"{root}: chart is larger than {MAX_CHART_BYTES >> 20} MiB")
                if size > MAX_FILE_BYTES:
                    sizes[rel] = size
                    continue
                files[rel] = path.read_bytes()
            except OSError:
                continue
    return _content_from(str(root), files, sizes)


def read_chart(path: str | Path) -> ChartContent:
    """A local chart: a directory or a ``.tgz`` package (blocking; run in a thread)."""
    p = Path(path).expanduser()
    if p.is_dir():
        return read_chart_dir(p)
    if p.is_file():
        return read_chart_archive(p)
    raise NotFound(f"{p}: no such chart directory or package")


# --------------------------------------------------------------------------- the browser


@dataclass
class ChartSearch:
    """Search results plus the repositories whose index could not be read."""

    results: list[ChartVersion]
    warnings: list[str] = field(default_factory=list)


def _ssl_for(entry: RepoEntry, url: str) -> ssl.SSLContext | bool:
    if not url.startswith("https"):
        return False
    try:
        ctx = ssl.create_default_context(cafile=entry.ca_file or None)
        if entry.insecure_skip_tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if entry.cert_file and entry.key_file:
            ctx.load_cert_chain(entry.cert_file, entry.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(f"repository {entry.name}: TLS files: {exc}") from None
    return ctx


class ChartRepos:
    """helm's chart repositories: list, add, remove, update, search, and read charts."""

    def __init__(self, cli: HelmCLI | None = None, *, paths: HelmPaths | None = None,
                 chart_cache: Path | None = None, use_cli: bool = True, timeout: float = 120.0) -> None:
        self.cli = cli or HelmCLI(paths=paths)
        self.paths = paths or self.cli.paths
        self.chart_cache = chart_cache or (self.paths.repository_cache / "tamer-charts")
        self.use_cli = use_cli
        self.timeout = timeout
        self._indexes: dict[str, tuple[tuple[int, int], RepoIndex]] = {}
        self._lock = asyncio.Lock()

    # -- repositories.yaml ----------------------------------------------------------------------
    async def repositories(self) -> list[RepoEntry]:
        """The configured repositories (``repositories.yaml``), in file order."""
        return await asyncio.to_thread(read_repositories, self.paths.repository_config)

    async def entry(self, name: str) -> RepoEntry:
        for e in await self.repositories():
            if e.name == name:
                return e
        raise NotFound(f"no repo named {name!r} found")

    def index_path(self, name: str) -> Path:
        return self.paths.repository_cache / f"{name}-index.yaml"

    def charts_path(self, name: str) -> Path:
        return self.paths.repository_cache / f"{name}-charts.txt"

    def _cli_ok(self) -> bool:
        return self.use_cli and self.cli.available

    async def add(self, name: str, url: str, *, username: str = "", password: str = "", ca_file: str = "",
                  cert_file: str = "", key_file: str = "", insecure_skip_tls_verify: bool = False,
                  pass_credentials_all: bool = False, force_update: bool = False) -> str:
        """``helm repo add``; returns helm's message. Without helm: validate, fetch the index, then
        write the entry atomically."""
        if not _NAME_OK.match(name):
            raise InvalidInput(f"repository name ({name}) must not be empty or contain '/' or spaces")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"could not find protocol handler for: {url!r} (use http:// or https://)")
        entry = RepoEntry(name=name, url=url, username=username, password=password, ca_file=ca_file,
                          cert_file=cert_file, key_file=key_file, insecure_skip_tls_verify=insecure_skip_tls_verify,
                          pass_credentials_all=pass_credentials_all)
        self._indexes.pop(name, None)
        if self._cli_ok():
            args = ["repo", "add", name, url]
            stdin: bytes | None = None
            if username:
                args += ["--username", username]
            if password:
                args.append("--password-stdin")
                stdin = password.encode()
            for flag, value in (("--ca-file", ca_file), ("--cert-file", cert_file), ("--key-file", key_file)):
                if value:
                    args += [flag, value]
            if insecure_skip_tls_verify:
                args.append("--insecure-skip-tls-verify")
            if pass_credentials_all:
                args.append("--pass-credentials")
            if force_update:
                args.append("--force-update")
            res = await self.cli.run(args, input=stdin, timeout=self.timeout, what=f"repo add {name}")
            return res.stdout.strip()
        async with self._lock:
            entries = await self.repositories()
            existing = next((e for e in entries if e.name == name), None)
            if existing is not None and not force_update:
                if existing.same_config(entry):
                    return f'"{name}" already exists with the same configuration, skipping'
                raise Conflict(f"repository name ({name}) already exists, please specify a different name")
            await self.fetch_index(entry)
            if existing is not None:
                entry.extra = dict(existing.extra)
                entries = [entry if e.name == name else e for e in entries]
            else:
                entries.append(entry)
            await asyncio.to_thread(write_repositories, self.paths.repository_config, entries)
        return f'"{name}" has been added to your repositories'

    async def remove(self, name: str) -> str:
        """``helm repo remove``: the entry and its cached index go."""
        self._indexes.pop(name, None)
        if self._cli_ok():
            res = await self.cli.run(["repo", "remove", name], timeout=self.timeout, what=f"repo remove {name}")
            return res.stdout.strip()
        async with self._lock:
            entries = await self.repositories()
            if not any(e.name == name for e in entries):
                raise NotFound(f"no repo named {name!r} found")
            await asyncio.to_thread(write_repositories, self.paths.repository_config,
                                    [e for e in entries if e.name != name])
            for path in (self.index_path(name), self.charts_path(name)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        return f'"{name}" has been removed from your repositories'

    async def update(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Fetch the index of every repository (or of ``names``) concurrently; returns name -> error
        message (empty when that repository was updated)."""
        entries = await self.repositories()
        wanted = list(names) if names is not None else [e.name for e in entries]
        by_name = {e.name: e for e in entries}
        results: dict[str, str] = {}

        async def one(name: str) -> None:
            if name not in by_name:
                results[name] = f"no repo named {name!r} found"
                return
            try:
                await self.fetch_index(by_name[name])
                results[name] = ""
            except TamerError as exc:
                results[name] = str(exc)

        await asyncio.gather(*(one(n) for n in wanted))
        return {n: results[n] for n in wanted}

    # -- HTTP -------------------------------------------------------------------------------------
    async def _get(self, entry: RepoEntry, url: str, limit: int, what: str) -> bytes:
        import aiohttp

        ssl_ctx = await asyncio.to_thread(_ssl_for, entry, url)
        auth = None
        if entry.username and (entry.pass_credentials_all or urlsplit(url).netloc == urlsplit(entry.url).netloc):
            auth = aiohttp.BasicAuth(entry.username, entry.password)
        timeout = aiohttp.ClientTimeout(total=self.timeout, sock_connect=15)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                    url, auth=auth, ssl=ssl_ctx, headers={"User-Agent": "Helm/3 (tamer)"}) as resp:
                if resp.status >= 400:
                    reason = f"{url}: {resp.status} {resp.reason or ''}".strip()
                    if resp.status == 404:
                        raise NotFound(f"{what}: {reason}")
                    if resp.status in (401, 403):
                        raise PermissionDenied(f"{what}: {reason}")
                    raise BackendError(f"{what}: {reason}")
                if resp.content_length is not None and resp.content_length > limit:
                    raise InvalidInput(f"{what}: {url} is larger than {limit >> 20} MiB")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(1 << 16):
                    size += len(chunk)
                    if size > limit:
                        raise InvalidInput(f"{what}: {url} is larger than {limit >> 20} MiB")
                    chunks.append(chunk)
                return b"".join(chunks)
        except TamerError:
            raise
        except TimeoutError:
            raise RuntimeUnavailable(f"{what}: no answer from {url} within {self.timeout:.0f}s") from None
        except aiohttp.ClientError as exc:
            raise RuntimeUnavailable(f"{what}: {url} unreachable ({exc})") from None
        except OSError as exc:
            raise RuntimeUnavailable(f"{what}: {exc}") from None

    # -- indexes ----------------------------------------------------------------------------------
    async def fetch_index(self, entry: RepoEntry) -> RepoIndex:
        """Download ``index.yaml``, check it parses, cache it (file and memory)."""
        what = f"repository {entry.name}"
        data = await self._get(entry, index_url(entry.url), MAX_INDEX_BYTES, what)
        index = await asyncio.to_thread(parse_index, data, entry.name)

        def store() -> tuple[int, int]:
            path = self.index_path(entry.name)
            atomic_write(path, data)
            names = "".join(f"{n}\n" for n in index.chart_names())
            atomic_write(self.charts_path(entry.name), names.encode())
            st = path.stat()
            return (st.st_mtime_ns, st.st_size)

        stamp = await asyncio.to_thread(store)
        self._indexes[entry.name] = (stamp, index)
        return index

    async def index(self, name: str, *, refresh: bool = False) -> RepoIndex:
        """A repository's index: the cached file (re-read only when it changed), fetched when missing
        or when ``refresh``."""
        entry = await self.entry(name)
        path = self.index_path(name)
        if refresh:
            return await self.fetch_index(entry)
        try:
            st = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return await self.fetch_index(entry)
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._indexes.get(name)
        if cached and cached[0] == stamp:
            return cached[1]
        data = await asyncio.to_thread(path.read_bytes)
        index = await asyncio.to_thread(parse_index, data, name)
        self._indexes[name] = (stamp, index)
        return index

    async def search(self, query: str = "", *, repos: Iterable[str] | None = None, all_versions: bool = False,
                     devel: bool = False) -> ChartSearch:
        """``helm search repo QUERY``: charts whose ``repo/name``, description or keywords contain
        ``query`` (case-insensitive; empty matches all). Name matches first, then by ``repo/name``;
        the latest stable version of each chart, every version (``all_versions``), pre-releases
        included with ``devel``."""
        names = list(repos) if repos is not None else [e.name for e in await self.repositories()]
        needle = query.strip().lower()
        found: list[tuple[int, str, ChartVersion]] = []
        warnings: list[str] = []
        for repo in names:
            try:
                idx = await self.index(repo)
            except TamerError as exc:
                warnings.append(f"{repo}: {exc}")
                continue
            for chart, versions in idx.entries.items():
                pool = [v for v in versions if devel or not v.prerelease]
                if not pool:
                    continue
                head = pool[0]
                ref = f"{repo}/{chart}".lower()
                if not needle or needle in ref:
                    score = 0
                elif needle in head.description.lower() or any(needle in k.lower() for k in head.keywords):
                    score = 1
                else:
                    continue
                for v in pool if all_versions else pool[:1]:
                    found.append((score, ref, v))
        found.sort(key=lambda t: (t[0], t[1]))
        return ChartSearch([v for _s, _r, v in found], warnings)

    async def versions(self, repo: str, chart: str, *, devel: bool = True) -> list[ChartVersion]:
        return (await self.index(repo)).versions(chart, devel=devel)

    # -- charts ---------------------------------------------------------------------------------
    def archive_path(self, cv: ChartVersion) -> Path:
        return self.chart_cache / cv.repo / f"{cv.name}-{cv.version}.tgz"

    async def download(self, cv: ChartVersion) -> Path:
        """The chart version's ``.tgz`` in the cache (downloaded and digest-checked when needed)."""
        path = self.archive_path(cv)
        digest = cv.digest.lower().removeprefix("sha256:")

        def cached_ok() -> bool:
            try:
                blob = path.read_bytes()
            except OSError:
                return False
            return not digest or hashlib.sha256(blob).hexdigest() == digest

        if await asyncio.to_thread(cached_ok):
            return path
        if not cv.urls:
            raise NotFound(f"{cv.ref} {cv.version}: the index lists no download URL")
        entry = await self.entry(cv.repo)
        url = resolve_chart_url(entry.url, cv.urls[0])
        data = await self._get(entry, url, MAX_CHART_BYTES, f"{cv.ref} {cv.version}")
        if digest and hashlib.sha256(data).hexdigest() != digest:
            raise BackendError(f"{cv.ref} {cv.version}: {url} does not match the index digest")
        await asyncio.to_thread(atomic_write, path, data)
        return path

    async def chart(self, repo: str, chart: str, version: str | None = None, *, devel: bool = False) -> ChartContent:
        """README, values.yaml, templates... of a repository chart version (``None``: latest)."""
        cv = (await self.index(repo)).get(chart, version, devel=devel)
        path = await self.download(cv)
        return await asyncio.to_thread(read_chart_archive, path, f"{cv.ref} {cv.version}")

    async def local_chart(self, path: str | Path) -> ChartContent:
        """A local chart directory or ``.tgz`` package."""
        return await asyncio.to_thread(read_chart, path)
