"""Engine screens' pure costs on large fleets (no daemon needed).

    python bench/engines_bench.py [--containers 10000] [--projects 500]

Prints JSON:
  group_projects_s   grouping N compose-labelled container rows into projects (what compose_feed does
                     after every burst of container events; target well under 0.1 s for 10k)
  projects           how many projects came out
  regroup_one_s      the same after one container changed (the feed regroups everything: the cost of
                     one event burst)
  swarm_parse_s      parsing N swarm tasks (payload shape recorded from a real dockerd) into rows
  run_spec_s         validating the run dialog's fields 1,000 times (each ctrl+s validates once)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tamer_tui.core import swarm  # noqa: E402
from tamer_tui.core.compose import group_projects  # noqa: E402
from tamer_tui.core.models import ContainerRow  # noqa: E402
from tamer_tui.core.runspec import build_spec  # noqa: E402

RECORDING = Path(__file__).resolve().parents[1] / "tests" / "ui" / "data" / "engines_recording.json"


def rows(n: int, projects: int) -> list[ContainerRow]:
    out = []
    for i in range(n):
        p = f"proj{i % projects}"
        s = f"svc{(i // projects) % 5}"
        labels = (("com.docker.compose.project", p), ("com.docker.compose.service", s),
                  ("com.docker.compose.container-number", str(i // (projects * 5) + 1)),
                  ("com.docker.compose.project.working_dir", f"/srv/{p}"),
                  ("com.docker.compose.project.config_files", f"/srv/{p}/compose.yaml"))
        out.append(ContainerRow("docker", f"{i:064x}", f"{p}-{s}-{i}", "app:1", "running", "Up 2 hours",
                                created=1.7e9 + i, labels=labels))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=10_000)
    ap.add_argument("--projects", type=int, default=500)
    args = ap.parse_args()
    data = rows(args.containers, args.projects)
    t0 = time.perf_counter()
    projects = group_projects(data, exists=lambda _p: True)
    grouped = time.perf_counter() - t0
    data[7] = replace(data[7], state="exited", status="Exited (0) 1 second ago")
    t0 = time.perf_counter()
    group_projects(data, exists=lambda _p: True)
    regroup = time.perf_counter() - t0

    recorded = json.loads(RECORDING.read_text())["swarm_tasks"]
    tasks = [dict(recorded[i % len(recorded)], ID=f"task{i}") for i in range(args.containers)]
    t0 = time.perf_counter()
    for t in tasks:
        swarm.parse_task("docker", t, {}, {})
    parse_s = time.perf_counter() - t0

    values = {"image": "nginx:1", "name": "web", "command": "sh -c 'exec nginx -g \"daemon off;\"'",
              "ports": "8080:80, 8443:443", "env": "A=1, B=two", "memory": "512m", "cpus": "1.5",
              "restart": "on-failure:3", "health_cmd": "wget -q -O- http://127.0.0.1/", "health_interval": "10s"}
    t0 = time.perf_counter()
    for _ in range(1000):
        build_spec(values)
    spec_s = time.perf_counter() - t0
    print(json.dumps({"containers": args.containers, "projects": len(projects), "group_projects_s": round(grouped, 4),
                      "regroup_one_s": round(regroup, 4), "swarm_parse_s": round(parse_s, 4),
                      "run_spec_s": round(spec_s, 4)}, indent=2))


if __name__ == "__main__":
    main()
