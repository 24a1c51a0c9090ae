"""Kubernetes navigation and actions for the app: `:pods -n web`, `:ctx`, drill-down, describe, scale ...

Mixed into ``TamerApp``. Resource words come from the built-in table and the cluster's discovery;
targets are ``KIND/NAMESPACE/NAME`` (or ``KIND/NAME`` for cluster-scoped kinds and the current
namespace). Every backend call runs in a worker; mutations pass the kube manager's readonly guard.
"""

from __future__ import annotations

import json
import shlex
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from textual import work

from tamer_tui.core.commands import KIND_ALIASES
from tamer_tui.core.errors import InvalidInput, NotFound, TamerError
from tamer_tui.core.kube.describe import describe
from tamer_tui.core.kube.manager import KubeManager, decode_secret_data, strip_for_view
from tamer_tui.core.kube.resources import ResourceInfo, builtin
from tamer_tui.core.kube.rows import KubeRow
from tamer_tui.ui.screens.kube_resource_screen import KubeResourceScreen, kube_screen_key

if TYPE_CHECKING:
    from tamer_tui.ui.app import TamerApp

MAX_KUBE_SCREENS = 8  # installed (live) kube screens kept; older ones are dropped and stop watching


def split_kube_args(words: list[str]) -> tuple[str | None, bool, str | None, str | None]:
    """``-n NS``, ``-A``, ``-l SELECTOR``, ``--context NAME`` (also ``-nNS``, ``--namespace=NS``)."""
    namespace: str | None = None
    all_ns = False
    selector: str | None = None
    context: str | None = None
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if w in ("-A", "--all-namespaces"):
            all_ns = True
        elif w in ("-n", "--namespace") and nxt:
            namespace, i = nxt, i + 1
        elif w.startswith("--namespace="):
            namespace = w.split("=", 1)[1]
        elif w.startswith("-n") and len(w) > 2:
            namespace = w[2:]
        elif w in ("-l", "--selector") and nxt:
            selector, i = nxt, i + 1
        elif w.startswith("--selector="):
            selector = w.split("=", 1)[1]
        elif w == "--context" and nxt:
            context, i = nxt, i + 1
        elif w.startswith("--context="):
            context = w.split("=", 1)[1]
        elif not w.startswith("-") and namespace is None and not all_ns:
            namespace = w  # k9s: `:pods kube-system`
        else:
            raise InvalidInput(f"unknown option {w!r} (use -n NS, -A, -l SELECTOR, --context NAME)")
        i += 1
    return namespace, all_ns, selector, context


def is_kube_target(text: str) -> bool:
    head = text.split("/", 1)[0].lower()
    return "/" in text and head not in KIND_ALIASES


