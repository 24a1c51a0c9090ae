"""Snapshot tests of every screen, over payloads recorded from a real Docker daemon.

The replay runtime (tests/ui/replay_runtime.py) exists only so pictures are stable; the same
screens are driven against the live daemons in test_containers_live.py.
"""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import SNAPSHOT_SIZE


async def _rows_loaded(pilot: Any) -> None:
    for _ in range(500):
        screen = pilot.app.screen
        table = getattr(screen, "table", None)
        if table is not None and table.keys:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.1)


def test_containers_screen(snap_compare: Any, replay_app: Any) -> None:
    """Containers across runtimes: title with count, state colours, health, ports, sort marker on NAME."""
    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=_rows_loaded)


def test_containers_filtered(snap_compare: Any, replay_app: Any) -> None:
    """`/` filter with a regex narrows the rows and the title shows shown/total and the filter."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("slash", *"^(web|db)$", "enter")
        for _ in range(100):
            if "</^(web|db)$>" in pilot.app.screen.title_text:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_images_screen(snap_compare: Any, replay_app: Any) -> None:
    """Images opened with `tamer -c img`: repository:tag, id, size, age."""
    assert snap_compare(replay_app(command="img"), terminal_size=SNAPSHOT_SIZE, run_before=_rows_loaded)


def test_networks_screen(snap_compare: Any, replay_app: Any) -> None:
    """Networks: name, driver, scope, subnet."""
    assert snap_compare(replay_app(command="networks"), terminal_size=SNAPSHOT_SIZE, run_before=_rows_loaded)


def test_volumes_screen(snap_compare: Any, replay_app: Any) -> None:
    """Volumes: name, driver, mount point."""
    assert snap_compare(replay_app(command="vol"), terminal_size=SNAPSHOT_SIZE, run_before=_rows_loaded)


def test_inspect_screen(snap_compare: Any, replay_app: Any) -> None:
    """Inspect of the `web` container as YAML, opened from command mode with a target."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("colon", *"inspect container/web", "enter")
        await pilot.pause(0.5)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_top_screen(snap_compare: Any, replay_app: Any) -> None:
    """`:top container/web` shows the process table."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("colon", *"top container/web", "enter")
        await pilot.pause(0.5)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_stats_screen(snap_compare: Any, replay_app: Any) -> None:
    """`:stats container/web`: CPU, memory, net and block I/O labels with sparklines."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("colon", *"stats container/web", "enter")
        await pilot.pause(0.6)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_confirm_delete(snap_compare: Any, replay_app: Any) -> None:
    """ctrl+d on a row asks for confirmation before deleting."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause(0.4)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_readonly_header(snap_compare: Any, replay_app: Any) -> None:
    """--readonly shows the READ-ONLY badge, and a mutation is refused with a message."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause(0.3)

    assert snap_compare(replay_app(readonly=True), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_help_screen(snap_compare: Any, replay_app: Any) -> None:
    """`?` lists every key of the containers screen and every command."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    assert snap_compare(replay_app(), terminal_size=(130, 50), run_before=run_before)


def test_command_bar(snap_compare: Any, replay_app: Any) -> None:
    """`:` opens the command bar with inline completion."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("colon", "i", "m")
        for _ in range(100):
            if pilot.app.screen.query_one("CommandBar").value == "im":
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_rename_prompt(snap_compare: Any, replay_app: Any) -> None:
    """`n` on a container asks for the new name in a modal prompt."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("n")
        await pilot.pause(0.3)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_runtimes_screen(snap_compare: Any, replay_app: Any) -> None:
    """`:runtimes` lists each detected runtime with its URL, how it was found, version and state."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.pause(0.2)
        await pilot.press("colon", *"runtimes", "enter")
        await pilot.pause(0.4)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_image_history(snap_compare: Any, replay_app: Any) -> None:
    """`:history image/...` shows the layers of an image."""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("colon", *"history image/tamer-test/busybox:latest", "enter")
        await pilot.pause(0.4)

    assert snap_compare(replay_app(), terminal_size=SNAPSHOT_SIZE, run_before=run_before)


def test_logs_screen(snap_compare: Any, replay_app: Any) -> None:
    """`l` on a container follows its logs in the bounded log view; levels are coloured.
    (A tall terminal: all 40 lines fit, so the picture does not depend on when follow scrolled.)"""

    async def run_before(pilot: Any) -> None:
        await _rows_loaded(pilot)
        await pilot.press("l")
        for _ in range(200):
            screen = pilot.app.screen
            if type(screen).__name__ == "LogsScreen" and len(screen.buffer) == 40:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)

    assert snap_compare(replay_app(), terminal_size=(130, 52), run_before=run_before)
