"""The ``:`` command line and the ``/`` filter line (one Input, two modes)."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input

from tamer_tui.core.commands import COMMANDS


def _suggestions() -> list[str]:
    words: list[str] = []
    for spec in COMMANDS:
        words.append(spec.name)
        words.extend(spec.aliases)
    return sorted(set(words), key=lambda w: (len(w), w))


class CommandBar(Input):
    """Hidden until ``:`` or ``/``; Enter submits, Escape cancels. Tab/→ completes."""

    DEFAULT_CSS = """
    CommandBar { dock: bottom; height: 3; display: none; margin-bottom: 1; }
    CommandBar.-active { display: block; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False), Binding("tab", "complete", show=False)]

    class CommandSubmitted(Message):
        def __init__(self, mode: str, value: str) -> None:
            super().__init__()
            self.mode = mode
            self.value = value

    class CommandCancelled(Message):
        def __init__(self, mode: str) -> None:
            super().__init__()
            self.mode = mode

    class FilterChanged(Message):
        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    def __init__(self) -> None:
        super().__init__(id="command-bar", suggester=SuggestFromList(_suggestions(), case_sensitive=False))
        self.cursor_blink = False  # a steady cursor (and stable pictures in snapshot tests)
        self.mode = "command"

    def open(self, mode: str, value: str = "") -> None:
        self.mode = mode
        self.placeholder = "command (e.g. containers, images, inspect container/NAME)" if mode == "command" else (
            "filter: text, regex, !inverse"
        )
        self.border_title = ":" if mode == "command" else "/"
        self.value = value
        self.add_class("-active")
        self.focus()

    def close(self) -> None:
        self.remove_class("-active")

    def action_cancel(self) -> None:
        mode = self.mode
        self.close()
        self.post_message(self.CommandCancelled(mode))

    def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.mode == "filter":
            event.stop()
            self.post_message(self.FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        mode = self.mode
        self.close()
        self.post_message(self.CommandSubmitted(mode, event.value))
