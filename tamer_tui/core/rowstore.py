"""A keyed row store with diff updates, plus the filter and sort logic of every table.

The UI keeps one ``RowStore`` per table; feeds (snapshots, upserts, removals) change only the rows
that changed, and ``view()`` recomputes the filtered, sorted key order lazily, once per change.
"""

from __future__ import annotations

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
                self._regex = re.compile(raw, re.IGNORECASE)
            except re.error as exc:
                self.error = f"not a valid regex ({exc}); matching as plain text"
        self._needle = raw.lower()

    def __bool__(self) -> bool:
        return bool(self.pattern)

    def matches(self, haystack: str) -> bool:
        if not self.pattern:
            return True
        hit = bool(self._regex.search(haystack)) if self._regex else self._needle in haystack.lower()
        return hit != self.invert


class RowStore(Generic[R]):
    """Rows by key; ``version`` increases on every effective change."""

    def __init__(self, search_text: Callable[[R], str] | None = None) -> None:
        self.rows: dict[str, R] = {}
        self.version = 0
        self._search_text = search_text or (lambda r: " ".join(str(v) for v in _fields(r)))
        self._view_cache: tuple[Any, list[str]] | None = None
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
        if added or changed:
            self.version += 1
        return Changes(tuple(added), tuple(changed))

    def remove(self, keys: Iterable[str]) -> Changes:
        removed = tuple(k for k in keys if self.rows.pop(k, None) is not None)
        if removed:
            self.version += 1
        return Changes(removed=removed)

    def view(
        self,
        row_filter: RowFilter | None = None,
        sort_key: Callable[[R], Any] | None = None,
        reverse: bool = False,
    ) -> list[str]:
        """Keys after filtering and sorting; cached until the rows or the parameters change."""
        token = (self.version, row_filter.text if row_filter else "", sort_key, reverse, self.predicate)
        if self._view_cache is not None and self._view_cache[0] == token:
            return self._view_cache[1]
        items = list(self.rows.items())
        if self.predicate is not None:
            pred = self.predicate
            items = [(k, r) for k, r in items if pred(r)]
        if row_filter:
            items = [(k, r) for k, r in items if row_filter.matches(self._search_text(r))]
        if sort_key is not None:
            items.sort(key=lambda kr: _safe_key(sort_key(kr[1])), reverse=reverse)
        keys = [k for k, _ in items]
        self._view_cache = (token, keys)
        return keys


def _safe_key(value: Any) -> tuple[int, Any]:
    # mixed None/str/float never raise while sorting
    if value is None:
        return (1, "")
    if isinstance(value, str):
        return (0, value.lower())
    return (0, value)


def _fields(row: Any) -> Iterable[Any]:
    slots = getattr(type(row), "__slots__", ())
    for name in slots:
        value = getattr(row, name, "")
        if name != "labels":
            yield value
