"""User settings: typed dataclasses loaded from (and saved to) ``<config dir>/settings.yaml``.

The config dir is ``platformdirs.user_config_dir("tamer")`` unless ``TAMER_CONFIG_DIR`` is set
(see :mod:`tamer_tui.core.platform`). Loading never raises: a missing file gives the defaults, an
unknown key gives a warning, and a file that cannot be read, is not valid YAML or holds an invalid
value is copied to ``settings.yaml.bak-<timestamp>`` and replaced by the defaults, with warnings
saying exactly what was wrong (``settings.yaml: logs.tail must be an integer >= 0, got 'abc'``).

Credentials never live here: they go to the OS keyring via :mod:`tamer_tui.core.credentials`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tamer_tui.core import platform

SETTINGS_FILE = "settings.yaml"

#: URL schemes a Docker host may use (DOCKER_HOST semantics).
DOCKER_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://", "http://", "https://")
#: URL schemes a Podman service URL may use (CONTAINER_HOST semantics).
PODMAN_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://", "http://", "https://")

#: Key names that look like secrets: settings.yaml must not hold them.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key", "credential")


def _rule(**kwargs: Any) -> dict[str, Any]:
    return kwargs


@dataclass
class LogSettings:
    """How log views behave."""

    tail: int = field(default=1000, metadata=_rule(min=0))
    buffer_lines: int = field(default=200_000, metadata=_rule(min=100))
    buffer_mb: int = field(default=256, metadata=_rule(min=1))  # text + per-line overhead
    wrap: bool = False
    timestamps: bool = False
    prefixes: bool = True  # source name before each line of an aggregated stream
    spill_dir: str = ""  # when set, every stream is also written in full to a file there


@dataclass
class DockerSettings:
    """The Docker endpoint; an empty ``host`` means auto-detect (DOCKER_HOST, context, socket)."""

    enabled: bool = True
    host: str = field(default="", metadata=_rule(schemes=DOCKER_SCHEMES))


@dataclass
class PodmanSettings:
    """The Podman endpoint; an empty ``url`` means auto-detect (CONTAINER_HOST, sockets, connections)."""

    enabled: bool = True
    url: str = field(default="", metadata=_rule(schemes=PODMAN_SCHEMES))


@dataclass
class RuntimeSettings:
    """Container runtimes to use."""

    docker: DockerSettings = field(default_factory=DockerSettings)
    podman: PodmanSettings = field(default_factory=PodmanSettings)


@dataclass
class SavedForward:
    """A port-forward to start again later (``autostart``: when Tamer starts with that context)."""

    context: str = ""
    target: str = ""  # pod/NS/NAME or svc/NS/NAME
    ports: str = ""  # [LOCAL:]REMOTE as typed after :pf
    address: str = "127.0.0.1"
    autostart: bool = False


@dataclass
class KubeSettings:
    """Kubernetes: kubeconfig files (empty: KUBECONFIG or ~/.kube/config) and favourite namespaces."""

    kubeconfig: list[str] = field(default_factory=list)
    favorite_namespaces: dict[str, list[str]] = field(default_factory=dict)
    readonly_contexts: list[str] = field(default_factory=list)  # contexts where every mutation is refused
    port_forwards: list[SavedForward] = field(default_factory=list)


@dataclass
class Settings:
    """Everything a user can configure. Defaults are what a fresh install uses."""

    theme: str = field(default="tamer-dark", metadata=_rule(nonempty=True))
    mouse: bool = True
    readonly: bool = False
    refresh_fallback_s: float = field(default=2.0, metadata=_rule(min=0.1, max=3600.0))
    logs: LogSettings = field(default_factory=LogSettings)
    keys: dict[str, str] = field(default_factory=dict)
    runtimes: RuntimeSettings = field(default_factory=RuntimeSettings)
    kube: KubeSettings = field(default_factory=KubeSettings)
    shell: list[str] = field(default_factory=lambda: ["bash", "sh"], metadata=_rule(nonempty=True))


@dataclass
class LoadResult:
    """What :func:`load_settings` found: the settings to use, warnings to show, and the file."""

    settings: Settings
    warnings: list[str]
    path: Path
    backup: Path | None = None


# --------------------------------------------------------------------------------------- parsing
def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _secretish(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


class _Parser:
    """Converts plain YAML data into the dataclasses, collecting errors and warnings."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, path: str, expected: str, value: Any) -> None:
        self.errors.append(f"{self.label}: {path} must be {expected}, got {_describe(value)}")

    def dataclass_value(self, cls: type, data: Any, path: str) -> Any:
        default = cls()
        if data is None:
            return default
        if not isinstance(data, Mapping):
            self.error(path or "the top level", "a mapping of keys to values", data)
            return default
        hints = typing.get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in data.items():
            dotted = f"{path}.{key}" if path else str(key)
            if key not in known:
                if isinstance(key, str) and _secretish(key):
                    self.warnings.append(
                        f"{self.label}: {dotted} looks like a credential; secrets belong in the OS "
                        "keyring (tamer_tui.core.credentials), not in settings.yaml - ignored")
                else:
                    self.warnings.append(f"{self.label}: unknown key {dotted} ignored")
                continue
            fld = known[key]
            values[key] = self.value(hints[key], raw, dotted, fld.metadata, getattr(default, key))
        return cls(**values)

    def value(self, tp: Any, raw: Any, path: str, rules: Mapping[str, Any], default: Any) -> Any:
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.dataclass_value(tp, raw, path)
        origin = typing.get_origin(tp)
        if tp is bool:
            if isinstance(raw, bool):
                return raw
            self.error(path, "true or false", raw)
            return default
        if tp is int:
            lo = rules.get("min")
            if isinstance(raw, int) and not isinstance(raw, bool) and (lo is None or raw >= lo):
                return raw
            self.error(path, "an integer" + (f" >= {lo}" if lo is not None else ""), raw)
            return default
        if tp is float:
            lo, hi = rules.get("min"), rules.get("max")
            ok = isinstance(raw, int | float) and not isinstance(raw, bool)
            if ok and (lo is None or raw >= lo) and (hi is None or raw <= hi):
                return float(raw)
            bounds = f" between {lo} and {hi}" if lo is not None and hi is not None else ""
            self.error(path, "a number" + bounds, raw)
            return default
        if tp is str:
            if not isinstance(raw, str):
                self.error(path, "a string", raw)
                return default
            if rules.get("nonempty") and not raw.strip():
                self.error(path, "a non-empty string", raw)
                return default
            schemes = rules.get("schemes")
            if schemes and raw and not raw.lower().startswith(tuple(schemes)):
                self.error(path, "empty (auto-detect) or a URL starting with " + ", ".join(schemes), raw)
                return default
            return raw
        if origin is list:
            (item_tp,) = typing.get_args(tp)
            if not isinstance(raw, list):
                self.error(path, "a list", raw)
                return default
            items = []
            for i, item in enumerate(raw):
                before = len(self.errors)
                parsed = self.value(item_tp, item, f"{path}[{i}]", {"nonempty": item_tp is str}, None)
                if len(self.errors) == before:
                    items.append(parsed)
            if rules.get("nonempty") and not raw:
                self.error(path, "a non-empty list", raw)
                return default
            return items
        if origin is dict:
            _key_tp, val_tp = typing.get_args(tp)
            if not isinstance(raw, Mapping):
                self.error(path, "a mapping", raw)
                return default
            result = {}
            for key, item in raw.items():
                if not isinstance(key, str) or not key:
                    self.error(path, "a mapping with non-empty string keys", key)
                    continue
                before = len(self.errors)
                parsed = self.value(val_tp, item, f"{path}.{key}", {"nonempty": val_tp is str}, None)
                if len(self.errors) == before:
                    result[key] = parsed
            return result
        raise TypeError(f"unsupported settings type {tp!r}")


