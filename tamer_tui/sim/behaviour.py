"""The simulator's behaviour layer: seeding, controllers, logs, exec/attach, port-forward, metrics.

The API server (:mod:`tamer_tui.sim.server`) calls :func:`attach` once its loop runs (before
serving), adds :func:`routes` in front of its generic API routes (after authentication and
authorization) and awaits :func:`detach` on shutdown.

What :func:`attach` leaves in ``cluster.extras``:

* ``"seed"``: :class:`tamer_tui.sim.seed.SeedData` statistics (``"seed_seconds"``: seeding time);
* ``"logs"``: the :class:`~tamer_tui.sim.logs.LogModel`;
* ``"metrics"``: the :class:`~tamer_tui.sim.metrics.MetricsModel`;
* ``"controllers"``: the :class:`~tamer_tui.sim.controllers.Controllers` (when
  ``options.controllers``), whose thread-safe methods drive the cluster from tests or the demo:
  ``set_node_ready(name, False)`` (node NotReady), ``set_time_speed(60)`` (cron clock 60x),
  ``trigger_cronjob(ns, name)``, ``configure(crash_backoff=1, ...)``;
* ``"exec"`` / ``"portforward"``: the WebSocket handlers.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tamer_tui.sim.controllers import ControllerConfig, Controllers
from tamer_tui.sim.exec_ws import ExecHandler, Filesystems, shell_env
from tamer_tui.sim.logs import LogModel, handle_log
from tamer_tui.sim.metrics import MetricsModel
from tamer_tui.sim.portforward import PortForwardHandler
from tamer_tui.sim.seed import build_seed
from tamer_tui.sim.store import ResourceType, Store

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tamer_tui.sim.cluster import Cluster

log = logging.getLogger(__name__)

METRICS = "/apis/metrics.k8s.io/v1beta1"


def seed_store(cluster: Cluster) -> dict[str, Any]:
    """Build the seed for ``cluster.options`` and bulk-load it; returns counts and timing."""
    opts = cluster.options
    started = time.perf_counter()
    data = build_seed(name=opts.name, flavor=opts.flavor, pods=opts.pods, namespaces=opts.namespaces, nodes=opts.nodes,
                      seed=opts.seed, kube_version=cluster.kube_version)
    built = time.perf_counter()
    by_key: dict[str, ResourceType] = {t.key: t for t in cluster.store.types()}
    counts: dict[str, int] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for key, objs in data.items():
            rtype = by_key.get(key)
            if rtype is None:
                log.warning("seed: type %s is not served, %d objects skipped", key, len(objs))
                continue
            cluster.store.bulk_load(rtype, objs)
            counts[key] = len(objs)
    finally:
        if gc_was_enabled:
            gc.enable()
    if opts.pods > 5000:
        # tens of thousands of long-lived dicts: keep the cyclic GC from rescanning them forever
        gc.freeze()
    done = time.perf_counter()
    return {"counts": counts, "build_seconds": built - started, "load_seconds": done - built, "seed_seconds": done - started,
            "nodes": list(data.node_names)}


def attach(cluster: Cluster) -> None:
    """Seed objects into ``cluster.store`` and start the controllers (on the cluster's loop)."""
    opts = cluster.options
    cluster.extras["seed"] = seed_store(cluster)
    logs = LogModel(seed=opts.seed, default_rate=opts.log_rate)
    filesystems = Filesystems()
    exec_handler = ExecHandler(cluster, logs, filesystems)
    cluster.extras["logs"] = logs
    cluster.extras["filesystems"] = filesystems
    cluster.extras["exec"] = exec_handler
    cluster.extras["portforward"] = PortForwardHandler(cluster)
    cluster.extras["metrics"] = MetricsModel(cluster)
    if opts.controllers:
        config = cluster.extras.get("controller_config")
        if isinstance(config, dict):
            config = ControllerConfig(**config)
        if not isinstance(config, ControllerConfig):
            config = ControllerConfig()

        def env_builder(store: Store, pod: dict[str, Any], container: str) -> Any:
            return shell_env(store, pod, container, filesystems)

        ctrl = Controllers(cluster, config, logs, env_builder=env_builder, main_processes=exec_handler.main_processes)
        ctrl.start(cluster.loop)
        cluster.extras["controllers"] = ctrl


async def detach(cluster: Cluster) -> None:
    """Stop controllers and sessions."""
    ctrl = cluster.extras.get("controllers")
    if isinstance(ctrl, Controllers):
        await ctrl.stop()
    exec_handler = cluster.extras.get("exec")
    if isinstance(exec_handler, ExecHandler):
        await exec_handler.close()


def routes(cluster: Cluster) -> list[web.RouteDef]:
    """aiohttp routes for logs, exec, attach, port-forward and the metrics API."""

    def extras(name: str) -> Any:
        value = cluster.extras.get(name)
        if value is None:
            raise web.HTTPServiceUnavailable(text=f"simulator behaviour {name!r} is not running")
        return value

    async def log_handler(request: web.Request) -> web.StreamResponse:
        return await handle_log(request, cluster, extras("logs"))

    async def exec_handler(request: web.Request) -> web.StreamResponse:
        result: web.StreamResponse = await extras("exec").exec(request)
        return result

    async def attach_handler(request: web.Request) -> web.StreamResponse:
        result: web.StreamResponse = await extras("exec").attach(request)
        return result

    async def portforward_handler(request: web.Request) -> web.StreamResponse:
        result: web.StreamResponse = await extras("portforward").handle(request)
        return result

    async def node_metrics(request: web.Request) -> web.StreamResponse:
        result: web.StreamResponse = await extras("metrics").nodes(request)
        return result

    async def pod_metrics(request: web.Request) -> web.StreamResponse:
        result: web.StreamResponse = await extras("metrics").pods(request)
        return result

    pod = "/api/v1/namespaces/{namespace}/pods/{name}"
    return [
        web.get(f"{pod}/log", log_handler),
        web.get(f"{pod}/exec", exec_handler, allow_head=False),
        web.post(f"{pod}/exec", exec_handler),
        web.get(f"{pod}/attach", attach_handler, allow_head=False),
        web.post(f"{pod}/attach", attach_handler),
        web.get(f"{pod}/portforward", portforward_handler, allow_head=False),
        web.post(f"{pod}/portforward", portforward_handler),
        web.get(f"{METRICS}/nodes", node_metrics),
        web.get(f"{METRICS}/nodes/{{name}}", node_metrics),
        web.get(f"{METRICS}/pods", pod_metrics),
        web.get(f"{METRICS}/namespaces/{{namespace}}/pods", pod_metrics),
        web.get(f"{METRICS}/namespaces/{{namespace}}/pods/{{name}}", pod_metrics),
    ]
