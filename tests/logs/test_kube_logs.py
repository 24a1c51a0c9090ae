"""Kubernetes pod logs through the log-stream layer, against `tamer sim`.

The simulator computes logs: line i of a container instance is stamped start + i/rate (unique
nanosecond stamps) with a deterministic text, so what a session delivered can be compared with a
fresh non-follow fetch of the same range, or checked for evenly spaced stamps (nothing missing,
nothing twice). A TCP proxy the test cuts stands for a network blip.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlparse

import pytest

from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.kube.manager import KubeManager
from tamer_tui.core.logstream import LogOptions, pod_session, stamp_ns
from tamer_tui.core.logtargets import open_kube_logs
from tamer_tui.sim.server import SimHandle
from tests.logs.conftest import kube_get, kube_log, proxied_kubeconfig, reading, running, wait_pods
from tests.sim.conftest import kubectl
from tests.socket_proxy import TcpProxy

pytestmark = pytest.mark.kubectl

RATE = "sim.tamer.dev/log-rate"
BEHAVIOUR = "sim.tamer.dev/behaviour"


def apply(sim: SimHandle, manifest: str) -> None:
    kubectl(sim, "apply", "-f", "-", input=manifest)


async def chatty(km: KubeManager) -> str:
    pods = await wait_pods(km, "default", "app=chatty", lambda p: running(p, 1))
    return str(pods[0]["metadata"]["name"])


def contiguous_in(part: list[tuple[str, str]], whole: list[tuple[str, str]]) -> bool:
    """``part`` appears in ``whole`` as one unbroken run."""
    if not part:
        return False
    try:
        start = whole.index(part[0])
    except ValueError:
        return False
    return whole[start : start + len(part)] == part


def evenly_spaced(stamps: list[str], rate: float) -> bool:
    """Consecutive lines of one instance are 1/rate apart (the simulator computes stamps with floats:
    they are right to a microsecond; a line missing or repeated is off by a whole step)."""
    step = 1e9 / rate
    ns = [stamp_ns(s) for s in stamps]
    return all(abs((b - a) - step) <= 1000 for a, b in zip(ns, ns[1:], strict=False))


async def test_tail_and_since(sim: SimHandle, kube: KubeManager) -> None:
    """--tail=N gives N lines, --since the lines of the last seconds; one-shot sessions end by themselves."""
    pod = await chatty(kube)
    session = await open_kube_logs(kube, f"pod/default/{pod}", LogOptions(tail=50, follow=False))
    assert session.title == f"pod/default/{pod}" and not session.aggregated
    async with reading(session) as reader:
        await reader.wait_end()
    got = reader.pairs()
    assert len(got) == 50
    assert evenly_spaced([s for s, _ in got], 3000)
    reference = await kube_log(kube, "default", pod, "chatty", sinceTime=got[0][0][:19] + "Z")
    assert contiguous_in(got, reference)
    asked = time.time()
    session = await open_kube_logs(kube, f"pod/default/{pod}", LogOptions(tail=None, since_seconds=2, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    first = stamp_ns(reader.pairs()[0][0]) / 1e9
    assert asked - 2.5 < first < asked - 1.5
    assert 4500 < len(reader.lines) < 7500


async def test_follow_survives_network_cut(sim: SimHandle, kube: KubeManager, tmp_path: Any) -> None:
    """The connection to the API server is cut for a second while following 3000 lines/s: the stream
    resumes by itself with one gap marker, and the lines are exactly the pod's log: none twice, none
    missing."""
    pod = await chatty(kube)
    u = urlparse(sim.url)
    proxy = TcpProxy(u.hostname or "127.0.0.1", int(u.port or 443))
    await proxy.start()
    km = KubeManager(kubeconfig=proxied_kubeconfig(sim, proxy.url, tmp_path / "kubeconfig"), context=sim.context)
    km.load()
    try:
        session = await open_kube_logs(km, f"pod/default/{pod}/chatty", LogOptions(tail=10))
        async with reading(session) as reader:
            await reader.wait(lambda r: len(r.lines) >= 1500, what="1500 lines")
            await proxy.stop()
            cut_at = len(reader.lines)
            await reader.wait(lambda r: bool(r.kinds("gap")), what="the gap marker")
            await asyncio.sleep(1.0)
            await proxy.start()
            await reader.wait(lambda r: len(r.lines) >= cut_at + 6000, timeout=30, what="6000 lines after the cut")
        assert len(reader.kinds("gap")) == 1, reader.describe()
        got = reader.pairs()
        assert len({s for s, _ in got}) == len(got), "no line twice"
        assert evenly_spaced([s for s, _ in got], 3000), "no line missing"
        reference = await kube_log(kube, "default", pod, "chatty", sinceTime=got[0][0][:19] + "Z")
        assert contiguous_in(got, reference)
        assert session.source(f"{pod}/chatty").reconnects >= 1  # type: ignore[union-attr]
    finally:
        await proxy.stop()
        await km.close()


async def test_multi_container_pod_interleaved(sim: SimHandle, kube: KubeManager) -> None:
    """pod/NS/NAME of a two-container pod streams both containers, each line tagged with its container;
    pod/NS/NAME/CONTAINER only that one."""
    apply(sim, f"""
