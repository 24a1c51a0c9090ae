"""Kubernetes scale benchmark against `tamer sim` (run as a separate process), printing JSON.

    python bench/kube_bench.py [--pods 10000 50000] [--idle 10] [--events 200]

Per pod count:
  kubectl_s         `kubectl get pods -A` wall time against the same simulator (the yardstick)
  populated_s       Tamer headless: launch to a fully populated `pods -A` table
  ratio             populated_s / kubectl_s (target <= 1.5 at 10k)
  rss_mb            resident memory of the Tamer process once populated (target < 500 MB at 50k)
  noop_key_ms       what one unbound key costs through Textual's test driver (included in the next two)
  filter_first_key_ms / filter_key_ms  the first keypress of `/` filtering over all rows, and the worst
                    of the following ones (target < 100 ms)
  page_key_ms       worst time to answer page-down (target < 100 ms)
  idle_cpu_pct      CPU of the Tamer process over --idle seconds with nothing changing (target < 2 % at 10k;
                    the simulator runs with --no-controllers unless --controllers is given)
  event_lag_ms_p50/p99  --events changes a second for 3 s, time until each is in the table (target < 250 ms)
  events_lost       changes never seen (target 0)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tamer_tui.core.kube.manager import KubeManager  # noqa: E402
from tamer_tui.core.manager import RuntimeManager  # noqa: E402
from tamer_tui.core.session import Session  # noqa: E402
from tamer_tui.ui.app import TamerApp  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1.0


def start_sim(pods: int, kubeconfig: str, controllers: bool = False) -> tuple[subprocess.Popen[str], str, str]:
    argv = [sys.executable, "-m", "tamer_tui", "sim", "--pods", str(pods), "--port", "0",
            "--kubeconfig", kubeconfig, "--name", "bench", "--log-rate", "0"]
    if not controllers:
        argv.append("--no-controllers")  # "nothing changing": only the benchmark's own patches move
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "ready":
        proc.kill()
        raise SystemExit(f"simulator did not start: {line}")
    return proc, line[1], line[3]


def kubectl_time(kubeconfig: str, context: str) -> float:
    env = dict(os.environ, KUBECACHEDIR=tempfile.mkdtemp())
    argv = ["kubectl", "--kubeconfig", kubeconfig, "--context", context, "get", "pods", "-A", "--no-headers"]
    subprocess.run(argv, capture_output=True, env=env, check=True)  # warm discovery cache
    t = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=True)
    return time.perf_counter() - t


def churn(kubeconfig: str, context: str, rate: int, seconds: float, t0_file: str) -> None:
    """Patch a label on `rate` pods a second from a separate process (the official client)."""
    code = f"""
import time, json
from kubernetes import client, config
config.load_kube_config({kubeconfig!r}, context={context!r})
v1 = client.CoreV1Api()
pods = v1.list_namespaced_pod('default', limit=200, _preload_content=False)
items = [(p['metadata']['namespace'], p['metadata']['name']) for p in json.loads(pods.data)['items']]
n = int({rate} * {seconds})
t0 = time.time()
open({t0_file!r}, 'w').write(repr(t0))
for i in range(n):
    ns, name = items[i % len(items)]
    v1.patch_namespaced_pod(name, ns, {{'metadata': {{'labels': {{'bench-seq': str(i)}}}}}})
    sleep = t0 + (i + 1) / {rate} - time.time()
    if sleep > 0:
        time.sleep(sleep)
print(n)
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


async def measure(kubeconfig: str, context: str, total: int, idle: float, events: int) -> dict[str, float]:
    kube = KubeManager(kubeconfig=kubeconfig, context=context, all_namespaces=True)
    kube.load()
    session = Session(manager=RuntimeManager([]), kube=kube)
    app = TamerApp(session, initial_command="pods -A")
    result: dict[str, float] = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(200, 50)) as pilot:
        while True:
            screen = app.screen
            if getattr(screen, "info", None) is not None and len(screen.table.keys) >= total:
                break
            await pilot.pause(0.01)
        result["populated_s"] = round(time.perf_counter() - t0, 3)
        result["rss_mb"] = round(rss_mb(), 1)
        base = []
        for _ in range(5):
            t = time.perf_counter()
            await pilot.press("f12")  # bound to nothing: what one key costs through the test driver
            base.append(time.perf_counter() - t)
        result["noop_key_ms"] = round(sorted(base)[2] * 1000, 1)
        times = []
        await pilot.press("slash")
        for ch in "dashboard":
            t = time.perf_counter()
            await pilot.press(ch)
            times.append(time.perf_counter() - t)
        result["filter_first_key_ms"] = round(times[0] * 1000, 1)
        result["filter_key_ms"] = round(max(times[1:]) * 1000, 1)
        await pilot.press("escape")
        worst = 0.0
        for _ in range(10):
            t = time.perf_counter()
            await pilot.press("pagedown")
            worst = max(worst, time.perf_counter() - t)
        result["page_key_ms"] = round(worst * 1000, 1)
        cpu0 = time.process_time()
        await asyncio.sleep(idle)
        result["idle_cpu_pct"] = round(100 * (time.process_time() - cpu0) / idle, 2)
        if events:
            store = app.screen.store
            watched = [k for k, r in store.rows.items() if r.namespace == "default"]
            seen: dict[int, float] = {}
            t0_file = tempfile.mktemp()
            task = asyncio.create_task(asyncio.to_thread(churn, kubeconfig, context, events, 3.0, t0_file))
            while not os.path.exists(t0_file) or not Path(t0_file).read_text():
                await asyncio.sleep(0.01)
            sent_at = float(Path(t0_file).read_text())
            expected = events * 3
            while not task.done() or len(seen) < expected:
                for key in watched:
                    r = store.rows.get(key)
                    for k, v in (r.labels if r is not None else ()):
                        if k == "bench-seq" and int(v) not in seen:
                            seen[int(v)] = time.time()
                await asyncio.sleep(0.01)
                if task.done() and time.time() - sent_at > 20:
                    break
            lags = sorted(seen[i] - (sent_at + i / events) for i in seen)
            # labels on the same pod overwrite each other: only the latest per pod is observable
            result["events_sent"] = float(expected)
            result["event_lag_ms_p50"] = round(1000 * lags[len(lags) // 2], 1) if lags else -1.0
            result["event_lag_ms_p99"] = round(1000 * lags[int(len(lags) * 0.99) - 1], 1) if lags else -1.0
    await kube.close()
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, nargs="*", default=[10_000, 50_000])
    p.add_argument("--idle", type=float, default=10.0)
    p.add_argument("--events", type=int, default=200)
    p.add_argument("--controllers", action="store_true", help="keep the simulator's controllers running")
    args = p.parse_args()
    results = []
    for n in args.pods:
        kubeconfig = str(Path(tempfile.mkdtemp(prefix="tamer-bench-")) / "kubeconfig")
        t = time.perf_counter()
        proc, url, context = start_sim(n, kubeconfig, args.controllers)
        sim_start = time.perf_counter() - t
        try:
            k = kubectl_time(kubeconfig, context)
            r = asyncio.run(measure(kubeconfig, context, n, args.idle, args.events if n <= 10_000 else 0))
            r.update({"pods": float(n), "sim_start_s": round(sim_start, 2), "kubectl_s": round(k, 3),
                      "ratio": round(r["populated_s"] / k, 2)})
            results.append(r)
        finally:
            proc.terminate()
            proc.wait(10)
    print(json.dumps({"benchmark": "kube_pods", "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
