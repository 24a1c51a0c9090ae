"""Snapshots of the engine screens: compose projects and services, Podman pods, disk usage, hosts, the run
dialog, the command output panel and the file preview.

The feeds are replaced by payloads recorded from the real daemons (tests/ui/data/engines_recording.json,
made by tests/ui/data/record_engines.py) and parsed by the same functions the live code uses: live ids,
ages and "Up 3 seconds" texts change on every run, so a picture of them could never be compared. The
live paths are tested in tests/engines_ui/.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core import docker_runtime, swarm
from tamer_tui.core.compose import group_projects
from tamer_tui.core.diskusage import parse_docker_df
from tamer_tui.core.feeds import FeedMessage, Snapshot, SourceStatus
from tamer_tui.core.hosts import HostEntry, HostStatus
from tamer_tui.core.models import ContainerRow, RuntimeInfo, RuntimeKind
from tamer_tui.core.podman_pods import parse_pod_list_row
from tamer_tui.ui import format as ui_format
from tamer_tui.ui.app import TamerApp
from tests.ui.conftest import make_app
from tests.ui.replay_runtime import ReplayRuntime

DATA = json.loads((Path(__file__).parent / "data" / "engines_recording.json").read_text())
SIZE = (140, 30)
NOW = max(c["Created"] for c in DATA["compose_containers"]) + 120.0
SWARM_NOW = max(swarm.parse_task("docker", t, {}, {}).updated for t in DATA["swarm_tasks"]) + 120.0


class EngineReplay(ReplayRuntime):
    """The Docker replay, whose containers include the recorded compose project (``:compose shop`` looks
    the project up through the runtime)."""

    async def list_containers(self, all: bool = True) -> list[ContainerRow]:
        return [*await super().list_containers(all), *compose_rows()]


class PodmanReplay(ReplayRuntime):
    """The replay runtime presented as a Podman engine (the pods screen only follows Podman engines)."""

    kind = RuntimeKind.PODMAN

    def __init__(self) -> None:
        super().__init__("podman")

    async def info(self) -> RuntimeInfo:
        return RuntimeInfo(self.name, self.kind, self.endpoint.url, "4.3.1", "4.3.1")


def compose_rows() -> list[ContainerRow]:
    rows = [docker_runtime.parse_container("docker", c) for c in DATA["compose_containers"]]
    # the same project under another name, as if its compose file had been deleted since `up`
    gone = [docker_runtime.parse_container("docker", {
        **c, "Id": "0" + c["Id"][1:], "Names": [n.replace("shop", "legacy") for n in c["Names"]],
        "Labels": {**c["Labels"], "com.docker.compose.project": "legacy",
                   "com.docker.compose.project.working_dir": "/srv/legacy",
                   "com.docker.compose.project.config_files": "/srv/legacy/docker-compose.yml"}})
        for c in DATA["compose_containers"][:2]]
    return rows + gone


def projects() -> tuple[Any, ...]:
    return tuple(group_projects(compose_rows(), exists=lambda path: not path.startswith("/srv/legacy")))


def swarm_rows(kind: str) -> tuple[Any, ...]:
    nodes = [swarm.parse_node("docker", n) for n in DATA["swarm_nodes"]]
    services = [swarm.parse_service("docker", x) for x in DATA["swarm_services"]]
    if kind == "nodes":
        return tuple(nodes)
    if kind == "services":
        return tuple(services)
    if kind == "stacks":
        return tuple(swarm.group_stacks("docker", services))
    names = {x.id: x.name for x in services}
    hosts = {n.id: n.hostname for n in nodes}
    return tuple(swarm.parse_task("docker", t, names, hosts) for t in DATA["swarm_tasks"])


def fixed_feed(source: str, rows: Callable[[], tuple[Any, ...]]) -> Callable[..., AsyncIterator[FeedMessage]]:
    async def feed(*_args: Any, **_kwargs: Any) -> AsyncIterator[FeedMessage]:
        yield SourceStatus(source, "connecting")
        yield Snapshot(source, rows())
        yield SourceStatus(source, "live")

    return feed


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., TamerApp]:
    """An app whose engine screens are fed the recording, with the clock frozen 2 minutes after it (and
    private data/config directories, so no draft or setting of the machine shows in a picture)."""
    monkeypatch.setenv("TAMER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path / "config"))

    class _Clock:
        @staticmethod
        def time() -> float:
            return NOW

    monkeypatch.setattr(ui_format, "time", _Clock)
    from tamer_tui.ui.screens import (
        compose_projects_screen,
        compose_services_screen,
        disk_usage_screen,
        hosts_screen,
        podman_pods_screen,
        swarm_list_screen,
    )

    def swarm_feed(runtime: Any, kind: str, service: str | None = None) -> AsyncIterator[FeedMessage]:
        return fixed_feed("docker", lambda: swarm_rows(kind))()

    monkeypatch.setattr(swarm_list_screen, "swarm_feed", swarm_feed)
    monkeypatch.setattr(compose_projects_screen, "compose_feed", fixed_feed("docker", projects))
    monkeypatch.setattr(compose_services_screen, "compose_feed", fixed_feed("docker", projects))
    monkeypatch.setattr(podman_pods_screen, "pods_feed", fixed_feed(
        "podman", lambda: tuple(parse_pod_list_row(p, "podman") for p in DATA["podman_pods"])))

    async def report(rt: Any) -> Any:
        return parse_docker_df(rt.name, DATA["docker_df"])

    monkeypatch.setattr(disk_usage_screen, "disk_report", report)
    hosts = [
        HostEntry("docker", RuntimeKind.DOCKER, "unix:///var/run/docker.sock", "unix", "default socket", True),
        HostEntry("podman", RuntimeKind.PODMAN, "unix:///run/podman/podman.sock", "unix", "default socket", True),
        HostEntry("docker@build", RuntimeKind.DOCKER, "ssh://ci@build.example:22", "ssh", "docker context build",
                  False),
        HostEntry("podman@Ubuntu", RuntimeKind.PODMAN, "wsl://Ubuntu", "wsl", "wsl distro Ubuntu", False),
    ]
    statuses = [
        HostStatus("docker", True, "28.2.2", "1.50", "Debian GNU/Linux 12", 2.0, checked=NOW),
        HostStatus("podman", True, "4.3.1", "4.3.1", "debian", 3.0, checked=NOW),
        HostStatus("docker@build", False, error="ssh: connect to host build.example port 22: Connection refused",
                   checked=NOW),
        HostStatus("podman@Ubuntu", True, "5.2.1", "5.2.1", "ubuntu", 41.0, rootless=True, checked=NOW),
    ]

    async def probe_all(entries: Any, timeout: float = 5.0) -> list[HostStatus]:
        return statuses

    monkeypatch.setattr(hosts_screen, "list_hosts", lambda **_: hosts)
    monkeypatch.setattr(hosts_screen, "probe_all", probe_all)

    def factory(command: str) -> TamerApp:
        return make_app([EngineReplay(), PodmanReplay()], command=command)

    return factory


async def _loaded(pilot: Any) -> None:
    for _ in range(300):
        table = getattr(pilot.app.screen, "table", None)
        if table is not None and table.keys:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.2)


def test_compose_projects(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """`:compose`: project shop partly running (the one-off migrate exited), its services and compose file;
    project legacy whose compose file is gone is still listed, in red."""
    assert snap_compare(engines("compose"), terminal_size=SIZE, run_before=_loaded)


def test_compose_services(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """`:compose shop` (Enter on the project): web with two healthy containers, worker with its port,
    migrate exited."""

    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        await pilot.press("slash", *"^shop$", "enter")
        await pilot.pause(0.2)
        await pilot.press("enter")
        for _ in range(200):
            if getattr(pilot.app.screen, "screen_key", "") == "compose:docker:shop" and pilot.app.screen.table.keys:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    assert snap_compare(engines("compose"), terminal_size=SIZE, run_before=run_before)


def test_podman_pods(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """`:ppods`: a running pod with two containers and a created pod with one, with RUNNING counts."""
    assert snap_compare(engines("ppods"), terminal_size=SIZE, run_before=_loaded)


def test_disk_usage(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """`:df docker`: images, a stopped container and an unused volume with sizes and RECLAIMABLE; totals per
    category in the status line."""
    assert snap_compare(engines("df docker"), terminal_size=SIZE, run_before=_loaded)


def test_hosts(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """`:hosts`: the shown hosts marked ●, an unreachable ssh context with its error, a rootless Podman in a
    WSL distro."""
    assert snap_compare(engines("hosts"), terminal_size=SIZE, run_before=_loaded)


def test_run_dialog_with_problems(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """The run dialog after ctrl+s with a bad port and a bad memory value: each problem under its field,
    what was typed kept."""

    async def run_before(pilot: Any) -> None:
        from textual.widgets import Input

        await _loaded(pilot)
        await pilot.press("colon", *"run --dialog docker:tamer-test/busybox:latest", "enter")
        for _ in range(200):
            if pilot.app.screen.__class__.__name__ == "FormScreen":
                break
            await pilot.pause(0.02)
        form = pilot.app.screen
        form.query_one("#field-name", Input).value = "web"
        form.query_one("#field-ports", Input).value = "8080:http"
        form.query_one("#field-memory", Input).value = "lots"
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)

    assert snap_compare(engines("containers"), terminal_size=(140, 50), run_before=run_before)


def test_command_output_panel(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """The output panel of a streamed command: status lines, output, stderr in yellow, the outcome below."""

    async def lines() -> AsyncIterator[Any]:
        from tamer_tui.core.compose import OutputLine

        for text, stream in (("Creating network shop_default", "stderr"), ("Creating shop_web_1 ... done", "stderr"),
                             ("Step 1/3 : FROM tamer-test/busybox:latest", "status"), ("ok", "stdout")):
            yield OutputLine(text, stream)

    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        pilot.app.run_worker(pilot.app.run_output("compose up shop (docker)", lines))
        for _ in range(200):
            if pilot.app.output_jobs and not pilot.app.output_jobs[-1].running:
                break
            await pilot.pause(0.02)
        job = pilot.app.output_jobs[-1]
        job.started, job.ended = 0.0, 1.5  # a fixed duration in the picture
        pilot.app.screen._update_state()  # noqa: SLF001
        await pilot.pause(0.2)

    assert snap_compare(engines("containers"), terminal_size=SIZE, run_before=run_before)


def test_quadlet_preview(snap_compare: Any, engines: Callable[..., TamerApp]) -> None:
    """The file preview: a Quadlet .container file made from a recorded container, with where `w` writes."""
    from tamer_tui.core.quadlet import container_quadlet
    from tamer_tui.ui.screens.file_preview_screen import FilePreviewScreen, PreviewFile

    inspect = ReplayRuntime().data["inspect_web"]

    async def run_before(pilot: Any) -> None:
        await _loaded(pilot)
        q = container_quadlet(inspect)

        async def writer() -> None:
            return None

        pilot.app.push_screen(FilePreviewScreen("Quadlet for container/web", [PreviewFile(q.filename, q.text, q.note)],
                                                destination="/etc/containers/systemd", writer=writer))
        await pilot.pause(0.3)

    assert snap_compare(engines("containers"), terminal_size=SIZE, run_before=run_before)


@pytest.fixture
def swarm_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swarm objects were recorded at another time than the compose project: their own frozen 'now'."""

    class _Clock:
        @staticmethod
        def time() -> float:
            return SWARM_NOW

    monkeypatch.setattr(ui_format, "time", _Clock)


@pytest.mark.parametrize("words", ["swarm", "swarm nodes", "swarm tasks", "swarm stacks"])
def test_swarm_screens(snap_compare: Any, engines: Callable[..., TamerApp], swarm_clock: None, words: str) -> None:
    """`:swarm` services with replicas (3/3, 1/1, a failed 0/1 in red) and the stack; `:swarm nodes` with the
    leader; `:swarm tasks` with the failed task's error; `:swarm stacks` grouped by the stack label."""
    assert snap_compare(engines(words), terminal_size=SIZE, run_before=_loaded)
