"""Resource type registry and API discovery documents.

``BUILTIN_TYPES`` lists every built-in type the simulator serves.  The functions below build the
documents of ``/version``, ``/api``, ``/api/v1``, ``/apis``, ``/apis/<group>/<version>`` and the
aggregated discovery (``apidiscovery.k8s.io/v2``) from whatever types the store has registered, so
custom resources appear as soon as their CRD is created.  Pure functions; no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from tamer_tui.sim.store import ResourceType

_ALL = ("all",)
_RO = ("get", "list", "watch")
_CRUD_NO_DC = ("create", "delete", "get", "list", "patch", "update", "watch")
_CREATE = ("create",)


def _t(
    group: str,
    version: str,
    kind: str,
    plural: str,
    namespaced: bool,
    short: tuple[str, ...] = (),
    cats: tuple[str, ...] = (),
    subs: tuple[str, ...] = (),
    verbs: tuple[str, ...] | None = None,
) -> ResourceType:
    if verbs is None:
        return ResourceType(group, version, kind, plural, namespaced, short, cats, subs)
    return ResourceType(group, version, kind, plural, namespaced, short, cats, subs, verbs=verbs)


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    # core/v1
    _t("", "v1", "Namespace", "namespaces", False, ("ns",), (), ("status", "finalize"), _CRUD_NO_DC),
    _t("", "v1", "Node", "nodes", False, ("no",), (), ("status", "proxy")),
    _t(
        "",
        "v1",
        "Pod",
        "pods",
        True,
        ("po",),
        _ALL,
        (
            "status",
            "log",
            "exec",
            "attach",
            "portforward",
            "binding",
            "eviction",
            "ephemeralcontainers",
            "proxy",
        ),
    ),
    _t("", "v1", "Service", "services", True, ("svc",), _ALL, ("status", "proxy")),
    _t("", "v1", "Endpoints", "endpoints", True, ("ep",)),
    _t("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    _t("", "v1", "Secret", "secrets", True),
    _t("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), (), ("token",)),
    _t("", "v1", "Event", "events", True, ("ev",)),
    _t("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), (), ("status",)),
    _t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), (), ("status",)),
    _t("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), (), ("status",)),
    _t("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    _t("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",), _ALL, ("status", "scale")),
    # apps/v1
    _t("apps", "v1", "Deployment", "deployments", True, ("deploy",), _ALL, ("status", "scale")),
    _t("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), _ALL, ("status", "scale")),
    _t("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), _ALL, ("status", "scale")),
    _t("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), _ALL, ("status",)),
    _t("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    # batch/v1
    _t("batch", "v1", "Job", "jobs", True, (), _ALL, ("status",)),
    _t("batch", "v1", "CronJob", "cronjobs", True, ("cj",), _ALL, ("status",)),
    # autoscaling/v2
    _t(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        ("hpa",),
        _ALL,
        ("status",),
    ),
    # policy/v1
    _t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), (), ("status",)),
    # networking.k8s.io/v1
    _t("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), (), ("status",)),
    _t("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
    _t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    # discovery.k8s.io/v1
    _t("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    # storage.k8s.io/v1
    _t("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    # rbac.authorization.k8s.io/v1
    _t("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    # apiextensions.k8s.io/v1
    _t(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        ("crd", "crds"),
        (),
        ("status",),
    ),
    # coordination.k8s.io/v1
    _t("coordination.k8s.io", "v1", "Lease", "leases", True),
    # events.k8s.io/v1
    _t("events.k8s.io", "v1", "Event", "events", True, ("ev",)),
    # scheduling.k8s.io/v1
    _t("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ("pc",)),
    # authorization.k8s.io/v1 (answered by the server, never stored)
    _t(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=_CREATE,
    ),
    _t(
        "authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", True, verbs=_CREATE
    ),
    _t("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, verbs=_CREATE),
    # authentication.k8s.io/v1
    _t("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False, verbs=_CREATE),
)

#: Types served by the behaviour routes (metrics), listed in discovery but never stored.
METRICS_TYPES: tuple[ResourceType, ...] = (
    _t("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=_RO),
    _t("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=_RO),
)

#: Groups served without storage (their POSTs are answered by the server itself).
VIRTUAL_GROUPS = frozenset({"authorization.k8s.io", "authentication.k8s.io"})

#: Preferred-version order of the built-in groups (what ``/apis`` lists first).
_GROUP_ORDER = (
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "metrics.k8s.io",
)


# --------------------------------------------------------------------------- subresources

_SUB_INFO: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    # subresource -> (group, version, kind (None = the parent's kind), verbs)
    "status": ("", "", None, ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "log": ("", "v1", "Pod", ("get",)),
    "exec": ("", "v1", "PodExecOptions", ("create", "get")),
    "attach": ("", "v1", "PodAttachOptions", ("create", "get")),
    "portforward": ("", "v1", "PodPortForwardOptions", ("create", "get")),
    "binding": ("", "v1", "Binding", ("create",)),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "ephemeralcontainers": ("", "v1", "Pod", ("get", "patch", "update")),
    "proxy": ("", "v1", "", ("create", "delete", "get", "patch", "update")),
    "token": ("authentication.k8s.io", "v1", "TokenRequest", ("create",)),
    "finalize": ("", "v1", "Namespace", ("update",)),
}


def subresource_info(rtype: ResourceType, sub: str) -> tuple[str, str, str, tuple[str, ...]]:
    """``(group, version, kind, verbs)`` of a subresource as discovery reports it."""
    group, version, kind, verbs = _SUB_INFO.get(sub, ("", "", None, ("get",)))
    if kind is None:
        return rtype.group, rtype.version, rtype.kind, verbs
    if sub == "proxy":
        kind = {
            "pods": "PodProxyOptions",
            "nodes": "NodeProxyOptions",
            "services": "ServiceProxyOptions",
        }.get(rtype.plural, "ProxyOptions")
    return group, version, kind, verbs


# --------------------------------------------------------------------------- version ordering

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes priority order (v2 > v1 > v1beta2 > v1alpha1 > other)."""
    m = _KUBE_VERSION.match(version)
    if not m:
        return (3, 0, 0, version)
    major = int(m.group(1))
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, version)


