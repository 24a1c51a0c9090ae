"""Cluster discovery outside kubectl's files: k3s, minikube, kind, WSL (both directions).

Everything runs on temp directories with injected env/home/paths. Mocked, and only these: the
``kind`` and ``wsl.exe`` commands (a fake runner returns recorded-style output) and the Windows
``\\\\wsl.localhost\\<distro>`` roots (mapped to temp directories), since neither exists on the
Linux test machine. The container rows for kind are plain objects shaped like the runtimes' rows.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tamer_tui.core.kube.clusters import (
    discover,
    find_kubeconfigs,
    kind_cluster_names,
    minikube_home,
    parse_wsl_list,
    windows_to_wsl,
)
from tamer_tui.core.kube.kubeconfig import load_files, load_text

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nk3s\n-----END CERTIFICATE-----\n").decode()


def k3s_yaml(server: str = "https://127.0.0.1:6443", ca: str = CA) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "default",
        "clusters": [{"name": "default", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "default", "user": {"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    })


def no_which(_name: str) -> str | None:
    return None


def no_run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bytes]:
    raise AssertionError(f"unexpected command {argv}")


def find(tmp_path: Path, **kw: Any) -> Any:
    defaults: dict[str, Any] = {"env": {}, "home": tmp_path / "home", "platform_name": "linux",
                                "proc_root": tmp_path / "proc", "k3s_path": tmp_path / "k3s.yaml",
                                "windows_users": tmp_path / "mnt" / "c" / "Users", "which": no_which,
                                "run": no_run}
    defaults.update(kw)
    return find_kubeconfigs(**defaults)


# --------------------------------------------------------------------------------------- k3s
def test_k3s_unmerged_then_merged(tmp_path: Path) -> None:
    """k3s.yaml is found; it is unmerged until the loaded kubeconfig has a context for the same
    server and CA, whatever that context is called (imports may rename)."""
    k3s = tmp_path / "k3s.yaml"
    k3s.write_text(k3s_yaml(), encoding="utf-8")
    empty = load_files([])
    result = find(tmp_path, loaded=empty)
    assert [(f.kind, f.path, f.contexts, f.merged, f.unmerged) for f in result.found] == \
        [("k3s", str(k3s), ["default"], False, ["default"])]
    assert result.importable == result.found and result.found[0].content == ""
    renamed = load_text(k3s_yaml().replace("name: default", "name: k3s-box").replace("cluster: default", "cluster: k3s-box")
                        .replace("user: default", "user: k3s-box"), str(tmp_path / "config"))
    assert renamed.context_names == ["k3s-box"]
    assert find(tmp_path, loaded=renamed).found[0].merged is True
    other_ca = load_text(k3s_yaml(ca=base64.b64encode(b"other").decode()), str(tmp_path / "config"))
    assert find(tmp_path, loaded=other_ca).found[0].merged is False  # same server, another cluster
    localhost = load_text(k3s_yaml(server="https://localhost:6443/"), str(tmp_path / "config"))
    assert find(tmp_path, loaded=localhost).found[0].merged is True


def test_k3s_permission_denied_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A root-only k3s.yaml becomes an entry with an explanatory error (EACCES simulated, the tests
    may run as root); K3S_KUBECONFIG_OUTPUT moves the file; a missing file is no entry at all."""
    assert find(tmp_path, loaded=load_files([])).found == []
    k3s = tmp_path / "k3s.yaml"
    k3s.write_text(k3s_yaml(), encoding="utf-8")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == k3s:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    entry = find(tmp_path, loaded=load_files([])).found[0]
    assert entry.kind == "k3s" and not entry.merged and not entry.importable
    assert "permission denied" in entry.error and "--write-kubeconfig-mode" in entry.error
    moved = tmp_path / "elsewhere.yaml"
    moved.write_text(k3s_yaml(), encoding="utf-8")
    result = find(tmp_path, loaded=load_files([]), env={"K3S_KUBECONFIG_OUTPUT": str(moved)}, k3s_path=None)
    assert [f.path for f in result.found] == [str(moved)]


