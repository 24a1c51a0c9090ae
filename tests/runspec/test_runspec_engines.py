"""Run specs against the real Docker daemon and Podman service (each test runs on both engines):
form -> build_spec -> create_container -> inspect reads every field back and round-trips to the same spec;
live limits via update_container; health checks turning healthy/unhealthy; restart policy "always"."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tamer_tui.core.errors import Conflict
from tamer_tui.core.models import ContainerSpec
from tamer_tui.core.podman_runtime import PodmanRuntime
from tamer_tui.core.runspec import (
    Limits,
    NotSupported,
    build_spec,
    limits_from_inspect,
    spec_from_inspect,
    spec_to_values,
    version_tuple,
)
from tests import services
from tests.runspec.conftest import Engine, free_port, wait_for

MIB = 1024 * 1024


def normalized(spec: ContainerSpec, kind: str) -> ContainerSpec:
    """What an engine reports for ``spec``, as far as it differs without changing the meaning: Podman names
    local images ``localhost/...``; env, labels and volumes come back in the engine's order."""
    image = f"localhost/{spec.image}" if kind == "podman" and spec.image.count("/") == 1 else spec.image
    return replace(spec, image=image, env=tuple(sorted(spec.env)), labels=tuple(sorted(spec.labels)),
                   volumes=tuple(sorted(spec.volumes, key=lambda v: v.split(":")[1])))


