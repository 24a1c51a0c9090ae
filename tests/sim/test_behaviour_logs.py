"""Unit tests of the log model (tamer_tui.sim.logs): deterministic lines and windowing."""

from __future__ import annotations

import json

import pytest

from tamer_tui.sim import logs as L
from tamer_tui.sim.seed import ANN_LOG_RATE, parse_rfc3339, rfc3339

T0 = 1_700_000_000.0


def gen(style: str = "java", rate: float = 2.0, end: float | None = None, code: int | None = None, key: int = 42) -> L.GeneratedLog:
    return L.GeneratedLog(L.GeneratedText(key, style, "pod-1", "app"), T0, rate, end, code)


def lines(stream: L.LogStream, q: L.LogQuery, now: float) -> list[str]:
    lo, hi = L.select_range(stream, q, now)
    return b"".join(L.render(stream, lo, hi, q.timestamps, q.limit_bytes)).decode().splitlines()


def test_lines_are_deterministic() -> None:
    """Line i of a container instance is a pure function of its key and index."""
    a, b = gen(key=7), gen(key=7)
    assert [a.text(i) for i in range(200)] == [b.text(i) for i in range(200)]
    assert [a.text(i) for i in range(50)] != [gen(key=8).text(i) for i in range(50)]


def test_line_timestamps_follow_rate() -> None:
    """Line i is emitted at start + i/rate; count_at is consistent with it."""
    s = gen(rate=4.0)
    assert s.time_of(0) == T0 and s.time_of(8) == T0 + 2.0
    assert s.count_at(T0 - 1) == 0
    assert s.count_at(T0 + 2.0) == 9
    assert s.index_at_or_after(T0 + 2.0) == 8
    assert s.index_at_or_after(T0 + 2.1) == 9


def test_tail_lines() -> None:
    """tailLines returns exactly the last N lines existing at `now`."""
    s = gen()
    now = T0 + 100
    tail = lines(s, L.LogQuery(tail_lines=5), now)
    assert len(tail) == 5
    n = s.count_at(now)
    expected = [s.text(i) for i in range(n - 5, n)]
    # a multi-line stack trace entry counts line by line, like the kubelet
    assert tail == "\n".join(expected).splitlines()
    assert lines(s, L.LogQuery(tail_lines=0), now) == []


def test_since_seconds_and_since_time() -> None:
    """sinceSeconds/sinceTime start at the first line at or after the cut-off."""
    s = gen(rate=1.0)
    now = T0 + 60
    got = lines(s, L.LogQuery(since_seconds=10, timestamps=True), now)
    stamps = [parse_rfc3339(line.split(" ", 1)[0]) for line in got]
    assert len(got) == 11 and all(st is not None and st >= now - 10 for st in stamps)
    got2 = lines(s, L.LogQuery(since_time=T0 + 50, timestamps=True), now)
    assert got2 == got


def test_timestamps_prefix_is_rfc3339nano() -> None:
    """timestamps=true prefixes each line with the kubelet's RFC3339Nano time."""
    assert L.rfc3339_nano(T0) == "2023-11-14T22:13:20Z"
    assert L.rfc3339_nano(T0 + 0.25) == "2023-11-14T22:13:20.25Z"
    line = L.format_line(gen(rate=4.0), 1, True)
    assert line.startswith("2023-11-14T22:13:20.25Z ")


def test_limit_bytes_cuts_mid_line() -> None:
    """limitBytes stops after exactly that many bytes."""
    s = gen()
    lo, hi = L.select_range(s, L.LogQuery(), T0 + 500)
    data = b"".join(L.render(s, lo, hi, False, 100))
    assert len(data) == 100
    full = b"".join(L.render(s, lo, hi, False))
    assert full.startswith(data)


def test_rotation_keeps_recent_lines_only() -> None:
    """Old lines rotate away: at most retained_lines() are served."""
    s = gen(rate=100.0)
    now = T0 + 10_000
    lo, hi = L.select_range(s, L.LogQuery(), now)
    assert hi - lo == L.retained_lines(100.0)


def test_crashed_instance_ends_with_error() -> None:
    """A terminated instance has a fixed length and ends with a fatal error / stack trace."""
    s = gen(style="python", rate=2.0, end=T0 + 10, code=1)
    total = s.count_at(T0 + 1000)
    assert total == s.count_at(T0 + 10)
    last = [s.text(i) for i in range(total - 9, total)]
    assert any("Traceback (most recent call last):" in line for line in last)
    assert "Error" in last[-1] or ":" in last[-1]