def test_k3s_not_looked_for_on_windows(tmp_path: Path) -> None:
    """On Windows there is no /etc/rancher (wsl.exe missing -> no WSL entries either)."""
    (tmp_path / "k3s.yaml").write_text(k3s_yaml(), encoding="utf-8")
    result = find(tmp_path, loaded=load_files([]), platform_name="win32",
                  run=lambda argv, t: (127, b"", b"not found"))
    assert result.found == [] and result.warnings == []


# ---------------------------------------------------------------------------------- minikube
def minikube_profile(mini: Path, name: str, ip: str = "192.168.49.2", driver: str = "docker") -> Path:
    prof = mini / "profiles" / name
    prof.mkdir(parents=True)
    cfg = {"Name": name, "Driver": driver, "KubernetesConfig": {"ClusterName": name},
           "Nodes": [{"Name": "", "IP": ip, "Port": 8443, "ControlPlane": True, "Worker": True}]}
    (prof / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return prof / "config.json"


def test_minikube_home_rules(tmp_path: Path) -> None:
    """MINIKUBE_HOME is the .minikube dir itself when it is named so, else its parent."""
    assert minikube_home({}, tmp_path) == tmp_path / ".minikube"
    assert minikube_home({"MINIKUBE_HOME": "/x/.minikube"}, tmp_path) == Path("/x/.minikube")
    assert minikube_home({"MINIKUBE_HOME": "/x"}, tmp_path) == Path("/x/.minikube")


def test_minikube_profiles(tmp_path: Path) -> None:
    """A profile with a kubeconfig context is merged; one without gets a synthesised kubeconfig
    (server from the control-plane node, minikube's CA and the profile's client cert); a broken
    config.json is a warning; a profile without an IP yet says to start it."""
    mini = tmp_path / "home" / ".minikube"
    minikube_profile(mini, "minikube")
    cfg = minikube_profile(mini, "dev", ip="192.168.59.100", driver="kvm2")
    minikube_profile(mini, "new", ip="")
    (mini / "profiles" / "broken").mkdir(parents=True)
    (mini / "profiles" / "broken" / "config.json").write_text("{", encoding="utf-8")
    loaded = load_text(yaml.safe_dump({
        "clusters": [{"name": "minikube", "cluster": {"server": "https://127.0.0.1:32771"}}],
        "contexts": [{"name": "minikube", "context": {"cluster": "minikube"}}]}), str(tmp_path / "config"))
    result = find(tmp_path, loaded=loaded)
    by_name = {f.name: f for f in result.found}
    assert set(by_name) == {"minikube", "dev", "new"}
    assert by_name["minikube"].merged and by_name["minikube"].kind == "minikube"
    dev = by_name["dev"]
    assert dev.importable and dev.path == str(cfg) and dev.contexts == ["dev"]
    synth = load_text(dev.content, dev.path)
    params = synth.connection_params("dev")
    assert params.server == "https://192.168.59.100:8443" and params.ca_file == str(mini / "ca.crt")
    assert params.client_cert_file == str(mini / "profiles" / "dev" / "client.crt")
    assert synth.contexts["dev"].provider == "minikube.sigs.k8s.io"
    assert "minikube start -p new" in by_name["new"].error
    assert len(result.warnings) == 1 and "broken" in result.warnings[0]


def test_minikube_docker_driver_off_linux_needs_update_context(tmp_path: Path) -> None:
    """On macOS the docker driver's node IP is not reachable: the entry says what to run instead."""
    minikube_profile(tmp_path / "home" / ".minikube", "dd", driver="docker")
    entry = find(tmp_path, loaded=load_files([]), platform_name="darwin").found[0]
    assert entry.error.endswith("run `minikube update-context -p dd`") and not entry.importable


# ---------------------------------------------------------------------------------------- kind
@dataclass
class Row:
    """Shaped like the runtimes' ContainerRow: name and labels as pairs."""

    name: str
    labels: tuple[tuple[str, str], ...]


ROWS = [Row("dev-control-plane", (("io.x-k8s.kind.cluster", "dev"), ("io.x-k8s.kind.role", "control-plane"))),
        Row("dev-worker", (("io.x-k8s.kind.cluster", "dev"),)),
        Row("web", (("app", "web"),)),
        Row("ci-control-plane", (("io.x-k8s.kind.cluster", "ci"),))]


def kind_kubeconfig(name: str, port: int) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": f"kind-{name}",
        "clusters": [{"name": f"kind-{name}", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                        "certificate-authority-data": CA}}],
        "users": [{"name": f"kind-{name}", "user": {"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"}}],
        "contexts": [{"name": f"kind-{name}", "context": {"cluster": f"kind-{name}", "user": f"kind-{name}"}}],
    })


