"""docker-compose (v1, Debian's 1.29) against the real Docker daemon, driven through
``file_action``/``project_action``; every state is read back through the runtime API.

Each test uses its own project ``tt-compose-<random>`` in ``tmp_path`` and takes it down at teardown
(the tool's ``down``, then an API sweep by the project label).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from tamer_tui.core.compose import (
    ComposeProject,
    ComposeTool,
    compose_argv,
    compose_env,
    compose_feed,
    file_action,
    find_tools,
    pick_tool,
    project_action,
)
from tamer_tui.core.errors import BackendError, InvalidInput, NotFound
from tamer_tui.core.feeds import Snapshot, SourceStatus
from tamer_tui.core.models import RuntimeKind
from tests import services
from tests.compose.conftest import Engine, collect, need_tool, write_compose


@pytest.fixture
async def v1() -> list[ComposeTool]:
    """Only docker-compose v1 (the tool installed here), so the tests do not depend on other tools."""
    need_tool("docker-compose")
    tools = [t for t in await find_tools() if t.name == "docker-compose"]
    assert tools, "docker-compose is on PATH but its probe failed"
    return tools


@pytest.fixture
def down_later(compose_down: list, project_name: str, docker_engine: Engine, v1: list[ComposeTool]):  # noqa: ANN201
    """Register ``docker-compose -p NAME -f FILE down`` for teardown."""

    def register(path: Path) -> None:
        argv = compose_argv(v1[0], None, "down", files=[str(path)], project_name=project_name)
        compose_down.append((argv, compose_env(v1[0], docker_engine.runtime.endpoint), str(path.parent)))

    return register


async def started_at(engine: Engine, project: ComposeProject, service: str) -> list[str]:
    return [str((await engine.runtime.inspect_container(c.id))["State"]["StartedAt"])
            for c in project.service(service).containers]


async def test_lifecycle_of_a_two_service_project(docker_engine: Engine, project_name: str, tmp_path: Path,
                                                  v1: list[ComposeTool], down_later) -> None:  # noqa: ANN001
    """up (new project from its file), stop, start, restart of one service only, up again and down of a
    2-service project: after each action the runtime shows the expected states; down removes the
    containers and the project's network."""
    path = write_compose(tmp_path / "app", "web", "worker")
    down_later(path)
    rt = docker_engine.runtime
    lines = await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=v1))
    assert lines[0].stream == "status" and lines[0].text.startswith("$ docker-compose -p " + project_name)
    assert lines[-1].text == "exit 0"
    assert any("web" in ln.text and ln.stream == "stderr" for ln in lines)  # v1 reports progress on stderr
    assert await docker_engine.states(project_name) == {"web": "running", "worker": "running"}
    project = await docker_engine.project(project_name)
    assert (project.flavor, project.working_dir, project.config_files) == (
        "docker-compose", str(path.parent), (str(path),))
    assert project.state == "running(2/2)" and not project.files_missing

    await collect(project_action(rt, project, "stop", tools=v1))
    assert await docker_engine.states(project_name) == {"web": "exited", "worker": "exited"}
    await collect(project_action(rt, await docker_engine.project(project_name), "start", tools=v1))
    assert await docker_engine.states(project_name) == {"web": "running", "worker": "running"}

    project = await docker_engine.project(project_name)
    web_before, worker_before = await started_at(docker_engine, project, "web"), \
        await started_at(docker_engine, project, "worker")
    lines = await collect(project_action(rt, project, "restart", ["worker"], tools=v1))
    assert lines[0].text.endswith(" restart worker")
    assert await started_at(docker_engine, project, "web") == web_before
    assert await started_at(docker_engine, project, "worker") != worker_before
    assert await docker_engine.states(project_name) == {"web": "running", "worker": "running"}

    await collect(project_action(rt, project, "stop", ["web"], tools=v1))
    assert await docker_engine.states(project_name) == {"web": "exited", "worker": "running"}
    project = await docker_engine.project(project_name)
    assert project.state == "partial(1/2)"
    await collect(project_action(rt, project, "up", tools=v1))
    assert await docker_engine.states(project_name) == {"web": "running", "worker": "running"}

    await collect(project_action(rt, await docker_engine.project(project_name), "down", tools=v1))
    assert await docker_engine.states(project_name) == {}
    assert f"{project_name}_default" not in [n.name for n in await rt.list_networks()]


async def test_build_action(docker_engine: Engine, project_name: str, tmp_path: Path, v1: list[ComposeTool],
                            down_later) -> None:  # noqa: ANN001
    """build from a tiny Dockerfile FROM the local test image: the output streams the build steps and the
    image exists afterwards; after up, a project's build runs through project_action too."""
    app = tmp_path / "b"
    app.mkdir()
    (app / "Dockerfile").write_text(f"FROM {services.test_image()}\nRUN echo built > /built\n")
    image = f"{project_name}-app:latest"
    path = app / "docker-compose.yml"
    path.write_text(f'version: "2.4"\nservices:\n  app:\n    build: .\n    image: {image}\n'
                    '    command: ["sh", "-c", "trap \'exit 0\' TERM; sleep 3600 & wait"]\n')
    down_later(path)
    rt = docker_engine.runtime
    lines = await collect(file_action(rt, [str(path)], "build", project_name=project_name, tools=v1))
    texts = [ln.text for ln in lines]
    assert any("Step 2/2 : RUN echo built" in t for t in texts), texts
    assert any(t.startswith("Successfully tagged " + image) for t in texts), texts
    assert (await rt.inspect_image(image))["Id"]
    await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=v1))
    project = await docker_engine.project(project_name)
    lines = await collect(project_action(rt, project, "build", ["app"], tools=v1))
    assert lines[-1].text == "exit 0" and any("Successfully tagged" in ln.text for ln in lines)
    result = await rt.exec_run(project.service("app").containers[0].id, ["cat", "/built"])
    assert result.output.strip() == "built"


