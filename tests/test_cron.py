"""Cron ticks in a timezone (spine.orchestration.cron): checks, daylight-saving days, ordering."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spine.orchestration.cron import cron_problem, latest_tick, next_ticks, previous_tick, ticks_between, timezone_problem

NY = "America/New_York"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


class TestChecks:
    @pytest.mark.parametrize("expr", ["0 6 * * 1", "*/15 9-17 * * 1-5", "@weekly", "@DAILY", "0 0 1 1 *"])
    def test_good_expressions_pass(self, expr: str) -> None:
        """Five fields and the aliases are accepted."""
        assert cron_problem(expr) is None

    @pytest.mark.parametrize(("expr", "says"), [
        ("0 6 * *", "has 4 field(s)"),
        ("0 6 * * 1 2024", "has 6 field(s)"),
        ("61 * * * *", "not a valid cron expression"),
        ("@weakly", "did you mean '@weekly'"),
        ("0 0 30 2 *", "never fires"),
        ("", "must be a cron expression"),
    ])
    def test_bad_expressions_say_why(self, expr: str, says: str) -> None:
        """Each bad expression gets a message naming what is wrong."""
        problem = cron_problem(expr)
        assert problem is not None and says in problem

    def test_an_unknown_timezone_suggests_the_closest(self) -> None:
        """A misspelt zone is refused with the closest IANA name."""
        assert "did you mean 'America/New_York'" in (timezone_problem("America/New_Yrok") or "")
        assert timezone_problem("../../etc/passwd") is not None
        assert timezone_problem(NY) is None and timezone_problem("UTC") is None


class TestDaylightSaving:
    def test_the_skipped_hour_fires_once_at_the_first_time_that_exists(self) -> None:
        """Spring forward (10 March 2024): 02:30 does not exist; the tick fires at 03:00, once."""
        got = ticks_between("30 2 * * *", NY, utc(2024, 3, 9, 12), utc(2024, 3, 11, 12))
        assert [t.isoformat() for t in got] == ["2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"]

    def test_the_repeated_hour_fires_once(self) -> None:
        """Fall back (3 November 2024): 01:30 happens twice; the daily tick fires once, at the first."""
        got = ticks_between("30 1 * * *", NY, utc(2024, 11, 2, 12), utc(2024, 11, 4, 12))
        assert [t.isoformat() for t in got] == ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]

    def test_each_wall_time_of_the_repeated_hour_fires_once(self) -> None:
        """A half-hourly schedule fires 01:00 and 01:30 once each on the fall-back day."""
        got = ticks_between("*/30 * * * *", NY, utc(2024, 11, 3, 4, 50), utc(2024, 11, 3, 8, 0))
        assert [t.strftime("%H:%M%z") for t in got] == ["01:00-0400", "01:30-0400", "02:00-0500", "02:30-0500", "03:00-0500"]


class TestTicks:
    def test_latest_and_previous_tick(self) -> None:
        """The latest tick at or before a time, and the tick before it (a data interval)."""
        t = latest_tick("0 6 * * 1", NY, utc(2024, 1, 8, 11, 0))
        assert t is not None and t.isoformat() == "2024-01-08T06:00:00-05:00"
        before = previous_tick("0 6 * * 1", NY, t)
        assert before is not None and before.isoformat() == "2024-01-01T06:00:00-05:00"
        assert latest_tick("0 6 * * 1", NY, utc(2024, 1, 8, 10, 59)) == before

    @settings(max_examples=60, deadline=None)
    @given(
        cron=st.sampled_from(["*/20 * * * *", "30 1 * * *", "0 2 * * *", "15 */3 * * *", "0 6 * * 1"]),
        zone=st.sampled_from([NY, "Europe/London", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]),
        start=st.datetimes(min_value=dt.datetime(2023, 1, 1), max_value=dt.datetime(2025, 12, 1), timezones=st.just(dt.UTC)),
    )
    def test_ticks_strictly_increase_and_each_wall_time_fires_once(self, cron: str, zone: str, start: dt.datetime) -> None:
        """Guarantee: ticks strictly increase in real time, and no local wall-clock time is a tick twice (DST days included)."""
        got = next_ticks(cron, zone, start, 60)
        assert all(a < b for a, b in zip(got, got[1:]))
        walls = [t.replace(tzinfo=None) for t in got]
        assert len(walls) == len(set(walls))
        assert all(t > start for t in got)
