"""``plentysync queue ...``: look into and manage the coalescing queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from cyclopts import App, Parameter

from plentysync.cli.common import Days, Limit, Offset, parse_ids, profile_type_of, read_keys_file, split_list
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import confirm, console, emit, fmt_time, styled, table
from plentysync.engine.queue import PRIORITY_DEFAULT, PRIORITY_URGENT, QueueStatus, validate_keys, validate_reason
from plentysync.engine.services import Engine
from plentysync.errors import PlentysyncError, UsageError
from plentysync.log import get_logger

app = App(name="queue", help="The coalescing queue: one row per (profile type, entity key).")
log = get_logger(__name__)


@app.command(name="stats")
async def stats(
    *, profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None, common: Common = Common()
) -> int:
    """Row counts by profile, status and trigger reason, with the rows due now and expired leases.

    Example: plentysync queue stats --profile plenty_stock_export

    Parameters
    ----------
    profile
        Only this profile type (type id or profile id).
    """
    async with open_engine(common) as engine:
        ptype = await profile_type_of(engine, profile) if profile else None
        result = await engine.queue.stats(ptype)

    def human() -> None:
        if not result.total:
            console.print("The queue is empty.")
            return
        statuses = [s.value for s in QueueStatus]
        grid = table("Profile type", *statuses, "total", title="Queue by status")
        for ptype_name, counts in sorted(result.by_profile.items()):
            grid.add_row(ptype_name, *(str(counts.get(s, 0)) for s in statuses), str(sum(counts.values())))
        console.print(grid)
        reasons = table("Trigger reason", "rows", title="By trigger reason")
        for reason, count in sorted(result.by_reason.items(), key=lambda kv: -kv[1]):
            reasons.add_row(reason, str(count))
        console.print(reasons)
        console.print(
            f"Due now: {result.due_now}   Expired leases: {result.expired_leases}   "
            f"Oldest pending since: {fmt_time(result.oldest_pending_at)}"
        )

    emit(common.json, result, human)
    return 0


@app.command(name="list")
async def list_rows(
    *,
    profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None,
    status: Annotated[list[str] | None, Parameter(name=["--status", "-w"])] = None,
    key: Annotated[list[str] | None, Parameter(name=["--key", "-k"])] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    common: Common = Common(),
) -> int:
    """List queue rows, most recently changed first.

    Example: plentysync queue list --profile plenty_stock_export --status error

    Parameters
    ----------
    profile
        Only this profile type.
    status
        Only these statuses (comma-separated).
    key
        Only these entity keys (comma-separated or repeated).
    limit
        Rows to show.
    offset
        Rows to skip (paging).
    """
    statuses = split_list(status) or None
    for s in statuses or ():
        if s not in {q.value for q in QueueStatus}:
            raise UsageError(f"unknown status {s!r} (one of {', '.join(q.value for q in QueueStatus)})")
    async with open_engine(common) as engine:
        ptype = await profile_type_of(engine, profile) if profile else None
        rows = await engine.queue.list_items(
            ptype, statuses=statuses, keys=split_list(key) or None, limit=limit, offset=offset
        )

    def human() -> None:
        if not rows:
            console.print("No queue rows match.")
            return
        grid = table("ID", "Profile type", "Key", "Status", "Reason", "Attempts", "Version", "Updated", "Message")
        for row in rows:
            grid.add_row(
                str(row.id),
                row.profile_type,
                row.entity_key,
                styled(row.status),
                row.trigger_reason,
                str(row.attempts),
                str(row.version),
                fmt_time(row.updated_at),
                row.message or "",
            )
        console.print(grid)

    emit(common.json, rows, human)
    return 0


@app.command(name="add")
async def add(
    *,
    profile: Annotated[str, Parameter(name=["--profile", "-p"])],
    key: Annotated[list[str] | None, Parameter(name=["--key", "-k"])] = None,
    file: Path | None = None,
    reason: str = "manual",
    urgent: bool = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Queue entity keys for a profile type (rows already queued are set back to pending).

    Example: plentysync queue add --profile plenty_stock_export -k 24-MG04,WSH12

    Parameters
    ----------
    profile
        Profile type (type id or profile id).
    key
        Entity keys, comma-separated or repeated.
    file
        A file with one key per line (# comments allowed).
    reason
        Trigger reason to record (manual, cli, webhook, ...).
    urgent
        Process before ordinary rows.
    dry_run
        Validate the keys and show the count, without queueing.
    """
    keys = split_list(key) + (read_keys_file(file) if file else [])
    if not keys:
        raise UsageError("nothing to queue: pass --key or --file")
    validate_keys(keys)
    validate_reason(reason)
    async with open_engine(common) as engine:
        ptype = await profile_type_of(engine, profile)
        if dry_run:
            data: dict[str, Any] = {"dry_run": True, "profile_type": ptype, "keys": len(set(keys))}
        else:
            inserted, updated = await _enqueue_in_chunks(
                engine, ptype, keys, reason=reason, priority=PRIORITY_URGENT if urgent else PRIORITY_DEFAULT
            )
            data = {"dry_run": False, "profile_type": ptype, "inserted": inserted, "updated": updated}

    def human() -> None:
        if dry_run:
            console.print(f"Dry run: would queue {data['keys']} keys for {ptype}.")
        else:
            console.print(
                f"Queued for {ptype}: {data['inserted']} new rows, {data['updated']} existing rows set to pending."
            )

    emit(common.json, data, human)
    return 0


