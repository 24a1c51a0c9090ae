"""A dialog with labelled fields (run a container, build an image, change limits), validated before it runs.

The caller gives the fields and a ``validate`` function (from core: ``runspec.build_spec``,
``builds.validate`` ...) that returns problems per field; ``ctrl+s`` (or Enter on the last field)
submits, problems are shown under their fields and nothing is returned until there are none. Escape
returns None. What was typed survives a failed validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tamer_tui.ui.bindings import kb


@dataclass(frozen=True, slots=True)
class FormField:
    """One input: its name (what ``validate`` receives), label, initial value, hint, and whether it is a secret."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    password: bool = False


Validator = Callable[[Mapping[str, str]], Sequence[tuple[str, str]]]  # values -> [(field, message)]


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Fields top to bottom; the values come back as a dict once ``validate`` finds no problem."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        kb("form.submit", "submit", "Run", priority=True),
    ]

    def __init__(self, title: str, fields: Sequence[FormField], validate: Validator | None = None,
                 submit_label: str = "Run") -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.validate = validate
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form-dialog", classes="dialog") as dialog:
            dialog.border_title = self.form_title
            for f in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(f.label, classes="form-label")
                    field = Input(value=f.value, placeholder=f.placeholder, password=f.password,
                                  id=f"field-{f.name}", classes="form-input")
                    field.cursor_blink = False
                    yield field
                yield Static("", id=f"problem-{f.name}", classes="form-problem")
            yield Static(f"ctrl+s {self.submit_label.lower()}  ·  escape cancel  ·  tab next field",
                         id="form-hint")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#field-{f.name}", Input).value for f in self.fields}

    def show_problems(self, problems: Sequence[tuple[str, str]]) -> None:
        by_field: dict[str, list[str]] = {}
        for name, message in problems:
            by_field.setdefault(name, []).append(message)
        known = {f.name for f in self.fields}
        stray = [m for n, ms in by_field.items() if n not in known for m in ms]
        for f in self.fields:
            messages = by_field.get(f.name, [])
            if f is self.fields[-1]:
                messages = messages + stray
            widget = self.query_one(f"#problem-{f.name}", Static)
            widget.update("\n".join(f"⚠ {m}" for m in messages))
            widget.display = bool(messages)
        first = next((f for f in self.fields if f.name in by_field), None)
        if first is not None:
            self.query_one(f"#field-{first.name}", Input).focus()

    def action_submit(self) -> None:
        values = self.values()
        problems = list(self.validate(values)) if self.validate else []
        if problems:
            self.show_problems(problems)
            return
        self.dismiss(values)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_submit()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
