"""``plentysync profile config``: configuration to and from TOML or JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from cyclopts import App, Parameter

from plentysync.cli.common import read_text_file
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import console, emit
from plentysync.engine.configio import dumps, export_document, format_for, loads, parse_document
from plentysync.errors import UsageError

app = App(name="config", help="Export and import profile configuration (TOML or JSON).")


@app.command(name="export")
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


@app.command(name="import")
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
    text = read_text_file(file)
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
