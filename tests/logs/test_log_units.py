"""Log-stream building blocks without any service: stamps, resuming, the sink, the wire decoders, options."""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Callable

import pytest

from tamer_tui.core.errors import InvalidInput
from tamer_tui.core.logstream import (
    LogChunk,
    LogNotice,
    LogOptions,
    LogSink,
    Resume,
    norm_stamp,
    ns_stamp,
    split_stamp,
    stamp_ns,
    stamp_seconds,
)
from tamer_tui.core.logtargets import parse_duration, parse_log_args
from tamer_tui.core.logwire import IncompleteBody, LogTextDecoder, dechunk, decode_log_body, split_stamps

# -- stamps ----------------------------------------------------------------------------------------


def test_norm_stamp_go_rfc3339nano_forms() -> None:
    """Go's RFC3339Nano trims trailing zeros (down to no fraction at all); normalised stamps have nine
    digits and compare as strings in time order."""
    assert norm_stamp("2024-01-02T03:04:05.1Z") == "2024-01-02T03:04:05.100000000Z"
    assert norm_stamp("2024-01-02T03:04:05Z") == "2024-01-02T03:04:05.000000000Z"
    assert norm_stamp("2024-01-02T03:04:05.123456789Z") == "2024-01-02T03:04:05.123456789Z"
    assert norm_stamp("2024-01-02T03:04:05.1234567891Z") == "2024-01-02T03:04:05.123456789Z"
    trimmed = ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000000001Z", "2024-01-02T03:04:05.00001Z",
               "2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.12Z", "2024-01-02T03:04:05.9Z", "2024-01-02T03:04:06Z"]
    assert sorted(trimmed, key=norm_stamp) == trimmed
    assert sorted(trimmed) != trimmed  # the raw strings do not sort in time order


def test_norm_stamp_offsets_and_garbage() -> None:
    """Offsets become UTC (zero offsets just lose their suffix); anything else is not a stamp."""
    assert norm_stamp("2024-01-02T03:04:05.5+00:00") == "2024-01-02T03:04:05.500000000Z"
    assert norm_stamp("2024-01-02T03:04:05-00:00") == "2024-01-02T03:04:05.000000000Z"
    assert norm_stamp("2024-01-02T03:04:05.25+02:00") == "2024-01-02T01:04:05.250000000Z"
    assert norm_stamp("2024-01-01T23:30:00-05:30") == "2024-01-02T05:00:00.000000000Z"
    assert norm_stamp("") == ""
    assert norm_stamp("hello") == ""
    assert norm_stamp("2024-01-02 03:04:05Z") == ""


def test_stamp_ns_is_exact_and_round_trips() -> None:
    """Nanoseconds are kept exactly (a float would lose them) and ns_stamp is the inverse."""
    n = stamp_ns("2024-01-02T03:04:05.123456789Z")
    assert n % 1_000_000_000 == 123456789
    assert ns_stamp(n) == "2024-01-02T03:04:05.123456789Z"
    assert ns_stamp(n - 10_000_000) == "2024-01-02T03:04:05.113456789Z"
    assert stamp_ns("2024-01-02T03:04:05.5+02:00") == stamp_ns("2024-01-02T01:04:05.5Z")
    assert stamp_seconds("1970-01-01T00:00:01.5Z") == 1.5
    assert stamp_ns("nope") == 0


def test_split_stamp_and_split_stamps() -> None:
    """A leading stamp is split off; a line without one keeps its text whole; empty texts stay empty."""
    assert split_stamp("2024-01-02T03:04:05.1Z hello world") == ("2024-01-02T03:04:05.1Z", "hello world")
    assert split_stamp("hello world") == ("", "hello world")
    assert split_stamp("2024-01-02T03:04:05Z") == ("2024-01-02T03:04:05Z", "")
    stamps, texts = split_stamps(["2024-01-02T03:04:05Z a b", "2024-01-02T03:04:05Z ", "plain", "2024-01-02T03:04:05Z"])
    assert stamps == ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z", "", "2024-01-02T03:04:05Z"]
    assert texts == ["a b", "", "plain", ""]


# -- Resume -----------------------------------------------------------------------------------------


