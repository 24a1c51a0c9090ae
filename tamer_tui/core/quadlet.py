"""Podman Quadlet files (``.container``, ``.pod``, ``.kube``) from inspected objects, and writing them.

Pure functions (no network): feed them ``inspect`` JSON from the Podman API. Quadlet turns each file
into a systemd service at ``systemctl daemon-reload`` (the files go to :func:`quadlet_dir`).

Quoting (checked against Quadlet's ``pkg/systemd/parser`` and ``quadlet.go``):

* ``Exec=``, ``PodmanArgs=``, ``Environment=`` and ``Label=`` are split like systemd's ``ExecStart=``
  (whitespace-separated words, ``"..."``/``'...'`` quoting, C escapes ``\\n \\t \\\\ \\" \\xNN``), so each
  word is written by :func:`systemd_quote`. An empty word cannot be expressed (Quadlet's splitter ends
  the line at ``""``), so empty arguments are dropped with a note.
* The other keys (``Image=``, ``PublishPort=``, ``Volume=``, ``HealthCmd=`` ...) are taken verbatim.
  A value that cannot be written verbatim (a newline in it, surrounding blanks, a trailing backslash)
  goes through ``PodmanArgs=`` with the equivalent ``podman run`` flag instead.
* Everything ends up in the generated ``ExecStart=``, where systemd expands ``%`` specifiers and
  ``$VARIABLES``; every literal ``%`` and ``$`` is therefore doubled (``%%``, ``$$``).

Versions: ``.container``/``.kube`` need Quadlet from Podman 4.4; ``HealthCmd=`` and ``PodmanArgs=``
4.5; ``.pod`` files and the ``Pod=`` key 5.0. Options without a Quadlet key in 4.x (entrypoint, workdir,
memory, privileged, stop timeout) use ``PodmanArgs=``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tamer_tui.core.errors import Conflict, InvalidInput

__all__ = [
    "PODMAN_DEFAULT_PATH",
    "QUADLET_EXTENSIONS",
    "QuadletFile",
    "container_quadlet",
    "go_duration",
    "kube_quadlet",
    "pod_quadlet",
    "quadlet_dir",
    "systemd_escape_value",
    "systemd_join",
    "systemd_quote",
    "write_quadlet",
]

QUADLET_EXTENSIONS = (".container", ".pod", ".kube", ".volume", ".network", ".image", ".build")
PODMAN_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DEFAULT_NETWORKS = ("podman", "")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\a": "\\a", "\b": "\\b",
              "\f": "\\f", "\v": "\\v"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


@dataclass(frozen=True)
class QuadletFile:
    """One Quadlet unit: its file name (``web.container``), text, and what the user should know."""

    filename: str
    text: str
    note: str = ""


# ------------------------------------------------------------------------------------------------
# Where the files go
# ------------------------------------------------------------------------------------------------
def quadlet_dir(rootless: bool, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """``$XDG_CONFIG_HOME/containers/systemd`` (or ``~/.config/...``) for a rootless user,
    ``/etc/containers/systemd`` for root. A relative ``XDG_CONFIG_HOME`` is ignored (XDG spec)."""
    if not rootless:
        return Path("/etc/containers/systemd")
    environ = os.environ if env is None else env
    xdg = str(environ.get("XDG_CONFIG_HOME") or "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "containers" / "systemd"
    base = home if home is not None else Path.home()
    return base / ".config" / "containers" / "systemd"


# ------------------------------------------------------------------------------------------------
# Quoting
# ------------------------------------------------------------------------------------------------
def systemd_escape_value(text: str) -> str:
    """Double ``%`` and ``$`` so systemd's specifier and variable expansion gives ``text`` back."""
    return text.replace("%", "%%").replace("$", "$$")


def _needs_quotes(word: str) -> bool:
    return not word or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\"'\\" for ch in word)


def systemd_quote(word: str) -> str:
    """One argument for an ``Exec=``-style value: quoted and C-escaped when needed, ``%``/``$`` doubled."""
    escaped = systemd_escape_value(word)
    if not _needs_quotes(word):
        return escaped
    out = ['"']
    for ch in escaped:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def systemd_join(argv: Iterable[str]) -> str:
    """An argv as one ``Exec=``-style value."""
    return " ".join(systemd_quote(str(a)) for a in argv)


def _verbatim_ok(value: str) -> bool:
    """Whether a value can be written as-is after ``Key=`` (one line, no surrounding blanks)."""
    return (
        bool(value)
        and value == value.strip()
        and not value.endswith("\\")
        and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)
    )


