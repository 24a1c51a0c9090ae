"""Live feeds survive the daemon going away: they say so, retry with backoff and recover by themselves.

The daemon is reached through a unix-socket proxy that the test stops and restarts (a real
dockerd sits behind it; only the connection is cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.feeds import Remove, Snapshot, SourceStatus, Upsert, runtime_feed
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tests import services
from tests.socket_proxy import SocketProxy
from tests.ui.conftest import make_app, wait_for


def _target() -> str:
    return services.docker_host().removeprefix("unix://")


async def _collect(feed: Any, out: list[Any]) -> None:
    async for msg in feed:
        out.append(msg)


async def _until(pred: Any, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_feed_reconnects_and_resyncs(tmp_path: Any, api: Any, label: str) -> None:
    """Cut the connection: the feed reports 'reconnecting'; a container created meanwhile shows up
    in the fresh snapshot after the proxy returns; events flow again afterwards."""
    proxy = SocketProxy(str(tmp_path / "d.sock"), _target())
    await proxy.start()
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", proxy.url, "test"), timeout=5)
    msgs: list[Any] = []
    task = asyncio.create_task(_collect(runtime_feed(rt, "containers", backoff_start=0.2, backoff_max=0.5), msgs))
    try:
        await _until(lambda: any(isinstance(m, SourceStatus) and m.state == "live" for m in msgs))
        await proxy.stop()
        await _until(lambda: any(isinstance(m, SourceStatus) and m.state == "reconnecting" for m in msgs))
        name = f"{label}-missed"
        c = api.create_container(services.test_image(), ["sleep", "60"], name=name, labels={"tamer.test": label})
        await asyncio.sleep(0.5)
        n_before = len(msgs)
        await proxy.start()
        await _until(lambda: any(isinstance(m, Snapshot) and any(r.name == name for r in m.rows)
                                 for m in msgs[n_before:]))
        assert any(isinstance(m, SourceStatus) and m.state == "live" for m in msgs[n_before:])
        n_after = len(msgs)
        api.remove_container(c["Id"], force=True)
        await _until(lambda: any(isinstance(m, Remove) and f"docker/{c['Id']}" in m.keys for m in msgs[n_after:])
                     or any(isinstance(m, Upsert | Snapshot) for m in msgs[n_after:]))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await proxy.stop()
        await rt.close()


async def test_screen_says_reconnecting_and_recovers(tmp_path: Any, api: Any, label: str) -> None:
    """The containers screen shows the lost daemon in its title and status line, then recovers."""
    proxy = SocketProxy(str(tmp_path / "d.sock"), _target())
    await proxy.start()
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", proxy.url, "test"), timeout=5)
    app = make_app([rt])
    name = f"{label}-{uuid.uuid4().hex[:4]}"
    try:
        async with app.run_test(size=(140, 30)) as pilot:
            await wait_for(lambda: app.screen.source_state.get("docker") == "live", pilot)
            await proxy.stop()
            await wait_for(lambda: "reconnecting" in app.screen.title_text, pilot, timeout=15)
            assert "connection lost" in app.screen._status_text
            api.create_container(services.test_image(), ["sleep", "60"], name=name, labels={"tamer.test": label})
            await proxy.start()
            await wait_for(lambda: "reconnecting" not in app.screen.title_text, pilot, timeout=30)
            await wait_for(lambda: any(r.name == name for r in app.screen.store.rows.values()), pilot)
    finally:
        await proxy.stop()
