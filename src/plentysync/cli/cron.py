"""``plentysync cron run``: run the profiles whose schedule is due, once (for a system crontab until
a long-running worker takes over)."""

from __future__ import annotations

from typing import Annotated, Any

from cyclopts import App, Parameter

from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import console, emit, fmt_time, styled, table
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.runner import ProfileRunner, default_owner
from plentysync.errors import PlentysyncError
from plentysync.log import get_logger

app = App(name="cron", help="Scheduled runs: plan schedule jobs and run the due ones.")
log = get_logger(__name__)


@app.command(name="run")
async def cron_run(*, dry_run: Annotated[bool, Parameter(negative=())] = False, common: Common = Common()) -> int:
    """Plan schedule jobs ahead, mark missed ones, and run every profile whose job is due.

    Safe to call from several hosts at once: each due job is claimed by exactly one caller.
    Meant for a crontab line such as `* * * * * plentysync cron run`.

    Example: plentysync cron run --json

    Parameters
    ----------
    dry_run
        Only plan jobs and list what is due; run nothing.
    """
    owner = default_owner()
    results: list[dict[str, Any]] = []
    async with open_engine(common) as engine:
        if dry_run:
            planned = await engine.schedules.plan()
            due = [
                j
                for j in await engine.schedules.jobs(limit=1000, statuses=["pending"])
                if j.scheduled_at <= engine.clock.now()
            ]
            data: dict[str, Any] = {"dry_run": True, "planned": planned, "due": due}
        else:
            tick = await engine.schedules.tick(owner)
            runner = ProfileRunner(engine, owner=owner)
            for job in tick.claimed:
                try:
                    report = await runner.run(job.profile_id, trigger="cron")
                except PlentysyncError as exc:
                    await engine.schedules.finish(job.id, success=False, message=str(exc))
                    results.append({"job_id": job.id, "profile": job.job_code, "status": "error", "message": str(exc)})
                    continue
                except Exception as exc:
                    log.exception("cron.run_crashed", job_id=job.id)
                    await engine.schedules.finish(job.id, success=False, message=f"internal error: {exc}")
                    raise
                ok = report.run.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
                await engine.schedules.finish(job.id, success=ok, message=report.run.message, run_id=report.run.id)
                results.append(
                    {
                        "job_id": job.id,
                        "profile": job.job_code,
                        "status": report.run.status,
                        "run_id": report.run.id,
                        "message": report.run.message,
                    }
                )
            data = {
                "dry_run": False,
                "planned": tick.planned,
                "missed": tick.missed,
                "cleaned": tick.cleaned,
                "runs": results,
            }

    def human() -> None:
        if dry_run:
            console.print(f"Planned {data['planned']} schedule jobs; due now: {len(data['due'])}.")
            for job in data["due"]:
                console.print(f"  {job.job_code} scheduled {fmt_time(job.scheduled_at)}")
            return
        console.print(f"Planned {data['planned']} jobs, {data['missed']} marked missed, {len(results)} due runs.")
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
    return 0 if all(r["status"] in ("success", "partial") for r in results) else 1
