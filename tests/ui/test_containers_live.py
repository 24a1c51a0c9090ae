"""Pilot tests against the real Docker daemon: keys a user presses change the daemon's state.

Each test asserts on the daemon (through the docker SDK, independently of Tamer), not only on
what is drawn.
"""

from __future__ import annotations

from typing import Any

from tamer_tui.core.docker_runtime import DockerRuntime
from tests.ui.conftest import make_app, start_container, unique, wait_daemon, wait_for


def _state(api: Any, ident: str) -> str:
    try:
        return str(api.inspect_container(ident)["State"]["Status"])
    except Exception:  # noqa: BLE001 - gone
        return "gone"


async def _select(pilot: Any, name: str) -> None:
    """Filter the table down to one container and put the cursor on it."""
    app = pilot.app
    await wait_for(lambda: any(r.name == name for r in app.screen.store.rows.values()), pilot)
    await pilot.press("slash", *name, "enter")
    await wait_for(lambda: app.screen.table.cursor_row is not None and app.screen.table.cursor_row.name == name,
                   pilot)


async def test_event_driven_rows(docker_endpoint: Any, docker_api: Any) -> None:
    """A container created outside Tamer appears, changes state and disappears without any key press."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("ev")
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(lambda: app.screen.source_state.get("docker") == "live", pilot)
        ident = start_container(docker_api, name)
        store = app.screen.store
        await wait_for(lambda: any(r.name == name and r.state == "running" for r in store.rows.values()), pilot)
        docker_api.stop(ident, timeout=0)
        await wait_for(lambda: any(r.name == name and r.state == "exited" for r in store.rows.values()), pilot)
        docker_api.remove_container(ident, force=True)
        await wait_for(lambda: all(r.name != name for r in store.rows.values()), pilot)
        await wait_for(lambda: f"[{len(store)}]" in app.screen.title_text, pilot)


async def test_stop_start_restart_pause_with_keys(docker_endpoint: Any, docker_api: Any) -> None:
    """`x` stops, `u` starts, `p` pauses and unpauses, `r` restarts the selected container."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("keys")
    ident = start_container(docker_api, name)
    async with app.run_test(size=(140, 30)) as pilot:
        await _select(pilot, name)
        await pilot.press("x")
        await wait_daemon(lambda: _state(docker_api, ident) == "exited", timeout=15)
        await wait_for(lambda: app.screen.table.cursor_row.state == "exited", pilot)
        await pilot.press("u")
        await wait_daemon(lambda: _state(docker_api, ident) == "running")
        await wait_for(lambda: app.screen.table.cursor_row.state == "running", pilot)
        await pilot.press("p")
        await wait_daemon(lambda: _state(docker_api, ident) == "paused")
        await wait_for(lambda: app.screen.table.cursor_row.state == "paused", pilot)
        await pilot.press("p")
        await wait_daemon(lambda: _state(docker_api, ident) == "running")
        started = docker_api.inspect_container(ident)["State"]["StartedAt"]
        await pilot.press("r")
        await wait_daemon(lambda: docker_api.inspect_container(ident)["State"]["StartedAt"] != started, timeout=20)


async def test_delete_asks_and_removes(docker_endpoint: Any, docker_api: Any) -> None:
    """ctrl+d then `n` keeps the container; ctrl+d then `y` removes it from the daemon."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("del")
    ident = start_container(docker_api, name, start=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await _select(pilot, name)
        await pilot.press("ctrl+d")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot)
        await pilot.press("n")
        await pilot.pause(0.3)
        assert _state(docker_api, ident) == "created"
        await pilot.press("ctrl+d")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot)
        await pilot.press("y")
        await wait_daemon(lambda: _state(docker_api, ident) == "gone")


async def test_kill_and_rename(docker_endpoint: Any, docker_api: Any) -> None:
    """ctrl+k (confirmed) kills; `n` prompts for a new name and renames on the daemon."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("ren")
    new_name = unique("renamed")
    ident = start_container(docker_api, name)
    async with app.run_test(size=(140, 30)) as pilot:
        await _select(pilot, name)
        await pilot.press("n")
        await wait_for(lambda: type(app.screen).__name__ == "PromptScreen", pilot)
        await pilot.press(*new_name, "enter")
        await wait_daemon(lambda: docker_api.inspect_container(ident)["Name"] == f"/{new_name}")
        await pilot.press("escape")  # clears the filter, which no longer matches
        await wait_for(lambda: f"docker/{ident}" in app.screen.table.keys, pilot)
        assert app.screen.table.select_key(f"docker/{ident}")
        await pilot.press("ctrl+k")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot)
        await pilot.press("y")
        await wait_daemon(lambda: _state(docker_api, ident) == "exited")


