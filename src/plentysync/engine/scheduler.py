"""One pass of the scheduler: plan schedule jobs, claim the due ones, run their profiles, record
the outcome on each job, and apply the run-history retention. `plentysync cron run` does one pass;
the worker will do it in a loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.schedule import TickResult
from plentysync.engine.services import Engine
from plentysync.errors import ConflictError, PlentysyncError
from plentysync.log import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    profile: str
    status: str
    """The run's status; ``error`` when the run could not start, ``skipped`` when the profile was
    already running elsewhere."""
    run_id: int | None
    message: str | None


@dataclass(frozen=True)
class SchedulerPass:
    tick: TickResult
    outcomes: list[JobOutcome]
    history_runs_deleted: int

    @property
    def ok(self) -> bool:
        return all(o.status in (RunStatus.SUCCESS, RunStatus.PARTIAL, "skipped") for o in self.outcomes)


async def run_due_jobs(
    engine: Engine,
    runner: ProfileRunner,
    *,
    on_report: Callable[[RunReport], Awaitable[None]] | None = None,
) -> SchedulerPass:
    """``on_report`` sees every run's full report (the worker hands it to notifications)."""
    tick = await engine.schedules.tick(runner.owner)
    outcomes: list[JobOutcome] = []
    for job in tick.claimed:
        try:
            report = await runner.run(job.profile_id, trigger="cron")
        except ConflictError as exc:
            # another process is running the profile right now: that run does this job's work
            message = f"skipped: {exc}"
            await engine.schedules.finish(job.id, success=True, message=message)
            outcomes.append(JobOutcome(job.id, job.job_code, "skipped", None, message))
            continue
        except PlentysyncError as exc:
            await engine.schedules.finish(job.id, success=False, message=str(exc))
            outcomes.append(JobOutcome(job.id, job.job_code, "error", None, str(exc)))
            continue
        except Exception as exc:
            log.exception("scheduler.run_crashed", job_id=job.id)
            await engine.schedules.finish(job.id, success=False, message=f"internal error: {exc}")
            raise
        if on_report is not None:
            await on_report(report)
        ok = report.run.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
        await engine.schedules.finish(job.id, success=ok, message=report.run.message, run_id=report.run.id)
        outcomes.append(JobOutcome(job.id, job.job_code, report.run.status, report.run.id, report.run.message))
    retention = await engine.history.clean(engine.history_lifetime)
    return SchedulerPass(tick, outcomes, retention.runs)
