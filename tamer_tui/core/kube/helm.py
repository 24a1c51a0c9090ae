"""Helm releases and actions (``:helm``): the engine the Helm screens render.

Releases are read straight from helm's storage, so listing works without the helm binary:

* the **Secret** driver (helm's default) stores revision N of release R in namespace NS as the Secret
  ``sh.helm.release.v1.R.vN`` of type ``helm.sh/release.v1`` with the labels ``owner=helm``,
  ``name=R``, ``version=N`` and ``status=...``; its ``data.release`` is, like every Secret value,
  base64 of the stored string, which is itself base64 of the gzipped release JSON;
* the **ConfigMap** driver (``HELM_DRIVER=configmap``) stores the same string as ``data.release``
  (one base64 level fewer);
* releases written before helm compressed them (early helm 3) are base64 of plain JSON: like helm's
  own ``decodeRelease``, the payload is only gunzipped when it starts with the gzip magic.

:class:`HelmEngine` lists the latest revision of every release (one list request per driver, asking
only for the non-``superseded`` revisions and decoding one payload per release), a release's history
(every revision), and one revision in full (:class:`ReleaseDetail`: user values, computed values the
way ``helm get values --all`` merges them, manifest, notes, hooks, chart files).

Actions run the ``helm`` CLI (argv lists, asyncio subprocesses, ``--kube-context``/``--kubeconfig``/
``--namespace`` of the :class:`KubeManager` context): install, upgrade, rollback, uninstall and test.
Each mutation calls ``KubeManager.guard`` first. A failure raises a :class:`HelmCommandError`
subclass that is also the matching :mod:`tamer_tui.core.errors` class (``NotFound``, ``Conflict``,
``InvalidInput``, ``PermissionDenied``, ``RuntimeUnavailable`` or ``BackendError``) whose message is
helm's own ``Error:`` text; a missing binary raises :class:`HelmNotInstalled`.

Helm's directories (:class:`HelmPaths`) are resolved exactly like helm does (``HELM_CONFIG_HOME``,
``XDG_*``, per-OS defaults, ``HELM_REPOSITORY_CONFIG``/``HELM_REPOSITORY_CACHE``) and handed to every
helm process, so the chart browser (:mod:`tamer_tui.core.kube.helm_repo`) and helm always agree.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tamer_tui.core.errors import (
    BackendError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RuntimeUnavailable,
    TamerError,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.core.kube.client import KubeClient
    from tamer_tui.core.kube.helm_repo import ChartRepos
    from tamer_tui.core.kube.manager import KubeManager

#: The Secret type and name prefix helm 3 (and 4) store releases under.
RELEASE_SECRET_TYPE = "helm.sh/release.v1"
RELEASE_NAME_PREFIX = "sh.helm.release.v1."
#: Every release status helm knows, in its own spelling.
STATUSES: tuple[str, ...] = ("unknown", "deployed", "uninstalled", "superseded", "failed", "uninstalling",
                             "pending-install", "pending-upgrade", "pending-rollback")
#: The statuses helm 3's ``helm list`` shows without ``--all`` or a state flag (helm 4 shows every status).
HELM_LIST_DEFAULT_STATES: frozenset[str] = frozenset({"deployed", "failed"})
#: The storage drivers Tamer reads (helm's ``memory`` and ``sql`` drivers are not in the cluster).
DRIVERS: tuple[str, ...] = ("secret", "configmap")

_GZIP_MAGIC = b"\x1f\x8b\x08"
_JSON_DECODER = msgspec.json.Decoder()
_LIST_PAGE = 100
_THREAD_DECODE = 256 * 1024  # list bodies at least this big are JSON-decoded in a worker thread
_INSTALL_HINT = "install helm 3 or 4 (https://helm.sh/docs/intro/install/) or set its path"


# --------------------------------------------------------------------------- errors


class HelmNotInstalled(RuntimeUnavailable):
    """No usable helm binary: actions need it (listing and browsing do not)."""


class HelmCommandError(TamerError):
    """A helm command failed; ``str()`` is helm's own ``Error:`` message.

    Every concrete subclass is also the matching generic error class, so callers may catch either
    ``NotFound`` or ``HelmCommandError``. ``result`` holds the whole run (argv, exit code, output).
    """

    def __init__(self, message: str, result: HelmResult) -> None:
        super().__init__(message)
        self.result = result


class HelmNotFound(HelmCommandError, NotFound):
    """Release, revision, chart, repository or file not found."""


class HelmConflict(HelmCommandError, Conflict):
    """Name in use, another operation in progress, object owned by another release."""


class HelmInvalidInput(HelmCommandError, InvalidInput):
    """Bad flags, values, chart or template errors."""


class HelmPermissionDenied(HelmCommandError, PermissionDenied):
    """The API server refused helm (RBAC, expired credentials)."""


class HelmUnreachable(HelmCommandError, RuntimeUnavailable):
    """helm could not reach the cluster or the chart repository."""


class HelmFailed(HelmCommandError, BackendError):
    """Any other failure (timeouts waiting for resources, hooks failing...)."""


# Order matters: the first pattern that matches helm's message decides the class.
_ERROR_RULES: tuple[tuple[re.Pattern[str], type[HelmCommandError]], ...] = (
    (re.compile(r"cluster unreachable|connection refused|no such host|network is unreachable|"
                r"tls handshake timeout|i/o timeout|dial tcp|no route to host"), HelmUnreachable),
    (re.compile(r"forbidden|unauthorized|permission denied|access denied|you must be logged in"),
     HelmPermissionDenied),
    (re.compile(r"cannot re-use a name|still in use|already exists|another operation .*in progress|"
                r"invalid ownership metadata"), HelmConflict),
    (re.compile(r"no matches for kind|resource mapping not found|unable to build kubernetes objects"),
     HelmInvalidInput),
    (re.compile(r"not found|no such file|has no deployed releases|no repo named|release has no \d+ version|"
                r"no repositories|could not find|doesn't exist|does not exist|not loaded"), HelmNotFound),
    (re.compile(r"parse error|yaml:|json:|invalid|unknown flag|unknown command|unknown shorthand|"
                r"required|accepts \d|must be|execution error|error converting|cannot unmarshal|"
                r"validation|values don't meet|not a valid chart"), HelmInvalidInput),
)


def helm_error(result: HelmResult, what: str = "") -> HelmCommandError:
    """A failed run to the matching :class:`HelmCommandError` subclass with helm's message."""
    message = helm_message(result.stderr) or helm_message(result.stdout) or f"exit status {result.returncode}"
    text = f"{what}: {message}" if what else message
    lowered = message.lower()
    for pattern, cls in _ERROR_RULES:
        if pattern.search(lowered):
            return cls(text, result)
    return HelmFailed(text, result)


