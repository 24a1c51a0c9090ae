"""Benchmark of the simulated API server (``tamer sim``); prints one JSON document.

Measures:

* ``startup``: seconds from ``start_in_thread(SimOptions(pods=N))`` to serving (TLS, seeding,
  controllers), for ``--startup-pods`` (default 50,000);
* ``list``: server time (``X-Tamer-Sim-Server-Ms``) and client round trip of a full JSON list of
  ``--list-pods`` pods (default 10,000), cold (first encode) and warm (cached bytes);
* ``watch``: ``--watchers`` watch streams (default 50, in a separate process) on pods while the
  server modifies pods at ``--rate`` events/s (default 200) for ``--seconds`` (default 10): events
  delivered, lag percentiles (event written -> line received), watchers closed for falling behind.

Usage: ``.venv/bin/python bench/sim_bench.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tamer_tui.sim.cluster import SimOptions  # noqa: E402
from tamer_tui.sim.server import SimHandle, start_in_thread  # noqa: E402


def _synthetic_pods(n: int, namespace: str = "bench") -> list[dict[str, Any]]:
    """Pods of realistic size, used when the behaviour layer (seeding) is not installed."""
    out = []
    for i in range(n):
        name = f"bench-{i:06d}"
        out.append(
            {
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app": "bench", "pod-template-hash": "6d4cf56db6"},
                    "annotations": {"kubectl.kubernetes.io/default-container": "app"},
                },
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/example/app:1.2.3",
                            "env": [{"name": f"VAR_{k}", "value": "x" * 40} for k in range(20)],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                            "volumeMounts": [
                                {
                                    "name": "kube-api-access",
                                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                }
                            ],
                        }
                    ],
                    "nodeName": f"node-{i % 3}",
                },
                "status": {
                    "phase": "Running",
                    "podIP": f"10.42.{(i // 250) % 250}.{i % 250 + 1}",
                    "hostIP": "10.0.0.2",
                },
            }
        )
    return out


def _ensure_pods(h: SimHandle, n: int) -> int:
    """Make sure the store holds at least ``n`` pods; returns the count."""
    store = h.cluster.store
    pods_t = store.type_for("", "v1", "pods")
    have = store.count(pods_t)
    if have >= n:
        return have
    ns_t = store.type_for("", "v1", "namespaces")

    def load() -> int:
        if store.try_get(ns_t, None, "bench") is None:
            store.create(ns_t, {"metadata": {"name": "bench"}})
        store.bulk_load(pods_t, _synthetic_pods(n - have))
        return store.count(pods_t)

    return h.call(load)


def _get(h: SimHandle, path: str, ctx: ssl.SSLContext) -> tuple[float, float, int]:
    """(server ms, client seconds, bytes) of one GET."""
    req = urllib.request.Request(
        h.url + path, headers={"Authorization": f"Bearer {h.token}", "Accept": "application/json"}
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, context=ctx, timeout=120) as resp:
        body = resp.read()
        server_ms = float(resp.headers.get("X-Tamer-Sim-Server-Ms", "nan"))
    return server_ms, time.perf_counter() - t0, len(body)


def bench_startup(pods: int) -> dict[str, Any]:
    """Seconds until a simulator with ``pods`` pods serves."""
    t0 = time.perf_counter()
    h = start_in_thread(SimOptions(pods=pods, namespaces=8, nodes=10, controllers=True))
    elapsed = time.perf_counter() - t0
    try:
        count = h.call(lambda: h.cluster.store.count(h.cluster.store.type_for("", "v1", "pods")))
    finally:
        h.stop()
    return {"pods_requested": pods, "pods_stored": count, "seconds": round(elapsed, 3)}


def bench_list(pods: int) -> dict[str, Any]:
    """Server and client time of full pod lists."""
    h = start_in_thread(SimOptions(pods=pods, namespaces=4, nodes=5))
    try:
        count = _ensure_pods(h, pods)
        ctx = ssl.create_default_context(cadata=(h.ca_pem or b"").decode())
        runs = [_get(h, "/api/v1/pods", ctx) for _ in range(4)]
    finally:
        h.stop()
    return {
        "pods": count,
        "bytes": runs[0][2],
        "cold_server_s": round(runs[0][0] / 1000, 4),
        "warm_server_s": round(min(r[0] for r in runs[1:]) / 1000, 4),
        "cold_client_s": round(runs[0][1], 4),
        "warm_client_s": round(min(r[1] for r in runs[1:]), 4),
    }


_WATCH_CLIENT = r"""
import asyncio, json, ssl, sys, time
import aiohttp

url, token, cafile, n, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
MARK = b'"bench.tamer.dev/t":"'

