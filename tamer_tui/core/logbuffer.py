"""The bounded log buffer behind every log view, and fast search/filter over it.

Lines live in parallel arrays (text, stamp, source id) addressed by an *absolute id* that never
changes: the first line ever appended is id 0. When the buffer exceeds its line or byte bound, the
oldest lines are evicted (``evicted`` counts them; ids below ``first_id`` are gone). Marker lines
(a source joined or left, a gap after a reconnect) are lines too, flagged in the source array.

Cost per line beyond its text: two list slots (16 bytes), the stamp string (~80 bytes) and two bytes
of source id. Search runs in C loops (``map``/``itertools.compress``) over the text list: about 0.1 to
0.25 s per million lines for plain or case-sensitive regex searches.
"""

from __future__ import annotations

import itertools
import operator
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

NOTICE_FLAG = 0x8000
LINE_OVERHEAD = 117  # bytes per line counted against the byte bound besides its text and stamp

_UNSAFE_LOWERING = re.compile(r"\\[A-Z]|\(\?[a-zA-Z]*i")
_REGEX_META = re.compile(r"[\\.^$*+?{}\[\]()|]")


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A search: plain text or a regex; ``case`` None = smart case (sensitive iff it has upper case)."""

    pattern: str
    regex: bool = False
    case: bool | None = None

    @property
    def sensitive(self) -> bool:
        if self.case is not None:
            return self.case
        return any(ch.isupper() for ch in self.pattern)

    def compile(self) -> re.Pattern[str]:
        """The regex used to highlight matches (raises ``re.error`` for a bad pattern)."""
        source = self.pattern if self.regex else re.escape(self.pattern)
        return re.compile(source, 0 if self.sensitive else re.IGNORECASE)

    def predicate(self) -> LinePredicate:
        return LinePredicate(self)


class LinePredicate:
    """``matches(texts)`` -> one bool per text, with the fastest exact method for the query."""

    def __init__(self, query: LogQuery) -> None:
        self.query = query
        self.rx = query.compile()
        pattern = query.pattern
        self._needles: list[str] = []
        alternatives = pattern.split("|") if query.regex else []
        if len(alternatives) > 1 and all(a and not _REGEX_META.search(a) for a in alternatives):
            # ERROR|WARN: plain substring checks per alternative, OR-ed in C (several times faster than re)
            self._needles = alternatives if query.sensitive else [a.lower() for a in alternatives]
            self.mode = "any" if query.sensitive else "any-lower"
        elif not query.regex:
            self._needle = pattern if query.sensitive else pattern.lower()
            self.mode = "plain" if query.sensitive else "plain-lower"
        elif query.sensitive:
            self.mode = "regex"
        elif not any(ch.isupper() for ch in pattern) and not _UNSAFE_LOWERING.search(pattern):
            # a pattern without upper case matches the lower-cased text exactly when it matches the
            # text ignoring case, and searching without IGNORECASE is several times faster
            self.mode = "regex-lower"
            self._lower_rx = re.compile(pattern)
        else:
            self.mode = "regex-i"

    def map(self, texts: Iterable[str]) -> Iterator[bool | re.Match[str] | None]:
        if self.mode in ("any", "any-lower"):
            items = texts if isinstance(texts, list) else list(texts)
            if self.mode == "any-lower":
                items = list(map(str.lower, items))
            flags: Iterator[bool] = map(operator.contains, items, itertools.repeat(self._needles[0]))
            for needle in self._needles[1:]:
                flags = map(operator.or_, flags, map(operator.contains, items, itertools.repeat(needle)))
            return flags
        if self.mode == "plain":
            return map(operator.contains, texts, itertools.repeat(self._needle))
        if self.mode == "plain-lower":
            return map(operator.contains, map(str.lower, texts), itertools.repeat(self._needle))
        if self.mode == "regex-lower":
            return map(self._lower_rx.search, map(str.lower, texts))
        return map(self.rx.search, texts)

    def __call__(self, text: str) -> bool:
        return bool(next(iter(self.map((text,)))))


class LogBuffer:
    """Bounded by ``max_lines`` and ``max_bytes``; optionally spills every line to a file as well."""

    def __init__(self, max_lines: int = 200_000, max_bytes: int = 256 * 1024 * 1024, spill: IO[str] | None = None) -> None:
        self.max_lines = max(1, max_lines)
        self.max_bytes = max(1024, max_bytes)
        self.texts: list[str] = []
        self.stamps: list[str] = []
        self.srcs: array[int] = array("H")
        self.head = 0  # index in the arrays of the first live line
        self.evicted = 0  # lines evicted so far (= absolute id of the first live line)
        self.bytes = 0
        self.received = 0
        self.sources: list[str] = []
        self._source_ids: dict[str, int] = {}
        self.notice_kinds: dict[int, str] = {}
        self.spill = spill
        self.version = 0  # bumped on every change (views cache on it)

    # -- sizes and ids -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.texts) - self.head

    @property
    def first_id(self) -> int:
        return self.evicted

    @property
    def end_id(self) -> int:
        return self.evicted + len(self)

    def _index(self, line_id: int) -> int:
        return line_id - self.evicted + self.head

    def source_id(self, name: str) -> int:
        sid = self._source_ids.get(name)
        if sid is None:
            sid = len(self.sources)
            if sid >= NOTICE_FLAG:
                sid = NOTICE_FLAG - 1  # more than 32k sources share the last id
            else:
                self.sources.append(name)
            self._source_ids[name] = sid
        return sid

    # -- writing -----------------------------------------------------------------------------
    def append(self, source: str, stamps: list[str], lines: list[str]) -> None:
        """Append lines of one source (``stamps`` parallel to ``lines``)."""
        if not lines:
            return
        sid = self.source_id(source)
        if len(stamps) != len(lines):
            stamps = (list(stamps) + [""] * len(lines))[: len(lines)]
        self.texts.extend(lines)
        self.stamps.extend(stamps)
        self.srcs.extend(itertools.repeat(sid, len(lines)))
        self.bytes += sum(map(len, lines)) + sum(map(len, stamps)) + LINE_OVERHEAD * len(lines)
        self.received += len(lines)
        if self.spill is not None:
            name = self.sources[sid]
            self.spill.write("".join(f"{s} [{name}] {t}\n" for s, t in zip(stamps, lines, strict=True)))
        self._trim()
        self.version += 1

    def notice(self, source: str, kind: str, message: str, stamp: str = "") -> int:
        """A marker line; returns its id."""
        sid = self.source_id(source)
        line_id = self.end_id
        self.texts.append(message)
        self.stamps.append(stamp)
        self.srcs.append(sid | NOTICE_FLAG)
        self.notice_kinds[line_id] = kind
        self.bytes += len(message) + len(stamp) + LINE_OVERHEAD
        if self.spill is not None:
            self.spill.write(f"{stamp} [{source}] --- {kind}: {message}\n")
        self._trim()
        self.version += 1
        return line_id

    def clear(self) -> None:
        self.evicted = self.end_id
        self.texts, self.stamps, self.srcs = [], [], array("H")
        self.head = 0
        self.bytes = 0
        self.notice_kinds.clear()
        self.version += 1

    def _trim(self) -> None:
        over = len(self) - self.max_lines
        if over <= 0 and self.bytes <= self.max_bytes:
            return
        start = self.head
        end = start + max(0, over)
        evicted_bytes = self._bytes(start, end)
        if self.bytes - evicted_bytes > self.max_bytes:
            # evict further in steps until the byte bound holds
            step = max(1, len(self) // 64)
            while end < len(self.texts) and self.bytes - evicted_bytes > self.max_bytes:
                nxt = min(len(self.texts), end + step)
                evicted_bytes += self._bytes(end, nxt)
                end = nxt
        if end <= start:
            return
        self.bytes -= evicted_bytes
        n = end - start
        self.head = end
        self.evicted += n
        if self.notice_kinds:
            first = self.evicted
            for k in [k for k in self.notice_kinds if k < first]:
                del self.notice_kinds[k]
        if self.head > 4096 and self.head * 2 > len(self.texts):
            del self.texts[: self.head]
            del self.stamps[: self.head]
            del self.srcs[: self.head]
            self.head = 0

    def _bytes(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        return (sum(map(len, self.texts[start:end])) + sum(map(len, self.stamps[start:end]))
                + LINE_OVERHEAD * (end - start))

    # -- reading -----------------------------------------------------------------------------
    def text(self, line_id: int) -> str:
        return self.texts[self._index(line_id)]

    def stamp(self, line_id: int) -> str:
        return self.stamps[self._index(line_id)]

    def source_of(self, line_id: int) -> str:
        sid = self.srcs[self._index(line_id)] & ~NOTICE_FLAG
        return self.sources[sid] if sid < len(self.sources) else ""

    def source_index(self, line_id: int) -> int:
        return self.srcs[self._index(line_id)] & ~NOTICE_FLAG

    def is_notice(self, line_id: int) -> bool:
        return bool(self.srcs[self._index(line_id)] & NOTICE_FLAG)

    def has(self, line_id: int) -> bool:
        return self.first_id <= line_id < self.end_id

    def find(self, query: LogQuery | LinePredicate, start: int | None = None, end: int | None = None,
             invert: bool = False) -> list[int]:
        """Ids of the lines in ``[start, end)`` whose text matches (or, with ``invert``, does not)."""
        pred = query if isinstance(query, LinePredicate) else query.predicate()
        lo = max(self.first_id, self.first_id if start is None else start)
        hi = min(self.end_id, self.end_id if end is None else end)
        if hi <= lo:
            return []
        texts = self.texts[self._index(lo):self._index(hi)]  # a slice: islice would walk from index 0
        flags: Iterable[object] = pred.map(texts)
        if invert:
            flags = map(operator.not_, flags)
        return list(itertools.compress(range(lo, hi), flags))

    def export(self, ids: Iterable[int] | None = None, *, stamps: bool = True, sources: bool = False) -> Iterator[str]:
        """Lines as text for saving or copying (``ids`` None = the whole buffer)."""
        rng = range(self.first_id, self.end_id) if ids is None else ids
        for i in rng:
            if not self.has(i):
                continue
            parts = []
            if stamps and self.stamp(i):
                parts.append(self.stamp(i))
            if sources:
                parts.append(f"[{self.source_of(i)}]")
            text = self.text(i)
            if self.is_notice(i):
                text = f"--- {self.notice_kinds.get(i, 'notice')}: {text}"
            parts.append(text)
            yield " ".join(parts)
