"""Which Kubernetes distribution a cluster is, and whether it answers at all.

:func:`classify` is pure: it weighs, strongest first, the server's ``gitVersion`` (``+k3s1``,
``-eks-``, ``-gke.`` ...), node labels and annotations (EKS/GKE/AKS/OpenShift/minikube/k3s/
microk8s markers), node names (``<name>-control-plane`` / ``<name>-worker`` is kind's naming,
``minikube`` is minikube's, ``docker-desktop`` Docker Desktop's) and finally kubeconfig hints (context
and cluster names such as ``kind-*`` or ``minikube``, minikube's cluster extension, k3s's default
``https://127.0.0.1:6443`` with names ``default``, cloud server host names and exec plugins). It
returns the flavor with the evidence that decided it.

:func:`probe_context` does ``GET /version`` and ``GET /api/v1/nodes?limit=500`` (metadata only, asked
for as ``PartialObjectMetadataList`` with plain JSON as fallback) over aiohttp with an
``ssl.SSLContext`` built from the context's CA, client certificate and ``insecure-skip-tls-verify``,
its bearer token / basic auth / impersonation headers, and its ``proxy-url`` (or the ``HTTPS_PROXY``
environment, loopback and ``NO_PROXY`` hosts excluded, like client-go). Everything runs under one
hard deadline, so a black-holed server costs ``timeout`` seconds and a closed port fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import re
import ssl
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tamer_tui.core.kube.kubeconfig import (
    ConnectionParams,
    KubeConfigError,
    KubeContext,
    ResolvedCredentials,
    resolve_credentials,
)

FLAVORS = ("k3s", "k0s", "rke2", "kind", "minikube", "microk8s", "docker-desktop", "eks", "gke", "aks",
           "openshift", "k8s", "unknown")

NODES_LIMIT = 500
_POM_ACCEPT = ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, "
               "application/json;q=0.9")
_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class Flavor:
    """A distribution name (one of :data:`FLAVORS`) and the evidence for it."""

    name: str
    evidence: str


# ---------------------------------------------------------------------------------- classify
_VERSION_MARKERS: tuple[tuple[str, str], ...] = (
    ("+k3s", "k3s"),
    ("+rke2", "rke2"),
    ("+k0s", "k0s"),
    ("-eks-", "eks"),
    ("-gke.", "gke"),
)

#: label (or annotation) key -> flavor, checked on every node.
_LABEL_MARKERS: tuple[tuple[str, str], ...] = (
    ("eks.amazonaws.com/nodegroup", "eks"),
    ("eks.amazonaws.com/compute-type", "eks"),
    ("alpha.eksctl.io/cluster-name", "eks"),
    ("cloud.google.com/gke-nodepool", "gke"),
    ("cloud.google.com/gke-os-distribution", "gke"),
    ("kubernetes.azure.com/cluster", "aks"),
    ("kubernetes.azure.com/agentpool", "aks"),
    ("node.openshift.io/os_id", "openshift"),
    ("minikube.k8s.io/name", "minikube"),
    ("microk8s.io/cluster", "microk8s"),
    ("k3s.io/hostname", "k3s"),
    ("rke2.io/hostname", "rke2"),
)

_KIND_NODE = re.compile(r"^(?P<prefix>.+)-(?P<role>control-plane|worker|external-load-balancer)(?P<n>\d*)$")
_OPENSHIFT_VERSION = re.compile(r"^v\d+\.\d+\.\d+\+[0-9a-f]{7,}$")
_OPENSHIFT_CONTEXT = re.compile(r"^[^/]*/api-[^/]+:\d+/[^/]+$")


def _node_facts(node: Mapping[str, Any]) -> tuple[str, dict[str, str], str]:
    """``(name, labels + annotations, providerID)`` of a Node, a PartialObjectMetadata or a
    ``{"name", "labels"}`` dict."""
    inner = node.get("metadata")
    meta: Mapping[str, Any] = inner if isinstance(inner, dict) else node
    name = str(meta.get("name") or "")
    marks: dict[str, str] = {}
    for key in ("annotations", "labels"):
        value = meta.get(key)
        if isinstance(value, dict):
            marks.update({str(k): str(v) for k, v in value.items()})
    spec = node.get("spec")
    provider_id = str(spec.get("providerID") or "") if isinstance(spec, dict) else ""
    return name, marks, provider_id


def _from_nodes(nodes: Sequence[Mapping[str, Any]]) -> Flavor | None:
    facts = [_node_facts(n) for n in nodes if isinstance(n, Mapping)]
    for name, marks, provider_id in facts:
        for key, flavor in _LABEL_MARKERS:
            if key in marks:
                return Flavor(flavor, f"node {name} has {key}")
        if marks.get("node.kubernetes.io/instance-type") == "k3s":
            return Flavor("k3s", f"node {name} has node.kubernetes.io/instance-type=k3s")
        # aws://, gce://, azure:// also appear on self-managed clusters: only the labels above count
        for prefix, flavor in (("kind://", "kind"), ("k3s://", "k3s")):
            if provider_id.startswith(prefix):
                return Flavor(flavor, f"node {name} has providerID {prefix}...")
    names = [name for name, _m, _p in facts if name]
    if not names:
        return None
    matches = [_KIND_NODE.match(n) for n in names]
    if all(matches):
        prefixes = {m.group("prefix") for m in matches if m}
        roles = {m.group("role") for m in matches if m}
        if len(prefixes) == 1 and "control-plane" in roles:
            shown = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
            return Flavor("kind", f"node names {shown} follow kind's <cluster>-control-plane naming")
    if "minikube" in names:
        return Flavor("minikube", "node named minikube")
    if names == ["docker-desktop"]:
        return Flavor("docker-desktop", "node named docker-desktop")
    return None


def _host(server: str) -> str:
    try:
        return (urlsplit(server).hostname or "").lower()
    except ValueError:
        return ""


def _from_context(context: KubeContext | None) -> Flavor | None:
    if context is None:
        return None
    names = [context.name, context.cluster]
    if context.provider.startswith("minikube"):
        return Flavor("minikube", f"cluster {context.cluster} has minikube's extension ({context.provider})")
    for value in names:
        if value.startswith("kind-"):
            return Flavor("kind", f"kubeconfig name {value} (kind names contexts kind-<cluster>)")
    for value in names:
        if value == "minikube":
            return Flavor("minikube", "kubeconfig name minikube")
        if value in ("docker-desktop", "docker-for-desktop"):
            return Flavor("docker-desktop", f"kubeconfig name {value}")
        if value == "microk8s" or value.startswith("microk8s-"):
            return Flavor("microk8s", f"kubeconfig name {value}")
    host = _host(context.server)
    if host.endswith(".eks.amazonaws.com"):
        return Flavor("eks", f"server host {host}")
    if host.endswith(".azmk8s.io"):
        return Flavor("aks", f"server host {host}")
    command = os.path.basename(context.exec_command).lower()
    if command.startswith("aws-iam-authenticator") or (command in ("aws", "aws.exe") and context.has_exec_auth):
        return Flavor("eks", f"exec credential plugin {command}")
    if command.startswith("gke-gcloud-auth-plugin"):
        return Flavor("gke", f"exec credential plugin {command}")
    if command.startswith("kubelogin"):
        return Flavor("aks", f"exec credential plugin {command}")
    if any(v.startswith("arn:aws:eks:") for v in names):
        return Flavor("eks", "kubeconfig name is an EKS cluster ARN")
    if any(v.startswith("gke_") for v in names):
        return Flavor("gke", "kubeconfig name gke_<project>_<zone>_<cluster>")
    if _OPENSHIFT_CONTEXT.match(context.name):
        return Flavor("openshift", f"context name {context.name} (oc login naming)")
    if context.server.rstrip("/") == "https://127.0.0.1:6443" and context.cluster == "default" \
            and context.name == "default":
        return Flavor("k3s", "k3s's default kubeconfig (context default, server https://127.0.0.1:6443)")
    return None


def classify(version: Mapping[str, Any] | None, nodes: Sequence[Mapping[str, Any]],
             context: KubeContext | None = None) -> Flavor:
    """The cluster's flavor from what the server said and what the kubeconfig hints.

    ``version`` is ``GET /version`` (``None`` when unknown), ``nodes`` the nodes (full objects,
    PartialObjectMetadata, or ``{"name", "labels"}``; empty when unknown or forbidden).
    """
    git = str((version or {}).get("gitVersion") or "")
    for marker, flavor in _VERSION_MARKERS:
        if marker in git:
            return Flavor(flavor, f"gitVersion {git}")
    found = _from_nodes(nodes)
    if found is not None:
        return found
    if _OPENSHIFT_VERSION.match(git):
        return Flavor("openshift", f"gitVersion {git} (OpenShift build hash)")
    hinted = _from_context(context)
    if hinted is not None:
        return hinted
    if git:
        return Flavor("k8s", f"gitVersion {git} without distribution markers")
    if nodes:
        return Flavor("k8s", f"{len(nodes)} node(s) without distribution markers")
    return Flavor("unknown", "no version, nodes or kubeconfig hints")


# ------------------------------------------------------------------------------------- probe
@dataclass(frozen=True)
class ProbeResult:
    """What :func:`probe_context` found.

    ``reachable``: the API server answered ``/version`` over HTTP(S). ``error`` says why not (or,
    when reachable, why ``/version`` was refused). ``node_count`` is ``None`` when the nodes could
    not be listed (``nodes_error`` says why, e.g. HTTP 403 for a restricted user);
    ``nodes_truncated`` is true when the cluster has more than :data:`NODES_LIMIT` nodes and did
    not say how many.
    """

    reachable: bool
    version: dict[str, Any] | None
    flavor: Flavor
    node_count: int | None
    error: str = ""
    nodes_error: str = ""
    nodes_truncated: bool = False
    elapsed_ms: float = 0.0
    server: str = ""

    @property
    def git_version(self) -> str:
        """``gitVersion`` from ``/version`` (empty when unknown)."""
        return str((self.version or {}).get("gitVersion") or "")


@contextlib.contextmanager
def _pem_files(cert: bytes, key: bytes) -> Iterator[tuple[str, str]]:
    """Temporary 0600 files holding a client certificate and key (the ssl module needs files);
    deleted on exit."""
    paths: list[str] = []
    try:
        for data, suffix in ((cert, ".crt"), (key, ".key")):
            fd, path = tempfile.mkstemp(prefix="tamer-kube-", suffix=suffix)
            paths.append(path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        yield paths[0], paths[1]
    finally:
        for path in paths:
            with contextlib.suppress(OSError):
                os.unlink(path)


def build_ssl_context(params: ConnectionParams, creds: ResolvedCredentials) -> ssl.SSLContext:
    """An SSL context for the context's server: its CA (only it, like kubectl) or the system roots,
    no verification with ``insecure-skip-tls-verify``, and the client certificate if any."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if params.insecure_skip_tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif creds.ca_data:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ca = creds.ca_data
        try:
            if b"-----BEGIN" in ca:
                ctx.load_verify_locations(cadata=ca.decode("ascii", errors="replace"))
            else:
                ctx.load_verify_locations(cadata=ca)
        except (ssl.SSLError, ValueError) as err:
            raise KubeConfigError(f"the certificate authority of cluster {params.cluster!r} is not a usable "
                                  f"certificate: {err}") from None
    if creds.client_cert_data and creds.client_key_data:
        try:
            if (params.client_cert_file and params.client_key_file and not creds.from_exec
                    and params.client_cert_data is None and params.client_key_data is None):
                ctx.load_cert_chain(params.client_cert_file, params.client_key_file)
            else:
                with _pem_files(creds.client_cert_data, creds.client_key_data) as (cert_path, key_path):
                    ctx.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, OSError, ValueError) as err:
            raise KubeConfigError(f"the client certificate of user {params.user!r} cannot be loaded: "
                                  f"{err}") from None
    return ctx