def helm_message(output: str) -> str:
    """helm's ``Error: ...`` text (all lines from the first ``Error:`` on), else the last non-empty line."""
    lines = [ln.rstrip() for ln in output.strip().splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("Error: "):
            return "\n".join([line.removeprefix("Error: "), *lines[i + 1:]]).strip()
    rest = [ln for ln in lines if ln.strip()]
    return rest[-1].strip() if rest else ""


# --------------------------------------------------------------------------- paths and the CLI


def _helm_dir(env: Mapping[str, str], helm_var: str, xdg_var: str, default: str) -> Path:
    """helm's ``lazypath``: $HELM_*_HOME, else $XDG_*_HOME/helm, else the OS default + /helm."""
    if env.get(helm_var):
        return Path(env[helm_var])
    base = env.get(xdg_var) or default
    return Path(base) / "helm"


@dataclass(frozen=True)
class HelmPaths:
    """helm's config, cache and data directories and its repository file and cache."""

    config_home: Path
    cache_home: Path
    data_home: Path
    repository_config: Path
    repository_cache: Path

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None) -> HelmPaths:
        """The paths helm itself would use with environment ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        home = env.get("HOME") or env.get("USERPROFILE") or str(Path.home())
        if sys.platform == "win32":
            appdata = env.get("APPDATA") or str(Path(home) / "AppData" / "Roaming")
            defaults = (appdata, env.get("TEMP") or env.get("TMP") or tempfile.gettempdir(), appdata)
        elif sys.platform == "darwin":
            lib = Path(home) / "Library"
            defaults = (str(lib / "Preferences"), str(lib / "Caches"), str(lib))
        else:
            defaults = (str(Path(home) / ".config"), str(Path(home) / ".cache"),
                        str(Path(home) / ".local" / "share"))
        config = _helm_dir(env, "HELM_CONFIG_HOME", "XDG_CONFIG_HOME", defaults[0])
        cache = _helm_dir(env, "HELM_CACHE_HOME", "XDG_CACHE_HOME", defaults[1])
        data = _helm_dir(env, "HELM_DATA_HOME", "XDG_DATA_HOME", defaults[2])
        repo_config = Path(env["HELM_REPOSITORY_CONFIG"]) if env.get("HELM_REPOSITORY_CONFIG") else (
            config / "repositories.yaml")
        repo_cache = Path(env["HELM_REPOSITORY_CACHE"]) if env.get("HELM_REPOSITORY_CACHE") else (
            cache / "repository")
        return cls(config, cache, data, repo_config, repo_cache)

    def environment(self) -> dict[str, str]:
        """The ``HELM_*`` variables that make a helm process use exactly these paths."""
        return {
            "HELM_CONFIG_HOME": str(self.config_home),
            "HELM_CACHE_HOME": str(self.cache_home),
            "HELM_DATA_HOME": str(self.data_home),
            "HELM_REPOSITORY_CONFIG": str(self.repository_config),
            "HELM_REPOSITORY_CACHE": str(self.repository_cache),
        }


@dataclass
class HelmResult:
    """One finished helm run."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        """stdout then stderr, as one text to show after an action."""
        return "\n".join(part for part in (self.stdout.rstrip(), self.stderr.rstrip()) if part)


def find_helm(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The helm binary: ``explicit`` (a path or a name on PATH), else ``$TAMER_HELM_BIN``, else ``helm`` on PATH."""
    env = os.environ if env is None else env
    for candidate in (explicit, env.get("TAMER_HELM_BIN"), "helm"):
        if not candidate:
            continue
        if os.path.sep in candidate or (os.path.altsep and os.path.altsep in candidate):
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
            if candidate == explicit:
                return None
            continue
        found = shutil.which(candidate, path=env.get("PATH"))
        if found:
            return found
        if candidate == explicit:
            return None
    return None