def test_styles_look_like_their_language() -> None:
    """Go lines are JSON, nginx lines are access logs, java has `\\tat` frames somewhere."""
    go = gen(style="go")
    for i in range(30):
        if go.text_gen.trace_at(i) is None:
            assert json.loads(go.text(i))["level"] in ("debug", "info", "warn", "error")
    assert '"GET ' in gen(style="nginx").text(3) or '"POST ' in gen(style="nginx").text(3) or "HTTP/1.1" in gen(style="nginx").text(3)
    java = gen(style="java")
    assert any(java.text(i).startswith("\tat ") for i in range(2000))
    assert L.style_for_image("docker.io/library/nginx:1.27") == "nginx"
    assert L.style_for_image("postgres:16") == "postgres"


def test_recorded_log() -> None:
    """Script output is recorded line by line with the time it was written."""
    rec = L.RecordedLog(start=T0)
    rec.append_output("hello\npart", ts=T0 + 1)
    rec.append_output("ial\n", ts=T0 + 2)
    rec.finish(0, ts=T0 + 3)
    assert rec.lines == ["hello", "partial"] and rec.times == [T0 + 1, T0 + 2]
    assert rec.count_at(T0 + 1.5) == 1 and rec.finished and rec.exit_code == 0


def pod(**status: object) -> dict:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "annotations": {ANN_LOG_RATE: "5"}},
        "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/cart:1"}, {"name": "side", "image": "envoyproxy/envoy:v1"}]},
        "status": {"containerStatuses": status.get("statuses", [])},
    }


def test_model_previous_and_waiting_errors() -> None:
    """previous without a terminated instance and waiting containers give the kubelet's messages."""
    model = L.LogModel(seed=1, default_rate=2.0)
    running = {"name": "app", "restartCount": 0, "state": {"running": {"startedAt": rfc3339(T0)}}, "lastState": {}}
    p = pod(statuses=[running])
    with pytest.raises(L.LogQueryError, match='previous terminated container "app" in pod "p" not found'):
        model.stream(p, "app", True)
    s = model.stream(p, "app", False)
    assert isinstance(s, L.GeneratedLog) and s.rate == 5.0
    waiting = {"name": "app", "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
    with pytest.raises(L.LogQueryError, match="is waiting to start: ContainerCreating"):
        model.stream(pod(statuses=[waiting]), "app", False)


def test_model_previous_instance() -> None:
    """previous returns the last terminated instance, which differs from the current one."""
    model = L.LogModel(seed=1)
    cs = {"name": "app", "restartCount": 3, "state": {"running": {"startedAt": rfc3339(T0 + 100)}},
          "lastState": {"terminated": {"exitCode": 1, "startedAt": rfc3339(T0), "finishedAt": rfc3339(T0 + 90)}}}
    p = pod(statuses=[cs])
    prev = model.stream(p, "app", True)
    cur = model.stream(p, "app", False)
    assert prev.end == T0 + 90 and cur.end is None
    assert prev.text(0) != cur.text(0)


def test_pick_container_messages() -> None:
    """Multi-container pods need `container`; unknown names are rejected like the API server does."""
    p = pod()
    with pytest.raises(L.LogQueryError, match=r"a container name must be specified for pod p, choose one of: \[app side\]"):
        L.pick_container(p, None)
    with pytest.raises(L.LogQueryError, match="container nope is not valid for pod p"):
        L.pick_container(p, "nope")
    assert L.pick_container(p, "side") == "side"


def test_parse_query_validation() -> None:
    """Bad parameters are 400/422 like the API server's PodLogOptions validation."""
    q = L.parse_query({"follow": "true", "tailLines": "10", "timestamps": "1", "container": "app"})
    assert q.follow and q.tail_lines == 10 and q.timestamps and q.container == "app"
    with pytest.raises(L.LogQueryError) as info:
        L.parse_query({"sinceSeconds": "5", "sinceTime": "2024-01-01T00:00:00Z"})
    assert info.value.code == 422 and "at most one of" in str(info.value)
    with pytest.raises(L.LogQueryError):
        L.parse_query({"tailLines": "abc"})
    with pytest.raises(L.LogQueryError) as info:
        L.parse_query({"limitBytes": "0"})
    assert info.value.code == 422


def test_recorded_log_rotates() -> None:
    """An endless script's recorded output keeps only the newest lines, with absolute indices."""
    rec = L.RecordedLog(start=T0)
    for i in range(3 * L.RecordedLog.KEEP):
        rec.append_output(f"line {i}\n", ts=T0 + i / 1000)
    now = T0 + 100
    lo, hi = L.select_range(rec, L.LogQuery(), now)
    assert hi == 3 * L.RecordedLog.KEEP and hi - lo == L.RecordedLog.KEEP
    assert rec.text(hi - 1) == f"line {hi - 1}" and rec.text(lo) == f"line {lo}"
