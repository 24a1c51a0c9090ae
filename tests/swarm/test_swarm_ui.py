"""Swarm from the UI against the real dockerd in swarm mode (the module's swarm_engine fixture).

Keys and commands a user types must change the swarm; checked through the docker SDK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.swarm import Swarm
from tests import services
from tests.swarm.conftest import SwarmEngine
from tests.ui.conftest import make_app, wait_daemon, wait_for


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAMER_DATA_DIR", str(tmp_path / "tamer-data"))
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path / "tamer-config"))


def _replicas(api: Any, name: str) -> int:
    svc = api.inspect_service(name)
    return int(svc["Spec"]["Mode"]["Replicated"]["Replicas"])


def _app(engine: SwarmEngine, readonly: bool = False, command: str | None = None) -> Any:
    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", engine.url, "test"))
    return make_app([rt], readonly=readonly, command=command)


async def test_services_scale_tasks_logs_and_remove(swarm_engine: SwarmEngine, swarm: Swarm) -> None:
    """`:swarm` lists the service 2/2; `s` + 3 scales it (the swarm says 3 and the row shows 3/3); Enter
    shows its tasks; `l` opens its logs with the lines the tasks printed; `:swarm rm` asks, then removes it."""
    name = swarm_engine.name("ui")
    await swarm.create_service(name, services.test_image(), ["sh", "-c", "echo hello-from-task; exec sleep 3600"],
                               replicas=2, stop_grace_s=0.5)
    app = _app(swarm_engine, command="swarm")
    async with app.run_test(size=(150, 32)) as pilot:
        screen = app.screen
        await wait_for(lambda: any(r.name == name and r.running == 2 for r in screen.store.rows.values()), pilot,
                       timeout=40)
        await pilot.press("slash", *name, "enter")
        await wait_for(lambda: screen.table.cursor_row is not None, pilot)
        await pilot.press("s")
        await wait_for(lambda: app.screen.__class__.__name__ == "PromptScreen", pilot)
        await pilot.press("3", "enter")
        await wait_daemon(lambda: _replicas(swarm_engine.api, name) == 3, timeout=20)
        await wait_for(lambda: screen.table.cursor_row.running == 3, pilot, timeout=40)
        await pilot.press("enter")
        await wait_for(lambda: getattr(app.screen, "kind", "") == "tasks"
                       and sum(r.state == "running" for r in app.screen.store.rows.values()) == 3, pilot,
                       timeout=30)
        await pilot.press("escape")  # back to the services
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.press("l")
        await wait_for(lambda: app.screen.__class__.__name__ == "LogsScreen", pilot, timeout=20)
        logs = app.screen
        await wait_for(lambda: any("hello-from-task" in t for t in logs.buffer.texts), pilot, timeout=30)
        await pilot.press("escape")
        await pilot.press("colon", *f"swarm rm {name}", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("y")
        await wait_daemon(lambda: not swarm_engine.api.services(filters={"name": name}), timeout=20)


async def test_readonly_blocks_scale_and_node_drain(swarm_engine: SwarmEngine, swarm: Swarm) -> None:
    """Under --readonly `:swarm scale` and `:swarm drain` are refused and nothing changes."""
    name = swarm_engine.name("ro")
    await swarm.create_service(name, services.test_image(), ["sleep", "3600"], replicas=1, stop_grace_s=0.5)
    node = swarm_engine.api.nodes()[0]["ID"]
    app = _app(swarm_engine, readonly=True)
    async with app.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"swarm scale {name} 4", "enter")
        await wait_for(lambda: "read-only" in app.last_result, pilot, timeout=20)
        app.last_result = ""
        await pilot.press("colon", *f"swarm drain {node}", "enter")
        await wait_for(lambda: "read-only" in app.last_result, pilot, timeout=20)
    assert _replicas(swarm_engine.api, name) == 1
    assert swarm_engine.api.inspect_node(node)["Spec"]["Availability"] == "active"
