"""``plentysync profile ...``: the profile grid, lifecycle and manual runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from cyclopts import App, Parameter
from rich.panel import Panel

from plentysync.cli.common import profile_summary, split_list
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import (
    RichProgress,
    confirm,
    console,
    emit,
    fmt_duration,
    fmt_time,
    styled,
    table,
)
from plentysync.engine.configio import format_for, loads, parse_document
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.pipeline import TRIGGERS, RunOptions
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.schedule import describe, normalize_cron, zone
from plentysync.errors import ConfigError, UsageError
from plentysync.sync import SEED_TYPES

app = App(name="profile", help="Profiles: one configured sync job per type (entity + direction).")

EXIT_PARTIAL = 3


@app.command(name="list")
async def list_profiles(*, common: Common = Common()) -> int:
    """List every profile with its status, state, schedule and last run.

    Example: plentysync profile list --json
    """
    async with open_engine(common) as engine:
        rows = []
        for record in await engine.profiles.list():
            schedule = await engine.schedules.get(record.id)
            row = profile_summary(engine, record)
            row["schedule"] = (
                None
                if schedule is None
                else {"cron_expr": schedule.cron_expr, "timezone": schedule.timezone, "enabled": schedule.enabled}
            )
            rows.append(row)

    def human() -> None:
        if not rows:
            console.print("No profiles yet. Create one with: plentysync profile create --type <type id>")
            return
        grid = table("ID", "Type", "Name", "Status", "State", "Schedule", "Last run")
        for row in rows:
            sched = row["schedule"]
            sched_text = "—" if not isinstance(sched, dict) else f"{sched['cron_expr']} ({sched['timezone']})"
            if isinstance(sched, dict) and not sched["enabled"]:
                sched_text += " [dim]off[/dim]"
            last = row["last_run_at"]
            last_text = "never" if last is None else f"{fmt_time(last)} {styled(str(row['last_run_status']))}"  # type: ignore[arg-type]
            grid.add_row(
                str(row["id"]),
                str(row["type_id"]),
                str(row["name"]),
                styled(str(row["status"])),
                styled(str(row["state"])),
                sched_text,
                last_text,
            )
        console.print(grid)

    emit(common.json, rows, human)
    return 0


@app.command(name="types")
async def list_types(*, common: Common = Common()) -> int:
    """List the profile types: those this version runs, and the seeds' types still to come.

    Example: plentysync profile types
    """
    from plentysync.cli.context import build_registry

    registry = build_registry()
    rows: list[dict[str, Any]] = [
        {
            "type_id": t.type_id,
            "entity": t.entity,
            "direction": t.direction,
            "label": t.label,
            "available": True,
            "description": t.description,
        }
        for t in registry.all()
    ]
    rows += [
        {
            "type_id": t.type_id,
            "entity": t.entity,
            "direction": t.direction,
            "label": t.label,
            "available": False,
            "description": "planned",
        }
        for t in SEED_TYPES
        if t.type_id not in registry
    ]

    def human() -> None:
        grid = table("Type", "Entity", "Direction", "Name", "Available")
        for row in rows:
            grid.add_row(
                row["type_id"], row["entity"], row["direction"], row["label"], "yes" if row["available"] else "planned"
            )
        console.print(grid)

    emit(common.json, rows, human)
    return 0


@app.command(name="info")
async def info(profile: str, /, *, common: Common = Common()) -> int:
    """Show one profile: status, lifecycle state, configuration, schedule, last run and queue.

    Example: plentysync profile info plenty_stock_export

    Parameters
    ----------
    profile
        Profile id or type id.
    """
    async with open_engine(common) as engine:
        record = await engine.profiles.resolve(profile)
        schedule = await engine.schedules.get(record.id)
        next_runs = await engine.schedules.next_runs(record.id, 3)
        queue = await engine.queue.stats(record.type_id)
        data: dict[str, Any] = profile_summary(engine, record)
        data.update(
            config=record.config,
            config_problem=engine.profiles.config_problem(record),
            running_owner=record.run_owner if engine.profiles.is_running(record) else None,
            schedule=None
            if schedule is None
            else {
                "cron_expr": schedule.cron_expr,
                "timezone": schedule.timezone,
                "enabled": schedule.enabled,
                "description": describe(schedule.cron_expr),
                "next_runs": next_runs,
            },
            queue={
                "by_status": queue.by_status,
                "due_now": queue.due_now,
                "oldest_pending_at": queue.oldest_pending_at,
            },
        )

    def human() -> None:
        lines = [
            f"[bold]{record.name}[/bold]  (id {record.id}, {record.type_id})",
            f"Entity / direction: {record.entity} / {record.direction}",
            f"Status: {styled(record.status)}   State: {styled(data['state'])}",
        ]
        if data["config_problem"]:
            lines.append(f"[red]Not runnable:[/red] {data['config_problem']}")
        if data["running_owner"]:
            lines.append(f"Running now, held by {data['running_owner']}")
        sched = data["schedule"]
        if sched:
            onoff = "" if sched["enabled"] else " [dim](schedule off)[/dim]"
            lines.append(f"Schedule: {sched['cron_expr']} {sched['timezone']} — {sched['description']}{onoff}")
            for when in sched["next_runs"]:
                lines.append(f"  next: {when.strftime('%Y-%m-%d %H:%M %Z')}")
        else:
            lines.append("Schedule: none (manual runs only)")
        last = (
            "never"
            if record.last_run_at is None
            else f"{fmt_time(record.last_run_at)} {styled(record.last_run_status)}"
        )
        lines.append(f"Last run: {last}")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(queue.by_status.items())) or "empty"
        lines.append(f"Queue: {counts}")
        console.print(Panel("\n".join(lines), expand=False))
        console.print("[bold]Configuration[/bold]")
        console.print_json(json.dumps(record.config))

    emit(common.json, data, human)
    return 0


@app.command(name="create")
async def create(
    *,
    type: Annotated[str, Parameter(name=["--type", "-t"])],
    name: str | None = None,
    enable: bool = False,
    config_file: Annotated[Path | None, Parameter(name="--config-file")] = None,
    cron: str | None = None,
    timezone: str = "UTC",
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Create the profile of a type. Entity and direction come from the type and never change.

    New profiles start disabled so nothing runs before you have looked at them; pass --enable to
    switch one on at once (its configuration must be complete).

    Example: plentysync profile create --type plenty_stock_export --cron "*/5 * * * *" --timezone Europe/Berlin

    Parameters
    ----------
    type
        Profile type id (see: plentysync profile types).
    name
        Display name (default: the type's name).
    enable
        Enable the profile right away.
    config_file
        Profile options from a TOML or JSON file (the [config] table of an export, or the bare options).
    cron
        Cron expression for scheduled runs, e.g. "*/15 * * * *" or @hourly.
    timezone
        IANA time zone the cron expression is read in.
    dry_run
        Validate and show what would be created, without creating it.
    """
    options: dict[str, Any] | None = None
    if config_file is not None:
        fmt = format_for(config_file, None)
        try:
            text = config_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {config_file}: {exc.strerror}") from None
        data = loads(text, fmt, source=str(config_file))
        options = data["config"] if isinstance(data.get("config"), dict) else data
    if cron is not None:
        cron = normalize_cron(cron)
        zone(timezone)
    async with open_engine(common) as engine:
        profile_type = engine.registry.get(type)
        if dry_run:
            existing = await engine.profiles.find(type)
            if existing is not None:
                raise UsageError(f"a profile of type {type} already exists (id {existing.id})")
            if options is not None:
                from plentysync.engine.profiles import validate_config

                validate_config(profile_type, options)
            result: dict[str, Any] = {
                "dry_run": True,
                "type_id": type,
                "name": name or profile_type.label,
                "enabled": enable,
                "schedule": None if cron is None else {"cron_expr": cron, "timezone": timezone},
            }
        else:
            record = await engine.profiles.create(type, name=name, enabled=enable, config=options)
            if cron is not None:
                await engine.schedules.set(record.id, cron, timezone)
            result = profile_summary(engine, record)
            result["schedule"] = None if cron is None else {"cron_expr": cron, "timezone": timezone}
            result["config_problem"] = engine.profiles.config_problem(record)

    def human() -> None:
        if dry_run:
            console.print(f"Dry run: would create {result['name']!r} ({type}); nothing was changed.")
            return
        console.print(f"Created profile {result['id']}: {result['name']} ({type}), state {styled(result['state'])}.")
        if result["config_problem"]:
            console.print(f"[yellow]Configure it before it can run:[/yellow] {result['config_problem']}")
        elif not enable:
            console.print(f"Enable it when ready: plentysync profile enable {type}")

    emit(common.json, result, human)
    return 0


