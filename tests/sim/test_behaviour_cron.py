"""Unit tests of the CronJob schedule parser (tamer_tui.sim.controllers.CronSchedule)."""

from __future__ import annotations

import calendar

import pytest

from tamer_tui.sim.controllers import CronError, CronSchedule


def ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> float:
    return float(calendar.timegm((y, mo, d, h, mi, 0, 0, 0, 0)))


def test_every_minute() -> None:
    """`* * * * *` fires at the start of the next minute."""
    s = CronSchedule.parse("* * * * *")
    assert s.next_after(ts(2024, 5, 1, 10, 7) + 13) == ts(2024, 5, 1, 10, 8)
    assert s.next_after(ts(2024, 5, 1, 10, 7)) == ts(2024, 5, 1, 10, 8)


def test_step_values() -> None:
    """`*/15` in the minute field fires at :00, :15, :30, :45."""
    s = CronSchedule.parse("*/15 * * * *")
    assert s.minutes == frozenset({0, 15, 30, 45})
    assert s.next_after(ts(2024, 5, 1, 10, 31)) == ts(2024, 5, 1, 10, 45)
    assert s.next_after(ts(2024, 5, 1, 10, 45)) == ts(2024, 5, 1, 11, 0)


def test_ranges_lists_and_names() -> None:
    """Ranges with steps, lists, month and weekday names all parse."""
    s = CronSchedule.parse("0,30 9-17/2 * jan-mar mon-fri")
    assert s.minutes == frozenset({0, 30})
    assert s.hours == frozenset({9, 11, 13, 15, 17})
    assert s.months == frozenset({1, 2, 3})
    assert s.weekdays == frozenset({1, 2, 3, 4, 5})
    # after Friday 2024-03-29 17:30 nothing matches until January (April-December are excluded)
    assert s.next_after(ts(2024, 3, 29, 17, 30)) == ts(2025, 1, 1, 9, 0)


def test_daily_at_two_and_macros() -> None:
    """`0 2 * * *` fires once a day at 02:00; @hourly/@daily macros are supported."""
    s = CronSchedule.parse("0 2 * * *")
    assert s.next_after(ts(2024, 5, 1, 3, 0)) == ts(2024, 5, 2, 2, 0)
    assert CronSchedule.parse("@hourly").next_after(ts(2024, 5, 1, 3, 5)) == ts(2024, 5, 1, 4, 0)
    assert CronSchedule.parse("@daily").next_after(ts(2024, 5, 1, 3, 5)) == ts(2024, 5, 2, 0, 0)


def test_day_of_month_or_day_of_week() -> None:
    """When both day fields are restricted, either may match (standard cron semantics)."""
    s = CronSchedule.parse("0 0 13 * 5")  # the 13th or any Friday
    # 2024-09-05 is a Thursday: next is Friday the 6th
    assert s.next_after(ts(2024, 9, 5, 1)) == ts(2024, 9, 6)
    # 2024-09-12 Thursday: next is the 13th (also a Friday)
    assert s.next_after(ts(2024, 9, 12, 1)) == ts(2024, 9, 13)


def test_sunday_as_seven_and_leap_day() -> None:
    """Weekday 7 means Sunday; Feb 29 schedules wait for a leap year."""
    assert CronSchedule.parse("0 0 * * 7").weekdays == frozenset({0})
    assert CronSchedule.parse("0 0 29 2 *").next_after(ts(2025, 1, 1)) == ts(2028, 2, 29)


def test_last_at_or_before() -> None:
    """The most recent firing in a window (what the controller fires after a pause) is found."""
    s = CronSchedule.parse("*/10 * * * *")
    assert s.last_at_or_before(ts(2024, 5, 1, 10, 37), ts(2024, 5, 1, 10, 0)) == ts(2024, 5, 1, 10, 30)
    assert s.last_at_or_before(ts(2024, 5, 1, 10, 5), ts(2024, 5, 1, 10, 0)) is None


@pytest.mark.parametrize("bad", ["* * * *", "61 * * * *", "*/0 * * * *", "a b c d e", "5-1 * * * *", "* * 0 * *"])
def test_invalid_schedules(bad: str) -> None:
    """Wrong field counts, out-of-range values, zero steps and garbage are rejected."""
    with pytest.raises(CronError):
        CronSchedule.parse(bad)
