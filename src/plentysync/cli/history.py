"""``plentysync profile history``: runs, entities of a run, one entity's history, retention."""

from __future__ import annotations

from typing import Annotated, Any

from cyclopts import App, Parameter

from plentysync.cli.common import Days, Limit, RowId, split_list
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import confirm, console, emit, fmt_duration, fmt_time, styled, table
from plentysync.errors import UsageError

app = App(
    name="history",
    help="""Run history: recent runs, the entities of one run, one entity's history; `clean` deletes old runs.

Example: plentysync profile history plenty_stock_export --limit 5

Example: plentysync profile history --run 42 --status error""",
)


@app.default
async def history(
    profile: str | None = None,
    /,
    *,
    limit: Limit = 10,
    status: list[str] | None = None,
    run: RowId | None = None,
    key: str | None = None,
    common: Common = Common(),
) -> int:
    """Show recent runs (of one profile or all), the entities of one run, or one entity's history.

    Example: plentysync profile history plenty_stock_export --limit 5

    Example: plentysync profile history --run 42 --status error

    Parameters
    ----------
    profile
        Profile id or type id (default: all profiles).
    limit
        How many rows to show.
    status
        Only these statuses (runs: success, partial, failed, cancelled; entities: success, error, retry, skipped).
    run
        Show the entities of this run.
    key
        Show the history of this entity key (needs a profile).
    """
    statuses = split_list(status) or None
    async with open_engine(common) as engine:
        record = await engine.profiles.resolve(profile) if profile is not None else None
        if run is not None or key is not None:
            if key is not None and record is None:
                raise UsageError("--key needs a profile")
            entities = await engine.history.entities(
                run_id=run,
                profile_id=record.id if record else None,
                entity_key=key,
                statuses=statuses,
                limit=limit,
            )
            data: Any = entities

            def human() -> None:
                grid = table("Run", "Entity", "Result", "Time", "Message")
                for entry in entities:
                    grid.add_row(
                        str(entry.run_id),
                        entry.entity_key,
                        styled(entry.status),
                        fmt_time(entry.created_at),
                        entry.message or "",
                    )
                console.print(grid if entities else "No entity history matches.")

        else:
            runs = await engine.history.list_runs(record.id if record else None, limit=limit, statuses=statuses)
            data = [
                {
                    "id": r.id,
                    "profile": r.type_id,
                    "trigger": r.trigger,
                    "status": r.status,
                    "dry_run": r.dry_run,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "duration_seconds": r.duration.total_seconds() if r.duration else None,
                    "processed": r.processed,
                    "succeeded": r.succeeded,
                    "errors": r.errors,
                    "skipped": r.skipped,
                    "message": r.message,
                }
                for r in runs
            ]

            def human() -> None:
                if not runs:
                    console.print("No runs yet.")
                    return
                grid = table(
                    "Run", "Profile", "Trigger", "Status", "Started", "Duration", "OK", "Failed", "Skipped", "Message"
                )
                for r in runs:
                    status_text = styled(r.status) + (" (dry)" if r.dry_run else "")
                    grid.add_row(
                        str(r.id),
                        r.type_id,
                        r.trigger,
                        status_text,
                        fmt_time(r.started_at),
                        fmt_duration(r.duration),
                        str(r.succeeded),
                        str(r.errors),
                        str(r.skipped),
                        r.message or "",
                    )
                console.print(grid)

    emit(common.json, data, human)
    return 0


@app.command(name="clean")
async def history_clean(
    *,
    days: Days | None = None,
    profile: str | None = None,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Delete run history (runs and their entity rows) older than N days. Runs still going are kept.

    Example: plentysync profile history clean --days 30 --force

    Parameters
    ----------
    days
        Age in days (default: the history_lifetime_days setting, 30).
    profile
        Only this profile's history.
    force
        Do not ask for confirmation.
    dry_run
        Count what would be deleted.
    """
    from datetime import timedelta

    async with open_engine(common) as engine:
        age = timedelta(days=days) if days is not None else engine.history_lifetime
        record = await engine.profiles.resolve(profile) if profile is not None else None
        pid = record.id if record else None
        preview = await engine.history.clean(age, profile_id=pid, dry_run=True)
        if not dry_run and preview.runs:
            confirm(
                f"Delete {preview.runs} runs older than {age.days} days and their {preview.entities} entity rows?",
                force=force,
            )
            result = await engine.history.clean(age, profile_id=pid)
        else:
            result = preview
    data = {"dry_run": dry_run, "older_than_days": age.days, "runs": result.runs, "entities": result.entities}
    verb = "Would delete" if dry_run else "Deleted"
    emit(
        common.json,
        data,
        lambda: console.print(
            f"{verb} {result.runs} runs and {result.entities} entity rows older than {age.days} days."
        ),
    )
    return 0