apiVersion: v1
kind: Pod
metadata: {{name: duo, namespace: default, annotations: {{{RATE}: "40"}}}}
spec:
  containers:
  - {{name: alpha, image: ghcr.io/acme/cart:1.0}}
  - {{name: beta, image: ghcr.io/acme/catalog:1.0}}
""")
    await wait_pods(kube, "default", "", lambda ps: any(p["metadata"]["name"] == "duo" and running([p], 1) for p in ps))
    session = await open_kube_logs(kube, "pod/default/duo", LogOptions(tail=5))
    assert session.aggregated
    async with reading(session) as reader:
        await reader.wait(lambda r: all(len(r.texts(c)) >= 30 for c in ("alpha", "beta")), what="lines of both")
    assert reader.sources() == {"alpha", "beta"}
    for c in ("alpha", "beta"):
        got = reader.pairs(c)
        assert evenly_spaced([s for s, _ in got], 40)
        assert contiguous_in(got, await kube_log(kube, "default", "duo", c, sinceTime=got[0][0][:19] + "Z"))
    session = await open_kube_logs(kube, "pod/default/duo/beta", LogOptions(tail=3, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    assert reader.sources() == {"duo/beta"} and len(reader.lines) == 3


async def test_crash_loop_previous_and_restarts(sim: SimHandle, kube: KubeManager) -> None:
    """A crash-looping container: --previous shows the last terminated run (then "ended"); following it
    goes on across restarts, each marked, every run without a missing or repeated line."""
    apply(sim, f"""
apiVersion: v1
kind: Pod
metadata: {{name: crashy, namespace: default, annotations: {{{RATE}: "30", {BEHAVIOUR}: crashloop}}}}
spec:
  containers:
  - {{name: app, image: ghcr.io/acme/cart:1.0}}
