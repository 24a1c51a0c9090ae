"""Finding clusters in places kubectl does not look, and telling which are already merged.

Sources:

* **k3s**: ``/etc/rancher/k3s/k3s.yaml`` (or ``K3S_KUBECONFIG_OUTPUT``); it is root-only by default,
  which is reported as an error on the found entry rather than ignored.
* **minikube**: ``$MINIKUBE_HOME`` (or ``~/.minikube``) ``/profiles/*/config.json``. A profile is merged
  when the loaded kubeconfig has a context of that name (minikube writes one per profile); when not,
  a kubeconfig is synthesised from the profile (control-plane IP and port, ``ca.crt``, the profile's
  ``client.crt``/``client.key``).
* **kind**: cluster names from the labels ``io.x-k8s.kind.cluster`` of containers listed by injected
  callables (the Docker/Podman runtimes' ``list_containers``) and from ``kind get clusters``; the
  kubeconfig of each comes from ``kind get kubeconfig --name NAME`` (argv list, timeout) when the
  ``kind`` binary exists.
* **wsl-windows** (inside WSL): the Windows users' ``/mnt/c/Users/*/.kube/config``; Windows paths
  inside (``C:\\Users\\me\\ca.crt``) are translated to ``/mnt/c/...``.
* **wsl-distro** (on Windows): for each *running* distro listed by ``wsl.exe -l -q --running`` (UTF-16LE
  with a BOM and NULs, parsed by :func:`parse_wsl_list`; running only, so discovery never boots a
  distro) ``\\\\wsl.localhost\\<distro>\\home\\*\\.kube\\config``, ``...\\root\\.kube\\config`` and
  ``...\\etc\\rancher\\k3s\\k3s.yaml``; Linux paths inside are translated to UNC paths.

Every path, the environment, the home directory, the platform, ``which`` and the command runner are
injectable, so all of it is testable on any machine.

A found context counts as merged when the loaded kubeconfig already has a context for the same
server (and the same CA when both are known), whatever its name, so an import that renamed entries
still counts. :attr:`FoundKubeconfig.content`, when set, is the kubeconfig text to import (command
output, a synthesised config, or the file with its paths made absolute and translated).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from tamer_tui.core import platform
from tamer_tui.core.kube.kubeconfig import (
    KubeConfig,
    KubeConfigError,
    absolutize_paths,
    load_kubeconfig,
    merge_documents,
    parse_text,
    read_file,
)

KIND_LABEL = "io.x-k8s.kind.cluster"
K3S_PATH = Path("/etc/rancher/k3s/k3s.yaml")
WINDOWS_USERS = Path("/mnt/c/Users")
COMMAND_TIMEOUT = 10.0
#: Windows profile folders that are not people.
_NOT_USERS = {"public", "default", "default user", "all users", "defaultapppool", "wdagutilityaccount"}
#: Docker Desktop's internal distros: no user kubeconfig lives there.
_SKIP_DISTROS = {"docker-desktop", "docker-desktop-data"}

#: ``run(argv, timeout) -> (returncode, stdout, stderr)``; a missing executable gives 127.
Runner = Callable[[Sequence[str], float], tuple[int, bytes, bytes]]
Which = Callable[[str], str | None]


@dataclass(frozen=True)
class FoundKubeconfig:
    """A kubeconfig found outside the loaded ones.

    ``path`` is the file it was read from ("" when it came from a command); ``content`` the
    kubeconfig text to import when the file itself should not be imported as-is; ``contexts`` its
    context names; ``merged`` whether all of them are already in the loaded kubeconfig
    (``unmerged`` lists those that are not); ``error`` why it cannot be used (then ``contexts`` may
    be empty and ``merged`` is false).
    """

    path: str
    kind: str
    contexts: list[str]
    merged: bool
    name: str = ""
    content: str = field(default="", repr=False)
    origin: str = ""
    error: str = ""
    unmerged: list[str] = field(default_factory=list)

    @property
    def importable(self) -> bool:
        """True when it has contexts that are not merged yet and no error."""
        return not self.merged and not self.error and bool(self.unmerged)


@dataclass
class Discovery:
    """Everything :func:`find_kubeconfigs` found, plus warnings about sources it could not read."""

    found: list[FoundKubeconfig] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def importable(self) -> list[FoundKubeconfig]:
        """The found kubeconfigs the UI should offer for import."""
        return [f for f in self.found if f.importable]


# ------------------------------------------------------------------------------------ helpers
def run_command(argv: Sequence[str], timeout: float) -> tuple[int, bytes, bytes]:
    """Run argv (no shell) with stdin closed and a timeout; 127 when it cannot be started,
    124 on timeout."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout,
                              check=False, creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except FileNotFoundError:
        return 127, b"", f"{argv[0]}: not found".encode()
    except subprocess.TimeoutExpired:
        return 124, b"", f"{argv[0]}: no answer within {timeout:g}s".encode()
    except OSError as err:
        return 126, b"", f"{argv[0]}: {err.strerror or err}".encode()
    return proc.returncode, proc.stdout or b"", proc.stderr or b""


