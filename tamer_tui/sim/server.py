"""The simulator's HTTP API server (aiohttp, one asyncio loop, TLS, bearer tokens).

Serves discovery, OpenAPI, and CRUD/list/watch for every type registered in the store, with the
status codes, ``Status`` objects, content negotiation (``as=Table``, ``as=PartialObjectMetadata``,
aggregated discovery) and query parameters (selectors, ``limit``/``continue``, ``dryRun``,
``fieldValidation``, ``fieldManager``, ``force``, ``propagationPolicy``...) real clients use.
The behaviour layer (``tamer_tui.sim.behaviour``: seeding, controllers, logs, exec, port-forward,
metrics) is loaded lazily; the server runs without it.

:func:`start_in_thread` runs a whole simulator in a daemon thread for tests and ``tamer demo``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import gc
import importlib
import ipaddress
import json
import logging
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import msgspec
import yaml
from aiohttp import web

from tamer_tui.sim import auth, discovery, selectors, tables, tls
from tamer_tui.sim.cluster import Cluster, SimOptions
from tamer_tui.sim.kubeconfig import write_kubeconfig
from tamer_tui.sim.store import ApiError, ResourceType, WatchEvent, now_rfc3339

log = logging.getLogger(__name__)

_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder()
JSON = "application/json"
TABLE_CT = "application/json;as=Table;v=v1;g=meta.k8s.io"
POM_CT = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+cbor",
)
#: How many undelivered events a watcher may have before it is closed (the client re-lists).
WATCH_QUEUE_LIMIT = 20_000
BOOKMARK_INTERVAL = 5.0
T = TypeVar("T")
_RequestKey: Any = getattr(web, "RequestKey", None)
_USER_KEY: Any = _RequestKey("tamer_sim_user", str) if _RequestKey else "tamer_sim_user"
_INFO_KEY: Any = _RequestKey("tamer_sim_info", auth.RequestInfo) if _RequestKey else "tamer_sim_info"


def _dumps(obj: Any) -> bytes:
    return _ENC.encode(obj)


def json_response(
    obj: Any, status: int = 200, content_type: str = JSON, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response encoded with msgspec."""
    body = obj if isinstance(obj, bytes) else _dumps(obj)
    resp = web.Response(body=body, status=status, headers=headers)
    resp.headers["Content-Type"] = content_type
    return resp