async def test_readonly_blocks_mutations(docker_endpoint: Any, docker_api: Any) -> None:
    """Under --readonly, stop and delete are refused with a message and the daemon is untouched."""
    app = make_app([DockerRuntime(docker_endpoint)], readonly=True)
    name = unique("ro")
    ident = start_container(docker_api, name)
    async with app.run_test(size=(140, 30)) as pilot:
        await _select(pilot, name)
        await pilot.press("x")
        await pilot.press("ctrl+d")
        await pilot.pause(0.5)
        assert "read-only" in app.last_result
        assert _state(docker_api, ident) == "running"
        assert type(app.screen).__name__ == "ContainersScreen"


async def test_command_mode_targets(docker_endpoint: Any, docker_api: Any) -> None:
    """`:stop container/NAME` and `:inspect container/NAME` work without selecting a row; errors are clear."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("cmd")
    ident = start_container(docker_api, name)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("colon", *f"stop container/{name}", "enter")
        await wait_daemon(lambda: _state(docker_api, ident) == "exited", timeout=15)
        await pilot.press("colon", *f"inspect container/docker:{name}", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "InspectScreen", pilot)
        assert name in app.screen.query_one("TextArea").text
        await pilot.press("escape")
        await pilot.press("colon", *"start container/does-not-exist-xyz", "enter")
        await wait_for(lambda: "not found" in app.last_result, pilot)
        await pilot.press("colon", *"frobnicate", "enter")
        await wait_for(lambda: "unknown command" in app.last_result, pilot)


async def test_navigation_and_counts(docker_endpoint: Any, docker_api: Any) -> None:
    """`:img`, `:net`, `:vol` switch screens whose titles count the daemon's objects; esc goes back."""
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(140, 30)) as pilot:
        for cmd, screen_name, count in (
            ("img", "ImagesScreen", len(docker_api.images())),
            ("net", "NetworksScreen", len(docker_api.networks())),
            ("vol", "VolumesScreen", len(docker_api.volumes().get("Volumes") or [])),
        ):
            await pilot.press("colon", *cmd, "enter")
            await wait_for(lambda n=screen_name: type(app.screen).__name__ == n, pilot)
            await wait_for(lambda c=count: f"[{c}]" in app.screen.title_text, pilot)
        await pilot.press("escape")
        await wait_for(lambda: type(app.screen).__name__ == "NetworksScreen", pilot)


async def test_create_and_delete_volume_and_network(docker_endpoint: Any, docker_api: Any) -> None:
    """`n` on the volumes and networks screens creates one on the daemon; ctrl+d then y removes it."""
    app = make_app([DockerRuntime(docker_endpoint)])
    vol = unique("tamer-vol")
    net = unique("tamer-net")
    async with app.run_test(size=(140, 30)) as pilot:
        try:
            await pilot.press("colon", *"vol", "enter")
            await wait_for(lambda: type(app.screen).__name__ == "VolumesScreen", pilot)
            await pilot.press("n")
            await wait_for(lambda: type(app.screen).__name__ == "PromptScreen", pilot)
            await pilot.press(*vol, "enter")
            await wait_daemon(lambda: any(v["Name"] == vol for v in docker_api.volumes()["Volumes"] or []))
            await wait_for(lambda: f"docker/{vol}" in app.screen.table.keys, pilot)
            assert app.screen.table.select_key(f"docker/{vol}")
            await pilot.press("ctrl+d")
            await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot)
            await pilot.press("y")
            await wait_daemon(lambda: all(v["Name"] != vol for v in docker_api.volumes()["Volumes"] or []))
            await pilot.press("colon", *f"create network {net}", "enter")
            await wait_daemon(lambda: any(n["Name"] == net for n in docker_api.networks()))
        finally:
            for n in docker_api.networks(names=[net]):
                docker_api.remove_network(n["Id"])
            for v in docker_api.volumes().get("Volumes") or []:
                if v["Name"] == vol:
                    docker_api.remove_volume(vol)


