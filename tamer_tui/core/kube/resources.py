"""Kubernetes resource types: the built-in ones Tamer knows by heart, and discovery for the rest.

``ResourceInfo`` says where a resource lives (group/version/plural, namespaced) and how command mode
names it (``:po``, ``:deploy``, ``:crd``). Discovery (``/api``, ``/apis``) adds every other type,
CRDs included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tamer_tui.core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""
    verbs: tuple[str, ...] = ("get", "list", "watch", "create", "update", "patch", "delete")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base

    @property
    def watchable(self) -> bool:
        return "watch" in self.verbs and "list" in self.verbs


def _r(group: str, version: str, plural: str, kind: str, namespaced: bool, *short: str) -> ResourceInfo:
    return ResourceInfo(group, version, plural, kind, namespaced, tuple(short), kind.lower())


BUILTIN: tuple[ResourceInfo, ...] = (
    _r("", "v1", "pods", "Pod", True, "po", "pod"),
    _r("apps", "v1", "deployments", "Deployment", True, "deploy", "dp", "deployment"),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, "rs", "replicaset"),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, "sts", "statefulset"),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, "ds", "daemonset"),
    _r("batch", "v1", "jobs", "Job", True, "job"),
    _r("batch", "v1", "cronjobs", "CronJob", True, "cj", "cronjob"),
    _r("", "v1", "services", "Service", True, "svc", "service"),
    _r("networking.k8s.io", "v1", "ingresses", "Ingress", True, "ing", "ingress"),
    _r("", "v1", "configmaps", "ConfigMap", True, "cm", "configmap"),
    _r("", "v1", "secrets", "Secret", True, "sec", "secret"),
    _r("", "v1", "persistentvolumes", "PersistentVolume", False, "pv"),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "pvc"),
    _r("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, "sc"),
    _r("", "v1", "nodes", "Node", False, "no", "node"),
    _r("", "v1", "namespaces", "Namespace", False, "ns", "namespace"),
    _r("", "v1", "events", "Event", True, "ev", "event"),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, "sa", "serviceaccount"),
    _r("", "v1", "endpoints", "Endpoints", True, "ep"),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role", True, "role"),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, "rb", "rolebinding"),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, "cr", "clusterrole"),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False, "crb"),
    _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False, "crd", "crds"),
)

_BY_WORD: dict[str, ResourceInfo] = {}
for _info in BUILTIN:
    for _w in (_info.plural, _info.kind.lower(), *_info.short_names):
        _BY_WORD.setdefault(_w, _info)


def builtin(word: str) -> ResourceInfo | None:
    """``po``, ``pods``, ``Pod``, ``deploy`` ... -> the built-in resource, or None."""
    return _BY_WORD.get(word.lower())


def builtin_words() -> list[str]:
    return sorted(_BY_WORD)


def parse_group_resources(group_version: str, data: dict[str, Any]) -> list[ResourceInfo]:
    """One ``APIResourceList`` (``/api/v1`` or ``/apis/G/V``) to ResourceInfos (subresources skipped)."""
    group, _, version = group_version.rpartition("/")
    out = []
    for r in data.get("resources") or []:
        name = str(r.get("name", ""))
        if not name or "/" in name:
            continue
        out.append(ResourceInfo(
            group=group,
            version=version,
            plural=name,
            kind=str(r.get("kind", "")),
            namespaced=bool(r.get("namespaced")),
            short_names=tuple(r.get("shortNames") or ()),
            singular=str(r.get("singularName") or ""),
            verbs=tuple(r.get("verbs") or ()),
        ))
    return out


def preferred_group_versions(apis: dict[str, Any]) -> list[str]:
    """``/apis`` -> the preferred ``group/version`` of every group."""
    out = []
    for g in apis.get("groups") or []:
        pv = (g.get("preferredVersion") or {}).get("groupVersion")
        if pv:
            out.append(str(pv))
    return out


class ResourceCatalog:
    """Every resource type of one cluster, from discovery, with lookup by any name."""

    def __init__(self, infos: list[ResourceInfo] | None = None) -> None:
        self.infos: list[ResourceInfo] = list(infos or BUILTIN)
        self._index()

    def _index(self) -> None:
        self._by_word: dict[str, ResourceInfo] = {}
        # built-ins first so that 'events' means core/v1 events, 'ingresses' networking.k8s.io
        for info in (*BUILTIN, *self.infos):
            for w in (info.plural, info.kind.lower(), info.singular, *info.short_names,
                      f"{info.plural}.{info.group}" if info.group else info.plural):
                if w:
                    self._by_word.setdefault(w.lower(), info)

    def add(self, infos: list[ResourceInfo]) -> None:
        known = {(i.group, i.plural) for i in self.infos}
        self.infos.extend(i for i in infos if (i.group, i.plural) not in known)
        self._index()

    def lookup(self, word: str) -> ResourceInfo:
        info = self._by_word.get(word.lower())
        if info is None:
            raise InvalidInput(f"unknown resource {word!r} (try :crd or :api-resources)")
        return info

    def find(self, word: str) -> ResourceInfo | None:
        return self._by_word.get(word.lower())


async def discover(client: Any) -> ResourceCatalog:
    """Read ``/api/v1`` and every preferred group version (concurrently) into a catalog."""
    import asyncio

    core = json.loads(await client.get("/api/v1", what="discovery"))
    infos = parse_group_resources("v1", core)
    apis = json.loads(await client.get("/apis", what="discovery"))
    gvs = preferred_group_versions(apis)

    async def one(gv: str) -> list[ResourceInfo]:
        try:
            return parse_group_resources(gv, json.loads(await client.get(f"/apis/{gv}", what=f"discovery {gv}")))
        except Exception:  # noqa: BLE001 - one broken aggregated API must not break discovery
            return []

    for part in await asyncio.gather(*(one(gv) for gv in gvs)):
        infos.extend(part)
    return ResourceCatalog(infos)