class KubeNavigation:
    """The Kubernetes half of the app (navigation, drill-down, actions)."""

    kube_screens: OrderedDict[str, KubeResourceScreen]

    @property
    def kube(self: TamerApp) -> KubeManager:  # type: ignore[misc]
        if self.session.kube is None:
            raise NotFound("no Kubernetes configuration (no kubeconfig found)")
        return self.session.kube  # type: ignore[no-any-return]

    def kube_available(self: TamerApp) -> bool:  # type: ignore[misc]
        return self.session.kube is not None and self.session.kube.available

    # -- navigation --------------------------------------------------------------------------
    @work(group="kube-nav", exclusive=True)
    async def kube_command(self: TamerApp, word: str, args: list[str]) -> None:  # type: ignore[misc]
        """``:pods``, ``:deploy -n web``, ``:crd``, ``:widgets.example.com -A``."""
        try:
            namespace, all_ns, selector, context = split_kube_args(args)
            kube = self.kube
            if context:
                kube.switch(context)
            info = await kube.resolve(word, context)
            ns = None if all_ns else (namespace or kube.namespace)
            if namespace:
                kube.set_namespace(namespace)
            elif all_ns:
                kube.set_namespace(None)
            self.kube_navigate(info, ns, selector, context=context)
        except TamerError as exc:
            self.report(str(exc), "error")

    def kube_navigate(self: TamerApp, info: ResourceInfo, namespace: str | None,  # type: ignore[misc]
                      label_selector: str | None = None, *, context: str | None = None,
                      field_selector: str | None = None) -> KubeResourceScreen:
        ctx = context or self.kube.current
        key = kube_screen_key(ctx, info, namespace if info.namespaced else None, label_selector, field_selector)
        if key not in self.kube_screens:
            screen = KubeResourceScreen(ctx, info, namespace, label_selector, field_selector)
            self.install_screen(screen, key)
            self.kube_screens[key] = screen
            self._trim_kube_screens(keep=key)
        else:
            self.kube_screens.move_to_end(key)
        self._navigate(key)
        self._update_header()
        return self.kube_screens[key]

    def _trim_kube_screens(self: TamerApp, keep: str) -> None:  # type: ignore[misc]
        while len(self.kube_screens) > MAX_KUBE_SCREENS:
            oldest, screen = next(iter(self.kube_screens.items()))
            if oldest == keep or screen in self.screen_stack:
                self.kube_screens.move_to_end(oldest)
                if all(s in self.screen_stack or k == keep for k, s in self.kube_screens.items()):
                    return
                continue
            del self.kube_screens[oldest]
            self.history = [h for h in self.history if h != oldest]
            self.uninstall_screen(oldest)

    def kube_open(self: TamerApp, screen: KubeResourceScreen, row: KubeRow) -> None:  # type: ignore[misc]
        self._kube_open(screen.context, screen.info, row)

    @work(group="kube-open")
    async def _kube_open(self: TamerApp, context: str, info: ResourceInfo, row: KubeRow) -> None:  # type: ignore[misc]
        """Enter on a row: a workload's or service's pods, a node's pods, a namespace's pods, else describe."""
        kube = self.kube
        pods = builtin("pods")
        assert pods is not None
        try:
            if info.plural == "namespaces":
                kube.set_namespace(row.name)
                self.kube_navigate(pods, row.name, context=context)
            elif info.plural == "nodes":
                self.kube_navigate(pods, None, context=context, field_selector=f"spec.nodeName={row.name}")
            elif info.plural in ("deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "services"):
                obj = await kube.get_object(info, row.namespace, row.name, context)
                spec = obj.get("spec") or {}
                labels = spec.get("selector") if info.plural == "services" else (spec.get("selector") or {}).get(
                    "matchLabels")
                if not labels:
                    raise InvalidInput(f"{info.kind} {row.name} has no selector")
                selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
                self.kube_navigate(pods, row.namespace, selector, context=context)
            elif info.plural == "customresourcedefinitions":
                obj = await kube.get_object(info, "", row.name, context)
                plural = f"{obj['spec']['names']['plural']}.{obj['spec']['group']}"
                catalog = await kube.catalog(context)
                catalog.add([])  # discovery may predate the CRD: refresh below if unknown
                target = catalog.find(plural)
                if target is None:
                    kube.state(context).catalog = None
                    target = (await kube.catalog(context)).lookup(plural)
                self.kube_navigate(target, None if not target.namespaced else kube.namespace, context=context)
            else:
                await self._kube_describe(context, info, row.namespace, row.name)
        except TamerError as exc:
            self.report(str(exc), "error")

    @work(group="kube-open")
    async def kube_jump_to_owner(self: TamerApp, context: str, row: KubeRow) -> None:  # type: ignore[misc]
        kind, _, name = row.owner.partition("/")
        try:
            info = await self.kube.resolve(kind.lower(), context)
        except TamerError as exc:
            self.report(str(exc), "error")
            return
        ns = row.namespace if info.namespaced else None
        key = f"{context}/{row.namespace if info.namespaced else ''}/{name}"
        screen = self.kube_navigate(info, ns, context=context)
        screen.pending_select = key
        if screen.is_mounted and screen.table.select_key(key):
            screen.pending_select = None

    def kube_jump_to_node(self: TamerApp, context: str, node: str) -> None:  # type: ignore[misc]
        nodes = builtin("nodes")
        assert nodes is not None
        key = f"{context}//{node}"
        screen = self.kube_navigate(nodes, None, context=context)
        screen.pending_select = key
        if screen.is_mounted and screen.table.select_key(key):
            screen.pending_select = None

    # -- targets and actions -------------------------------------------------------------------
    async def resolve_kube_target(self: TamerApp, text: str) -> tuple[str, ResourceInfo, str, str]:  # type: ignore[misc]
        """``pod/ns/name``, ``deploy/name`` (current namespace), ``node/name``, ``ctx:pod/ns/name``."""
        kube = self.kube
        context = kube.current
        if ":" in text.split("/", 1)[0]:
            context, _, text = text.partition(":")
        word, _, rest = text.partition("/")
        info = await kube.resolve(word, context)
        if not rest:
            raise InvalidInput(f"target {text!r} has no name")
        if info.namespaced:
            ns, _, name = rest.rpartition("/")
            ns = ns or kube.namespace or kube.state(context).namespace
        else:
            ns, name = "", rest
        return context, info, ns, name

    async def _kube_describe(self: TamerApp, context: str, info: ResourceInfo, ns: str, name: str) -> None:  # type: ignore[misc]
        kube = self.kube
        obj = await kube.get_object(info, ns, name, context)
        events = await kube.events_for(obj.get("kind", info.kind), ns, name, context)
        text = describe(obj, events)
        if info.plural == "nodes":
            text = await self._node_usage_section(context, obj) + text
        self.show_text(f"describe {info.kind.lower()} {ns + '/' if ns else ''}{name}", text)

    async def _node_usage_section(self: TamerApp, context: str, node: dict[str, Any]) -> str:  # type: ignore[misc]
        """Capacity vs allocatable vs used (metrics.k8s.io) vs requested by the node's pods."""
        from tamer_tui.core.kube.metrics import node_usage
        from tamer_tui.core.kube.rows import quantity
        from tamer_tui.ui.format import human_bytes_iec

        kube = self.kube
        name = node["metadata"]["name"]
        status = node.get("status") or {}
        client = await kube.client(context)
        try:
            usage = (await node_usage(client) or {}).get(name)
        except TamerError:
            usage = None
        pods_raw = await client.get("/api/v1/pods", {"fieldSelector": f"spec.nodeName={name}"}, what="pods on node")
        pods = [p for p in json.loads(pods_raw).get("items", [])
                if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        req_cpu = sum(quantity(((c.get("resources") or {}).get("requests") or {}).get("cpu"))
                      for p in pods for c in (p.get("spec") or {}).get("containers") or [])
        req_mem = sum(quantity(((c.get("resources") or {}).get("requests") or {}).get("memory"))
                      for p in pods for c in (p.get("spec") or {}).get("containers") or [])
        alloc = status.get("allocatable") or {}
        cap = status.get("capacity") or {}
        a_cpu, a_mem = quantity(alloc.get("cpu")), quantity(alloc.get("memory"))

        def pct(v: float, total: float) -> str:
            return f"{100 * v / total:.0f}%" if total else "-"

        lines = ["Resources (capacity / allocatable / requested by pods / used now):",
                 f"  cpu     {quantity(cap.get('cpu')):.2f} / {a_cpu:.2f} / {req_cpu:.2f} ({pct(req_cpu, a_cpu)}) / "
                 + (f"{usage.cpu:.2f} ({pct(usage.cpu, a_cpu)})" if usage else "n/a (no metrics.k8s.io)"),
                 f"  memory  {human_bytes_iec(quantity(cap.get('memory')))} / {human_bytes_iec(a_mem)} / "
                 f"{human_bytes_iec(req_mem)} ({pct(req_mem, a_mem)}) / "
                 + (f"{human_bytes_iec(usage.memory)} ({pct(usage.memory, a_mem)})" if usage else "n/a"),
                 f"  pods    {len(pods)} running on the node (enter on the node lists them)", "", ""]
        return "\n".join(lines)

    async def kube_action(self: TamerApp, verb: str, args: tuple[str, ...]) -> None:  # type: ignore[misc]
        """Command-mode actions on Kubernetes targets (called from actions.cmd_*)."""
        if not args:
            raise InvalidInput(f"usage: {verb} KIND/NAMESPACE/NAME")
        kube = self.kube
        context, info, ns, name = await self.resolve_kube_target(args[0])
        label = f"{info.kind.lower()} {ns + '/' if ns else ''}{name}"
        if verb == "describe":
            await self._kube_describe(context, info, ns, name)
        elif verb == "yaml":
            obj = strip_for_view(await kube.get_object(info, ns, name, context))
            if info.plural == "secrets":
                obj = dict(obj, data={k: "••••••••" for k in (obj.get("data") or {})})
            self.show_inspect(f"{label} ({context})", obj)
        elif verb == "reveal":
            obj = await kube.get_object(info, ns, name, context)
            self.show_secret(label, decode_secret_data(obj))
        elif verb in ("rm", "kill"):
            kube.guard(f"delete {info.kind.lower()}", context)
            force = verb == "kill" or "--force" in args
            question = f"{'Kill (force delete)' if force else 'Delete'} {label} in {context}?"
            if not await self.confirm(question, "Kill" if force else "Delete"):
                self.report("delete cancelled")
                return
            grace = None
            for a in args[1:]:
                if a.startswith("--grace-period="):
                    grace = int(a.split("=", 1)[1])
            await kube.delete(info, ns, name, grace=grace, force=force, context=context)
            self.report(f"deleted {label}")
        elif verb == "scale":
            if len(args) < 2 or not args[1].lstrip("=").isdigit():
                raise InvalidInput("usage: scale KIND/NAMESPACE/NAME REPLICAS")
            await kube.scale(info, ns, name, int(args[1].lstrip("=")), context=context)
            self.report(f"scaled {label} to {args[1].lstrip('=')}")
        elif verb == "restart":
            await kube.rollout_restart(info, ns, name, context=context)
            self.report(f"restarted {label}")
        elif verb in ("cordon", "uncordon"):
            await kube.cordon(name, verb == "cordon", context=context)
            self.report(f"{verb}ed node {name}")
        elif verb == "drain":
            kube.guard("drain", context)
            if not await self.confirm(f"Drain node {name} in {context} (cordon, then evict its pods)?", "Drain"):
                self.report("drain cancelled")
                return
            evicted, skipped = await kube.drain(name, context=context)
            self.report(f"drained {name}: {len(evicted)} pods evicted, {len(skipped)} DaemonSet pods left")
        elif verb == "trigger":
            job = await kube.cronjob_trigger(ns, name, context=context)
            self.report(f"created job {ns}/{job}")
        elif verb in ("suspend", "unsuspend"):
            await kube.cronjob_suspend(ns, name, verb == "suspend", context=context)
            self.report(f"{verb}ed cronjob {ns}/{name}")
        else:
            raise InvalidInput(f"{verb} does not apply to Kubernetes objects")

    def show_secret(self: TamerApp, title: str, values: dict[str, str]) -> None:  # type: ignore[misc]
        from tamer_tui.ui.screens.secret_screen import SecretScreen

        self.push_screen(SecretScreen(title, values))


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2)


def words_of(text: str) -> list[str]:
    try:
        return shlex.split(text.strip().lstrip(":"))
    except ValueError as exc:
        raise InvalidInput(f"cannot parse {text!r}: {exc}") from None