def _group_versions(types: list[ResourceType]) -> dict[str, list[str]]:
    """group -> versions (priority order), groups in the built-in order then alphabetical."""
    groups: dict[str, set[str]] = {}
    for t in types:
        groups.setdefault(t.group, set()).add(t.version)
    order = {g: i for i, g in enumerate(_GROUP_ORDER)}
    names = sorted(groups, key=lambda g: (order.get(g, len(order)), g))
    return {g: sorted(groups[g], key=version_priority) for g in names}


# --------------------------------------------------------------------------- legacy discovery


def version_info(git_version: str) -> dict[str, Any]:
    """The ``/version`` document."""
    import platform as _platform

    m = re.match(r"^v(\d+)\.(\d+)", git_version)
    major, minor = (m.group(1), m.group(2)) if m else ("1", "31")
    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}.get(machine, machine)
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
        "gitTreeState": "clean",
        "buildDate": "2024-12-10T18:39:05Z",
        "goVersion": "go1.22.9",
        "compiler": "gc",
        "platform": f"linux/{arch}",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """The ``/api`` document (``APIVersions``)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_entry(group: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(types: list[ResourceType]) -> dict[str, Any]:
    """The ``/apis`` document (``APIGroupList``) for every named group."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(g, vs) for g, vs in _group_versions(types).items() if g],
    }


def api_group(group: str, types: list[ResourceType]) -> dict[str, Any] | None:
    """The ``/apis/<group>`` document (``APIGroup``), or ``None`` if the group is not served."""
    versions = _group_versions(types).get(group)
    if not group or not versions:
        return None
    out = _group_entry(group, versions)
    return {"kind": "APIGroup", "apiVersion": "v1", **out}


def _api_resource(t: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": t.plural,
        "singularName": t.singular,
        "namespaced": t.namespaced,
        "kind": t.kind,
        "verbs": list(t.verbs),
    }
    if t.short_names:
        main["shortNames"] = list(t.short_names)
    if t.categories:
        main["categories"] = list(t.categories)
    out = [main]
    for sub in t.subresources:
        group, version, kind, verbs = subresource_info(t, sub)
        entry: dict[str, Any] = {"name": f"{t.plural}/{sub}", "singularName": "", "namespaced": t.namespaced}
        if (group, version) != (t.group, t.version):
            entry["group"] = group
            entry["version"] = version
        entry["kind"] = kind
        entry["verbs"] = list(verbs)
        out.append(entry)
    return out


