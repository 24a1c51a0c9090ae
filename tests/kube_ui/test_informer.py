"""The informer against `tamer sim`: list+watch, 410 Gone re-list, bursts, forbidden, sharing."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from tamer_tui.core.feeds import Remove, Snapshot, SourceStatus, Upsert
from tamer_tui.core.kube.client import Gone, KubeClient, load_client_config
from tamer_tui.core.kube.informer import Informer, InformerRegistry
from tamer_tui.core.kube.resources import builtin
from tests.kube_ui.conftest import kubectl


async def _collect(inf: Informer, out: list[Any]) -> None:
    async for msg in inf.subscribe():
        out.append(msg)


async def _until(pred: Any, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_watch_expired_is_gone_and_relists(sim: Any) -> None:
    """A watch from a compacted-away resourceVersion raises Gone (410); the run loop answers Gone by
    re-listing, emitting a fresh snapshot; changes keep flowing afterwards."""
    client = KubeClient(load_client_config(sim.kubeconfig, sim.context))
    inf = Informer(client, builtin("configmaps"), "default")
    msgs: list[Any] = []
    task = asyncio.create_task(_collect(inf, msgs))
    try:
        await _until(lambda: inf.status.lists == 1 and inf.status.state == "live")
        old_rv = inf.status.resource_version
        kubectl(sim, "create", "configmap", "tamer-informer-cm0", "-n", "default", "--from-literal=a=b")
        fut = asyncio.run_coroutine_threadsafe(_compact(sim), sim.cluster.loop)
        await asyncio.wrap_future(fut)
        probe = Informer(client, builtin("configmaps"), "default")
        with pytest.raises(Gone):
            await probe._watch(old_rv)
        # the shared informer's own stream: force it to re-watch from the compacted version
        inf.watch_timeout = 1
        kubectl(sim, "create", "configmap", "tamer-informer-cm", "-n", "default", "--from-literal=a=b")
        await _until(lambda: any(isinstance(m, Upsert) and any(r.name == "tamer-informer-cm" for r in m.rows)
                                 for m in msgs))
        kubectl(sim, "delete", "configmap", "tamer-informer-cm", "-n", "default")
        await _until(lambda: any(isinstance(m, Remove) and any(k.endswith("/tamer-informer-cm") for k in m.keys)
                                 for m in msgs))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


async def _compact(sim: Any) -> None:
    sim.cluster.store.compact()


async def test_run_loop_relists_on_gone(sim: Any, monkeypatch: Any) -> None:
    """When a watch answers 410 the informer lists again and emits a new snapshot."""
    client = KubeClient(load_client_config(sim.kubeconfig, sim.context))
    inf = Informer(client, builtin("namespaces"), None)
    calls = {"n": 0}
    real_watch = inf._watch

    async def watch_once_gone(rv: str) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Gone("too old resource version")
        return await real_watch(rv)

    monkeypatch.setattr(inf, "_watch", watch_once_gone)
    msgs: list[Any] = []
    task = asyncio.create_task(_collect(inf, msgs))
    try:
        await _until(lambda: inf.status.lists >= 2 and inf.status.state == "live")
        assert sum(isinstance(m, Snapshot) for m in msgs) >= 2
        assert any(isinstance(m, SourceStatus) and "410" in m.message for m in msgs)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


async def test_burst_of_changes_arrives_complete(sim: Any) -> None:
    """200 configmaps created quickly all arrive through the watch (none lost), batched into few messages."""
    client = KubeClient(load_client_config(sim.kubeconfig, sim.context))
    inf = Informer(client, builtin("configmaps"), "kube-public")
    msgs: list[Any] = []
    task = asyncio.create_task(_collect(inf, msgs))
    try:
        await _until(lambda: inf.status.state == "live")
        docs = "\n---\n".join(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: burst-{i}\n  namespace: kube-public\ndata:\n  i: '{i}'"
            for i in range(200))
        kubectl(sim, "create", "namespace", "kube-public", check=False)
        kubectl(sim, "apply", "-f", "-", input=docs)
        await _until(lambda: sum(1 for k in inf.rows if "/burst-" in k) == 200, timeout=30)
        upserts = [m for m in msgs if isinstance(m, Upsert)]
        assert len(upserts) < 200  # batched
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


async def test_forbidden_is_reported(sim: Any) -> None:
    """The restricted user listing pods in all namespaces: state 'forbidden' with the server's message."""
    client = KubeClient(load_client_config(sim.kubeconfig, sim.restricted_context))
    inf = Informer(client, builtin("pods"), None)
    msgs: list[Any] = []
    task = asyncio.create_task(_collect(inf, msgs))
    try:
        await _until(lambda: any(isinstance(m, SourceStatus) and m.state == "forbidden" for m in msgs))
        status = next(m for m in msgs if isinstance(m, SourceStatus) and m.state == "forbidden")
        assert "forbidden" in status.message and "pods" in status.message
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


async def test_registry_shares_and_stops(sim: Any) -> None:
    """Two subscribers share one informer (one list); it stops when the last one leaves."""
    client = KubeClient(load_client_config(sim.kubeconfig, sim.context))
    reg = InformerRegistry()
    info = builtin("namespaces")
    a = reg.get(client, info, None)
    b = reg.get(client, info, None)
    assert a is b
    m1: list[Any] = []
    m2: list[Any] = []
    t1 = asyncio.create_task(_collect(a, m1))
    await _until(lambda: a.status.state == "live")
    t2 = asyncio.create_task(_collect(b, m2))
    await _until(lambda: any(isinstance(m, Snapshot) and m.rows for m in m2))
    assert a.status.lists == 1
    t1.cancel()
    t2.cancel()
    for t in (t1, t2):
        with contextlib.suppress(asyncio.CancelledError):
            await t
    await _until(lambda: a._task is None)
    await client.close()