def _lines(*pairs: tuple[str, str]) -> tuple[list[str], list[str]]:
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_resume_equal_stamps_second_precision() -> None:
    """Podman stamps whole seconds: after a reconnect the server repeats the lines of the last second;
    exactly as many of them as were delivered are dropped, the rest (same stamp) are new."""
    r = Resume()
    s4, s5, s6 = "2024-01-02T03:04:04Z", "2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"
    kept = r.accept(*_lines((s4, "a"), (s5, "b"), (s5, "c"), (s5, "d")))
    assert kept[1] == ["a", "b", "c", "d"]
    low = r.arm()
    assert low < norm_stamp(s5) and r.armed
    again = _lines((s4, "a"), (s5, "b"), (s5, "c"), (s5, "d"), (s5, "e"), (s5, "f"), (s6, "g"))
    stamps, texts = r.accept(*again)
    assert texts == ["e", "f", "g"] and stamps == [s5, s5, s6]
    assert not r.armed
    assert r.accept(*_lines((s6, "h")))[1] == ["h"]  # after the overlap everything is kept


def test_resume_kubernetes_second_precision_since_time() -> None:
    """sinceTime has whole seconds: the server answers from the start of the second; lines before the
    resume point are dropped, new lines with nanosecond stamps are kept."""
    r = Resume()
    seen = [(f"2024-01-02T03:04:05.{i:03d}Z", f"line {i}") for i in range(100, 800, 100)]
    r.accept(*_lines(*seen))
    point = r.arm()
    since_time = point[:19] + "Z"
    assert since_time == "2024-01-02T03:04:05Z"
    server = [(f"2024-01-02T03:04:05.{i:03d}Z", f"line {i}") for i in range(0, 1000, 100)]
    assert r.accept(*_lines(*server))[1] == ["line 800", "line 900"]  # line 0 was cut by --tail


def test_resume_stream_that_skipped_lines() -> None:
    """A stream delivered a later line before earlier ones and then broke (Podman's follow stream
    around a restart): after the reconnect the skipped lines come, the early one is not repeated."""
    r = Resume()
    s = "2024-01-02T03:04:05Z"
    r.accept(*_lines((s, "seq=48"), (s, "seq=49"), (s, "seq=61")))
    r.arm()
    server = [(s, f"seq={i}") for i in range(48, 64)]
    assert r.accept(*_lines(*server))[1] == [f"seq={i}" for i in range(50, 64) if i != 61]
    assert not r.armed


def test_resume_out_of_order_streams() -> None:
    """stdout and stderr are stamped by separate readers, so the log order can disagree slightly with
    the stamps; lines delivered before are still recognised and dropped."""
    r = Resume()
    r.accept(*_lines(("2024-01-02T03:04:05.600Z", "out"), ("2024-01-02T03:04:05.599Z", "err")))
    r.arm()
    stamps, texts = r.accept(*_lines(("2024-01-02T03:04:05.600Z", "out"), ("2024-01-02T03:04:05.599Z", "err"),
                                     ("2024-01-02T03:04:05.598Z", "late err"), ("2024-01-02T03:04:05.601Z", "new")))
    assert texts == ["late err", "new"]


def test_resume_identical_lines() -> None:
    """Two identical lines with one stamp, one delivered: the repeat of it is dropped, the other kept."""
    r = Resume()
    s = "2024-01-02T03:04:05Z"
    r.accept(*_lines((s, "ok")))
    r.arm()
    assert r.accept(*_lines((s, "ok"), (s, "ok")))[1] == ["ok"]


def test_resume_overlap_split_over_batches_and_no_overlap() -> None:
    """The overlap may arrive in several batches; a server that repeats nothing loses nothing; a
    resume before anything was seen is not armed."""
    r = Resume()
    assert r.arm() == "" and not r.armed
    r.accept(*_lines(("2024-01-02T03:04:05.1Z", "a"), ("2024-01-02T03:04:05.2Z", "b")))
    r.arm()
    assert r.accept(*_lines(("2024-01-02T03:04:05.1Z", "a")))[1] == []
    assert r.accept(*_lines(("2024-01-02T03:04:05.2Z", "b"), ("2024-01-02T03:04:05.3Z", "c")))[1] == ["c"]
    r.arm()
    assert r.accept(*_lines(("2024-01-02T03:04:06Z", "d")))[1] == ["d"]
    assert r.last == "2024-01-02T03:04:06.000000000Z"