def _bypass(host: str, port: int | None, no_proxy: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None and ip.is_loopback:
        return True
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if ip is not None and "/" in entry:
            with contextlib.suppress(ValueError):
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            continue
        entry_host, _sep, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and (not entry_port.isdigit() or port != int(entry_port)):
            continue
        entry_host = entry_host.lstrip("*")
        if host == entry_host.lstrip(".") or (entry_host and host.endswith("." + entry_host.lstrip("."))):
            return True
    return False


def proxy_for(params: ConnectionParams, env: Mapping[str, str] | None = None) -> str | None:
    """The proxy URL to use: the cluster's ``proxy-url``, else ``HTTPS_PROXY``/``HTTP_PROXY`` from
    the environment unless ``NO_PROXY`` or loopback excludes the server. Raises
    :class:`KubeConfigError` for SOCKS proxies (aiohttp cannot use them)."""
    proxy = params.proxy_url
    parts = urlsplit(params.server)
    if not proxy:
        environ = os.environ if env is None else env
        names = ("HTTPS_PROXY", "https_proxy") if parts.scheme == "https" else ("HTTP_PROXY", "http_proxy")
        proxy = next((environ[n] for n in names if environ.get(n)), "")
        if not proxy:
            return None
        no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy") or ""
        if _bypass((parts.hostname or "").lower(), parts.port, no_proxy):
            return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    if urlsplit(proxy).scheme.lower() not in ("http", "https"):
        raise KubeConfigError(f"proxy {proxy} of cluster {params.cluster!r} is not an HTTP proxy; "
                              "SOCKS proxies are not supported")
    return proxy


def _auth_headers(params: ConnectionParams, creds: ResolvedCredentials,
                  accept: str = "application/json") -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = [("User-Agent", "tamer"), ("Accept", accept)]
    if creds.token:
        headers.append(("Authorization", f"Bearer {creds.token}"))
    elif creds.username or creds.password:
        headers.append(("Authorization", aiohttp.BasicAuth(creds.username, creds.password).encode()))
    if params.impersonate_user:
        headers.append(("Impersonate-User", params.impersonate_user))
        headers.extend(("Impersonate-Group", g) for g in params.impersonate_groups)
        if params.impersonate_uid:
            headers.append(("Impersonate-Uid", params.impersonate_uid))
    return headers


def _status_message(status: int, body: bytes) -> str:
    message = ""
    with contextlib.suppress(ValueError, AttributeError):
        data = json.loads(body)
        if isinstance(data, dict):
            message = str(data.get("message") or "")
    if not message:
        message = body[:200].decode("utf-8", errors="replace").strip()
    reason = {401: "unauthorized", 403: "forbidden", 404: "not found"}.get(status, "error")
    return f"HTTP {status} {reason}" + (f": {message}" if message else "")


def _describe(err: BaseException, server: str) -> str:
    parts = urlsplit(server)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    if isinstance(err, aiohttp.ClientConnectorCertificateError):
        cert_err = err.certificate_error
        detail = getattr(cert_err, "verify_message", "") or str(cert_err)
        return f"TLS certificate of {where} not trusted: {detail}"
    if isinstance(err, aiohttp.ClientConnectorSSLError):
        return f"TLS handshake with {where} failed: {err.os_error}"
    if isinstance(err, aiohttp.ClientProxyConnectionError):
        return f"cannot connect to the proxy for {where}: {err.os_error.strerror or err.os_error}"
    if isinstance(err, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve {parts.hostname}"
    if isinstance(err, aiohttp.ClientConnectorError):
        os_err = err.os_error
        text = os_err.strerror or str(os_err)
        if isinstance(os_err, ConnectionRefusedError):
            text = "connection refused"
        return f"cannot connect to {where}: {text}"
    if isinstance(err, aiohttp.ServerDisconnectedError):
        return f"{where} closed the connection without answering (not an HTTPS API server?)"
    if isinstance(err, ssl.SSLError):
        return f"TLS error with {where}: {err.reason or err}"
    if isinstance(err, aiohttp.ClientError):
        return f"{where}: {type(err).__name__}: {err}"
    return f"{where}: {type(err).__name__}: {err}"


async def _get(session: aiohttp.ClientSession, url: str, headers: list[tuple[str, str]],
               params: ConnectionParams, proxy: str | None) -> tuple[int, bytes]:
    async with session.get(url, headers=headers, proxy=proxy, allow_redirects=False,
                           server_hostname=params.tls_server_name or None) as resp:
        length = resp.content_length
        if length is not None and length > _MAX_BODY:
            raise aiohttp.ClientPayloadError(f"response too large ({length} bytes)")
        return resp.status, await resp.read()


async def probe_context(params: ConnectionParams, timeout: float = 5.0, *, context: KubeContext | None = None,
                        env: Mapping[str, str] | None = None) -> ProbeResult:
    """Reach the context's API server: ``/version``, then the nodes; never raises, never hangs.

    Credentials are resolved in a worker thread (exec plugins included, killed at the deadline).
    The whole probe is bounded by ``timeout`` seconds. ``context`` adds kubeconfig hints to the
    flavor classification.
    """
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    server = params.server.rstrip("/")

    def result(reachable: bool, error: str = "", version: dict[str, Any] | None = None,
               nodes: list[dict[str, Any]] | None = None, node_count: int | None = None,
               nodes_error: str = "", truncated: bool = False) -> ProbeResult:
        return ProbeResult(reachable=reachable, version=version, flavor=classify(version, nodes or [], context),
                           node_count=node_count, error=error, nodes_error=nodes_error, nodes_truncated=truncated,
                           elapsed_ms=round((time.perf_counter() - started) * 1000, 1), server=params.server)

    scheme = urlsplit(server).scheme.lower()
    if scheme not in ("http", "https"):
        return result(False, f"server {params.server!r} is not an http(s) URL")
    try:
        async with asyncio.timeout_at(deadline):
            creds = await asyncio.to_thread(resolve_credentials, params, timeout=max(0.5, timeout))
    except TimeoutError:
        return result(False, f"credentials: no answer from the exec plugin within {timeout:g}s")
    except KubeConfigError as err:
        return result(False, f"credentials: {err}")
    try:
        ssl_ctx = build_ssl_context(params, creds) if scheme == "https" else None
        proxy = proxy_for(params, env)
    except KubeConfigError as err:
        return result(False, str(err))
    headers = _auth_headers(params, creds)
    nodes_headers = _auth_headers(params, creds, _POM_ACCEPT)
    connector = aiohttp.TCPConnector(ssl=ssl_ctx if ssl_ctx is not None else False, force_close=True, limit=4)
    client_timeout = aiohttp.ClientTimeout(total=timeout + 1)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout, trust_env=False) as session:
        try:
            async with asyncio.timeout_at(deadline):
                status, body = await _get(session, server + "/version", headers, params, proxy)
        except TimeoutError:
            return result(False, f"no answer from {params.server} within {timeout:g}s")
        except (aiohttp.ClientError, OSError, ValueError) as err:
            return result(False, _describe(err, params.server))
        if status != 200:
            return result(True, f"/version: {_status_message(status, body)}")
        try:
            version = json.loads(body)
        except ValueError:
            return result(True, f"/version did not return JSON (is {params.server} a Kubernetes API server?)")
        if not isinstance(version, dict):
            return result(True, "/version did not return a JSON object")
        nodes_url = f"{server}/api/v1/nodes?limit={NODES_LIMIT}"
        try:
            async with asyncio.timeout_at(deadline):
                status, body = await _get(session, nodes_url, nodes_headers, params, proxy)
        except TimeoutError:
            return result(True, version=version, nodes_error=f"nodes: no answer within {timeout:g}s")
        except (aiohttp.ClientError, OSError, ValueError) as err:
            return result(True, version=version, nodes_error=f"nodes: {_describe(err, params.server)}")
        if status != 200:
            return result(True, version=version, nodes_error=f"nodes: {_status_message(status, body)}")
        try:
            listing = json.loads(body)
            items = listing.get("items") or []
            meta = listing.get("metadata") or {}
        except (ValueError, AttributeError):
            return result(True, version=version, nodes_error="nodes: the answer is not a list")
        nodes = [item for item in items if isinstance(item, dict)]
        remaining = meta.get("remainingItemCount") if isinstance(meta, dict) else None
        more = bool(meta.get("continue")) if isinstance(meta, dict) else False
        count = len(nodes) + (int(remaining) if isinstance(remaining, int) else 0)
        return result(True, version=version, nodes=nodes, node_count=count,
                      truncated=more and not isinstance(remaining, int))
