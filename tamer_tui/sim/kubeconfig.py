"""Writing (and merging) the kubeconfig entries for a simulated cluster.

Two contexts are written: ``NAME`` (admin token) and ``NAME-restricted`` (restricted token,
namespace ``default``), both pointing at cluster ``NAME`` with the CA as
``certificate-authority-data``.  Existing entries of other clusters are kept; entries with the same
names are replaced.  The file is written atomically with mode 0600.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def default_path(name: str) -> Path:
    """Where ``tamer sim`` writes its kubeconfig when none is given."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("tamer", appauthor=False)) / "sim" / f"{name}.kubeconfig"


def _replace(entries: list[dict[str, Any]], entry: dict[str, Any]) -> list[dict[str, Any]]:
    out = [e for e in entries if isinstance(e, dict) and e.get("name") != entry["name"]]
    out.append(entry)
    return out


def build_entries(
    name: str, server: str, ca_pem: bytes | None, admin_token: str, restricted_token: str
) -> dict[str, Any]:
    """The clusters/users/contexts for one simulated cluster, as a kubeconfig dict."""
    cluster: dict[str, Any] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [
            {"name": f"{name}-admin", "user": {"token": admin_token}},
            {"name": f"{name}-restricted", "user": {"token": restricted_token}},
        ],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": f"{name}-admin"}},
            {
                "name": f"{name}-restricted",
                "context": {"cluster": name, "user": f"{name}-restricted", "namespace": "default"},
            },
        ],
        "current-context": name,
    }


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a kubeconfig (top level is not a mapping)")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(data, fh, default_flow_style=False, sort_keys=False)
        try:
            os.chmod(tmp, 0o600)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_kubeconfig(
    path: str | os.PathLike[str],
    name: str,
    server: str,
    ca_pem: bytes | None,
    admin_token: str,
    restricted_token: str,
    *,
    set_current: bool | None = None,
) -> Path:
    """Write or merge the entries into ``path``; returns the path.

    ``current-context`` is set to ``name`` when ``set_current`` is true, or (default ``None``) when
    the file had no current context yet.
    """
    p = Path(path).expanduser()
    data = _load(p)
    new = build_entries(name, server, ca_pem, admin_token, restricted_token)
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    data.setdefault("preferences", {})
    for section in ("clusters", "users", "contexts"):
        entries = data.get(section) or []
        for entry in new[section]:
            entries = _replace(entries, entry)
        data[section] = entries
    if set_current or (set_current is None and not data.get("current-context")):
        data["current-context"] = name
    _write(p, data)
    return p


def remove_entries(path: str | os.PathLike[str], name: str) -> None:
    """Remove this cluster's entries from ``path`` (the file is deleted when nothing is left)."""
    p = Path(path).expanduser()
    data = _load(p)
    if not data:
        return
    names = {
        "clusters": {name},
        "users": {f"{name}-admin", f"{name}-restricted"},
        "contexts": {name, f"{name}-restricted"},
    }
    for section, drop in names.items():
        data[section] = [
            e for e in data.get(section) or [] if isinstance(e, dict) and e.get("name") not in drop
        ]
    if data.get("current-context") in names["contexts"]:
        data["current-context"] = ""
    if not data["clusters"] and not data["users"] and not data["contexts"]:
        p.unlink(missing_ok=True)
        return
    _write(p, data)
