"""The Helm screens with the real helm binary, a chart repository on 127.0.0.1 and `tamer sim`:
add the repository, browse it, install a chosen version with edited values, see the release, its
values and history, and uninstall it — all by keys and command mode."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tamer_tui.core.kube.manager import KubeManager
from tests import services
from tests.helm.conftest import full_env, sim_helm
from tests.ui.conftest import make_app, wait_for


def _app(sim: Any, command: str) -> Any:
    app = make_app([], command=command)
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context)
    km.load()
    app.session.kube = km
    return app


async def test_browse_install_inspect_uninstall(sim: Any, chart_server: Any, helm_env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`:helm repo add`, `:charts demo`, `a` (all versions), `i` on demo 0.1.0 with edited values, then
    `:helm` lists the release (helm agrees), `v` shows the edited values, ctrl+d + y uninstalls it."""
    services.helm_bin()
    for key, value in full_env(helm_env).items():
        monkeypatch.setenv(key, value)
    app = _app(sim, "containers")
    async with app.run_test(size=(170, 45)) as pilot:
        await pilot.press("colon", *f"helm repo add uirepo {chart_server.url}", "enter")
        await wait_for(lambda: "uirepo" in app.last_result, pilot, timeout=30)
        await pilot.press("colon", *"charts demo", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ChartBrowserScreen", pilot)
        screen = app.screen
        await wait_for(lambda: screen.table.row_count >= 1, pilot, timeout=30)
        await pilot.press("a")  # every version
        await wait_for(lambda: any(r.version == "0.1.0" for r in screen.results), pilot, timeout=30)
        row = next(i for i, r in enumerate(screen.results) if r.name == "demo" and r.version == "0.1.0")
        screen.table.move_cursor(row=row)
        await pilot.press("i")
        await wait_for(lambda: type(app.screen).__name__ == "PromptScreen", pilot)
        await pilot.press(*"uirel ui-ns", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ValuesEditorScreen", pilot, timeout=30)
        area = app.screen.query_one("#values-text")
        assert "message: hello" in area.text
        area.load_text(area.text.replace("message: hello", "message: from-the-ui"))
        await pilot.press("f4")
        await wait_for(lambda: "installed ui-ns/uirel" in app.last_result, pilot, timeout=90)
        listed = json.loads(sim_helm(sim, helm_env, "list", "-A", "-o", "json").stdout)
        assert any(r["name"] == "uirel" and r["namespace"] == "ui-ns" for r in listed)
        await pilot.press("escape")
        await pilot.press("colon", *"helm", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "HelmReleasesScreen", pilot)
        releases = app.screen
        await wait_for(lambda: any(r.name == "uirel" for r in releases.releases), pilot, timeout=30)
        rel = next(r for r in releases.releases if r.name == "uirel")
        assert (rel.chart, rel.status, rel.revision) == ("demo-0.1.0", "deployed", 1)
        releases.table.move_cursor(row=releases.releases.index(rel))
        await pilot.press("v")
        await wait_for(lambda: type(app.screen).__name__ == "TextScreen", pilot, timeout=30)
        assert "message: from-the-ui" in app.screen.text
        await pilot.press("escape")
        await pilot.press("ctrl+d")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot, timeout=10)
        await pilot.press("y")
        await wait_for(lambda: "uninstalled ui-ns/uirel" in app.last_result, pilot, timeout=90)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listed = json.loads(sim_helm(sim, helm_env, "list", "-A", "-o", "json").stdout)
            if not any(r["name"] == "uirel" for r in listed):
                break
        assert not any(r["name"] == "uirel" for r in listed)