async def test_docker_and_podman_in_one_table(docker_endpoint: Any, docker_api: Any) -> None:
    """One table lists both runtimes (RUNTIME column); `x` on a Podman row stops it on the Podman service."""
    from podman import PodmanClient

    from tamer_tui.core.models import ContainerSpec, RuntimeEndpoint, RuntimeKind
    from tamer_tui.core.podman_runtime import PodmanRuntime
    from tests import services

    podman = PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "test"))
    app = make_app([DockerRuntime(docker_endpoint), podman])
    d_name, p_name = unique("both-d"), unique("both-p")
    start_container(docker_api, d_name)
    await podman.connect()
    p_id = await podman.create_container(ContainerSpec(image=services.test_image(), name=p_name,
                                                       command=("sleep", "600"), labels=(("tamer.test", "ui"),)))
    await podman.start_container(p_id)
    client = PodmanClient(base_url=services.podman_url())
    try:
        async with app.run_test(size=(150, 30)) as pilot:
            rows = app.screen.store.rows
            await wait_for(lambda: {r.runtime for r in rows.values() if r.name in (d_name, p_name)}
                           == {"docker", "podman"}, pilot)
            await _select(pilot, p_name)
            assert app.screen.table.cursor_row.runtime == "podman"
            await pilot.press("x")
            await wait_daemon(lambda: client.api.get(f"/containers/{p_id}/json").json()["State"]["Status"]
                              == "exited", timeout=20)
            await wait_for(lambda: app.screen.table.cursor_row.state == "exited", pilot)
    finally:
        client.api.delete(f"/containers/{p_id}", params={"force": "true", "timeout": 0})
        client.close()
        await podman.close()


async def test_cpu_and_memory_cells_fill_in(docker_endpoint: Any, docker_api: Any) -> None:
    """CPU% and MEM of a visible running container are sampled from the daemon and drawn."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("stats")
    start_container(docker_api, name)
    async with app.run_test(size=(160, 30)) as pilot:
        await _select(pilot, name)
        key = app.screen.table.cursor_key
        stats = app.container_stats
        await wait_for(lambda: stats.mem(key) > 0, pilot, timeout=15)
        assert stats.cpu_text(key) != "-" and stats.mem_text(key).endswith("B")
        line = app.screen.table.render_line(1).text
        assert stats.mem_text(key) in line


async def test_logs_follow_container(docker_endpoint: Any, docker_api: Any) -> None:
    """`l` opens the container's logs; a line written afterwards arrives while following."""
    app = make_app([DockerRuntime(docker_endpoint)])
    name = unique("logs")
    ident = start_container(docker_api, name, ["sh", "-c", "echo first; echo second >&2; sleep 600"])
    async with app.run_test(size=(140, 30)) as pilot:
        await _select(pilot, name)
        await pilot.press("l")
        await wait_for(lambda: type(app.screen).__name__ == "LogsScreen", pilot)
        await wait_for(lambda: {"first", "second"} <= set(app.screen.buffer.texts), pilot, timeout=10)
        docker_api.exec_start(docker_api.exec_create(ident, ["sh", "-c", "echo later > /proc/1/fd/1"])["Id"])
        await wait_for(lambda: "later" in app.screen.buffer.texts, pilot, timeout=10)
