"""systemd units and kube YAML from the real Podman service: generate_systemd, generate_kube, play_kube.

Objects are named ``tt-pod-<random>...`` and removed by the conftest fixtures.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import yaml

from tamer_tui.core.errors import InvalidInput, NotFound
from tamer_tui.core.podman_pods import PodmanPods, generate_kube, generate_systemd, play_kube, play_kube_down
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.podman_pods.conftest import make_container

pytestmark = pytest.mark.podman

LOOP = ("/bin/sh", "-c", "trap 'exit 0' TERM; while true; do /bin/sleep 0.1; done")


def unit_values(text: str, key: str) -> list[str]:
    """Values of ``key=`` in a unit text, with backslash-newline continuations joined."""
    joined = text.replace("\\\n", " ")
    return [line.split("=", 1)[1].strip() for line in joined.splitlines() if line.startswith(f"{key}=")]


async def test_systemd_for_a_cli_created_container_uses_podman_run(rt: PodmanRuntime, prefix: str) -> None:
    """new=True: a container with a create command gets a `podman run` unit named after it."""
    name = f"{prefix}-cli"
    argv = ["podman", "create", "--name", name, services.test_image(), "sleep", "3600"]
    await make_container(rt, prefix, "cli", containerCreateCommand=argv)
    units = await generate_systemd(rt, name)
    assert list(units) == [f"{name}.service"]
    text = units[f"{name}.service"]
    start = " ".join(unit_values(text, "ExecStart")[0].split())
    assert start.startswith("/usr/bin/podman run ") and f"--name {name}" in start
    assert "sleep 3600" in start
    assert unit_values(text, "Restart") == ["on-failure"]
    assert "Tamer" not in text  # no fallback note

    prefixed = await generate_systemd(rt, name, restart_policy="always", name_prefix=True)
    assert list(prefixed) == [f"container-{name}.service"]
    assert unit_values(prefixed[f"container-{name}.service"], "Restart") == ["always"]
    with pytest.raises(InvalidInput):
        await generate_systemd(rt, name, restart_policy="sometimes")


async def test_systemd_for_api_created_container_and_pod(rt: PodmanRuntime, prefix: str) -> None:
    """An API-created container falls back to start/stop units (with a note); a pod gives one unit per object."""
    name = f"{prefix}-api"
    await make_container(rt, prefix, "api")
    units = await generate_systemd(rt, name)  # new=True is impossible here
    text = units[f"{name}.service"]
    assert text.startswith("# Note (Tamer):") and "--new" in text
    assert unit_values(text, "ExecStart") == [f"/usr/bin/podman start {name}"]
    assert unit_values(text, "Restart") == ["on-failure"]
    plain = await generate_systemd(rt, name, new=False)
    assert not plain[f"{name}.service"].startswith("# Note")

    pod = f"{prefix}-upod"
    pods = PodmanPods(rt)
    await pods.create(pod, labels={"tamer.test": prefix})
    await make_container(rt, prefix, "upod-web", pod=pod)
    infra = (await rt.inspect_container((await pods.inspect(pod))["InfraContainerID"]))["Name"]
    pod_units = await generate_systemd(rt, pod, new=False)
    member = f"{prefix}-upod-web"
    assert sorted(pod_units) == sorted([f"{pod}.service", f"{member}.service"])
    pod_text = pod_units[f"{pod}.service"]
    assert f"Wants={member}.service" in pod_text and f"Before={member}.service" in pod_text
    assert unit_values(pod_text, "ExecStart") == [f"/usr/bin/podman start {infra}"]
    member_text = pod_units[f"{member}.service"]
    assert f"BindsTo={pod}.service" in member_text
    assert unit_values(member_text, "ExecStart") == [f"/usr/bin/podman start {member}"]
    assert unit_values(member_text, "Restart") == ["on-failure"]


async def test_kube_generate_then_play_under_new_name_and_down(rt: PodmanRuntime, prefix: str) -> None:
    """generate_kube of a pod, play_kube of it renamed: the new pod runs; play_kube_down removes it."""
    pods = PodmanPods(rt)
    source = f"{prefix}-ksrc"
    await pods.create(source, labels={"tamer.test": prefix})
    # kube play adds no default PATH (absolute paths for the busybox image); the trap makes stops quick
    await make_container(rt, prefix, "kapp", pod=source, command=LOOP)
    await pods.start(source)

    text = await generate_kube(rt, [source])
    docs = list(yaml.safe_load_all(text))
    pod_doc = next(d for d in docs if d and d.get("kind") == "Pod")
    assert pod_doc["metadata"]["name"] == source
    assert pod_doc["spec"]["containers"][0]["command"] == list(LOOP)

    target = f"{prefix}-kplay"
    pod_doc["metadata"]["name"] = target
    new_yaml = yaml.safe_dump_all(docs)
    report = await play_kube(rt, new_yaml)
    assert report.ok, report.errors
    assert report.pods == (target,) and len(report.pod_ids[0]) == 64
    assert report.containers == (f"{target}-{prefix}-kapp",)
    deadline = time.monotonic() + 10
    while (row := await pods.get(target)).status != "Running":
        assert time.monotonic() < deadline, row.status
        await asyncio.sleep(0.1)
    assert row.running == 2
    assert (await pods.get(source)).status == "Running"  # the original is untouched

    again = await play_kube(rt, new_yaml, replace=True)
    assert again.pods == (target,) and again.pod_ids != report.pod_ids

    await play_kube_down(rt, new_yaml)
    with pytest.raises(NotFound, match=target):
        await pods.inspect(target)
    with pytest.raises(NotFound):
        await play_kube_down(rt, new_yaml)
    assert (await pods.get(source)).status == "Running"


async def test_kube_errors(rt: PodmanRuntime, prefix: str) -> None:
    """Bad YAML is InvalidInput, an unknown object NotFound, empty input InvalidInput."""
    with pytest.raises(InvalidInput):
        await play_kube(rt, "kind: Pod\nmetadata: [\n")
    with pytest.raises(InvalidInput):
        await play_kube(rt, "   ")
    with pytest.raises(NotFound, match=f"{prefix}-nothing"):
        await generate_kube(rt, [f"{prefix}-nothing"])
    with pytest.raises(InvalidInput):
        await generate_kube(rt, [])
