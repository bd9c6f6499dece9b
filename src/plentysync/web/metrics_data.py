"""What ``/metrics`` reports, read from the state database in one read transaction per scrape.

Every query is an aggregate over an index or a small table (workers, budgets), so a scrape stays cheap
however long the queue or the run history is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.db import Backend
from plentysync.db.tables import api_budget, profile, profile_run, queue_item, stock_drift, worker
from plentysync.engine.queue import QueueStatus

DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""Upper bounds (seconds) of the run duration histogram."""
DURATION_WINDOW = timedelta(hours=24)
"""The run duration histogram covers the runs started this long ago at most."""
WORKER_WINDOW = timedelta(hours=24)
"""Workers whose last heartbeat is older than this are left out (their series end)."""
PERSISTENT_DRIFT = 2
"""Sweeps in a row after which a divergent SKU counts as persistently drifting."""


@dataclass(frozen=True)
class LastRun:
    profile: str
    status: str
    duration_seconds: float | None
    finished_at: datetime | None


@dataclass(frozen=True)
class DurationHistogram:
    profile: str
    cumulative: tuple[int, ...]
    """Runs with duration <= each of :data:`DURATION_BUCKETS`, then all runs (+Inf)."""
    total_seconds: float


@dataclass(frozen=True)
class WorkerRow:
    name: str
    state: str
    heartbeat_age_seconds: float
    alive: bool
    api_calls: list[dict[str, Any]]


@dataclass(frozen=True)
class BudgetRow:
    account: str
    kind: str
    windows: dict[str, Any]
    holders: dict[str, Any]
    blocked_until: float | None
    throttled: int


@dataclass
class MetricsData:
    now: datetime
    queue_rows: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_pending_seconds: dict[str, float] = field(default_factory=dict)
    last_runs: list[LastRun] = field(default_factory=list)
    runs: dict[tuple[str, str], int] = field(default_factory=dict)
    durations: list[DurationHistogram] = field(default_factory=list)
    workers: list[WorkerRow] = field(default_factory=list)
    budgets: list[BudgetRow] = field(default_factory=list)
    drift_skus: int = 0
    drift_persistent_skus: int = 0


def duration_seconds(backend: Backend, started: Any, finished: Any) -> ColumnElement[Any]:
    """``finished - started`` in seconds, as each backend computes it."""
    if backend == "postgresql":
        return func.extract("epoch", finished - started)
    if backend == "mariadb":
        return func.timestampdiff(literal_column("MICROSECOND"), started, finished) / 1_000_000.0
    return (func.julianday(finished) - func.julianday(started)) * 86_400.0


async def read_queue(conn: AsyncConnection, data: MetricsData) -> None:
    q = queue_item
    for ptype, status, rows in await conn.execute(
        select(q.c.profile_type, q.c.status, func.count()).group_by(q.c.profile_type, q.c.status)
    ):
        data.queue_rows[(ptype, status)] = int(rows)
    for ptype, oldest in await conn.execute(
        select(q.c.profile_type, func.min(q.c.updated_at))
        .where(q.c.status == QueueStatus.PENDING.value)
        .group_by(q.c.profile_type)
    ):
        if oldest is not None:
            data.oldest_pending_seconds[ptype] = max(0.0, (data.now - oldest).total_seconds())


async def _runs(conn: AsyncConnection, backend: Backend, data: MetricsData) -> None:
    r = profile_run
    last = await conn.execute(
        select(profile.c.type_id, r.c.status, r.c.started_at, r.c.finished_at).join(r, r.c.id == profile.c.last_run_id)
    )
    for ptype, status, started, finished in last:
        duration = None if finished is None else (finished - started).total_seconds()
        data.last_runs.append(LastRun(ptype, status, duration, finished))
    for ptype, status, runs in await conn.execute(
        select(r.c.type_id, r.c.status, func.count()).group_by(r.c.type_id, r.c.status)
    ):
        data.runs[(ptype, status)] = int(runs)
    seconds = duration_seconds(backend, r.c.started_at, r.c.finished_at)
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in DURATION_BUCKETS]
    finished_recently = and_(
        r.c.started_at >= data.now - DURATION_WINDOW,
        r.c.finished_at.is_not(None),
        r.c.dry_run.is_(False),
    )
    for row in await conn.execute(
        select(r.c.type_id, func.count(), func.coalesce(func.sum(seconds), 0.0), *columns)
        .where(finished_recently)
        .group_by(r.c.type_id)
    ):
        ptype, count, total, *buckets = row
        cumulative = (*(int(b or 0) for b in buckets), int(count))
        data.durations.append(DurationHistogram(ptype, cumulative, float(total or 0.0)))


async def _workers(conn: AsyncConnection, data: MetricsData, lost_after: float) -> None:
    w = worker
    rows = await conn.execute(
        select(w.c.name, w.c.state, w.c.heartbeat_at, w.c.info)
        .where(w.c.heartbeat_at >= data.now - WORKER_WINDOW)
        .order_by(w.c.name)
    )
    for name, state, heartbeat_at, info in rows:
        age = max(0.0, (data.now - heartbeat_at).total_seconds())
        calls = info.get("api_calls") if isinstance(info, dict) else None
        data.workers.append(
            WorkerRow(
                name=name,
                state=state,
                heartbeat_age_seconds=age,
                alive=state in ("running", "stopping") and age <= lost_after,
                api_calls=[c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else [],
            )
        )


async def _budgets(conn: AsyncConnection, data: MetricsData) -> None:
    b = api_budget
    for account, kind, windows, holders, blocked_until, throttled in await conn.execute(
        select(b.c.account, b.c.kind, b.c.windows, b.c.holders, b.c.blocked_until, b.c.throttled).order_by(
            b.c.account, b.c.kind
        )
    ):
        data.budgets.append(
            BudgetRow(
                account=account,
                kind=kind,
                windows=windows if isinstance(windows, dict) else {},
                holders=holders if isinstance(holders, dict) else {},
                blocked_until=None if blocked_until is None else float(blocked_until),
                throttled=int(throttled or 0),
            )
        )


async def read_drift(conn: AsyncConnection, data: MetricsData) -> None:
    persistent = func.coalesce(func.sum(case((stock_drift.c.consecutive >= PERSISTENT_DRIFT, 1), else_=0)), 0)
    total, lasting = (await conn.execute(select(func.count(), persistent).select_from(stock_drift))).one()
    data.drift_skus, data.drift_persistent_skus = int(total), int(lasting)


async def read_metrics_data(
    conn: AsyncConnection, backend: Backend, now: datetime, *, lost_after: float
) -> MetricsData:
    data = MetricsData(now=now)
    await read_queue(conn, data)
    await _runs(conn, backend, data)
    await _workers(conn, data, lost_after)
    await _budgets(conn, data)
    await read_drift(conn, data)
    return data
