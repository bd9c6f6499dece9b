"""``plentysync profile schedule``: cron expression, time zone, next runs, schedule jobs."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter, validators

from plentysync.cli.common import Limit
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import console, emit, fmt_time, styled, table
from plentysync.engine.schedule import describe, fire_times, normalize_cron, zone
from plentysync.errors import UsageError

MAX_NEXT = 1000
"""Most upcoming runs ``--next`` lists (each is computed; a rare expression takes long per run)."""


async def schedule(
    profile: str,
    /,
    *,
    cron: str | None = None,
    timezone: str | None = None,
    enable: bool = False,
    disable: bool = False,
    clear: bool = False,
    next: Annotated[int, Parameter(validator=validators.Number(gte=1, lte=MAX_NEXT))] = 5,
    jobs: Limit = 10,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Show or change a profile's schedule: cron expression, time zone, next runs and recent jobs.

    Times follow Debian cron across daylight-saving changes: a job in the skipped hour runs once
    right after it, a job in the repeated hour runs once.

    Example: plentysync profile schedule plenty_stock_export --cron "*/5 * * * *" --timezone Europe/Berlin

    Example: plentysync profile schedule plenty_stock_export --next 10

    Parameters
    ----------
    profile
        Profile id or type id.
    cron
        New cron expression (five fields, or @hourly, @daily...).
    timezone
        IANA time zone for the expression (default: keep, or UTC for a new schedule).
    enable
        Switch the schedule on.
    disable
        Switch the schedule off (the profile stays enabled for manual runs and queue drains).
    clear
        Remove the schedule.
    next
        How many upcoming runs to list (1 to 1000).
    jobs
        How many recent schedule jobs to list.
    dry_run
        Validate the change and show the next runs it would give, without saving it.
    """
    if sum([enable, disable, clear]) > 1:
        raise UsageError("choose one of --enable, --disable, --clear")
    if clear and (cron or timezone):
        raise UsageError("--clear cannot be combined with --cron or --timezone")
    async with open_engine(common) as engine:
        record = await engine.profiles.resolve(profile)
        current = await engine.schedules.get(record.id)
        changed = bool(cron or timezone or enable or disable or clear)
        if (timezone or enable or disable) and current is None and cron is None:
            raise UsageError(f"{record.type_id} has no schedule yet: pass --cron")
        new_cron = normalize_cron(cron) if cron else (current.cron_expr if current else None)
        new_tz = timezone or (current.timezone if current else "UTC")
        zone(new_tz)
        new_enabled = (not disable) if (enable or disable) else (current.enabled if current else True)
        if changed and not dry_run:
            if clear:
                await engine.schedules.clear(record.id)
            elif new_cron is not None:
                await engine.schedules.set(record.id, new_cron, new_tz, enabled=new_enabled)

        shown = (
            None if clear or new_cron is None else {"cron_expr": new_cron, "timezone": new_tz, "enabled": new_enabled}
        )
        upcoming = (
            fire_times(new_cron, new_tz, engine.clock.now(), limit=next)
            if shown is not None and new_enabled and new_cron is not None
            else []
        )
        recent = await engine.schedules.jobs(record.id, limit=jobs)
    data = {
        "profile": record.type_id,
        "dry_run": dry_run,
        "changed": changed,
        "schedule": None if shown is None else {**shown, "description": describe(shown["cron_expr"])},  # type: ignore[arg-type]
        "profile_enabled": record.enabled,
        "next_runs": upcoming,
        "jobs": recent,
    }

    def human() -> None:
        if dry_run and changed:
            console.print("[bold]Dry run[/bold]: nothing was saved.")
        if shown is None:
            console.print(f"{record.type_id}: no schedule (manual runs only).")
        else:
            state = "on" if shown["enabled"] else "off"
            console.print(
                f"{record.type_id}: {shown['cron_expr']} in {shown['timezone']} ({state}) — "
                f"{describe(str(shown['cron_expr']))}"
            )
            if not record.enabled:
                console.print(
                    "[yellow]The profile is disabled: scheduled runs are skipped until it is enabled.[/yellow]"
                )
        for when in upcoming:
            console.print(f"  next: {when.strftime('%Y-%m-%d %H:%M %Z (UTC%z)')}")
        if recent:
            grid = table(
                "Job", "Scheduled", "Status", "Started", "Finished", "Run", "Message", title="Recent schedule jobs"
            )
            for job in recent:
                grid.add_row(
                    str(job.id),
                    fmt_time(job.scheduled_at),
                    styled(job.status),
                    fmt_time(job.executed_at),
                    fmt_time(job.finished_at),
                    str(job.run_id or "—"),
                    job.message or "",
                )
            console.print(grid)

    emit(common.json, data, human)
    return 0
