"""A values.yaml editor for helm install/upgrade: YAML highlighting, syntax checked while typing."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from tamer_tui.ui.bindings import kb
from tamer_tui.ui.widgets.header_bar import HeaderBar
from tamer_tui.ui.widgets.yaml_text_area import YamlTextArea


class ValuesEditorScreen(Screen[str | None]):
    """F4 returns the text (only when it parses as a YAML mapping); Escape returns None."""

    BINDINGS = [
        kb("app.back", "cancel", "Cancel"),
        kb("editor.apply", "run", "Run"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.values_title = title
        self.text = text
        self.error = ""
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        area = YamlTextArea(self.text, id="values-text")
        area.border_title = self.values_title
        yield area
        yield Static("F4 runs helm with these values · Esc cancels", id="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(YamlTextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self._check)

    def _check(self) -> None:
        self.run_worker(self._validate(self.query_one(YamlTextArea).text), group="values-check", exclusive=True)

    async def _validate(self, text: str) -> None:
        from tamer_tui.core.kube.yamlcheck import parse_documents

        docs, problems = await asyncio.to_thread(parse_documents, text)
        area = self.query_one(YamlTextArea)
        errors = [p for p in problems if p.severity == "error"]
        if not errors and docs and len(docs) == 1 and docs[0].value is not None and not isinstance(docs[0].value, dict):
            errors_text = "values must be a mapping (key: value)"
        elif len(docs) > 1:
            errors_text = "values must be one YAML document"
        else:
            errors_text = "; ".join(f"{p.line}:{p.column} {p.message}" for p in errors[:3])
        area.set_problem_lines({p.line: "error" for p in errors})
        self.error = errors_text
        status = self.query_one("#status-line", Static)
        status.update(errors_text or "valid YAML · F4 runs helm with these values · Esc cancels")
        status.styles.color = "red" if errors_text else None

    async def action_run(self) -> None:
        await self._validate(self.query_one(YamlTextArea).text)
        if self.error:
            self.notify(f"fix the values first: {self.error}", severity="error")
            return
        self.dismiss(self.query_one(YamlTextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