async def _enqueue_in_chunks(
    engine: Engine, ptype: str, keys: list[str], *, reason: str, priority: int
) -> tuple[int, int]:
    """Enqueue ``keys`` one chunk (one transaction) at a time, counting what is committed. When a chunk
    fails (disk full, database gone) the chunks before it stay queued: the error says how many keys
    that is, and that the rest were not. Returns (new rows, existing rows set to pending)."""
    size = engine.queue.chunk_size
    inserted = updated = queued = 0
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
        try:
            result = await engine.queue.enqueue(ptype, chunk, reason=reason, priority=priority)
        except Exception as exc:
            if len(keys) <= size:
                raise  # one transaction: nothing was queued
            if isinstance(exc, PlentysyncError):
                cause, code = str(exc), exc.exit_code
            else:
                log.error("queue.add_failed", profile_type=ptype, queued=queued, exc_info=True)
                cause, code = f"internal error: {type(exc).__name__}: {exc}", 70
            error = PlentysyncError(
                f"queued {queued} of {len(keys)} keys for {ptype}, then failed; the other {len(keys) - queued} "
                f"were not queued (adding the same keys again is harmless): {cause}"
            )
            error.exit_code = code
            raise error from exc
        inserted, updated, queued = inserted + result.inserted, updated + result.updated, queued + len(chunk)
    return inserted, updated


@app.command(name="retry")
async def retry(
    *,
    profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None,
    key: Annotated[list[str] | None, Parameter(name=["--key", "-k"])] = None,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Set rows in status error back to pending with a fresh set of attempts ("Reset to Pending").

    Example: plentysync queue retry --profile plenty_stock_export

    Parameters
    ----------
    profile
        Only this profile type.
    key
        Only these keys.
    dry_run
        Count the rows, without changing them.
    """
    keys = split_list(key) or None
    async with open_engine(common) as engine:
        ptype = await profile_type_of(engine, profile) if profile else None
        if dry_run:
            count = (
                (await engine.queue.stats(ptype)).by_status.get("error", 0)
                if keys is None
                else len(await engine.queue.list_items(ptype, statuses=["error"], keys=keys, limit=len(keys)))
            )
        else:
            count = await engine.queue.retry_errors(ptype, keys)
    verb = "Would reset" if dry_run else "Reset"
    emit(
        common.json,
        {"dry_run": dry_run, "rows": count},
        lambda: console.print(f"{verb} {count} error rows to pending."),
    )
    return 0


@app.command(name="recover")
async def recover(*, common: Common = Common()) -> int:
    """Return rows whose worker stopped responding (lease expired) to pending now.

    Workers do this on their own before every claim; this is for looking at the queue right away.

    Example: plentysync queue recover
    """
    async with open_engine(common) as engine:
        count = await engine.queue.recover_expired()
    emit(
        common.json,
        {"rows": count},
        lambda: console.print(f"{count} rows with an expired lease returned to the queue."),
    )
    return 0


@app.command(name="purge")
async def purge(
    *,
    profile: Annotated[str | None, Parameter(name=["--profile", "-p"])] = None,
    key: Annotated[list[str] | None, Parameter(name=["--key", "-k", "-s"])] = None,
    id: Annotated[list[str] | None, Parameter(name=["--id", "-i"])] = None,
    older_than: Annotated[Days | None, Parameter(name=["--older-than", "-o"])] = None,
    all: Annotated[bool, Parameter(name=["--all", "-a"])] = False,
    force: Annotated[bool, Parameter(name=["--force", "-f"])] = False,
    dry_run: bool = False,
    common: Common = Common(),
) -> int:
    """Delete queue rows: by key, by row id, finished rows older than N days, or all of them.

    --older-than only removes finished rows (success, error, skipped): pending and processing
    rows are work not yet done and are never purged by age. Asks for confirmation unless --force.

    Example: plentysync queue purge --profile plenty_stock_export --older-than 30 --force

    Example: plentysync queue purge --profile plenty_stock_export -k SKU1,SKU2

    Parameters
    ----------
    profile
        Only this profile type (required with --key).
    key
        Entity keys to remove.
    id
        Row ids to remove (comma-separated or repeated).
    older_than
        Remove finished rows not changed for this many days.
    all
        Remove every row (of the profile type, or of every type).
    force
        Do not ask for confirmation.
    dry_run
        Count the rows that would be removed.
    """
    keys = split_list(key) or None
    ids = parse_ids(id) or None
    selectors = sum(x is not None for x in (keys, ids, older_than)) + int(all)
    if selectors != 1:
        raise UsageError("choose exactly one of --key, --id, --older-than, --all")
    async with open_engine(common) as engine:
        ptype = await profile_type_of(engine, profile) if profile else None
        kwargs: dict[str, Any] = {
            "keys": keys,
            "ids": ids,
            "older_than": timedelta(days=older_than) if older_than is not None else None,
            "everything": all,
        }
        count = await engine.queue.purge(ptype, dry_run=True, **kwargs)
        if not dry_run and count:
            scope = ptype or "every profile type"
            confirm(f"Delete {count} queue rows of {scope}?", force=force)
            count = await engine.queue.purge(ptype, **kwargs)
    verb = "Would delete" if dry_run else "Deleted"
    emit(common.json, {"dry_run": dry_run, "rows": count}, lambda: console.print(f"{verb} {count} queue rows."))
    return 0
