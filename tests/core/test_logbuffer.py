"""The bounded log buffer: eviction accounting and search/filter exactness (against Python's ``re``)."""

from __future__ import annotations

import io
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from tamer_tui.core.logbuffer import LINE_OVERHEAD, LogBuffer, LogQuery

ASCII_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .:-_=[]()*+?\\/|^$", max_size=30)
PATTERN_ATOMS = st.sampled_from(["a", "A", "b", "B", "e", "E", "1", ".", ".*", "\\d", "\\w+", "\\s", "[a-c]",
                                  "[^ ]", "^", "$", "(a|b)", "x?", "E+", "\\.", "\\b", " ", "|", "ab|", "|AB"])


def _lines(n: int) -> list[str]:
    return [f"line {i} {'ERROR' if i % 7 == 0 else 'info'} id={i:05d}" for i in range(n)]


def test_line_bound_evicts_oldest_and_counts_them() -> None:
    """With max_lines=100, 250 appended lines keep the newest 100; ids stay stable; 150 are counted as evicted."""
    buf = LogBuffer(max_lines=100)
    lines = _lines(250)
    for i in range(0, 250, 10):
        buf.append("a", [""] * 10, lines[i:i + 10])
    assert len(buf) == 100
    assert buf.evicted == 150 and buf.received == 250
    assert (buf.first_id, buf.end_id) == (150, 250)
    assert buf.text(150) == lines[150] and buf.text(249) == lines[249]
    assert not buf.has(149)


def test_byte_bound_evicts_until_under_limit() -> None:
    """A byte bound evicts by size: ~1 KB lines under a 64 KB bound keep fewer than 64 lines, and the tally is exact."""
    buf = LogBuffer(max_lines=10_000, max_bytes=64 * 1024)
    for i in range(500):
        buf.append("a", ["2024-01-01T00:00:00Z"], [f"{i:04d}" + "x" * 1000])
    assert buf.bytes <= 64 * 1024
    assert 0 < len(buf) < 64
    assert buf.evicted + len(buf) == 500
    expected = sum(len(buf.text(i)) + len(buf.stamp(i)) + LINE_OVERHEAD for i in range(buf.first_id, buf.end_id))
    assert buf.bytes == expected
    assert buf.text(buf.end_id - 1).startswith("0499")


def test_compaction_keeps_ids_and_sources() -> None:
    """After many evictions (internal compaction), ids, sources and notices still resolve correctly."""
    buf = LogBuffer(max_lines=1000)
    for i in range(20):
        buf.append(f"src{i % 3}", [""] * 1000, [f"{i}:{j}" for j in range(1000)])
        nid = buf.notice(f"src{i % 3}", "gap", f"gap {i}")
    assert len(buf) == 1000
    assert buf.is_notice(nid) and buf.notice_kinds[nid] == "gap" and buf.text(nid) == "gap 19"
    assert buf.source_of(nid - 1) == "src1" and buf.text(nid - 1) == "19:999"
    assert all(k >= buf.first_id for k in buf.notice_kinds)


def test_spill_writes_every_line_even_evicted_ones() -> None:
    """With a spill file, evicted lines are still in the file: the full stream is kept."""
    out = io.StringIO()
    buf = LogBuffer(max_lines=10, spill=out)
    buf.append("web", [f"2024-01-01T00:00:{i:02d}Z" for i in range(30)], [f"l{i}" for i in range(30)])
    written = out.getvalue().splitlines()
    assert len(written) == 30 and len(buf) == 10
    assert written[0] == "2024-01-01T00:00:00Z [web] l0"


def test_find_plain_smart_case_and_invert() -> None:
    """Plain search is smart-case (lower-case pattern ignores case), invert gives the complement."""
    buf = LogBuffer()
    buf.append("a", [""] * 5, ["Error one", "error two", "fine", "ERROR three", "ok"])
    assert buf.find(LogQuery("error")) == [0, 1, 3]
    assert buf.find(LogQuery("Error")) == [0]
    assert buf.find(LogQuery("error", case=True)) == [1]
    assert buf.find(LogQuery("error"), invert=True) == [2, 4]
    assert buf.find(LogQuery("e.r", regex=False)) == []
    assert buf.find(LogQuery(r"^e.r", regex=True)) == [0, 1, 3]
    assert buf.find(LogQuery("k", regex=False), start=2, end=4) == []
    assert buf.find(LogQuery("k", regex=False), start=2) == [4]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(ASCII_TEXT, max_size=40), atoms=st.lists(PATTERN_ATOMS, min_size=1, max_size=4),
       regex=st.booleans(), case=st.sampled_from([None, True, False]), invert=st.booleans())
def test_find_equals_python_re_per_line(lines: list[str], atoms: list[str], regex: bool, case: bool | None,
                                        invert: bool) -> None:
    """For any ASCII lines and pattern, find() returns exactly the lines where Python's re.search matches."""
    pattern = "".join(atoms)
    query = LogQuery(pattern, regex=regex, case=case)
    buf = LogBuffer()
    buf.append("s", [""] * len(lines), lines)
    flags = 0 if query.sensitive else re.IGNORECASE
    rx = re.compile(pattern if regex else re.escape(pattern), flags)
    expected = [i for i, line in enumerate(lines) if bool(rx.search(line)) != invert]
    assert buf.find(query, invert=invert) == expected


def test_find_after_eviction_uses_absolute_ids() -> None:
    """Search results are absolute ids that stay valid after older lines are evicted."""
    buf = LogBuffer(max_lines=50)
    lines = _lines(120)
    buf.append("a", [""] * 120, lines)
    hits = buf.find(LogQuery("ERROR", case=True))
    assert hits == [i for i in range(70, 120) if i % 7 == 0]
    assert all(buf.text(i).endswith(f"id={i:05d}") for i in hits)