class HelmCLI:
    """Runs the helm binary: argv lists, asyncio subprocesses, helm's paths in the environment."""

    def __init__(self, binary: str | None = None, *, paths: HelmPaths | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self._explicit = binary
        self.extra_env: dict[str, str] = dict(env or {})
        merged = {**os.environ, **self.extra_env}
        self.paths = paths or HelmPaths.resolve(merged)
        self.binary = find_helm(binary, merged)

    @property
    def available(self) -> bool:
        return self.binary is not None

    def require(self) -> str:
        """The binary path, or :class:`HelmNotInstalled` with a message that says what to do."""
        if self.binary is None:
            where = f" at {self._explicit}" if self._explicit else " on PATH"
            raise HelmNotInstalled(f"helm not found{where}: {_INSTALL_HINT}")
        return self.binary

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, **self.extra_env, **self.paths.environment(), **(extra or {})}
        env.pop("HELM_DEBUG", None)  # debug lines on stderr would hide helm's own message
        return env

    async def run(self, args: Sequence[str], *, input: bytes | None = None, timeout: float | None = None,
                  env: Mapping[str, str] | None = None, check: bool = True, what: str = "") -> HelmResult:
        """``helm ARGS``: waits for it, returns the result; raises the matching error when it fails
        (``check``). Cancelling the caller kills the process; ``timeout`` kills it too (``HelmFailed``)."""
        binary = self.require()
        argv = [binary, *args]
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.environment(env))
        except FileNotFoundError:
            raise HelmNotInstalled(f"helm not found at {binary}: {_INSTALL_HINT}") from None
        except PermissionError:
            raise HelmNotInstalled(f"helm at {binary} cannot be run (permission denied)") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(input), timeout)
        except TimeoutError:
            await _kill(proc)
            res = HelmResult(argv, -1, "", "", time.monotonic() - started)
            raise HelmFailed(f"{what or 'helm ' + (args[0] if args else '')}: no result within {timeout:.0f}s "
                             "(helm was stopped)", res) from None
        except BaseException:
            await asyncio.shield(_kill(proc))
            raise
        result = HelmResult(argv, proc.returncode if proc.returncode is not None else -1,
                            out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                            time.monotonic() - started)
        if check and not result.ok:
            raise helm_error(result, what)
        return result

    async def version(self) -> str:
        """``helm version --short`` (e.g. ``v3.18.0+gcc58e3f``)."""
        return (await self.run(["version", "--short"], timeout=30, what="helm version")).stdout.strip()


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(Exception):
            await proc.wait()