def test_resume_forgets_old_batches() -> None:
    """Only the lines of the last moments are kept for matching (memory stays bounded)."""
    r = Resume()
    for i in range(1000):
        r.accept(*_lines((ns_stamp(1_700_000_000_000_000_000 + i * 1_000_000_000), f"x{i}")))
    assert len(r._recent) <= 3
    assert r.count_at_last == 1


# -- sink -------------------------------------------------------------------------------------------


async def test_sink_backpressure_never_drops() -> None:
    """Producers wait while the sink holds max_lines; the consumer gets every line in order, and
    adjacent chunks of a source come merged into one."""
    sink = LogSink(max_lines=50)
    rng = random.Random(5)
    total = 2000

    async def produce(name: str) -> None:
        i = 0
        while i < total:
            n = rng.randint(1, 20)
            batch = [f"{name}{k}" for k in range(i, min(total, i + n))]
            await sink.lines(name, [""] * len(batch), batch)
            assert sink.pending_lines <= 50 + 20
            i += len(batch)
        await sink.notice(name, "ended", "done")

    tasks = [asyncio.create_task(produce(n)) for n in ("a", "b")]
    got: dict[str, list[str]] = {"a": [], "b": []}
    ended = 0
    merged = 0
    while ended < 2:
        await sink.wait(1.0)
        await asyncio.sleep(0.001)  # a slow consumer
        items = sink.drain(max_lines=30)
        for prev, item in zip(items, items[1:], strict=False):
            assert not (isinstance(prev, LogChunk) and isinstance(item, LogChunk) and prev.source == item.source)
        for item in items:
            if isinstance(item, LogChunk):
                got[item.source].extend(item.lines)
                merged += 1
            else:
                assert isinstance(item, LogNotice)
                ended += 1
    await asyncio.gather(*tasks)
    assert got == {n: [f"{n}{k}" for k in range(total)] for n in ("a", "b")}
    assert merged < 2 * total / 10  # fewer chunks than were put


async def test_sink_merge_does_not_touch_producer_lists() -> None:
    """Merging chunks builds new lists: the lists a producer handed in stay as they were."""
    sink = LogSink()
    first, second = ["1"], ["2"]
    await sink.lines("a", [""], first)
    await sink.lines("a", [""], second)
    (chunk,) = sink.drain()
    assert isinstance(chunk, LogChunk) and chunk.lines == ["1", "2"]
    assert first == ["1"] and second == ["2"]


# -- wire -------------------------------------------------------------------------------------------


def _frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_decoder_frames_partials_and_streams() -> None:
    """Multiplexed frames, fed in every possible two-piece split: partial lines continue in the next
    frame of their stream (whose own stamp is dropped), stdout/stderr are told apart, \\r\\n and UTF-8
    split between frames survive."""
    s1, s2, s3 = b"2024-01-02T03:04:05.1Z", b"2024-01-02T03:04:05.2Z", b"2024-01-02T03:04:05.3Z"
    data = (_frame(1, s1 + b" hello\n") + _frame(2, s1 + b" oops\r\n") + _frame(1, s2 + b" long \xc3")
            + _frame(1, s3 + b" \xa9nd\n") + _frame(1, s3 + b" \n"))
    expect = (["2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.1Z", "2024-01-02T03:04:05.2Z", "2024-01-02T03:04:05.3Z"],
              ["hello", "oops", "long \u00e9nd", ""], [1, 2, 1, 1])
    for cut in range(len(data) + 1):
        dec = LogTextDecoder(timestamps=True, keep_streams=True)
        dec.feed(data[:cut])
        first = dec.take()
        dec.feed(data[cut:])
        dec.flush()
        rest = dec.take()
        got = (first.stamps + rest.stamps, first.texts + rest.texts, first.streams + rest.streams)
        assert got == expect, cut