def test_kind_names_from_container_rows() -> None:
    """Cluster names come from the io.x-k8s.kind.cluster label, once each, pairs or mappings."""
    assert kind_cluster_names(ROWS) == ["dev", "ci"]
    assert kind_cluster_names([{"labels": {"io.x-k8s.kind.cluster": "m"}}]) == ["m"]


def test_kind_with_binary(tmp_path: Path) -> None:
    """With the kind binary, `kind get clusters` adds clusters without containers seen, and
    `kind get kubeconfig --name X` (argv list, timeout) gives each kubeconfig; merged is decided by
    server+CA; a failing export is an error entry."""
    calls: list[tuple[list[str], float]] = []

    def run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bytes]:
        calls.append((list(argv), timeout))
        if argv[1:] == ["get", "clusters"]:
            return 0, b"ci\ndev\nextra\n", b""
        name = argv[-1]
        if name == "extra":
            return 1, b"", b"ERROR: could not locate any control plane nodes"
        return 0, kind_kubeconfig(name, {"dev": 40001, "ci": 40002}[name]).encode(), b""

    loaded = load_text(kind_kubeconfig("dev", 40001), str(tmp_path / "config"))
    result = find(tmp_path, loaded=loaded, which=lambda n: "/usr/local/bin/kind" if n == "kind" else None,
                  run=run, kind_clusters=kind_cluster_names(ROWS), timeout=7.0)
    by_name = {f.name: f for f in result.found}
    assert list(by_name) == ["dev", "ci", "extra"]
    assert by_name["dev"].merged and not by_name["dev"].importable
    assert by_name["ci"].importable and by_name["ci"].contexts == ["kind-ci"] and by_name["ci"].path == ""
    assert load_text(by_name["ci"].content, "x").contexts["kind-ci"].server == "https://127.0.0.1:40002"
    assert by_name["ci"].origin == "kind get kubeconfig --name ci"
    assert "could not locate" in by_name["extra"].error
    assert calls[0] == (["/usr/local/bin/kind", "get", "clusters"], 7.0)
    assert ["/usr/local/bin/kind", "get", "kubeconfig", "--name", "ci"] in [c[0] for c in calls]


def test_kind_without_binary(tmp_path: Path) -> None:
    """Without the binary, clusters seen in containers are merged when their kind-NAME context is
    loaded, otherwise an error says how to export the kubeconfig."""
    loaded = load_text(kind_kubeconfig("dev", 40001), str(tmp_path / "config"))
    result = find(tmp_path, loaded=loaded, kind_clusters=["dev", "ci"])
    assert [(f.name, f.merged) for f in result.found] == [("dev", True), ("ci", False)]
    assert "kind export kubeconfig --name ci" in result.found[1].error


async def test_discover_uses_async_and_sync_listers(tmp_path: Path) -> None:
    """discover() awaits async list_containers callables, calls sync ones, survives a dead runtime
    (warning), and runs the blocking file work in a thread."""
    async def docker_rows() -> list[Row]:
        await asyncio.sleep(0)
        return ROWS[:2]

    def podman_rows() -> list[Row]:
        return ROWS[3:]

    async def dead() -> list[Row]:
        raise ConnectionRefusedError("podman socket gone")

    result = await discover(load_files([]), [docker_rows, dead, podman_rows], env={}, home=tmp_path / "home",
                            platform_name="linux", proc_root=tmp_path / "proc", k3s_path=tmp_path / "none",
                            which=no_which, run=no_run)
    assert [f.name for f in result.found] == ["dev", "ci"]
    assert result.warnings == ["cannot list containers to find kind clusters: podman socket gone"]