def parse_wsl_list(data: bytes) -> list[str]:
    """Distro names from ``wsl.exe -l -q`` output.

    wsl.exe writes UTF-16LE, usually with a BOM, and some versions pad with extra NULs or write
    UTF-8 (``WSL_UTF8=1``); CRLF line ends; ``wsl -l`` (without ``-q``) adds a header and
    ``(Default)`` markers. All of that is tolerated.
    """
    if data.startswith(b"\xff\xfe"):
        text = data[2:].decode("utf-16-le", errors="replace")
    elif data.count(b"\x00") * 3 >= len(data) > 0:
        text = data.decode("utf-16-le", errors="replace")
    else:
        text = data.decode("utf-8", errors="replace")
    text = text.replace("\ufeff", "").replace("\x00", "").replace("\ufffd", "")
    names: list[str] = []
    for line in text.splitlines():
        name = line.strip()
        if name.endswith("(Default)"):
            name = name[: -len("(Default)")].strip()
        if not name or name.lower().startswith("windows subsystem for linux") or name.endswith(":"):
            continue
        if name not in names:
            names.append(name)
    return names


def _norm_server(server: str) -> str:
    try:
        parts = urlsplit(server.strip())
    except ValueError:
        return server.strip()
    host = (parts.hostname or "").lower()
    if host in ("localhost", "::1"):
        host = "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return urlunsplit((parts.scheme.lower(), f"{host}:{port}", parts.path.rstrip("/"), "", ""))


def _ca_of(config: KubeConfig, cluster_name: str) -> bytes | None:
    cluster = config.clusters.get(cluster_name)
    if cluster is None:
        return None
    data = cluster.spec.get("certificate-authority-data")
    if isinstance(data, str) and data:
        return "".join(data.split()).encode()
    ref = cluster.spec.get("certificate-authority")
    if isinstance(ref, str) and ref:
        path = ref if os.path.isabs(ref) else os.path.join(os.path.dirname(cluster.source_file), ref)
        try:
            import base64

            return base64.b64encode(Path(path).read_bytes())
        except OSError:
            return None
    return None


def merged_split(found: KubeConfig, loaded: KubeConfig) -> tuple[list[str], list[str]]:
    """``(merged, unmerged)`` context names of ``found``: merged when ``loaded`` has a context for
    the same server, with the same CA when both know theirs."""
    identities: dict[str, list[bytes | None]] = {}
    for ctx in loaded.contexts.values():
        if ctx.server:
            identities.setdefault(_norm_server(ctx.server), []).append(_ca_of(loaded, ctx.cluster))
    merged: list[str] = []
    unmerged: list[str] = []
    for ctx in found.contexts.values():
        cas = identities.get(_norm_server(ctx.server)) if ctx.server else None
        ca = _ca_of(found, ctx.cluster)
        if cas is not None and any(ca is None or other is None or ca == other for other in cas):
            merged.append(ctx.name)
        else:
            unmerged.append(ctx.name)
    return merged, unmerged


def _found(kind: str, path: str, name: str, data: Mapping[str, Any], loaded: KubeConfig, *,
           content: str = "", origin: str = "") -> FoundKubeconfig:
    config = merge_documents([(path or origin or kind, data)])
    merged, unmerged = merged_split(config, loaded)
    return FoundKubeconfig(path=path, kind=kind, contexts=list(config.contexts), merged=not unmerged and bool(merged),
                           name=name, content=content, origin=origin or path, unmerged=unmerged)


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), default_flow_style=False, sort_keys=False)


def _from_file(kind: str, path: Path, name: str, loaded: KubeConfig,
               mapper: Callable[[str], str] | None = None, hint: str = "") -> FoundKubeconfig | None:
    """A found kubeconfig for a file (None when it does not exist)."""
    try:
        data = read_file(path)
    except KubeConfigError as err:
        if not path.exists() and "permission denied" not in str(err):
            return None
        message = str(err) + (f" ({hint})" if hint and "permission denied" in str(err) else "")
        return FoundKubeconfig(path=str(path), kind=kind, contexts=[], merged=False, name=name, error=message,
                               origin=str(path))
    fixed = absolutize_paths(data, path.parent, mapper)
    content = _dump(fixed) if fixed != json.loads(json.dumps(data, default=str)) else ""
    return _found(kind, str(path), name, fixed, loaded, content=content)