""")

    async def restarts() -> int:
        pod = await kube_get(kube, "/api/v1/namespaces/default/pods/crashy")
        statuses = pod["status"].get("containerStatuses") or [{}]
        return int(statuses[0].get("restartCount") or 0)

    deadline = time.monotonic() + 20
    while await restarts() < 1:
        assert time.monotonic() < deadline, "crashy never restarted"
        await asyncio.sleep(0.2)
    for _attempt in range(5):
        before = await restarts()
        session = await open_kube_logs(kube, "pod/default/crashy", LogOptions(tail=None, previous=True))
        async with reading(session) as reader:
            await reader.wait_end()
        reference = await kube_log(kube, "default", "crashy", "app", previous="true")
        if await restarts() == before:
            break
    assert reader.pairs() == reference and len(reference) > 10
    assert "fatal: exiting with code 1" in reader.texts()[-1]
    assert [n.kind for n in reader.notices] == ["ended"]

    session = await open_kube_logs(kube, "pod/default/crashy", LogOptions(tail=None))
    async with reading(session) as reader:
        await reader.wait(lambda r: len(r.kinds("info")) >= 2, timeout=30, what="two restarts")
        seen = len(reader.lines)
        await reader.wait(lambda r: len(r.lines) >= seen + 10, what="lines of the third run")
    assert all("restarted" in n.message for n in reader.kinds("info"))
    assert not reader.kinds("gap")
    got = reader.pairs()
    assert len(set(got)) == len(got), "no line twice"
    # runs of the container: consecutive normal lines are 1/rate apart, a restart makes the only other
    # gaps (a missing line would make one more); the crash line(s) at the end of a run are stamped
    # with its end, not on the 1/rate grid
    normal = [st for st, text in got if "fatal: exiting with code" not in text]
    assert [stamp_ns(st) for st in normal] == sorted(stamp_ns(st) for st in normal)
    runs: list[list[str]] = [[normal[0]]]
    for a, b in zip(normal, normal[1:], strict=False):
        if not evenly_spaced([a, b], 30):
            runs.append([])
        runs[-1].append(b)
    assert len(runs) - 1 == len(reader.kinds("info")) >= 2, [(r[0], r[-1], len(r)) for r in runs]
    assert all(len(run) > 20 for run in runs[1:-1])
    # the simulator stamps a run's crash line with its whole-second finishedAt, i.e. before lines it
    # already served while following, and a follower never sees it; after the restart the rest of
    # the run is fetched (previous=true) and the crash line is found there
    assert sum("fatal: exiting with code" in t for _, t in got) >= len(reader.kinds("info"))


async def test_deployment_rollout_sources_join_and_leave(sim: SimHandle, kube: KubeManager) -> None:
    """deploy/NS/NAME follows every pod of the Deployment; after `kubectl set image` the new pods join
    by themselves and the old ones are marked as gone."""
    apply(sim, f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: roll, namespace: default}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: roll}}}}
  template:
    metadata: {{labels: {{app: roll}}, annotations: {{{RATE}: "20"}}}}
    spec:
      containers:
      - {{name: app, image: "ghcr.io/acme/cart:1.0"}}
""")
    old = {p["metadata"]["name"] for p in await wait_pods(kube, "default", "app=roll", lambda p: running(p, 2))}
    session = await open_kube_logs(kube, "deploy/default/roll", LogOptions(tail=3))
    assert session.aggregated and session.title == "deploy/default/roll"
    async with reading(session) as reader:
        await reader.wait(lambda r: r.sources() == old, what="lines of both pods")
        kubectl(sim, "set", "image", "deployment/roll", "app=ghcr.io/acme/cart:2.0", "-n", "default")
        await reader.wait(lambda r: len(r.kinds("joined")) >= 2 and len(r.kinds("left")) >= 2, timeout=40,
                          what="the rollout")
        new = {n.source for n in reader.kinds("joined")}
        await reader.wait(lambda r: new <= r.sources(), what="lines of the new pods")
    assert {n.source for n in reader.kinds("left")} == old
    assert not new & old
    assert {name for name, info in session.sources.items() if info.state == "left"} == old
    assert {name for name, info in session.sources.items() if info.state == "streaming"} == new