async def watcher(session, rv, lags, counts, closed, i):
    got = 0
    try:
        async with session.get(url + "/api/v1/namespaces/bench/pods", params={"watch": "1", "resourceVersion": rv},
                               headers={"Authorization": "Bearer " + token}) as resp:
            async for line in resp.content:
                now = time.time()
                j = line.find(MARK)
                if j < 0:
                    continue
                k = line.index(b'"', j + len(MARK))
                lags.append(now - float(line[j + len(MARK):k]))
                got += 1
        closed.append(i)
    except (asyncio.CancelledError, aiohttp.ClientPayloadError):
        pass
    finally:
        counts.append(got)

async def main():
    ctx = ssl.create_default_context(cafile=cafile)
    conn = aiohttp.TCPConnector(ssl=ctx, limit=0)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=None)) as s:
        async with s.get(url + "/api/v1/namespaces/bench/pods", params={"limit": "1"},
                         headers={"Authorization": "Bearer " + token}) as r:
            rv = (await r.json())["metadata"]["resourceVersion"]
        lags, counts, closed = [], [], []
        tasks = [asyncio.create_task(watcher(s, rv, lags, counts, closed, i)) for i in range(n)]
        print("READY", flush=True)
        await asyncio.sleep(seconds)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"lags": lags, "counts": counts, "closed": len(closed)}), flush=True)

asyncio.run(main())
"""


def bench_watch(watchers: int, rate: float, seconds: float, pods: int = 200) -> dict[str, Any]:
    """Fan-out of pod modifications to ``watchers`` watch streams."""
    h = start_in_thread(SimOptions(pods=30, namespaces=2, nodes=2))
    tmp = tempfile.mkdtemp(prefix="sim-bench-")
    try:
        store = h.cluster.store
        pods_t = store.type_for("", "v1", "pods")
        ns_t = store.type_for("", "v1", "namespaces")

        def setup() -> None:
            if store.try_get(ns_t, None, "bench") is None:
                store.create(ns_t, {"metadata": {"name": "bench"}})
            for p in _synthetic_pods(pods):
                store.create(pods_t, p)

        h.call(setup)
        cafile = os.path.join(tmp, "ca.pem")
        Path(cafile).write_bytes(h.ca_pem or b"")
        script = os.path.join(tmp, "client.py")
        Path(script).write_text(_WATCH_CLIENT)
        run_for = seconds + 3.0
        proc = subprocess.Popen(
            [sys.executable, script, h.url, h.token, cafile, str(watchers), str(run_for)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY"
        time.sleep(1.0)
        total = int(rate * seconds)
        names = [p["metadata"]["name"] for p in _synthetic_pods(pods)]

        async def writer() -> int:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(total):
                target = start + i / rate
                delay = target - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                name = names[i % len(names)]
                obj = dict(store.get(pods_t, "bench", name))
                meta = dict(obj["metadata"])
                meta["annotations"] = {
                    **(meta.get("annotations") or {}),
                    "bench.tamer.dev/t": repr(time.time()),
                }
                obj["metadata"] = meta
                store.update(pods_t, obj, check_rv=False)
            return total

        t0 = time.perf_counter()
        written = h.call(writer, timeout=seconds * 3 + 30)
        write_s = time.perf_counter() - t0
        out, _ = proc.communicate(timeout=run_for + 60)
        data = json.loads(out.strip().splitlines()[-1])
        lags = sorted(data["lags"])
        expected = written * watchers
        dropped = h.server.hub.dropped if h.server.hub is not None else 0
    finally:
        h.stop()
    return {
        "watchers": watchers,
        "rate_per_s": rate,
        "events_written": written,
        "write_seconds": round(write_s, 3),
        "deliveries_expected": expected,
        "deliveries_received": len(lags),
        "lag_p50_ms": round(statistics.median(lags) * 1000, 2) if lags else None,
        "lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1] * 1000, 2) if lags else None,
        "lag_max_ms": round(lags[-1] * 1000, 2) if lags else None,
        "watchers_closed_for_lag": dropped,
    }


def main() -> int:
    """Run the benchmarks and print JSON."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--startup-pods", type=int, default=50_000)
    ap.add_argument("--list-pods", type=int, default=10_000)
    ap.add_argument("--watchers", type=int, default=50)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--only", choices=("startup", "list", "watch"), action="append")
    args = ap.parse_args()
    if args.quick:
        args.startup_pods, args.list_pods, args.watchers, args.seconds = 2000, 2000, 10, 3.0
    only = set(args.only or ("startup", "list", "watch"))
    result: dict[str, Any] = {}
    if "startup" in only:
        result["startup"] = bench_startup(args.startup_pods)
    if "list" in only:
        result["list"] = bench_list(args.list_pods)
    if "watch" in only:
        result["watch"] = bench_watch(args.watchers, args.rate, args.seconds)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
