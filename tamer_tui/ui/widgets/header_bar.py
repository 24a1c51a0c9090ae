"""The one-line header: host, runtimes, context/namespace and the READ-ONLY badge."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class HeaderBar(Static):
    """Shows ``app.header_state``; updated by watching the app's reactive, never by polling."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "header_state", self._update, init=True)

    def _update(self, state: tuple[str, str, bool]) -> None:
        host, runtimes, readonly = state
        text = Text.assemble(("Tamer", "bold"), " · ", (host, "bold"), "  ", runtimes)
        if readonly:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold reverse")
        self.update(text)
