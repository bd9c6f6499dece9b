"""Schedules: a cron expression and an IANA time zone per profile, and schedule jobs kept like Magento's
``cron_schedule`` (pending → running → success / error, or missed).

Fire times follow Debian cron's rules across daylight-saving changes (cronsim): a daily 02:30 job in
Europe/Berlin runs at 03:00 on the spring-forward day (02:30 does not exist) and once, not twice, on
the fall-back day. Times are computed in the profile's zone and stored in UTC.

One ``tick`` does what Magento's cron run does: write pending jobs ahead (``schedule_ahead_for``),
claim the jobs that are due (each claimed by exactly one worker), mark jobs nobody started within
``schedule_lifetime`` as missed (also those that fell into a time the workers were down), and clean
old job history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from sqlalchemy import Row, and_, delete, or_, select, update

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import chunked, insert_ignore, upsert
from plentysync.db.tables import profile, profile_schedule, schedule_job
from plentysync.errors import ConfigError

CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_CATCH_UP = timedelta(days=1)
"""How far back a planner that was down writes (missed) jobs, so downtime shows in the history."""


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    MISSED = "missed"


def normalize_cron(expr: str) -> str:
    """Validate a five-field cron expression (or an @alias) and return it in canonical spacing."""
    text = " ".join(expr.split())
    text = CRON_ALIASES.get(text.lower(), text)
    if not text.startswith("@") and len(text.split()) != 5:
        # cronsim also takes a sixth (seconds) field; a schedule job has minute resolution
        raise ConfigError(
            f"invalid cron expression {expr!r}: {len(text.split())} fields (five fields: minute hour day month weekday)"
        )
    try:
        CronSim(text, datetime.now(UTC))
    except CronSimError as exc:
        raise ConfigError(
            f"invalid cron expression {expr!r}: {exc} (five fields: minute hour day month weekday)"
        ) from None
    return text


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin or UTC)") from None


def fire_times(
    expr: str,
    tz_name: str,
    after: datetime,
    *,
    until: datetime | None = None,
    limit: int = 10_000,
) -> list[datetime]:
    """Fire times strictly after ``after`` and before ``until`` (or the first ``limit``), aware, in the zone."""
    tz = zone(tz_name)
    times: list[datetime] = []
    for when in CronSim(normalize_cron(expr), after.astimezone(tz)):
        if until is not None and when >= until:
            break
        times.append(when)
        if len(times) >= limit:
            break
    return times


def describe(expr: str) -> str:
    """Plain-language text of a cron expression ("Every 15th minute ...")."""
    return CronSim(normalize_cron(expr), datetime.now(UTC)).explain()


@dataclass(frozen=True)
class Schedule:
    profile_id: int
    cron_expr: str
    timezone: str
    enabled: bool
    planned_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Schedule:
        data = dict(row._mapping)
        data.pop("id", None)
        return cls(**data)


@dataclass(frozen=True)
class ScheduleJob:
    id: int
    profile_id: int
    job_code: str
    status: str
    scheduled_at: datetime
    created_at: datetime
    executed_at: datetime | None
    finished_at: datetime | None
    owner: str | None
    run_id: int | None
    message: str | None


@dataclass(frozen=True)
class ScheduleLimits:
    schedule_ahead_for: timedelta = timedelta(minutes=20)
    schedule_lifetime: timedelta = timedelta(minutes=15)
    history_success_lifetime: timedelta = timedelta(days=1)
    history_failure_lifetime: timedelta = timedelta(days=3)


@dataclass(frozen=True)
class TickResult:
    planned: int
    missed: int
    claimed: list[ScheduleJob]
    cleaned: int


class ScheduleService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        limits: ScheduleLimits | None = None,
    ) -> None:
        self.db = db
        self.clock: Clock = clock or db.clock
        self.limits = limits or ScheduleLimits()

    # -- per profile -----------------------------------------------------------------------------

    async def set(
        self,
        profile_id: int,
        cron_expr: str,
        timezone: str = "UTC",
        *,
        enabled: bool = True,
    ) -> Schedule:
        """Set (or replace) a profile's schedule. Pending jobs of the old schedule are dropped."""
        expr = normalize_cron(cron_expr)
        zone(timezone)
        now = self.clock.now()
        row = {
            "profile_id": profile_id,
            "cron_expr": expr,
            "timezone": timezone,
            "enabled": enabled,
            "planned_until": None,
            "created_at": now,
            "updated_at": now,
        }
        stmt = upsert(
            self.db.backend,
            profile_schedule,
            [row],
            ["profile_id"],
            lambda new: [
                (c, new(c))
                for c in (
                    "cron_expr",
                    "timezone",
                    "enabled",
                    "planned_until",
                    "updated_at",
                )
            ],
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)
            await conn.execute(self._drop_pending(profile_id))
        found = await self.get(profile_id)
        assert found is not None
        return found

    async def set_enabled(self, profile_id: int, enabled: bool) -> Schedule:
        async with self.db.begin() as conn:
            await conn.execute(
                update(profile_schedule)
                .where(profile_schedule.c.profile_id == profile_id)
                .values(enabled=enabled, planned_until=None, updated_at=self.clock.now())
            )
            await conn.execute(self._drop_pending(profile_id))
        found = await self.get(profile_id)
        if found is None:
            raise ConfigError("the profile has no schedule yet: set a cron expression first")
        return found

    async def clear(self, profile_id: int) -> bool:
        async with self.db.begin() as conn:
            await conn.execute(self._drop_pending(profile_id))
            result = await conn.execute(delete(profile_schedule).where(profile_schedule.c.profile_id == profile_id))
        return result.rowcount > 0

    async def drop_pending(self, profile_id: int) -> None:
        """Forget jobs written ahead for a profile (when it is disabled, say)."""
        async with self.db.begin() as conn:
            await conn.execute(self._drop_pending(profile_id))
            await conn.execute(
                update(profile_schedule).where(profile_schedule.c.profile_id == profile_id).values(planned_until=None)
            )

    def _drop_pending(self, profile_id: int) -> Any:
        return delete(schedule_job).where(
            schedule_job.c.profile_id == profile_id,
            schedule_job.c.status == JobStatus.PENDING.value,
        )

    async def get(self, profile_id: int) -> Schedule | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(profile_schedule).where(profile_schedule.c.profile_id == profile_id))
            ).first()
        return Schedule.from_row(row) if row else None

    async def next_runs(self, profile_id: int, count: int = 5) -> list[datetime]:
        schedule = await self.get(profile_id)
        if schedule is None or not schedule.enabled:
            return []
        return fire_times(schedule.cron_expr, schedule.timezone, self.clock.now(), limit=count)

    async def jobs(
        self,
        profile_id: int | None = None,
        *,
        limit: int = 20,
        statuses: list[str] | None = None,
    ) -> list[ScheduleJob]:
        query = select(schedule_job).order_by(schedule_job.c.scheduled_at.desc(), schedule_job.c.id.desc()).limit(limit)
        if profile_id is not None:
            query = query.where(schedule_job.c.profile_id == profile_id)
        if statuses:
            query = query.where(schedule_job.c.status.in_(statuses))
        async with self.db.read() as conn:
            return [ScheduleJob(**row._mapping) for row in (await conn.execute(query)).all()]

    # -- the cron loop ---------------------------------------------------------------------------

    async def plan(self) -> int:
        """Write pending jobs for every enabled schedule of an enabled profile, up to now + ahead_for."""
        now = self.clock.now()
        horizon = now + self.limits.schedule_ahead_for
        query = (
            select(profile_schedule, profile.c.type_id)
            .join(profile, profile.c.id == profile_schedule.c.profile_id)
            .where(profile_schedule.c.enabled.is_(True), profile.c.enabled.is_(True))
        )
        async with self.db.read() as conn:
            schedules = (await conn.execute(query)).all()
        written = 0
        for row in schedules:
            start = row.planned_until or now
            start = max(start, now - MAX_CATCH_UP)
            if start >= horizon:
                continue
            times = fire_times(
                row.cron_expr,
                row.timezone,
                start - timedelta(microseconds=1),
                until=horizon,
            )
            jobs = [
                {
                    "profile_id": row.profile_id,
                    "job_code": row.type_id,
                    "status": JobStatus.PENDING.value,
                    "scheduled_at": when.astimezone(UTC),
                    "created_at": now,
                }
                for when in times
            ]
            async with self.db.begin() as conn:
                for chunk in chunked(jobs, 500):
                    await conn.execute(
                        insert_ignore(
                            self.db.backend,
                            schedule_job,
                            list(chunk),
                            ["profile_id", "scheduled_at"],
                        )
                    )
                await conn.execute(
                    update(profile_schedule)
                    .where(
                        profile_schedule.c.profile_id == row.profile_id,
                        or_(
                            profile_schedule.c.planned_until.is_(None),
                            profile_schedule.c.planned_until < horizon,
                        ),
                    )
                    .values(planned_until=horizon)
                )
            written += len(jobs)
        return written

    async def claim_due(self, owner: str) -> list[ScheduleJob]:
        """Claim, per profile, the latest due job. Older due jobs of the same profile are marked missed
        (superseded: one run catches up on everything), as are jobs past their lifetime."""
        now = self.clock.now()
        oldest_allowed = now - self.limits.schedule_lifetime
        query = (
            select(schedule_job, profile.c.enabled.label("profile_enabled"))
            .join(profile, profile.c.id == schedule_job.c.profile_id)
            .where(
                schedule_job.c.status == JobStatus.PENDING.value,
                schedule_job.c.scheduled_at <= now,
            )
            .order_by(schedule_job.c.profile_id, schedule_job.c.scheduled_at)
        )
        async with self.db.read() as conn:
            due = (await conn.execute(query)).all()
        by_profile: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in due:
            by_profile[row.profile_id].append(row)
        claimed: list[ScheduleJob] = []
        for rows in by_profile.values():
            latest = rows[-1]
            for older in rows[:-1]:
                await self._mark(
                    older.id,
                    JobStatus.MISSED,
                    f"superseded by the run scheduled at {_fmt(latest.scheduled_at)}",
                )
            if not latest.profile_enabled:
                await self._mark(latest.id, JobStatus.MISSED, "profile is disabled")
                continue
            if latest.scheduled_at < oldest_allowed:
                await self._mark(
                    latest.id,
                    JobStatus.MISSED,
                    _too_late(self.limits.schedule_lifetime),
                )
                continue
            stmt = (
                update(schedule_job)
                .where(
                    schedule_job.c.id == latest.id,
                    schedule_job.c.status == JobStatus.PENDING.value,
                )
                .values(status=JobStatus.RUNNING.value, executed_at=now, owner=owner)
            )
            async with self.db.begin() as conn:
                won = (await conn.execute(stmt)).rowcount == 1
            if won:
                job = dict(latest._mapping)
                job.pop("profile_enabled")
                job.update(status=JobStatus.RUNNING.value, executed_at=now, owner=owner)
                claimed.append(ScheduleJob(**job))
        return claimed

    async def mark_missed(self) -> int:
        """Pending jobs not started within schedule_lifetime of their time become missed."""
        cutoff = self.clock.now() - self.limits.schedule_lifetime
        stmt = (
            update(schedule_job)
            .where(
                schedule_job.c.status == JobStatus.PENDING.value,
                schedule_job.c.scheduled_at < cutoff,
            )
            .values(
                status=JobStatus.MISSED.value,
                message=_too_late(self.limits.schedule_lifetime),
            )
        )
        async with self.db.begin() as conn:
            return (await conn.execute(stmt)).rowcount

    async def finish(
        self,
        job_id: int,
        *,
        success: bool,
        message: str | None = None,
        run_id: int | None = None,
    ) -> None:
        status = JobStatus.SUCCESS if success else JobStatus.ERROR
        async with self.db.begin() as conn:
            await conn.execute(
                update(schedule_job)
                .where(schedule_job.c.id == job_id)
                .values(
                    status=status.value,
                    finished_at=self.clock.now(),
                    message=message,
                    run_id=run_id,
                )
            )

    async def clean(self) -> int:
        """Delete finished jobs past their history lifetime (success and error/missed separately)."""
        now = self.clock.now()
        ok = and_(
            schedule_job.c.status == JobStatus.SUCCESS.value,
            schedule_job.c.scheduled_at < now - self.limits.history_success_lifetime,
        )
        failed = and_(
            schedule_job.c.status.in_([JobStatus.ERROR.value, JobStatus.MISSED.value]),
            schedule_job.c.scheduled_at < now - self.limits.history_failure_lifetime,
        )
        async with self.db.begin() as conn:
            return (await conn.execute(delete(schedule_job).where(or_(ok, failed)))).rowcount

    async def tick(self, owner: str) -> TickResult:
        planned = await self.plan()
        claimed = await self.claim_due(owner)
        missed = await self.mark_missed()
        cleaned = await self.clean()
        return TickResult(planned=planned, missed=missed, claimed=claimed, cleaned=cleaned)

    async def _mark(self, job_id: int, status: JobStatus, message: str) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(schedule_job)
                .where(
                    schedule_job.c.id == job_id,
                    schedule_job.c.status == JobStatus.PENDING.value,
                )
                .values(status=status.value, message=message)
            )


def _fmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _too_late(lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    return f"not started within {minutes} min of its time (was a worker running?)"
