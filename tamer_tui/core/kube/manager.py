"""Kubernetes contexts: lazy clients, probes with timeouts, shared informers, and the actions.

Switching contexts never waits on a dead server: a context's client and discovery are built on
first use, every probe has a timeout, and each context keeps its own informers, so several clusters
can be open at once. Every mutation goes through ``guard()`` (``--readonly``, per-context readonly).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from tamer_tui.core.errors import InvalidInput, NotFound, ReadOnlyMode, TamerError
from tamer_tui.core.feeds import FeedMessage
from tamer_tui.core.kube.client import ClientConfig, KubeClient, load_client_config
from tamer_tui.core.kube.flavor import classify
from tamer_tui.core.kube.informer import InformerRegistry
from tamer_tui.core.kube.resources import BUILTIN, ResourceCatalog, ResourceInfo, builtin, discover


@dataclass
class ContextState:
    name: str
    cluster: str = ""
    server: str = ""
    namespace: str = "default"
    user: str = ""
    client: KubeClient | None = None
    catalog: ResourceCatalog | None = None
    version: str = ""
    flavor: str = ""
    reachable: bool | None = None  # None: not probed yet
    error: str = ""
    checked_at: float = 0.0
    node_count: int = -1
    readonly: bool = False


def list_contexts(kubeconfig: str | None) -> tuple[list[dict[str, Any]], str]:
    """(contexts, current) the way kubectl merges KUBECONFIG; blocking (reads files)."""
    from kubernetes import config as k8s_config

    try:
        contexts, current = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
    except Exception as exc:  # noqa: BLE001 - ConfigException, YAML errors, missing file
        raise InvalidInput(f"kubeconfig: {exc}") from None
    return list(contexts or []), str((current or {}).get("name") or "")


class KubeManager:
    """Every context of the loaded kubeconfig, the current one, and the namespace scope."""

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        all_namespaces: bool = False,
        readonly: bool = False,
        readonly_contexts: frozenset[str] = frozenset(),
        favorite_namespaces: dict[str, list[str]] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.readonly = readonly
        self.contexts: dict[str, ContextState] = {}
        self.current = ""
        self.load_error = ""
        self.registry = InformerRegistry()
        self._requested_context = context
        self._requested_namespace = namespace
        self.all_namespaces = all_namespaces
        self.readonly_contexts = readonly_contexts
        self.namespace: str | None = None
        self._client_lock = asyncio.Lock()
        self.discovery_options: dict[str, Any] = {}  # passed to clusters.find_kubeconfigs (tests point paths)
        self.favorites: dict[str, list[str]] = {k: list(v) for k, v in (favorite_namespaces or {}).items()}
        self.recent: dict[str, list[str]] = {}

    # -- loading -------------------------------------------------------------------------------
    def load(self) -> None:
        """Read the kubeconfig (blocking; cheap). Errors are kept in ``load_error``, never raised."""
        try:
            contexts, current = list_contexts(self.kubeconfig)
        except TamerError as exc:
            self.load_error = str(exc)
            return
        for c in contexts:
            state = self._state_from(c)
            self.contexts[state.name] = state
        wanted = self._requested_context or current or (next(iter(self.contexts)) if self.contexts else "")
        if wanted and wanted not in self.contexts:
            self.load_error = f"context {wanted!r} not found in kubeconfig"
            wanted = current if current in self.contexts else next(iter(self.contexts), "")
        self.current = wanted
        self._reset_namespace()

    def _state_from(self, entry: dict[str, Any]) -> ContextState:
        """A kubeconfig context entry (as the official loader lists it) to our state object."""
        ctx = entry.get("context") or {}
        name = str(entry.get("name", ""))
        return ContextState(name=name, cluster=str(ctx.get("cluster", "")), namespace=str(ctx.get("namespace") or "default"),
                            user=str(ctx.get("user", "")), readonly=name in self.readonly_contexts)

    def _reset_namespace(self) -> None:
        state = self.contexts.get(self.current)
        if self.all_namespaces:
            self.namespace = None
        else:
            self.namespace = self._requested_namespace or (state.namespace if state else "default")

    @property
    def available(self) -> bool:
        return bool(self.contexts)

    def state(self, name: str | None = None) -> ContextState:
        name = name or self.current
        if name not in self.contexts:
            raise NotFound(f"no Kubernetes context {name!r}" if name else "no Kubernetes context configured")
        return self.contexts[name]

    def switch(self, name: str) -> None:
        """Make ``name`` current at once (no I/O); informers of the old context keep their cache."""
        self.state(name)
        self.current = name
        self._requested_namespace = None
        self._reset_namespace()

    def set_namespace(self, namespace: str | None) -> None:
        self.all_namespaces = namespace is None
        self.namespace = namespace
        if namespace:
            recent = self.recent.setdefault(self.current, [])
            if namespace in recent:
                recent.remove(namespace)
            recent.insert(0, namespace)
            del recent[9:]

    def namespace_shortcuts(self, context: str | None = None) -> list[str]:
        """Namespaces for the keys 1-9 (k9s style): the configured favorites, then recently used ones."""
        name = context or self.current
        out: list[str] = []
        for ns in [*self.favorites.get(name, []), *self.recent.get(name, [])]:
            if ns not in out:
                out.append(ns)
        return out[:9]

    def guard(self, action: str, context: str | None = None) -> None:
        name = context or self.current
        if self.readonly:
            raise ReadOnlyMode(action)
        if name in self.contexts and self.contexts[name].readonly:
            raise ReadOnlyMode(f"{action} on read-only context {name}")

    # -- clients ---------------------------------------------------------------------------------
    async def client(self, name: str | None = None) -> KubeClient:
        state = self.state(name)
        if state.client is None:
            async with self._client_lock:
                if state.client is None:
                    cfg: ClientConfig = await asyncio.to_thread(load_client_config, self.kubeconfig, state.name)
                    state.server = cfg.server
                    state.client = KubeClient(cfg)
        return state.client

    async def catalog(self, name: str | None = None) -> ResourceCatalog:
        state = self.state(name)
        if state.catalog is None:
            client = await self.client(state.name)
            try:
                state.catalog = await asyncio.wait_for(discover(client), 10)
            except (TamerError, TimeoutError):
                return ResourceCatalog(list(BUILTIN))
        return state.catalog

    async def resolve(self, word: str, name: str | None = None) -> ResourceInfo:
        info = builtin(word)
        if info is not None:
            return info
        return (await self.catalog(name)).lookup(word)

    async def probe(self, name: str, timeout: float = 3.0) -> ContextState:
        """Reachability, version, flavor and node count of one context, within ``timeout``."""
        state = self.state(name)
        try:
            client = await asyncio.wait_for(self.client(name), timeout)
            version = await asyncio.wait_for(client.version(timeout=timeout), timeout)
            state.version = str(version.get("gitVersion", ""))
            nodes: list[dict[str, Any]] = []
            try:
                raw = await asyncio.wait_for(client.get("/api/v1/nodes", {"limit": 500}, what="nodes"), timeout)
                nodes = [{"name": i["metadata"]["name"], "labels": i["metadata"].get("labels") or {}}
                         for i in json.loads(raw).get("items", [])]
                state.node_count = len(nodes)
            except (TamerError, TimeoutError):
                state.node_count = -1
            state.flavor = classify(version, nodes).name  # server version, node names and labels
            state.reachable = True
            state.error = ""
        except TimeoutError:
            state.reachable = False
            state.error = f"no answer within {timeout:.0f}s"
        except TamerError as exc:
            state.reachable = False
            state.error = str(exc)
        state.checked_at = time.time()
        return state

    # -- kubeconfigs found elsewhere ----------------------------------------------------------
    async def discover_unmerged(self, list_containers: Any = ()) -> Any:
        """k3s, minikube, kind and WSL kubeconfigs that are not merged into the loaded one."""
        from tamer_tui.core.kube.clusters import discover
        from tamer_tui.core.kube.kubeconfig import load_kubeconfig

        loaded = await asyncio.to_thread(load_kubeconfig, self.kubeconfig)
        return await discover(loaded, list_containers, **self.discovery_options)

    async def import_found(self, found: Any) -> Any:
        """Merge a found kubeconfig into the first kubeconfig file (backup first, clashes renamed)."""
        import os

        from tamer_tui.core.kube.kubeconfig_import import default_dest, import_kubeconfigs, source_from_found

        self.guard("import kubeconfig")
        first = (self.kubeconfig or "").split(os.pathsep)[0] if self.kubeconfig else None
        dest = first or str(default_dest())
        result = await asyncio.to_thread(import_kubeconfigs, [source_from_found(found)], dest, rename=True)
        self.reload()
        return result

    def reload(self) -> None:
        """Re-read the kubeconfig, adding new contexts (existing ones keep their clients and caches)."""
        try:
            contexts, _current = list_contexts(self.kubeconfig)
        except TamerError as exc:
            self.load_error = str(exc)
            return
        for c in contexts:
            state = self._state_from(c)
            self.contexts.setdefault(state.name, state)
        if not self.current and self.contexts:
            self.current = next(iter(self.contexts))
            self._reset_namespace()

    async def close(self) -> None:
        for inf in list(self.registry.informers.values()):
            await inf.stop()
        for s in self.contexts.values():
            if s.client is not None:
                await s.client.close()

    # -- feeds -----------------------------------------------------------------------------------
    async def feed(self, info: ResourceInfo, namespace: str | None, label_selector: str | None = None,
                   context: str | None = None, field_selector: str | None = None) -> AsyncIterator[FeedMessage]:
        client = await self.client(context)
        informer = self.registry.get(client, info, namespace, label_selector, field_selector)
        async for msg in informer.subscribe():
            yield msg

    # -- objects and actions ---------------------------------------------------------------------
    async def get_object(self, info: ResourceInfo, namespace: str, name: str, context: str | None = None) -> dict[str, Any]:
        client = await self.client(context)
        data = await client.get(info.path(namespace or None, name), what=f"{info.kind} {namespace}/{name}".rstrip("/"))
        obj: dict[str, Any] = json.loads(data)
        return obj

    async def events_for(self, kind: str, namespace: str, name: str, context: str | None = None) -> list[dict[str, Any]]:
        client = await self.client(context)
        params = {"fieldSelector": f"involvedObject.name={name},involvedObject.kind={kind}"}
        path = f"/api/v1/namespaces/{namespace}/events" if namespace else "/api/v1/events"
        try:
            items = json.loads(await client.get(path, params, what="events")).get("items", [])
        except TamerError:
            return []
        items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        return list(items)

    async def delete(self, info: ResourceInfo, namespace: str, name: str, *, grace: int | None = None,
                     force: bool = False, context: str | None = None) -> None:
        self.guard(f"delete {info.kind.lower()}", context)
        client = await self.client(context)
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if force:
            body["gracePeriodSeconds"] = 0
        elif grace is not None:
            body["gracePeriodSeconds"] = grace
        await client.request("DELETE", info.path(namespace or None, name), body=json.dumps(body).encode(),
                             what=f"delete {info.kind} {namespace}/{name}")

    async def patch(self, info: ResourceInfo, namespace: str, name: str, patch: dict[str, Any], *,
                    kind: str = "application/merge-patch+json", action: str = "patch", subresource: str | None = None,
                    context: str | None = None) -> dict[str, Any]:
        self.guard(action, context)
        client = await self.client(context)
        data = await client.request("PATCH", info.path(namespace or None, name, subresource),
                                    body=json.dumps(patch).encode(), content_type=kind,
                                    params={"fieldManager": "tamer"}, what=f"{action} {info.kind} {namespace}/{name}")
        result: dict[str, Any] = json.loads(data)
        return result

    async def scale(self, info: ResourceInfo, namespace: str, name: str, replicas: int,
                    context: str | None = None) -> None:
        if replicas < 0:
            raise InvalidInput("replicas must be >= 0")
        await self.patch(info, namespace, name, {"spec": {"replicas": replicas}}, action="scale",
                         subresource="scale", context=context)

    async def rollout_restart(self, info: ResourceInfo, namespace: str, name: str, context: str | None = None) -> None:
        if info.plural not in ("deployments", "statefulsets", "daemonsets"):
            raise InvalidInput(f"cannot restart a {info.kind}")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
        await self.patch(info, namespace, name, patch, kind="application/strategic-merge-patch+json",
                         action="rollout restart", context=context)

    async def cordon(self, name: str, unschedulable: bool = True, context: str | None = None) -> None:
        info = builtin("nodes")
        assert info is not None
        await self.patch(info, "", name, {"spec": {"unschedulable": unschedulable}},
                         action="cordon" if unschedulable else "uncordon", context=context)

    async def drain(self, node: str, context: str | None = None) -> tuple[list[str], list[str]]:
        """kubectl drain: cordon, then evict every pod on the node except DaemonSet and mirror pods
        (eviction API; plain delete where the server has no eviction subresource).
        Returns (evicted, skipped) as ``ns/name`` lists."""
        self.guard("drain", context)
        await self.cordon(node, True, context)
        client = await self.client(context)
        raw = await client.get("/api/v1/pods", {"fieldSelector": f"spec.nodeName={node}"}, what=f"pods on {node}")
        evicted: list[str] = []
        skipped: list[str] = []
        pods_info = builtin("pods")
        assert pods_info is not None
        for pod in json.loads(raw).get("items", []):
            meta = pod.get("metadata") or {}
            ns, name = meta.get("namespace", ""), meta.get("name", "")
            owners = [o.get("kind") for o in meta.get("ownerReferences") or []]
            if "DaemonSet" in owners or "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
                skipped.append(f"{ns}/{name}")
                continue
            body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
            try:
                await client.request("POST", pods_info.path(ns, name, "eviction"), body=json.dumps(body).encode(),
                                     what=f"evict {ns}/{name}")
            except (NotFound, InvalidInput):
                try:
                    await client.request("DELETE", pods_info.path(ns, name), what=f"delete {ns}/{name}")
                except NotFound:
                    pass
            evicted.append(f"{ns}/{name}")
        return evicted, skipped

    async def cronjob_suspend(self, namespace: str, name: str, suspend: bool, context: str | None = None) -> None:
        info = builtin("cronjobs")
        assert info is not None
        await self.patch(info, namespace, name, {"spec": {"suspend": suspend}},
                         action="suspend" if suspend else "resume", context=context)

    async def cronjob_trigger(self, namespace: str, name: str, context: str | None = None) -> str:
        """Create a Job from the CronJob's template (kubectl create job --from=cronjob/NAME)."""
        self.guard("trigger cronjob", context)
        cj_info = builtin("cronjobs")
        job_info = builtin("jobs")
        assert cj_info is not None and job_info is not None
        cj = await self.get_object(cj_info, namespace, name, context)
        template = (cj.get("spec") or {}).get("jobTemplate") or {}
        job_name = f"{name}-manual-{int(time.time()) % 100000}"
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": job_name,
                "namespace": namespace,
                "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                "labels": (template.get("metadata") or {}).get("labels") or {},
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": name,
                                     "uid": cj["metadata"]["uid"], "controller": True}],
            },
            "spec": template.get("spec") or {},
        }
        client = await self.client(context)
        await client.request("POST", job_info.path(namespace), body=json.dumps(job).encode(),
                             params={"fieldManager": "tamer"}, what=f"create job {job_name}")
        return job_name


def decode_secret_data(obj: dict[str, Any]) -> dict[str, str]:
    """A Secret's data, base64-decoded (binary values shown as a size)."""
    out: dict[str, str] = {}
    for k, v in (obj.get("data") or {}).items():
        try:
            raw = base64.b64decode(v or "")
            out[k] = raw.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            out[k] = f"<{len(v or '')} bytes of binary data>"
    for k, v in (obj.get("stringData") or {}).items():
        out[k] = str(v)
    return out


def strip_for_view(obj: dict[str, Any], keep_managed_fields: bool = False) -> dict[str, Any]:
    """The object as shown in the YAML view: managedFields hidden unless asked for."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    if not keep_managed_fields:
        meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


@dataclass
class Selection:
    """What a row points at, for actions and drill-down."""

    context: str
    info: ResourceInfo
    namespace: str
    name: str
    extra: dict[str, Any] = field(default_factory=dict)