def status_response(err: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    """The ``Status`` response of an error."""
    return json_response(err.status(), status=err.code, headers=headers)


def success_status(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The ``Status`` a successful delete answers with."""
    meta = obj.get("metadata") or {}
    details: dict[str, Any] = {"name": meta.get("name", "")}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    if meta.get("uid"):
        details["uid"] = meta["uid"]
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------- content negotiation


@dataclass(frozen=True)
class MediaType:
    """One entry of an Accept header."""

    type: str
    params: dict[str, str]


def parse_accept(header: str | None) -> list[MediaType]:
    """The Accept header's media types in the order given."""
    out: list[MediaType] = []
    for raw in (header or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        typ, *params = [p.strip() for p in raw.split(";")]
        pd: dict[str, str] = {}
        for p in params:
            k, _, v = p.partition("=")
            pd[k.strip().lower()] = v.strip()
        out.append(MediaType(typ.lower(), pd))
    return out


def wanted_format(header: str | None) -> str:
    """``table``, ``pom`` (PartialObjectMetadata[List]), ``json``, or ``protobuf`` (protobuf only)."""
    types = parse_accept(header)
    if not types:
        return "json"
    for mt in types:
        as_ = mt.params.get("as", "")
        if mt.type in ("application/json", "*/*", "application/*") or mt.type.endswith("+json"):
            if as_ == "Table" and mt.params.get("g") == "meta.k8s.io":
                return "table"
            if (
                as_ in ("PartialObjectMetadata", "PartialObjectMetadataList")
                and mt.params.get("g") == "meta.k8s.io"
            ):
                return "pom"
            if not as_:
                return "json"
        elif mt.type == "application/yaml" and not as_:
            return "json"
    if all(
        mt.type.startswith("application/vnd.kubernetes.protobuf") or "protobuf" in mt.type for mt in types
    ):
        return "protobuf"
    return "json"


def wants_aggregated(header: str | None) -> str | None:
    """The aggregated discovery version asked for (``v2``/``v2beta1``) or ``None``."""
    for mt in parse_accept(header):
        if mt.params.get("as") == "APIGroupDiscoveryList" and mt.params.get("g") == "apidiscovery.k8s.io":
            v = mt.params.get("v", "")
            if v in ("v2", "v2beta1"):
                return v
        elif mt.type in ("application/json", "*/*") and not mt.params.get("as"):
            return None
    return None


# --------------------------------------------------------------------------- protobuf bodies
# Typed client-go clients (helm's release storage, for one) send request bodies as Kubernetes
# protobuf ("k8s\0" + runtime.Unknown).  The few kinds such clients write are decoded here; the
# responses are always JSON (those clients accept it).

_PB_MAGIC = b"k8s\x00"
# field number -> (json name, kind); kind: "s" string, "b" bytes (base64), "i" int, "bool",
# "time", "raw" (JSON bytes), "map:s" / "map:b" (string or bytes values), "msg:<Name>", "rep:<kind>"
_META = ("metadata", "msg:ObjectMeta")
_PB_TYPES: dict[str, dict[int, tuple[str, str]]] = {
    # --- meta/v1, runtime, intstr, resource
    "ObjectMeta": {
        1: ("name", "s"),
        2: ("generateName", "s"),
        3: ("namespace", "s"),
        4: ("selfLink", "s"),
        5: ("uid", "s"),
        6: ("resourceVersion", "s"),
        7: ("generation", "i0"),
        8: ("creationTimestamp", "time"),
        9: ("deletionTimestamp", "time"),
        10: ("deletionGracePeriodSeconds", "i"),
        11: ("labels", "map:s"),
        12: ("annotations", "map:s"),
        13: ("ownerReferences", "rep:msg:OwnerReference"),
        14: ("finalizers", "rep:s"),
        17: ("managedFields", "rep:msg:ManagedFieldsEntry"),
    },
    "OwnerReference": {
        1: ("kind", "s"),
        3: ("name", "s"),
        4: ("uid", "s"),
        5: ("apiVersion", "s"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "ManagedFieldsEntry": {
        1: ("manager", "s"),
        2: ("operation", "s"),
        3: ("apiVersion", "s"),
        4: ("time", "time"),
        6: ("fieldsType", "s"),
        7: ("fieldsV1", "msg:FieldsV1"),
        8: ("subresource", "s"),
    },
    "FieldsV1": {1: ("Raw", "raw")},
    "LabelSelector": {
        1: ("matchLabels", "map:s"),
        2: ("matchExpressions", "rep:msg:LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {1: ("key", "s"), 2: ("operator", "s"), 3: ("values", "rep:s")},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "i"),
        2: ("preconditions", "msg:Preconditions"),
        3: ("orphanDependents", "bool"),
        4: ("propagationPolicy", "s"),
        5: ("dryRun", "rep:s"),
    },
    "Preconditions": {1: ("uid", "s"), 2: ("resourceVersion", "s")},
    "Time": {1: ("seconds", "i"), 2: ("nanos", "i")},
    "TypeMeta": {1: ("apiVersion", "s"), 2: ("kind", "s")},
    "Unknown": {
        1: ("typeMeta", "msg:TypeMeta"),
        2: ("raw", "rawbytes"),
        3: ("contentEncoding", "s"),
        4: ("contentType", "s"),
    },
    # --- core/v1
    "Namespace": {1: _META, 2: ("spec", "msg:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "rep:s")},
    "ConfigMap": {1: _META, 2: ("data", "map:s"), 3: ("binaryData", "map:b"), 4: ("immutable", "bool")},
    "Secret": {
        1: _META,
        2: ("data", "map:b"),
        3: ("type", "s"),
        4: ("stringData", "map:s"),
        5: ("immutable", "bool"),
    },
    "ServiceAccount": {
        1: _META,
        2: ("secrets", "rep:msg:ObjectReference"),
        3: ("imagePullSecrets", "rep:msg:LocalObjectReference"),
        4: ("automountServiceAccountToken", "bool"),
    },
    "ObjectReference": {
        1: ("kind", "s"),
        2: ("namespace", "s"),
        3: ("name", "s"),
        4: ("uid", "s"),
        5: ("apiVersion", "s"),
        6: ("resourceVersion", "s"),
        7: ("fieldPath", "s"),
    },
    "LocalObjectReference": {1: ("name", "s")},
    "Service": {1: _META, 2: ("spec", "msg:ServiceSpec")},
    "ServiceSpec": {
        1: ("ports", "rep:msg:ServicePort"),
        2: ("selector", "map:s"),
        3: ("clusterIP", "s"),
        4: ("type", "s"),
        5: ("externalIPs", "rep:s"),
        7: ("sessionAffinity", "s"),
        8: ("loadBalancerIP", "s"),
        9: ("loadBalancerSourceRanges", "rep:s"),
        10: ("externalName", "s"),
        11: ("externalTrafficPolicy", "s"),
        13: ("publishNotReadyAddresses", "b0"),
    },
    "ServicePort": {
        1: ("name", "s"),
        2: ("protocol", "s"),
        3: ("port", "i"),
        4: ("targetPort", "intstr"),
        5: ("nodePort", "i0"),
        6: ("appProtocol", "s"),
    },
    "ResourceQuota": {1: _META, 2: ("spec", "msg:ResourceQuotaSpec")},
    "ResourceQuotaSpec": {1: ("hard", "map:q"), 2: ("scopes", "rep:s")},
    "Pod": {1: _META, 2: ("spec", "msg:PodSpec")},
    "PodTemplateSpec": {1: _META, 2: ("spec", "msg:PodSpec")},
    "PodSpec": {
        2: ("containers", "rep:msg:Container"),
        3: ("restartPolicy", "s"),
        4: ("terminationGracePeriodSeconds", "i"),
        5: ("activeDeadlineSeconds", "i"),
        6: ("dnsPolicy", "s"),
        7: ("nodeSelector", "map:s"),
        8: ("serviceAccountName", "s"),
        9: ("serviceAccount", "s"),
        10: ("nodeName", "s"),
        11: ("hostNetwork", "b0"),
        12: ("hostPID", "b0"),
        13: ("hostIPC", "b0"),
        15: ("imagePullSecrets", "rep:msg:LocalObjectReference"),
        16: ("hostname", "s"),
        17: ("subdomain", "s"),
        19: ("schedulerName", "s"),
        20: ("initContainers", "rep:msg:Container"),
        21: ("automountServiceAccountToken", "bool"),
        24: ("priorityClassName", "s"),
        25: ("priority", "i"),
        30: ("enableServiceLinks", "bool"),
    },
    "Container": {
        1: ("name", "s"),
        2: ("image", "s"),
        3: ("command", "rep:s"),
        4: ("args", "rep:s"),
        5: ("workingDir", "s"),
        6: ("ports", "rep:msg:ContainerPort"),
        7: ("env", "rep:msg:EnvVar"),
        8: ("resources", "msg:ResourceRequirements"),
        9: ("volumeMounts", "rep:msg:VolumeMount"),
        13: ("terminationMessagePath", "s"),
        14: ("imagePullPolicy", "s"),
        16: ("stdin", "b0"),
        17: ("stdinOnce", "b0"),
        18: ("tty", "b0"),
        20: ("terminationMessagePolicy", "s"),
    },
    "ContainerPort": {
        1: ("name", "s"),
        2: ("hostPort", "i0"),
        3: ("containerPort", "i"),
        4: ("protocol", "s"),
        5: ("hostIP", "s"),
    },
    "EnvVar": {1: ("name", "s"), 2: ("value", "s")},
    "ResourceRequirements": {1: ("limits", "map:q"), 2: ("requests", "map:q")},
    "VolumeMount": {1: ("name", "s"), 2: ("readOnly", "b0"), 3: ("mountPath", "s"), 4: ("subPath", "s")},
    "Binding": {1: _META, 2: ("target", "msg:ObjectReference")},
    # --- apps/v1, batch/v1, autoscaling/v1
    "Deployment": {1: _META, 2: ("spec", "msg:DeploymentSpec")},
    "DeploymentSpec": {
        1: ("replicas", "i"),
        2: ("selector", "msg:LabelSelector"),
        3: ("template", "msg:PodTemplateSpec"),
        4: ("strategy", "msg:DeploymentStrategy"),
        5: ("minReadySeconds", "i0"),
        6: ("revisionHistoryLimit", "i"),
        7: ("paused", "b0"),
        9: ("progressDeadlineSeconds", "i"),
    },
    "DeploymentStrategy": {1: ("type", "s")},
    "Job": {1: _META, 2: ("spec", "msg:JobSpec")},
    "JobSpec": {
        1: ("parallelism", "i"),
        2: ("completions", "i"),
        3: ("activeDeadlineSeconds", "i"),
        4: ("selector", "msg:LabelSelector"),
        5: ("manualSelector", "bool"),
        6: ("template", "msg:PodTemplateSpec"),
        7: ("backoffLimit", "i"),
        8: ("ttlSecondsAfterFinished", "i"),
        9: ("completionMode", "s"),
        10: ("suspend", "bool"),
    },
    "CronJob": {1: _META, 2: ("spec", "msg:CronJobSpec")},
    "CronJobSpec": {
        1: ("schedule", "s"),
        2: ("startingDeadlineSeconds", "i"),
        3: ("concurrencyPolicy", "s"),
        4: ("suspend", "bool"),
        5: ("jobTemplate", "msg:JobTemplateSpec"),
        6: ("successfulJobsHistoryLimit", "i"),
        7: ("failedJobsHistoryLimit", "i"),
        8: ("timeZone", "s"),
    },
    "JobTemplateSpec": {1: _META, 2: ("spec", "msg:JobSpec")},
    "Scale": {1: _META, 2: ("spec", "msg:ScaleSpec")},
    "ScaleSpec": {1: ("replicas", "i")},
    # --- rbac/v1
    "Role": {1: _META, 2: ("rules", "rep:msg:PolicyRule")},
    "ClusterRole": {
        1: _META,
        2: ("rules", "rep:msg:PolicyRule"),
        3: ("aggregationRule", "msg:AggregationRule"),
    },
    "AggregationRule": {1: ("clusterRoleSelectors", "rep:msg:LabelSelector")},
    "PolicyRule": {
        1: ("verbs", "rep:s"),
        2: ("apiGroups", "rep:s"),
        3: ("resources", "rep:s"),
        4: ("resourceNames", "rep:s"),
        5: ("nonResourceURLs", "rep:s"),
    },
    "RoleBinding": {1: _META, 2: ("subjects", "rep:msg:Subject"), 3: ("roleRef", "msg:RoleRef")},
    "ClusterRoleBinding": {1: _META, 2: ("subjects", "rep:msg:Subject"), 3: ("roleRef", "msg:RoleRef")},
    "Subject": {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")},
    "RoleRef": {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")},
    # --- networking/v1, policy/v1, scheduling/v1
    "Ingress": {1: _META, 2: ("spec", "msg:IngressSpec")},
    "IngressSpec": {
        1: ("defaultBackend", "msg:IngressBackend"),
        2: ("tls", "rep:msg:IngressTLS"),
        3: ("rules", "rep:msg:IngressRule"),
        4: ("ingressClassName", "s"),
    },
    "IngressBackend": {4: ("service", "msg:IngressServiceBackend")},
    "IngressServiceBackend": {1: ("name", "s"), 2: ("port", "msg:ServiceBackendPort")},
    "ServiceBackendPort": {1: ("name", "s"), 2: ("number", "i")},
    "IngressTLS": {1: ("hosts", "rep:s"), 2: ("secretName", "s")},
    "IngressRule": {1: ("host", "s"), 2: ("", "inline:IngressRuleValue")},
    "IngressRuleValue": {1: ("http", "msg:HTTPIngressRuleValue")},
    "HTTPIngressRuleValue": {1: ("paths", "rep:msg:HTTPIngressPath")},
    "HTTPIngressPath": {1: ("path", "s"), 2: ("backend", "msg:IngressBackend"), 3: ("pathType", "s")},
    "PodDisruptionBudget": {1: _META, 2: ("spec", "msg:PodDisruptionBudgetSpec")},
    "PodDisruptionBudgetSpec": {
        1: ("minAvailable", "intstr"),
        2: ("selector", "msg:LabelSelector"),
        3: ("maxUnavailable", "intstr"),
        4: ("unhealthyPodEvictionPolicy", "s"),
    },
    "Eviction": {1: _META, 2: ("deleteOptions", "msg:DeleteOptions")},
    "PriorityClass": {
        1: _META,
        2: ("value", "i"),
        3: ("globalDefault", "b0"),
        4: ("description", "s"),
        5: ("preemptionPolicy", "s"),
    },
    # --- authorization/v1, authentication/v1
    "SelfSubjectAccessReview": {1: _META, 2: ("spec", "msg:SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "msg:ResourceAttributes"),
        2: ("nonResourceAttributes", "msg:NonResourceAttributes"),
    },
    "ResourceAttributes": {
        1: ("namespace", "s"),
        2: ("verb", "s"),
        3: ("group", "s"),
        4: ("version", "s"),
        5: ("resource", "s"),
        6: ("subresource", "s"),
        7: ("name", "s"),
    },
    "NonResourceAttributes": {1: ("path", "s"), 2: ("verb", "s")},
    "SelfSubjectRulesReview": {1: _META, 2: ("spec", "msg:SelfSubjectRulesReviewSpec")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "s")},
    "SelfSubjectReview": {1: _META},
    "TokenRequest": {1: _META, 2: ("spec", "msg:TokenRequestSpec")},
    "TokenRequestSpec": {
        1: ("audiences", "rep:s"),
        3: ("boundObjectRef", "msg:BoundObjectReference"),
        4: ("expirationSeconds", "i"),
    },
    "BoundObjectReference": {1: ("kind", "s"), 2: ("apiVersion", "s"), 3: ("name", "s"), 4: ("uid", "s")},
}
#: Kinds accepted as protobuf request bodies (the messages above that are whole objects).
_PB_ROOTS = frozenset(
    {
        "Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "ResourceQuota", "Pod", "Binding",
        "Deployment", "Job", "CronJob", "Scale", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
        "Ingress", "PodDisruptionBudget", "Eviction", "PriorityClass", "SelfSubjectAccessReview",
        "SelfSubjectRulesReview", "SelfSubjectReview", "TokenRequest", "DeleteOptions",
    }
)  # fmt: skip


def _pb_fields(buf: bytes) -> Iterable[tuple[int, int, Any]]:
    """(field number, wire type, value) of every field of a protobuf message."""
    i, n = 0, len(buf)

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            if i >= n:
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    while i < n:
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            yield num, wt, varint()
        elif wt == 1:
            yield num, wt, buf[i : i + 8]
            i += 8
        elif wt == 2:
            ln = varint()
            if i + ln > n:
                raise ValueError("truncated field")
            yield num, wt, buf[i : i + ln]
            i += ln
        elif wt == 5:
            yield num, wt, buf[i : i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")


def _pb_scalar(kind: str, value: Any) -> Any:
    if kind == "s":
        return bytes(value).decode("utf-8")
    if kind == "b":
        return base64.b64encode(bytes(value)).decode()
    if kind in ("i", "i0"):
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind in ("bool", "b0"):
        return bool(value)
    if kind == "raw":
        return _DEC.decode(bytes(value)) if value else {}
    if kind == "rawbytes":
        return bytes(value)
    if kind == "time":
        t = _pb_message("Time", bytes(value))
        if not t.get("seconds"):
            return None
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t["seconds"])))
    if kind == "q":  # resource.Quantity {1: string}
        for num, _wt, v in _pb_fields(bytes(value)):
            if num == 1:
                return bytes(v).decode("utf-8")
        return "0"
    if kind == "intstr":  # intstr.IntOrString {1: type, 2: intVal, 3: strVal}
        fields = {num: v for num, _wt, v in _pb_fields(bytes(value))}
        if fields.get(1, 0) == 1:
            return bytes(fields.get(3, b"")).decode("utf-8")
        iv = int(fields.get(2, 0))
        return iv - (1 << 64) if iv >= 1 << 63 else iv
    if kind.startswith("msg:"):
        return _pb_message(kind[4:], bytes(value))
    raise ValueError(f"unknown field kind {kind}")


def _pb_message(name: str, buf: bytes) -> dict[str, Any]:
    spec = _PB_TYPES[name]
    out: dict[str, Any] = {}
    for num, _wt, value in _pb_fields(buf):
        entry = spec.get(num)
        if entry is None:
            continue
        field_name, kind = entry
        if kind.startswith("inline:"):
            out.update(_pb_message(kind[7:], bytes(value)))
        elif kind.startswith("map:"):
            k = v = None
            for mnum, _mwt, mval in _pb_fields(bytes(value)):
                if mnum == 1:
                    k = _pb_scalar("s", mval)
                elif mnum == 2:
                    v = _pb_scalar(kind[4:], mval)
            out.setdefault(field_name, {})[k or ""] = v if v is not None else ""
        elif kind.startswith("rep:"):
            out.setdefault(field_name, []).append(_pb_scalar(kind[4:], value))
        else:
            val = _pb_scalar(kind, value)
            # proto2 writes every non-pointer field; JSON (omitempty) would not carry zero values
            if (kind == "s" and val == "") or (kind == "i0" and val == 0) or (kind == "b0" and val is False):
                continue
            if kind == "time" and val is None:
                continue
            out[field_name] = val
    if name == "FieldsV1":
        return out.get("Raw", {})
    return out


def decode_protobuf(raw: bytes) -> dict[str, Any]:
    """Decode a Kubernetes protobuf body (``k8s\\0`` + runtime.Unknown) of a supported kind."""
    if raw[:4] != _PB_MAGIC:
        raise ValueError("missing the k8s protobuf magic number")
    unknown = _pb_message("Unknown", raw[4:])
    tm = unknown.get("typeMeta") or {}
    kind = tm.get("kind", "")
    if kind not in _PB_ROOTS:
        raise KeyError(kind)
    obj = _pb_message(kind, unknown.get("raw", b""))
    if kind != "DeleteOptions":
        return {"apiVersion": tm.get("apiVersion", ""), "kind": kind, **obj}
    return obj


# --------------------------------------------------------------------------- body decoding


def decode_body(raw: bytes, content_type: str) -> Any:
    """Decode a JSON, YAML or (for a few kinds) protobuf request body; ``ApiError`` 400/415 if invalid."""
    ct = content_type.split(";")[0].strip().lower()
    if ct == "application/vnd.kubernetes.protobuf" or raw[:4] == _PB_MAGIC:
        try:
            return decode_protobuf(raw)
        except KeyError:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml",
                {},
            ) from None
        except (ValueError, UnicodeDecodeError, msgspec.DecodeError) as exc:
            raise ApiError.bad_request(f"error decoding protobuf body: {exc}") from None
    if not raw.strip():
        raise ApiError.bad_request("the body of the request was empty")
    if ct.endswith("yaml"):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ApiError.bad_request(f"error decoding YAML: {exc}") from None
    try:
        return _DEC.decode(raw)
    except msgspec.DecodeError as exc:
        if ct in ("", "application/json") or ct.endswith("+json"):
            try:
                return yaml.safe_load(raw)
            except yaml.YAMLError:
                pass
        raise ApiError.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


# --------------------------------------------------------------------------- continue tokens


def encode_continue(rv: int, ns: str, name: str) -> str:
    """Opaque continue token for a paged list."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": [ns, name]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str, str]:
    """``(rv, namespace, name)`` of a continue token; ``ApiError`` 400 if it is not one of ours."""
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        ns, name = data["start"]
        return int(data["rv"]), str(ns), str(name)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ) from None


# --------------------------------------------------------------------------- defaults

_POD_TOLERATIONS = [
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
]


def _default_container(c: dict[str, Any]) -> None:
    image = c.get("image") or ""
    tag = image.rsplit("/", 1)[-1]
    if "imagePullPolicy" not in c:
        c["imagePullPolicy"] = (
            "Always" if ("@" not in tag and (":" not in tag or tag.endswith(":latest"))) else "IfNotPresent"
        )
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")


def default_pod_spec(spec: dict[str, Any], *, template: bool = False) -> None:
    """The PodSpec defaults the API server applies."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            _default_container(c)
    if not template:
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        if "tolerations" not in spec:
            spec["tolerations"] = copy.deepcopy(_POD_TOLERATIONS)


def _template_spec(obj: dict[str, Any], *path: str) -> dict[str, Any] | None:
    cur: Any = obj
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur if isinstance(cur, dict) else None


# --------------------------------------------------------------------------- watch fan-out


class _HubEvent:
    """A store event plus its lazily encoded JSON watch line (shared by every watcher)."""

    __slots__ = ("ev", "_line", "_store")

    def __init__(self, ev: WatchEvent, store: Any) -> None:
        self.ev = ev
        self._line: bytes | None = None
        self._store = store

    def obj_bytes(self) -> bytes:
        ev = self.ev
        if ev.type != "DELETED":
            return self._store.encoded(ev.rtype, ev.obj)
        return _dumps(ev.obj)

    def line(self) -> bytes:
        if self._line is None:
            self._line = b'{"type":"' + self.ev.type.encode() + b'","object":' + self.obj_bytes() + b"}\n"
        return self._line


class Watcher:
    """One watch stream's bounded queue (filled synchronously by the hub)."""

    __slots__ = ("key", "namespace", "queue", "overflow", "closed")

    def __init__(self, key: str, namespace: str) -> None:
        self.key = key
        self.namespace = namespace
        self.queue: asyncio.Queue[_HubEvent | None] = asyncio.Queue()
        self.overflow = False
        self.closed = False


class WatchHub:
    """Fans store events out to watchers; a watcher that falls too far behind is closed."""

    def __init__(self, store: Any, limit: int = WATCH_QUEUE_LIMIT) -> None:
        self.store = store
        self.limit = limit
        self._by_key: dict[str, set[Watcher]] = {}
        self._unsubscribe = store.subscribe(self._on_event)
        self.dropped = 0

    def _on_event(self, ev: WatchEvent) -> None:
        watchers = self._by_key.get(ev.rtype.key)
        if not watchers:
            return
        ns = (ev.obj.get("metadata") or {}).get("namespace", "")
        hev = _HubEvent(ev, self.store)
        for w in watchers:
            if w.overflow or (w.namespace and w.namespace != ns):
                continue
            if w.queue.qsize() >= self.limit:
                w.overflow = True
                self.dropped += 1
                w.queue.put_nowait(None)
                continue
            w.queue.put_nowait(hev)

    def add(self, key: str, namespace: str) -> Watcher:
        """Register a watcher for a type key (and namespace, ``""`` for all)."""
        w = Watcher(key, namespace)
        self._by_key.setdefault(key, set()).add(w)
        return w

    def remove(self, w: Watcher) -> None:
        """Unregister a watcher."""
        ws = self._by_key.get(w.key)
        if ws is not None:
            ws.discard(w)
            if not ws:
                del self._by_key[w.key]

    def close_all(self) -> None:
        """End every watch stream (server shutdown)."""
        for ws in list(self._by_key.values()):
            for w in ws:
                w.closed = True
                w.queue.put_nowait(None)

    def count(self) -> int:
        """Number of active watchers."""
        return sum(len(ws) for ws in self._by_key.values())

    def close(self) -> None:
        """Stop receiving store events."""
        self.close_all()
        self._unsubscribe()


# --------------------------------------------------------------------------- the server


def _load_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"tamer_tui.sim.{name}")
    except ImportError as exc:
        if exc.name == f"tamer_tui.sim.{name}":
            return None
        raise


class SimServer:
    """The aiohttp application serving one :class:`Cluster`."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.certs: tls.Certificates | None = None
        self.url = ""
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.hub: WatchHub | None = None
        self._crds: dict[str, dict[str, Any]] = {}
        self._crd_types: dict[str, list[ResourceType]] = {}
        self._crd_for_key: dict[str, dict[str, Any]] = {}
        self._lookup: Any = None
        self._behaviour: ModuleType | None = None
        self._unsub_crd: Callable[[], None] | None = None
        self._ips: set[str] = set()
        self._node_ports: set[int] = set()
        self._rng = random.Random(cluster.options.seed)
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle
    def build_app(self) -> web.Application:
        """The aiohttp application (behaviour routes first, then the generic API)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        if self._behaviour is not None and hasattr(self._behaviour, "routes"):
            app.router.add_routes(self._behaviour.routes(self.cluster))
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def start(self) -> str:
        """Seed, start controllers and serve; returns the URL."""
        opts = self.cluster.options
        self.cluster.loop = asyncio.get_running_loop()
        for obj in list(
            self.store.iter_objects(
                self.store.type_for("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            )
        ):
            self._crd_changed(obj, deleted=False)
        self._unsub_crd = self.store.subscribe(self._on_store_event)
        self.hub = WatchHub(self.store)
        self._behaviour = _load_module("behaviour")
        if self._behaviour is not None and hasattr(self._behaviour, "attach"):
            res = self._behaviour.attach(self.cluster)
            if asyncio.iscoroutine(res):
                await res
        self._bootstrap()
        # Big seeds live as long as the server: keep them out of the cyclic GC's scans (with 50k
        # pods a full collection would otherwise stall the loop for about a second each time).
        if sum(self.store.count(t) for t in self.store.types()) > 20_000:
            gc.freeze()
        ssl_ctx = None
        if opts.tls:
            self.certs = await asyncio.get_running_loop().run_in_executor(
                None, tls.generate, opts.host, opts.name
            )
            ssl_ctx = self.certs.server_context()
        app = self.build_app()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, opts.host, opts.port, ssl_context=ssl_ctx, backlog=1024)
        await site.start()
        self._spawn(self._warm_cache())
        server: Any = site._server
        sock = server.sockets[0] if server is not None and server.sockets else None
        self.port = sock.getsockname()[1] if sock is not None else opts.port
        host = opts.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        self.url = f"{'https' if opts.tls else 'http'}://{host}:{self.port}"
        return self.url

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _warm_cache(self) -> None:
        """Encode every stored object once, in small slices, so even the first big list is fast."""
        for rtype in sorted(self.store.types(), key=lambda t: t.plural != "pods"):
            if rtype.group in discovery.VIRTUAL_GROUPS:
                continue
            for done, obj in enumerate(list(self.store.iter_objects(rtype)), 1):
                if self._stopping:
                    return
                self.store.encoded(rtype, obj)
                if done % 200 == 0:
                    await asyncio.sleep(0)

    async def stop(self) -> None:
        """Stop serving, end watches, stop the behaviour layer."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        if self.hub is not None:
            self.hub.close_all()
        if self._behaviour is not None and hasattr(self._behaviour, "detach"):
            try:
                res = self._behaviour.detach(self.cluster)
                if asyncio.iscoroutine(res):
                    await res
            except Exception:
                log.exception("behaviour detach failed")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.hub is not None:
            self.hub.close()
        if self._unsub_crd is not None:
            self._unsub_crd()
            self._unsub_crd = None

    def _bootstrap(self) -> None:
        """The objects every cluster has, created when the behaviour layer did not seed them."""
        ns_t = self.store.type_for("", "v1", "namespaces")
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            if self.store.try_get(ns_t, None, ns) is None:
                self.store.create(ns_t, {"metadata": {"name": ns}})
        svc_t = self.store.type_for("", "v1", "services")
        for obj in self.store.iter_objects(svc_t):
            for ip in (obj.get("spec") or {}).get("clusterIPs") or [(obj.get("spec") or {}).get("clusterIP")]:
                if ip:
                    self._ips.add(ip)
            for p in (obj.get("spec") or {}).get("ports") or []:
                if p.get("nodePort"):
                    self._node_ports.add(int(p["nodePort"]))
        if self.store.try_get(svc_t, "default", "kubernetes") is None:
            base = self._service_cidr_base()
            ip = f"{base}.0.1"
            self._ips.add(ip)
            self.store.create(
                svc_t,
                {
                    "metadata": {
                        "name": "kubernetes",
                        "namespace": "default",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "type": "ClusterIP",
                        "clusterIP": ip,
                        "clusterIPs": [ip],
                        "ipFamilies": ["IPv4"],
                        "ipFamilyPolicy": "SingleStack",
                        "internalTrafficPolicy": "Cluster",
                        "sessionAffinity": "None",
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    },
                    "status": {"loadBalancer": {}},
                },
            )

    # ------------------------------------------------------------------ store hooks
    def _on_store_event(self, ev: WatchEvent) -> None:
        if ev.rtype.group == "apiextensions.k8s.io" and ev.rtype.plural == "customresourcedefinitions":
            self._crd_changed(ev.obj, deleted=ev.type == "DELETED")

    def _crd_changed(self, crd: dict[str, Any], *, deleted: bool) -> None:
        name = (crd.get("metadata") or {}).get("name", "")
        old_types = self._crd_types.pop(name, [])
        new_types = [] if deleted else discovery.crd_types(crd)
        new_keys = {t.key for t in new_types}
        for t in old_types:
            if t.key not in new_keys:
                self.store.unregister_type(t)
            self._crd_for_key.pop(t.key, None)
        for t in new_types:
            existing = self.store.find_type(t.group, t.version, t.plural)
            if existing is not None and existing in discovery.BUILTIN_TYPES:
                continue  # never shadow a built-in type
            self.store.register_type(t)
            self._crd_for_key[t.key] = crd
        if deleted:
            self._crds.pop(name, None)
        else:
            self._crds[name] = crd
            self._crd_types[name] = new_types
        self._lookup = None

    def crds(self) -> list[dict[str, Any]]:
        """The current CustomResourceDefinitions (sorted by name)."""
        return [self._crds[k] for k in sorted(self._crds)]

    def lookup(self) -> Any:
        """The sim-schema SchemaLookup for the current CRDs (cached)."""
        if self._lookup is None:
            from tamer_tui.sim import openapi

            self._lookup = openapi.schema_lookup(self.cluster.kube_minor, self.crds())
        return self._lookup

    def served_types(self) -> list[ResourceType]:
        """Every type discovery lists (stored types plus metrics)."""
        return self.store.types() + list(discovery.METRICS_TYPES)

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            if request.path in auth.PUBLIC_PATHS:
                return web.Response(text="ok", content_type="text/plain")
            token = auth.bearer_token(request.headers)
            user = self.cluster.user_for_token(token)
            if user is None and not token and not self.cluster.options.tls:
                # like the old insecure port: kubectl never sends a token over plain HTTP
                user = self.cluster.admin_user
            if user is None:
                raise auth.unauthorized()
            info = auth.request_info(request.method, request.path, request.query)
            request[_USER_KEY] = user
            request[_INFO_KEY] = info
            if info.resource_request and info.resource:
                allowed = auth.is_allowed(
                    user,
                    self.cluster.admin_user,
                    verb=info.verb,
                    group=info.group,
                    resource=info.resource + (f"/{info.subresource}" if info.subresource else ""),
                    namespace=info.namespace,
                )
            else:
                allowed = auth.is_allowed(
                    user,
                    self.cluster.admin_user,
                    verb=info.verb,
                    group="",
                    resource="",
                    namespace="",
                    resource_request=False,
                )
            if not allowed:
                raise auth.forbidden(user, info)
            t0 = time.perf_counter()
            resp = await handler(request)
            if not resp.prepared:
                resp.headers["X-Tamer-Sim-Server-Ms"] = f"{(time.perf_counter() - t0) * 1000:.2f}"
            return resp
        except ApiError as err:
            return status_response(err)
        except web.HTTPException as exc:
            if exc.status == 404:
                return status_response(
                    ApiError(404, "NotFound", "the server could not find the requested resource", {})
                )
            if exc.status == 405:
                return status_response(
                    ApiError(
                        405,
                        "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                        {},
                    )
                )
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.exception("internal error serving %s %s", request.method, request.path)
            return status_response(ApiError(500, "InternalError", f"Internal error occurred: {exc}", {}))

    # ------------------------------------------------------------------ dispatch
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        info: auth.RequestInfo = request[_INFO_KEY]
        path = request.path.rstrip("/") or "/"
        method = request.method.upper()
        if method in ("GET", "HEAD"):
            if path == "/version":
                return json_response(discovery.version_info(self.cluster.git_version))
            if path == "/api":
                agg = wants_aggregated(request.headers.get("Accept"))
                if agg:
                    return json_response(
                        discovery.aggregated_discovery(self.served_types(), core=True, version=agg),
                        content_type=discovery.AGGREGATED_CONTENT_TYPE.format(v=agg),
                    )
                return json_response(discovery.api_versions(f"{request.host}"))
            if path == "/apis":
                agg = wants_aggregated(request.headers.get("Accept"))
                if agg:
                    return json_response(
                        discovery.aggregated_discovery(self.served_types(), core=False, version=agg),
                        content_type=discovery.AGGREGATED_CONTENT_TYPE.format(v=agg),
                    )
                return json_response(discovery.api_group_list(self.served_types()))
            if path.startswith("/openapi/"):
                return self._openapi(request, path)
        if not info.api_prefix:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if not info.resource:
            if method not in ("GET", "HEAD"):
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    {},
                )
            if info.api_prefix == "apis" and not info.version:
                doc = discovery.api_group(info.group, self.served_types())
            else:
                doc = discovery.resource_list(info.group, info.version, self.served_types())
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return json_response(doc)
        if info.extra_parts:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        rtype = self.store.find_type(info.group, info.version, info.resource)
        if rtype is None:
            if (info.group, info.version) == ("metrics.k8s.io", "v1beta1"):
                raise ApiError(
                    503, "ServiceUnavailable", "the server is currently unable to handle the request", {}
                )
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if info.namespace and not rtype.namespaced and rtype.plural != "namespaces":
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if info.subresource and info.subresource not in rtype.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if rtype.group in discovery.VIRTUAL_GROUPS:
            return await self._virtual(request, rtype, info)
        ns = info.namespace if rtype.namespaced else ""
        verb = info.verb
        if info.subresource in ("exec", "attach", "portforward", "log", "proxy"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if verb in ("list", "watch"):
            if verb == "watch":
                return await self._watch(request, rtype, ns, info)
            return self._list(request, rtype, ns)
        if verb == "get":
            return self._get(request, rtype, ns, info)
        if verb == "create" and not info.name:
            return await self._create(request, rtype, ns)
        if verb == "create":
            return await self._post_subresource(request, rtype, ns, info)
        if verb == "update":
            return await self._replace(request, rtype, ns, info)
        if verb == "patch":
            return await self._patch(request, rtype, ns, info)
        if verb == "delete":
            return await self._delete(request, rtype, ns, info)
        if verb == "deletecollection":
            return await self._delete_collection(request, rtype, ns)
        raise ApiError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
        )

    # ------------------------------------------------------------------ openapi
    def _openapi(self, request: web.Request, path: str) -> web.Response:
        from tamer_tui.sim import openapi

        minor = self.cluster.kube_minor
        if path == "/openapi/v2":
            if wanted_format(request.headers.get("Accept")) == "protobuf":
                raise ApiError(
                    406, "NotAcceptable", "only the following media types are accepted: application/json", {}
                )
            return json_response(openapi.build_v2(minor, self.crds()))
        if path == "/openapi/v3":
            return json_response(openapi.build_v3_index(minor, self.crds()))
        if path.startswith("/openapi/v3/"):
            gv = path[len("/openapi/v3/") :]
            body = openapi.v3_document_json(minor, gv, self.crds())
            if body is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            headers = {"Cache-Control": "public, immutable"} if request.query.get("hash") else None
            return json_response(body, headers=headers)
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    # ------------------------------------------------------------------ reads
    def _printer(self, rtype: ResourceType) -> tables.Printer:
        crd = self._crd_for_key.get(rtype.key)
        return tables.printer_for(rtype.group, rtype.plural, crd, rtype.version)

    def _get(
        self, request: web.Request, rtype: ResourceType, ns: str, info: auth.RequestInfo
    ) -> web.Response:
        obj = self.store.get(rtype, ns, info.name)
        if info.subresource == "scale":
            return json_response(self._scale_of(rtype, obj))
        fmt = wanted_format(request.headers.get("Accept"))
        if fmt == "table":
            table = tables.build_table(
                [obj], self._printer(rtype), include_object=request.query.get("includeObject", "Metadata")
            )
            table["metadata"]["resourceVersion"] = obj["metadata"].get("resourceVersion", "")
            return json_response(table, content_type=TABLE_CT)
        if fmt == "pom":
            return json_response(
                tables.partial_metadata(obj),
                content_type="application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
            )
        return json_response(self.store.encoded(rtype, obj))

    def _select(
        self, request: web.Request, rtype: ResourceType, ns: str
    ) -> tuple[list[dict[str, Any]], str, int]:
        """Objects of a (paged) list: ``(objects, continue token, rv)``."""
        q = request.query
        lsel = selectors.parse_label_selector(q.get("labelSelector")) if q.get("labelSelector") else None
        fsel = (
            selectors.parse_field_selector(q.get("fieldSelector"), rtype) if q.get("fieldSelector") else None
        )
        scope_ns = ns
        if fsel is not None and not scope_ns and rtype.namespaced:
            scope_ns = fsel.exact_value("metadata.namespace") or ""
        limit = 0
        if q.get("limit"):
            try:
                limit = max(0, int(q["limit"]))
            except ValueError:
                raise ApiError.bad_request(f"limit: Invalid value: {q['limit']!r}") from None
        start: tuple[str, str] | None = None
        rv = self.store.resource_version
        if q.get("continue"):
            crv, cns, cname = decode_continue(q["continue"])
            start = (cns, cname)
            rv = crv
        name_filter = fsel.exact_value("metadata.name") if fsel is not None else None
        out: list[dict[str, Any]] = []
        token = ""
        it: Iterable[dict[str, Any]]
        if name_filter is not None and start is None:
            if rtype.namespaced and scope_ns:
                o = self.store.try_get(rtype, scope_ns, name_filter)
                it = [o] if o is not None else []
            elif not rtype.namespaced:
                o = self.store.try_get(rtype, None, name_filter)
                it = [o] if o is not None else []
            else:
                it = self.store.iter_objects(rtype, None)
        else:
            it = self.store.iter_objects(rtype, scope_ns or None, start_after=start)
        for obj in it:
            if lsel is not None and not lsel.matches(obj):
                continue
            if fsel is not None and not fsel.matches(obj):
                continue
            if limit and len(out) >= limit:
                last = out[-1]["metadata"]
                token = encode_continue(rv, last.get("namespace", ""), last["name"])
                break
            out.append(obj)
        return out, token, rv

    def _list(self, request: web.Request, rtype: ResourceType, ns: str) -> web.Response:
        objs, token, rv = self._select(request, rtype, ns)
        fmt = wanted_format(request.headers.get("Accept"))
        if fmt == "table":
            table = tables.build_table(
                objs,
                self._printer(rtype),
                include_object=request.query.get("includeObject", "Metadata"),
                resource_version=str(rv),
                continue_token=token,
            )
            return json_response(table, content_type=TABLE_CT)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if fmt == "pom":
            return json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": [tables.partial_metadata(o) for o in objs],
                },
                content_type=POM_CT,
            )
        enc = self.store.encoded
        parts: list[bytes] = [
            b'{"kind":"'
            + rtype.list_kind.encode()
            + b'","apiVersion":"'
            + rtype.api_version.encode()
            + b'","metadata":'
            + _dumps(meta)
            + b',"items":['
        ]
        comma = b","
        for o in objs:
            parts.append(enc(rtype, o))
            parts.append(comma)
        if objs:
            parts.pop()
        parts.append(b"]}")
        body = b"".join(parts)
        return json_response(body)

    # ------------------------------------------------------------------ watch
    async def _watch(
        self, request: web.Request, rtype: ResourceType, ns: str, info: auth.RequestInfo
    ) -> web.StreamResponse:
        assert self.hub is not None
        q = request.query
        lsel = selectors.parse_label_selector(q.get("labelSelector")) if q.get("labelSelector") else None
        fsel_text = q.get("fieldSelector") or ""
        if info.name:  # legacy /watch/.../<name>
            fsel_text = f"metadata.name={info.name}" + (f",{fsel_text}" if fsel_text else "")
        fsel = selectors.parse_field_selector(fsel_text, rtype) if fsel_text else None
        fmt = wanted_format(request.headers.get("Accept"))
        include = q.get("includeObject", "Metadata")
        bookmarks = _truthy(q.get("allowWatchBookmarks"))
        send_initial = _truthy(q.get("sendInitialEvents"))
        timeout: float | None = None
        if q.get("timeoutSeconds"):
            try:
                timeout = max(0.0, float(q["timeoutSeconds"]))
            except ValueError:
                raise ApiError.bad_request("timeoutSeconds: Invalid value") from None
        rv_param = q.get("resourceVersion", "")
        try:
            start_rv = int(rv_param) if rv_param else 0
        except ValueError:
            raise ApiError.bad_request(
                f'resourceVersion: Invalid value: "{rv_param}": must be a valid integer'
            ) from None

        def matches(obj: dict[str, Any]) -> bool:
            return (lsel is None or lsel.matches(obj)) and (fsel is None or fsel.matches(obj))

        # register first, then snapshot: both happen in this same loop tick, so nothing is missed
        watcher = self.hub.add(rtype.key, ns)
        initial: list[dict[str, Any]] = []
        history: list[WatchEvent] = []
        expired: ApiError | None = None
        if start_rv == 0 or send_initial:
            initial = [o for o in self.store.iter_objects(rtype, ns or None) if matches(o)]
        else:
            try:
                history = [e for e in self.store.events_since(start_rv) if e.rtype.key == rtype.key]
            except ApiError as err:
                expired = err
        snapshot_rv = self.store.resource_version

        resp = web.StreamResponse(status=200)
        resp.headers["Content-Type"] = TABLE_CT if fmt == "table" else JSON
        resp.headers["Cache-Control"] = "no-cache, private"
        resp.enable_chunked_encoding()
        printer = self._printer(rtype) if fmt == "table" else None
        first_table = [True]

        def encode_obj_event(etype: str, obj: dict[str, Any], hev: _HubEvent | None) -> bytes:
            if fmt == "json":
                if hev is not None and hev.ev.type == etype:
                    return hev.line()
                ob = self.store.encoded(rtype, obj) if etype != "DELETED" else _dumps(obj)
                return b'{"type":"' + etype.encode() + b'","object":' + ob + b"}\n"
            if fmt == "pom":
                return _dumps({"type": etype, "object": tables.partial_metadata(obj)}) + b"\n"
            assert printer is not None
            table = tables.build_table([obj], printer, include_object=include, headers=first_table[0])
            table["metadata"]["resourceVersion"] = (obj.get("metadata") or {}).get("resourceVersion", "")
            first_table[0] = False
            return _dumps({"type": etype, "object": table}) + b"\n"

        def encode_event(hev: _HubEvent) -> bytes | None:
            ev = hev.ev
            if ns and (ev.obj.get("metadata") or {}).get("namespace", "") != ns:
                return None
            if lsel is None and fsel is None:
                return encode_obj_event(ev.type, ev.obj, hev)
            now_match = matches(ev.obj)
            if ev.type == "MODIFIED":
                was = ev.old is not None and matches(ev.old)
                if now_match and was:
                    return encode_obj_event("MODIFIED", ev.obj, hev)
                if now_match:
                    return encode_obj_event("ADDED", ev.obj, hev)
                if was:
                    return encode_obj_event("DELETED", ev.obj, hev)
                return None
            return encode_obj_event(ev.type, ev.obj, hev) if now_match else None

        def bookmark(rv: int, initial_end: bool = False) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            obj = {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta}
            return _dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

        last_rv = snapshot_rv
        try:
            await resp.prepare(request)
            if expired is not None:
                await resp.write(
                    _dumps(
                        {
                            "type": "ERROR",
                            "object": {
                                "kind": "Status",
                                "apiVersion": "v1",
                                "metadata": {},
                                "status": "Failure",
                                "message": expired.message,
                                "reason": "Expired",
                                "code": 410,
                            },
                        }
                    )
                    + b"\n"
                )
                return resp
            chunks: list[bytes] = []
            for obj in initial:
                chunks.append(encode_obj_event("ADDED", obj, None))
                if len(chunks) >= 256:
                    await resp.write(b"".join(chunks))
                    chunks = []
            if send_initial and bookmarks:
                chunks.append(bookmark(snapshot_rv, initial_end=True))
            for ev in history:
                line = encode_event(_HubEvent(ev, self.store))
                if line is not None:
                    chunks.append(line)
            if chunks:
                await resp.write(b"".join(chunks))
            deadline = None if timeout is None else time.monotonic() + timeout
            queue = watcher.queue
            while not self._stopping:
                wait = BOOKMARK_INTERVAL
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        break
                try:
                    hev = await asyncio.wait_for(queue.get(), timeout=wait)
                except TimeoutError:
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    if bookmarks:
                        await resp.write(bookmark(max(last_rv, self.store.resource_version)))
                    continue
                if hev is None or watcher.overflow or watcher.closed:
                    break
                out: list[bytes] = []
                batch = [hev]
                while len(batch) < 1000:
                    try:
                        nxt = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                    if nxt is None:
                        watcher.closed = True
                        break
                    batch.append(nxt)
                for h in batch:
                    if h.ev.rv <= snapshot_rv:
                        continue
                    last_rv = h.ev.rv
                    line = encode_event(h)
                    if line is not None:
                        out.append(line)
                if out:
                    await resp.write(b"".join(out))
                if watcher.closed or watcher.overflow:
                    break
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            self.hub.remove(watcher)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await resp.write_eof()
        return resp

    # ------------------------------------------------------------------ write helpers
    async def _read_object(self, request: web.Request) -> tuple[Any, bytes]:
        raw = await request.read()
        return decode_body(raw, request.headers.get("Content-Type", JSON)), raw

    def _check_body(
        self, rtype: ResourceType, obj: Any, *, kind: str | None = None, api_version: str | None = None
    ) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise ApiError.bad_request("Object 'Kind' is missing in request body (not a JSON object)")
        want_kind = kind or rtype.kind
        want_av = api_version or rtype.api_version
        av = obj.get("apiVersion")
        k = obj.get("kind")
        if av and av != want_av:
            raise ApiError.bad_request(
                f"the API version in the data ({av}) does not match the expected API version ({want_av})"
            )
        if k and k != want_kind:
            raise ApiError.bad_request(
                f"the kind in the data ({k}) does not match the expected kind ({want_kind}) for {rtype.group_resource}"
            )
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise ApiError.bad_request("metadata: Invalid value: must be an object")
        return obj

    def _dry_run(self, request: web.Request, body_opts: dict[str, Any] | None = None) -> bool:
        values = request.query.getall("dryRun", [])
        if body_opts and body_opts.get("dryRun"):
            values = list(values) + list(body_opts["dryRun"])
        for v in values:
            if v != "All":
                raise ApiError.bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return bool(values)

    def _field_manager(self, request: web.Request, required: bool = False) -> str:
        fm = request.query.get("fieldManager", "")
        if fm:
            if len(fm) > 128:
                raise ApiError.bad_request("fieldManager: Too long: may not be longer than 128")
            return fm
        if required:
            raise ApiError(
                422,
                "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
                {
                    "group": "meta.k8s.io",
                    "kind": "PatchOptions",
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: is required for apply patch",
                            "field": "fieldManager",
                        }
                    ],
                },
            )
        ua = request.headers.get("User-Agent", "")
        return (ua.split("/")[0] or "unknown")[:128]

    def _validate(
        self, request: web.Request, rtype: ResourceType, obj: dict[str, Any], raw: bytes | None
    ) -> tuple[dict[str, Any], list[str]]:
        """Field validation per ``fieldValidation``; returns the pruned object and warnings."""
        mode = request.query.get("fieldValidation", "Warn") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise ApiError.bad_request(
                f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", "Strict", "Warn"'
            )
        validation = _load_module("validation")
        if validation is None:
            return obj, []
        try:
            lookup = self.lookup()
            errors = list(validation.validate(obj, lookup))
            if raw is not None and raw.lstrip()[:1] == b"{":
                errors = list(validation.duplicate_fields(raw)) + errors
        except NotImplementedError:  # the schema layer is not available in this build
            return obj, []
        type_errors = [e for e in errors if e.kind == "type"]
        if type_errors:
            raise ApiError.bad_request(
                validation.strict_error_message(rtype.api_version, rtype.kind, type_errors)
            )
        required = [e for e in errors if e.kind == "required"]
        if required:
            name = (obj.get("metadata") or {}).get("name", "")
            raise ApiError.invalid(
                rtype,
                name,
                [
                    {"reason": "FieldValueRequired", "message": "Required value", "field": e.path.lstrip(".")}
                    for e in required
                ],
            )
        unknown = [e for e in errors if e.kind in ("unknown", "duplicate")]
        warnings: list[str] = []
        if unknown:
            if mode == "Strict":
                raise ApiError.bad_request(
                    validation.strict_error_message(rtype.api_version, rtype.kind, unknown)
                )
            if mode == "Warn":
                warnings = list(validation.warning_messages(unknown))
            obj = validation.prune_unknown(obj, lookup)
        return obj, warnings

    def _record(
        self, old: dict[str, Any] | None, new: dict[str, Any], manager: str, subresource: str | None = None
    ) -> dict[str, Any]:
        apply_mod = _load_module("apply")
        if apply_mod is None:
            return new
        try:
            return apply_mod.record_update(
                old, new, manager, "Update", self.lookup(), subresource=subresource, now=now_rfc3339()
            )
        except NotImplementedError:
            return new

    def _respond(
        self, obj: dict[str, Any], status: int, warnings: list[str], rtype: ResourceType
    ) -> web.Response:
        resp = json_response(obj, status=status)
        for w in warnings:
            resp.headers.add("Warning", f'299 - "{w}"')
        return resp

    # defaulting / server-owned fields ----------------------------------------------------
    def _service_cidr_base(self) -> str:
        return "10.43" if self.cluster.options.flavor == "k3s" else "10.96"

    def _alloc_ip(self) -> str:
        base = self._service_cidr_base()
        for _ in range(100_000):
            ip = f"{base}.{self._rng.randint(0, 255)}.{self._rng.randint(1, 254)}"
            if ip not in self._ips:
                self._ips.add(ip)
                return ip
        raise ApiError(
            500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full", {}
        )

    def _alloc_node_port(self) -> int:
        for _ in range(100_000):
            p = self._rng.randint(30000, 32767)
            if p not in self._node_ports:
                self._node_ports.add(p)
                return p
        raise ApiError(
            500, "InternalError", "Internal error occurred: failed to allocate a nodePort: range is full", {}
        )

    def _defaults(self, rtype: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """Apply the API server's defaulting (and keep server-allocated fields on update)."""
        g, plural = rtype.group, rtype.plural
        spec = obj.get("spec")
        if g == "" and plural == "pods" and isinstance(spec, dict):
            default_pod_spec(spec)
            if old is None:
                obj["status"] = {"phase": "Pending", "qosClass": _qos(spec)}
        elif (g, plural) in (
            ("apps", "deployments"),
            ("apps", "replicasets"),
            ("apps", "statefulsets"),
            ("apps", "daemonsets"),
            ("batch", "jobs"),
        ) and isinstance(spec, dict):
            tpl = _template_spec(spec, "template", "spec")
            if tpl is not None:
                default_pod_spec(tpl, template=True)
            if plural in ("deployments", "replicasets", "statefulsets"):
                spec.setdefault("replicas", 1)
            if plural == "deployments":
                spec.setdefault("revisionHistoryLimit", 10)
                spec.setdefault("progressDeadlineSeconds", 600)
                strat = spec.setdefault("strategy", {})
                strat.setdefault("type", "RollingUpdate")
                if strat["type"] == "RollingUpdate":
                    ru = strat.setdefault("rollingUpdate", {})
                    ru.setdefault("maxSurge", "25%")
                    ru.setdefault("maxUnavailable", "25%")
            elif plural == "statefulsets":
                spec.setdefault("podManagementPolicy", "OrderedReady")
                spec.setdefault("revisionHistoryLimit", 10)
                us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
                if us.get("type") == "RollingUpdate":
                    us.setdefault("rollingUpdate", {"partition": 0})
                spec.setdefault(
                    "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
                )
            elif plural == "daemonsets":
                spec.setdefault("revisionHistoryLimit", 10)
                us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
                if us.get("type") == "RollingUpdate":
                    us.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
            elif plural == "jobs":
                spec.setdefault("parallelism", 1)
                spec.setdefault("completions", 1)
                spec.setdefault("backoffLimit", 6)
                spec.setdefault("completionMode", "NonIndexed")
                spec.setdefault("suspend", False)
        elif (g, plural) == ("batch", "cronjobs") and isinstance(spec, dict):
            spec.setdefault("concurrencyPolicy", "Allow")
            spec.setdefault("suspend", False)
            spec.setdefault("successfulJobsHistoryLimit", 3)
            spec.setdefault("failedJobsHistoryLimit", 1)
            tpl = _template_spec(spec, "jobTemplate", "spec", "template", "spec")
            if tpl is not None:
                default_pod_spec(tpl, template=True)
        elif (g, plural) == ("", "services"):
            self._default_service(obj, old)
        elif (g, plural) == ("", "secrets"):
            obj.setdefault("type", "Opaque")
            sd = obj.pop("stringData", None)
            if isinstance(sd, dict):
                data = obj.setdefault("data", {}) or {}
                obj["data"] = data
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
        elif (g, plural) == ("", "persistentvolumeclaims") and isinstance(spec, dict):
            spec.setdefault("volumeMode", "Filesystem")
            if old is None:
                obj.setdefault("status", {"phase": "Pending"})

    def _default_service(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        old_spec = (old or {}).get("spec") or {}
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        typ = spec["type"]
        if typ != "ExternalName":
            if not spec.get("clusterIP"):
                if old_spec.get("clusterIP"):
                    spec["clusterIP"] = old_spec["clusterIP"]
                    spec["clusterIPs"] = old_spec.get("clusterIPs") or [old_spec["clusterIP"]]
                else:
                    ip = self._alloc_ip()
                    spec["clusterIP"] = ip
                    spec["clusterIPs"] = [ip]
            elif spec["clusterIP"] != "None":
                try:
                    ipaddress.ip_address(spec["clusterIP"])
                except ValueError:
                    raise ApiError.invalid(
                        self.store.type_for("", "v1", "services"),
                        (obj.get("metadata") or {}).get("name", ""),
                        [
                            {
                                "reason": "FieldValueInvalid",
                                "message": f"Invalid value: \"{spec['clusterIP']}\": must be empty, 'None', or a valid IP address",
                                "field": "spec.clusterIP",
                            }
                        ],
                    ) from None
                self._ips.add(spec["clusterIP"])
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
            else:
                spec.setdefault("clusterIPs", ["None"])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        old_ports = {
            (p.get("port"), p.get("protocol", "TCP")): p
            for p in old_spec.get("ports") or []
            if isinstance(p, dict)
        }
        for p in spec.get("ports") or []:
            if not isinstance(p, dict):
                continue
            p.setdefault("protocol", "TCP")
            if "targetPort" not in p and "port" in p:
                p["targetPort"] = p["port"]
            if typ in ("NodePort", "LoadBalancer") and not p.get("nodePort"):
                prev = old_ports.get((p.get("port"), p["protocol"]))
                p["nodePort"] = prev["nodePort"] if prev and prev.get("nodePort") else self._alloc_node_port()
        if typ in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if typ == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        obj.setdefault("status", {"loadBalancer": {}})

    def _prepare_crd(self, obj: dict[str, Any]) -> None:
        problems = discovery.crd_problems(obj)
        if problems:
            crd_t = self.store.type_for("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            raise ApiError.invalid(crd_t, (obj.get("metadata") or {}).get("name", ""), problems)
        spec = obj.setdefault("spec", {})
        spec.setdefault("conversion", {"strategy": "None"})
        names = spec.setdefault("names", {})
        names.setdefault("singular", (names.get("kind") or "").lower())
        names.setdefault("listKind", (names.get("kind") or "") + "List")
        obj["status"] = discovery.crd_status(obj, now_rfc3339())

    # ------------------------------------------------------------------ create
    async def _create(self, request: web.Request, rtype: ResourceType, ns: str) -> web.Response:
        body, raw = await self._read_object(request)
        obj = self._check_body(rtype, body)
        dry = self._dry_run(request)
        meta = obj.setdefault("metadata", {})
        if rtype.namespaced:
            if meta.get("namespace") and ns and meta["namespace"] != ns:
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            if ns:
                meta["namespace"] = ns
            elif not meta.get("namespace"):
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        obj.setdefault("apiVersion", rtype.api_version)
        obj.setdefault("kind", rtype.kind)
        if meta.get("managedFields") == []:
            meta.pop("managedFields")
        obj, warnings = self._validate(request, rtype, obj, raw)
        if "status" in rtype.subresources and not (rtype.group == "" and rtype.plural == "namespaces"):
            obj.pop("status", None)
        self._defaults(rtype, obj, None)
        if rtype.group == "apiextensions.k8s.io" and rtype.plural == "customresourcedefinitions":
            self._prepare_crd(obj)
        manager = self._field_manager(request)
        obj = self._record(None, obj, manager)
        created = self.store.create(rtype, obj, dry_run=dry)
        return self._respond(created, 201, warnings, rtype)

    # ------------------------------------------------------------------ update
    def _keep_status(self, rtype: ResourceType, new: dict[str, Any], old: dict[str, Any]) -> None:
        if "status" in rtype.subresources:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)

    def _write(
        self,
        request: web.Request,
        rtype: ResourceType,
        old: dict[str, Any],
        new: dict[str, Any],
        *,
        subresource: str | None,
        dry: bool,
        manager: str | None,
        raw: bytes | None,
        check_rv: bool = True,
    ) -> tuple[dict[str, Any], list[str]]:
        """Validate, default, record managedFields and store an updated object."""
        warnings: list[str] = []
        if subresource is None:
            new, warnings = self._validate(request, rtype, new, raw)
            self._keep_status(rtype, new, old)
            self._defaults(rtype, new, old)
            if rtype.group == "apiextensions.k8s.io" and rtype.plural == "customresourcedefinitions":
                new.setdefault("status", old.get("status"))
                self._prepare_crd(new)
        if manager is not None:
            new = self._record(old, new, manager, subresource)
        updated = self.store.update(rtype, new, check_rv=check_rv, dry_run=dry, subresource=subresource)
        return updated, warnings

    async def _replace(
        self, request: web.Request, rtype: ResourceType, ns: str, info: auth.RequestInfo
    ) -> web.Response:
        body, raw = await self._read_object(request)
        dry = self._dry_run(request)
        if info.subresource == "scale":
            scale = self._check_body(rtype, body, kind="Scale", api_version="autoscaling/v1")
            return self._set_scale(request, rtype, ns, info.name, scale, dry)
        if info.subresource and info.subresource not in ("status", "finalize"):
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
            )
        obj = self._check_body(rtype, body)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != info.name:
            raise ApiError.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({info.name})"
            )
        meta["name"] = info.name
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        old = self.store.get(rtype, ns, info.name)
        sub = "status" if info.subresource == "status" else None
        if info.subresource == "finalize":
            new = copy.deepcopy(old)
            new.setdefault("spec", {})["finalizers"] = (obj.get("spec") or {}).get("finalizers") or []
            new["metadata"]["resourceVersion"] = (
                meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
            )
            obj = new
        updated, warnings = self._write(
            request, rtype, old, obj, subresource=sub, dry=dry, manager=self._field_manager(request), raw=raw
        )
        return self._respond(updated, 200, warnings, rtype)

    # ------------------------------------------------------------------ patch
    async def _patch(
        self, request: web.Request, rtype: ResourceType, ns: str, info: auth.RequestInfo
    ) -> web.Response:
        ct = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ct not in _PATCH_TYPES or ct == "application/apply-patch+cbor":
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: {', '.join(_PATCH_TYPES[:4])}",
                {},
            )
        raw = await request.read()
        patch_body = decode_body(raw, "application/yaml" if ct == "application/apply-patch+yaml" else JSON)
        dry = self._dry_run(request)
        if ct == "application/apply-patch+yaml":
            return self._apply(request, rtype, ns, info, patch_body, dry)
        live = self.store.get(rtype, ns, info.name)
        if info.subresource == "scale":
            current = self._scale_of(rtype, live)
            patched = self._apply_patch(ct, current, patch_body, None)
            return self._set_scale(request, rtype, ns, info.name, patched, dry)
        patched = self._apply_patch(ct, live, patch_body, rtype)
        if not isinstance(patched, dict):
            raise ApiError.bad_request("the patched object is not a JSON object")
        pmeta = patched.setdefault("metadata", {})
        if pmeta.get("name") != info.name:
            raise ApiError.bad_request(
                f"the name of the object ({pmeta.get('name')}) does not match the name on the URL ({info.name})"
            )
        check_rv = pmeta.get("resourceVersion") != live["metadata"].get("resourceVersion")
        sub = "status" if info.subresource == "status" else None
        patched_raw = raw if ct != "application/json-patch+json" else None
        updated, warnings = self._write(
            request,
            rtype,
            live,
            patched,
            subresource=sub,
            dry=dry,
            manager=self._field_manager(request),
            raw=patched_raw,
            check_rv=check_rv,
        )
        return self._respond(updated, 200, warnings, rtype)

    def _apply_patch(
        self, ct: str, target: dict[str, Any], patch_body: Any, rtype: ResourceType | None
    ) -> Any:
        from tamer_tui.sim import patch as patch_mod

        try:
            if ct == "application/json-patch+json":
                if not isinstance(patch_body, list):
                    raise ApiError.bad_request(
                        "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
                    )
                return patch_mod.json_patch(target, patch_body)
            if not isinstance(patch_body, dict):
                raise ApiError.bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}"
                )
            if ct == "application/merge-patch+json":
                return patch_mod.json_merge_patch(target, patch_body)
            if rtype is not None and rtype.key in self._crd_for_key:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                    {},
                )
            av = target.get("apiVersion", "v1")
            kind = target.get("kind", "")
            return patch_mod.strategic_merge_patch(target, patch_body, self.lookup(), av, kind)
        except patch_mod.PatchError as exc:
            code = 422 if ct == "application/json-patch+json" else 400
            raise ApiError(code, "Invalid" if code == 422 else "BadRequest", str(exc), {}) from None

    def _apply(
        self,
        request: web.Request,
        rtype: ResourceType,
        ns: str,
        info: auth.RequestInfo,
        applied: Any,
        dry: bool,
    ) -> web.Response:
        from tamer_tui.sim import apply as apply_mod

        manager = self._field_manager(request, required=True)
        force = _truthy(request.query.get("force"))
        if not isinstance(applied, dict):
            raise ApiError.bad_request("error decoding YAML: the applied configuration is not an object")
        if info.subresource == "scale":
            raise ApiError(
                415, "UnsupportedMediaType", "apply patches are not supported on the scale subresource", {}
            )
        meta = applied.get("metadata") or {}
        if meta.get("name") and meta["name"] != info.name:
            raise ApiError.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({info.name})"
            )
        if rtype.namespaced and meta.get("namespace") and meta["namespace"] != ns:
            raise ApiError.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        applied = copy.deepcopy(applied)
        applied.setdefault("metadata", {})
        applied["metadata"]["name"] = info.name
        if rtype.namespaced:
            applied["metadata"]["namespace"] = ns
        if not applied.get("apiVersion") or not applied.get("kind"):
            raise ApiError.bad_request("invalid object type: /, Kind=")
        self._check_body(rtype, applied)
        mode = request.query.get("fieldValidation", "Strict") or "Strict"
        live = self.store.try_get(rtype, ns, info.name)
        sub = "status" if info.subresource == "status" else None
        if live is None and sub:
            raise ApiError.not_found(rtype, info.name)
        warnings: list[str] = []
        validation = _load_module("validation")
        if validation is not None and sub is None:
            errs = [e for e in validation.validate(applied, self.lookup()) if e.kind == "unknown"]
            if errs:
                if mode == "Strict":
                    raise ApiError.bad_request(
                        "failed to create typed patch object ("
                        + f"/{info.name}; {rtype.api_version}, Kind={rtype.kind}): "
                        + "; ".join(e.smd_message for e in errs)
                    )
                if mode == "Warn":
                    warnings = list(validation.warning_messages(errs))
                applied = validation.prune_unknown(applied, self.lookup())
        try:
            new = apply_mod.server_side_apply(
                live,
                applied,
                manager,
                force,
                self.lookup(),
                subresource=sub,
                reset_status="status" in rtype.subresources,
                now=now_rfc3339(),
            )
        except apply_mod.ApplyConflict as exc:
            st = exc.status()
            raise ApiError(
                409, st.get("reason", "Conflict"), st.get("message", exc.message), st.get("details")
            ) from None
        except apply_mod.ApplyError as exc:
            reason = {400: "BadRequest", 422: "Invalid", 500: "InternalError"}.get(exc.code, "BadRequest")
            raise ApiError(exc.code, reason, str(exc), {}) from None
        if live is None:
            if rtype.namespaced:
                new.setdefault("metadata", {})["namespace"] = ns
            if "status" in rtype.subresources and not (rtype.group == "" and rtype.plural == "namespaces"):
                new.pop("status", None)
            self._defaults(rtype, new, None)
            if rtype.group == "apiextensions.k8s.io" and rtype.plural == "customresourcedefinitions":
                self._prepare_crd(new)
            created = self.store.create(rtype, new, dry_run=dry)
            return self._respond(created, 201, warnings, rtype)
        new.setdefault("metadata", {})["resourceVersion"] = live["metadata"].get("resourceVersion")
        if sub is None:
            self._keep_status(rtype, new, live)
            self._defaults(rtype, new, live)
            if rtype.group == "apiextensions.k8s.io" and rtype.plural == "customresourcedefinitions":
                self._prepare_crd(new)
        updated = self.store.update(rtype, new, check_rv=False, dry_run=dry, subresource=sub)
        return self._respond(updated, 200, warnings, rtype)

    # ------------------------------------------------------------------ scale
    def _scale_paths(self, rtype: ResourceType) -> tuple[str, str, str | None]:
        crd = self._crd_for_key.get(rtype.key)
        if crd is None:
            return ".spec.replicas", ".status.replicas", None
        for v in (crd.get("spec") or {}).get("versions") or []:
            if v.get("name") == rtype.version:
                sc = (v.get("subresources") or {}).get("scale") or {}
                return (
                    sc.get("specReplicasPath", ".spec.replicas"),
                    sc.get("statusReplicasPath", ".status.replicas"),
                    sc.get("labelSelectorPath"),
                )
        return ".spec.replicas", ".status.replicas", None

    def _scale_of(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        spec_path, status_path, sel_path = self._scale_paths(rtype)
        meta = obj.get("metadata") or {}
        replicas = tables._jsonpath(obj, spec_path)
        status_replicas = tables._jsonpath(obj, status_path)
        if sel_path is not None:
            selector = tables._jsonpath(obj, sel_path) or ""
        else:
            sel = (obj.get("spec") or {}).get("selector")
            selector = (
                tables.format_selector(sel)
                if isinstance(sel, dict) and ("matchLabels" in sel or "matchExpressions" in sel)
                else ""
            )
            if selector == "<none>":
                selector = ""
        status: dict[str, Any] = {"replicas": int(status_replicas or 0)}
        if selector:
            status["selector"] = selector
        smeta = {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        }
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": smeta,
            "spec": {"replicas": int(replicas if replicas is not None else 0)},
            "status": status,
        }

    def _set_scale(
        self, request: web.Request, rtype: ResourceType, ns: str, name: str, scale: Any, dry: bool
    ) -> web.Response:
        if not isinstance(scale, dict):
            raise ApiError.bad_request("the body is not a Scale object")
        live = self.store.get(rtype, ns, name)
        smeta = scale.get("metadata") or {}
        if smeta.get("resourceVersion") and smeta["resourceVersion"] != live["metadata"].get(
            "resourceVersion"
        ):
            raise ApiError.conflict(
                rtype,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0',
                {
                    "name": name,
                    "group": "autoscaling",
                    "kind": "Scale",
                    "causes": [
                        {
                            "reason": "FieldValueInvalid",
                            "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                            "field": "spec.replicas",
                        }
                    ],
                },
            )
        new = copy.deepcopy(live)
        spec_path = self._scale_paths(rtype)[0]
        parts = [p for p in spec_path.split(".") if p]
        cur = new
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = replicas
        updated = self.store.update(
            rtype, self._record(live, new, self._field_manager(request), "scale"), check_rv=False, dry_run=dry
        )
        return json_response(self._scale_of(rtype, updated))

    # ------------------------------------------------------------------ delete
    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        opts: dict[str, Any] = {}
        if raw.strip():
            body = decode_body(raw, request.headers.get("Content-Type", JSON))
            if isinstance(body, dict):
                opts = body
        q = request.query
        if q.get("propagationPolicy"):
            opts["propagationPolicy"] = q["propagationPolicy"]
        if q.get("gracePeriodSeconds"):
            opts["gracePeriodSeconds"] = q["gracePeriodSeconds"]
        if "orphanDependents" in q:
            opts["orphanDependents"] = _truthy(q["orphanDependents"])
        return opts

    @staticmethod
    def _propagation(opts: dict[str, Any]) -> str:
        pol = opts.get("propagationPolicy")
        if pol:
            return str(pol)
        if opts.get("orphanDependents") is True:
            return "Orphan"
        return "Background"

    async def _delete(
        self, request: web.Request, rtype: ResourceType, ns: str, info: auth.RequestInfo
    ) -> web.Response:
        if info.subresource:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
            )
        opts = await self._delete_options(request)
        dry = self._dry_run(request, opts)
        result = self.store.delete(
            rtype,
            ns,
            info.name,
            propagation=self._propagation(opts),
            dry_run=dry,
            preconditions=opts.get("preconditions"),
        )
        if dry:
            return json_response(result)
        still = self.store.try_get(rtype, ns, info.name)
        if still is not None:
            return json_response(self.store.encoded(rtype, still), status=200)
        if rtype.plural == "pods" and not rtype.group:
            # a real API server deletes pods gracefully and answers with the Pod (deletionTimestamp
            # set); clients such as the official Python client expect that object, not a Status
            pod = copy.deepcopy(result)
            meta = pod.setdefault("metadata", {})
            meta.setdefault("deletionTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            meta.setdefault("deletionGracePeriodSeconds", int(opts.get("gracePeriodSeconds") or 0))
            return json_response(pod, status=200)
        return json_response(success_status(rtype, result))

    async def _delete_collection(self, request: web.Request, rtype: ResourceType, ns: str) -> web.Response:
        opts = await self._delete_options(request)
        dry = self._dry_run(request, opts)
        objs, _, rv = self._select(request, rtype, ns)
        deleted: list[dict[str, Any]] = []
        for obj in list(objs):
            meta = obj["metadata"]
            try:
                deleted.append(
                    self.store.delete(
                        rtype,
                        meta.get("namespace"),
                        meta["name"],
                        propagation=self._propagation(opts),
                        dry_run=dry,
                    )
                )
            except ApiError as err:
                if err.code != 404:
                    raise
        return json_response(
            {
                "kind": rtype.list_kind,
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": deleted,
            }
        )

    # ------------------------------------------------------------------ POST on subresources
    async def _post_subresource(
        self, request: web.Request, rtype: ResourceType, ns: str, info: auth.RequestInfo
    ) -> web.Response:
        body, _ = await self._read_object(request)
        if not isinstance(body, dict):
            raise ApiError.bad_request("the body is not an object")
        sub = info.subresource
        if (rtype.group, rtype.plural, sub) == ("", "pods", "eviction"):
            self.store.get(rtype, ns, info.name)
            if not self._dry_run(request):
                self.store.delete(rtype, ns, info.name)
            return json_response(
                {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                status=201,
            )
        if (rtype.group, rtype.plural, sub) == ("", "pods", "binding"):
            live = self.store.get(rtype, ns, info.name)
            node = ((body.get("target") or {}).get("name")) or ""
            if (live.get("spec") or {}).get("nodeName"):
                raise ApiError.conflict(
                    rtype,
                    info.name,
                    f'pod {info.name} is already assigned to node "{live["spec"]["nodeName"]}"',
                )
            new = copy.deepcopy(live)
            new["spec"]["nodeName"] = node
            self.store.update(rtype, new, check_rv=False)
            return json_response(
                {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                status=201,
            )
        if (rtype.group, rtype.plural, sub) == ("", "serviceaccounts", "token"):
            sa = self.store.get(rtype, ns, info.name)
            spec = dict(body.get("spec") or {})
            exp = int(spec.get("expirationSeconds") or 3600)
            spec.setdefault("expirationSeconds", exp)
            spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local", "k3s"])
            token = _fake_jwt(ns, info.name, sa["metadata"].get("uid", ""), exp)
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + exp))
            return json_response(
                {
                    "kind": "TokenRequest",
                    "apiVersion": "authentication.k8s.io/v1",
                    "metadata": {"name": info.name, "namespace": ns, "creationTimestamp": None},
                    "spec": spec,
                    "status": {"token": token, "expirationTimestamp": expires},
                },
                status=201,
            )
        raise ApiError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
        )

    # ------------------------------------------------------------------ authorization.k8s.io & co
    async def _virtual(
        self, request: web.Request, rtype: ResourceType, info: auth.RequestInfo
    ) -> web.Response:
        if info.verb != "create" or info.name:
            raise ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
            )
        body, _ = await self._read_object(request)
        obj = self._check_body(rtype, body)
        user: str = request[_USER_KEY]
        admin = self.cluster.admin_user
        spec = obj.get("spec") or {}
        meta = dict(obj.get("metadata") or {})
        meta.setdefault("creationTimestamp", None)
        out: dict[str, Any] = {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": meta}
        if rtype.plural == "selfsubjectaccessreviews":
            out["spec"] = spec
            out["status"] = auth.access_review(user, admin, spec)
        elif rtype.plural == "selfsubjectrulesreviews":
            out["spec"] = spec
            out["status"] = auth.rules_review(user, admin, spec.get("namespace") or "")
        elif rtype.plural == "subjectaccessreviews":
            target = spec.get("user") or ""
            out["spec"] = spec
            out["status"] = auth.access_review(target, admin, spec)
        elif rtype.plural == "selfsubjectreviews":
            out["status"] = {"userInfo": {"username": user, "groups": auth.groups_of(user, admin)}}
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return json_response(out, status=201)


def _qos(spec: dict[str, Any]) -> str:
    containers = [c for c in (spec.get("containers") or []) if isinstance(c, dict)]
    if not containers:
        return "BestEffort"
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and req[r] != lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _fake_jwt(ns: str, name: str, uid: str, exp: int) -> str:
    def b64(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")

    now = int(time.time())
    header = {"alg": "RS256", "kid": uuid.uuid4().hex[:16]}
    claims = {
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": now + exp,
        "iat": now,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": name, "uid": uid}},
        "nbf": now,
        "sub": f"system:serviceaccount:{ns}:{name}",
    }
    sig = base64.urlsafe_b64encode(os.urandom(64)).decode().rstrip("=")
    return f"{b64(header)}.{b64(claims)}.{sig}"


# --------------------------------------------------------------------------- in-thread handle


@dataclass
class SimHandle:
    """A simulator running on its own loop in a daemon thread."""

    url: str
    kubeconfig: str
    context: str
    restricted_context: str
    token: str
    restricted_token: str
    cluster: Cluster
    server: SimServer
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    ca_pem: bytes | None = None
    _tmpdir: str | None = None
    _stopped: bool = field(default=False, repr=False)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        """Run ``fn(*args)`` on the simulator's loop thread and return its result (coroutines awaited)."""

        async def runner() -> Any:
            res = fn(*args)
            if asyncio.iscoroutine(res):
                res = await res
            return res

        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(timeout)

    def stop(self) -> None:
        """Stop the server and the loop thread (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(15)
        except Exception:
            log.exception("error stopping the simulator")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(15)
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(options: SimOptions | None = None) -> SimHandle:
    """Start a simulator in a daemon thread; writes its kubeconfig (a temp file unless given)."""
    opts = options or SimOptions()
    cluster = Cluster(opts)
    server = SimServer(cluster)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    thread = threading.Thread(target=run, name=f"tamer-sim-{opts.name}", daemon=True)
    thread.start()
    if not ready.wait(120):
        raise RuntimeError("the simulator did not start within 120 s")
    if failure:
        raise failure[0]
    tmpdir = None
    path = opts.kubeconfig
    if not path:
        tmpdir = tempfile.mkdtemp(prefix="tamer-sim-")
        path = str(Path(tmpdir) / "kubeconfig")
    ca = server.certs.ca_pem if server.certs is not None else None
    write_kubeconfig(path, opts.name, server.url, ca, cluster.admin_token, cluster.restricted_token)
    return SimHandle(
        url=server.url,
        kubeconfig=path,
        context=opts.name,
        restricted_context=f"{opts.name}-restricted",
        token=cluster.admin_token,
        restricted_token=cluster.restricted_token,
        cluster=cluster,
        server=server,
        loop=loop,
        thread=thread,
        ca_pem=ca,
        _tmpdir=tmpdir,
    )
