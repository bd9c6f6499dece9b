"""``plentysync cron run``: run the profiles whose schedule is due, once (for a system crontab until
a long-running worker takes over)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from cyclopts import App

from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import console, emit, fmt_time, styled, table
from plentysync.engine.runner import ProfileRunner, default_owner
from plentysync.engine.scheduler import run_due_jobs
from plentysync.engine.services import Engine
from plentysync.errors import PlentysyncError
from plentysync.log import get_logger
from plentysync.sync.stock.maintenance import MaintenanceReport, run_due

log = get_logger(__name__)

app = App(name="cron", help="Scheduled runs: plan schedule jobs and run the due ones.")


async def _stock_producers(engine: Engine) -> MaintenanceReport:
    """The stock producers must not keep the scheduled profiles from running: a failure (Magento down,
    credentials revoked) is reported and logged, and the schedule pass goes on."""
    try:
        return await run_due(engine)
    except PlentysyncError as exc:
        log.warning("cron.stock_producers_failed", error=str(exc))
        return MaintenanceReport(details={"error": str(exc)})


@app.command(name="run")
async def cron_run(*, dry_run: bool = False, common: Common = Common()) -> int:
    """Plan schedule jobs ahead, mark missed ones, run every profile whose job is due, and delete run
    history older than history_lifetime_days. Before that, the enabled stock export's producers run
    when due: the source-item and product pollers every poll_interval_seconds, the drift sweep on
    drift_cron.

    Safe to call from several hosts at once: each due job is claimed by exactly one caller.
    Meant for a crontab line such as `* * * * * plentysync cron run`.

    Example: plentysync cron run --json

    Parameters
    ----------
    dry_run
        List the planned jobs that are due now; plan and run nothing.
    """
    owner = default_owner()
    results: list[dict[str, Any]] = []
    ok = True
    async with open_engine(common) as engine:
        if dry_run:
            due = [
                j
                for j in await engine.schedules.jobs(limit=1000, statuses=["pending"])
                if j.scheduled_at <= engine.clock.now()
            ]
            data: dict[str, Any] = {"dry_run": True, "due": due}
        else:
            maintenance = await _stock_producers(engine)
            done = await run_due_jobs(engine, ProfileRunner(engine, owner=owner))
            ok = done.ok
            results = [asdict(o) for o in done.outcomes]
            data = {
                "dry_run": False,
                "planned": done.tick.planned,
                "missed": done.tick.missed,
                "cleaned": done.tick.cleaned,
                "history_runs_deleted": done.history_runs_deleted,
                "runs": results,
                "stock_producers": {"ran": maintenance.ran, **maintenance.details},
            }

    def human() -> None:
        if dry_run:
            console.print(f"Dry run: {len(data['due'])} planned jobs are due now; nothing was run or planned.")
            for job in data["due"]:
                console.print(f"  {job.job_code} scheduled {fmt_time(job.scheduled_at)}")
            return
        console.print(f"Planned {data['planned']} jobs, {data['missed']} marked missed, {len(results)} due runs.")
        producers = data["stock_producers"]
        if producers.get("error"):
            console.print(f"[red]Stock producers failed:[/red] {producers['error']}")
        elif producers["ran"]:
            console.print(f"Stock producers: {', '.join(producers['ran'])} ({producers})")
        if results:
            grid = table("Job", "Profile", "Status", "Run", "Message")
            for row in results:
                grid.add_row(
                    str(row["job_id"]),
                    row["profile"],
                    styled(str(row["status"])),
                    str(row.get("run_id", "—")),
                    row["message"] or "",
                )
            console.print(grid)

    emit(common.json, data, human)
    return 0 if ok else 1
