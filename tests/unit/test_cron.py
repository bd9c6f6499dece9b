"""Cron expressions and fire times across daylight-saving changes (pure, no database)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plentysync.engine.schedule import describe, fire_times, normalize_cron, zone
from plentysync.errors import ConfigError

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("first", "change_day", "expected_local"),
    [(date(2026, 3, 28), date(2026, 3, 29), "03:00 CEST"), (date(2026, 10, 24), date(2026, 10, 25), "02:30 CEST")],
)
def test_daily_job_fires_once_on_each_dst_change_day(first: date, change_day: date, expected_local: str) -> None:
    start = datetime.combine(first, datetime.min.time(), BERLIN)
    times = fire_times("30 2 * * *", "Europe/Berlin", start, until=start + timedelta(days=3))
    per_day = Counter(t.date() for t in times)
    assert list(per_day.values()) == [1, 1, 1]
    [on_change] = [t for t in times if t.date() == change_day]
    assert on_change.strftime("%H:%M %Z") == expected_local
    utc_times = [t.astimezone(UTC) for t in times]
    assert utc_times == sorted(set(utc_times))


def test_repeated_hour_runs_both_half_hours() -> None:
    start = datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN)
    times = fire_times("*/30 * * * *", "Europe/Berlin", start, limit=5)
    assert [t.strftime("%H:%M%z") for t in times] == [
        "01:30+0200",
        "02:00+0200",
        "02:30+0200",
        "02:00+0100",
        "02:30+0100",
    ]


def test_aliases_and_validation() -> None:
    assert normalize_cron("@hourly") == "0 * * * *"
    assert normalize_cron("  */15   *  * * * ") == "*/15 * * * *"
    assert describe("*/15 9-17 * * 1-5").startswith("Every 15th minute")
    with pytest.raises(ConfigError, match="invalid cron expression '61 \\* \\* \\* \\*'"):
        normalize_cron("61 * * * *")
    with pytest.raises(ConfigError, match="five fields"):
        normalize_cron("* * * *")
    with pytest.raises(ConfigError, match=r"'0 \*/5 \* \* \* \*': 6 fields \(five fields"):
        normalize_cron("0 */5 * * * *")
    with pytest.raises(ConfigError, match="five fields"):
        normalize_cron("")
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
)
def test_fire_times_are_increasing_and_real_local_times(minute: int, hour: int, tz: str, start: datetime) -> None:
    times = fire_times(f"{minute} {hour} * * *", tz, start, limit=40)
    utc_times = [t.astimezone(UTC) for t in times]
    assert all(a < b for a, b in itertools.pairwise(utc_times))
    assert utc_times[0] > start
    for t in times:
        # a time that exists: converting to UTC and back gives the same wall clock
        back = t.astimezone(UTC).astimezone(ZoneInfo(tz))
        assert (back.hour, back.minute) == (t.hour, t.minute)
    # at most one run per local day for a daily job
    assert max(Counter(t.date() for t in times).values()) == 1
