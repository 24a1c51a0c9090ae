"""Quadlet files from real inspected objects of the Podman service, checked key by key.

The container has env, ports, a named and a bind volume, labels, a healthcheck, a restart policy and
a command full of spaces and quotes; its ``.container`` file is read back with the independent
Quadlet/systemd parser in ``systemd_split``. Objects are named ``tt-pod-<random>...`` and removed by
the conftest fixtures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tamer_tui.core.podman_pods import PodmanPods, container_quadlet_for, pod_quadlet_files
from tamer_tui.core.podman_runtime import PodmanRuntime
from tamer_tui.core.quadlet import container_quadlet, pod_quadlet, quadlet_dir, write_quadlet
from tests.podman_pods.conftest import make_container
from tests.podman_pods.systemd_split import exec_start_argv, parse_unit, split_words, values

pytestmark = pytest.mark.podman

QUADLET_BIN = "/usr/libexec/podman/quadlet"
COMMAND = ("/bin/sh", "-c", "echo \"hi there\" 'quoted' 100% $HOME; exec sleep 3600", "arg with  spaces")


async def make_rich_container(rt: PodmanRuntime, prefix: str, tmp_path: Path) -> str:
    """A created (not started) container with every kind of setting container_quadlet handles."""
    volume = await rt.create_volume(f"{prefix}-data", labels={"tamer.test": prefix})
    bind = tmp_path / "conf dir"
    bind.mkdir()
    await make_container(
        rt, prefix, "rich",
        command=COMMAND,
        env={"GREETING": "hello world", "TRICKY": "it's \"x\" 50% $HOME"},
        labels={"tamer.test": prefix, "app": "web site"},
        # never started, so the fixed host ports are not bound (Podman pins a 0 to a random port at create)
        portmappings=[{"container_port": 80, "host_port": 28080, "protocol": "tcp"},
                      {"container_port": 53, "host_port": 25353, "protocol": "udp", "host_ip": "127.0.0.1"}],
        mounts=[{"destination": "/etc/web", "source": str(bind), "type": "bind", "options": ["ro"]}],
        volumes=[{"Name": volume, "Dest": "/data"}],
        healthconfig={"Test": ["CMD-SHELL", "test -e /bin/sh && echo \"ok\""], "Interval": 30_000_000_000,
                      "Timeout": 5_000_000_000, "Retries": 2, "StartPeriod": 0},
        restart_policy="on-failure",
    )
    return f"{prefix}-rich"


def kv(value: str) -> tuple[str, str]:
    (word,) = exec_start_argv(split_words(value))
    key, _sep, val = word.partition("=")
    return key, val


async def test_container_quadlet_of_a_real_container(rt: PodmanRuntime, prefix: str, tmp_path: Path) -> None:
    """Image, name, Exec (round trip), Environment, PublishPort, Volume, Label, Health*, Restart are right."""
    name = await make_rich_container(rt, prefix, tmp_path)
    inspect = await rt.inspect_container(name)
    qf = container_quadlet(inspect)
    assert qf.filename == f"{name}.container"
    unit = parse_unit(qf.text)
    c: dict[str, list[str]] = {}
    for key, value in unit["Container"]:
        c.setdefault(key, []).append(value)

    assert c["Image"] == [inspect["Config"]["Image"]] and c["ContainerName"] == [name]
    assert exec_start_argv(split_words(c["Exec"][0])) == list(COMMAND)
    env = dict(kv(v) for v in c["Environment"])
    assert env == {"GREETING": "hello world", "TRICKY": "it's \"x\" 50% $HOME"}
    labels = dict(kv(v) for v in c["Label"])
    assert labels["app"] == "web site" and labels["tamer.test"] == prefix
    assert "org.tamer.test-image.recipe" in labels  # without the image's inspect its labels stay
    assert sorted(c["PublishPort"]) == ["127.0.0.1:25353:53/udp", "28080:80"]
    assert sorted(c["Volume"]) == sorted([f"{prefix}-data:/data", f"{tmp_path / 'conf dir'}:/etc/web:ro"])
    assert exec_start_argv([c["HealthCmd"][0]]) == ["test -e /bin/sh && echo \"ok\""]
    assert c["HealthInterval"] == ["30s"] and c["HealthTimeout"] == ["5s"] and c["HealthRetries"] == ["2"]
    assert "Network" not in c
    assert values(unit, "Service", "Restart") == ["on-failure"]
    assert values(unit, "Install", "WantedBy") == ["default.target"]

    # with the image's inspect (container_quadlet_for) the image's own label is left out, the rest stays
    live = await container_quadlet_for(rt, name)
    live_labels = dict(kv(v) for v in values(parse_unit(live.text), "Container", "Label"))
    assert "org.tamer.test-image.recipe" not in live_labels and live_labels["app"] == "web site"

    # written where a rootless user's Quadlet looks (XDG_CONFIG_HOME honoured), never over an existing file
    target = quadlet_dir(True, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    path = write_quadlet(target, qf)
    assert path.parent == tmp_path / "xdg" / "containers" / "systemd"
    assert path.read_text() == qf.text


async def test_pod_quadlet_files_of_a_real_pod(rt: PodmanRuntime, prefix: str) -> None:
    """A real pod gives NAME.pod (ports, labels, 5.0 note) and one NAME.container per member, infra skipped."""
    pods = PodmanPods(rt)
    pod = f"{prefix}-qpod"
    await pods.create(pod, labels={"tamer.test": prefix}, ports=[(8080, 28081)])  # created, never started
    await make_container(rt, prefix, "qpod-web", pod=pod)
    files = await pod_quadlet_files(rt, pod)
    assert [f.filename for f in files] == [f"{pod}.pod", f"{prefix}-qpod-web.container"]
    pod_unit = parse_unit(files[0].text)
    assert values(pod_unit, "Pod", "PodName") == [pod]
    assert values(pod_unit, "Pod", "PublishPort") == ["28081:8080"]
    assert [exec_start_argv(split_words(v)) for v in values(pod_unit, "Pod", "PodmanArgs")] == \
        [[f"--label=tamer.test={prefix}"]]
    assert "5.0" in files[0].note and "Podman 5.0" in files[0].text
    member = parse_unit(files[1].text)
    assert values(member, "Container", "Pod") == [f"{pod}.pod"]
    assert not values(member, "Container", "PublishPort")
    assert exec_start_argv(split_words(values(member, "Container", "Exec")[0])) == ["sleep", "3600"]
    assert pod_quadlet(await pods.inspect(pod)).text == files[0].text


async def test_generated_files_pass_quadlet_dryrun(rt: PodmanRuntime, prefix: str, tmp_path: Path) -> None:
    """Podman's own Quadlet generator (-dryrun) accepts the .container file.

    The generator exists since Podman 4.4; the 4.3.1 installed here has no /usr/libexec/podman/quadlet,
    so this test skips here and runs where a newer Podman is installed.
    """
    if not os.access(QUADLET_BIN, os.X_OK):
        pytest.skip(f"{QUADLET_BIN} is absent (Podman < 4.4): Quadlet itself cannot check the file here")
    name = await make_rich_container(rt, prefix, tmp_path)
    units = tmp_path / "units"
    write_quadlet(units, container_quadlet(await rt.inspect_container(name)))
    result = subprocess.run(  # noqa: S603 - fixed argv
        [QUADLET_BIN, "-dryrun"], env={**os.environ, "QUADLET_UNIT_DIRS": str(units)},
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ExecStart=" in result.stdout and f"--name {name}" in result.stdout
    assert shutil.which("podman")