async def test_job_daemonset_statefulset_selector_targets(sim: SimHandle, kube: KubeManager) -> None:
    """job/NS/NAME of a finished Job shows its pods' logs and marks them ended; ds/, sts/ and
    selector/ targets aggregate the matching pods."""
    jobs = (await kube_get(kube, "/apis/batch/v1/jobs"))["items"]
    done = next(j for j in jobs if (j.get("status") or {}).get("succeeded"))
    ns, name = done["metadata"]["namespace"], done["metadata"]["name"]
    session = await open_kube_logs(kube, f"job/{ns}/{name}", LogOptions(tail=None))
    async with reading(session) as reader:
        await reader.wait(lambda r: bool(r.kinds("ended")), what="the job's pod to end")
    assert reader.lines and all(s in session.sources for s in reader.sources())
    ds = (await kube_get(kube, "/apis/apps/v1/daemonsets"))["items"][0]
    ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
    selector = ",".join(f"{k}={v}" for k, v in ds["spec"]["selector"]["matchLabels"].items())
    pods = (await kube_get(kube, f"/api/v1/namespaces/{ns}/pods", labelSelector=selector))["items"]
    session = await open_kube_logs(kube, f"ds/{ns}/{name}", LogOptions(tail=2, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    assert set(session.sources) == {p["metadata"]["name"] for p in pods}
    assert len(reader.lines) == 2 * len(pods)
    sts = (await kube_get(kube, "/apis/apps/v1/statefulsets"))["items"][0]
    ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
    session = await open_kube_logs(kube, f"sts/{ns}/{name}", LogOptions(tail=1, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    assert sorted(session.sources) == [f"{name}-{i}" for i in range(int(sts["spec"]["replicas"]))]
    session = await open_kube_logs(kube, "selector/default/app in (chatty,web)", LogOptions(tail=1, follow=False))
    async with reading(session) as reader:
        await reader.wait_end()
    web = (await kube_get(kube, "/api/v1/namespaces/default/pods", labelSelector="app=web"))["items"]
    assert len(session.sources) == 1 + len(web) == len(reader.lines)


async def test_pod_that_never_runs_is_explained(sim: SimHandle, kube: KubeManager) -> None:
    """A Deployment whose pod cannot start (ImagePullBackOff) shows a notice saying why nothing comes."""
    deps = (await kube_get(kube, "/apis/apps/v1/deployments"))["items"]
    dep = next(d for d in deps if d["metadata"]["name"] == "legacy-api")
    ns = dep["metadata"]["namespace"]
    session = await open_kube_logs(kube, f"deploy/{ns}/legacy-api", LogOptions())
    async with reading(session) as reader:
        await reader.wait(lambda r: bool(r.kinds("info")), what="the notice")
    (notice,) = reader.notices
    assert "Pull" in notice.message and "its logs join when it runs" in notice.message
    assert not reader.lines and not session.sources


async def test_bad_targets_fail_before_streaming(sim: SimHandle, kube: KubeManager) -> None:
    """Unknown pods, containers, workloads and kinds raise at once with a clear message."""
    pod = await chatty(kube)
    with pytest.raises(NotFound):
        await open_kube_logs(kube, "pod/default/nope", LogOptions())
    with pytest.raises(InvalidInput, match="has no container 'nope'"):
        await open_kube_logs(kube, f"pod/default/{pod}/nope", LogOptions())
    with pytest.raises(NotFound):
        await open_kube_logs(kube, "deploy/default/nope", LogOptions())
    with pytest.raises(InvalidInput, match="selector/NAMESPACE/LABEL-SELECTOR"):
        await open_kube_logs(kube, "selector/default", LogOptions())
    with pytest.raises(InvalidInput, match="no logs for 'svc'"):
        await open_kube_logs(kube, "svc/default/web", LogOptions())


async def test_ingest_rate_chatty(sim: SimHandle, kube: KubeManager) -> None:
    """The chatty pod's whole retained log (60,000 lines) through pod_session: all of it, in order
    (the rate is printed; the simulator runs in this process and shares its CPU)."""
    pod = await chatty(kube)
    session = pod_session(kube, None, "default", pod, ["chatty"], LogOptions(tail=None, follow=False))
    started = time.perf_counter()
    async with reading(session) as reader:
        await reader.wait_end(timeout=60)
    elapsed = time.perf_counter() - started
    n = len(reader.lines)
    assert n == 60_000
    assert evenly_spaced([s for s, _ in reader.pairs()], 3000)
    print(f"\npod_session (chatty, in-process sim): {n:,} lines in {elapsed:.2f} s = {n / elapsed:,.0f} lines/s")