async def _set_enabled(profile: str, enabled: bool, dry_run: bool, common: Common) -> int:
    async with open_engine(common) as engine:
        record = await engine.profiles.resolve(profile)
        if enabled and (problem := engine.profiles.config_problem(record)):
            raise ConfigError(f"cannot enable {record.type_id}: {problem}")
        if not dry_run:
            record = await engine.profiles.set_enabled(profile, enabled)
            if not enabled:
                await engine.schedules.drop_pending(record.id)
        data = profile_summary(engine, record)
        data["dry_run"] = dry_run
    verb = "enabled" if enabled else "disabled"
    emit(
        common.json,
        data,
        lambda: console.print(
            f"{'Dry run: would have ' if dry_run else ''}{verb} {record.type_id} (state {styled(str(data['state']))})."
        ),
    )
    return 0


@app.command(name="enable")
async def enable(profile: str, /, *, dry_run: bool = False, common: Common = Common()) -> int:
    """Enable a profile: its schedule runs it and queue drains process it. Needs a valid configuration.

    Example: plentysync profile enable plenty_stock_export

    Parameters
    ----------
    profile
        Profile id or type id.
    dry_run
        Check that the profile could be enabled, without changing it.
    """
    return await _set_enabled(profile, True, dry_run, common)


@app.command(name="disable")
async def disable(profile: str, /, *, dry_run: bool = False, common: Common = Common()) -> int:
    """Disable a profile: no scheduled runs; manual runs need --force. A run in progress finishes.

    Example: plentysync profile disable plenty_stock_export

    Parameters
    ----------
    profile
        Profile id or type id.
    dry_run
        Show what would change, without changing it.
    """
    return await _set_enabled(profile, False, dry_run, common)


