"""Port-forward throughput on loopback: Tamer's engine against `kubectl port-forward`, printing JSON.

    python bench/portforward_bench.py [--mb 256] [--streams 4] [--rounds 3] [--kubectl /usr/bin/kubectl]

Both forward to the same pod (`web` in `default`, declared port 80) of one `tamer sim` run as a
separate process; the sim's in-pod server echoes anything that is not HTTP. A separate load process
writes --mb MB through the forward and reads the same amount back (one connection, then --streams
connections at once, each carrying --mb / streams MB); throughput = MB echoed / wall time (MB =
2^20 bytes, each way). kubectl and Tamer runs alternate, --rounds each. Tamer's engine runs alone in
this process's event loop (nothing else competes with it), kubectl in its own process.

Keys:
  tamer_mbps / kubectl_mbps          one connection, best round, MB/s each way (target: tamer >= kubectl)
  ratio / ratio_median               tamer / kubectl on the best rounds / on the median rounds (target >= 1.0)
  tamer_mbps_streams / kubectl_mbps_streams / ratio_streams / ratio_streams_median
                                     the same with --streams connections at once
  tamer_cpu_ms_per_mb / kubectl_cpu_ms_per_mb   CPU the forwarder itself spends per MB echoed (median of
                                     the one-connection rounds; far less sensitive than MB/s to other load)
  sim_cpu_ms_per_mb_tamer / sim_cpu_ms_per_mb_kubectl   the simulator's CPU per MB on either path
  tamer_http_20_ms / kubectl_http_20_ms   20 concurrent HTTP requests, one connection each, wall ms
                                     (informational: Tamer opens one WebSocket + TLS handshake per
                                     connection; kubectl multiplexes SPDY streams over one)
  mb, streams, rounds, kubectl_version
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tamer_tui.core.kube.manager import KubeManager  # noqa: E402
from tamer_tui.core.kube.portforward import PortForwardManager, parse_forward  # noqa: E402

BLOCK = 1 << 20


# --------------------------------------------------------------------------- load process


def _echo_stream(host: str, port: int, nbytes: int, result: list[int]) -> None:
    """Write ``nbytes`` on one connection from a thread while reading the echo back here."""
    sock = socket.create_connection((host, port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    block = os.urandom(BLOCK)

    def writer() -> None:
        left = nbytes
        while left > 0:
            n = min(left, BLOCK)
            sock.sendall(block[:n] if n < BLOCK else block)
            left -= n

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    buf = bytearray(BLOCK)
    got = 0
    while got < nbytes:
        n = sock.recv_into(buf)
        if not n:
            break
        got += n
    t.join()
    sock.close()
    result.append(got)


def load_main(host: str, port: int, total_mb: int, streams: int) -> None:
    """Entry point of the load process: prints ``{"seconds": s, "bytes": n}``."""
    per = total_mb * BLOCK // streams
    results: list[int] = []
    threads = [threading.Thread(target=_echo_stream, args=(host, port, per, results)) for _ in range(streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"seconds": time.perf_counter() - t0, "bytes": sum(results), "expected": per * streams}))


async def run_load(port: int, total_mb: int, streams: int) -> float:
    """MB/s echoed through 127.0.0.1:port, measured by a separate process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--load", str(port), str(total_mb), str(streams), stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    data = json.loads(out)
    if data["bytes"] != data["expected"]:
        raise SystemExit(f"echo lost data: {data}")
    return data["bytes"] / BLOCK / data["seconds"]


async def http_burst(port: int, n: int = 20) -> float:
    """Wall ms for ``n`` concurrent HTTP/1.1 requests (one connection each)."""
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as s:
        async def one(i: int) -> None:
            async with s.get(f"http://127.0.0.1:{port}/bench/{i}") as r:
                body = await r.text()
                assert r.status == 200 and f"GET /bench/{i}" in body, body

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return (time.perf_counter() - t0) * 1000


# --------------------------------------------------------------------------- setup


def start_sim(kubeconfig: str) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-m", "tamer_tui", "sim", "--pods", "12", "--namespaces", "1", "--nodes", "1",
            "--port", "0", "--kubeconfig", kubeconfig, "--name", "pfbench", "--log-rate", "0"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "ready":
        proc.kill()
        raise SystemExit(f"simulator did not start: {line}")
    return proc, "pfbench"


def kubectl_env(kubeconfig: str) -> dict[str, str]:
    return dict(os.environ, KUBECONFIG=kubeconfig, KUBECACHEDIR=str(Path(kubeconfig).parent / "kube-cache"))


