"""The log viewer's behaviour with a scripted source: follow, pause, search, filter, eviction, copy, save.

The stream here is an in-process :class:`LogSession` whose source the test feeds line by line (with
sequence numbers), so every assertion is about the viewer itself; the real backends are exercised in
tests/logs and in the live UI tests.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.ui.log_feed import FeedApp as _App
from tests.ui.log_feed import FeedSession, feed_screen


async def _wait(pilot: Any, cond: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def _seq(n: int, start: int = 0) -> list[str]:
    return [f"seq={i} {'ERROR boom' if i % 10 == 3 else 'INFO ok'} req-{i % 7}" for i in range(start, start + n)]


async def test_follow_keeps_last_line_on_screen_and_up_pauses() -> None:
    """While following, the newest line is the last row; `k` pauses and puts the cursor there; `G` follows again."""
    session = FeedSession()
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(80, 12)) as pilot:
        await session.feed("c", _seq(500))
        await _wait(pilot, lambda: len(screen.buffer) == 500)
        await pilot.pause(0.1)
        view = screen.view
        rows = [view.render_line(y).text for y in range(view.size.height)]
        assert any(r.startswith("seq=499 ") for r in rows)
        await pilot.press("k")
        assert not view.follow and view.cursor == 498
        await session.feed("c", _seq(10, 500))
        await _wait(pilot, lambda: len(screen.buffer) == 510)
        await pilot.pause(0.1)
        assert view.cursor == 498 and not any(view.render_line(y).text.startswith("seq=509 ")
                                              for y in range(view.size.height))
        assert "paused" in str(screen.query_one("#status-line").render())
        await pilot.press("G")
        await pilot.pause(0.1)
        assert view.follow and any(view.render_line(y).text.startswith("seq=509 ") for y in range(view.size.height))


async def test_search_counts_and_jumps_between_matches() -> None:
    """`/ERROR` finds every 10th line; n/N walk the hits with a counter; hits keep growing while following."""
    session = FeedSession()
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(90, 14)) as pilot:
        await session.feed("c", _seq(1000))
        await _wait(pilot, lambda: len(screen.buffer) == 1000)
        await pilot.press("slash", *"ERROR", "enter")
        view = screen.view
        assert view.hits == list(range(3, 1000, 10))
        await pilot.press("k")  # pause at the end, then search backwards
        await pilot.press("N")
        assert view.cursor == 993 and view.hit_index == 99
        await pilot.press("N")
        assert view.cursor == 983
        await pilot.press("n", "n")
        assert view.cursor == 3 and view.hit_index == 0  # wrapped around
        status = str(screen.query_one("#status-line").render())
        assert "/ERROR/ text 1/100" in status
        await session.feed("c", _seq(20, 1000))
        await _wait(pilot, lambda: len(screen.buffer) == 1020)
        assert view.hits[-2:] == [1003, 1013]


async def test_filter_modes_follow_new_lines() -> None:
    """F cycles: only matching lines, only non-matching, all; the filter applies live to new lines."""
    session = FeedSession()
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(90, 14)) as pilot:
        await session.feed("c", _seq(100))
        await _wait(pilot, lambda: len(screen.buffer) == 100)
        await pilot.press("slash", *"req-2", "enter", "F")
        view = screen.view
        assert view.filter_ids == [i for i in range(100) if i % 7 == 2]
        await session.feed("c", _seq(14, 100))
        await _wait(pilot, lambda: len(screen.buffer) == 114)
        assert view.filter_ids[-2:] == [100, 107]
        await pilot.pause(0.1)
        assert view.render_line(view.size.height - 1).text.startswith("seq=107 ")
        await pilot.press("F")
        assert view.filter_invert and 2 not in view.filter_ids and 3 in view.filter_ids
        await pilot.press("F")
        assert view.filter_ids is None


async def test_bad_regex_is_reported_and_changes_nothing() -> None:
    """With regex on, an invalid pattern is reported in the status line; the previous search stays."""
    session = FeedSession()
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(90, 14)) as pilot:
        await session.feed("c", _seq(50))
        await _wait(pilot, lambda: len(screen.buffer) == 50)
        await pilot.press("slash", *"ERROR", "enter", "r")
        await pilot.press("slash", "ctrl+u", *"seq=(4", "enter")
        assert "bad regex" in str(screen.query_one("#status-line").render())
        assert screen.view.search_query is not None and screen.view.search_query.pattern == "ERROR"
        assert len(screen.view.hits) == 5


async def test_eviction_is_counted_and_hits_stay_valid() -> None:
    """A 1000-line buffer fed 5000 lines keeps the newest 1000, says 4000 were evicted, and its hits are valid ids."""
    session = FeedSession()
    screen = feed_screen(session, max_lines=1000)
    async with _App(screen).run_test(size=(90, 14)) as pilot:
        await pilot.press("slash", *"ERROR", "enter")
        for start in range(0, 5000, 500):
            await session.feed("c", _seq(500, start))
        await _wait(pilot, lambda: screen.buffer.received == 5000)
        await pilot.pause(0.15)
        assert len(screen.buffer) == 1000 and screen.buffer.evicted == 4000
        assert screen.view.hits == list(range(4003, 5000, 10))
        assert "4,000 older evicted" in str(screen.query_one("#status-line").render())


async def test_copy_selection_and_save(tmp_path: Path, monkeypatch: Any) -> None:
    """`v` + moves + `y` copies exactly the selected lines; ctrl+s saves the buffer to the chosen file."""
    copied: list[str] = []
    monkeypatch.setattr("tamer_tui.ui.screens.logs_screen.copy_text", lambda app, text: copied.append(text) or "test")
    session = FeedSession()
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(90, 14)) as pilot:
        await session.feed("c", _seq(30), [f"2024-01-01T00:00:{i:02d}Z" for i in range(30)])
        await _wait(pilot, lambda: len(screen.buffer) == 30)
        await pilot.press("k", "v", "k", "k", "y")
        assert copied == ["\n".join(_seq(3, 26))]
        await pilot.press("escape", "t", "k", "y")  # drop the selection, timestamps on: copied with stamps
        assert copied[-1] == "2024-01-01T00:00:25Z " + _seq(1, 25)[0]
        target = tmp_path / "out" / "saved.log"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        prompt = pilot.app.screen.query_one("#prompt-input")
        prompt.value = str(target)
        await pilot.press("enter")
        await _wait(pilot, lambda: target.exists() and "saved" in screen.message)
        assert target.read_text().splitlines()[0] == "2024-01-01T00:00:00Z " + _seq(1)[0]
        assert len(target.read_text().splitlines()) == 30


async def test_aggregated_prefixes_and_markers() -> None:
    """Lines of an aggregated stream carry their source as a prefix (p hides it); join/leave markers are lines."""
    session = FeedSession(aggregated=True)
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(90, 10)) as pilot:
        await session.feed("web-1", ["hello from one"])
        await session.sink.notice("web-2", "joined", "web-2 joined")
        await session.feed("web-2", ["hello from two"])
        await session.sink.notice("web-1", "left", "pod web-1 is gone")
        await _wait(pilot, lambda: len(screen.buffer) == 4)
        await pilot.pause(0.1)
        view = screen.view
        texts = [view.render_line(y).text.rstrip() for y in range(4)]
        assert texts[0].startswith("web-1 ") and texts[0].endswith("hello from one")
        assert "JOINED: web-2 joined" in texts[1]
        assert texts[2].startswith("web-2 ") and "LEFT: pod web-1 is gone" in texts[3]
        await pilot.press("p")
        await pilot.pause(0.05)
        assert view.render_line(0).text.startswith("hello from one")


async def test_wrap_and_json_pretty_print() -> None:
    """`w` wraps a long line over several rows; `J` pretty-prints a JSON line; the last line stays visible."""
    session = FeedSession()
    screen = feed_screen(session)
    async with _App(screen).run_test(size=(40, 12)) as pilot:
        long = "x" * 100
        await session.feed("c", ["first", long, '{"level":"info","msg":"done","n":1}'])
        await _wait(pilot, lambda: len(screen.buffer) == 3)
        await pilot.press("w")
        await pilot.pause(0.1)
        view = screen.view
        rows = [view.render_line(y).text.rstrip() for y in range(view.size.height)]
        assert sum(1 for r in rows if r and set(r) == {"x"}) >= 3
        await pilot.press("w", "J")
        await pilot.pause(0.1)
        rows = [r for r in (view.render_line(y).text.rstrip() for y in range(view.size.height)) if r]
        assert rows[-5:] == ["{", '  "level": "info",', '  "msg": "done",', '  "n": 1', "}"]


async def test_since_and_previous_keys_reopen_with_new_options() -> None:
    """`2` reloads with since=5m (tail off), `0` with the whole log; `P` asks for the previous instance
    (Kubernetes only: elsewhere it says so). The buffer starts over with each reload."""
    from tamer_tui.core.logstream import LogOptions, LogSession
    from tamer_tui.ui.screens.logs_screen import LogsScreen

    asked: list[LogOptions] = []
    sessions: list[FeedSession] = []

    async def opener(options: LogOptions) -> LogSession:
        asked.append(options)
        sessions.append(FeedSession())
        return sessions[-1]

    first = FeedSession()
    screen = LogsScreen("pod/ns/p", first, opener, LogOptions(tail=1000), kube=True)
    async with _App(screen).run_test(size=(100, 12)) as pilot:
        await first.feed("c", _seq(10))
        await _wait(pilot, lambda: len(screen.buffer) == 10)
        await pilot.press("2")
        await _wait(pilot, lambda: len(asked) == 1)
        assert asked[0].since_seconds == 300 and asked[0].tail is None and not asked[0].previous
        assert len(screen.buffer) == 0
        await sessions[-1].feed("c", _seq(3, 100))
        await _wait(pilot, lambda: len(screen.buffer) == 3)
        assert "since 5m" in str(screen.query_one("#status-line").render())
        await pilot.press("P")
        await _wait(pilot, lambda: len(asked) == 2)
        assert asked[1].previous
        await pilot.press("0")
        await _wait(pilot, lambda: len(asked) == 3)
        assert asked[2].since_seconds is None and asked[2].tail is None and not asked[2].previous
    container = FeedSession()
    screen2 = LogsScreen("container/x", container, opener, LogOptions(), kube=False)
    async with _App(screen2).run_test(size=(100, 12)) as pilot:
        await pilot.press("P")
        assert "Kubernetes pods only" in screen2.message and len(asked) == 3
