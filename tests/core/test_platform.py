"""Platform facts (WSL, tmux, SSH, Windows), tools on PATH and config paths, from fake inputs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tamer_tui.core import platform


def fake_proc(tmp_path: Path, osrelease: str, version: str) -> Path:
    proc = tmp_path / "proc"
    (proc / "sys" / "kernel").mkdir(parents=True)
    (proc / "sys" / "kernel" / "osrelease").write_text(osrelease, encoding="utf-8")
    (proc / "version").write_text(version, encoding="utf-8")
    return proc


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def test_wsl_from_kernel_release(tmp_path: Path) -> None:
    """A 'microsoft-standard-WSL2' kernel means WSL even without the WSL_* variables."""
    proc = fake_proc(tmp_path, "5.15.90.1-microsoft-standard-WSL2\n", "Linux version 5.15")
    assert platform.is_wsl({}, proc, "linux") is True


def test_wsl_from_proc_version_or_env(tmp_path: Path) -> None:
    """WSL 1 shows 'Microsoft' only in /proc/version; WSL_DISTRO_NAME alone also counts."""
    proc = fake_proc(tmp_path, "4.4.0-19041\n", "Linux version 4.4.0-19041-Microsoft (gcc)")
    assert platform.is_wsl({}, proc, "linux") is True
    plain = fake_proc(tmp_path / "x", "6.1.0-18-amd64\n", "Linux version 6.1.0-18-amd64 (debian)")
    assert platform.is_wsl({}, plain, "linux") is False
    assert platform.is_wsl({"WSL_DISTRO_NAME": "Ubuntu"}, plain, "linux") is True


def test_wsl_is_false_off_linux_and_without_proc(tmp_path: Path) -> None:
    """Windows and macOS are never WSL; a missing /proc is not an error."""
    assert platform.is_wsl({"WSL_DISTRO_NAME": "Ubuntu"}, tmp_path, "win32") is False
    assert platform.is_wsl({}, tmp_path / "missing", "linux") is False


def test_windows_tmux_ssh() -> None:
    """is_windows / in_tmux / over_ssh read sys.platform-like names and env dicts."""
    assert platform.is_windows("win32") and not platform.is_windows("linux")
    assert platform.is_macos("darwin") and not platform.is_macos("linux")
    assert platform.in_tmux({"TMUX": "/tmp/tmux-0/default,1,0"}) and not platform.in_tmux({})
    assert platform.over_ssh({"SSH_CONNECTION": "127.0.0.1 1 127.0.0.1 22"})
    assert platform.over_ssh({"SSH_TTY": "/dev/pts/1"}) and not platform.over_ssh({})


@pytest.mark.skipif(os.name == "nt", reason="uses POSIX executable bits")
def test_tools_on_path_and_docker_plugins(tmp_path: Path) -> None:
    """Plain tools come from PATH only; compose and buildx come from the user's Docker plugin dir."""
    bin_dir = tmp_path / "bin"
    for tool in ("kubectl", "helm", "podman"):
        executable(bin_dir / tool)
    (bin_dir / "trivy").write_text("not executable", encoding="utf-8")
    home = tmp_path / "home"
    compose = executable(home / ".docker" / "cli-plugins" / "docker-compose")
    buildx = executable(home / ".docker" / "cli-plugins" / "docker-buildx")
    found = platform.tools_on_path({"PATH": str(bin_dir), "HOME": str(home)}, home)
    assert list(found) == list(platform.TOOLS)
    assert found["kubectl"] == str(bin_dir / "kubectl") and found["helm"] == str(bin_dir / "helm")
    assert found["trivy"] is None and found["kind"] is None and found["docker"] is None
    assert found["docker compose"] == str(compose) and found["buildx"] == str(buildx)


@pytest.mark.skipif(os.name == "nt", reason="uses POSIX executable bits")
def test_docker_config_env_moves_plugin_dir(tmp_path: Path) -> None:
    """DOCKER_CONFIG's cli-plugins dir is searched first; standalone docker-buildx on PATH also counts."""
    plugin = executable(tmp_path / "dc" / "cli-plugins" / "docker-compose")
    standalone = executable(tmp_path / "bin" / "docker-buildx")
    env = {"PATH": str(tmp_path / "bin"), "DOCKER_CONFIG": str(tmp_path / "dc")}
    assert platform.find_docker_plugin("docker-compose", env, tmp_path, "linux") == str(plugin)
    dirs = platform.docker_plugin_dirs(env, tmp_path, "linux")
    assert dirs[0] == tmp_path / "dc" / "cli-plugins"
    assert Path("/usr/libexec/docker/cli-plugins") in dirs and Path("/usr/lib/docker/cli-plugins") in dirs
    found = platform.tools_on_path(env, tmp_path)
    if platform.find_docker_plugin("docker-buildx", env, tmp_path) is None:
        assert found["buildx"] == str(standalone)


def test_windows_plugin_dirs() -> None:
    """On Windows the ProgramData / ProgramFiles Docker plugin dirs are searched."""
    dirs = platform.docker_plugin_dirs({"ProgramData": "C:/ProgramData", "ProgramFiles": "C:/Program Files"},
                                       Path("C:/Users/me"), "win32")
    assert Path("C:/ProgramData/Docker/cli-plugins") in dirs
    assert Path("/usr/lib/docker/cli-plugins") not in dirs


def test_config_and_data_dirs_env_override(tmp_path: Path) -> None:
    """TAMER_CONFIG_DIR and TAMER_DATA_DIR override platformdirs; config_paths reports them all."""
    env = {"TAMER_CONFIG_DIR": str(tmp_path / "c"), "TAMER_DATA_DIR": str(tmp_path / "d"),
           "HOME": str(tmp_path / "h"), "KUBECONFIG": os.pathsep.join(["/a", "/b"])}
    paths = platform.config_paths(env)
    assert paths["config_dir"] == str(tmp_path / "c")
    assert paths["data_dir"] == str(tmp_path / "d")
    assert paths["settings"] == str(tmp_path / "c" / "settings.yaml")
    assert paths["themes_dir"] == str(tmp_path / "c" / "themes")
    assert paths["docker_config"] == str(tmp_path / "h" / ".docker" / "config.json")
    assert paths["podman_connections"] == str(tmp_path / "h" / ".config" / "containers" / "podman-connections.json")
    assert paths["kubeconfig"] == os.pathsep.join(["/a", "/b"])


def test_default_dirs_use_platformdirs() -> None:
    """Without overrides the dirs are platformdirs' user dirs for 'tamer'."""
    import platformdirs

    assert platform.config_dir({}) == Path(platformdirs.user_config_dir("tamer", appauthor=False))
    assert platform.data_dir({}) == Path(platformdirs.user_data_dir("tamer", appauthor=False))
    assert platform.config_dir({}).name == "tamer"


def test_kubeconfig_paths(tmp_path: Path) -> None:
    """KUBECONFIG is split on os.pathsep (empty parts dropped); otherwise ~/.kube/config."""
    assert platform.kubeconfig_paths({"KUBECONFIG": f"/x{os.pathsep}{os.pathsep}/y"}) == [Path("/x"), Path("/y")]
    assert platform.kubeconfig_paths({}, tmp_path) == [tmp_path / ".kube" / "config"]