def http_get(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return data.decode("utf-8", "replace")


async def cgroup_limits(engine: Engine, cid: str) -> tuple[int, int]:
    """(CPU quota per 100 ms period in us or -1, memory limit in bytes) as the container's cgroup has them
    (cgroup v1 or v2)."""
    script = ("if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max; "
              "else cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us "
              "/sys/fs/cgroup/memory/memory.limit_in_bytes; fi")
    result = await engine.rt.exec_run(cid, ["sh", "-c", script])
    words = result.output.split()
    assert result.exit_code == 0, result.output
    quota, period, memory = (words if len(words) == 3 else [*words[0:2], words[2]])
    quota_us = -1 if quota in ("max", "-1") else int(quota) * 100000 // int(period)
    mem = -1 if memory == "max" or int(memory) > 2**60 else int(memory)
    return quota_us, mem


async def test_form_to_container_and_back(engine: Engine, tmp_path: Path) -> None:
    """Every form field reaches the engine (read back from inspect and by using the container: port, mounts,
    env, user, workdir, limits, restart, health) and spec_from_inspect gives back the same spec."""
    rt = engine.rt
    net = engine.name("net")
    await rt.create_network(net)
    engine.networks.append(net)
    vol = engine.name("vol")
    engine.volumes.append(vol)
    (tmp_path / "hello.txt").write_text("from the host\n")
    tmp_path.chmod(0o755)
    port = free_port()
    values = {
        "image": services.test_image(),
        "name": engine.name("web"),
        "command": "sh -c 'mkdir -p /tmp/www && echo \"hello world\" > /tmp/www/index.html "
                   "&& exec httpd -f -p 8080 -h /tmp/www'",
        "ports": f"{port}:8080",
        "env": "GREETING='hi there' EMPTY= COMMA='a,b'",
        "volumes": f"{vol}:/data, {tmp_path}:/host:ro",
        "network": net,
        "cpus": "0.5",
        "memory": "64m",
        "restart": "on-failure:3",
        "health_cmd": "sh -c 'test -e /tmp/www/index.html'",
        "health_interval": "1s",
        "labels": f"tamer.test={engine.prefix} app='run spec'",
        "workdir": "/tmp",
        "user": "1000:1000",
    }
    spec, problems = build_spec(values)
    assert problems == [] and spec is not None
    cid = await engine.run(spec)

    info = await rt.inspect_container(cid)
    config, host = info["Config"], info["HostConfig"]
    assert info["Name"].lstrip("/") == values["name"]
    assert config["Cmd"] == ["sh", "-c", "mkdir -p /tmp/www && echo \"hello world\" > /tmp/www/index.html "
                                         "&& exec httpd -f -p 8080 -h /tmp/www"]
    assert {"GREETING=hi there", "EMPTY=", "COMMA=a,b"} <= set(config["Env"])
    assert config["Labels"]["app"] == "run spec" and config["Labels"]["tamer.test"] == engine.prefix
    assert host["PortBindings"]["8080/tcp"][0]["HostPort"] == str(port)
    assert host["NanoCpus"] == 500_000_000 and host["Memory"] == 64 * MIB
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert config["Healthcheck"]["Test"] == ["CMD", "sh", "-c", "test -e /tmp/www/index.html"]
    assert config["Healthcheck"]["Interval"] == 1_000_000_000
    assert config["WorkingDir"] == "/tmp" and config["User"] == "1000:1000"
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/data"]["Type"] == "volume" and mounts["/data"]["Name"] == vol and mounts["/data"]["RW"]
    assert mounts["/host"]["Type"] == "bind" and mounts["/host"]["Source"] == str(tmp_path)
    assert not mounts["/host"]["RW"]
    assert net in info["NetworkSettings"]["Networks"]

    # the container really works that way
    probe = await rt.exec_run(cid, ["sh", "-c", 'echo "$GREETING|$COMMA"; pwd; id -u; cat /host/hello.txt; '
                                                "touch /host/x 2>/dev/null && echo writable || echo read-only"])
    assert probe.output.split("\n")[:5] == ["hi there|a,b", "/tmp", "1000", "from the host", "read-only"]
    page = await wait_for(lambda: asyncio.to_thread(_try_get, port), timeout=10)
    assert "hello world" in page
    if isinstance(rt, PodmanRuntime):
        assert await rt.run_healthcheck(cid) == "healthy"  # no systemd timers here: run the check ourselves
    health = await wait_for(lambda: _status_is(engine, cid, "healthy"), timeout=10)
    assert health.test == ("sh", "-c", "test -e /tmp/www/index.html") and health.interval_s == 1.0
    row = await rt.get_container(cid)
    assert row.health == "healthy"  # the list payloads carry health on both engines

    # inspect -> spec gives the same spec back (engine-added defaults dropped, see normalized())
    image = await rt.inspect_image(services.test_image())
    back = spec_from_inspect(await rt.inspect_container(cid), image)
    assert normalized(back, engine.kind) == normalized(spec, engine.kind)
    # and the "run like this" form builds that spec again
    assert build_spec(spec_to_values(back)) == (back, [])


def _try_get(port: int) -> str:
    try:
        return http_get(port)
    except OSError:
        return ""


async def _status_is(engine: Engine, cid: str, status: str) -> object:
    if isinstance(engine.rt, PodmanRuntime):
        await engine.rt.run_healthcheck(cid)
    state = await engine.rt.health_log(cid)
    return state if state.status == status else None


async def test_entrypoint_tty_and_auto_remove_round_trip(engine: Engine) -> None:
    """Entrypoint, tty, auto-remove, health timing and a restart policy without count survive create ->
    inspect -> spec (Podman 4.x reports the entrypoint as one string: it is rebuilt from Path/Args)."""
    spec, problems = build_spec({
        "image": services.test_image(), "name": engine.name("ep"), "entrypoint": "sh -c",
        "command": "'echo \"two words\"; sleep 600'", "labels": f"tamer.test={engine.prefix}", "tty": "yes",
        "health_cmd": "true", "health_interval": "2s", "health_timeout": "1500ms", "health_retries": "4",
        "health_start_period": "1m", "restart": "unless-stopped", "network": "none",
    })
    assert problems == [] and spec is not None
    cid = await engine.rt.create_container(spec)
    back = spec_from_inspect(await engine.rt.inspect_container(cid), await engine.rt.inspect_image(spec.image))
    assert normalized(back, engine.kind) == normalized(spec, engine.kind)
    spec_rm = replace(spec, name=engine.name("rm"), restart_policy="", auto_remove=True)
    rm_id = await engine.rt.create_container(spec_rm)
    assert spec_from_inspect(await engine.rt.inspect_container(rm_id)).auto_remove


async def test_update_limits_of_running_container(engine: Engine) -> None:
    """cpus 0.5 -> 1.0 and memory 64m -> 128m on a running container reach its cgroup (and Docker's inspect,
    restart policy included); what an engine cannot do is refused with a clear error before anything changes."""
    rt = engine.rt
    spec = ContainerSpec(image=services.test_image(), name=engine.name("lim"), command=("sleep", "600"),
                         labels=(engine.label,), cpus=0.5, memory=64 * MIB, restart_policy="on-failure:3")
    cid = await engine.run(spec)
    assert await cgroup_limits(engine, cid) == (50000, 64 * MIB)
    assert limits_from_inspect(await rt.inspect_container(cid)) == Limits(0.5, 64 * MIB, 128 * MIB, "on-failure:3")

    await rt.update_container(cid, Limits(cpus=1.0, memory=128 * MIB))
    assert await cgroup_limits(engine, cid) == (100000, 128 * MIB)
    now = limits_from_inspect(await rt.inspect_container(cid))
    podman_major = version_tuple((await rt.info()).version)[0] if engine.kind == "podman" else 0
    if engine.kind == "docker" or podman_major >= 5:
        assert (now.cpus, now.memory, now.memory_swap) == (1.0, 128 * MIB, 192 * MIB)
    else:  # Podman 4.x applies the change to the cgroup only; inspect keeps the create-time values
        assert (now.cpus, now.memory) in ((0.5, 64 * MIB), (1.0, 128 * MIB))

    if engine.kind == "docker":
        await rt.update_container(cid, Limits(restart_policy="always", memory=256 * MIB))
        after = limits_from_inspect(await rt.inspect_container(cid))
        assert after.restart_policy == "always" and after.memory == 256 * MIB
        with pytest.raises(NotSupported, match="cannot remove a --cpus limit"):
            await rt.update_container(cid, Limits(cpus=0))
        await rt.stop_container(cid, timeout=0)
        await rt.update_container(cid, Limits(cpus=0.75))  # Docker also updates stopped containers
        assert limits_from_inspect(await rt.inspect_container(cid)).cpus == 0.75
    elif podman_major < 5:
        with pytest.raises(NotSupported, match=r"Podman 4\.\S+ cannot change the restart policy.*Podman 5"):
            await rt.update_container(cid, Limits(cpus=1.5, restart_policy="always"))
        assert await cgroup_limits(engine, cid) == (100000, 128 * MIB)  # nothing was applied
        await rt.update_container(cid, Limits(cpus=0, memory=0))  # Podman can remove limits
        assert await cgroup_limits(engine, cid) == (-1, -1)
        await rt.stop_container(cid, timeout=0)
        with pytest.raises(Conflict, match="only change the limits of a running container"):
            await rt.update_container(cid, Limits(cpus=1.0))
    else:
        await rt.update_container(cid, Limits(restart_policy="always"))
        assert limits_from_inspect(await rt.inspect_container(cid)).restart_policy == "always"


async def test_health_passing_and_failing(engine: Engine) -> None:
    """A passing check makes the container healthy; a failing one unhealthy, with a failing streak and log
    entries holding the check's output; the list rows carry both states."""
    rt = engine.rt
    check = ("sh", "-c", "echo probe-says-$(cat /tmp/ok 2>/dev/null || echo missing); test -e /tmp/ok")
    good = ContainerSpec(image=services.test_image(), name=engine.name("ok"), labels=(engine.label,),
                         command=("sh", "-c", "echo fine > /tmp/ok; exec sleep 600"), healthcheck=check,
                         health_interval_s=1.0, health_retries=2, health_timeout_s=5.0)
    bad = replace(good, name=engine.name("bad"), command=("sleep", "600"))
    good_id = await engine.run(good)
    bad_id = await engine.run(bad)
    await asyncio.sleep(0.3)  # let the good one write /tmp/ok
    healthy = await wait_for(lambda: _status_is(engine, good_id, "healthy"), timeout=15)
    unhealthy = await wait_for(lambda: _status_is(engine, bad_id, "unhealthy"), timeout=15)
    assert healthy.failing_streak == 0 and healthy.log and healthy.log[-1].exit_code == 0
    assert "probe-says-fine" in healthy.log[-1].output
    assert unhealthy.failing_streak >= 2 and len(unhealthy.log) >= 2 and unhealthy.retries == 2
    assert all(e.exit_code == 1 and "probe-says-missing" in e.output for e in unhealthy.log)
    assert all(e.end >= e.start > time.time() - 120 for e in unhealthy.log)
    rows = {row.id: row for row in await rt.list_containers(all=True)}
    assert rows[good_id].health == "healthy" and rows[bad_id].health == "unhealthy"


async def test_restart_always_brings_exited_container_back(engine: Engine) -> None:
    """With restart policy "always" a container whose process exits is started again (RestartCount >= 1)."""
    spec, problems = build_spec({"image": services.test_image(), "name": engine.name("rs"),
                                 "command": "sh -c 'sleep 0.5; exit 3'", "restart": "always",
                                 "labels": f"tamer.test={engine.prefix}"})
    assert problems == [] and spec is not None
    cid = await engine.run(spec)

    async def restarted() -> int:
        return int((await engine.rt.inspect_container(cid)).get("RestartCount") or 0)

    assert await wait_for(restarted, timeout=20) >= 1
