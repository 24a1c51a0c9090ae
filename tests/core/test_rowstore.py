"""RowStore diff updates, the / filter (substring, regex, !inverse) and cached sorted views."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from tamer_tui.core.rowstore import RowFilter, RowStore


@dataclass(frozen=True, slots=True)
class Row:
    runtime: str
    name: str
    n: int = 0

    @property
    def key(self) -> str:
        return f"{self.runtime}/{self.name}"


def test_diff_updates_count_only_real_changes() -> None:
    """upsert reports added/changed; an identical row is not a change; replace_source removes the rest."""
    s: RowStore[Row] = RowStore()
    ch = s.upsert([Row("a", "x"), Row("a", "y")])
    assert ch.added == ("a/x", "a/y") and s.version == 1
    assert not s.upsert([Row("a", "x")]) and s.version == 1
    ch = s.upsert([Row("a", "x", 1)])
    assert ch.changed == ("a/x",)
    s.upsert([Row("b", "z")])
    ch = s.replace_source("a", [Row("a", "y")])
    assert ch.removed == ("a/x",) and set(s.rows) == {"a/y", "b/z"}
    assert s.remove(["b/z", "nope"]).removed == ("b/z",)


def test_filter_modes() -> None:
    """Plain text is a case-insensitive substring; metacharacters make a regex; ! inverts; bad regex falls back."""
    assert RowFilter("WEB").matches("my-web-1")
    assert RowFilter("^my-").matches("my-web") and not RowFilter("^web").matches("my-web")
    assert RowFilter("!web").matches("db") and not RowFilter("!web").matches("web")
    bad = RowFilter("a[")
    assert bad.error and bad.matches("xa[y")
    assert RowFilter("").matches("anything")


def test_view_sorts_filters_and_caches() -> None:
    """view() sorts by the key function, filters on cached text, and reuses the sorted order."""
    s: RowStore[Row] = RowStore(search_text=lambda r: r.name)
    s.upsert([Row("a", n, i) for i, n in enumerate(["pear", "apple", "fig", "apricot"])])
    by_name = lambda r: r.name  # noqa: E731
    assert s.view(None, by_name) == ["a/apple", "a/apricot", "a/fig", "a/pear"]
    assert s.view(RowFilter("ap"), by_name) == ["a/apple", "a/apricot"]
    assert s.view(RowFilter("ap"), by_name, reverse=True) == ["a/apricot", "a/apple"]
    s.predicate = lambda r: r.n % 2 == 0
    assert s.view(None, by_name) == ["a/fig", "a/pear"]


@given(st.lists(st.tuples(st.text(min_size=1, max_size=5), st.integers(0, 9)), max_size=40), st.text(max_size=3))
def test_view_equals_naive_filter_sort(items: list[tuple[str, int]], needle: str) -> None:
    """For any rows and any plain filter, view() equals filtering and sorting by hand."""
    s: RowStore[Row] = RowStore(search_text=lambda r: r.name)
    rows = {f"a/{n}": Row("a", n, v) for n, v in items}
    s.upsert(rows.values())
    flt = RowFilter(needle) if needle and not RowFilter._META.search(needle) and not needle.startswith("!") else None
    got = s.view(flt, lambda r: r.n)
    want = [k for k, r in sorted(rows.items(), key=lambda kr: kr[1].n)
            if flt is None or needle.strip().lower() in r.name.lower()]
    assert sorted(got) == sorted(want)
    assert [rows[k].n for k in got] == sorted(rows[k].n for k in got)


@given(st.lists(st.tuples(st.sampled_from(["up", "rm"]), st.integers(0, 30), st.integers(0, 5)), max_size=60),
       st.booleans())
def test_incremental_order_matches_full_sort(ops: list[tuple[str, int, int]], reverse: bool) -> None:
    """After any sequence of upserts and removals, the incrementally kept order equals a fresh sort."""
    s: RowStore[Row] = RowStore()
    key = lambda r: r.n  # noqa: E731
    s.upsert(Row("a", f"r{i}", i % 3) for i in range(10))
    s.view(None, key, reverse)
    for op, i, n in ops:
        if op == "up":
            s.upsert([Row("a", f"r{i}", n)])
        else:
            s.remove([f"a/r{i}"])
        got = s.view(None, key, reverse)
        want = sorted(s.rows, key=lambda k: ((s.rows[k].n, k)), reverse=reverse)
        assert got == want


def test_regex_anchors_to_a_field() -> None:
    """`^web$` matches the row whose name is exactly web, not one whose image mentions web."""
    s: RowStore[Row] = RowStore()
    s.upsert([Row("a", "web"), Row("a", "web-2"), Row("webby", "db")])
    assert s.view(RowFilter("^web$"), lambda r: r.name) == ["a/web"]
    assert s.view(RowFilter("^(web|db)$"), lambda r: r.name) == ["webby/db", "a/web"]
