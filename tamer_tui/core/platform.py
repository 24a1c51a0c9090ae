"""Facts about the machine Tamer runs on: OS flavour, terminal context, tools on PATH, config paths.

Everything here is cheap, synchronous and side-effect free, and every function takes its inputs
(environment, home directory, ``which``) as optional arguments so it can be tested without touching
the real machine. Nothing POSIX-only is imported at module level (the app must import on Windows).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import platformdirs

APP_NAME = "tamer"

#: Tools whose presence ``tamer doctor`` reports. ``docker compose`` and ``buildx`` are Docker CLI
#: plugins; the rest are plain executables looked up on PATH.
TOOLS: tuple[str, ...] = (
    "kubectl",
    "helm",
    "kustomize",
    "docker",
    "docker-compose",
    "docker compose",
    "podman",
    "podman-compose",
    "buildx",
    "trivy",
    "grype",
    "kind",
    "minikube",
    "k3s",
)

#: Docker CLI plugin name for each plugin-style tool.
_PLUGINS: dict[str, str] = {"docker compose": "docker-compose", "buildx": "docker-buildx"}

Which = Callable[..., str | None]


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def is_windows(platform_name: str | None = None) -> bool:
    """True on native Windows (not WSL, which reports ``linux``)."""
    return (platform_name or sys.platform).startswith("win")


def is_macos(platform_name: str | None = None) -> bool:
    """True on macOS."""
    return (platform_name or sys.platform) == "darwin"


def is_wsl(env: Mapping[str, str] | None = None, proc_root: Path = Path("/proc"),
           platform_name: str | None = None) -> bool:
    """True inside Windows Subsystem for Linux (WSL 1 or 2).

    WSL sets ``WSL_DISTRO_NAME`` (and ``WSL_INTEROP`` on WSL 2) for login shells; the kernel
    release string contains ``microsoft`` (or ``WSL``) even when the variables were scrubbed
    (``sudo``, ``env -i``), so both are checked.
    """
    if not (platform_name or sys.platform).startswith("linux"):
        return False
    environ = _env(env)
    if environ.get("WSL_DISTRO_NAME") or environ.get("WSL_INTEROP"):
        return True
    for rel in ("sys/kernel/osrelease", "version"):
        try:
            text = (proc_root / rel).read_text(encoding="utf-8", errors="replace").lower()
        except OSError:
            continue
        if "microsoft" in text or "wsl" in text:
            return True
    return False


def in_tmux(env: Mapping[str, str] | None = None) -> bool:
    """True when running inside tmux (``TMUX`` is set by tmux for its panes)."""
    return bool(_env(env).get("TMUX"))


def over_ssh(env: Mapping[str, str] | None = None) -> bool:
    """True when the session came in over SSH (sshd sets these for the login shell)."""
    environ = _env(env)
    return any(environ.get(var) for var in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"))


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's home: ``HOME`` (``USERPROFILE`` on Windows) when set, else ``Path.home()``."""
    environ = _env(env)
    for var in ("HOME", "USERPROFILE"):
        value = environ.get(var)
        if value:
            return Path(value)
    return Path.home()


