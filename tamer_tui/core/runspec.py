"""Container run specs: the Run form parsed and validated, specs read back from inspect output, live limits
and health state (issue #8).

Everything here is pure (no I/O, no UI): the Run dialog calls :func:`build_spec` on the form's text values
and gets either a :class:`ContainerSpec` or a list of :class:`FieldProblem` (every problem names its field;
nothing runs until the whole form is valid). :func:`spec_to_values` is the inverse, so a form can be
pre-filled from a spec, and :func:`spec_from_inspect` rebuilds a spec from Docker's or Podman's inspect
output ("run another one like this").

Text formats (the parse functions raise :class:`SpecError`, a ``ValueError``, with a message for the user):

* ports: ``HOST:CONTAINER`` or ``CONTAINER`` (the engine picks a free host port), optionally ``/tcp``,
  separated by commas, spaces or newlines. :class:`ContainerSpec` carries ``(container, host)`` TCP pairs
  published on all host addresses, so ``/udp``, ``IP:HOST:CONTAINER`` and port ranges are rejected.
* env and labels: ``NAME=VALUE`` items separated by spaces, commas or newlines; quote values holding those
  (``B='x y'``, ``C="1,2"``). Backslashes are literal (Windows paths), names may appear only once.
* volumes: ``SRC:DST[:ro|rw]``; ``SRC`` an absolute host path (``/srv/data``, ``C:\\data``) or a volume
  name; ``DST`` an absolute path in the container.
* memory: bytes with an optional binary unit, as Docker reads it: ``512m``, ``1g``, ``1.5GiB``, ``64MB``,
  ``268435456`` (``k``/``kb``/``kib`` are all 1024).
* cpus: ``1.5`` or millicores ``500m``.
* restart: ``no``, ``always``, ``unless-stopped``, ``on-failure`` or ``on-failure:N``.
* durations: Go style ``5s``, ``1m30s``, ``500ms``, ``1h``; a bare number is seconds.
* command, entrypoint and health_cmd are split like a POSIX shell would split them (:func:`shlex.split`)
  into an argv list that runs *without* a shell; write ``sh -c '...'`` to get one.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.models import ContainerSpec

# The Run form's fields, in order (the lead's dialog renders these).
RUN_FIELDS: tuple[str, ...] = (
    "image",
    "name",
    "command",
    "ports",
    "env",
    "volumes",
    "network",
    "cpus",
    "memory",
    "restart",
    "health_cmd",
    "health_interval",
    "labels",
    "workdir",
    "user",
)
# Further fields build_spec accepts and spec_to_values fills (an "advanced" section, or kept hidden so that
# "run like this" keeps them).
EXTRA_FIELDS: tuple[str, ...] = (
    "entrypoint",
    "health_timeout",
    "health_retries",
    "health_start_period",
    "tty",
    "auto_remove",
)
ALL_FIELDS: tuple[str, ...] = RUN_FIELDS + EXTRA_FIELDS
# The Limits dialog's fields (build_limits / limits_to_values).
LIMIT_FIELDS: tuple[str, ...] = ("cpus", "memory", "memory_swap", "restart")

MIN_MEMORY = 6 * 1024 * 1024  # Docker and Podman refuse smaller memory limits
MIN_CPUS = 0.01
DEFAULT_HEALTH_INTERVAL_S = 30.0  # what both engines use when no interval is given
DEFAULT_HEALTH_TIMEOUT_S = 30.0
DEFAULT_HEALTH_RETRIES = 3
CPU_PERIOD_US = 100_000  # the CFS period both engines use for --cpus
PODMAN_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RESTART_NAMES = ("no", "always", "unless-stopped", "on-failure")
# ContainerSpec's own default interval (used when there is no health check at all)
_SPEC_HEALTH_INTERVAL_S = float(next(f.default for f in fields(ContainerSpec) if f.name == "health_interval_s"))  # type: ignore[arg-type]

_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_VOLUME_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_ANON_VOLUME_RE = re.compile(r"[0-9a-f]{64}")
_USER_RE = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*(?::[A-Za-z0-9_.][A-Za-z0-9_.-]*)?")
_ENV_NAME_RE = re.compile(r"[^=\s]+")
_LABEL_NAME_RE = re.compile(r"\S+")
_SAFE_WORD_RE = re.compile(r"[\w@%+=:./-]+", re.ASCII)
_WINDOWS_PATH_RE = re.compile(r"[A-Za-z]:[\\/]")
_MEMORY_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([kmgtp]?)(i?b)?", re.IGNORECASE)
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
                "h": 3600 * 10**9}
_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_TRUE = ("true", "yes", "on", "1", "y")
_FALSE = ("", "false", "no", "off", "0", "n")

# Image references (distribution/reference's grammar, simplified): [domain[:port]/]path[:tag][@digest]
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?)"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE_RE = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*(?::{_TAG})?(?:@{_DIGEST})?")
_IMAGE_ID_RE = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")


class SpecError(ValueError):
    """A value the user typed cannot be used; ``str(err)`` says why and what to write instead."""


class NotSupported(InvalidInput):
    """The engine (or its version) cannot do what was asked; the message names the engine and what it lacks."""


@dataclass(frozen=True)
class FieldProblem:
    """One reason the form cannot run: the field it belongs to and a message for the user."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Limits:
    """Live-updatable settings of a container; ``None`` leaves a setting unchanged.

    ``cpus`` and ``memory`` use 0 for "no limit"; ``memory_swap`` is memory + swap in bytes (Docker's
    ``--memory-swap``), -1 for unlimited swap, 0 for "not set" (with a new memory limit, the update then
    keeps the container's swap allowance, see :func:`derived_swap`); ``restart_policy`` is a
    :func:`parse_restart` value with "" meaning no restart.
    """

    cpus: float | None = None
    memory: int | None = None
    memory_swap: int | None = None
    restart_policy: str | None = None

    def is_empty(self) -> bool:
        return self.cpus is None and self.memory is None and self.memory_swap is None and self.restart_policy is None