def test_decoder_raw_tty_and_unterminated_last_line() -> None:
    """Without frames (a TTY container) the bytes are the text; a last line without newline comes at
    the end of the stream."""
    body = b"2024-01-02T03:04:05Z one\r\n2024-01-02T03:04:06Z two"
    batches = list(decode_log_body([body[:10], body[10:]], timestamps=True))
    assert batches[0].texts == []  # the "server answered" batch
    texts = [t for b in batches for t in b.texts]
    stamps = [s for b in batches for s in b.stamps]
    assert texts == ["one", "two"] and stamps == ["2024-01-02T03:04:05Z", "2024-01-02T03:04:06Z"]


def test_dechunk_any_read_sizes() -> None:
    """Chunked transfer encoding is undone whatever the reads return (1 byte to everything at once),
    with chunk extensions; a body cut before its last chunk raises IncompleteBody."""
    payload = [b"x" * 5, b"hello world\n", b"a" * 300, b"\r\n" * 3]
    body = b"".join(f"{len(p):x}".encode() + (b";ext=1" if i == 1 else b"") + b"\r\n" + p + b"\r\n"
                    for i, p in enumerate(payload)) + b"0\r\n\r\n"
    for size in (1, 2, 3, 7, 64, 1 << 16):
        assert b"".join(dechunk(_reader(body, size))) == b"".join(payload), size
    with pytest.raises(IncompleteBody):
        list(dechunk(_reader(body[:40], 1 << 16)))


def _reader(data: bytes, most: int) -> Callable[[int], bytes]:
    """A ``read1``: up to ``n`` (at most ``most``) of the bytes not read yet."""
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        piece = data[pos : pos + min(n, most)]
        pos += len(piece)
        return piece

    return read


# -- options ----------------------------------------------------------------------------------------


def test_parse_log_args_options() -> None:
    """--tail=N|all|-1 (and "--tail N"), --since durations (and "--since 5m"), --timestamps, --previous."""
    req = parse_log_args(["pod/ns/p", "--tail=20", "--since=1h30m", "--timestamps", "--previous"])
    assert req.target == "pod/ns/p" and req.timestamps
    assert req.options == LogOptions(tail=20, since_seconds=5400.0, previous=True)
    assert parse_log_args(["container/x", "--tail=all"]).options.tail is None
    assert parse_log_args(["container/x", "--tail=-1"]).options.tail is None
    assert parse_log_args(["container/x"], default_tail=7).options.tail == 7
    assert parse_log_args(["--tail", "5", "container/x", "--since", "2d"]).options == LogOptions(
        tail=5, since_seconds=172800.0)
    assert parse_log_args(["container/x", "--since=all"]).options.since_seconds is None
    assert parse_log_args(["container/x", "-t", "-p"]).timestamps


@pytest.mark.parametrize(("args", "message"), [
    ([], "needs a target"),
    (["--tail=5"], "needs a target"),
    (["a", "b"], "one target"),
    (["a", "--tail=x"], "--tail takes"),
    (["a", "--tail"], "needs a value"),
    (["a", "--since=5x"], "--since takes"),
    (["a", "--since=m"], "--since takes"),
    (["a", "--follow-me"], "unknown logs option"),
])
def test_parse_log_args_errors(args: list[str], message: str) -> None:
    """Wrong arguments raise InvalidInput saying what is wrong."""
    with pytest.raises(InvalidInput, match=message):
        parse_log_args(args)


def test_parse_duration() -> None:
    """Durations combine days, hours, minutes and seconds; 'all', '' and '0' mean no bound."""
    assert parse_duration("30s") == 30.0
    assert parse_duration("5m") == 300.0
    assert parse_duration("1d2h3m4s") == 93784.0
    assert parse_duration("all") is None and parse_duration("0") is None and parse_duration("") is None
    for bad in ("5", "1.5h", "h", "5m3h", "-5m"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


@pytest.mark.parametrize("ticks", range(8))
async def test_sink_wait_honours_cancellation(ticks: int) -> None:
    """A consumer waiting for items is cancelled just as an item arrives (at every point of the event
    loop's turns): the cancellation is never swallowed, the consumer stops (Python 3.11's wait_for
    would return the item instead and the consumer would run on forever)."""
    sink = LogSink()

    async def consume() -> None:
        while True:
            await sink.wait(0.25)
            sink.drain()

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    await sink.notice("a", "info", "x")
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=1.0)
    assert task in done and task.cancelled()
