"""Containers screen benchmark against the real Docker daemon (and Podman when given).

    python bench/containers_bench.py [--containers 300] [--idle 10] [--docker unix:///var/run/docker.sock]

Creates N labelled containers (running `sleep`), starts the app headless, and prints JSON:
  list_s        how long the daemon took to answer the first container list
  populated_s   from app start until the table shows all N rows
  after_list_s  populated_s minus list_s: our own cost after the daemon answered (target < 1 s)
  rss_mb        resident memory of the whole process once populated
  idle_cpu_pct  CPU used by the process over --idle seconds with nothing happening (target < 1 %)
Cleans up its containers afterwards (unless --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tamer_tui.core.docker_runtime import DockerRuntime  # noqa: E402
from tamer_tui.core.manager import RuntimeManager  # noqa: E402
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind  # noqa: E402
from tamer_tui.core.session import Session  # noqa: E402
from tamer_tui.core.themes import load_themes  # noqa: E402
from tamer_tui.ui.app import TamerApp  # noqa: E402

LABEL = "tamer.bench=containers"


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


def make_containers(url: str, n: int, image: str) -> None:
    import docker

    api = docker.APIClient(base_url=url, version="auto")
    existing = len(api.containers(all=True, filters={"label": LABEL}))

    def one(i: int) -> None:
        c = api.create_container(image, ["sleep", "3600"], name=f"bench-{i}", labels={"tamer.bench": "containers"},
                                 host_config=api.create_host_config(init=True))
        api.start(c["Id"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(existing, n)))


def remove_containers(url: str) -> None:
    import docker

    api = docker.APIClient(base_url=url, version="auto")
    ids = [c["Id"] for c in api.containers(all=True, filters={"label": LABEL})]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api.remove_container(i, force=True), ids))


async def measure(url: str, n: int, idle: float) -> dict[str, float]:
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", url, "bench"))
    t0 = time.perf_counter()
    await rt.connect()
    rows = await rt.list_containers()
    list_s = time.perf_counter() - t0
    total = len(rows)
    session = Session(manager=RuntimeManager.from_runtimes([rt]), themes=load_themes(include_user=False))
    app = TamerApp(session)
    start = time.perf_counter()
    async with app.run_test(size=(160, 50)) as pilot:
        while len(getattr(app.screen, "table", None).keys if hasattr(app.screen, "table") else []) < total:
            await pilot.pause(0.005)
        populated = time.perf_counter() - start
        mem = rss_mb()
        cpu0 = time.process_time()
        await asyncio.sleep(idle)
        cpu = time.process_time() - cpu0
    return {
        "containers": float(total),
        "list_s": round(list_s, 3),
        "populated_s": round(populated, 3),
        "after_list_s": round(max(0.0, populated - list_s), 3),
        "rss_mb": round(mem, 1),
        "idle_cpu_pct": round(100.0 * cpu / idle, 2),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--containers", type=int, default=300)
    p.add_argument("--idle", type=float, default=10.0)
    p.add_argument("--docker", default=os.environ.get("TAMER_TEST_DOCKER_HOST", "unix:///var/run/docker.sock"))
    p.add_argument("--image", default=os.environ.get("TAMER_TEST_IMAGE", "tamer-test/busybox:latest"))
    p.add_argument("--keep", action="store_true", help="keep the containers for the next run")
    args = p.parse_args()
    t = time.perf_counter()
    make_containers(args.docker, args.containers, args.image)
    setup = time.perf_counter() - t
    try:
        result = asyncio.run(measure(args.docker, args.containers, args.idle))
    finally:
        if not args.keep:
            remove_containers(args.docker)
    result["setup_s"] = round(setup, 1)
    result["targets_met"] = float(result["after_list_s"] < 1.0 and result["idle_cpu_pct"] < 1.0)
    print(json.dumps({"benchmark": "containers_screen", **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