@dataclass(frozen=True)
class HealthEntry:
    """One health check run: unix start/end times, exit code (0 healthy) and its output."""

    start: float
    end: float
    exit_code: int
    output: str


@dataclass(frozen=True)
class HealthState:
    """A container's health: status ("healthy", "unhealthy", "starting" or "" without a check), the
    current streak of failed checks, the last runs (oldest first) and the check itself."""

    status: str
    failing_streak: int
    log: tuple[HealthEntry, ...]
    test: tuple[str, ...]
    interval_s: float
    retries: int


# -------------------------------------------------------------------------------------------------------
# Splitting and quoting
# -------------------------------------------------------------------------------------------------------
def split_items(text: str) -> list[str]:
    """Items separated by spaces, commas or newlines; '...' and "..." quote, backslashes stay literal."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace = " \t\r\n,"
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""
    try:
        return list(lexer)
    except ValueError as exc:
        raise SpecError(f"unbalanced quotes in {text.strip()!r}") from exc


def quote_item(item: str) -> str:
    """Quote ``item`` so that :func:`split_items` gives it back unchanged."""
    if item and _SAFE_WORD_RE.fullmatch(item):
        return item
    return "'" + item.replace("'", "'\"'\"'") + "'"


def split_command(text: str) -> tuple[str, ...]:
    """A command line split into argv like a POSIX shell would (no shell runs it)."""
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise SpecError(f"cannot split {text.strip()!r}: {exc} (close the quote)") from exc
    if argv and not argv[0]:
        raise SpecError(f"{text.strip()!r}: the program name is empty")
    return argv


# -------------------------------------------------------------------------------------------------------
# Parsers (each raises SpecError)
# -------------------------------------------------------------------------------------------------------
def parse_ports(text: str) -> tuple[tuple[int, int], ...]:
    """``"8080:80, 9090:90/tcp 5432"`` -> ``((80, 8080), (90, 9090), (5432, 0))`` as (container, host) pairs."""
    ports: list[tuple[int, int]] = []
    seen_hosts: set[int] = set()
    for item in split_items(text):
        body, slash, proto = item.partition("/")
        if slash and proto.lower() != "tcp":
            raise SpecError(f"{item!r}: only TCP ports can be published (no /{proto})")
        parts = body.split(":")
        if len(parts) > 2 or body.startswith("["):
            raise SpecError(f"{item!r}: publishing on one host address is not supported (ports are published "
                            f"on all addresses): write HOST:CONTAINER, e.g. {parts[-2] if len(parts) > 1 else '8080'}"
                            f":{parts[-1]}")
        if any("-" in part for part in parts):
            raise SpecError(f"{item!r}: port ranges are not supported: list the ports one by one")
        if not all(part.isdigit() for part in parts):
            raise SpecError(f"{item!r} is not a port: write HOST:CONTAINER (8080:80) or CONTAINER (80)")
        numbers = [int(part) for part in parts]
        cport = numbers[-1]
        hport = numbers[0] if len(numbers) == 2 else 0
        if not 1 <= cport <= 65535:
            raise SpecError(f"{item!r}: container port {cport} is out of range (1-65535)")
        if len(numbers) == 2 and not 1 <= hport <= 65535:
            raise SpecError(f"{item!r}: host port {hport} is out of range (1-65535; leave it out to get a free one)")
        if hport and hport in seen_hosts:
            raise SpecError(f"host port {hport} is published twice")
        if hport:
            seen_hosts.add(hport)
        if (cport, hport) not in ports:
            ports.append((cport, hport))
    return tuple(ports)


def _parse_pairs(text: str, name_re: re.Pattern[str], what: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in split_items(text):
        key, eq, value = item.partition("=")
        if not eq:
            raise SpecError(f"{item!r} has no '=': write NAME=VALUE (quote values with spaces or commas)")
        if not key or not name_re.fullmatch(key):
            raise SpecError(f"{item!r}: {key!r} is not a valid {what} name")
        if key in seen:
            raise SpecError(f"{key} is set twice")
        seen.add(key)
        pairs.append((key, value))
    return tuple(pairs)


def parse_env(text: str) -> tuple[tuple[str, str], ...]:
    """``"A=1 B='x y'"`` (or one per comma/newline) -> ``(("A", "1"), ("B", "x y"))``."""
    return _parse_pairs(text, _ENV_NAME_RE, "variable")


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    """Labels in the same ``NAME=VALUE`` format as :func:`parse_env`."""
    return _parse_pairs(text, _LABEL_NAME_RE, "label")


def parse_volume(item: str) -> str:
    """One ``SRC:DST[:ro|rw]`` -> ``"SRC:DST"`` or ``"SRC:DST:ro"`` (``rw`` is the default and dropped)."""
    parts = _volume_parts(item)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise SpecError(f"{item!r}: write SRC:DST[:ro] (SRC a host path or a volume name, DST a container path)")
    if len(parts) > 3:
        raise SpecError(f"{item!r}: too many ':' (write SRC:DST[:ro])")
    src, dst = parts[0], parts[1]
    mode = parts[2].lower() if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise SpecError(f"{item!r}: the mode must be ro or rw, not {parts[2]!r}")
    if not (src.startswith("/") or _WINDOWS_PATH_RE.match(src) or _VOLUME_NAME_RE.fullmatch(src)):
        raise SpecError(f"{item!r}: {src!r} is neither an absolute host path nor a volume name "
                        "(letters, digits, '_', '.', '-')")
    if not dst.startswith("/"):
        raise SpecError(f"{item!r}: the container path {dst!r} must be absolute")
    if dst == "/":
        raise SpecError(f"{item!r}: cannot mount over the container's root directory")
    return f"{src}:{dst}:ro" if mode == "ro" else f"{src}:{dst}"


def parse_volumes(text: str) -> tuple[str, ...]:
    """Volumes and bind mounts, one ``SRC:DST[:ro|rw]`` per item; a container path may be used once."""
    volumes: list[str] = []
    targets: set[str] = set()
    for item in split_items(text):
        volume = parse_volume(item)
        target = volume_target(volume)
        if target in targets:
            raise SpecError(f"{target} is mounted twice")
        targets.add(target)
        volumes.append(volume)
    return tuple(volumes)


def _volume_parts(item: str) -> list[str]:
    """``SRC:DST[:MODE]`` split at ':'; a Windows drive (``C:\\data:/data``) stays in SRC when what follows
    it is a container path (``a:/b`` is volume ``a`` at ``/b``)."""
    parts = item.split(":")
    if _WINDOWS_PATH_RE.match(item) and len(parts) >= 3 and parts[2].startswith("/"):
        return [f"{parts[0]}:{parts[1]}", *parts[2:]]
    return parts


def split_volume(volume: str) -> tuple[str, str, bool]:
    """A normalised volume string as (source, destination, read_only)."""
    parts = _volume_parts(volume)
    read_only = len(parts) > 2 and parts[2] == "ro"
    return parts[0], parts[1] if len(parts) > 1 else "", read_only


def volume_target(volume: str) -> str:
    return split_volume(volume)[1].rstrip("/") or "/"


def is_bind_source(source: str) -> bool:
    """Whether a volume source is a host path (a bind mount) rather than a volume name."""
    return source.startswith("/") or bool(_WINDOWS_PATH_RE.match(source))


def parse_memory(text: str) -> int:
    """``"512m"``, ``"1g"``, ``"1.5GiB"``, ``"64MB"``, ``"268435456"`` -> bytes (units are binary)."""
    value = text.strip()
    m = _MEMORY_RE.fullmatch(value)
    if not m:
        raise SpecError(f"{value!r} is not an amount of memory: write e.g. 512m, 1g, 1.5GiB or a number of bytes")
    number, unit, suffix = m.group(1), m.group(2).lower(), (m.group(3) or "").lower()
    if suffix == "ib" and not unit:
        raise SpecError(f"{value!r}: 'iB' needs a unit before it (KiB, MiB, GiB)")
    return int(Fraction(number) * _MEMORY_UNITS[unit])


def format_memory(size: int) -> str:
    """Bytes as the shortest exact text :func:`parse_memory` reads back (``67108864`` -> ``"64m"``)."""
    if size <= 0:
        return str(size)
    for unit in ("p", "t", "g", "m", "k"):
        mult = _MEMORY_UNITS[unit]
        if size % mult == 0:
            return f"{size // mult}{unit}"
    return str(size)


def parse_cpus(text: str) -> float:
    """``"1.5"`` or millicores ``"500m"`` -> CPUs as a float (0 = no limit)."""
    value = text.strip()
    try:
        cpus = float(Fraction(value[:-1]) / 1000) if value.lower().endswith("m") else float(Fraction(value))
    except (ValueError, ZeroDivisionError):
        raise SpecError(f"{value!r} is not a number of CPUs: write e.g. 1.5 or 500m") from None
    if cpus < 0:
        raise SpecError(f"{value!r}: the number of CPUs cannot be negative")
    if 0 < cpus < MIN_CPUS:
        raise SpecError(f"{value!r}: at least {MIN_CPUS} CPUs (or 0 for no limit)")
    return cpus


def format_float(value: float) -> str:
    """The shortest text giving back exactly ``value`` (``1.0`` -> ``"1"``, ``0.5`` -> ``"0.5"``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def parse_restart(text: str) -> str:
    """``"on-failure:3"`` -> ``"on-failure:3"``; "never" is "no"; ``on-failure:0`` (unlimited) is ``on-failure``."""
    value = text.strip().lower()
    if not value:
        return "no"
    name, colon, count = value.partition(":")
    if name == "never":
        name = "no"
    if name not in RESTART_NAMES:
        raise SpecError(f"{text.strip()!r} is not a restart policy: use no, always, unless-stopped, "
                        "on-failure or on-failure:N")
    if colon:
        if name != "on-failure":
            raise SpecError(f"{text.strip()!r}: only on-failure takes a retry count")
        if not count.isdigit():
            raise SpecError(f"{text.strip()!r}: the retry count must be a whole number (on-failure:3)")
        return f"on-failure:{int(count)}" if int(count) else "on-failure"
    return name


def restart_parts(policy: str) -> tuple[str, int]:
    """A :func:`parse_restart` value (or "") as the engines' (Name, MaximumRetryCount)."""
    name, _, count = (policy or "no").partition(":")
    return name, int(count) if count else 0


def parse_duration_ns(text: str) -> int:
    """Like :func:`parse_duration`, in whole nanoseconds."""
    value = text.strip()
    if not value:
        raise SpecError("empty duration: write e.g. 5s, 1m30s or 500ms")
    try:
        seconds = Fraction(value)
    except (ValueError, ZeroDivisionError):
        seconds = None
    if seconds is not None:
        if seconds < 0:
            raise SpecError(f"{value!r}: a duration cannot be negative")
        return int(seconds * 10**9)
    pos = 0
    total = Fraction(0)
    for m in _DURATION_PART_RE.finditer(value):
        if m.start() != pos:
            break
        total += Fraction(m.group(1)) * _DURATION_NS[m.group(2)]
        pos = m.end()
    if pos != len(value) or pos == 0:
        raise SpecError(f"{value!r} is not a duration: write e.g. 5s, 1m30s, 500ms or 1h")
    return int(total)


def parse_duration(text: str) -> float:
    """``"5s"``, ``"1m30s"``, ``"500ms"``, ``"1h"`` or ``"90"`` (seconds) -> seconds."""
    return parse_duration_ns(text) / 1e9


def format_duration(seconds: float) -> str:
    """Seconds as text :func:`parse_duration` reads back exactly (``90.0`` -> ``"1m30s"``)."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    if ns % 10**9:
        return f"{ns // 10**6}ms" if ns % 10**6 == 0 else f"{ns}ns"
    secs = ns // 10**9
    hours, rest = divmod(secs, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SpecError(f"{text.strip()!r}: write yes or no")


def check_image(text: str) -> str:
    """An image reference (``busybox``, ``registry:5000/team/app:1.2@sha256:...``) or an image id."""
    value = text.strip()
    if not value:
        raise SpecError("an image is required")
    if any(ch.isspace() for ch in value):
        raise SpecError(f"{value!r}: an image reference has no spaces")
    if _IMAGE_RE.fullmatch(value) or _IMAGE_ID_RE.fullmatch(value):
        return value
    path = value.split("@", 1)[0]
    if _IMAGE_RE.fullmatch(path.lower()) and path != path.lower():
        raise SpecError(f"{value!r}: the repository name must be lowercase")
    raise SpecError(f"{value!r} is not a valid image reference (e.g. busybox, busybox:1.36, "
                    "registry.example:5000/team/app:tag)")


def check_name(text: str) -> str:
    value = text.strip()
    if value and not _NAME_RE.fullmatch(value):
        raise SpecError(f"{value!r}: a container name uses letters, digits, '_', '.', '-' and starts with a "
                        "letter or digit")
    return value


def check_network(text: str) -> str:
    value = text.strip()
    if not value or value in ("host", "none", "bridge", "default"):
        return "" if value == "default" else value
    if value.startswith("container:"):
        if _NAME_RE.fullmatch(value.split(":", 1)[1]):
            return value
        raise SpecError(f"{value!r}: write container:NAME_OR_ID")
    if not _NAME_RE.fullmatch(value):
        raise SpecError(f"{value!r} is not a network name (letters, digits, '_', '.', '-'; or host, none, "
                        "bridge, container:NAME)")
    return value


def check_workdir(text: str) -> str:
    value = text.strip()
    if value and not value.startswith("/"):
        raise SpecError(f"{value!r}: the working directory must be an absolute path in the container")
    return value


def check_user(text: str) -> str:
    value = text.strip()
    if value and not _USER_RE.fullmatch(value):
        raise SpecError(f"{value!r}: write USER, UID or UID:GID")
    return value


# -------------------------------------------------------------------------------------------------------
# The form <-> ContainerSpec
# -------------------------------------------------------------------------------------------------------
def build_spec(values: Mapping[str, str]) -> tuple[ContainerSpec | None, list[FieldProblem]]:
    """Validate the whole form; a spec only when there is no problem at all (nothing runs half-checked).

    ``values`` maps :data:`ALL_FIELDS` names to the text typed (missing names count as empty).
    """
    problems: list[FieldProblem] = []

    def text(field: str) -> str:
        return str(values.get(field) or "")

    def check(field: str, func: Any, default: Any) -> Any:
        try:
            return func(text(field))
        except SpecError as exc:
            problems.append(FieldProblem(field, str(exc)))
            return default

    for key in values:
        if key not in ALL_FIELDS:
            problems.append(FieldProblem(key, f"unknown field (known: {', '.join(ALL_FIELDS)})"))

    image = check("image", check_image, "")
    name = check("name", check_name, "")
    command = check("command", split_command, ())
    entrypoint = check("entrypoint", split_command, ())
    ports = check("ports", parse_ports, ())
    env = check("env", parse_env, ())
    volumes = check("volumes", parse_volumes, ())
    network = check("network", check_network, "")
    labels = check("labels", parse_labels, ())
    workdir = check("workdir", check_workdir, "")
    user = check("user", check_user, "")
    tty = check("tty", parse_bool, False)
    auto_remove = check("auto_remove", parse_bool, False)

    cpus = 0.0
    if text("cpus").strip():
        cpus = check("cpus", parse_cpus, 0.0)
    memory = 0
    if text("memory").strip():
        memory = check("memory", parse_memory, 0)
        if 0 < memory < MIN_MEMORY:
            problems.append(FieldProblem("memory", f"{text('memory').strip()!r} is too small: at least 6m "
                                                   "(the engines refuse less), or empty for no limit"))
    restart = check("restart", parse_restart, "no")
    restart_policy = "" if restart == "no" else restart
    if auto_remove and restart_policy:
        problems.append(FieldProblem("restart", "a container removed when it exits (auto_remove) cannot have "
                                                "a restart policy"))

    healthcheck = check("health_cmd", split_command, ())
    health_interval = DEFAULT_HEALTH_INTERVAL_S if healthcheck else _SPEC_HEALTH_INTERVAL_S
    health_timeout = DEFAULT_HEALTH_TIMEOUT_S if healthcheck else 0.0
    health_start = 0.0
    health_retries = DEFAULT_HEALTH_RETRIES
    for field in ("health_interval", "health_timeout", "health_start_period", "health_retries"):
        if text(field).strip() and not healthcheck and not text("health_cmd").strip():
            problems.append(FieldProblem(field, "set a health command (health_cmd) first"))
    if healthcheck:
        if text("health_interval").strip():
            health_interval = check("health_interval", parse_duration, health_interval)
            if health_interval < 1:
                problems.append(FieldProblem("health_interval", "at least 1s between health checks"))
        if text("health_timeout").strip():
            health_timeout = check("health_timeout", parse_duration, health_timeout)
            if health_timeout < 0.001:
                problems.append(FieldProblem("health_timeout", "at least 1ms"))
        if text("health_start_period").strip():
            health_start = check("health_start_period", parse_duration, 0.0)
            if 0 < health_start < 0.001:
                problems.append(FieldProblem("health_start_period", "0 or at least 1ms"))
        if text("health_retries").strip():
            raw = text("health_retries").strip()
            if raw.isdigit() and int(raw) >= 1:
                health_retries = int(raw)
            else:
                problems.append(FieldProblem("health_retries", f"{raw!r}: a whole number of at least 1"))

    if problems:
        return None, problems
    spec = ContainerSpec(
        image=image,
        name=name,
        command=command,
        env=env,
        labels=labels,
        ports=ports,
        network=network,
        healthcheck=healthcheck,
        health_interval_s=health_interval,
        volumes=volumes,
        cpus=cpus,
        memory=memory,
        restart_policy=restart_policy,
        health_retries=health_retries,
        health_timeout_s=health_timeout,
        health_start_period_s=health_start,
        entrypoint=entrypoint,
        workdir=workdir,
        user=user,
        tty=tty,
        auto_remove=auto_remove,
    )
    return spec, []


def spec_to_values(spec: ContainerSpec) -> dict[str, str]:
    """The form's text values for ``spec`` (every :data:`ALL_FIELDS` key): ``build_spec`` gives ``spec`` back.

    Exact for every spec :func:`build_spec` or :func:`spec_from_inspect` makes; a hand-built spec with a
    health check but ``health_timeout_s`` 0 (a runtime default) comes back with the engines' 30 s default.
    """
    health = bool(spec.healthcheck)
    return {
        "image": spec.image,
        "name": spec.name,
        "command": shlex.join(spec.command),
        "ports": ", ".join(f"{hport}:{cport}" if hport else str(cport) for cport, hport in spec.ports),
        "env": " ".join(quote_item(f"{k}={v}") for k, v in spec.env),
        "volumes": ", ".join(quote_item(v) for v in spec.volumes),
        "network": spec.network,
        "cpus": format_float(spec.cpus) if spec.cpus else "",
        "memory": format_memory(spec.memory) if spec.memory else "",
        "restart": spec.restart_policy,
        "health_cmd": shlex.join(spec.healthcheck),
        "health_interval": format_duration(spec.health_interval_s) if health else "",
        "labels": " ".join(quote_item(f"{k}={v}") for k, v in spec.labels),
        "workdir": spec.workdir,
        "user": spec.user,
        "entrypoint": shlex.join(spec.entrypoint),
        "health_timeout": format_duration(spec.health_timeout_s) if health and spec.health_timeout_s else "",
        "health_retries": str(spec.health_retries) if health and spec.health_retries != DEFAULT_HEALTH_RETRIES
        else "",
        "health_start_period": format_duration(spec.health_start_period_s)
        if health and spec.health_start_period_s else "",
        "tty": "yes" if spec.tty else "",
        "auto_remove": "yes" if spec.auto_remove else "",
    }


# -------------------------------------------------------------------------------------------------------
# Inspect output -> spec, limits, health
# -------------------------------------------------------------------------------------------------------
def is_podman_inspect(inspect: Mapping[str, Any]) -> bool:
    """Podman's inspect carries libpod-only keys (``ImageName``, ``OCIRuntime``, ``ConmonPidFile``)."""
    return any(key in inspect for key in ("ImageName", "OCIRuntime", "ConmonPidFile", "IsInfra"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def healthcheck_argv(test: Any) -> tuple[str, ...]:
    """A Healthcheck ``Test`` as argv: ``["CMD", a, b]`` -> (a, b); ``["CMD-SHELL", s]`` -> ("/bin/sh", "-c", s);
    ``["NONE"]`` or nothing -> ()."""
    if isinstance(test, str):
        return ("/bin/sh", "-c", test) if test.strip() else ()
    parts = _strings(test)
    if not parts or parts[0] == "NONE":
        return ()
    if parts[0] == "CMD":
        return parts[1:]
    if parts[0] == "CMD-SHELL":
        return ("/bin/sh", "-c", " ".join(parts[1:])) if len(parts) > 1 else ()
    return parts


def _ns_seconds(value: Any) -> float:
    try:
        return int(value or 0) / 1e9
    except (TypeError, ValueError):
        return 0.0


def _entrypoint(inspect: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[str, ...]:
    raw = config.get("Entrypoint")
    if isinstance(raw, list | tuple):
        return _strings(raw)
    if not isinstance(raw, str) or not raw.strip():
        return ()
    # Podman 4.x joins the entrypoint into one string; Path + Args is the real argv (entrypoint + cmd).
    argv = (str(inspect.get("Path") or ""), *_strings(inspect.get("Args")))
    cmd = _strings(config.get("Cmd"))
    if argv[0]:
        if cmd and argv[-len(cmd):] == cmd and len(argv) > len(cmd):
            return argv[: len(argv) - len(cmd)]
        if not cmd:
            return argv
    return tuple(raw.split())


def _network(inspect: Mapping[str, Any], podman: bool) -> str:
    mode = str(_mapping(inspect.get("HostConfig")).get("NetworkMode") or "")
    if mode in ("", "default"):
        return ""
    if podman and mode == "bridge":
        networks = sorted(_mapping(_mapping(inspect.get("NetworkSettings")).get("Networks")))
        chosen = [n for n in networks if n != "podman"]
        return chosen[0] if chosen else ""
    return mode


def _ports(host: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    ports: list[tuple[int, int]] = []
    for key, bindings in _mapping(host.get("PortBindings")).items():
        port, _, proto = str(key).partition("/")
        if (proto or "tcp") != "tcp" or not port.isdigit():
            continue  # ContainerSpec carries TCP ports only
        for binding in bindings or [{}]:
            host_port = str(_mapping(binding).get("HostPort") or "0")
            pair = (int(port), int(host_port) if host_port.isdigit() else 0)
            if pair not in ports:
                ports.append(pair)
    return tuple(sorted(ports))


def _volumes(inspect: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[tuple[str, str]] = []
    for mount in inspect.get("Mounts") or ():
        mount = _mapping(mount)
        kind = str(mount.get("Type") or "")
        dst = str(mount.get("Destination") or "")
        if kind == "volume":
            src = str(mount.get("Name") or "")
            if not src or _ANON_VOLUME_RE.fullmatch(src):
                continue  # anonymous volume (the image's VOLUME or an unnamed -v /path)
        elif kind == "bind":
            src = str(mount.get("Source") or "")
        else:
            continue  # tmpfs, npipe, image mounts ... cannot be written as SRC:DST
        if not src or not dst:
            continue
        text = f"{src}:{dst}" if mount.get("RW", True) else f"{src}:{dst}:ro"
        found.append((dst, text))
    return tuple(text for _dst, text in sorted(found))


def restart_from_inspect(host: Mapping[str, Any]) -> str:
    policy = _mapping(host.get("RestartPolicy"))
    name = str(policy.get("Name") or "").lower()
    if name in ("", "no", "never"):
        return ""
    if name == "on-failure":
        count = int(policy.get("MaximumRetryCount") or 0)
        return f"on-failure:{count}" if count else "on-failure"
    return name


def cpus_from_host_config(host: Mapping[str, Any]) -> float:
    nano = int(host.get("NanoCpus") or 0)
    if nano > 0:
        return nano / 1e9
    quota = int(host.get("CpuQuota") or 0)
    period = int(host.get("CpuPeriod") or 0) or CPU_PERIOD_US
    return quota / period if quota > 0 else 0.0


def spec_from_inspect(inspect: Mapping[str, Any], image: Mapping[str, Any] | None = None) -> ContainerSpec:
    """The spec that would create a container like the inspected one (Docker or Podman inspect output).

    Pass the image's inspect output as ``image`` to leave out what the container only inherits from its
    image (its env, labels, command, entrypoint, workdir, user, health check). Engine-added values are
    dropped too: Podman's ``container=podman``, ``HOSTNAME``, ``TERM=xterm`` and default ``PATH``
    variables, its default working directory ``/`` and its default network ``podman``; Docker's
    ``default`` network mode; a restart policy ``no``. What a spec cannot carry is left out: anonymous
    volumes, tmpfs mounts, UDP ports, the host address a port is bound to.
    """
    podman = is_podman_inspect(inspect)
    config = _mapping(inspect.get("Config"))
    host = _mapping(inspect.get("HostConfig"))
    image_config = _mapping(_mapping(image).get("Config")) if image is not None else {}

    image_ref = str((inspect.get("ImageName") if podman else "") or config.get("Image") or inspect.get("Image") or "")
    command = _strings(config.get("Cmd"))
    entrypoint = _entrypoint(inspect, config)
    if image is not None:
        if command and command == _strings(image_config.get("Cmd")):
            command = ()
        if entrypoint and entrypoint == _strings(image_config.get("Entrypoint")):
            entrypoint = ()

    image_env = set(_strings(image_config.get("Env")))
    hostname = str(config.get("Hostname") or "")
    env: list[tuple[str, str]] = []
    for item in _strings(config.get("Env")):
        if item in image_env:
            continue
        key, _, value = item.partition("=")
        if podman and (
            item in ("container=podman", "TERM=xterm", f"PATH={PODMAN_DEFAULT_PATH}")
            or (key == "HOSTNAME" and value in (hostname, str(inspect.get("Id") or "")[:12]))
        ):
            continue
        env.append((key, value))

    image_labels = {str(k): str(v) for k, v in _mapping(image_config.get("Labels")).items()}
    labels = tuple(
        (str(k), str(v)) for k, v in _mapping(config.get("Labels")).items() if image_labels.get(str(k)) != str(v)
    )

    health = _mapping(config.get("Healthcheck"))
    if image is not None and health and health == _mapping(image_config.get("Healthcheck")):
        health = {}
    healthcheck = healthcheck_argv(health.get("Test"))
    interval = _SPEC_HEALTH_INTERVAL_S
    timeout = start = 0.0
    retries = DEFAULT_HEALTH_RETRIES
    if healthcheck:
        interval = _ns_seconds(health.get("Interval")) or DEFAULT_HEALTH_INTERVAL_S
        timeout = _ns_seconds(health.get("Timeout")) or DEFAULT_HEALTH_TIMEOUT_S
        start = _ns_seconds(health.get("StartPeriod"))
        retries = int(health.get("Retries") or 0) or DEFAULT_HEALTH_RETRIES

    workdir = str(config.get("WorkingDir") or "")
    if workdir == str(image_config.get("WorkingDir") or "") or (podman and workdir == "/"):
        workdir = ""
    user = str(config.get("User") or "")
    if user == str(image_config.get("User") or ""):
        user = ""

    return ContainerSpec(
        image=image_ref,
        name=str(inspect.get("Name") or "").lstrip("/"),
        command=command,
        env=tuple(env),
        labels=labels,
        ports=_ports(host),
        network=_network(inspect, podman),
        healthcheck=healthcheck,
        health_interval_s=interval,
        volumes=_volumes(inspect),
        cpus=cpus_from_host_config(host),
        memory=int(host.get("Memory") or 0),
        restart_policy=restart_from_inspect(host),
        health_retries=retries,
        health_timeout_s=timeout,
        health_start_period_s=start,
        entrypoint=entrypoint,
        workdir=workdir,
        user=user,
        tty=bool(config.get("Tty")),
        auto_remove=bool(host.get("AutoRemove")),
    )


def limits_from_inspect(inspect: Mapping[str, Any]) -> Limits:
    """The limits set now (0 = no limit; ``memory_swap`` -1 = unlimited swap, 0 = not set).

    Podman 4.x does not record ``update_container`` changes in its inspect output (see
    ``PodmanRuntime.update_container``), so there this shows the values the container was created with.
    """
    host = _mapping(inspect.get("HostConfig"))
    return Limits(
        cpus=cpus_from_host_config(host),
        memory=int(host.get("Memory") or 0),
        memory_swap=int(host.get("MemorySwap") or 0),
        restart_policy=restart_from_inspect(host),
    )


def parse_timestamp(value: Any) -> float:
    """Unix seconds from RFC 3339 with nanoseconds (``2024-05-01T10:00:00.123456789Z``); 0.0 when unusable."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value or "").strip()
    m = re.match(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?", text)
    if not m or text.startswith("0001-01-01"):
        return 0.0
    tz = m.group(4) or "Z"
    tz = "+00:00" if tz == "Z" else (tz if ":" in tz else f"{tz[:3]}:{tz[3:]}")
    try:
        stamp = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{tz}").timestamp()
    except ValueError:
        return 0.0
    frac = m.group(3) or ""
    return stamp + (int(frac[:9]) / 10 ** len(frac[:9]) if frac else 0.0)


def health_from_inspect(inspect: Mapping[str, Any]) -> HealthState:
    """The health of an inspected container: Docker ``State.Health``, Podman ``State.Health`` (4.3+, 5.x) or
    ``State.Healthcheck`` (older 4.x); the check itself from ``Config.Healthcheck``."""
    state = _mapping(inspect.get("State"))
    health = _mapping(state.get("Health")) or _mapping(state.get("Healthcheck"))
    config = _mapping(_mapping(inspect.get("Config")).get("Healthcheck"))
    test = healthcheck_argv(config.get("Test"))
    status = str(health.get("Status") or "").lower()
    if status == "none" or (not test and not health):
        status = ""
    log: list[HealthEntry] = []
    for entry in health.get("Log") or ():
        entry = _mapping(entry)
        try:
            code = int(entry.get("ExitCode", -1))
        except (TypeError, ValueError):
            code = -1
        log.append(HealthEntry(
            start=parse_timestamp(entry.get("Start")),
            end=parse_timestamp(entry.get("End")),
            exit_code=code,
            output=str(entry.get("Output") or ""),
        ))
    return HealthState(
        status=status,
        failing_streak=int(health.get("FailingStreak") or 0),
        log=tuple(log),
        test=test,
        interval_s=(_ns_seconds(config.get("Interval")) or DEFAULT_HEALTH_INTERVAL_S) if test else 0.0,
        retries=(int(config.get("Retries") or 0) or DEFAULT_HEALTH_RETRIES) if test else 0,
    )


# -------------------------------------------------------------------------------------------------------
# Limits: the dialog, validation and the engines' update bodies
# -------------------------------------------------------------------------------------------------------
def limits_to_values(limits: Limits) -> dict[str, str]:
    """The Limits dialog's text values (:data:`LIMIT_FIELDS`); "" = no limit, ``memory_swap`` -1 = "unlimited"."""
    swap = limits.memory_swap or 0
    return {
        "cpus": format_float(limits.cpus) if limits.cpus else "",
        "memory": format_memory(limits.memory) if limits.memory else "",
        "memory_swap": "unlimited" if swap < 0 else (format_memory(swap) if swap else ""),
        "restart": limits.restart_policy or "",
    }


def build_limits(values: Mapping[str, str], current: Limits | None = None) -> tuple[Limits | None, list[FieldProblem]]:
    """The Limits dialog's values as :class:`Limits`; fields left out of ``values`` - and, with ``current``,
    fields whose value did not change - stay ``None`` (unchanged). An empty cpus/memory field means no limit.
    """
    problems: list[FieldProblem] = []
    for key in values:
        if key not in LIMIT_FIELDS:
            problems.append(FieldProblem(key, f"unknown field (known: {', '.join(LIMIT_FIELDS)})"))
    cpus: float | None = None
    memory: int | None = None
    swap: int | None = None
    restart: str | None = None
    try:
        if "cpus" in values:
            cpus = parse_cpus(values["cpus"]) if values["cpus"].strip() else 0.0
    except SpecError as exc:
        problems.append(FieldProblem("cpus", str(exc)))
    try:
        if "memory" in values:
            memory = parse_memory(values["memory"]) if values["memory"].strip() else 0
            if 0 < memory < MIN_MEMORY:
                problems.append(FieldProblem("memory", "at least 6m (the engines refuse less), or empty for no limit"))
    except SpecError as exc:
        problems.append(FieldProblem("memory", str(exc)))
    try:
        if "memory_swap" in values:
            raw = values["memory_swap"].strip().lower()
            swap = -1 if raw in ("-1", "unlimited") else (parse_memory(raw) if raw else 0)
    except SpecError as exc:
        problems.append(FieldProblem("memory_swap", f"{exc} (or 'unlimited')"))
    try:
        if "restart" in values:
            parsed = parse_restart(values["restart"])
            restart = "" if parsed == "no" else parsed
    except SpecError as exc:
        problems.append(FieldProblem("restart", str(exc)))
    if swap and swap > 0 and memory is not None and memory and swap < memory:
        problems.append(FieldProblem("memory_swap", "memory + swap cannot be less than the memory limit"))
    if problems:
        return None, problems
    limits = Limits(cpus=cpus, memory=memory, memory_swap=swap, restart_policy=restart)
    if current is not None:
        limits = Limits(
            cpus=None if cpus is not None and math.isclose(cpus, current.cpus or 0.0) else cpus,
            memory=None if memory == (current.memory or 0) else memory,
            memory_swap=None if swap == (current.memory_swap or 0) else swap,
            restart_policy=None if restart == (current.restart_policy or "") else restart,
        )
    return limits, []


def check_limits(limits: Limits) -> Limits:
    """Validate :class:`Limits` built in code; raises :class:`InvalidInput` naming the bad field.

    Returns the limits with ``restart_policy`` in canonical form ("no" -> "")."""
    if limits.cpus is not None and (limits.cpus < 0 or not math.isfinite(limits.cpus) or 0 < limits.cpus < MIN_CPUS):
        raise InvalidInput(f"cpus: {limits.cpus!r} is not a CPU limit (0 for none, else at least {MIN_CPUS})")
    if limits.memory is not None and (limits.memory < 0 or 0 < limits.memory < MIN_MEMORY):
        raise InvalidInput(f"memory: {limits.memory!r} bytes is not a memory limit (0 for none, else at least 6 MiB)")
    if limits.memory_swap is not None:
        if limits.memory_swap < -1:
            raise InvalidInput(f"memory_swap: {limits.memory_swap!r} (use -1 for unlimited swap)")
        if limits.memory and limits.memory_swap > 0 and limits.memory_swap < limits.memory:
            raise InvalidInput("memory_swap: memory + swap cannot be less than the memory limit")
    if limits.restart_policy is not None:
        try:
            parsed = parse_restart(limits.restart_policy)
        except SpecError as exc:
            raise InvalidInput(f"restart: {exc}") from None
        limits = replace(limits, restart_policy="" if parsed == "no" else parsed)
    return limits


def derived_swap(limits: Limits, host: Mapping[str, Any]) -> int | None:
    """The memory + swap value to send with a new memory limit when none was given.

    Keeps the container's swap allowance: unlimited stays unlimited, ``swap - memory`` is kept, and a
    container without a memory limit gets the engines' create default (twice the memory). Without it the
    engines refuse a memory limit above the current swap limit.
    """
    if limits.memory_swap:
        return limits.memory_swap
    if not limits.memory:
        return None
    cur_mem = int(host.get("Memory") or 0)
    cur_swap = int(host.get("MemorySwap") or 0)
    if cur_swap < 0:
        return -1
    if cur_mem > 0 and cur_swap >= cur_mem:
        return limits.memory + (cur_swap - cur_mem)
    return 2 * limits.memory


def docker_update_body(limits: Limits, host: Mapping[str, Any], engine: str = "Docker") -> dict[str, Any]:
    """The ``POST /containers/{id}/update`` body for ``limits`` given the container's current HostConfig.

    Docker keeps a CPU limit in the form it was set (``--cpus`` -> NanoCpus, or CpuQuota/CpuPeriod) and
    refuses the other form; it cannot remove a ``--cpus`` or memory limit from an existing container
    (:class:`NotSupported`).
    """
    limits = check_limits(limits)
    body: dict[str, Any] = {}
    if limits.cpus is not None:
        nano = int(host.get("NanoCpus") or 0)
        quota = int(host.get("CpuQuota") or 0)
        period = int(host.get("CpuPeriod") or 0) or CPU_PERIOD_US
        if limits.cpus == 0:
            if nano > 0:
                raise NotSupported(f"{engine} cannot remove a --cpus limit from an existing container: set a "
                                   "larger number of CPUs, or recreate the container without a limit")
            if quota > 0:
                body["CpuQuota"] = -1
        elif quota > 0 and nano == 0:
            body["CpuPeriod"] = period
            body["CpuQuota"] = round(limits.cpus * period)
        else:
            body["NanoCpus"] = round(limits.cpus * 1e9)
    if limits.memory is not None:
        if limits.memory == 0:
            if int(host.get("Memory") or 0) > 0:
                raise NotSupported(f"{engine} cannot remove the memory limit of an existing container: set a "
                                   "larger limit, or recreate the container without one")
        else:
            body["Memory"] = limits.memory
    swap = derived_swap(limits, host)
    if swap is not None:
        body["MemorySwap"] = swap
    if limits.restart_policy is not None:
        name, count = restart_parts(limits.restart_policy)
        body["RestartPolicy"] = {"Name": name, "MaximumRetryCount": count}
    return body


def podman_update_body(limits: Limits, host: Mapping[str, Any]) -> dict[str, Any]:
    """The libpod ``POST /containers/{id}/update`` body (an OCI ``LinuxResources``) for cpus and memory.

    0 removes a limit (quota / limit -1). The restart policy is not part of the body: Podman 5 takes it as
    query parameters (:func:`podman_restart_params`), Podman 4 cannot change it.
    """
    limits = check_limits(limits)
    body: dict[str, Any] = {}
    if limits.cpus is not None:
        period = int(host.get("CpuPeriod") or 0) or CPU_PERIOD_US
        body["cpu"] = {"quota": round(limits.cpus * period) if limits.cpus else -1, "period": period}
    memory: dict[str, Any] = {}
    if limits.memory is not None:
        memory["limit"] = limits.memory or -1
    swap = -1 if limits.memory == 0 else derived_swap(limits, host)
    if swap is not None:
        memory["swap"] = swap
    if memory:
        body["memory"] = memory
    return body


def podman_restart_params(policy: str) -> dict[str, str]:
    """Podman 5's ``restartPolicy``/``restartRetries`` query parameters for a :func:`parse_restart` value."""
    name, count = restart_parts(policy)
    params = {"restartPolicy": name}
    if name == "on-failure" and count:
        params["restartRetries"] = str(count)
    return params


def version_tuple(version: str) -> tuple[int, ...]:
    """``"4.3.1"`` / ``"5.2.0-dev"`` -> (4, 3, 1) / (5, 2, 0); () when there is no number."""
    m = re.match(r"v?(\d+(?:\.\d+)*)", version.strip())
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


def problems_text(problems: Iterable[FieldProblem]) -> str:
    """All problems as one message (for a status line)."""
    return "; ".join(str(p) for p in problems)
