"""``plentysync profile run``: run a profile now and report the outcome."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from cyclopts import Parameter

from plentysync.cli.common import split_list
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import (
    RichProgress,
    console,
    console_logs_without,
    emit,
    fmt_duration,
    print_line,
    run_reason,
    styled,
    table,
)
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.pipeline import TRIGGERS, RunOptions
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.errors import UsageError

EXIT_PARTIAL = 3


def _report_data(report: RunReport) -> dict[str, Any]:
    run = report.run
    return {
        "run_id": run.id,
        "profile": report.profile.type_id,
        "trigger": run.trigger,
        "status": run.status,
        "dry_run": run.dry_run,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": run.duration.total_seconds() if run.duration else None,
        "processed": run.processed,
        "succeeded": run.succeeded,
        "errors": run.errors,
        "skipped": run.skipped,
        "message": run.message,
        "notes": report.notes,
        "error_entities": [{"key": e.key, "status": e.status.value, "message": e.message} for e in report.errors],
        "entities": [{"key": e.key, "status": e.status.value, "message": e.message} for e in report.entities],
    }


def render_report(report: RunReport, verbose: int) -> None:
    run = report.run
    prefix = "[bold]Dry run[/bold] of " if run.dry_run else ""
    console.print(
        f"{prefix}{report.profile.type_id}, run {run.id}: {styled(run.status)} in {fmt_duration(run.duration)} — "
        f"{run.processed} processed, {run.succeeded} succeeded, {run.errors} failed, {run.skipped} skipped"
    )
    reason = run_reason(run.message)
    if reason:
        print_line(reason, label="[red]Failed:[/red]" if run.status == RunStatus.FAILED else None)
    for note in report.notes:
        console.print(f"• {note}")
    if verbose and report.entities:
        grid = table("Entity", "Result", "Message", title="Entities")
        shown = report.entities if verbose > 1 else report.entities[:20]
        for entry in shown:
            grid.add_row(entry.key, styled(entry.status.value), entry.message or "")
        console.print(grid)
    if report.errors:
        grid = table("Entity", "Result", "Message", title="Failures")
        for entry in report.errors:
            grid.add_row(entry.key, styled(entry.status.value), entry.message or "")
        console.print(grid)
        if run.errors > len(report.errors):
            console.print(
                f"(first {len(report.errors)} of {run.errors}; see: plentysync profile history --run {run.id})"
            )


def exit_code_for(status: str) -> int:
    return {RunStatus.SUCCESS: 0, RunStatus.PARTIAL: EXIT_PARTIAL}.get(RunStatus(status), 1)


async def run(
    profile: str,
    /,
    *,
    status: Annotated[list[str] | None, Parameter(name=["--status", "-w"])] = None,
    key: Annotated[list[str] | None, Parameter(name=["--key", "-k"])] = None,
    limit: int | None = None,
    batch_size: int | None = None,
    dry_run: Annotated[bool, Parameter(name=["--dry-run", "-d"])] = False,
    force: bool = False,
    trigger: Literal["manual", "cli"] = "cli",
    verbose: Annotated[int, Parameter(name=["--verbose", "-v"], count=True)] = 0,
    common: Common = Common(),
) -> int:
    """Run a profile now: drain its queue (pending rows by default) through the pipeline.

    Prints a summary, then failures (and, with -v, every entity). Exit code 0 when all went
    well, 3 when some entities failed, 1 when the run failed.

    Example: plentysync profile run plenty_stock_export --status pending,error -v

    Parameters
    ----------
    profile
        Profile id or type id.
    status
        Queue statuses to process, comma-separated: pending (default), error, ...
    key
        Only these entity keys (comma-separated or repeated); they are queued first.
    limit
        Stop after this many entities.
    batch_size
        Entities per batch (default: the profile's process_batch_size).
    dry_run
        Collect and map, show what would be sent, change nothing.
    force
        Run even though the profile is disabled.
    trigger
        What to record as the trigger in the run history.
    verbose
        -v lists entities (first 20), -vv lists them all (up to 50 kept per run).
    """
    statuses = tuple(split_list(status)) or ("pending",)
    bad = [s for s in statuses if s not in ("pending", "error", "skipped", "success")]
    if bad:
        raise UsageError(
            f"--status: cannot process rows in status {', '.join(bad)} (use pending, error, skipped, success)"
        )
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    if batch_size is not None and not 1 <= batch_size <= 10_000:
        raise UsageError("--batch-size must be between 1 and 10000")
    assert trigger in TRIGGERS
    options = RunOptions(
        statuses=statuses,
        keys=tuple(split_list(key)),
        limit=limit,
        batch_size=batch_size,
        dry_run=dry_run,
        force=force,
    )
    async with open_engine(common) as engine:
        runner = ProfileRunner(engine)
        with RichProgress(f"Running {profile}", enabled=not common.json) as progress, console_logs_without("stamina"):
            report = await runner.run(profile, trigger=trigger, options=options, progress=progress)
    emit(common.json, _report_data(report), lambda: render_report(report, verbose))
    return exit_code_for(report.run.status)