def resource_list(group: str, version: str, types: list[ResourceType]) -> dict[str, Any] | None:
    """The ``/api/v1`` or ``/apis/<group>/<version>`` document (``APIResourceList``)."""
    chosen = [t for t in types if t.group == group and t.version == version]
    if not chosen:
        return None
    resources: list[dict[str, Any]] = []
    for t in sorted(chosen, key=lambda t: t.plural):
        resources.extend(_api_resource(t))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


# --------------------------------------------------------------------------- aggregated discovery

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"


def _discovery_resource(t: ResourceType) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": t.plural,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": "Namespaced" if t.namespaced else "Cluster",
        "singularResource": t.singular,
        "verbs": list(t.verbs),
    }
    if t.short_names:
        out["shortNames"] = list(t.short_names)
    if t.categories:
        out["categories"] = list(t.categories)
    subs = []
    for sub in t.subresources:
        group, version, kind, verbs = subresource_info(t, sub)
        subs.append(
            {
                "subresource": sub,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": list(verbs),
            }
        )
    if subs:
        out["subresources"] = subs
    return out


def aggregated_discovery(types: list[ResourceType], *, core: bool, version: str = "v2") -> dict[str, Any]:
    """``APIGroupDiscoveryList`` for ``/api`` (``core=True``) or ``/apis``."""
    items: list[dict[str, Any]] = []
    for group, versions in _group_versions(types).items():
        if core != (group == ""):
            continue
        vers = []
        for v in versions:
            chosen = sorted((t for t in types if t.group == group and t.version == v), key=lambda t: t.plural)
            vers.append(
                {"version": v, "resources": [_discovery_resource(t) for t in chosen], "freshness": "Current"}
            )
        meta: dict[str, Any] = {"creationTimestamp": None}
        if group:
            meta["name"] = group
        items.append({"metadata": meta, "versions": vers})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


# --------------------------------------------------------------------------- CRDs


def crd_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    kind = names.get("kind") or ""
    if not group or not plural or not kind:
        return []
    out: list[ResourceType] = []
    for v in spec.get("versions") or []:
        if not v.get("served", True) or not v.get("name"):
            continue
        subs_cfg = v.get("subresources") or {}
        subs = tuple(s for s in ("status", "scale") if s in subs_cfg)
        out.append(
            ResourceType(
                group=group,
                version=v["name"],
                kind=kind,
                plural=plural,
                namespaced=(spec.get("scope") or "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=subs,
                list_kind=names.get("listKind") or kind + "List",
                singular=names.get("singular") or kind.lower(),
            )
        )
    return out


def crd_problems(crd: dict[str, Any]) -> list[dict[str, str]]:
    """Validation causes for a CRD (empty when it is acceptable)."""
    causes: list[dict[str, str]] = []
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    plural = names.get("plural") or ""

    def need(field: str, value: Any) -> None:
        if not value:
            causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": field})

    need("spec.group", group)
    need("spec.names.plural", plural)
    need("spec.names.kind", names.get("kind"))
    need("spec.versions", spec.get("versions"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "message": f'Unsupported value: "{spec.get("scope") or ""}": supported values: "Cluster", "Namespaced"',
                "field": "spec.scope",
            }
        )
    name = (crd.get("metadata") or {}).get("name") or ""
    if group and plural and name != f"{plural}.{group}":
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                "field": "metadata.name",
            }
        )
    versions = spec.get("versions") or []
    if versions and sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "message": "Invalid value: must have exactly one version marked as storage version",
                "field": "spec.versions",
            }
        )
    return causes


def crd_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """The status the apiextensions server gives an accepted CRD."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", (names.get("kind") or "").lower())
    names.setdefault("listKind", (names.get("kind") or "") + "List")
    conds = [
        {
            "type": "NamesAccepted",
            "status": "True",
            "lastTransitionTime": now,
            "reason": "NoConflicts",
            "message": "no conflicts found",
        },
        {
            "type": "Established",
            "status": "True",
            "lastTransitionTime": now,
            "reason": "InitialNamesAccepted",
            "message": "the initial names have been accepted",
        },
    ]
    old = (crd.get("status") or {}).get("conditions") or []
    if old:
        by_type = {c.get("type"): c for c in old}
        conds = [
            by_type.get(c["type"], c) if by_type.get(c["type"], {}).get("status") == "True" else c
            for c in conds
        ]
    return {
        "conditions": conds,
        "acceptedNames": names,
        "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
    }
