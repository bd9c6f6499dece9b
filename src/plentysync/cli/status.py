"""``plentysync status``: the whole installation on one screen, and an exit code for monitoring.

Everything comes from the state database in a handful of cheap queries: one read transaction for the
profiles, their schedules, runs, queue counts, error samples and drift, plus the worker heartbeats
(:func:`plentysync.cli.worker.load_workers`) and the shared API budgets
(:func:`plentysync.http.shared_budget.load_budgets`). The queue and drift aggregates are the ones
``/metrics`` reads (:mod:`plentysync.web.metrics_data`), so both report the same numbers.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from cyclopts import Parameter
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import console, emit, fmt_duration, fmt_time, styled, table
from plentysync.cli.worker import load_workers, render_workers
from plentysync.db.tables import profile as profile_table
from plentysync.db.tables import profile_run, profile_schedule, queue_item, schedule_job
from plentysync.engine.history import RunRecord
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.queue import QueueStatus
from plentysync.engine.schedule import JobStatus, fire_times
from plentysync.engine.services import Engine
from plentysync.http.shared_budget import SharedBudgetSnapshot, load_budgets
from plentysync.web.accounts import account_label
from plentysync.web.metrics_data import MetricsData, read_drift, read_queue

RECENT = timedelta(hours=24)
"""Run statistics, failed runs and unfinished runs are looked up in this window (the started_at index)."""
ERROR_SAMPLES = 10
"""Queue rows in error shown by key (the count covers all of them)."""
FAILED_RUNS_SHOWN = 10
ALIVE_STATES = ("running", "stopping")
QUEUE_DEPTH_WARNING = 100
QUEUE_DEPTH_CRITICAL = 1000
"""Rows waiting (pending + processing) above which a queue counts as deep (the connector's thresholds)."""
# Columns of profile_run without the (possibly large) messages JSON.
_RUN_COLUMNS = [c for c in profile_run.c if c.name != "messages"]


@dataclass
class _Snapshot:
    """What the read transaction returned."""

    now: datetime
    profiles: list[ProfileRecord]
    schedules: dict[int, Any] = field(default_factory=dict)
    next_jobs: dict[int, datetime] = field(default_factory=dict)
    runs: dict[int, RunRecord] = field(default_factory=dict)
    """Last runs, current runs (run lease), and unfinished or failed runs of the recent window, by id."""
    runs_recent: dict[tuple[str, str], int] = field(default_factory=dict)
    lease_owners: set[str] = field(default_factory=set)
    """Owners of live queue leases: a run that holds rows is alive."""
    error_rows: list[dict[str, Any]] = field(default_factory=list)
    metrics: MetricsData | None = None


def _run_record(row: Any) -> RunRecord:
    return RunRecord(**{**row._mapping, "messages": None})


async def _read(conn: AsyncConnection, engine: Engine, only: ProfileRecord | None) -> _Snapshot:
    now = engine.clock.now()
    p, r, q = profile_table, profile_run, queue_item
    query = select(p).order_by(p.c.id)
    if only is not None:
        query = query.where(p.c.id == only.id)
    snap = _Snapshot(now=now, profiles=[ProfileRecord.from_row(row) for row in (await conn.execute(query)).all()])
    ids = [rec.id for rec in snap.profiles]
    if ids:
        for row in await conn.execute(select(profile_schedule).where(profile_schedule.c.profile_id.in_(ids))):
            snap.schedules[row.profile_id] = row
        for profile_id, when in await conn.execute(
            select(schedule_job.c.profile_id, func.min(schedule_job.c.scheduled_at))
            .where(schedule_job.c.status == JobStatus.PENDING.value, schedule_job.c.profile_id.in_(ids))
            .group_by(schedule_job.c.profile_id)
        ):
            snap.next_jobs[profile_id] = when
        known = {rec.last_run_id for rec in snap.profiles} | {rec.current_run_id for rec in snap.profiles}
        known.discard(None)
        recent = and_(
            r.c.started_at >= now - RECENT,
            r.c.profile_id.in_(ids),
            or_(r.c.finished_at.is_(None), r.c.status == RunStatus.FAILED.value),
        )
        wanted = or_(r.c.id.in_(sorted(i for i in known if i is not None)), recent) if known else recent
        for row in await conn.execute(select(*_RUN_COLUMNS).where(wanted).order_by(r.c.started_at.desc())):
            snap.runs[row.id] = _run_record(row)
        for type_id, status, count in await conn.execute(
            select(r.c.type_id, r.c.status, func.count())
            .where(r.c.started_at >= now - RECENT, r.c.profile_id.in_(ids), r.c.dry_run.is_(False))
            .group_by(r.c.type_id, r.c.status)
        ):
            snap.runs_recent[(type_id, status)] = int(count)
        if any(run.finished_at is None for run in snap.runs.values()):
            owners = select(q.c.lease_owner).where(
                q.c.status == QueueStatus.PROCESSING.value, q.c.lease_expires_at > now, q.c.lease_owner.is_not(None)
            )
            snap.lease_owners = {owner for (owner,) in await conn.execute(owners.distinct())}
    metrics = MetricsData(now=now)
    await read_queue(conn, metrics)
    await read_drift(conn, metrics)
    snap.metrics = metrics
    in_scope = [(t, s) for (t, s) in metrics.queue_rows if only is None or t == only.type_id]
    if any(s == QueueStatus.ERROR.value and metrics.queue_rows[(t, s)] for t, s in in_scope):
        errors = (
            select(q.c.profile_type, q.c.entity_key, q.c.attempts, q.c.message, q.c.updated_at)
            .where(q.c.status == QueueStatus.ERROR.value)
            .order_by(q.c.updated_at.desc(), q.c.id.desc())
            .limit(ERROR_SAMPLES)
        )
        if only is not None:
            errors = errors.where(q.c.profile_type == only.type_id)
        snap.error_rows = [dict(row._mapping) for row in await conn.execute(errors)]
    return snap


# -- shaping ---------------------------------------------------------------------------------------


def _run_data(run: RunRecord) -> dict[str, Any]:
    duration = run.duration
    return {
        "id": run.id,
        "status": run.status,
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "owner": run.owner,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": None if duration is None else round(duration.total_seconds(), 3),
        "processed": run.processed,
        "succeeded": run.succeeded,
        "errors": run.errors,
        "skipped": run.skipped,
        "message": run.message,
    }


def _run_alive(
    run: RunRecord, record: ProfileRecord, snap: _Snapshot, workers: Sequence[dict[str, Any]], lease: timedelta
) -> bool:
    """An unfinished run counts as running when something shows that its process still works on it: the
    profile's run lease, a live worker that owns it (and started before it), live queue leases, or a
    start more recent than one lease. Otherwise its process died before it could write the end."""
    owner = run.owner or ""
    if record.run_owner == owner and record.run_expires_at is not None and record.run_expires_at > snap.now:
        return True
    for w in workers:
        if w["state"] in ALIVE_STATES and owner.startswith(f"{w['name']}:") and run.started_at >= w["started_at"]:
            return True
    return owner in snap.lease_owners or snap.now - run.started_at < lease


def _next_run(record: ProfileRecord, snap: _Snapshot) -> dict[str, Any] | None:
    schedule = snap.schedules.get(record.id)
    if not record.enabled or schedule is None or not schedule.enabled:
        return None
    job = snap.next_jobs.get(record.id)
    if job is not None:
        return {
            "at": job,
            "source": "schedule_job",
            "overdue_seconds": round(max(0.0, (snap.now - job).total_seconds())),
        }
    times = fire_times(schedule.cron_expr, schedule.timezone, snap.now, limit=1)
    return {"at": times[0].astimezone(UTC), "source": "schedule", "overdue_seconds": 0} if times else None


def _queue_data(metrics: MetricsData, type_id: str) -> dict[str, Any]:
    counts = {s.value: metrics.queue_rows.get((type_id, s.value), 0) for s in QueueStatus}
    waiting = counts[QueueStatus.PENDING.value] + counts[QueueStatus.PROCESSING.value]
    oldest = metrics.oldest_pending_seconds.get(type_id)
    return {
        "by_status": counts,
        "total": sum(counts.values()),
        "waiting": waiting,
        "depth": "critical" if waiting > QUEUE_DEPTH_CRITICAL else "warning" if waiting > QUEUE_DEPTH_WARNING else "ok",
        "oldest_pending_seconds": None if oldest is None else round(oldest, 1),
    }


def _budget_data(b: SharedBudgetSnapshot) -> dict[str, Any]:
    base, sep, _user = b.account.rpartition("|")
    return {
        "account": account_label(b.account),
        "base_url": account_label(base if sep else b.account),
        "kind": b.kind,
        "windows": [
            {
                "name": w.name,
                "limit": w.limit,
                "left": w.left,
                "resets_in_seconds": None if w.resets_in is None else round(w.resets_in, 1),
            }
            for w in b.windows
        ],
        "in_flight": b.in_flight,
        "blocked": b.blocked_for > 0,
        "blocked_for_seconds": round(b.blocked_for, 1),
        "throttled": b.throttled,
        "updated_at": b.updated_at,
    }


def _broker_url(url: str) -> str:
    """scheme://host:port/vhost, never user info or query."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
    except ValueError:
        return "(unparsable)"


def _broker_data(engine: Engine, workers: Iterable[dict[str, Any]]) -> dict[str, Any]:
    url = engine.settings.broker_url
    consumers: dict[str, int] = {}
    for w in workers:
        if w["state"] in ALIVE_STATES and w["broker"]:
            consumers[str(w["broker"])] = consumers.get(str(w["broker"]), 0) + 1
    return {
        "configured": bool(url),
        "url": _broker_url(url) if url else None,
        "exchange": engine.settings.broker.exchange if url else None,
        "support_installed": importlib.util.find_spec("aio_pika") is not None,
        "workers_by_broker_state": consumers,
    }


def build_status(
    engine: Engine,
    snap: _Snapshot,
    workers: list[dict[str, Any]],
    budgets: Sequence[SharedBudgetSnapshot],
    *,
    filtered: bool,
) -> dict[str, Any]:
    assert snap.metrics is not None
    lease = timedelta(seconds=engine.settings.queue.lease_seconds)
    attention: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    stale_runs: list[dict[str, Any]] = []
    by_profile: dict[int, list[RunRecord]] = {}
    for run in snap.runs.values():
        by_profile.setdefault(run.profile_id, []).append(run)
    for record in snap.profiles:
        problem = engine.profiles.config_problem(record)
        runs = sorted(by_profile.get(record.id, []), key=lambda x: x.started_at, reverse=True)
        running = [run for run in runs if run.finished_at is None and _run_alive(run, record, snap, workers, lease)]
        stale_runs += [
            {**_run_data(run), "type_id": record.type_id}
            for run in runs
            if run.finished_at is None and run not in running
        ]
        lease_held = engine.profiles.is_running(record)
        if running or lease_held:
            state = "running"
        elif problem is not None:
            state = "misconfigured"
        elif not record.enabled:
            state = "disabled"
        else:
            state = "idle"
        last = snap.runs.get(record.last_run_id) if record.last_run_id is not None else None
        profile_type = engine.registry.find(record.type_id)
        recent = {s: n for (t, s), n in snap.runs_recent.items() if t == record.type_id}
        finished = sum(recent.values()) - recent.get(RunStatus.RUNNING.value, 0)
        ok = recent.get(RunStatus.SUCCESS.value, 0) + recent.get(RunStatus.PARTIAL.value, 0)
        schedule = snap.schedules.get(record.id)
        queue = _queue_data(snap.metrics, record.type_id)
        profiles.append(
            {
                "id": record.id,
                "type_id": record.type_id,
                "name": record.name,
                "entity": record.entity,
                "direction": record.direction,
                "enabled": record.enabled,
                "state": state,
                "lifecycle": engine.profiles.state_of(record).value,
                "problem": problem,
                "queue_backed": profile_type.queue_backed if profile_type is not None else None,
                "concurrent_runs": profile_type.concurrent_runs if profile_type is not None else None,
                "running": [_run_data(run) for run in running],
                "run_lease_owner": record.run_owner if lease_held else None,
                "last_run": None if last is None else _run_data(last),
                "next_run": _next_run(record, snap),
                "schedule": None
                if schedule is None
                else {"cron_expr": schedule.cron_expr, "timezone": schedule.timezone, "enabled": schedule.enabled},
                "runs_24h": {
                    "by_status": recent,
                    "success_rate": None if finished == 0 else round(ok / finished, 4),
                },
                "queue": queue,
            }
        )
        if record.enabled and problem is not None:
            attention.append({"check": "misconfigured", "profile": record.type_id, "message": problem})
        if record.enabled and last is not None and last.status == RunStatus.FAILED.value:
            attention.append(
                {
                    "check": "failing_profile",
                    "profile": record.type_id,
                    "message": f"{record.type_id}: the last run (#{last.id}) failed: {last.message or 'no message'}",
                }
            )
        if queue["by_status"][QueueStatus.ERROR.value]:
            attention.append(
                {
                    "check": "queue_errors",
                    "profile": record.type_id,
                    "message": f"{record.type_id}: {queue['by_status'][QueueStatus.ERROR.value]} queue rows in error "
                    f"(plentysync queue list -p {record.type_id} --status error; queue retry)",
                }
            )
    # queues of types without a profile (rows queued before the profile was created, or after it was deleted)
    listed = {rec.type_id for rec in snap.profiles}
    orphan_queues = {
        t: _queue_data(snap.metrics, t) for t in sorted({t for t, _ in snap.metrics.queue_rows}) if t not in listed
    }
    if not filtered:
        for t, queue in orphan_queues.items():
            if queue["by_status"][QueueStatus.ERROR.value]:
                attention.append(
                    {
                        "check": "queue_errors",
                        "profile": t,
                        "message": f"{t}: {queue['by_status'][QueueStatus.ERROR.value]} queue rows in error "
                        "(no profile of this type)",
                    }
                )
    alive = [w for w in workers if w["state"] in ALIVE_STATES]
    enabled = [rec.type_id for rec in snap.profiles if rec.enabled]
    if enabled and not alive:
        attention.insert(
            0,
            {
                "check": "workers",
                "profile": None,
                "message": (
                    f"no worker is alive ({len(workers)} registered) while {len(enabled)} "
                    f"profile{'s are' if len(enabled) > 1 else ' is'} enabled: "
                    "queued changes and schedules wait (start one with: plentysync worker)"
                ),
            },
        )
    failed_runs = [
        {**_run_data(run), "type_id": run.type_id}
        for run in sorted(snap.runs.values(), key=lambda x: x.started_at, reverse=True)
        if run.status == RunStatus.FAILED.value and run.started_at >= snap.now - RECENT
    ][:FAILED_RUNS_SHOWN]
    error_total = sum(p["queue"]["by_status"][QueueStatus.ERROR.value] for p in profiles)
    if not filtered:
        error_total += sum(q["by_status"][QueueStatus.ERROR.value] for q in orphan_queues.values())
    return {
        "healthy": not attention,
        "attention": attention,
        "generated_at": snap.now,
        "database": engine.db.display_url,
        "profiles": profiles,
        "other_queues": {} if filtered else orphan_queues,
        "errors": {
            "queue_rows": error_total,
            "queue_samples": snap.error_rows,
            "failed_runs_24h": failed_runs,
            "unfinished_runs": stale_runs,
        },
        "api_budget": [_budget_data(b) for b in budgets],
        "workers": {
            "alive": len(alive),
            "registered": len(workers),
            "lost_after_seconds": engine.settings.worker.lost_after_seconds,
            "rows": workers,
        },
        "broker": _broker_data(engine, workers),
        "stock_drift": {
            "skus": snap.metrics.drift_skus,
            "persistent_skus": snap.metrics.drift_persistent_skus,
        },
    }


# -- for people ------------------------------------------------------------------------------------


def _age(seconds: float | None) -> str:
    return "—" if seconds is None else fmt_duration(timedelta(seconds=seconds))


def _last_run_text(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never"
    duration = run["duration_seconds"]
    took = "" if duration is None else f" in {fmt_duration(timedelta(seconds=duration))}"
    return (
        f"{styled(run['status'])} {fmt_time(run['finished_at'] or run['started_at'])}{took}\n"
        f"processed {run['processed']}, errors {run['errors']}"
    )


def _next_run_text(next_run: dict[str, Any] | None, profile: dict[str, Any]) -> str:
    if next_run is None:
        if profile["enabled"] and profile["queue_backed"]:
            return "when rows are due"
        return "—"
    text = fmt_time(next_run["at"])
    if next_run["overdue_seconds"] > 60:
        text += f" [yellow](due {_age(next_run['overdue_seconds'])} ago)[/yellow]"
    return text


def _queue_text(queue: dict[str, Any]) -> str:
    counts = queue["by_status"]
    if not queue["total"]:
        return "empty"
    parts = [f"{styled(s)} {n}" for s, n in counts.items() if n]
    if queue["oldest_pending_seconds"] is not None:
        parts.append(f"oldest pending {_age(queue['oldest_pending_seconds'])}")
    return ", ".join(parts)


def _state_text(p: dict[str, Any]) -> str:
    state = p["state"]
    style = {"running": "cyan", "idle": "green", "disabled": "dim", "misconfigured": "red"}[state]
    text = f"[{style}]{state}[/{style}]"
    if p["running"]:
        text += f" ({len(p['running'])} run{'s' if len(p['running']) > 1 else ''})"
    return text


def render(data: dict[str, Any]) -> None:
    if data["healthy"]:
        console.print("[green]Healthy.[/green]")
    else:
        console.print(f"[red]Needs attention ({len(data['attention'])}):[/red]")
        for item in data["attention"]:
            console.print(f"  • {item['message']}", markup=False)
    if data["profiles"]:
        grid = table("Profile", "Enabled", "State", "Last run", "Next run", "Queue", title="Profiles")
        for p in data["profiles"]:
            grid.add_row(
                f"{p['type_id']}\n[dim]{p['name']}[/dim]",
                "yes" if p["enabled"] else "[dim]no[/dim]",
                _state_text(p) + (f"\n[red]{p['problem']}[/red]" if p["problem"] and p["enabled"] else ""),
                _last_run_text(p["last_run"]),
                _next_run_text(p["next_run"], p),
                _queue_text(p["queue"]),
            )
        console.print(grid)
    else:
        console.print("No profiles yet. Create one with: plentysync profile create --type <type id>")
    for type_id, queue in data["other_queues"].items():
        console.print(f"Queue {type_id} (no profile): {_queue_text(queue)}")
    errors = data["errors"]
    if errors["queue_samples"]:
        grid = table(
            "Profile type", "Key", "Attempts", "Since", "Message", title=f"Queue rows in error ({errors['queue_rows']})"
        )
        for row in errors["queue_samples"]:
            grid.add_row(
                row["profile_type"],
                row["entity_key"],
                str(row["attempts"]),
                fmt_time(row["updated_at"]),
                row["message"] or "",
            )
        console.print(grid)
    if errors["failed_runs_24h"]:
        grid = table("Run", "Profile", "Started", "Message", title="Failed runs, last 24 h")
        for run in errors["failed_runs_24h"]:
            grid.add_row(str(run["id"]), run["type_id"], fmt_time(run["started_at"]), run["message"] or "")
        console.print(grid)
    if errors["unfinished_runs"]:
        grid = table(
            "Run", "Profile", "Owner", "Started", title="Unfinished runs with no sign of life (the process ended)"
        )
        for run in errors["unfinished_runs"]:
            grid.add_row(str(run["id"]), run["type_id"], run["owner"] or "—", fmt_time(run["started_at"]))
        console.print(grid)
    if data["api_budget"]:
        grid = table(
            "PlentyONE account",
            "Kind",
            "Windows (left/limit, resets in)",
            "In flight",
            "Blocked",
            "429s",
            title="API budget",
        )
        for b in data["api_budget"]:
            windows = "\n".join(
                f"{w['name']}: {'?' if w['left'] is None else w['left']}/{'?' if w['limit'] is None else w['limit']}"
                f", {_age(w['resets_in_seconds'])}"
                for w in b["windows"]
            )
            grid.add_row(
                b["account"],
                b["kind"],
                windows or "—",
                str(b["in_flight"]),
                f"[red]{_age(b['blocked_for_seconds'])}[/red]" if b["blocked"] else "no",
                str(b["throttled"]),
            )
        console.print(grid)
    render_workers(data["workers"]["rows"])
    broker = data["broker"]
    if broker["configured"]:
        installed = "" if broker["support_installed"] else " [red](plentysync[amqp] not installed)[/red]"
        broker_text = f"{broker['url']}, exchange {broker['exchange']}{installed}"
    else:
        broker_text = "not configured (the database queue works without it)"
    drift = data["stock_drift"]
    console.print(
        f"Broker: {broker_text}\n"
        f"Stock drift: {drift['skus']} SKUs divergent, {drift['persistent_skus']} in two or more sweeps in a row"
    )


async def status(
    *, profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None, common: Common = Common()
) -> int:
    """Everything at a glance: profiles (state, last and next run, queue), errors, the PlentyONE API budget,
    workers, broker and stock drift.

    A profile's state is running (a run is in progress: the run lease, or an unfinished run whose worker
    or queue leases are alive; stock export runs may overlap), idle, disabled or misconfigured.

    Exit code 0 when healthy; 1 when something needs attention: no worker alive while profiles are
    enabled, queue rows in error, an enabled profile whose last run failed or whose configuration is
    not valid. A spent or blocked API budget and a missing broker do not count (they are waited out or
    optional). Cheap enough to call from a monitoring check every minute.

    Examples: plentysync status; plentysync status --profile plenty_stock_export --json

    Parameters
    ----------
    profile
        Only this profile (id or type id): its queue, runs and errors; workers, budget and broker stay.
    """
    async with open_engine(common) as engine:
        only = await engine.profiles.resolve(profile) if profile else None
        async with engine.db.read() as conn:
            snap = await _read(conn, engine, only)
        workers = await load_workers(engine)
        budgets = await load_budgets(engine.db)
        data = build_status(engine, snap, workers, budgets, filtered=only is not None)

    emit(common.json, data, lambda: render(data))
    return 0 if data["healthy"] else 1
