"""Podman pods, Quadlet and kube YAML from the UI against the real Podman service.

Pods are made with the podman CLI talking to the same service (independently of Tamer); what the
keys and commands do is checked with the CLI too.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tamer_tui.core.models import RuntimeEndpoint, RuntimeKind
from tamer_tui.core.podman_runtime import PodmanRuntime
from tests import services
from tests.ui.conftest import make_app, unique, wait_daemon, wait_for


def podman(*args: str, check: bool = True) -> str:
    out = subprocess.run(["podman", "--url", services.podman_url(), *args], capture_output=True, text=True,
                         timeout=120, check=check)
    return out.stdout


def runtime() -> PodmanRuntime:
    return PodmanRuntime(RuntimeEndpoint(RuntimeKind.PODMAN, "podman", services.podman_url(), "test"))


@pytest.fixture
def pod() -> Iterator[str]:
    name = unique("tt-pui")
    podman("pod", "create", "--name", name)
    podman("run", "-d", "--pod", name, "--name", f"{name}-app", "--init", "-e", "MODE=test",
           services.test_image(), "sleep", "3600")
    yield name
    podman("pod", "rm", "-f", "-t", "0", name, check=False)


def pod_state(name: str) -> str:
    out = subprocess.run(["podman", "--url", services.podman_url(), "pod", "inspect", name], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        return "gone"
    data = json.loads(out.stdout)
    data = data[0] if isinstance(data, list) else data
    return str(data.get("State", "")).lower()


async def test_pods_screen_stop_start_and_remove(pod: str) -> None:
    """`:ppods` lists the pod with its container; `x` stops it, `u` starts it, ctrl+d asks and removes it."""
    app = make_app([runtime()], command="ppods")
    async with app.run_test(size=(150, 32)) as pilot:
        await wait_for(lambda: app.screen.screen_key == "ppods"
                       and any(r.name == pod for r in app.screen.store.rows.values()), pilot, timeout=20)
        row = next(r for r in app.screen.store.rows.values() if r.name == pod)
        assert any(m.name == f"{pod}-app" for m in row.members)
        await pilot.press("slash", *pod, "enter")
        await wait_for(lambda: app.screen.table.cursor_row is not None, pilot)
        await pilot.press("x")
        await wait_daemon(lambda: pod_state(pod) in ("exited", "stopped"), timeout=40)
        await wait_for(lambda: app.screen.table.cursor_row.status.lower() in ("exited", "stopped"), pilot,
                       timeout=20)
        await pilot.press("u")
        await wait_daemon(lambda: pod_state(pod) == "running", timeout=40)
        await pilot.press("ctrl+d")
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("y")
        await wait_daemon(lambda: pod_state(pod) == "gone", timeout=40)
        await wait_for(lambda: all(r.name != pod for r in app.get_screen("ppods").store.rows.values()), pilot,
                       timeout=20)


async def test_quadlet_preview_then_write_never_overwrites_silently(pod: str, tmp_path: Path) -> None:
    """`:quadlet ppod/NAME --dir=D` previews a .pod and a .container file (nothing written yet); `w` writes
    both; a second `w` asks before overwriting, and cancelling keeps the file as it was."""
    app = make_app([runtime()])
    async with app.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"quadlet ppod/{pod} --dir={tmp_path}", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "FilePreviewScreen", pilot, timeout=30)
        names = [f.filename for f in app.screen.files]
        assert names == [f"{pod}.pod", f"{pod}-app.container"]
        assert not list(tmp_path.iterdir())
        assert "Pod=" in app.screen.files[1].text and "MODE=test" in app.screen.files[1].text
        await pilot.press("w")
        await wait_for(lambda: (tmp_path / f"{pod}.pod").exists() and (tmp_path / f"{pod}-app.container").exists(),
                       pilot, timeout=20)
        (tmp_path / f"{pod}.pod").write_text("# edited by hand\n")
        await pilot.press("w")
        await wait_for(lambda: app.screen.__class__.__name__ == "ConfirmScreen", pilot, timeout=20)
        await pilot.press("n")
        await wait_for(lambda: "kept the existing" in app.last_result or "wrote" in app.last_result, pilot)
        assert (tmp_path / f"{pod}.pod").read_text() == "# edited by hand\n"


async def test_kube_generate_opens_the_editor_and_readonly_blocks_pod_actions(pod: str) -> None:
    """`:kgen ppod/NAME` opens Podman's kube YAML (a Pod with the container) in the YAML editor;
    under --readonly `:ppods stop NAME` is refused and the pod keeps running."""
    app = make_app([runtime()])
    async with app.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"kgen ppod/{pod}", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "EditorScreen", pilot, timeout=30)
        text = app.screen.query_one("#editor-text").text
        assert "kind: Pod" in text and "MODE" in text and services.test_image().split(":")[0] in text
    ro = make_app([runtime()], readonly=True)
    async with ro.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"ppods stop {pod}", "enter")
        await wait_for(lambda: "read-only" in ro.last_result, pilot, timeout=20)
    assert pod_state(pod) == "running"


async def test_systemd_units_preview(pod: str) -> None:
    """`:systemd container/NAME` previews the unit Podman generates for the container (ExecStart runs podman)."""
    app = make_app([runtime()])
    async with app.run_test(size=(150, 32)) as pilot:
        await pilot.press("colon", *f"systemd container/{pod}-app", "enter")
        await wait_for(lambda: app.screen.__class__.__name__ == "FilePreviewScreen", pilot, timeout=30)
        files = app.screen.files
        assert files and files[0].filename.endswith(".service")
        assert "ExecStart=" in files[0].text and "podman" in files[0].text


