"""The cluster goes away and comes back (connection cut, history compacted -> 410): tables recover.

The app talks to `tamer sim` through a TCP proxy the test cuts and restores; while it is cut the
test compacts the simulator's watch history (so the old resourceVersion answers 410 Gone, as after
an etcd compaction or an API server restart) and deletes a pod with kubectl.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from tests.kube_ui.conftest import kube_app, kubectl, wait_rows
from tests.socket_proxy import TcpProxy
from tests.ui.conftest import wait_for


async def test_table_recovers_after_outage_and_410(sim: Any, tmp_path: Any) -> None:
    """Cut: the title says reconnecting (stale since ...). Back: the informer re-lists after 410 and
    the pod deleted during the outage is gone, without any key press."""
    u = urlparse(sim.url)
    proxy = TcpProxy(u.hostname or "127.0.0.1", int(u.port or 443))
    await proxy.start()
    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    for c in cfg["clusters"]:
        c["cluster"]["server"] = f"https://{proxy.url}"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    app = kube_app(sim, command="pods -n default", kubeconfig=str(path))
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_rows(app, pilot)
            await wait_for(lambda: app.screen.source_state.get(sim.context) == "live", pilot)
            victim = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
            await proxy.stop()
            await wait_for(lambda: "reconnecting" in app.screen.title_text, pilot, timeout=20)
            assert "stale since" in app.screen.title_text
            store = sim.cluster.store
            sim.cluster.loop.call_soon_threadsafe(store.compact)
            kubectl(sim, "delete", "pod", "-n", victim.namespace, victim.name, "--wait=false")
            await proxy.start()
            await wait_for(lambda: app.screen.source_state.get(sim.context) == "live", pilot, timeout=30)
            await wait_for(lambda: getattr(app.screen.store.rows.get(victim.key), "uid", None) != victim.uid, pilot,
                           timeout=20)
            assert "reconnecting" not in app.screen.title_text
    finally:
        await proxy.stop()
