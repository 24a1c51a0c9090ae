"""The simulated cluster: options, the object store, versions and tokens.

A :class:`Cluster` is what the API server serves and what the behaviour code (seeding,
controllers, logs, exec, metrics) works on.  It has no I/O of its own.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from tamer_tui.sim.discovery import BUILTIN_TYPES
from tamer_tui.sim.store import ResourceType, Store

FLAVORS = ("k8s", "k3s", "kind", "minikube")

_VERSIONS: dict[str, str] = {
    "k8s": "v1.31.4",
    "k3s": "v1.31.4+k3s1",
    "kind": "v1.31.4",
    "minikube": "v1.31.4",
}


@dataclass
class SimOptions:
    """Everything ``tamer sim`` can be told (the CLI flags map 1:1 onto these)."""

    name: str = "tamer-sim"
    flavor: str = "k3s"  # k8s|k3s|kind|minikube
    host: str = "127.0.0.1"
    port: int = 0
    pods: int = 60
    namespaces: int = 4
    nodes: int = 3
    seed: int = 1
    kubeconfig: str | None = None
    log_rate: float = 2.0  # lines/s per container
    controllers: bool = True
    tls: bool = True


@dataclass
class Cluster:
    """One simulated cluster: the store with every built-in type registered, versions, tokens."""

    options: SimOptions = field(default_factory=SimOptions)
    store: Store = field(default_factory=Store)
    loop: asyncio.AbstractEventLoop | None = None
    kube_version: str = ""
    admin_token: str = ""
    restricted_token: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    admin_user: str = "admin"
    restricted_user: str = "restricted"

    def __post_init__(self) -> None:
        if self.options.flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {self.options.flavor!r} (expected one of {', '.join(FLAVORS)})")
        if not self.kube_version:
            self.kube_version = _VERSIONS[self.options.flavor]
        if not self.admin_token:
            self.admin_token = "admin-" + secrets.token_urlsafe(24)
        if not self.restricted_token:
            self.restricted_token = "restricted-" + secrets.token_urlsafe(24)
        for rtype in BUILTIN_TYPES:
            self.store.register_type(rtype)

    @property
    def kube_minor(self) -> int:
        """The Kubernetes minor version (31 for ``v1.31.4+k3s1``)."""
        return int(self.kube_version.lstrip("v").split(".")[1])

    @property
    def git_version(self) -> str:
        """``gitVersion`` as ``/version`` reports it."""
        return self.kube_version

    def rtype(self, group: str, version: str, plural: str) -> ResourceType:
        """The registered type at ``group/version/plural`` (``ApiError`` 404 if none)."""
        return self.store.type_for(group, version, plural)

    def user_for_token(self, token: str) -> str | None:
        """The user name a bearer token authenticates as, or ``None``."""
        if token and secrets.compare_digest(token, self.admin_token):
            return self.admin_user
        if token and secrets.compare_digest(token, self.restricted_token):
            return self.restricted_user
        return None
