"""podman-compose (1.0.3) against the real Podman service: the tool runs with ``CONTAINER_HOST`` set to the
service (the podman CLI in remote mode), and every state is read back through the Podman runtime.

Each test uses its own project ``tt-compose-<random>`` in ``tmp_path`` and takes it down at teardown
(podman-compose ``down``, then an API sweep of containers and networks by the project label).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tamer_tui.core.compose import (
    ComposeTool,
    compose_argv,
    compose_env,
    file_action,
    find_tools,
    pick_tool,
    project_action,
)
from tamer_tui.core.errors import BackendError, InvalidInput
from tamer_tui.core.logstream import LogChunk, LogOptions
from tamer_tui.core.logtargets import open_runtime_logs
from tamer_tui.core.manager import RuntimeManager
from tamer_tui.core.models import RuntimeKind
from tests.compose.conftest import Engine, collect, need_tool, service_yaml, write_compose


@pytest.fixture
async def pc() -> list[ComposeTool]:
    """Only podman-compose."""
    need_tool("podman-compose")
    tools = [t for t in await find_tools() if t.name == "podman-compose"]
    assert tools, "podman-compose is on PATH but its probe failed"
    return tools


@pytest.fixture
def down_later(compose_down: list, project_name: str, podman_engine: Engine, pc: list[ComposeTool]):  # noqa: ANN201
    def register(path: Path) -> None:
        argv = compose_argv(pc[0], None, "down", files=[str(path)], project_name=project_name)
        compose_down.append((argv, compose_env(pc[0], podman_engine.runtime.endpoint), str(path.parent)))

    return register


async def test_up_stop_down_against_the_podman_service(podman_engine: Engine, project_name: str, tmp_path: Path,
                                                        pc: list[ComposeTool], down_later) -> None:  # noqa: ANN001
    """A new project on Podman is brought up with podman-compose (picked for the engine, pointed at the
    service with CONTAINER_HOST); it groups as a podman-compose project; stop of one service, up again,
    and down work; down also removes the network podman-compose 1.0.3 leaves behind."""
    path = write_compose(tmp_path / "papp", "web", "db", version="")
    down_later(path)
    rt = podman_engine.runtime
    assert pick_tool(RuntimeKind.PODMAN, pc) is pc[0]
    lines = await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=pc))
    assert lines[0].text.startswith(f"$ podman-compose -p {project_name} -f {path} up -d")
    assert any(ln.text.startswith("podman run --name=" + project_name) for ln in lines)
    assert lines[-1].text == "exit 0"
    assert await podman_engine.states(project_name) == {"db": "running", "web": "running"}
    project = await podman_engine.project(project_name)
    assert (project.flavor, project.config_files, project.working_dir) == (
        "podman-compose", (str(path),), str(path.parent))

    await collect(project_action(rt, project, "stop", ["db"], tools=pc))
    assert await podman_engine.states(project_name) == {"db": "exited", "web": "running"}
    project = await podman_engine.project(project_name)
    assert project.state == "partial(1/2)"
    # podman-compose 1.0.3's up of existing containers: `podman run` fails, `podman start` recovers: no error
    lines = await collect(project_action(rt, project, "up", tools=pc))
    assert any(ln.text.startswith("podman start") for ln in lines)
    assert await podman_engine.states(project_name) == {"db": "running", "web": "running"}

    lines = await collect(project_action(rt, await podman_engine.project(project_name), "down", tools=pc))
    assert f"removed network {project_name}_default" in [ln.text for ln in lines]
    assert await podman_engine.states(project_name) == {}
    assert f"{project_name}_default" not in [n.name for n in await rt.list_networks()]


async def test_hidden_podman_failure_is_an_error(podman_engine: Engine, project_name: str, tmp_path: Path,
                                                 pc: list[ComposeTool], down_later) -> None:  # noqa: ANN001
    """podman-compose 1.0.3 exits 0 when the podman run it started fails (here: an image that does not
    exist and may not be pulled); the action still fails, with podman's message."""
    path = tmp_path / "pbad" / "docker-compose.yml"
    path.parent.mkdir()
    path.write_text(f"services:\n  app:\n    image: localhost/{project_name}-missing:none\n    pull_policy: never\n")
    down_later(path)
    with pytest.raises(BackendError, match=r"podman-compose up of .*: podman run failed with exit code 125: "
                                           r"Error: .*-missing:none: image not known"):
        await collect(file_action(podman_engine.runtime, [str(path)], "up", project_name=project_name, tools=pc))


