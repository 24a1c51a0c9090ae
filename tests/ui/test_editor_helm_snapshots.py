"""Snapshots of the YAML editor (problems listed and marked), the diff view, the Helm releases screen
and the chart browser.

The editor opens a local file with a schema error (offline schemas: no cluster needed). The diff, the
releases and the chart browser are fed fixed data instead of a live cluster or repository (a stand-in
engine below), because their live versions carry timestamps and random ports; the live paths are tested
in tests/kube_ui/test_editor_ui.py and tests/helm/test_helm_ui.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tamer_tui.core.kube.editor import DiffSection, ObjectRef
from tamer_tui.core.kube.helm import HelmRelease, ReleaseListing
from tamer_tui.core.kube.helm_repo import ChartSearch, ChartVersion
from tamer_tui.ui.screens.chart_browser_screen import ChartBrowserScreen
from tamer_tui.ui.screens.diff_screen import DiffScreen
from tamer_tui.ui.screens.helm_releases_screen import HelmReleasesScreen
from tests.ui.conftest import make_app

SIZE = (120, 30)
BROKEN = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: three
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: "http"
          imagePullPolicy: Sometimes
"""


class _Repos:
    async def repositories(self) -> list[Any]:
        return [object(), object()]

    async def search(self, query: str, *, all_versions: bool = False) -> ChartSearch:
        rows = [ChartVersion("bitnami", "postgresql", "16.2.1", "17.2.0", "PostgreSQL is an object-relational database"),
                ChartVersion("bitnami", "redis", "20.6.0", "7.4.1", "Redis is an open source in-memory data store"),
                ChartVersion("local", "demo", "0.2.0", "2.0.0", "A Helm chart for Kubernetes")]
        return ChartSearch([r for r in rows if query in r.name])


class _Engine:
    helm_available = True
    repos = _Repos()

    async def list_releases(self, namespace: str | None = None) -> ReleaseListing:
        at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
        return ReleaseListing([
            HelmRelease("ingress", "ingress-nginx", 4, "deployed", "ingress-nginx", "4.11.3", "1.11.3", at),
            HelmRelease("db", "shop", 2, "failed", "postgresql", "16.2.1", "17.2.0", at),
            HelmRelease("cache", "shop", 7, "deployed", "redis", "20.6.0", "7.4.1", at),
            HelmRelease("demo", "staging", 1, "pending-upgrade", "demo", "0.2.0", "2.0.0", at),
        ], [])


@pytest.fixture
def app_with_engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    def build() -> Any:
        app = make_app([], command="containers")
        monkeypatch.setattr(app, "helm_engine", lambda: _Engine(), raising=False)
        return app

    return build


def test_editor_with_problems(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`:open deploy.yaml` with three schema errors: listed with line:column under the text, gutter marked."""
    monkeypatch.setenv("TAMER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # a relative path: the title does not show the random temp dir
    (tmp_path / "deploy.yaml").write_text(BROKEN)
    app = make_app([], command="open deploy.yaml")

    async def run_before(pilot: Any) -> None:
        for _ in range(200):
            screen = pilot.app.screen
            if type(screen).__name__ == "EditorScreen" and screen.validations >= 1:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_diff_view(snap_compare: Any, app_with_engine: Any) -> None:
    """The diff of a multi-document edit: one changed object (coloured hunks), one new, one unchanged."""
    diff = ("--- live\n+++ edited\n@@ -5,7 +5,7 @@\n   namespace: shop\n spec:\n-  replicas: 2\n+  replicas: 3\n"
            "   selector:\n     matchLabels:\n       app: web\n")
    sections = [DiffSection(0, ObjectRef("apps/v1", "Deployment", "web", "shop"), "changed", diff),
                DiffSection(1, ObjectRef("v1", "ConfigMap", "web-config", "shop"), "new",
                            "--- live\n+++ edited\n@@ -0,0 +1,4 @@\n+apiVersion: v1\n+kind: ConfigMap\n+data:\n+  a: b\n"),
                DiffSection(2, ObjectRef("v1", "Service", "web", "shop"), "unchanged", "")]
    app = app_with_engine()

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(DiffScreen("deploy.yaml", sections))
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_helm_releases(snap_compare: Any, app_with_engine: Any) -> None:
    """The releases screen: namespace, name, revision, status (coloured), chart, app version, updated."""
    app = app_with_engine()

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(HelmReleasesScreen(None))
        await pilot.pause(0.4)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_chart_browser(snap_compare: Any, app_with_engine: Any) -> None:
    """The chart browser searching "re": matching charts with version, app version and description."""
    app = app_with_engine()

    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.2)
        pilot.app.push_screen(ChartBrowserScreen("re"))
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
