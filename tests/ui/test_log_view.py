"""The log view's buffer is bounded and counts what it dropped; following sticks to the end."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tamer_tui.ui.widgets.log_view import LogView


class _App(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(capacity=5, id="v")


async def test_bounded_buffer_and_follow() -> None:
    """12 lines into a 5-line buffer keep the last 5 and count 7 dropped; scrolling up pauses follow."""
    app = _App()
    async with app.run_test(size=(60, 4)) as pilot:
        view = app.query_one(LogView)
        view.add_lines([f"line {i}" for i in range(12)])
        await pilot.pause()
        await pilot.pause()
        assert list(view.lines) == [f"line {i}" for i in range(7, 12)]
        assert view.dropped == 7 and view.received == 12
        assert view.render_line(view.size.height - 1).text.startswith("line 11")
        view.focus()
        await pilot.press("up")
        assert not view.follow
        await pilot.press("end")
        assert view.follow
