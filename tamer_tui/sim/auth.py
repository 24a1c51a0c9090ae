"""Authentication and authorization of simulator requests.

Bearer tokens identify two users: ``admin`` (may do anything) and ``restricted`` (may only
``get``/``list``/``watch`` in namespace ``default``, plus the self-review APIs every user has).  The
request attributes are derived from the URL the way the real API server's RequestInfoFactory does,
and the 401/403 Status objects are shaped like the real ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tamer_tui.sim.store import ApiError

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_READ_VERBS = frozenset({"get", "list", "watch"})
#: Subresources whose websocket GET is authorized as ``create`` (as Kubernetes >= 1.30 does).
_CREATE_ON_GET = frozenset({"exec", "attach", "portforward"})
#: Everyone may ask about themselves.
_SELF_REVIEWS = frozenset(
    {
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    }
)
#: Paths that answer without a token (health probes).
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz"})


@dataclass(frozen=True)
class RequestInfo:
    """What a request addresses, as the real API server's RequestInfo."""

    path: str
    verb: str
    resource_request: bool = False
    api_prefix: str = ""
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    name: str = ""
    subresource: str = ""
    watch_path: bool = False
    extra_parts: tuple[str, ...] = ()


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """Parse the URL into request attributes (verb, group, version, namespace, resource, ...)."""
    method = method.upper()
    verb = {
        "GET": "get",
        "HEAD": "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }.get(method, method.lower())
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(path=path, verb=verb)
    prefix = parts[0]
    rest = parts[1:]
    if prefix == "api":
        if not rest:
            return RequestInfo(path=path, verb=verb)
        group, version, rest = "", rest[0], rest[1:]
    else:
        if len(rest) < 2:
            return RequestInfo(path=path, verb=verb)
        group, version, rest = rest[0], rest[1], rest[2:]
    if not rest:
        return RequestInfo(path=path, verb=verb, api_prefix=prefix, group=group, version=version)
    watch_path = False
    if rest[0] == "watch":
        watch_path = True
        rest = rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    extra = tuple(rest[3:])
    if resource == "namespaces" and name:
        # /api/v1/namespaces/<name>[/status]: the namespace object itself
        namespace = name
    if watch_path or (verb == "get" and not name and _truthy(query.get("watch"))):
        verb = "watch"
    elif verb == "get" and not name:
        verb = "list"
    elif verb == "delete" and not name:
        verb = "deletecollection"
    if subresource in _CREATE_ON_GET and verb == "get":
        verb = "create"
    return RequestInfo(
        path=path,
        verb=verb,
        resource_request=True,
        api_prefix=prefix,
        group=group,
        version=version,
        namespace=namespace,
        resource=resource,
        name=name,
        subresource=subresource,
        watch_path=watch_path,
        extra_parts=extra,
    )


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token from an ``Authorization: Bearer ...`` header (empty if none)."""
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return token.strip()


def unauthorized() -> ApiError:
    """The 401 the real API server answers for a missing or bad token."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def is_allowed(
    user: str,
    admin_user: str,
    *,
    verb: str,
    group: str,
    resource: str,
    namespace: str,
    resource_request: bool = True,
) -> bool:
    """Whether ``user`` may perform ``verb`` on ``group/resource`` in ``namespace``."""
    if user == admin_user:
        return True
    if not resource_request:
        return verb in ("get", "head")
    if (group, resource.split("/")[0]) in _SELF_REVIEWS and verb == "create":
        return True
    return verb in _READ_VERBS and namespace == "default"


def forbidden(user: str, info: RequestInfo) -> ApiError:
    """The 403 Status for a denied request, worded like the real one."""
    resource = info.resource + (f"/{info.subresource}" if info.subresource else "")
    if not info.resource_request:
        return ApiError(
            403,
            "Forbidden",
            f'forbidden: User "{user}" cannot {info.verb} path "{info.path}"',
            {},
        )
    group_resource = f"{info.resource}.{info.group}" if info.group else info.resource
    subject = f'{group_resource} "{info.name}"' if info.name else group_resource
    where = f'in the namespace "{info.namespace}"' if info.namespace else "at the cluster scope"
    details: dict[str, Any] = {}
    if info.name:
        details["name"] = info.name
    if info.group:
        details["group"] = info.group
    details["kind"] = info.resource
    return ApiError(
        403,
        "Forbidden",
        f'{subject} is forbidden: User "{user}" cannot {info.verb} resource "{resource}" '
        f'in API group "{info.group}" {where}',
        details,
    )


def groups_of(user: str, admin_user: str) -> list[str]:
    """The groups the user belongs to (as SelfSubjectReview reports them)."""
    if user == admin_user:
        return ["system:masters", "system:authenticated"]
    return ["system:authenticated"]


def access_review(user: str, admin_user: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The ``status`` of a SelfSubjectAccessReview for ``spec``."""
    ra = spec.get("resourceAttributes")
    if isinstance(ra, dict):
        resource = ra.get("resource") or ""
        if ra.get("subresource"):
            resource += "/" + ra["subresource"]
        allowed = is_allowed(
            user,
            admin_user,
            verb=ra.get("verb") or "",
            group=ra.get("group") or "",
            resource=resource,
            namespace=ra.get("namespace") or "",
        )
    else:
        nra = spec.get("nonResourceAttributes") or {}
        allowed = is_allowed(
            user,
            admin_user,
            verb=nra.get("verb") or "",
            group="",
            resource="",
            namespace="",
            resource_request=False,
        )
    status: dict[str, Any] = {"allowed": allowed}
    if allowed and user == admin_user or not allowed:
        status["reason"] = ""
    return status


def rules_review(user: str, admin_user: str, namespace: str) -> dict[str, Any]:
    """The ``status`` of a SelfSubjectRulesReview in ``namespace``."""
    self_rules = [
        {
            "verbs": ["create"],
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        },
        {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]},
    ]
    nonres = [
        {
            "verbs": ["get"],
            "nonResourceURLs": [
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ],
        }
    ]
    if user == admin_user:
        return {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, *self_rules],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}, *nonres],
            "incomplete": False,
        }
    rules = list(self_rules)
    if namespace == "default":
        rules.insert(0, {"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]})
    return {"resourceRules": rules, "nonResourceRules": nonres, "incomplete": False}