# ------------------------------------------------------------------------------- WSL -> Windows
def test_inside_wsl_finds_windows_users_kubeconfigs(tmp_path: Path) -> None:
    """Inside WSL (WSL_DISTRO_NAME set) each Windows user's .kube/config under the mounted C: drive
    is found (Public/Default skipped) and Windows paths inside are translated to /mnt/<drive>."""
    users = tmp_path / "mnt" / "c" / "Users"
    kube = users / "Alice" / ".kube"
    kube.mkdir(parents=True)
    (users / "Public" / ".kube").mkdir(parents=True)
    (users / "Public" / ".kube" / "config").write_text(k3s_yaml(), encoding="utf-8")
    (kube / "config").write_text(yaml.safe_dump({
        "current-context": "docker-desktop",
        "clusters": [{"name": "docker-desktop", "cluster": {"server": "https://kubernetes.docker.internal:6443",
                                                           "certificate-authority": r"C:\Users\Alice\.kube\ca.crt"}}],
        "users": [{"name": "dd", "user": {"client-certificate": "dd.crt", "client-key": "D:/keys/dd.key"}}],
        "contexts": [{"name": "docker-desktop", "context": {"cluster": "docker-desktop", "user": "dd"}}],
    }), encoding="utf-8")
    not_wsl = find(tmp_path, loaded=load_files([]))
    assert not_wsl.found == []
    result = find(tmp_path, loaded=load_files([]), env={"WSL_DISTRO_NAME": "Ubuntu"})
    assert [(f.kind, f.name, f.contexts) for f in result.found] == [("wsl-windows", "Alice", ["docker-desktop"])]
    entry = result.found[0]
    params = load_text(entry.content, entry.path).connection_params("docker-desktop")
    mnt = str(tmp_path / "mnt")
    assert params.ca_file == f"{mnt}/c/Users/Alice/.kube/ca.crt"
    assert params.client_cert_file == str(kube / "dd.crt")
    assert params.client_key_file == f"{mnt}/d/keys/dd.key"


def test_wsl_detected_from_proc_too(tmp_path: Path) -> None:
    """With the variables scrubbed, /proc/version saying Microsoft still means WSL."""
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "version").write_text("Linux version 5.15.153.1-microsoft-standard-WSL2", encoding="utf-8")
    kube = tmp_path / "mnt" / "c" / "Users" / "bob" / ".kube"
    kube.mkdir(parents=True)
    (kube / "config").write_text(k3s_yaml(), encoding="utf-8")
    assert [f.kind for f in find(tmp_path, loaded=load_files([])).found] == ["wsl-windows"]


def test_windows_to_wsl() -> None:
    """Drive paths map to /mnt/<lower drive>; anything else is unchanged."""
    assert windows_to_wsl(r"C:\Users\me\ca.crt") == "/mnt/c/Users/me/ca.crt"
    assert windows_to_wsl("E:/x/y") == "/mnt/e/x/y"
    assert windows_to_wsl("/etc/x") == "/etc/x" and windows_to_wsl("rel/x") == "rel/x"


# ------------------------------------------------------------------------------ Windows -> WSL
WSL_OUTPUT = "\ufeffUbuntu-22.04\r\ndocker-desktop\r\nDebian\r\n".encode("utf-16-le")


@pytest.mark.parametrize(("raw", "expected"), [
    (WSL_OUTPUT, ["Ubuntu-22.04", "docker-desktop", "Debian"]),
    (b"\xff\xfe" + "Ubuntu\r\n\r\n".encode("utf-16-le"), ["Ubuntu"]),
    ("Ubuntu\r\nkali-linux\r\n".encode("utf-16-le"), ["Ubuntu", "kali-linux"]),  # no BOM
    (b"Ubuntu\nDebian\n", ["Ubuntu", "Debian"]),  # WSL_UTF8=1
    ("Windows Subsystem for Linux Distributions:\r\nUbuntu (Default)\r\nDebian\r\n".encode("utf-16-le"),
     ["Ubuntu", "Debian"]),  # wsl -l without -q
    ("Ubuntu\x00\r\n".encode("utf-16-le") + b"\x00", ["Ubuntu"]),  # stray NULs, odd length
    (b"", []),
])
def test_parse_wsl_list(raw: bytes, expected: list[str]) -> None:
    """UTF-16LE with/without BOM, NUL padding, UTF-8 mode and the verbose header all parse."""
    assert parse_wsl_list(raw) == expected


