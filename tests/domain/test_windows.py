"""When an environment opens next: DST changes, windows past midnight, deny windows over open ones, the week's end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rollwright.domain.windows import DenyWindow, DeployWindow, break_glass_problem, closed_until

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = DeployWindow(days="mon-fri", start=time(9), end=time(16), tz="Europe/Berlin")


def test_inside_a_window_the_environment_is_open_and_without_windows_always() -> None:
    tuesday_noon = datetime(2026, 6, 2, 12, 0, tzinfo=BERLIN)
    assert closed_until(tuesday_noon, [OFFICE], []) is None
    assert closed_until(tuesday_noon, [], []) is None


def test_after_hours_it_opens_the_next_morning_in_the_windows_own_zone() -> None:
    closed = closed_until(datetime(2026, 6, 2, 16, 0, tzinfo=BERLIN), [OFFICE], [])
    assert closed is not None
    # 09:00 in Berlin in summer is 07:00 UTC.
    assert closed.until == datetime(2026, 6, 3, 7, 0, tzinfo=UTC)
    assert "mon-fri 09:00-16:00 Europe/Berlin" in closed.reason


def test_a_friday_evening_opens_on_monday_across_the_spring_dst_change() -> None:
    # Europe/Berlin goes from +01:00 to +02:00 on Sunday 2026-03-29: Monday 09:00 is 07:00 UTC, Friday's was 08:00.
    closed = closed_until(datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN), [OFFICE], [])
    assert closed is not None
    assert closed.until == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert closed_until(datetime(2026, 3, 30, 7, 0, tzinfo=UTC), [OFFICE], []) is None
    assert closed_until(datetime(2026, 3, 27, 8, 0, tzinfo=UTC), [OFFICE], []) is None


def test_the_autumn_dst_change_keeps_the_window_on_local_time() -> None:
    # Back to +01:00 on Sunday 2026-10-25: Monday's 16:00 close is 15:00 UTC, so 15:30 UTC is closed.
    closed = closed_until(datetime(2026, 10, 26, 15, 30, tzinfo=UTC), [OFFICE], [])
    assert closed is not None
    assert closed.until == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)


def test_a_window_past_midnight_belongs_to_the_day_it_opened() -> None:
    night = DeployWindow(days="fri", start=time(22), end=time(2), tz="UTC")
    assert closed_until(datetime(2026, 6, 6, 1, 30, tzinfo=UTC), [night], []) is None  # Saturday 01:30
    closed = closed_until(datetime(2026, 6, 6, 2, 0, tzinfo=UTC), [night], [])
    assert closed is not None
    assert closed.until == datetime(2026, 6, 12, 22, 0, tzinfo=UTC)  # the next Friday


def test_a_saturday_waits_for_monday_across_the_weeks_end() -> None:
    weekdays = DeployWindow(days="mon-fri", start=time(9), end=time(17), tz="UTC")
    closed = closed_until(datetime(2026, 6, 6, 10, 0, tzinfo=UTC), [weekdays], [])
    assert closed is not None
    assert closed.until == datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    # A range that wraps the week: fri-mon is open on Sunday, closed on Tuesday until Friday.
    long_weekend = DeployWindow(days="fri-mon", start=time(9), end=time(17), tz="UTC")
    assert closed_until(datetime(2026, 6, 7, 10, 0, tzinfo=UTC), [long_weekend], []) is None
    closed = closed_until(datetime(2026, 6, 9, 10, 0, tzinfo=UTC), [long_weekend], [])
    assert closed is not None
    assert closed.until == datetime(2026, 6, 12, 9, 0, tzinfo=UTC)


def test_a_deny_window_closes_an_open_window_and_opens_at_the_next_window_after_it() -> None:
    holidays = DenyWindow(
        start=datetime(2026, 12, 24, tzinfo=BERLIN), end=datetime(2026, 12, 28, 12, 0, tzinfo=BERLIN), reason="xmas"
    )
    closed = closed_until(datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN), [OFFICE], [holidays])
    assert closed is not None
    assert "xmas" in closed.reason
    # The deny window ends inside Monday's window: open right then (12:00 Berlin = 11:00 UTC in winter).
    assert closed.until == datetime(2026, 12, 28, 11, 0, tzinfo=UTC)
    # Ending after hours, it opens at the next window's start instead.
    late = holidays.model_copy(update={"end": datetime(2026, 12, 28, 18, 0, tzinfo=BERLIN)})
    closed = closed_until(datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN), [OFFICE], [late])
    assert closed is not None
    assert closed.until == datetime(2026, 12, 29, 8, 0, tzinfo=UTC)


def test_deny_windows_alone_and_back_to_back() -> None:
    first = DenyWindow(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 2, tzinfo=UTC), reason="a")
    second = DenyWindow(start=datetime(2026, 1, 2, tzinfo=UTC), end=datetime(2026, 1, 3, tzinfo=UTC), reason="b")
    closed = closed_until(datetime(2026, 1, 1, 5, tzinfo=UTC), [], [first, second])
    assert closed is not None
    assert closed.until == datetime(2026, 1, 3, tzinfo=UTC)
    assert closed_until(datetime(2026, 1, 3, tzinfo=UTC), [], [first, second]) is None


def test_an_environment_that_never_opens_is_rechecked_later_not_looped_on() -> None:
    forever = DenyWindow(
        start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=3650), reason="x"
    )
    now = datetime(2026, 2, 1, tzinfo=UTC)
    closed = closed_until(now, [OFFICE], [forever])
    assert closed is not None
    assert closed.until > now


def test_break_glass_needs_an_allowed_group() -> None:
    assert break_glass_problem(("sre",), ("sre", "release-managers"), "prod") is None
    problem = break_glass_problem(("dev",), ("sre",), "prod")
    assert problem is not None
    assert "needs a member of sre" in problem
    assert "dev" in problem
    assert "allows no break-glass" in str(break_glass_problem(("sre",), (), "prod"))