async def test_podman_project_needs_podman_compose(podman_engine: Engine, project_name: str, tmp_path: Path,
                                                   pc: list[ComposeTool], down_later) -> None:  # noqa: ANN001
    """A podman-compose project cannot be driven by the Docker tools: without podman-compose the action
    fails with the install hint, before anything runs."""
    path = write_compose(tmp_path / "pneed", "web", version="")
    down_later(path)
    rt = podman_engine.runtime
    await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=pc))
    project = await podman_engine.project(project_name)
    docker_only = [t for t in await find_tools() if t.name != "podman-compose"]
    with pytest.raises(InvalidInput, match="created by podman-compose, which is not installed"):
        await collect(project_action(rt, project, "restart", tools=docker_only))
    assert await podman_engine.states(project_name) == {"web": "running"}


async def collect_logs(manager: RuntimeManager, target: str) -> dict[str, list[str]]:
    """source -> lines of a non-follow log session."""
    session = await open_runtime_logs(manager, target, LogOptions(tail=10, follow=False))
    out: dict[str, list[str]] = {}
    try:
        async with asyncio.timeout(20):
            async for items in session.items():
                for item in items:
                    if isinstance(item, LogChunk):
                        out.setdefault(item.source, []).extend(item.lines)
    finally:
        await session.close()
    return out


async def test_files_gone_logs_stop_and_down_through_the_api(podman_engine: Engine, project_name: str,
                                                            tmp_path: Path, pc: list[ComposeTool],
                                                            down_later) -> None:  # noqa: ANN001
    """A podman-compose project whose file was deleted: ``logs compose/podman:PROJECT[/SERVICE]`` finds its
    containers by podman-compose's labels (one source per service-number); it is grouped as files_missing,
    and stop and down work through the Podman API (down removes the network, labelled by podman-compose)."""
    path = tmp_path / "pgone" / "docker-compose.yml"
    path.parent.mkdir()
    body = "services:\n" + "".join(
        service_yaml(n, ["sh", "-c", f"echo hello-{n}; trap 'exit 0' TERM; sleep 3600 & wait"]) for n in ("web", "db"))
    path.write_text(body)
    down_later(path)
    rt = podman_engine.runtime
    await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=pc))
    path.unlink()
    manager = RuntimeManager.from_runtimes([rt])
    logs = await collect_logs(manager, f"compose/{rt.name}:{project_name}")
    assert logs == {"web-1": ["hello-web"], "db-1": ["hello-db"]}
    assert await collect_logs(manager, f"compose/{project_name}/db") == {"db-1": ["hello-db"]}

    project = await podman_engine.project(project_name)
    assert project.files_missing and project.flavor == "podman-compose"
    lines = await collect(project_action(rt, project, "stop", tools=pc))
    assert sorted(ln.text for ln in lines if ln.stream == "stdout") == [
        f"stopped {project_name}_db_1", f"stopped {project_name}_web_1"]
    assert await podman_engine.states(project_name) == {"db": "exited", "web": "exited"}
    lines = await collect(project_action(rt, await podman_engine.project(project_name), "down", tools=pc))
    assert f"removed network {project_name}_default" in [ln.text for ln in lines]
    assert await podman_engine.states(project_name) == {}
    assert f"{project_name}_default" not in [n.name for n in await rt.list_networks()]
