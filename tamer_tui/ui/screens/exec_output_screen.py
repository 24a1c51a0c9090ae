"""The output of a command run in a pod's container or a container: stdout, stderr and the exit code."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Static, TextArea

from tamer_tui.ui.screens.text_screen import TextScreen
from tamer_tui.ui.widgets.header_bar import HeaderBar

MAX_CHARS = 2_000_000  # the pane keeps the last 2 MB of a huge output (and says so)


class ExecOutputScreen(TextScreen):
    """Scrollable, copyable (``c``) output; the status line shows the exit code (red when not 0)."""

    def __init__(self, title: str, stdout: str, stderr: str, exit_code: str) -> None:
        text = stdout
        if stderr:
            text += ("" if not text or text.endswith("\n") else "\n") + "--- stderr ---\n" + stderr
        truncated = len(text) > MAX_CHARS
        if truncated:
            text = text[-MAX_CHARS:]
        super().__init__(title, text)
        self.exit_code = exit_code
        self.truncated = truncated

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        area = TextArea(self.text, read_only=True, id="text-view", show_line_numbers=False)
        area.border_title = self.text_title
        yield area
        ok = self.exit_code == "0"
        note = " · output truncated to its last 2 MB" if self.truncated else ""
        status = Static(f"exit code {self.exit_code}{note}", id="exec-status")
        status.styles.color = "green" if ok else "red"
        yield status
        yield Footer()
