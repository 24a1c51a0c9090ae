"""Record the payloads the engine screens' snapshot tests replay (run by hand; output: engines_recording.json).

    source scripts/test-env.sh --require && .venv/bin/python tests/ui/data/record_engines.py

It makes a small compose project with Debian's docker-compose, two Podman pods, and (when the daemon
can) a swarm with a few services, records what the daemons answer, and removes everything again.
Snapshots cannot use live daemons directly: ids, ages and "Up 3 seconds" change on every run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import docker

HERE = Path(__file__).parent
IMAGE = os.environ.get("TAMER_TEST_IMAGE", "tamer-test/busybox:latest")
DOCKER = os.environ["TAMER_TEST_DOCKER_HOST"]
PODMAN = os.environ["TAMER_TEST_PODMAN_URL"]

COMPOSE = f"""\
version: "2.4"
services:
  web:
    image: {IMAGE}
    command: ["httpd", "-f", "-p", "8080"]
    scale: 2
    init: true
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  worker:
    image: {IMAGE}
    command: ["sleep", "3600"]
    ports: ["127.0.0.1:18080:8080"]
    init: true
    stop_grace_period: 1s
  migrate:
    image: {IMAGE}
    command: ["true"]
"""


def podman(*args: str, check: bool = True) -> str:
    return subprocess.run(["podman", "--url", PODMAN, *args], capture_output=True, text=True, check=check,
                          timeout=120).stdout


def compose(directory: Path, *args: str) -> None:
    subprocess.run(["docker-compose", "-p", "shop", "-f", str(directory / "docker-compose.yml"), *args], check=True,
                   env={**os.environ, "DOCKER_HOST": DOCKER}, capture_output=True, timeout=180)


def record_compose(api: Any, out: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "docker-compose.yml").write_text(COMPOSE)
        compose(d, "up", "-d")
        time.sleep(4)  # health checks run, migrate exits
        out["compose_containers"] = api.containers(all=True, filters={"label": "com.docker.compose.project=shop"})
        out["compose_dir"] = str(d)
        compose(d, "down", "-t", "1")


def record_pods(out: dict[str, Any]) -> None:
    from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
    from tamer_tui.core.podman_runtime import PodmanRuntime

    for pod in ("shop-pod", "batch-pod"):
        podman("pod", "rm", "-f", "-t", "0", pod, check=False)
    podman("pod", "create", "--name", "shop-pod", "-p", "127.0.0.1:18081:8080")
    podman("run", "-d", "--pod", "shop-pod", "--name", "shop-api", "--init", IMAGE, "sleep", "3600")
    podman("run", "-d", "--pod", "shop-pod", "--name", "shop-cache", "--init", IMAGE, "sleep", "3600")
    podman("pod", "create", "--name", "batch-pod")
    podman("create", "--pod", "batch-pod", "--name", "batch-job", IMAGE, "true")
    rt = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", PODMAN, "recording"))

    async def grab() -> Any:
        await rt.connect()
        try:
            return await rt._acall("GET", "/pods/json", "pods")  # noqa: SLF001 - recording the raw payload
        finally:
            await rt.close()

    out["podman_pods"] = [p for p in asyncio.run(grab()) if p["Name"] in ("shop-pod", "batch-pod")]
    for pod in ("shop-pod", "batch-pod"):
        podman("pod", "rm", "-f", "-t", "0", pod, check=False)


def record_df(api: Any, out: dict[str, Any]) -> None:
    vol = api.create_volume("shop-data")
    stopped = api.create_container(IMAGE, ["true"], name="old-job", labels={"tamer.record": "1"})
    df = api.df()
    keep_images = [i for i in df.get("Images") or [] if any(IMAGE.split(":")[0] in t for t in i.get("RepoTags") or [])]
    df["Images"] = keep_images[:2]
    df["Containers"] = [c for c in df.get("Containers") or [] if "/old-job" in c.get("Names", [])]
    df["Volumes"] = [v for v in df.get("Volumes") or [] if v.get("Name") == vol["Name"]]
    df["BuildCache"] = (df.get("BuildCache") or [])[:2]
    out["docker_df"] = df
    api.remove_container(stopped["Id"], force=True)
    api.remove_volume(vol["Name"], force=True)


def record_swarm(api: Any, out: dict[str, Any]) -> None:
    joined = (api.info().get("Swarm") or {}).get("LocalNodeState") == "active"
    if not joined:
        api.init_swarm(advertise_addr="127.0.0.1")
    made = []
    try:
        spec = docker.types.TaskTemplate(container_spec=docker.types.ContainerSpec(IMAGE, ["sleep", "3600"]))
        made.append(api.create_service(spec, name="shop_web", mode=docker.types.ServiceMode("replicated", 3),
                                       labels={"com.docker.stack.namespace": "shop"})["ID"])
        made.append(api.create_service(spec, name="shop_cache", mode=docker.types.ServiceMode("replicated", 1),
                                       labels={"com.docker.stack.namespace": "shop"})["ID"])
        bad = docker.types.TaskTemplate(container_spec=docker.types.ContainerSpec(IMAGE, ["false"]),
                                        restart_policy=docker.types.RestartPolicy("none"))
        made.append(api.create_service(bad, name="cron", mode=docker.types.ServiceMode("replicated", 1))["ID"])
        time.sleep(8)
        out["swarm_nodes"] = api.nodes()
        out["swarm_services"] = [s for s in api.services(status=True) if s["ID"] in made]
        out["swarm_tasks"] = [t for t in api.tasks() if t["ServiceID"] in made]
    finally:
        for ident in made:
            api.remove_service(ident)
        if not joined:
            api.leave_swarm(force=True)
            time.sleep(1)
            for net in api.networks(names=["docker_gwbridge"]):
                api.remove_network(net["Id"])


def main() -> None:
    api = docker.APIClient(base_url=DOCKER, version="auto")
    path = HERE / "engines_recording.json"
    out: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    parts = os.environ.get("RECORD", "compose,pods,df,swarm").split(",")
    if "compose" in parts:
        record_compose(api, out)
    if "pods" in parts:
        record_pods(out)
    if "df" in parts:
        record_df(api, out)
    if "swarm" in parts:
        record_swarm(api, out)
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
