"""Schedules and schedule jobs on every backend, including both daylight-saving days in Berlin."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plentysync.clock import ManualClock
from plentysync.db import Database
from plentysync.engine.schedule import JobStatus
from plentysync.engine.services import Engine
from tests.support import ProfileTypeBuilder, make_engine

pytestmark = [pytest.mark.anyio, pytest.mark.db]
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 6, 1, 10, 0, tzinfo=UTC))


@pytest.fixture
async def engine(db: Database, clock: ManualClock) -> Engine:
    return make_engine(db, ProfileTypeBuilder().build(), clock=clock)


async def enabled_profile(engine: Engine, cron: str, tz: str = "UTC") -> int:
    record = await engine.profiles.create("plenty_test_export", enabled=True)
    await engine.schedules.set(record.id, cron, tz)
    return record.id


async def simulate(engine: Engine, clock: ManualClock, until: datetime, step: timedelta) -> list[datetime]:
    """Tick like a worker every ``step``; every claimed job "runs" and succeeds. Returns run times."""
    ran = []
    while clock.now() < until:
        result = await engine.schedules.tick("worker-1")
        for job in result.claimed:
            ran.append(job.scheduled_at)
            await engine.schedules.finish(job.id, success=True)
        clock.advance(step)
    return ran


@pytest.mark.parametrize(
    ("start", "days"),
    [
        (datetime(2026, 3, 27, 12, 0, tzinfo=BERLIN), [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]),
        (datetime(2026, 10, 24, 0, 0, tzinfo=BERLIN), [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]),
    ],
    ids=["spring-forward", "fall-back"],
)
async def test_daily_0230_runs_exactly_once_on_dst_change_days(
    engine: Engine, clock: ManualClock, start: datetime, days: list[date]
) -> None:
    clock.set(start.astimezone(UTC))
    profile_id = await enabled_profile(engine, "30 2 * * *", "Europe/Berlin")
    ran = await simulate(engine, clock, (start + timedelta(days=3, hours=12)).astimezone(UTC), timedelta(minutes=14))
    per_day = Counter(when.astimezone(BERLIN).date() for when in ran)
    assert [per_day[d] for d in days] == [1, 1, 1]
    local = {when.astimezone(BERLIN).date(): when.astimezone(BERLIN) for when in ran}
    if days[0].month == 3:
        assert local[date(2026, 3, 29)].strftime("%H:%M %Z") == "03:00 CEST"  # 02:30 does not exist that day
    else:
        assert local[date(2026, 10, 25)].strftime("%H:%M %Z") == "02:30 CEST"  # the first of the two 02:30s
    jobs = await engine.schedules.jobs(profile_id, limit=100)
    assert all(job.status == JobStatus.SUCCESS for job in jobs)


async def test_plan_writes_ahead_once_and_claims_once(engine: Engine, clock: ManualClock) -> None:
    profile_id = await enabled_profile(engine, "*/5 * * * *")
    assert await engine.schedules.plan() == 4  # 10:00, 10:05, 10:10, 10:15 (ahead for 20 min)
    assert await engine.schedules.plan() == 0  # a second planner (or tick) writes nothing twice
    first = await engine.schedules.claim_due("worker-a")
    second = await engine.schedules.claim_due("worker-b")
    assert [job.scheduled_at for job in first] == [clock.now()]
    assert second == []
    clock.advance(timedelta(minutes=6))
    await engine.schedules.plan()
    [job] = await engine.schedules.claim_due("worker-b")
    assert job.scheduled_at == datetime(2026, 6, 1, 10, 5, tzinfo=UTC)
    assert job.owner == "worker-b"
    jobs = {j.scheduled_at.minute: j.status for j in await engine.schedules.jobs(profile_id, limit=50)}
    assert jobs[0] == "running"
    assert jobs[5] == "running"
    assert jobs[10] == "pending"


async def test_late_jobs_are_superseded_or_missed(engine: Engine, clock: ManualClock) -> None:
    profile_id = await enabled_profile(engine, "* * * * *")
    await engine.schedules.plan()
    clock.advance(timedelta(minutes=5))
    [job] = await engine.schedules.claim_due("w")
    assert job.scheduled_at == clock.now()  # one run catches up on all the due ones
    statuses = Counter(j.status for j in await engine.schedules.jobs(profile_id, limit=100))
    assert statuses["missed"] == 5
    assert statuses["running"] == 1


async def test_worker_downtime_shows_as_missed_runs(engine: Engine, clock: ManualClock) -> None:
    profile_id = await enabled_profile(engine, "0 * * * *")
    await engine.schedules.tick("w")
    clock.advance(timedelta(hours=5))  # no worker for five hours
    result = await engine.schedules.tick("w")
    assert len(result.claimed) == 1
    missed = await engine.schedules.jobs(profile_id, statuses=["missed"], limit=100)
    assert len(missed) == 4
    assert all(job.message == "superseded by the run scheduled at 2026-06-01 15:00 UTC" for job in missed)


async def test_disabled_profile_and_schedule_change(engine: Engine, clock: ManualClock) -> None:
    profile_id = await enabled_profile(engine, "*/10 * * * *")
    await engine.schedules.plan()
    await engine.profiles.set_enabled(profile_id, False)
    clock.advance(timedelta(minutes=1))
    assert await engine.schedules.claim_due("w") == []
    assert (await engine.schedules.jobs(profile_id, limit=1, statuses=["missed"]))[0].message == "profile is disabled"
    await engine.profiles.set_enabled(profile_id, True)
    await engine.schedules.set(profile_id, "0 3 * * *", "Europe/Berlin")
    assert await engine.schedules.jobs(profile_id, statuses=["pending"]) == []
    assert (await engine.schedules.next_runs(profile_id, 1))[0] == datetime(2026, 6, 2, 3, 0, tzinfo=BERLIN)


async def test_job_history_is_cleaned(engine: Engine, clock: ManualClock) -> None:
    profile_id = await enabled_profile(engine, "0 * * * *")
    for _ in range(3):
        for job in (await engine.schedules.tick("w")).claimed:
            await engine.schedules.finish(job.id, success=True)
        clock.advance(timedelta(hours=1))
    clock.advance(timedelta(days=1, hours=1))
    assert (await engine.schedules.tick("w")).cleaned >= 3
    assert not [j for j in await engine.schedules.jobs(profile_id, limit=100) if j.status == "success"]


async def test_scheduler_pass_runs_due_profiles_and_records_the_outcome(engine: Engine, clock: ManualClock) -> None:
    from plentysync.engine.runner import ProfileRunner
    from plentysync.engine.scheduler import run_due_jobs

    profile_id = await enabled_profile(engine, "*/5 * * * *")
    await engine.queue.enqueue("plenty_test_export", ["A", "B"], reason="manual")
    first = await run_due_jobs(engine, ProfileRunner(engine, owner="cron-host"))
    [outcome] = first.outcomes
    assert first.ok
    assert (outcome.status, outcome.profile) == ("success", "plenty_test_export")
    [job] = await engine.schedules.jobs(profile_id, statuses=["success"])
    assert job.run_id == outcome.run_id
    run = await engine.history.get(job.run_id)  # type: ignore[arg-type]
    assert (run.trigger, run.processed) == ("cron", 2)
    assert first.history_runs_deleted == 0
    # a profile disabled meanwhile: its due job is missed, nothing runs
    await engine.profiles.set_enabled(profile_id, False)
    clock.advance(timedelta(minutes=5))
    second = await run_due_jobs(engine, ProfileRunner(engine, owner="cron-host"))
    assert second.outcomes == []
    # history past its lifetime (30 days by default) goes in the same pass
    clock.advance(timedelta(days=31))
    third = await run_due_jobs(engine, ProfileRunner(engine, owner="cron-host"))
    assert third.history_runs_deleted == 1
    assert await engine.history.count() == 0