def test_windows_finds_running_distros_kubeconfigs(tmp_path: Path) -> None:
    """On Windows, `wsl.exe -l -q --running` (mocked) lists distros; each distro's homes, root and
    k3s.yaml (roots mapped to temp dirs instead of \\\\wsl.localhost) are read, docker-desktop
    skipped, and Linux paths inside translated to the distro's UNC root."""
    roots = {d: tmp_path / "wsl" / d for d in ("Ubuntu-22.04", "Debian")}
    ubuntu = roots["Ubuntu-22.04"]
    (ubuntu / "home" / "me" / ".kube").mkdir(parents=True)
    (ubuntu / "home" / "me" / ".kube" / "config").write_text(yaml.safe_dump({
        "clusters": [{"name": "mk", "cluster": {"server": "https://192.168.49.2:8443",
                                                "certificate-authority": "/home/me/.minikube/ca.crt"}}],
        "contexts": [{"name": "minikube", "context": {"cluster": "mk"}}]}), encoding="utf-8")
    (ubuntu / "home" / "empty").mkdir()
    (ubuntu / "etc" / "rancher" / "k3s").mkdir(parents=True)
    (ubuntu / "etc" / "rancher" / "k3s" / "k3s.yaml").write_text(k3s_yaml(), encoding="utf-8")
    (roots["Debian"] / "root" / ".kube").mkdir(parents=True)
    (roots["Debian"] / "root" / ".kube" / "config").write_text(k3s_yaml("https://127.0.0.1:7443"), encoding="utf-8")
    seen: list[list[str]] = []

    def run(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bytes]:
        seen.append(list(argv))
        return 0, WSL_OUTPUT, b""

    def wsl_root(distro: str) -> Path:
        assert distro != "docker-desktop"
        return roots[distro]

    result = find(tmp_path, loaded=load_files([]), platform_name="win32", run=run, wsl_root=wsl_root)
    assert seen == [["wsl.exe", "-l", "-q", "--running"]]
    assert [(f.kind, f.name) for f in result.found] == [
        ("wsl-distro", "Ubuntu-22.04:me"), ("wsl-distro", "Ubuntu-22.04:k3s"), ("wsl-distro", "Debian:root")]
    assert all(f.importable for f in result.found)
    me = result.found[0]
    ca = load_text(me.content, me.path).connection_params("minikube").ca_file
    assert ca == str(ubuntu / "home" / "me" / ".minikube" / "ca.crt")
    assert result.warnings == []  # Debian has no /home: not worth a warning


def test_windows_wsl_failures(tmp_path: Path) -> None:
    """wsl.exe missing: nothing, silently; wsl.exe failing: a warning with its (UTF-16) message."""
    missing = find(tmp_path, loaded=load_files([]), platform_name="win32", run=lambda a, t: (127, b"", b""))
    assert missing.found == [] and missing.warnings == []
    failing = find(tmp_path, loaded=load_files([]), platform_name="win32",
                   run=lambda a, t: (1, "WSL is not installed\r\n".encode("utf-16-le"), b""))
    assert failing.found == [] and "WSL is not installed" in failing.warnings[0]


def test_default_runner_runs_argv_with_timeout(tmp_path: Path) -> None:
    """The real runner: argv list, output captured, 127 for a missing binary, 124 on timeout."""
    import sys

    from tamer_tui.core.kube.clusters import run_command

    code, out, _err = run_command([sys.executable, "-c", "print('hi')"], 10)
    assert (code, out.strip()) == (0, b"hi")
    assert run_command([str(tmp_path / "nope")], 5)[0] == 127
    assert run_command([sys.executable, "-c", "import time; time.sleep(5)"], 0.3)[0] == 124
    assert os.path.exists(sys.executable)
