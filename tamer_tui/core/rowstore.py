"""A keyed row store with diff updates, plus the filter and sort logic of every table.

The UI keeps one ``RowStore`` per table; feeds (snapshots, upserts, removals) change only the rows
that changed, and ``view()`` recomputes the filtered, sorted key order lazily, once per change.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class Keyed(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def runtime(self) -> str: ...


R = TypeVar("R", bound=Keyed)


@dataclass(frozen=True, slots=True)
class Changes:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class RowFilter:
    """The ``/`` filter: substring (case-insensitive), regex when it parses as one, ``!`` inverts.

    The searched text has one field per line, so ``^`` and ``$`` anchor to a field.

    A plain word is a substring match; text with regex metacharacters is compiled as a
    case-insensitive regex, and falls back to a substring match when it is not a valid regex.
    """

    _META = re.compile(r"[.^$*+?{}\[\]\\|()]")

    def __init__(self, text: str = "") -> None:
        self.text = text
        raw = text.strip()
        self.invert = raw.startswith("!")
        if self.invert:
            raw = raw[1:]
        self.pattern = raw
        self.error = ""
        self._regex: re.Pattern[str] | None = None
        if raw and self._META.search(raw):
            try:
                self._regex = re.compile(raw, re.IGNORECASE | re.MULTILINE)
            except re.error as exc:
                self.error = f"not a valid regex ({exc}); matching as plain text"
        self._needle = raw.lower()

    @property
    def plain(self) -> bool:
        """A substring filter (no regex): the fast path."""
        return self._regex is None

    @property
    def needle(self) -> str:
        return self._needle

    def __bool__(self) -> bool:
        return bool(self.pattern)

    def matches(self, haystack: str) -> bool:
        if not self.pattern:
            return True
        hit = bool(self._regex.search(haystack)) if self._regex else self._needle in haystack.lower()
        return hit != self.invert


class RowStore(Generic[R]):
    """Rows by key; ``version`` increases on every effective change."""

    def __init__(self, search_text: Callable[[R], str] | None = None, *, precomputed: bool = False) -> None:
        """``search_text`` gives the text ``/`` searches; ``precomputed``: it is already lower-case and
        stored on the row (a plain attribute read), so it is not cached again."""
        self.rows: dict[str, R] = {}
        self.version = 0
        # one field per line: a regex's ^ and $ anchor to a field (``^web$`` matches the name web)
        self._search_text = search_text or (lambda r: "\n".join(str(v) for v in _fields(r)))
        self._view_cache: tuple[Any, list[str]] | None = None
        self._text_cache: dict[str, tuple[R, str]] = {}
        self._precomputed = precomputed
        self._sorted_cache: tuple[Any, list[str]] | None = None
        self._texts_cache: tuple[Any, list[str]] | None = None
        self._dirty: set[str] = set()  # keys changed since the sorted order was last brought up to date
        self._sort_token: Any = None
        self._decorated: list[tuple[Any, str]] = []  # ascending (sort key, row key)
        self._skeys: dict[str, Any] = {}
        self.predicate: Callable[[R], bool] | None = None  # e.g. "faults only"

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> R | None:
        return self.rows.get(key)

    def replace_source(self, source: str, rows: Iterable[R]) -> Changes:
        """A full snapshot of one runtime: rows of that runtime not in it are removed."""
        new = {r.key: r for r in rows}
        removed = tuple(k for k, r in self.rows.items() if r.runtime == source and k not in new)
        for k in removed:
            del self.rows[k]
        self._dirty.update(removed)
        up = self.upsert(new.values())
        changes = Changes(up.added, up.changed, removed)
        if removed and not up:
            self.version += 1
        return changes

    def drop_source(self, source: str) -> Changes:
        return self.replace_source(source, ())

    def upsert(self, rows: Iterable[R]) -> Changes:
        added: list[str] = []
        changed: list[str] = []
        for r in rows:
            old = self.rows.get(r.key)
            if old is None:
                added.append(r.key)
            elif old != r:
                changed.append(r.key)
            else:
                continue
            self.rows[r.key] = r
            self._dirty.add(r.key)
        if added or changed:
            self.version += 1
        return Changes(tuple(added), tuple(changed))

    def remove(self, keys: Iterable[str]) -> Changes:
        removed = tuple(k for k in keys if self.rows.pop(k, None) is not None)
        self._dirty.update(removed)
        if removed:
            self.version += 1
        return Changes(removed=removed)

    def _aligned_texts(self, sort_token: Any, ordered: list[str]) -> list[str]:
        """Lower-cased search texts in ``ordered``'s order, cached with it (typing a filter over 50k
        rows then costs one pass of ``in`` over a list of strings)."""
        if self._texts_cache is not None and self._texts_cache[0] == sort_token:
            return self._texts_cache[1]
        rows = self.rows
        if self._precomputed:
            get = self._search_text
            texts = [get(rows[k]) for k in ordered]
        else:
            texts = [self.search_text(k, rows[k]) for k in ordered]
        self._texts_cache = (sort_token, texts)
        return texts

    def search_text(self, key: str, row: R) -> str:
        """The (lower-cased) text the ``/`` filter searches, cached per row object."""
        hit = self._text_cache.get(key)
        if hit is not None and hit[0] is row:
            return hit[1]
        text = self._search_text(row).lower()
        self._text_cache[key] = (row, text)
        if len(self._text_cache) > 2 * len(self.rows) + 1000:
            self._text_cache = {k: v for k, v in self._text_cache.items() if k in self.rows}
        return text

    def _ordered(self, sort_key: Callable[[R], Any] | None, reverse: bool) -> list[str]:
        """Sorted keys, maintained incrementally: a few changed rows cost a few bisects, not a sort."""
        token = (sort_key, self.predicate)
        pred = self.predicate
        rows = self.rows
        if sort_key is None:
            self._sort_token = None
            self._dirty.clear()
            return [k for k, r in rows.items() if pred is None or pred(r)]
        if token != self._sort_token or len(self._dirty) > max(500, len(rows) // 8):
            decorated = [(_safe_key(sort_key(r)), k) for k, r in rows.items() if pred is None or pred(r)]
            decorated.sort()
            self._decorated = decorated
            self._skeys = {k: sk for sk, k in decorated}
            self._sort_token = token
        else:
            decorated, skeys = self._decorated, self._skeys
            for k in self._dirty:
                old = skeys.pop(k, None)
                if old is not None:
                    i = bisect.bisect_left(decorated, (old, k))
                    if i < len(decorated) and decorated[i][1] == k:
                        del decorated[i]
                r = rows.get(k)
                if r is not None and (pred is None or pred(r)):
                    sk = _safe_key(sort_key(r))
                    bisect.insort(decorated, (sk, k))
                    skeys[k] = sk
        self._dirty.clear()
        keys = [k for _, k in self._decorated]
        if reverse:
            keys.reverse()
        return keys

    def view(
        self,
        row_filter: RowFilter | None = None,
        sort_key: Callable[[R], Any] | None = None,
        reverse: bool = False,
    ) -> list[str]:
        """Keys after filtering and sorting; cached until the rows or the parameters change.

        The sorted order is cached separately from the filter, so typing a filter over 50k rows only
        pays for the filter pass (on cached search texts), never for a sort.
        """
        text = row_filter.text if row_filter else ""
        token = (self.version, text, sort_key, reverse, self.predicate)
        if self._view_cache is not None and self._view_cache[0] == token:
            return self._view_cache[1]
        sort_token = (self.version, sort_key, reverse, self.predicate)
        if self._sorted_cache is not None and self._sorted_cache[0] == sort_token:
            ordered = self._sorted_cache[1]
        else:
            ordered = self._ordered(sort_key, reverse)
            self._sorted_cache = (sort_token, ordered)
        if row_filter:
            texts = self._aligned_texts(sort_token, ordered)
            if row_filter.plain:
                needle = row_filter.needle
                keys = [k for k, t in zip(ordered, texts, strict=True) if (needle in t) != row_filter.invert]
            else:
                match = row_filter.matches
                keys = [k for k, t in zip(ordered, texts, strict=True) if match(t)]
        else:
            keys = ordered
        self._view_cache = (token, keys)
        return keys


def _safe_key(value: Any) -> tuple[int, float, str]:
    """A total order over mixed values: numbers, then strings (case-insensitive), then None."""
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, bool | int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value).lower())


def _fields(row: Any) -> Iterable[Any]:
    slots = getattr(type(row), "__slots__", ())
    for name in slots:
        value = getattr(row, name, "")
        if name != "labels":
            yield value