# --------------------------------------------------------------------------- release payloads


def _b64(data: str | bytes) -> bytes:
    raw = data.encode("ascii") if isinstance(data, str) else data
    try:
        return base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"helm release: not base64 ({exc})") from None


def _payload_to_release(blob: bytes) -> dict[str, Any]:
    if blob[:3] == _GZIP_MAGIC:
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidInput(f"helm release: corrupt gzip data ({exc})") from None
    try:
        release = _JSON_DECODER.decode(blob)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"helm release: not JSON ({exc})") from None
    if not isinstance(release, dict):
        raise InvalidInput("helm release: payload is not a JSON object")
    return release


def decode_release(stored: str | bytes) -> dict[str, Any]:
    """The release JSON from helm's stored string (base64 of gzip JSON, or of plain JSON for releases
    written before helm compressed them), exactly like helm's ``decodeRelease``."""
    return _payload_to_release(_b64(stored))


def encode_release(release: Mapping[str, Any], *, compress: bool = True) -> str:
    """helm's stored string for ``release`` (``encodeRelease``: gzip at best compression, base64);
    ``compress=False`` writes the old uncompressed form."""
    blob = json.dumps(release, separators=(",", ":")).encode()
    if compress:
        blob = gzip.compress(blob, compresslevel=9)
    return base64.b64encode(blob).decode("ascii")


def release_from_object(obj: Mapping[str, Any], driver: str | None = None) -> dict[str, Any]:
    """The release JSON of a storage object as the API serves it: a Secret (``data.release`` is base64
    of helm's string) or a ConfigMap (``data.release`` is helm's string). ``driver`` says which; without
    it the object's ``kind``/``type`` decide, and a value that is not a payload after one base64 level
    is decoded once more."""
    data = obj.get("data") or {}
    stored = data.get("release")
    if not isinstance(stored, str) or not stored:
        name = (obj.get("metadata") or {}).get("name", "?")
        raise InvalidInput(f"helm release {name}: no release data")
    if driver is None:
        kind = obj.get("kind")
        driver = "secret" if kind == "Secret" or obj.get("type") == RELEASE_SECRET_TYPE else (
            "configmap" if kind == "ConfigMap" else "")
    once = _b64(stored)
    if driver == "secret" or (not driver and once[:3] != _GZIP_MAGIC and once[:1] != b"{"):
        return decode_release(once)
    return _payload_to_release(once)


# --------------------------------------------------------------------------- values


