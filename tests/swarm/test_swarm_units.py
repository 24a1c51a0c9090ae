"""Pure parts of :mod:`tamer_tui.core.swarm`: parsers on payloads captured from dockerd 20.10 (API 1.41),
stack grouping, the task prefix of service log lines, and the "not a swarm manager" error mapping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import map_error
from tamer_tui.core.errors import InvalidInput, NotFound, TamerError
from tamer_tui.core.logwire import LogBatch
from tamer_tui.core.swarm import (
    NotASwarmManager,
    ServiceRow,
    Swarm,
    TaskLabels,
    count_tasks,
    group_stacks,
    parse_node,
    parse_service,
    parse_task,
    strip_digest,
    swarm_feed,
)

SERVICE: dict[str, Any] = {
    "ID": "lfpzz0m0j9kh0o57tbgpvckdr",
    "Version": {"Index": 11},
    "CreatedAt": "2026-11-26T11:14:32.44622398Z",
    "UpdatedAt": "2026-11-26T11:14:32.44622398Z",
    "Spec": {
        "Name": "web",
        "Labels": {"com.docker.stack.namespace": "shop"},
        "TaskTemplate": {"ContainerSpec": {"Image": "nginx:1.25@sha256:" + "a" * 64, "Args": ["sleep", "3600"]}},
        "Mode": {"Replicated": {"Replicas": 3}},
    },
    "Endpoint": {
        "Spec": {"Mode": "vip", "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 18089,
                                           "PublishMode": "ingress"}]},
        "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 18089, "PublishMode": "ingress"},
                  {"Protocol": "udp", "TargetPort": 53}],
    },
    "UpdateStatus": {"State": "rollback_completed"},
    "ServiceStatus": {"RunningTasks": 2, "DesiredTasks": 3, "CompletedTasks": 0},
}

TASK_FAILED: dict[str, Any] = {
    "ID": "x1task", "ServiceID": "svc1", "NodeID": "node1", "DesiredState": "shutdown",
    "Spec": {"ContainerSpec": {"Image": "busybox:latest@sha256:" + "b" * 64}},
    "Status": {"Timestamp": "2026-11-26T11:14:57.819432562Z", "State": "failed", "Message": "started",
               "Err": "task: non-zero exit (1)",
               "ContainerStatus": {"ContainerID": "2ecd3b40c3d8", "PID": 0, "ExitCode": 1}},
}

NODE: dict[str, Any] = {
    "ID": "ubj4l4d6w3q63uowouhb7cim7",
    "CreatedAt": "2026-11-26T11:14:27.642807544Z",
    "Spec": {"Labels": {"zone": "a"}, "Role": "manager", "Availability": "active"},
    "Description": {"Hostname": "vm", "Engine": {"EngineVersion": "20.10.24+dfsg1"}},
    "Status": {"State": "ready", "Addr": "127.0.0.1"},
    "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": "127.0.0.1:2377"},
}


def test_parse_service_from_a_status_listing() -> None:
    """A service row takes counts from ServiceStatus, drops the image digest, formats ingress and
    unpublished ports like ``docker service ls`` and reads the stack from its label."""
    row = parse_service("docker", SERVICE)
    assert (row.name, row.mode, row.running, row.desired, row.replicas) == ("web", "replicated", 2, 3, "2/3")
    assert row.image == "nginx:1.25"
    assert row.ports == "*:18089->80/tcp, 53/udp"
    assert row.stack == "shop"
    assert row.update_state == "rollback_completed"
    assert row.key == "docker/lfpzz0m0j9kh0o57tbgpvckdr"
    assert row.updated == pytest.approx(1795691672.446, abs=0.01)


def test_modes_and_task_counting_without_service_status() -> None:
    """Without ServiceStatus (API < 1.41) running/desired are counted from the tasks: only running
    tasks that should run count, replicated desired is the replica count, global one per node."""
    svc = {"ID": "s", "Spec": {"Name": "g", "Mode": {"Global": {}}}}
    tasks = [
        {"ServiceID": "s", "NodeID": "n1", "DesiredState": "running", "Status": {"State": "running"}},
        {"ServiceID": "s", "NodeID": "n2", "DesiredState": "running", "Status": {"State": "preparing"}},
        {"ServiceID": "s", "NodeID": "n2", "DesiredState": "shutdown", "Status": {"State": "failed"}},
        {"ServiceID": "other", "NodeID": "n3", "DesiredState": "running", "Status": {"State": "running"}},
    ]
    assert count_tasks(svc, tasks) == (1, 2)
    row = parse_service("docker", svc, count_tasks(svc, tasks))
    assert (row.mode, row.replicas, row.ports, row.stack) == ("global", "1/2", "", "")
    rep = {"ID": "s", "Spec": {"Mode": {"Replicated": {"Replicas": 4}}}}
    assert count_tasks(rep, tasks) == (1, 4)
    job = {"ID": "s", "Spec": {"Mode": {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 5}}}}
    assert count_tasks(job, tasks)[1] == 5
    assert parse_service("d", job).mode == "replicated-job"


def test_parse_task_reports_the_error() -> None:
    """A failed task keeps Status.Err, the exit code and the container id; service and node ids are
    shown by name."""
    row = parse_task("docker", TASK_FAILED, {"svc1": "api"}, {"node1": "vm"})
    assert (row.service, row.node, row.slot, row.desired, row.state) == ("api", "vm", 0, "shutdown", "failed")
    assert row.error == "task: non-zero exit (1)"
    assert row.exit_code == 1
    assert row.image == "busybox:latest"
    assert row.container_id == "2ecd3b40c3d8"
    assert row.name == "api.node1"
    running = {**TASK_FAILED, "Slot": 2, "Status": {"State": "running", "ContainerStatus": {"ExitCode": 0}}}
    row2 = parse_task("docker", running, {}, {})
    assert (row2.slot, row2.exit_code, row2.error, row2.service, row2.name) == (2, None, "", "svc1", "svc1.2")


def test_parse_node() -> None:
    """A node row has role, availability, status, leader, engine, address and labels."""
    row = parse_node("docker", NODE)
    assert (row.hostname, row.role, row.availability, row.status, row.leader) == ("vm", "manager", "active",
                                                                                  "ready", True)
    assert (row.engine, row.addr, row.labels, row.reachability) == ("20.10.24+dfsg1", "127.0.0.1", (("zone", "a"),),
                                                                    "reachable")
    assert row.key == "docker/ubj4l4d6w3q63uowouhb7cim7"


def test_group_stacks() -> None:
    """Stacks are the services' namespace labels, with services counted and replicas summed;
    services without the label belong to no stack."""

    def svc(name: str, stack: str, running: int, desired: int) -> ServiceRow:
        return ServiceRow("docker", name, name, "replicated", running, desired, "img", "", stack, 0.0, "")

    stacks = group_stacks("docker", [svc("a", "shop", 1, 2), svc("b", "", 1, 1), svc("c", "shop", 3, 3),
                                     svc("d", "blog", 0, 1)])
    assert [(s.name, s.services, s.running, s.desired, s.replicas) for s in stacks] == [
        ("blog", 1, 0, 1, "0/1"), ("shop", 2, 4, 5, "4/5")]
    assert stacks[1].key == "docker/shop"


def test_strip_digest() -> None:
    """Only the ``@sha256:...`` part goes; a registry port stays."""
    assert strip_digest("127.0.0.1:5000/x/y:1@sha256:abc") == "127.0.0.1:5000/x/y:1"
    assert strip_digest("busybox") == "busybox"


def test_task_labels_prefix_each_line_with_its_task() -> None:
    """Service log details become ``NAME.SLOT@NODE | ``; an unknown task triggers one lookup, a task
    the lookup does not know is shown by its id; the details of a continued long line are removed."""
    calls = []

    def lookup() -> tuple[dict[str, str], dict[str, str]]:
        calls.append(1)
        return {"t1": "1", "t2": "0"}, {"t1": "vm", "t2": "node2"}

    labels = TaskLabels("web", lookup, min_refresh_s=60.0)
    details = "com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id={} "
    batch = LogBatch(["s1", "s2", "s3", "s4"], [
        details.format("t1") + "hello",
        details.format("t2") + "from global",
        details.format("zzzzzzzzzzzzzzzz") + "unknown",
        "no details here",
    ], [])
    out = labels.apply(batch)
    assert out.texts == ["web.1@vm | hello", "web@node2 | from global", "web.zzzzzzzzzzzz | unknown", "no details here"]
    assert out.stamps == batch.stamps
    assert len(calls) == 2  # t1 (which brought t2 along), then the unknown id once
    assert labels.text(details.format("zzzzzzzzzzzzzzzz") + "again") == "web.zzzzzzzzzzzz | again"
    assert len(calls) == 2  # not looked up again within min_refresh_s
    joined = details.format("t1") + "part one " + details.format("t1") + "part two"
    assert labels.text(joined) == "web.1@vm | part one part two"


class _FakeRuntime:
    name = "docker"


def _api_error(status: int, message: str) -> TamerError:
    import docker.errors

    class Response:
        status_code = status
        reason = "x"
        url = "http://d/v1.41/services"

        def json(self) -> dict[str, str]:
            return {"message": message}

    cls = docker.errors.NotFound if status == 404 else docker.errors.APIError  # as the SDK raises them
    raw = cls("err", response=Response(), explanation=message)  # type: ignore[arg-type]
    try:
        raise map_error(raw, "services") from raw
    except TamerError as exc:
        return exc


def test_not_a_manager_errors_are_clear() -> None:
    """503 "not a swarm manager" (outside a swarm, or on a worker) and a bare 404 (Podman has no swarm
    endpoints) become NotASwarmManager (an InvalidInput); a 404 naming an object stays NotFound."""
    swarm = Swarm(_FakeRuntime())  # type: ignore[arg-type]
    outside = swarm._translate(_api_error(503, 'This node is not a swarm manager. Use "docker swarm init" or '
                                               '"docker swarm join" to connect this node to swarm and try again.'),
                               listing=True)
    assert isinstance(outside, NotASwarmManager) and isinstance(outside, InvalidInput)
    assert "not a swarm manager" in str(outside) and "not in a swarm" in str(outside)
    worker = swarm._translate(_api_error(503, "This node is not a swarm manager. Worker nodes can't be used to "
                                              "view or modify cluster state."), listing=False)
    assert isinstance(worker, NotASwarmManager) and "worker" in str(worker)
    podman = swarm._translate(_api_error(404, "Not Found"), listing=False)
    assert isinstance(podman, NotASwarmManager) and "no swarm API" in str(podman)
    missing = _api_error(404, "service nope not found")
    assert isinstance(missing, NotFound)
    assert swarm._translate(missing, listing=False) is missing


async def test_swarm_feed_rejects_unknown_kinds() -> None:
    """A kind other than nodes/services/tasks/stacks is an InvalidInput at once (no reconnect loop)."""
    feed = swarm_feed(_FakeRuntime(), "containers")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await asyncio.wait_for(feed.__anext__(), 2)