def settings_from_dict(data: Any, label: str = SETTINGS_FILE) -> tuple[Settings, list[str], list[str]]:
    """Parse plain data (as loaded from YAML) into :class:`Settings`.

    Returns ``(settings, errors, warnings)``. Invalid values are reported in ``errors`` and replaced
    by their defaults in the returned object; unknown keys are reported in ``warnings``.
    """
    parser = _Parser(label)
    settings = parser.dataclass_value(Settings, data, "")
    return settings, parser.errors, parser.warnings


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    """Plain data for YAML (dataclasses become dicts, in field order)."""
    return dataclasses.asdict(settings)


def validate_settings(settings: Settings) -> list[str]:
    """Errors in a Settings object built in code (round-trips it through the parser)."""
    _parsed, errors, _warnings = settings_from_dict(settings_to_dict(settings))
    return errors


# ----------------------------------------------------------------------------------- file access
def default_settings_path(env: Mapping[str, str] | None = None) -> Path:
    """``<config dir>/settings.yaml`` (``TAMER_CONFIG_DIR`` overrides the config dir)."""
    return platform.settings_path(env)


def _backup_path(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.bak-{stamp}")
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.name}.bak-{stamp}-{counter}")
    return candidate


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` atomically: a temp file in the same directory, fsync, ``os.replace``.

    A crash or a full disk leaves either the old file or the new one, never a truncated file.
    Raises ``OSError`` when the directory cannot be written.
    """
    target = path or default_settings_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# Tamer settings - see docs/keys.md for key names. Secrets do not belong here.\n"
        + yaml.safe_dump(settings_to_dict(settings), sort_keys=False, default_flow_style=False)
    )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            try:
                shutil.copymode(target, tmp_name)
            except OSError:
                pass
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    return target


def _recover(path: Path, reasons: list[str]) -> LoadResult:
    """Back up a bad file, fall back to defaults and (when safe) write them; never raises."""
    warnings = list(reasons)
    defaults = Settings()
    backup: Path | None = None
    try:
        backup = _backup_path(path)
        shutil.copy2(path, backup)
    except OSError as err:
        backup = None
        warnings.append(
            f"{path.name}: could not back up {path} ({err.strerror or err}); the file was left as it "
            "is and the default settings are used for this session")
        return LoadResult(defaults, warnings, path, None)
    try:
        save_settings(defaults, path)
        warnings.append(f"{path.name}: the old file was saved as {backup.name}; default settings are "
                        "used and were written to " + str(path))
    except OSError as err:
        warnings.append(f"{path.name}: the old file was saved as {backup.name}; default settings are "
                        f"used, but writing them failed ({err.strerror or err})")
    return LoadResult(defaults, warnings, path, backup)


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> LoadResult:
    """Load settings; never raises.

    * no file: defaults (nothing is written);
    * unknown keys: warnings, the rest is used;
    * unreadable file, invalid YAML, a non-mapping document or any invalid value: the file is copied
      to ``settings.yaml.bak-<timestamp>``, defaults are used and written, and the warnings say why.
    """
    target = path or default_settings_path(env)
    if not target.exists():
        return LoadResult(Settings(), [], target)
    label = target.name
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        return _recover(target, [f"{label}: cannot read {target}: {reason}"])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        return _recover(target, [f"{label}: not valid YAML{where}: {problem}"])
    if data is None:
        return LoadResult(Settings(), [], target)
    settings, errors, warnings = settings_from_dict(data, label)
    if errors:
        return _recover(target, warnings + errors)
    return LoadResult(settings, warnings, target)