@app.command(name="rename")
async def rename(profile: str, name: str, /, *, common: Common = Common()) -> int:
    """Give a profile a new display name.

    Example: plentysync profile rename plenty_stock_export "Stock to PlentyONE"

    Parameters
    ----------
    profile
        Profile id or type id.
    name
        The new name.
    """
    async with open_engine(common) as engine:
        record = await engine.profiles.rename(profile, name)
        data = profile_summary(engine, record)
    emit(common.json, data, lambda: console.print(f"Renamed {record.type_id} to {record.name!r}."))
    return 0


@app.command(name="delete")
async def delete(
    profile: str,
    /,
    *,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Delete a profile with its configuration, schedule and run history.

    Queue rows and identity links stay: they describe your data, and a profile created again
    picks them up. Asks for confirmation unless --force is given.

    Example: plentysync profile delete plenty_stock_export --force

    Parameters
    ----------
    profile
        Profile id or type id.
    force
        Do not ask for confirmation.
    dry_run
        Show what would be deleted, without deleting it.
    """
    async with open_engine(common) as engine:
        record = await engine.profiles.resolve(profile)
        runs = await engine.history.count(record.id)
        queued = (await engine.queue.stats(record.type_id)).total
        data: dict[str, Any] = {"id": record.id, "type_id": record.type_id, "runs": runs, "queue_rows_kept": queued}
        if not dry_run:
            confirm(
                f"Delete profile {record.id} ({record.type_id}) with its configuration, schedule "
                f"and {runs} runs of history?",
                force=force,
            )
            await engine.profiles.delete(record.id)
        data["deleted"] = not dry_run

    def human() -> None:
        prefix = "Dry run: would delete" if dry_run else "Deleted"
        console.print(f"{prefix} profile {record.id} ({record.type_id}) and {runs} runs of history.")
        if queued:
            console.print(f"{queued} queue rows of {record.type_id} stay (purge them with: plentysync queue purge).")

    emit(common.json, data, human)
    return 0


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
    if run.message and ";" in run.message:
        console.print(run.message.split("; ", 1)[1])
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


@app.command(name="run")
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
        with RichProgress(f"Running {profile}", enabled=not common.json) as progress:
            report = await runner.run(profile, trigger=trigger, options=options, progress=progress)
    emit(common.json, _report_data(report), lambda: render_report(report, verbose))
    return exit_code_for(report.run.status)


history_app = App(
    name="history",
    help="""Run history: recent runs, the entities of one run, one entity's history; `clean` deletes old runs.

Example: plentysync profile history plenty_stock_export --limit 5

Example: plentysync profile history --run 42 --status error""",
)
app.command(history_app)


@history_app.default
async def history(
    profile: str | None = None,
    /,
    *,
    limit: int = 10,
    status: list[str] | None = None,
    run: int | None = None,
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


@history_app.command(name="clean")
async def history_clean(
    *,
    days: int | None = None,
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

    if days is not None and days < 0:
        raise UsageError("--days cannot be negative")
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


config_app = App(name="config", help="Export and import profile configuration (TOML or JSON).")
app.command(config_app)


@config_app.command(name="export")
async def config_export(
    profile: str,
    /,
    *,
    output: Annotated[Path | None, Parameter(name=["--output", "-o"])] = None,
    format: Literal["toml", "json"] | None = None,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    common: Common = Common(),
) -> int:
    """Export a profile's configuration (type, name, schedule, options; never credentials).

    Example: plentysync profile config export plenty_stock_export -o stock-export.toml

    Parameters
    ----------
    profile
        Profile id or type id.
    output
        File to write (default: print it). The format follows the extension unless --format is given.
    format
        toml (default) or json.
    force
        Overwrite an existing file.
    """
    from plentysync.engine.configio import dumps, export_document

    fmt = format_for(output, format)
    async with open_engine(common) as engine:
        record = await engine.profiles.resolve(profile)
        doc = export_document(record, await engine.schedules.get(record.id))
        text = dumps(doc, fmt, engine.registry)
    if output is None:
        if common.json:
            emit(True, doc, lambda: None)
        else:
            print(text, end="")
        return 0
    if output.exists() and not force:
        raise UsageError(f"{output} exists; pass --force to overwrite it")
    output.write_text(text, encoding="utf-8")
    emit(common.json, {"written": str(output), "format": fmt}, lambda: console.print(f"Wrote {output} ({fmt})."))
    return 0


@config_app.command(name="import")
async def config_import(
    file: Path,
    /,
    *,
    format: Literal["toml", "json"] | None = None,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Import a configuration file: updates the profile of its type, or creates it (disabled).

    The file is validated completely before anything changes. The profile's status is never
    changed by an import.

    Example: plentysync profile config import stock-export.toml --dry-run

    Parameters
    ----------
    file
        A file written by `profile config export` (TOML or JSON).
    format
        toml or json (default: from the extension).
    dry_run
        Validate and show the changes, without applying them.
    """
    fmt = format_for(file, format)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror}") from None
    async with open_engine(common) as engine:
        doc = parse_document(loads(text, fmt, source=str(file)), engine.registry, source=str(file))
        existing = await engine.profiles.find(doc.type_id)
        new_config = doc.config.model_dump(mode="json")
        changed = sorted(
            key
            for key in set(new_config) | set(existing.config if existing else {})
            if (existing.config if existing else {}).get(key) != new_config.get(key)
        )
        action = "update" if existing else "create"
        if not dry_run:
            if existing is None:
                record = await engine.profiles.create(doc.type_id, name=doc.name, config=new_config)
            else:
                record = await engine.profiles.update_config(existing.id, new_config)
                if doc.name != existing.name:
                    record = await engine.profiles.rename(existing.id, doc.name)
            if doc.schedule is not None:
                await engine.schedules.set(
                    record.id, doc.schedule.cron_expr, doc.schedule.timezone, enabled=doc.schedule.enabled
                )
    data = {"dry_run": dry_run, "action": action, "type_id": doc.type_id, "changed_options": changed}

    def human() -> None:
        prefix = "Dry run: would " if dry_run else ""
        verb = (
            {"update": "update", "create": "create"}[action]
            if dry_run
            else {"update": "Updated", "create": "Created"}[action]
        )
        console.print(f"{prefix}{verb} {doc.type_id}; changed options: {', '.join(changed) or 'none'}.")

    emit(common.json, data, human)
    return 0


@app.command(name="schedule")
async def schedule(
    profile: str,
    /,
    *,
    cron: str | None = None,
    timezone: str | None = None,
    enable: bool = False,
    disable: bool = False,
    clear: bool = False,
    next: int = 5,
    jobs: int = 10,
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
        How many upcoming runs to list.
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
        from plentysync.engine.schedule import fire_times

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
