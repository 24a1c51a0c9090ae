"""Charts of helm's repositories (``repositories.yaml``, each ``index.yaml`` fetched and cached).

Type to search (helm search repo semantics); Enter shows the chart's README, ``v`` its values.yaml,
``T`` its templates, ``a`` every version, ``i`` installs the highlighted version (release name and
namespace asked, then a values editor), ``u`` updates the indexes.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from tamer_tui.core.errors import TamerError
from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar

COLUMNS = ("CHART", "VERSION", "APP VERSION", "DESCRIPTION")


class ChartBrowserScreen(Screen[None]):
    """Search box on top, results below."""

    BINDINGS = [
        kb("app.back", "app.pop_screen", "Back"),
        kb("charts.readme", "show('readme')", "README", show=False),
        kb("charts.values", "show('values')", "values.yaml"),
        kb("charts.templates", "show('templates')", "Templates"),
        kb("charts.versions", "versions", "Versions"),
        kb("charts.install", "install", "Install"),
        kb("charts.update", "update", "Update repos"),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.query_text = query
        self.results: list[Any] = []
        self.all_versions = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        box = Input(value=self.query_text, placeholder="search charts (name, keywords, description)", id="chart-search")
        box.cursor_blink = False
        yield box
        table: DataTable[Any] = DataTable(id="charts-table", cursor_type="row", zebra_stripes=True)
        table.border_title = "charts"
        yield table
        yield Static("", id="status-line")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#charts-table", DataTable)

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.table.add_column(col, key=col.lower())
        self.search()
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.25, self.search)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def search(self) -> None:
        self.run_worker(self._search(self.query_text, self.all_versions), group="chart-search", exclusive=True)

    async def _search(self, query: str, all_versions: bool) -> None:
        repos = self.app.helm_engine().repos  # type: ignore[attr-defined]
        status = self.query_one("#status-line", Static)
        entries = await repos.repositories()
        if not entries:
            status.update("no helm repositories: add one with :helm repo add NAME URL")
            return
        try:
            found = await repos.search(query, all_versions=all_versions)
        except TamerError as exc:
            status.update(f"search failed: {exc}")
            return
        self.results = list(found.results)
        table = self.table
        table.clear()
        for i, cv in enumerate(self.results):
            table.add_row(f"{cv.repo}/{cv.name}", cv.version, cv.app_version or "-",
                          (cv.description or "")[:80], key=str(i))
        warn = f" · {'; '.join(found.warnings)}" if found.warnings else ""
        status.update(f"{len(self.results)} chart versions in {len(entries)} repositories{warn}")

    def _selected(self) -> Any:
        if self.table.row_count == 0:
            return None
        key = self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value
        return self.results[int(key)] if key is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show("readme")

    def action_show(self, what: str) -> None:
        cv = self._selected()
        if cv is not None:
            self.app.execute(f"helm chart {cv.repo}/{cv.name} --version={cv.version} --show={what}")  # type: ignore[attr-defined]

    def action_versions(self) -> None:
        self.all_versions = not self.all_versions
        self.search()

    def action_update(self) -> None:
        self.app.execute("helm repo update")  # type: ignore[attr-defined]

    def action_install(self) -> None:
        cv = self._selected()
        if cv is None:
            return
        default_ns = getattr(self.app.kube, "namespace", None) or "default"  # type: ignore[attr-defined]
        self.app.prompt_then_execute(  # type: ignore[attr-defined]
            f"Install {cv.repo}/{cv.name} {cv.version} as: RELEASE [NAMESPACE]",
            lambda value: (f"helm install {value.split()[0]} {cv.repo}/{cv.name} --version={cv.version} "
                           f"-n {value.split()[1] if len(value.split()) > 1 else default_ns}"))