def docker_config_dir(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """The Docker CLI config directory: ``DOCKER_CONFIG`` or ``~/.docker``."""
    environ = _env(env)
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"])
    return (home or home_dir(env)) / ".docker"


def xdg_config_home(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """``XDG_CONFIG_HOME`` or ``~/.config`` (where containers.conf and kube tools look)."""
    environ = _env(env)
    if environ.get("XDG_CONFIG_HOME"):
        return Path(environ["XDG_CONFIG_HOME"])
    return (home or home_dir(env)) / ".config"


def docker_plugin_dirs(env: Mapping[str, str] | None = None, home: Path | None = None,
                       platform_name: str | None = None) -> list[Path]:
    """Directories the Docker CLI searches for plugins, user directory first."""
    environ = _env(env)
    dirs = [docker_config_dir(env, home) / "cli-plugins"]
    if is_windows(platform_name):
        for var in ("ProgramData", "ProgramFiles"):
            base = environ.get(var)
            if base:
                dirs.append(Path(base) / "Docker" / "cli-plugins")
        return dirs
    dirs += [Path(p) for p in (
        "/usr/local/lib/docker/cli-plugins",
        "/usr/local/libexec/docker/cli-plugins",
        "/usr/lib/docker/cli-plugins",
        "/usr/libexec/docker/cli-plugins",
    )]
    if is_macos(platform_name):
        dirs.append(Path("/Applications/Docker.app/Contents/Resources/cli-plugins"))
        dirs.append(Path("/opt/homebrew/lib/docker/cli-plugins"))
    return dirs


def find_docker_plugin(plugin: str, env: Mapping[str, str] | None = None, home: Path | None = None,
                       platform_name: str | None = None) -> str | None:
    """Path of a Docker CLI plugin executable (``docker-compose``, ``docker-buildx``) or None."""
    names = [plugin + ".exe", plugin] if is_windows(platform_name) else [plugin]
    for directory in docker_plugin_dirs(env, home, platform_name):
        for name in names:
            candidate = directory / name
            if candidate.is_file() and (is_windows(platform_name) or os.access(candidate, os.X_OK)):
                return str(candidate)
    return None


def tools_on_path(env: Mapping[str, str] | None = None, home: Path | None = None,
                  which: Which = shutil.which, platform_name: str | None = None) -> dict[str, str | None]:
    """Map each tool in :data:`TOOLS` to its executable path, or None when it is missing.

    ``docker compose`` and ``buildx`` are found as Docker CLI plugins (user plugin dir first,
    then the system plugin dirs); a stand-alone ``docker-buildx`` on PATH counts for buildx too.
    """
    environ = _env(env)
    path = environ.get("PATH")
    found: dict[str, str | None] = {}
    for tool in TOOLS:
        plugin = _PLUGINS.get(tool)
        if plugin is None:
            found[tool] = which(tool, path=path)
            continue
        location = find_docker_plugin(plugin, env, home, platform_name)
        if location is None and tool == "buildx":
            location = which(plugin, path=path)
        found[tool] = location
    return found


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Tamer's config directory: ``TAMER_CONFIG_DIR`` or the platform's user config dir."""
    environ = _env(env)
    if environ.get("TAMER_CONFIG_DIR"):
        return Path(environ["TAMER_CONFIG_DIR"])
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Tamer's data directory (logs, saved output): ``TAMER_DATA_DIR`` or the platform's."""
    environ = _env(env)
    if environ.get("TAMER_DATA_DIR"):
        return Path(environ["TAMER_DATA_DIR"])
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def settings_path(env: Mapping[str, str] | None = None) -> Path:
    """The settings file: ``<config dir>/settings.yaml``."""
    return config_dir(env) / "settings.yaml"


def user_themes_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where users drop their own theme files: ``<config dir>/themes``."""
    return config_dir(env) / "themes"


def kubeconfig_paths(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The kubeconfig files kubectl would merge: ``KUBECONFIG`` (path list) or ``~/.kube/config``."""
    environ = _env(env)
    value = environ.get("KUBECONFIG", "")
    if value:
        return [Path(p) for p in value.split(os.pathsep) if p]
    return [(home or home_dir(env)) / ".kube" / "config"]


def config_paths(env: Mapping[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
    """Every path Tamer reads or writes, for ``tamer doctor`` and the help screen."""
    environ = _env(env)
    home_path = home or home_dir(env)
    docker_cfg = docker_config_dir(env, home_path)
    containers_cfg = xdg_config_home(env, home_path) / "containers"
    return {
        "config_dir": str(config_dir(env)),
        "data_dir": str(data_dir(env)),
        "settings": str(settings_path(env)),
        "themes_dir": str(user_themes_dir(env)),
        "docker_config": str(docker_cfg / "config.json"),
        "docker_contexts": str(docker_cfg / "contexts" / "meta"),
        "containers_conf": environ.get("CONTAINERS_CONF") or str(containers_cfg / "containers.conf"),
        "podman_connections": str(containers_cfg / "podman-connections.json"),
        "kubeconfig": os.pathsep.join(str(p) for p in kubeconfig_paths(env, home_path)),
    }