def web_pod(kubectl: str, kubeconfig: str, context: str) -> str:
    argv = [kubectl, "--kubeconfig", kubeconfig, "--context", context, "get", "pods", "-n", "default", "-l", "app=web",
            "-o", "jsonpath={.items[0].metadata.name}"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = subprocess.run(argv, capture_output=True, text=True, env=kubectl_env(kubeconfig)).stdout.strip()
        if out:
            return out
        time.sleep(0.2)
    raise SystemExit("no web pod in the simulator")


def start_kubectl(kubectl: str, kubeconfig: str, context: str, pod: str) -> tuple[subprocess.Popen[str], int]:
    argv = [kubectl, "--kubeconfig", kubeconfig, "--context", context, "port-forward", "-n", "default",
            f"pod/{pod}", ":80"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=kubectl_env(kubeconfig))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"kubectl port-forward did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(m.group(1))


def kubectl_version(kubectl: str) -> str:
    out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True).stdout
    try:
        return str(json.loads(out)["clientVersion"]["gitVersion"])
    except (ValueError, KeyError):
        return "unknown"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Runs:
    """Throughput (MB/s) and CPU per MB of the forwarder and of the simulator, one entry per round."""

    mbps: list[float] = field(default_factory=list)
    cpu_ms_per_mb: list[float] = field(default_factory=list)
    sim_cpu_ms_per_mb: list[float] = field(default_factory=list)


async def compare(kport: int, tport: int, kpid: int, sim_pid: int, mb: int, streams: int,
                  rounds: int) -> tuple[Runs, Runs]:
    """Alternate kubectl and Tamer runs (so load from elsewhere on the machine hits both alike)."""
    for port in (kport, tport):
        await run_load(port, max(8, mb // 8), streams)  # warm-up
    kubectl, tamer = Runs(), Runs()
    for _ in range(rounds):
        for runs, port, cpu in ((kubectl, kport, lambda: cpu_seconds(kpid)), (tamer, tport, time.process_time)):
            cpu0, sim0 = cpu(), cpu_seconds(sim_pid)
            runs.mbps.append(await run_load(port, mb, streams))
            runs.cpu_ms_per_mb.append((cpu() - cpu0) * 1000 / mb)
            runs.sim_cpu_ms_per_mb.append((cpu_seconds(sim_pid) - sim0) * 1000 / mb)
    return kubectl, tamer


async def measure(args: argparse.Namespace) -> dict[str, object]:
    tmp = tempfile.mkdtemp(prefix="pfbench-")
    kubeconfig = str(Path(tmp) / "kubeconfig")
    sim, context = start_sim(kubeconfig)
    kube_proc: subprocess.Popen[str] | None = None
    result: dict[str, object] = {"mb": args.mb, "streams": args.streams, "rounds": args.rounds,
                                 "kubectl_version": kubectl_version(args.kubectl)}
    km = KubeManager(kubeconfig=kubeconfig, context=context)
    km.load()
    mgr = PortForwardManager(km.client)
    try:
        pod = web_pod(args.kubectl, kubeconfig, context)
        kube_proc, kport = start_kubectl(args.kubectl, kubeconfig, context, pod)
        fwd = await mgr.start(parse_forward(f"pod/default/{pod}", "0:80", context=context))
        tport = fwd.local_port
        for suffix, streams in (("", 1), ("_streams", args.streams)):
            k, t = await compare(kport, tport, kube_proc.pid, sim.pid, args.mb, streams, args.rounds)
            result[f"kubectl_mbps{suffix}"] = round(max(k.mbps), 1)
            result[f"tamer_mbps{suffix}"] = round(max(t.mbps), 1)
            result[f"ratio{suffix}"] = round(max(t.mbps) / max(k.mbps), 2)
            result[f"ratio{suffix}_median"] = round(statistics.median(t.mbps) / statistics.median(k.mbps), 2)
            if not suffix:
                for who, runs in (("kubectl", k), ("tamer", t)):
                    result[f"{who}_cpu_ms_per_mb"] = round(statistics.median(runs.cpu_ms_per_mb), 2)
                    result[f"sim_cpu_ms_per_mb_{who}"] = round(statistics.median(runs.sim_cpu_ms_per_mb), 2)
        result["kubectl_http_20_ms"] = round(min([await http_burst(kport) for _ in range(3)]), 1)
        result["tamer_http_20_ms"] = round(min([await http_burst(tport) for _ in range(3)]), 1)
    finally:
        await mgr.stop_all()
        await km.close()
        if kube_proc is not None:
            kube_proc.kill()
            kube_proc.wait(10)
        sim.terminate()
        try:
            sim.wait(15)
        except subprocess.TimeoutExpired:
            sim.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        load_main("127.0.0.1", int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=256, help="MB echoed per measurement (default 256)")
    p.add_argument("--streams", type=int, default=4, help="parallel connections of the second measurement")
    p.add_argument("--rounds", type=int, default=3, help="measurements per case (the best counts)")
    p.add_argument("--kubectl", default=shutil.which("kubectl") or "/usr/bin/kubectl")
    args = p.parse_args()
    result = asyncio.run(measure(args))
    print(json.dumps({"benchmark": "portforward", "results": result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
