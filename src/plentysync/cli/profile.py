"""``plentysync profile ...``: the profile grid, lifecycle and manual runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from cyclopts import App, Parameter
from rich.panel import Panel

from plentysync.cli.common import profile_summary, read_text_file
from plentysync.cli.context import Common, open_engine
from plentysync.cli.history import app as history_app
from plentysync.cli.output import (
    confirm,
    console,
    emit,
    fmt_time,
    styled,
    table,
)
from plentysync.cli.profile_config import app as config_app
from plentysync.cli.runs import run
from plentysync.cli.schedule import schedule
from plentysync.engine.configio import format_for, loads
from plentysync.engine.schedule import describe, normalize_cron, zone
from plentysync.errors import ConfigError, UsageError
from plentysync.sync import SEED_TYPES

app = App(name="profile", help="Profiles: one configured sync job per type (entity + direction).")


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
        text = read_text_file(config_file)
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


app.command(run, name="run")
app.command(history_app)
app.command(config_app)
app.command(schedule, name="schedule")