# --------------------------------------------------------------------------------------- k3s
def find_k3s(loaded: KubeConfig, env: Mapping[str, str], path: Path | None = None) -> list[FoundKubeconfig]:
    """k3s's kubeconfig, if present (``K3S_KUBECONFIG_OUTPUT`` or ``/etc/rancher/k3s/k3s.yaml``)."""
    target = path or Path(env.get("K3S_KUBECONFIG_OUTPUT") or K3S_PATH)
    found = _from_file("k3s", target, "k3s", loaded,
                       hint="k3s writes it for root only; start k3s with --write-kubeconfig-mode 644 "
                            "or copy it with sudo")
    return [found] if found else []


# ---------------------------------------------------------------------------------- minikube
def minikube_home(env: Mapping[str, str], home: Path) -> Path:
    """minikube's state directory: ``MINIKUBE_HOME`` (itself when it ends in ``.minikube``, else
    its ``.minikube`` subdirectory) or ``~/.minikube``."""
    value = env.get("MINIKUBE_HOME", "")
    if value:
        base = Path(value)
        return base if base.name == ".minikube" else base / ".minikube"
    return home / ".minikube"


def _minikube_config(profile: str, cfg: Mapping[str, Any], mini: Path) -> dict[str, Any] | None:
    nodes = cfg.get("Nodes") or []
    control = next((n for n in nodes if isinstance(n, dict) and n.get("ControlPlane")), None)
    if control is None and nodes and isinstance(nodes[0], dict):
        control = nodes[0]
    if not control or not control.get("IP"):
        return None
    port = control.get("Port") or 8443
    prof = mini / "profiles" / profile
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": profile, "cluster": {
            "server": f"https://{control['IP']}:{port}",
            "certificate-authority": str(mini / "ca.crt"),
            "extensions": [{"name": "cluster_info", "extension": {"provider": "minikube.sigs.k8s.io"}}],
        }}],
        "users": [{"name": profile, "user": {"client-certificate": str(prof / "client.crt"),
                                              "client-key": str(prof / "client.key")}}],
        "contexts": [{"name": profile, "context": {"cluster": profile, "user": profile, "namespace": "default"}}],
        "current-context": profile,
    }


