"""``plentysync profile run``: run a profile now and report the outcome."""

from __future__ import annotations

from collections.abc import Sequence
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
    fmt_time,
    print_line,
    run_reason,
    styled,
    table,
)
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.pipeline import TRIGGERS, RunOptions
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.services import Engine
from plentysync.errors import UsageError

EXIT_PARTIAL = 3
EXIT_HELD = 1
"""Some of the keys asked for were not processed: another run holds their rows."""


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


async def held_elsewhere(engine: Engine, report: RunReport, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``keys`` another run holds (status processing, leased to another owner) once this run
    has ended: it could not claim them, so it did not process them. With the holding run's id when its
    owner is a run in the history."""
    if report.run.dry_run or not keys:
        return []
    type_id = report.profile.type_id
    wanted = list(dict.fromkeys(keys))
    rows = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows += await engine.queue.list_items(type_id, statuses=["processing"], keys=chunk, limit=len(chunk))
    rows = [row for row in rows if row.lease_owner and row.lease_owner != report.run.owner]
    if not rows:
        return []
    running = await engine.history.list_runs(report.profile.id, statuses=[RunStatus.RUNNING.value], limit=100)
    run_of = {run.owner: run.id for run in running if run.owner}
    return [
        {
            "key": row.entity_key,
            "lease_owner": row.lease_owner,
            "lease_expires_at": row.lease_expires_at,
            "run_id": run_of.get(row.lease_owner or ""),
        }
        for row in sorted(rows, key=lambda r: r.entity_key)
    ]


def render_held(held: Sequence[dict[str, Any]]) -> None:
    if not held:
        return
    console.print(
        f"[yellow]Not processed: another run holds {len(held)} of the rows asked for[/yellow] (they stay queued; "
        "the holder finishes them, a change queued meanwhile goes out with the next drain):",
        soft_wrap=True,
    )
    grid = table("Entity", "Held by run", "Lease owner", "Lease until")
    for entry in held:
        run_id = entry["run_id"]
        grid.add_row(
            entry["key"],
            "—" if run_id is None else str(run_id),
            entry["lease_owner"] or "—",
            fmt_time(entry["lease_expires_at"]),
        )
    console.print(grid)


def exit_code_of(report: RunReport, held: Sequence[dict[str, Any]] = ()) -> int:
    """0 all went well, 3 some entities failed, 1 the run failed or another run held keys asked for."""
    code = exit_code_for(report.run.status)
    return EXIT_HELD if held and code == 0 else code


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
    well, 3 when some entities failed, 1 when the run failed or when another run held rows of the
    keys given with -k (they are listed, with the holding run).

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
        held = await held_elsewhere(engine, report, options.keys)
    data = {**_report_data(report), "held_by_another_run": held}

    def human() -> None:
        render_report(report, verbose)
        render_held(held)

    emit(common.json, data, human)
    return exit_code_of(report, held)
