"""Helm releases of the current context, read from the release Secrets/ConfigMaps (no helm binary needed).

Keys open a release's values, computed values, manifest, notes, hooks and history; actions (rollback,
uninstall, test, upgrade) go through the helm CLI via command mode (``:helm rollback NS/NAME REV`` ...),
so they work from ``tamer -c`` too.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tamer_tui.core.errors import TamerError
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar

STATUS_STYLES = {"deployed": "green", "failed": "red bold", "superseded": "dim", "uninstalled": "dim",
                 "pending-install": "yellow", "pending-upgrade": "yellow", "pending-rollback": "yellow",
                 "uninstalling": "yellow"}
COLUMNS = ("NAMESPACE", "NAME", "REVISION", "STATUS", "CHART", "APP VERSION", "UPDATED")


class HelmReleasesScreen(Screen[None]):
    """Releases of every namespace (or one), newest revision each; ``ctrl+r`` reloads."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("helm.values", "show('values')", "Values"),
        kb("helm.all_values", "show('values --all')", "All values", show=False),
        kb("helm.manifest", "show('manifest')", "Manifest"),
        kb("helm.notes", "show('notes')", "Notes", show=False),
        kb("helm.hooks", "show('hooks')", "Hooks", show=False),
        kb("helm.history", "show('history')", "History"),
        kb("helm.rollback", "rollback", "Rollback"),
        kb("helm.upgrade", "upgrade", "Upgrade"),
        kb("helm.test", "show('test')", "Test", show=False),
        kb("helm.uninstall", "show('uninstall')", "Uninstall"),
        kb("helm.reload", "reload", "Reload", show=False),
    ]

    def __init__(self, namespace: str | None = None) -> None:
        super().__init__()
        self.namespace = namespace
        self.releases: list[Any] = []

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        table: DataTable[Any] = DataTable(id="helm-table", cursor_type="row", zebra_stripes=True)
        table.border_title = f"helm releases ({self.namespace or 'all namespaces'})"
        yield table
        yield Static("loading releases ...", id="status-line")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#helm-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col.lower())
        self.table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(self._load(), group="helm-load", exclusive=True)

    async def _load(self) -> None:
        engine = self.app.helm_engine()  # type: ignore[attr-defined]
        try:
            listing = await engine.list_releases(self.namespace)
        except TamerError as exc:
            self.query_one("#status-line", Static).update(Text(f"cannot list releases: {exc}", style="red"))
            return
        self.releases = list(listing.releases)
        table = self.table
        table.clear()
        for rel in self.releases:
            updated = rel.updated.strftime("%Y-%m-%d %H:%M:%S") if rel.updated else "-"
            table.add_row(rel.namespace, rel.name, str(rel.revision),
                          Text(rel.status, style=STATUS_STYLES.get(rel.status, "")), rel.chart,
                          rel.app_version or "-", updated, key=f"{rel.namespace}/{rel.name}")
        note = "" if engine.helm_available else " · helm CLI not found: listing works, actions need helm"
        warnings = f" · {'; '.join(listing.warnings)}" if listing.warnings else ""
        self.query_one("#status-line", Static).update(
            Text(f"{len(self.releases)} releases{note}{warnings}"))

    def _selected(self) -> str | None:
        if self.table.row_count == 0:
            return None
        key = self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def action_show(self, what: str) -> None:
        ref = self._selected()
        if ref is not None:
            verb, _, flag = what.partition(" ")
            self.app.execute(f"helm {verb} {ref} {flag}".rstrip())  # type: ignore[attr-defined]

    def action_rollback(self) -> None:
        ref = self._selected()
        if ref is not None:
            self.app.prompt_then_execute(  # type: ignore[attr-defined]
                f"Roll {ref} back to revision:", lambda rev: f"helm rollback {ref} {rev}")

    def action_upgrade(self) -> None:
        ref = self._selected()
        if ref is None:
            return
        rel = next((r for r in self.releases if f"{r.namespace}/{r.name}" == ref), None)
        hint = rel.chart_name if rel is not None else "CHART"
        self.app.prompt_then_execute(  # type: ignore[attr-defined]
            f"Upgrade {ref} with chart (REPO/CHART, a path or .tgz; --version=V optional), e.g. myrepo/{hint}:",
            lambda chart: f"helm upgrade {ref} {chart}")
