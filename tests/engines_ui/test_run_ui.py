"""The run dialog, live limits and the health view against the real Docker daemon.

Everything is checked on the daemon through the docker SDK, independently of Tamer.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from tamer_tui.core.docker_runtime import DockerRuntime
from tests import services
from tests.ui.conftest import make_app, unique, wait_daemon, wait_for


def _remove(api: Any, name: str) -> None:
    try:
        api.remove_container(name, force=True)
    except Exception:  # noqa: BLE001 - not created
        pass


async def test_run_dialog_validates_then_runs_with_limits(docker_endpoint: Any, docker_api: Any) -> None:
    """A bad memory value is shown under its field and nothing runs; fixed, ctrl+s creates and starts the
    container with the name, command, env, port, memory, CPUs, restart policy and health check typed."""
    name = unique("tt-rui")
    app = make_app([DockerRuntime(docker_endpoint)])
    try:
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("colon", *f"run --dialog docker:{services.test_image()}", "enter")
            await wait_for(lambda: app.screen.__class__.__name__ == "FormScreen", pilot, timeout=20)
            form = app.screen
            values = {"name": name, "command": "sh -c 'touch /tmp/ok; exec sleep 3600'", "env": "MODE=ui, B=2",
                      "memory": "lots", "cpus": "0.5", "restart": "on-failure:2",
                      "health_cmd": "test -e /tmp/ok", "health_interval": "1s", "labels": "tamer.test=" +
                      docker_api.test_label}
            for field, value in values.items():
                form.query_one(f"#field-{field}", Input).value = value
            await pilot.press("ctrl+s")
            await wait_for(lambda: "memory" in str(form.query_one("#problem-memory").render()), pilot)
            assert app.screen is form  # still open, nothing ran
            assert not docker_api.containers(all=True, filters={"name": name})
            form.query_one("#field-memory", Input).value = "64m"
            await pilot.press("ctrl+s")
            await wait_for(lambda: "started" in app.last_result, pilot, timeout=30)
            info = docker_api.inspect_container(name)
            host = info["HostConfig"]
            assert info["State"]["Running"]
            assert host["Memory"] == 64 * 1024 * 1024
            assert host["NanoCpus"] == 500_000_000 or host["CpuQuota"] == 50_000
            assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
            assert "MODE=ui" in info["Config"]["Env"]
            assert info["Config"]["Healthcheck"]["Test"] in (["CMD", "test", "-e", "/tmp/ok"],
                                                             ["CMD-SHELL", "test -e /tmp/ok"])
            await wait_daemon(lambda: docker_api.inspect_container(name)["State"].get("Health", {}).get("Status")
                              == "healthy", timeout=30)

            # live limits from command mode, read back from the daemon
            await pilot.press("colon", *f"limits container/{name} --memory=128m --cpus=1", "enter")
            await wait_daemon(lambda: docker_api.inspect_container(name)["HostConfig"]["Memory"]
                              == 128 * 1024 * 1024, timeout=20)
            await wait_for(lambda: "cpus 1" in app.last_result, pilot, timeout=20)

            # the health view: a table of the check's runs
            await pilot.press("colon", *f"health container/{name}", "enter")
            await wait_for(lambda: app.screen.__class__.__name__ == "TableScreen", pilot, timeout=20)
            health = app.screen
            assert "healthy" in health.table_title and "test -e /tmp/ok" in health.table_title
            assert health.rows and all(r[2] == "0" for r in health.rows)  # exit codes of passing checks
    finally:
        _remove(docker_api, name)


async def test_limits_dialog_and_readonly(docker_endpoint: Any, docker_api: Any) -> None:
    """`L` on a container opens the limits dialog pre-filled with what is set; Apply changes the memory;
    under --readonly `:run` and `:limits` are refused before anything happens."""
    name = unique("tt-lim")
    c = docker_api.create_container(services.test_image(), ["sleep", "600"], name=name,
                                    labels={"tamer.test": docker_api.test_label},
                                    host_config=docker_api.create_host_config(init=True, mem_limit="96m"))
    docker_api.start(c["Id"])
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_for(lambda: any(r.name == name for r in app.screen.store.rows.values()), pilot, timeout=20)
        await pilot.press("slash", *name, "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None, pilot)
        await pilot.press("L")
        await wait_for(lambda: app.screen.__class__.__name__ == "FormScreen", pilot, timeout=20)
        assert app.screen.query_one("#field-memory", Input).value == "96m"
        app.screen.query_one("#field-memory", Input).value = "160m"
        await pilot.press("ctrl+s")
        await wait_daemon(lambda: docker_api.inspect_container(name)["HostConfig"]["Memory"] == 160 * 1024 * 1024,
                          timeout=20)
    ro = make_app([DockerRuntime(docker_endpoint)], readonly=True)
    async with ro.run_test(size=(150, 40)) as pilot:
        await pilot.press("colon", *f"limits container/{name} --memory=200m", "enter")
        await wait_for(lambda: "read-only" in ro.last_result, pilot, timeout=20)
        await pilot.press("colon", *f"run docker:{services.test_image()} --name={name}-ro", "enter")
        await wait_for(lambda: "read-only" in ro.last_result and "run" in ro.last_result, pilot, timeout=20)
    assert docker_api.inspect_container(name)["HostConfig"]["Memory"] == 160 * 1024 * 1024
    assert not docker_api.containers(all=True, filters={"name": f"{name}-ro"})