def find_minikube(loaded: KubeConfig, env: Mapping[str, str], home: Path,
                  platform_name: str | None = None) -> tuple[list[FoundKubeconfig], list[str]]:
    """One entry per minikube profile."""
    mini = minikube_home(env, home)
    found: list[FoundKubeconfig] = []
    warnings: list[str] = []
    try:
        configs = sorted((mini / "profiles").glob("*/config.json"))
    except OSError as err:
        return [], [f"cannot list minikube profiles in {mini}: {err}"]
    for cfg_path in configs:
        profile = cfg_path.parent.name
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
            if not isinstance(cfg, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as err:
            warnings.append(f"minikube profile {profile}: cannot read {cfg_path}: {err}")
            continue
        if profile in loaded.contexts:
            found.append(FoundKubeconfig(path=str(cfg_path), kind="minikube", contexts=[profile], merged=True,
                                         name=profile, origin=str(cfg_path)))
            continue
        driver = str(cfg.get("Driver") or "")
        synthesised = _minikube_config(profile, cfg, mini)
        error = ""
        if synthesised is None:
            error = f"profile {profile} has no control-plane address yet; run `minikube start -p {profile}`"
        elif driver in ("docker", "podman") and not (platform_name or sys.platform).startswith("linux"):
            error = (f"profile {profile} (driver {driver}) is reachable only through a forwarded port; "
                     f"run `minikube update-context -p {profile}`")
        if error:
            found.append(FoundKubeconfig(path=str(cfg_path), kind="minikube", contexts=[profile], merged=False,
                                         name=profile, origin=str(cfg_path), error=error, unmerged=[profile]))
            continue
        assert synthesised is not None
        found.append(_found("minikube", str(cfg_path), profile, synthesised, loaded, content=_dump(synthesised)))
    return found, warnings


# --------------------------------------------------------------------------------------- kind
def kind_cluster_names(rows: Iterable[Any]) -> list[str]:
    """kind cluster names from container rows (``.labels`` as pairs or a mapping)."""
    names: list[str] = []
    for row in rows:
        labels = getattr(row, "labels", None)
        if labels is None and isinstance(row, Mapping):
            labels = row.get("labels") or row.get("Labels")
        pairs = labels.items() if isinstance(labels, Mapping) else (labels or ())
        for key, value in pairs:
            if key == KIND_LABEL and value and value not in names:
                names.append(str(value))
    return names


def find_kind(loaded: KubeConfig, names: Iterable[str], which: Which, run: Runner,
              timeout: float = COMMAND_TIMEOUT) -> tuple[list[FoundKubeconfig], list[str]]:
    """One entry per kind cluster (names from containers plus ``kind get clusters``)."""
    warnings: list[str] = []
    clusters = list(dict.fromkeys(names))
    kind_bin = which("kind")
    if kind_bin:
        code, out, err = run([kind_bin, "get", "clusters"], timeout)
        if code == 0:
            for line in out.decode("utf-8", errors="replace").splitlines():
                name = line.strip()
                if name and " " not in name and name not in clusters:
                    clusters.append(name)
        else:
            warnings.append(f"`kind get clusters` failed: {err.decode('utf-8', errors='replace').strip()[:200]}")
    found: list[FoundKubeconfig] = []
    for name in clusters:
        context = f"kind-{name}"
        origin = f"kind get kubeconfig --name {name}"
        if not kind_bin:
            if context in loaded.contexts:
                found.append(FoundKubeconfig(path="", kind="kind", contexts=[context], merged=True, name=name,
                                             origin=f"container label {KIND_LABEL}={name}"))
            else:
                found.append(FoundKubeconfig(
                    path="", kind="kind", contexts=[context], merged=False, name=name, unmerged=[context],
                    origin=f"container label {KIND_LABEL}={name}",
                    error=f"kind cluster {name} is running but the kind binary is not on PATH to export its "
                          f"kubeconfig (kind export kubeconfig --name {name})"))
            continue
        code, out, err = run([kind_bin, "get", "kubeconfig", "--name", name], timeout)
        text = out.decode("utf-8", errors="replace")
        if code != 0:
            detail = err.decode("utf-8", errors="replace").strip()[:300]
            found.append(FoundKubeconfig(path="", kind="kind", contexts=[context], merged=context in loaded.contexts,
                                         name=name, origin=origin, error=f"`{origin}` failed: {detail}",
                                         unmerged=[] if context in loaded.contexts else [context]))
            continue
        try:
            data = parse_text(text, f"`{origin}` output")
        except KubeConfigError as exc:
            found.append(FoundKubeconfig(path="", kind="kind", contexts=[context], merged=False, name=name,
                                         origin=origin, error=str(exc), unmerged=[context]))
            continue
        found.append(_found("kind", "", name, data, loaded, content=text, origin=origin))
    return found, warnings


# ---------------------------------------------------------------------------------------- WSL
def windows_to_wsl(path: str, mount_root: str = "/mnt") -> str:
    """``C:\\Users\\me\\x`` -> ``/mnt/c/Users/me/x``; other strings unchanged."""
    match = re.match(r"^([A-Za-z]):[\\/](.*)$", path)
    if not match:
        return path
    rest = match.group(2).replace("\\", "/")
    return f"{mount_root.rstrip('/')}/{match.group(1).lower()}/{rest}".rstrip("/")


def find_wsl_windows(loaded: KubeConfig, users_root: Path = WINDOWS_USERS) -> tuple[list[FoundKubeconfig], list[str]]:
    """Inside WSL: each Windows user's ``.kube/config`` (paths translated to ``/mnt/<drive>``)."""
    found: list[FoundKubeconfig] = []
    try:
        users = sorted(p for p in users_root.iterdir() if p.name.lower() not in _NOT_USERS)
    except OSError:
        return [], []
    mount_root = str(users_root.parent.parent)
    for user in users:
        try:
            if not user.is_dir():
                continue
        except OSError:
            continue
        entry = _from_file("wsl-windows", user / ".kube" / "config", user.name, loaded,
                           mapper=lambda p: windows_to_wsl(p, mount_root))
        if entry:
            found.append(entry)
    return found, []


def default_wsl_root(distro: str) -> Path:
    """``\\\\wsl.localhost\\<distro>`` (Windows only)."""
    return Path(f"\\\\wsl.localhost\\{distro}\\")


def _linux_to_unc(root: Path) -> Callable[[str], str]:
    def mapper(path: str) -> str:
        if path.startswith("/") and not path.startswith("//"):
            return str(root.joinpath(*PurePosixPath(path).parts[1:]))
        return path
    return mapper


def find_wsl_distros(loaded: KubeConfig, run: Runner, wsl_root: Callable[[str], Path] = default_wsl_root,
                     timeout: float = COMMAND_TIMEOUT) -> tuple[list[FoundKubeconfig], list[str]]:
    """On Windows: kubeconfigs inside each running WSL distro (user homes, root, k3s)."""
    code, out, err = run(["wsl.exe", "-l", "-q", "--running"], timeout)
    if code == 127:
        return [], []
    if code != 0:
        text = parse_wsl_list(err) or parse_wsl_list(out)
        return [], [f"`wsl.exe -l -q --running` failed (status {code}): {' '.join(text)[:200]}"]
    found: list[FoundKubeconfig] = []
    warnings: list[str] = []
    for distro in parse_wsl_list(out):
        if distro.lower() in _SKIP_DISTROS:
            continue
        root = wsl_root(distro)
        mapper = _linux_to_unc(root)
        candidates: list[tuple[Path, str]] = []
        try:
            homes = sorted((root / "home").iterdir())
        except FileNotFoundError:
            homes = []
        except OSError as exc:
            warnings.append(f"WSL distro {distro}: cannot list {root / 'home'}: {exc}")
            homes = []
        candidates += [(h / ".kube" / "config", f"{distro}:{h.name}") for h in homes]
        candidates.append((root / "root" / ".kube" / "config", f"{distro}:root"))
        candidates.append((root / "etc" / "rancher" / "k3s" / "k3s.yaml", f"{distro}:k3s"))
        for path, name in candidates:
            entry = _from_file("wsl-distro", path, name, loaded, mapper=mapper,
                               hint="k3s writes it for root only; use --write-kubeconfig-mode 644")
            if entry:
                found.append(entry)
    return found, warnings


# ----------------------------------------------------------------------------------- together
def find_kubeconfigs(loaded: KubeConfig | None = None, *, env: Mapping[str, str] | None = None,
                     home: Path | None = None, platform_name: str | None = None, proc_root: Path = Path("/proc"),
                     k3s_path: Path | None = None, windows_users: Path = WINDOWS_USERS,
                     wsl_root: Callable[[str], Path] = default_wsl_root, kind_clusters: Iterable[str] = (),
                     which: Which = shutil.which, run: Runner = run_command,
                     timeout: float = COMMAND_TIMEOUT) -> Discovery:
    """Every source in the module docstring that applies to this platform (blocking)."""
    environ: Mapping[str, str] = os.environ if env is None else env
    home_path = home or platform.home_dir(environ)
    if loaded is None:
        loaded = load_kubeconfig(env=environ, home=home_path)
    result = Discovery()
    windows = platform.is_windows(platform_name)
    if not windows:
        result.found += find_k3s(loaded, environ, k3s_path)
    found, warnings = find_minikube(loaded, environ, home_path, platform_name)
    result.found += found
    result.warnings += warnings
    found, warnings = find_kind(loaded, kind_clusters, which, run, timeout)
    result.found += found
    result.warnings += warnings
    if platform.is_wsl(environ, proc_root, platform_name):
        found, warnings = find_wsl_windows(loaded, windows_users)
        result.found += found
        result.warnings += warnings
    if windows:
        found, warnings = find_wsl_distros(loaded, run, wsl_root, timeout)
        result.found += found
        result.warnings += warnings
    return result


ListContainers = Callable[[], Any]


async def kind_clusters_from_runtimes(list_containers: Sequence[ListContainers],
                                      timeout: float = COMMAND_TIMEOUT) -> tuple[list[str], list[str]]:
    """kind cluster names from every runtime's container list (callables may be sync or async);
    a runtime that fails adds a warning."""
    names: list[str] = []
    warnings: list[str] = []
    for lister in list_containers:
        try:
            rows = lister()
            if inspect.isawaitable(rows):
                rows = await asyncio.wait_for(rows, timeout)
        except Exception as err:  # a dead runtime must not stop discovery
            warnings.append(f"cannot list containers to find kind clusters: {err or type(err).__name__}")
            continue
        for name in kind_cluster_names(rows or []):
            if name not in names:
                names.append(name)
    return names, warnings


async def discover(loaded: KubeConfig | None = None, list_containers: Sequence[ListContainers] = (),
                   **kwargs: Any) -> Discovery:
    """:func:`find_kubeconfigs` off the event loop, with kind clusters found through the runtimes."""
    names, warnings = await kind_clusters_from_runtimes(list_containers)
    kwargs["kind_clusters"] = [*names, *kwargs.get("kind_clusters", ())]
    result = await asyncio.to_thread(lambda: find_kubeconfigs(loaded, **kwargs))
    result.warnings[:0] = warnings
    return result