def coalesce_values(chart_values: Mapping[str, Any] | None, user_values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Chart defaults merged with user values the way ``helm get values --all`` (``CoalesceValues``)
    does: user values win, nested maps merge, a user ``null`` deletes the chart's key, and a user
    scalar where the chart has a map (or the reverse) keeps the user's value."""
    out: dict[str, Any] = copy.deepcopy(dict(user_values or {}))
    _coalesce_into(out, chart_values or {})
    return out


def _coalesce_into(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    for key, val in src.items():
        if key in dst:
            cur = dst[key]
            if cur is None:
                del dst[key]
            elif isinstance(cur, dict) and isinstance(val, dict):
                _coalesce_into(cur, val)
        else:
            dst[key] = copy.deepcopy(val)


# --------------------------------------------------------------------------- models


def parse_time(text: str | None) -> datetime | None:
    """helm's RFC 3339 timestamps (nanoseconds, ``Z`` or an offset) to an aware datetime."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class HelmRelease:
    """One release at one revision: a row of the releases table or of its history."""

    name: str
    namespace: str
    revision: int
    status: str
    chart_name: str
    chart_version: str
    app_version: str
    updated: datetime | None
    description: str = ""
    first_deployed: datetime | None = None
    driver: str = "secret"
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def chart(self) -> str:
        """``NAME-VERSION``, the way ``helm list`` shows it."""
        return f"{self.chart_name}-{self.chart_version}" if self.chart_version else self.chart_name

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def storage_name(self) -> str:
        """The Secret/ConfigMap holding this revision."""
        return f"{RELEASE_NAME_PREFIX}{self.name}.v{self.revision}"


@dataclass(frozen=True)
class HelmHook:
    """A hook of a release (``helm get hooks``) with its last run."""

    name: str
    kind: str
    path: str
    events: tuple[str, ...]
    weight: int
    delete_policies: tuple[str, ...]
    manifest: str
    last_phase: str = ""
    last_started: datetime | None = None
    last_completed: datetime | None = None


@dataclass
class ReleaseDetail:
    """Everything stored for one revision of a release."""

    release: HelmRelease
    config: dict[str, Any]
    chart_values: dict[str, Any]
    manifest: str
    notes: str
    hooks: list[HelmHook]
    chart_metadata: dict[str, Any]
    templates: dict[str, str]
    files: dict[str, str]
    raw: dict[str, Any]

    @property
    def computed_values(self) -> dict[str, Any]:
        """Chart values merged with the user's (``helm get values --all``)."""
        return coalesce_values(self.chart_values, self.config)

    @property
    def hooks_manifest(self) -> str:
        """All hook manifests as ``helm get hooks`` prints them."""
        return "".join(f"---\n# Source: {h.path}\n{h.manifest}\n" for h in self.hooks)


def _b64_text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def summary_of(release: Mapping[str, Any], driver: str = "secret",
               labels: Mapping[str, str] | None = None) -> HelmRelease:
    """The table row of a decoded release."""
    info = release.get("info") or {}
    meta = (release.get("chart") or {}).get("metadata") or {}
    return HelmRelease(
        name=str(release.get("name") or ""),
        namespace=str(release.get("namespace") or ""),
        revision=int(release.get("version") or 0),
        status=str(info.get("status") or "unknown"),
        chart_name=str(meta.get("name") or ""),
        chart_version=str(meta.get("version") or ""),
        app_version=str(meta.get("appVersion") or ""),
        updated=parse_time(info.get("last_deployed")),
        description=str(info.get("description") or ""),
        first_deployed=parse_time(info.get("first_deployed")),
        driver=driver,
        labels=dict(labels or {}),
    )


def detail_of(release: dict[str, Any], driver: str = "secret",
              labels: Mapping[str, str] | None = None) -> ReleaseDetail:
    """The full view of a decoded release."""
    chart = release.get("chart") or {}
    hooks: list[HelmHook] = []
    for h in release.get("hooks") or []:
        last = h.get("last_run") or {}
        hooks.append(HelmHook(
            name=str(h.get("name") or ""), kind=str(h.get("kind") or ""), path=str(h.get("path") or ""),
            events=tuple(str(e) for e in h.get("events") or ()), weight=int(h.get("weight") or 0),
            delete_policies=tuple(str(p) for p in h.get("delete_policies") or ()),
            manifest=str(h.get("manifest") or ""), last_phase=str(last.get("phase") or ""),
            last_started=parse_time(last.get("started_at")), last_completed=parse_time(last.get("completed_at"))))
    return ReleaseDetail(
        release=summary_of(release, driver, labels),
        config=dict(release.get("config") or {}),
        chart_values=dict(chart.get("values") or {}),
        manifest=str(release.get("manifest") or ""),
        notes=str((release.get("info") or {}).get("notes") or ""),
        hooks=hooks,
        chart_metadata=dict(chart.get("metadata") or {}),
        templates={str(t.get("name")): _b64_text(t.get("data")) for t in chart.get("templates") or []},
        files={str(f.get("name")): _b64_text(f.get("data")) for f in chart.get("files") or []},
        raw=release,
    )


# --------------------------------------------------------------------------- the engine


def _collection(driver: str, namespace: str | None) -> str:
    plural = "secrets" if driver == "secret" else "configmaps"
    return f"/api/v1/namespaces/{namespace}/{plural}" if namespace else f"/api/v1/{plural}"


def _is_release_object(obj: Mapping[str, Any], driver: str) -> bool:
    meta = obj.get("metadata") or {}
    if not str(meta.get("name") or "").startswith(RELEASE_NAME_PREFIX):
        return False
    return driver != "secret" or obj.get("type") in (None, "", RELEASE_SECRET_TYPE)


def _revision_of(obj: Mapping[str, Any]) -> int:
    meta = obj.get("metadata") or {}
    try:
        return int((meta.get("labels") or {}).get("version") or 0)
    except ValueError:
        return 0


@dataclass
class ReleaseListing:
    """The result of :meth:`HelmEngine.list_releases`: releases plus what could not be read."""

    releases: list[HelmRelease]
    warnings: list[str] = field(default_factory=list)


class HelmEngine:
    """Releases of a :class:`KubeManager`'s contexts (read from storage) and helm actions on them."""

    def __init__(self, kube: KubeManager, *, helm_bin: str | None = None, paths: HelmPaths | None = None,
                 env: Mapping[str, str] | None = None, drivers: Sequence[str] = DRIVERS) -> None:
        unknown = [d for d in drivers if d not in DRIVERS]
        if unknown:
            raise InvalidInput(f"unknown helm storage driver(s): {', '.join(unknown)}")
        self.kube = kube
        self.cli = HelmCLI(helm_bin, paths=paths, env=env)
        self.drivers = tuple(drivers)
        self._repos: ChartRepos | None = None

    @property
    def paths(self) -> HelmPaths:
        return self.cli.paths

    @property
    def helm_available(self) -> bool:
        """Whether actions can run (listing and browsing never need helm)."""
        return self.cli.available

    @property
    def repos(self) -> ChartRepos:
        """The chart browser on the same helm paths and binary."""
        if self._repos is None:
            from tamer_tui.core.kube.helm_repo import ChartRepos

            self._repos = ChartRepos(self.cli)
        return self._repos

    # -- reading storage ------------------------------------------------------------------------
    async def _list_objects(self, client: KubeClient, driver: str, namespace: str | None,
                            selector: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"labelSelector": selector, "limit": _LIST_PAGE}
        what = f"helm releases ({'secrets' if driver == 'secret' else 'configmaps'})"
        while True:
            raw = await client.get(_collection(driver, namespace), params, what=what)
            body = _JSON_DECODER.decode(raw) if len(raw) < _THREAD_DECODE else (
                await asyncio.to_thread(_JSON_DECODER.decode, raw))
            items.extend(o for o in body.get("items") or [] if _is_release_object(o, driver))
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return items
            params["continue"] = token

    async def list_releases(self, namespace: str | None = None, *, context: str | None = None,
                            states: Collection[str] | None = None) -> ReleaseListing:
        """The latest revision of every release (``namespace=None``: all namespaces), sorted by
        namespace and name. ``states`` keeps only those statuses (``HELM_LIST_DEFAULT_STATES`` is
        what helm 3's ``helm list`` shows); ``None`` keeps every status (like helm 4). A driver whose objects cannot be read
        (e.g. ConfigMaps forbidden) becomes a warning; when none can be read the error is raised."""
        client = await self.kube.client(context)
        latest: dict[tuple[str, str], tuple[int, str, dict[str, Any]]] = {}
        warnings: list[str] = []
        errors: list[TamerError] = []
        for driver in self.drivers:
            try:
                objs = await self._list_objects(client, driver, namespace, "owner=helm,status!=superseded")
            except TamerError as exc:
                errors.append(exc)
                continue
            for obj in objs:
                meta = obj.get("metadata") or {}
                key = (str(meta.get("namespace") or ""), str((meta.get("labels") or {}).get("name") or meta.get("name")))
                rev = _revision_of(obj)
                if key not in latest or rev > latest[key][0]:
                    latest[key] = (rev, driver, obj)
        if errors and len(errors) == len(self.drivers):
            raise errors[0]
        warnings.extend(str(e) for e in errors)  # e.g. ConfigMaps forbidden while Secrets could be read

        def decode_all() -> list[HelmRelease]:
            out: list[HelmRelease] = []
            for _rev, driver, obj in latest.values():
                meta = obj.get("metadata") or {}
                try:
                    rel = summary_of(release_from_object(obj, driver), driver, meta.get("labels"))
                except TamerError as exc:
                    warnings.append(f"{meta.get('namespace')}/{meta.get('name')}: {exc}")
                    continue
                if states is None or rel.status in states:
                    out.append(rel)
            out.sort(key=lambda r: (r.namespace, r.name))
            return out

        # gunzip + JSON of hundreds of releases costs tens of ms: keep it off the UI's loop
        releases = decode_all() if len(latest) <= 16 else await asyncio.to_thread(decode_all)
        return ReleaseListing(releases, warnings)

    async def _revisions(self, name: str, namespace: str, context: str | None,
                         selector_extra: str = "") -> list[tuple[int, str, dict[str, Any]]]:
        client = await self.kube.client(context)
        found: list[tuple[int, str, dict[str, Any]]] = []
        errors: list[TamerError] = []
        selector = f"owner=helm,name={name}{selector_extra}"
        for driver in self.drivers:
            try:
                objs = await self._list_objects(client, driver, namespace, selector)
            except TamerError as exc:
                errors.append(exc)
                continue
            found.extend((_revision_of(o), driver, o) for o in objs)
        if errors and len(errors) == len(self.drivers):
            raise errors[0]
        found.sort(key=lambda t: t[0])
        return found

    async def history(self, name: str, namespace: str, *, context: str | None = None) -> list[HelmRelease]:
        """Every stored revision of a release, oldest first (``helm history``)."""
        revs = await self._revisions(name, namespace, context)
        if not revs:
            raise NotFound(f"helm release {namespace}/{name}: not found")
        out: list[HelmRelease] = []
        for _rev, driver, obj in revs:
            out.append(summary_of(release_from_object(obj, driver), driver, (obj.get("metadata") or {}).get("labels")))
        return out

    async def get_release(self, name: str, namespace: str, revision: int | None = None, *,
                          context: str | None = None) -> ReleaseDetail:
        """One revision of a release in full (``None``: the latest)."""
        if revision is None:
            revs = await self._revisions(name, namespace, context, ",status!=superseded")
            if not revs:
                revs = await self._revisions(name, namespace, context)
            if not revs:
                raise NotFound(f"helm release {namespace}/{name}: not found")
            _rev, driver, obj = revs[-1]
            return detail_of(release_from_object(obj, driver), driver, (obj.get("metadata") or {}).get("labels"))
        client = await self.kube.client(context)
        object_name = f"{RELEASE_NAME_PREFIX}{name}.v{revision}"
        last: TamerError | None = None
        for driver in self.drivers:
            path = f"{_collection(driver, namespace)}/{object_name}"
            try:
                obj = _JSON_DECODER.decode(await client.get(path, what=f"helm release {namespace}/{name} "
                                                                       f"revision {revision}"))
            except NotFound as exc:
                last = exc
                continue
            if _is_release_object(obj, driver):
                return detail_of(release_from_object(obj, driver), driver, (obj.get("metadata") or {}).get("labels"))
        raise NotFound(f"helm release {namespace}/{name}: no revision {revision}") from last

    # -- actions --------------------------------------------------------------------------------
    def _kube_args(self, namespace: str | None, context: str | None) -> tuple[list[str], dict[str, str]]:
        state = self.kube.state(context)
        args = ["--kube-context", state.name]
        env: dict[str, str] = {}
        kubeconfig = self.kube.kubeconfig
        if kubeconfig:
            if os.pathsep in kubeconfig:  # helm's --kubeconfig takes one file; KUBECONFIG merges several
                env["KUBECONFIG"] = kubeconfig
            else:
                args += ["--kubeconfig", kubeconfig]
        if namespace:
            args += ["--namespace", namespace]
        return args, env

    async def run(self, args: Sequence[str], *, namespace: str | None = None, context: str | None = None,
                  timeout: float | None = None, input: bytes | None = None, what: str = "") -> HelmResult:
        """Any helm command against a context (its flags added); no read-only guard: callers guard."""
        kube_args, env = self._kube_args(namespace, context)
        return await self.cli.run([*args, *kube_args], input=input, timeout=timeout, env=env, what=what)

    @staticmethod
    def _wait_args(wait: bool, timeout: float | None) -> list[str]:
        args = ["--wait"] if wait else []
        if timeout is not None:
            args += ["--timeout", f"{max(1, int(timeout))}s"]
        return args

    @staticmethod
    def _process_timeout(timeout: float | None) -> float | None:
        return None if timeout is None else timeout + 60.0

    async def _with_values(self, args: list[str], values_files: Iterable[str], values_yaml: str | None,
                           set_values: Iterable[str], run: Any) -> HelmResult:
        for f in values_files:
            args += ["--values", str(f)]
        tmp: str | None = None
        if values_yaml is not None and values_yaml.strip():
            fd, tmp = tempfile.mkstemp(prefix="tamer-values-", suffix=".yaml")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(values_yaml)
            args += ["--values", tmp]
        for s in set_values:
            args += ["--set", s]
        try:
            result: HelmResult = await run(args)
            return result
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    async def install(self, release: str, chart: str, namespace: str, *, version: str | None = None,
                      values_files: Iterable[str] = (), values_yaml: str | None = None,
                      set_values: Iterable[str] = (), create_namespace: bool = False, wait: bool = False,
                      timeout: float | None = None, devel: bool = False, dry_run: bool = False,
                      extra_args: Sequence[str] = (), context: str | None = None) -> HelmResult:
        """``helm install RELEASE CHART`` (CHART: ``repo/name``, a chart directory, a ``.tgz`` or a URL);
        ``values_yaml`` is written to a temporary values file (removed afterwards)."""
        if not dry_run:
            self.kube.guard("helm install", context)
        args = ["install", release, chart]
        if version:
            args += ["--version", version]
        if create_namespace:
            args.append("--create-namespace")
        if devel:
            args.append("--devel")
        if dry_run:
            args.append("--dry-run")
        args += self._wait_args(wait, timeout)
        args += list(extra_args)
        return await self._with_values(args, values_files, values_yaml, set_values, lambda a: self.run(
            a, namespace=namespace, context=context, timeout=self._process_timeout(timeout),
            what=f"install {namespace}/{release}"))

    async def upgrade(self, release: str, chart: str, namespace: str, *, version: str | None = None,
                      values_files: Iterable[str] = (), values_yaml: str | None = None,
                      set_values: Iterable[str] = (), reuse_values: bool = False, reset_values: bool = False,
                      install: bool = False, create_namespace: bool = False, wait: bool = False,
                      timeout: float | None = None, devel: bool = False, dry_run: bool = False,
                      extra_args: Sequence[str] = (), context: str | None = None) -> HelmResult:
        """``helm upgrade RELEASE CHART`` with values files / inline YAML / ``--set``."""
        if reuse_values and reset_values:
            raise InvalidInput("reuse values and reset values cannot both be chosen")
        if not dry_run:
            self.kube.guard("helm upgrade", context)
        args = ["upgrade", release, chart]
        if version:
            args += ["--version", version]
        if reuse_values:
            args.append("--reuse-values")
        if reset_values:
            args.append("--reset-values")
        if install:
            args.append("--install")
            if create_namespace:
                args.append("--create-namespace")
        if devel:
            args.append("--devel")
        if dry_run:
            args.append("--dry-run")
        args += self._wait_args(wait, timeout)
        args += list(extra_args)
        return await self._with_values(args, values_files, values_yaml, set_values, lambda a: self.run(
            a, namespace=namespace, context=context, timeout=self._process_timeout(timeout),
            what=f"upgrade {namespace}/{release}"))

    async def rollback(self, release: str, revision: int, namespace: str, *, wait: bool = False,
                       timeout: float | None = None, context: str | None = None) -> HelmResult:
        """``helm rollback RELEASE REVISION`` (a new revision with the old one's chart and values)."""
        if revision < 1:
            raise InvalidInput("rollback: revision must be 1 or more")
        self.kube.guard("helm rollback", context)
        args = ["rollback", release, str(revision), *self._wait_args(wait, timeout)]
        return await self.run(args, namespace=namespace, context=context, timeout=self._process_timeout(timeout),
                              what=f"rollback {namespace}/{release} to {revision}")

    async def uninstall(self, release: str, namespace: str, *, keep_history: bool = False, wait: bool = False,
                        timeout: float | None = None, context: str | None = None) -> HelmResult:
        """``helm uninstall RELEASE`` (``keep_history``: the release stays, status ``uninstalled``)."""
        self.kube.guard("helm uninstall", context)
        args = ["uninstall", release, *self._wait_args(wait, timeout)]
        if keep_history:
            args.append("--keep-history")
        return await self.run(args, namespace=namespace, context=context, timeout=self._process_timeout(timeout),
                              what=f"uninstall {namespace}/{release}")

    async def test(self, release: str, namespace: str, *, logs: bool = False, timeout: float | None = None,
                   context: str | None = None) -> HelmResult:
        """``helm test RELEASE``: runs the chart's test hooks (creates pods, hence guarded)."""
        self.kube.guard("helm test", context)
        args = ["test", release]
        if logs:
            args.append("--logs")
        if timeout is not None:
            args += ["--timeout", f"{max(1, int(timeout))}s"]
        return await self.run(args, namespace=namespace, context=context, timeout=self._process_timeout(timeout),
                              what=f"test {namespace}/{release}")
