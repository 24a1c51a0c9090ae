"""Snapshots of the log viewer's states over a hand-fed stream (deterministic lines, no backend):
following, paused with search hits, filtered, and an aggregated stream with source prefixes and markers."""

from __future__ import annotations

from typing import Any

from tests.ui.log_feed import FeedApp, FeedSession, feed_screen

SIZE = (110, 24)
LEVELS = ("INFO", "DEBUG", "INFO", "WARN", "INFO", "ERROR")


def _lines(n: int, start: int = 0) -> tuple[list[str], list[str]]:
    stamps = [f"2026-11-26T08:{i // 60 % 60:02d}:{i % 60:02d}.{i * 7919 % 1000:03d}Z" for i in range(start, start + n)]
    texts = [f"{LEVELS[i % 6]} seq={i} GET /api/v1/orders/{i * 37 % 1000} 200 {i * 13 % 97} ms user=u{i % 5}"
             for i in range(start, start + n)]
    return stamps, texts


def _app(aggregated: bool = False) -> tuple[FeedApp, FeedSession]:
    session = FeedSession("pod/shop/web-5d9c7/web" if not aggregated else "deploy/shop/web", aggregated=aggregated)
    screen = feed_screen(session)
    screen.show_rate = False
    return FeedApp(screen), session


async def _fill(pilot: Any, session: FeedSession, n: int = 300, source: str = "web") -> None:
    stamps, texts = _lines(n)
    await session.feed(source, texts, stamps)
    for _ in range(200):
        if len(pilot.app.screen.buffer) >= n:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.2)


def test_logs_following(snap_compare: Any) -> None:
    """Following: the newest lines at the bottom, level colours, timestamps on (t), status line says follow."""
    app, session = _app()

    async def run_before(pilot: Any) -> None:
        await _fill(pilot, session)
        await pilot.press("t")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_logs_paused_with_search_hits(snap_compare: Any) -> None:
    """Paused on a search hit: matches highlighted (current one stronger), cursor line, counter 'n/N'."""
    app, session = _app()

    async def run_before(pilot: Any) -> None:
        await _fill(pilot, session)
        await pilot.press("k", "slash", *"user=u3", "enter")
        await pilot.press("N", "N")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_logs_filtered(snap_compare: Any) -> None:
    """Filter mode (F) with a regex: only matching lines are shown, the status line counts them."""
    app, session = _app()

    async def run_before(pilot: Any) -> None:
        await _fill(pilot, session)
        await pilot.press("r", "slash", *"ERROR|WARN", "enter", "F")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_logs_aggregated_with_prefixes(snap_compare: Any) -> None:
    """An aggregated stream: each line prefixed by its pod in its own colour; join, gap and leave markers."""
    app, session = _app(aggregated=True)

    async def run_before(pilot: Any) -> None:
        a_st, a_tx = _lines(6)
        b_st, b_tx = _lines(6, 100)
        await session.feed("web-5d9c7-abcde", a_tx[:3], a_st[:3])
        await session.sink.notice("web-5d9c7-fghij", "joined", "web-5d9c7-fghij joined")
        await session.feed("web-5d9c7-fghij", b_tx[:3], b_st[:3])
        await session.feed("web-5d9c7-abcde", a_tx[3:], a_st[3:])
        await session.sink.notice("web-5d9c7-abcde", "gap", "stream broken (connection reset); reconnected, resumed at 08:00:05")
        await session.feed("web-5d9c7-fghij", b_tx[3:], b_st[3:])
        await session.sink.notice("web-5d9c7-abcde", "left", "pod web-5d9c7-abcde is gone")
        for _ in range(200):
            if len(pilot.app.screen.buffer) == 15:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
