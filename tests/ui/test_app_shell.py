"""The app shell: CLI entry points, settings warnings, key remapping, palette, themes, help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tamer_tui import __version__
from tamer_tui.cli import _app_parser, build_session, main
from tamer_tui.core.docker_runtime import DockerRuntime
from tamer_tui.ui.app import TamerApp
from tests import services
from tests.ui.conftest import make_app, start_container, unique, wait_daemon, wait_for


def test_version_and_help() -> None:
    """`python -m tamer_tui --version` and `--help` work without a terminal."""
    out = subprocess.run([sys.executable, "-m", "tamer_tui", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"tamer {__version__}"
    out = subprocess.run([sys.executable, "-m", "tamer_tui", "--help"], capture_output=True, text=True, check=True)
    assert "--readonly" in out.stdout and "doctor" in out.stdout


def test_doctor_json_tells_the_truth(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    """`tamer doctor --json` reports the real Docker daemon as reachable with its version."""
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", services.docker_host())
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    text = json.dumps(report)
    assert services.docker_host() in text
    import docker

    version = docker.APIClient(base_url=services.docker_host(), version="auto").version()["Version"]
    assert version in text


def test_corrupt_settings_warn_and_recover(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A corrupt settings.yaml is backed up, defaults are used, and the session carries a warning."""
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path))
    (tmp_path / "settings.yaml").write_text("theme: [unclosed\n  - : :\n")
    session = build_session(_app_parser().parse_args(["--no-mouse", "--readonly"]))
    assert any("settings.yaml" in w for w in session.warnings)
    assert list(tmp_path.glob("settings.yaml.bak-*"))
    assert session.readonly and not session.mouse and session.theme == "tamer-dark"


async def test_remapped_key_stops_container(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, docker_api: Any) -> None:
    """`keys: {containers.stop: "b"}` in settings.yaml makes `b` stop the selected container."""
    monkeypatch.setenv("TAMER_CONFIG_DIR", str(tmp_path))
    (tmp_path / "settings.yaml").write_text('keys:\n  containers.stop: "b"\n')
    session = build_session(_app_parser().parse_args(["--no-podman", "--docker-host", services.docker_host()]))
    assert session.key_overrides["containers.stop"] == "b"
    name = unique("remap")
    ident = start_container(docker_api, name)
    app = TamerApp(session)
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(lambda: any(r.name == name for r in app.screen.store.rows.values()), pilot)
        await pilot.press("slash", *name, "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None and app.screen.table.cursor_row.name == name,
                       pilot)
        await pilot.press("b")
        await wait_daemon(lambda: docker_api.inspect_container(ident)["State"]["Status"] == "exited", timeout=15)


async def test_palette_opens_screens(docker_endpoint: Any) -> None:
    """ctrl+p lists Tamer's screens; choosing ':images' opens the images screen."""
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*":images")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(lambda: type(app.screen).__name__ == "ImagesScreen", pilot)


async def test_theme_command_and_help(docker_endpoint: Any) -> None:
    """`:theme tamer-light` switches the theme; `?` opens help listing the screen's key ids."""
    app = make_app([DockerRuntime(docker_endpoint)])
    async with app.run_test(size=(140, 30)) as pilot:
        assert app.theme == "tamer-dark"
        await pilot.press("colon", *"theme tamer-light", "enter")
        await wait_for(lambda: app.theme == "tamer-light", pilot)
        await pilot.press("question_mark")
        await wait_for(lambda: type(app.screen).__name__ == "HelpScreen", pilot)
        ids = [row[2] for row in app.screen.bindings_list]
        assert "containers.stop" in ids and "app.filter" in ids
        await pilot.press("escape")
        await wait_for(lambda: type(app.screen).__name__ == "ContainersScreen", pilot)


async def test_no_runtime_reachable_keeps_running(tmp_path: Path) -> None:
    """With the only runtime's socket missing the app runs, says so, and the header marks it down."""
    from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind

    rt = DockerRuntime(RuntimeEndpoint(RuntimeKind.DOCKER, "docker", f"unix://{tmp_path}/none.sock", "test"), timeout=2)
    app = make_app([rt])
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(lambda: "reconnecting" in app.screen.title_text, pilot, timeout=10)
        await wait_for(lambda: "docker ✗" in app.header_state[1], pilot, timeout=10)
        await pilot.press("colon", *"img", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ImagesScreen", pilot)