async def test_files_missing_stop_start_down_through_the_api(docker_engine: Engine, project_name: str,
                                                            tmp_path: Path, v1: list[ComposeTool],
                                                            down_later) -> None:  # noqa: ANN001
    """A project whose compose file was deleted after up is still grouped (files_missing); up/pull/build
    are refused with a clear message; stop, start and down work through the API, one line per container,
    and down removes the containers and the network labelled with the project."""
    path = write_compose(tmp_path / "gone", "web", "worker")
    down_later(path)
    rt = docker_engine.runtime
    await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=v1))
    path.unlink()
    project = await docker_engine.project(project_name)
    assert project.files_missing and project.config_files == (str(path),)
    for action in ("up", "pull", "build"):
        with pytest.raises(InvalidInput, match=f"compose files of {project_name} are gone .*only stop, start, "
                                               "restart and down work"):
            await collect(project_action(rt, project, action, tools=v1))
    lines = await collect(project_action(rt, project, "stop", tools=[]))  # no tool needed
    assert sorted(ln.text for ln in lines if ln.stream == "stdout") == [
        f"stopped {project_name}_web_1", f"stopped {project_name}_worker_1"]
    assert await docker_engine.states(project_name) == {"web": "exited", "worker": "exited"}
    lines = await collect(project_action(rt, await docker_engine.project(project_name), "start", ["web"], tools=[]))
    assert [ln.text for ln in lines if ln.stream == "stdout"] == [f"started {project_name}_web_1"]
    assert await docker_engine.states(project_name) == {"web": "running", "worker": "exited"}
    with pytest.raises(NotFound, match="no service 'db'"):
        await collect(project_action(rt, project, "restart", ["db"], tools=[]))
    lines = await collect(project_action(rt, await docker_engine.project(project_name), "down", tools=[]))
    texts = [ln.text for ln in lines]
    assert f"removed {project_name}_web_1" in texts and f"removed network {project_name}_default" in texts
    assert lines[-1].text == "exit 0"
    assert await docker_engine.states(project_name) == {}
    assert f"{project_name}_default" not in [n.name for n in await rt.list_networks()]


async def test_clear_errors(docker_engine: Engine, project_name: str, tmp_path: Path, v1: list[ComposeTool],
                            down_later) -> None:  # noqa: ANN001
    """A bad compose file fails with the tool's own message (after its output was streamed); a missing
    file and a missing tool are InvalidInput with a hint."""
    rt = docker_engine.runtime
    bad = tmp_path / "bad" / "docker-compose.yml"
    bad.parent.mkdir()
    bad.write_text('version: "2.4"\nservices:\n  web:\n    imagex: foo\n')
    with pytest.raises(BackendError, match=r"docker-compose up exited with 1: Unsupported config option for "
                                           r"services.web: 'imagex'"):
        await collect(file_action(rt, [str(bad)], "up", project_name=project_name, tools=v1))
    bad.write_text("services:\n  web:\n    image: [oops\n")
    with pytest.raises(BackendError, match="exited with 1: .*ParserError"):
        await collect(file_action(rt, [str(bad)], "up", project_name=project_name, tools=v1))
    with pytest.raises(InvalidInput, match="does not exist"):
        await collect(file_action(rt, [str(tmp_path / "nope.yml")], "up", tools=v1))
    with pytest.raises(InvalidInput, match="no compose tool for docker"):
        await collect(file_action(rt, [str(bad)], "up", tools=[]))
    assert pick_tool(RuntimeKind.DOCKER, v1) is v1[0]
    assert await docker_engine.states(project_name) == {}


async def test_compose_feed_follows_the_project(docker_engine: Engine, project_name: str, tmp_path: Path,
                                                v1: list[ComposeTool], down_later) -> None:  # noqa: ANN001
    """compose_feed reports the runtime live, then a project that comes up (running(2/2)) and follows a
    stop to exited(0/2) within a few seconds; rows are ComposeProject keyed runtime/name."""
    path = write_compose(tmp_path / "feed", "web", "worker")
    down_later(path)
    rt = docker_engine.runtime
    seen: list[tuple[float, str]] = []
    statuses: list[str] = []

    async def follow() -> None:
        async for msg in compose_feed([rt]):
            if isinstance(msg, SourceStatus):
                statuses.append(msg.state)
            elif isinstance(msg, Snapshot):
                assert msg.source == rt.name
                for p in msg.rows:
                    assert isinstance(p, ComposeProject) and p.key == f"{rt.name}/{p.name}"
                    if p.name == project_name:
                        seen.append((time.monotonic(), p.state))

    async def wait_state(state: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while not any(s == state for _, s in seen):
            assert time.monotonic() < deadline, f"feed never showed {state}: {seen}"
            await asyncio.sleep(0.05)
        return next(t for t, s in seen if s == state)

    task = asyncio.create_task(follow())
    try:
        deadline = time.monotonic() + 10
        while "live" not in statuses:
            assert time.monotonic() < deadline, statuses
            await asyncio.sleep(0.05)
        await collect(file_action(rt, [str(path)], "up", project_name=project_name, tools=v1))
        await wait_state("running(2/2)", 10)
        t0 = time.monotonic()
        await collect(project_action(rt, await docker_engine.project(project_name), "stop", tools=v1))
        assert await wait_state("exited(0/2)", 10) - t0 < 5
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task