def go_duration(nanoseconds: Any) -> str:
    """Nanoseconds as a Go duration string (``30s``, ``1m30s``, ``500ms``, ``1h0m0s``) for podman flags."""
    try:
        ns = int(nanoseconds)
    except (TypeError, ValueError):
        return ""
    if ns <= 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("us", 1_000), ("ns", 1)):
            if ns % size == 0:
                return f"{ns // size}{unit}"
        return f"{ns}ns"
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds, frac = divmod(rest, 1_000_000_000)
    sec = f"{seconds}" if not frac else f"{seconds}.{frac:09d}".rstrip("0")
    if hours:
        return f"{hours}h{minutes}m{sec}s"
    if minutes:
        return f"{minutes}m{sec}s"
    return f"{sec}s"


# ------------------------------------------------------------------------------------------------
# Building unit text
# ------------------------------------------------------------------------------------------------
class _Unit:
    """Sections of ``Key=value`` lines in insertion order, plus a header comment."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = list(header)
        self.sections: dict[str, list[str]] = {}
        self.notes: list[str] = []

    def add(self, section: str, key: str, value: str) -> None:
        self.sections.setdefault(section, []).append(f"{key}={value}")

    def verbatim(self, section: str, key: str, value: str, flag: str) -> None:
        """``Key=value`` when the value survives verbatim, else ``PodmanArgs=FLAG=value`` (quoted)."""
        if _verbatim_ok(value):
            self.add(section, key, systemd_escape_value(value))
        else:
            self.args(section, f"{flag}={value}")

    def args(self, section: str, *argv: str) -> None:
        self.add(section, "PodmanArgs", systemd_join(argv))

    def text(self) -> str:
        lines = [f"# {line}" if line else "#" for line in self.header]
        for section, entries in self.sections.items():
            lines.append("")
            lines.append(f"[{section}]")
            lines.extend(entries)
        return "\n".join(lines) + "\n"


def _env_pairs(env: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if isinstance(env, Mapping):
        return [(str(k), str(v)) for k, v in env.items()]
    for item in env or ():
        key, _sep, value = str(item).partition("=")
        if key:
            pairs.append((key, value))
    return pairs


def _argv(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, str) and value.strip():
        return value.split()  # Podman 4.x reports the entrypoint as one space-joined string
    return []


def _port_lines(bindings: Any) -> list[str]:
    """``HostConfig.PortBindings`` / ``InfraConfig.PortBindings`` as ``PublishPort=`` values."""
    out: list[str] = []
    if not isinstance(bindings, Mapping):
        return out

    def sort_key(item: tuple[Any, Any]) -> tuple[int, str]:
        port, _sep, proto = str(item[0]).partition("/")
        return (int(port) if port.isdigit() else 0, proto)

    for spec, hosts in sorted(bindings.items(), key=sort_key):
        port, _sep, proto = str(spec).partition("/")
        suffix = f"/{proto}" if proto and proto != "tcp" else ""
        entries: Sequence[Any] = hosts or ({},)
        for host in entries:
            host_ip = str((host or {}).get("HostIp") or "")
            host_port = str((host or {}).get("HostPort") or "")
            if host_port and host_ip and host_ip not in ("0.0.0.0", "::"):
                ip = f"[{host_ip}]" if ":" in host_ip else host_ip
                out.append(f"{ip}:{host_port}:{port}{suffix}")
            elif host_port:
                out.append(f"{host_port}:{port}{suffix}")
            else:
                out.append(f"{port}{suffix}")
    return out


def _is_anonymous_volume(name: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{64}", name))


def _volume_lines(mounts: Any) -> tuple[list[str], list[str], list[str]]:
    """(Volume= values, Tmpfs= values, notes) from inspect ``Mounts``."""
    volumes: list[str] = []
    tmpfs: list[str] = []
    notes: list[str] = []
    for mount in mounts or ():
        if not isinstance(mount, Mapping):
            continue
        kind = str(mount.get("Type") or "")
        dest = str(mount.get("Destination") or "")
        ro = "" if mount.get("RW", True) else ":ro"
        if not dest:
            continue
        if kind == "bind":
            volumes.append(f"{mount.get('Source')}:{dest}{ro}")
        elif kind == "volume":
            name = str(mount.get("Name") or "")
            if not name or _is_anonymous_volume(name):
                volumes.append(f"{dest}{ro}")
                notes.append(f"the anonymous volume at {dest} will be a new, empty volume")
            else:
                volumes.append(f"{name}:{dest}{ro}")
        elif kind == "tmpfs":
            tmpfs.append(dest)
        else:
            notes.append(f"the {kind or 'unknown'} mount at {dest} has no Quadlet equivalent: add it by hand")
    return volumes, tmpfs, notes


def _restart(policy: Any) -> tuple[str, str]:
    """(systemd Restart= value, note) for a container restart policy."""
    name = str((policy or {}).get("Name") if isinstance(policy, Mapping) else policy or "").strip().lower()
    name, _sep, count = name.partition(":")
    retries = int((policy or {}).get("MaximumRetryCount") or 0) if isinstance(policy, Mapping) else 0
    retries = retries or (int(count) if count.isdigit() else 0)
    if name in ("always", "unless-stopped"):
        return "always", ""
    if name == "on-failure":
        note = f"restart policy on-failure:{retries} becomes Restart=on-failure (no retry limit)" if retries else ""
        return "on-failure", note
    return "no", ""


def _header(filename: str, what: str, needs: str) -> list[str]:
    return [
        f"{filename} - generated by Tamer from {what}",
        f"Podman Quadlet unit: {needs}.",
        "Copy it to the Quadlet directory, then `systemctl --user daemon-reload` (root: without --user).",
    ]


def _name_of(inspect: Mapping[str, Any]) -> str:
    name = str(inspect.get("Name") or "").lstrip("/")
    if not name:
        raise InvalidInput("the inspected object has no name")
    return name


def _check_name(name: str, what: str) -> None:
    if not _NAME_RE.match(name):
        raise InvalidInput(f"{what} name {name!r} cannot be a unit file name")


def container_quadlet(
    inspect: Mapping[str, Any], *, pod: str | None = None, image: Mapping[str, Any] | None = None
) -> QuadletFile:
    """A ``NAME.container`` file that recreates the inspected container under systemd.

    ``pod`` ("web.pod") makes it a member of that Quadlet pod (ports and networks then belong to the pod
    and are left out). ``image`` (the image's inspect JSON) lets env, labels, user, workdir, entrypoint
    and command that merely repeat the image's defaults be left out; without it only Podman's own
    defaults are filtered (``container=podman``, ``HOSTNAME``, the default ``PATH``, ``TERM=xterm``).
    """
    name = _name_of(inspect)
    _check_name(name, "container")
    config = inspect.get("Config") or {}
    host = inspect.get("HostConfig") or {}
    image_config = (image or {}).get("Config") or {}
    filename = f"{name}.container"
    needs = "Podman 5.0+ (Pod=)" if pod else "Podman 4.4+ (4.5+ for HealthCmd= and PodmanArgs=)"
    unit = _Unit(_header(filename, f"container '{name}'", needs))
    unit.add("Unit", "Description", systemd_escape_value(f"{name} (container generated by Tamer)"))

    section = "Container"
    image_ref = str(config.get("Image") or inspect.get("ImageName") or "")
    if not image_ref:
        raise InvalidInput(f"container '{name}' has no image name in its inspect data")
    if not _verbatim_ok(image_ref):
        raise InvalidInput(f"container '{name}' has an unusable image name {image_ref!r}")
    unit.add(section, "Image", systemd_escape_value(image_ref))
    unit.add(section, "ContainerName", name)
    if pod:
        unit.add(section, "Pod", pod)

    # environment: drop what the image or Podman itself sets
    image_env = set(_env_pairs(image_config.get("Env")))
    for key, value in _env_pairs(config.get("Env")):
        if (key, value) in image_env:
            continue
        if key in ("container", "HOSTNAME") or (key == "PATH" and value == PODMAN_DEFAULT_PATH):
            continue
        if (key, value) in (("TERM", "xterm"), ("HOME", "/root")):
            continue  # Podman's containers.conf default and the passwd home of root
        unit.add(section, "Environment", systemd_quote(f"{key}={value}"))

    if not pod:
        for spec in _port_lines(host.get("PortBindings")):
            unit.add(section, "PublishPort", systemd_escape_value(spec))
        mode = str(host.get("NetworkMode") or "")
        networks = list((inspect.get("NetworkSettings") or {}).get("Networks") or {})
        if mode in ("", "bridge", "default"):
            for net in networks:
                if net not in _DEFAULT_NETWORKS:
                    unit.verbatim(section, "Network", net, "--network")
        elif not mode.startswith("container:") or not inspect.get("Pod"):
            unit.verbatim(section, "Network", mode, "--network")

    volumes, tmpfs, mount_notes = _volume_lines(inspect.get("Mounts"))
    for volume in volumes:
        unit.verbatim(section, "Volume", volume, "--volume")
    for path in tmpfs:
        unit.verbatim(section, "Tmpfs", path, "--tmpfs")
    unit.notes.extend(mount_notes)

    image_labels = (image_config.get("Labels") or {}) if image is not None else {}
    for key, value in sorted((config.get("Labels") or {}).items()):
        if image_labels.get(key) == value:
            continue
        unit.add(section, "Label", systemd_quote(f"{key}={value}"))

    user = str(config.get("User") or "")
    if user and user != str(image_config.get("User") or ""):
        uid, _sep, gid = user.partition(":")
        unit.verbatim(section, "User", uid, "--user")
        if gid:
            unit.add(section, "Group", systemd_escape_value(gid))
    for cap in host.get("CapAdd") or ():
        unit.add(section, "AddCapability", systemd_escape_value(str(cap)))
    if host.get("Init"):
        unit.add(section, "RunInit", "true")
    if host.get("ReadonlyRootfs"):
        unit.add(section, "ReadOnly", "true")

    _health(unit, section, config.get("Healthcheck"))

    workdir = str(config.get("WorkingDir") or "")
    if workdir and workdir != str(image_config.get("WorkingDir") or "/"):
        unit.args(section, f"--workdir={workdir}")
    if host.get("Privileged"):
        unit.args(section, "--privileged")
    memory = int(host.get("Memory") or 0)
    if memory > 0:
        unit.args(section, f"--memory={memory}b")
    stop_timeout = config.get("StopTimeout")
    if isinstance(stop_timeout, int) and stop_timeout not in (0, 10):
        unit.args(section, f"--stop-timeout={stop_timeout}")

    entrypoint = _argv(config.get("Entrypoint"))
    image_entrypoint = _argv(image_config.get("Entrypoint"))
    if entrypoint and entrypoint != image_entrypoint:
        unit.args(section, "--entrypoint=" + json.dumps(entrypoint, ensure_ascii=False))
        if isinstance(config.get("Entrypoint"), str) and len(entrypoint) > 1:
            unit.notes.append("Podman 4.x reports the entrypoint as one string: check the --entrypoint words")
    command = _argv(config.get("Cmd"))
    if command and (command != _argv(image_config.get("Cmd")) or entrypoint != image_entrypoint):
        if any(arg == "" for arg in command):
            unit.notes.append("empty arguments of the command cannot be written in Exec= and were dropped")
            command = [arg for arg in command if arg != ""]
        if ";" in command:
            unit.notes.append("a lone ';' argument is a command separator in systemd's ExecStart: check Exec=")
        if command:
            unit.add(section, "Exec", systemd_join(command))

    restart, restart_note = _restart(host.get("RestartPolicy"))
    unit.add("Service", "Restart", restart)
    if restart_note:
        unit.notes.append(restart_note)
    unit.add("Install", "WantedBy", "default.target")

    notes = [f"needs {needs}", *unit.notes]
    if pod:
        notes.insert(1, f"starts with {pod} (.pod files need Podman 5.0+)")
    return QuadletFile(filename=filename, text=unit.text(), note="; ".join(notes))


def _health(unit: _Unit, section: str, health: Any) -> None:
    if not isinstance(health, Mapping):
        return
    test = [str(t) for t in health.get("Test") or ()]
    if not test or test[0].upper() == "NONE":
        return
    kind = test[0].upper()
    if kind == "CMD-SHELL":
        command = " ".join(test[1:])
    elif kind == "CMD":
        argv = test[1:]
        # podman's --health-cmd takes a JSON array as exec form; one element runs through /bin/sh -c
        command = json.dumps(argv, ensure_ascii=False) if len(argv) > 1 else (argv[0] if argv else "")
        if len(argv) == 1:
            unit.notes.append("a one-word exec healthcheck becomes a shell healthcheck (podman's rule)")
    else:
        command = " ".join(test)
    if not command:
        return
    unit.verbatim(section, "HealthCmd", command, "--health-cmd")
    for key, flag, field in (
        ("HealthInterval", "--health-interval", "Interval"),
        ("HealthTimeout", "--health-timeout", "Timeout"),
        ("HealthStartPeriod", "--health-start-period", "StartPeriod"),
    ):
        value = health.get(field)
        if isinstance(value, int) and value > 0:
            unit.verbatim(section, key, go_duration(value), flag)
    retries = health.get("Retries")
    if isinstance(retries, int) and retries > 0:
        unit.add(section, "HealthRetries", str(retries))


def pod_quadlet(inspect: Mapping[str, Any]) -> QuadletFile:
    """A ``NAME.pod`` file (Quadlet ``.pod`` units exist since Podman 5.0) from pod inspect JSON.

    The members come from :func:`container_quadlet` with ``pod="NAME.pod"``; the infra container is
    Quadlet's own business and gets no file. The service is called ``NAME-pod.service``.
    """
    name = _name_of(inspect)
    _check_name(name, "pod")
    filename = f"{name}.pod"
    needs = "Podman 5.0+ (.pod files do not exist in Podman 4.x; use a .kube file there)"
    unit = _Unit(_header(filename, f"pod '{name}'", needs))
    unit.add("Unit", "Description", systemd_escape_value(f"{name} (pod generated by Tamer)"))
    section = "Pod"
    unit.add(section, "PodName", name)
    infra = inspect.get("InfraConfig") or {}
    for spec in _port_lines(infra.get("PortBindings")):
        unit.add(section, "PublishPort", systemd_escape_value(spec))
    if infra.get("HostNetwork"):
        unit.add(section, "Network", "host")
    else:
        for net in infra.get("Networks") or ():
            if str(net) not in _DEFAULT_NETWORKS:
                unit.verbatim(section, "Network", str(net), "--network")
    for key, value in sorted((inspect.get("Labels") or {}).items()):
        unit.args(section, f"--label={key}={value}")  # Label= in [Pod] is newer than 5.0
    hostname = str(inspect.get("Hostname") or "")
    if hostname and hostname != name:
        unit.args(section, f"--hostname={hostname}")
    unit.add("Install", "WantedBy", "default.target")
    members = [
        str(c.get("Name") or "")
        for c in inspect.get("Containers") or ()
        if isinstance(c, Mapping) and str(c.get("Id") or "") != str(inspect.get("InfraContainerID") or "")
    ]
    note = f"needs {needs}; service {name}-pod.service"
    if members:
        note += "; member containers: " + ", ".join(f"{m}.container" for m in members if m)
    return QuadletFile(filename=filename, text=unit.text(), note=note)


def kube_quadlet(yaml_path: str, name: str) -> QuadletFile:
    """A ``NAME.kube`` file that runs ``podman kube play`` of ``yaml_path`` (an absolute path is best)."""
    name = name.strip()
    _check_name(name, "kube unit")
    if not _verbatim_ok(yaml_path):
        raise InvalidInput(f"{yaml_path!r} cannot be a Yaml= path (empty, blanks around it or a newline)")
    filename = f"{name}.kube"
    needs = "Podman 4.4+"
    unit = _Unit(_header(filename, f"kube YAML {yaml_path}", needs))
    unit.add("Unit", "Description", systemd_escape_value(f"{name} (kube play generated by Tamer)"))
    unit.add("Kube", "Yaml", systemd_escape_value(yaml_path))
    unit.add("Install", "WantedBy", "default.target")
    note = f"needs {needs}"
    if not os.path.isabs(yaml_path):
        note += "; the relative Yaml= path is resolved from the Quadlet directory"
    return QuadletFile(filename=filename, text=unit.text(), note=note)


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def write_quadlet(directory: Path, file: QuadletFile, *, overwrite: bool = False) -> Path:
    """Write ``file`` into ``directory`` (created if missing), atomically (temporary file + rename).

    An existing file raises :class:`Conflict` unless ``overwrite`` is set; without it the final link
    is exclusive too (``os.link``), so a file that appears meanwhile is not clobbered either.
    """
    filename = file.filename
    if (
        not filename
        or filename != os.path.basename(filename)
        or "/" in filename
        or "\\" in filename
        or filename.startswith(".")
        or not filename.endswith(QUADLET_EXTENSIONS)
    ):
        raise InvalidInput(f"{filename!r} is not a Quadlet file name ({', '.join(QUADLET_EXTENSIONS)})")
    directory = Path(directory)
    path = directory / filename
    if path.exists() and not overwrite:
        raise Conflict(f"{path} exists")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(file.text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise Conflict(f"{path} exists") from None
            except OSError:
                # no hard links here (some filesystems): best effort
                if path.exists():
                    raise Conflict(f"{path} exists") from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path
