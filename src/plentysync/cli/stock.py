"""``plentysync stock ...``: the stock profiles' commands (seed 000, "CLI Commands Reference").

``stock export`` drains the export queue (or exports given SKUs), its sub-commands manage that queue,
the drift reconciler, the producers, the baselines and the reference data; ``stock import`` runs the
PlentyONE -> Magento profile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any

from cyclopts import App, Parameter
from rich.markup import escape

from plentysync.cli.common import Days, parse_ids, split_list
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import RichProgress, confirm, console, console_logs_without, emit, fmt_time, styled, table
from plentysync.cli.runs import _report_data, exit_code_for, exit_code_of, held_elsewhere, render_held, render_report
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.queue import PRIORITY_URGENT, QueueRow
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.services import Engine
from plentysync.errors import ConfigError, UsageError
from plentysync.runtime.broker import open_publisher
from plentysync.runtime.urgent import push_urgent, topic_of
from plentysync.sync.stock import drift, producers
from plentysync.sync.stock.config import EXPORT_TYPE_ID, IMPORT_TYPE_ID, StockExportConfig, StockProfileConfig
from plentysync.sync.stock.resources import RUNTIME, StockRuntime, check_reference, open_runtime
from plentysync.sync.stock.store import Booking, DriftRow, StockStore

app = App(name="stock", help="Stock in both directions: export Magento's stock to PlentyONE, import PlentyONE's.")

export_app = App(
    name="export",
    help="""Stock export (Magento -> PlentyONE): run it on a scope, or manage its queue, drift and baselines.

Example: plentysync stock export -s 24-MG04,WSH12

Example: plentysync stock export --status pending,error -v""",
)
import_app = App(
    name="import",
    help="""Stock import (PlentyONE -> Magento): bring PlentyONE's stock into Magento's sources.

Example: plentysync stock import -s 24-MG04 --dry-run""",
)
app.command(export_app)
app.command(import_app)

NO_SCOPE_HINT = (
    "Nothing to do: without a scope the command intentionally does nothing (the cron drains "
    "status=pending on its own). Be explicit: use --status=pending to process all pending rows, "
    "--status=error to retry failed ones, or -s / -i for specific SKUs or products."
)
RUN_STATUSES = ("pending", "error", "skipped", "success")

Skus = Annotated[list[str] | None, Parameter(name=["--sku", "-s"])]
ProductIds = Annotated[list[str] | None, Parameter(name=["--id", "-i"])]
ExportProfile = Annotated[str, Parameter(name=["--profile", "-p"])]
Verbose = Annotated[int, Parameter(name=["--verbose", "-v"], count=True)]
DryRun = Annotated[bool, Parameter(name=["--dry-run", "-d"])]
Force = Annotated[bool, Parameter(name=["--force", "-f"])]
Everything = Annotated[bool, Parameter(name=["--all", "-a"])]


# -- shared ----------------------------------------------------------------------------------------


async def stock_profile(engine: Engine, ref: str, type_id: str) -> ProfileRecord:
    """The stock profile ``ref`` names, with the way to create it when there is none."""
    record = await engine.profiles.find(ref)
    if record is None:
        which = f"no {type_id} profile yet" if ref == type_id else f"no profile '{ref}'"
        raise UsageError(
            f"{which}: create it with `plentysync profile create --type {type_id} --config-file stock.toml`"
        )
    if record.type_id != type_id:
        raise UsageError(f"profile '{ref}' is a {record.type_id} profile, not {type_id}")
    return record


async def export_config(engine: Engine, ref: str) -> StockExportConfig:
    config = engine.profiles.typed_config(await stock_profile(engine, ref, EXPORT_TYPE_ID))
    assert isinstance(config, StockExportConfig)
    return config


@asynccontextmanager
async def export_runtime(engine: Engine, ref: str) -> AsyncIterator[tuple[StockRuntime, StockExportConfig]]:
    """Both API clients of the export profile, outside a run."""
    config = await export_config(engine, ref)
    async with open_runtime(engine.db, engine.settings, config, EXPORT_TYPE_ID, engine.links) as rt:
        yield rt, config


def product_ids(values: Sequence[str] | None) -> list[int]:
    return parse_ids(values, "Magento product id")


def run_statuses(values: Sequence[str] | None) -> tuple[str, ...]:
    statuses = tuple(split_list(values))
    bad = [s for s in statuses if s not in RUN_STATUSES]
    if bad:
        raise UsageError(f"--status: cannot process rows in status {', '.join(bad)} (use {', '.join(RUN_STATUSES)})")
    return statuses


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")


async def run_profile(
    engine: Engine, type_id: str, options: RunOptions, *, runtime: StockRuntime | None, show_progress: bool
) -> RunReport:
    runner = ProfileRunner(engine, extras={RUNTIME: runtime} if runtime is not None else None)
    with RichProgress(f"Running {type_id}", enabled=show_progress) as progress, console_logs_without("stamina"):
        return await runner.run(type_id, trigger="cli", options=options, progress=progress)


# -- enqueue reports -------------------------------------------------------------------------------


def seed_data(report: producers.AddReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "requested": report.requested,
        "eligible": list(report.eligible),
        "skipped": dict(report.skipped),
        "unknown": list(report.unknown),
        "inserted": report.inserted,
        "updated": report.updated,
    }


def print_seed(data: dict[str, Any]) -> None:
    if data["dry_run"]:
        console.print(f"Dry run: would queue {len(data['eligible'])} SKUs; the queue was not changed.")
    else:
        console.print(f"Seeded queue: {data['inserted']} inserted, {data['updated']} updated.")
    if data["skipped"]:
        parents = ", ".join(f"{sku} ({kind})" for sku, kind in sorted(data["skipped"].items()))
        console.print(f"Skipped, not stock-eligible (only simple, virtual, downloadable hold stock): {parents}")
    if data["unknown"]:
        console.print(f"[yellow]Unknown to Magento, not queued:[/yellow] {', '.join(map(str, data['unknown']))}")


async def seed_queue(
    rt: StockRuntime, engine: Engine, *, skus: list[str], ids: list[int], everything: bool, dry_run: bool
) -> producers.AddReport:
    return await producers.enqueue_products(
        rt, engine.queue, skus=skus, ids=ids, everything=everything, reason="cli", dry_run=dry_run
    )


# -- stock export -----------------------------------------------------------------------------------


@export_app.default
async def export(
    *,
    sku: Skus = None,
    id: ProductIds = None,
    status: Annotated[list[str] | None, Parameter(name=["--status", "-w"])] = None,
    profile: ExportProfile = EXPORT_TYPE_ID,
    limit: int | None = None,
    dry_run: DryRun = False,
    force: bool = False,
    verbose: Verbose = 0,
    common: Common = Common(),
) -> int:
    """Export stock to PlentyONE: the given SKUs / products, or the queue rows in the given statuses.

    With -s or -i the SKUs are queued first (seed summary: rows inserted / updated), then exported;
    the per-SKU results and the failures follow. Without any scope the command does nothing and says
    so: the scheduled drain processes pending rows, here you choose the scope yourself. Exit code 0
    when all went well, 3 when some SKUs failed, 1 when the run failed or when another run (a worker,
    a second `stock export -s`) held rows of the SKUs asked for: they are listed with the holding run.

    Example: plentysync stock export -s 24-MG04,WSH12,WP07

    Example: plentysync stock export --status pending,error -vv

    Parameters
    ----------
    sku
        SKUs to export, comma-separated or repeated (queued first if they are not).
    id
        Magento product ids to export (resolved to their SKUs and queued first).
    status
        Queue statuses to process, comma-separated: pending, error, skipped, success.
    profile
        The export profile (id or type id).
    limit
        Stop after this many SKUs.
    dry_run
        Compute what would be sent, send and change nothing.
    force
        Run even though the profile is disabled.
    verbose
        -v lists the SKUs' results (first 20), -vv all of them (up to 50 kept per run).
    """
    skus, ids, statuses = split_list(sku), product_ids(id), run_statuses(status)
    check_limit(limit)
    if not (skus or ids or statuses):
        emit(common.json, {"hint": NO_SCOPE_HINT, "seed": None, "run": None}, lambda: console.print(NO_SCOPE_HINT))
        return 0
    options = RunOptions(statuses=statuses or ("pending",), limit=limit, dry_run=dry_run, force=force)
    held: list[dict[str, Any]] = []
    async with open_engine(common) as engine:
        await stock_profile(engine, profile, EXPORT_TYPE_ID)
        if skus or ids:
            with console_logs_without("stamina"):
                seed, report = await export_products(engine, profile, skus, ids, options, as_json=common.json)
            if report is not None and seed is not None:
                held = await held_elsewhere(engine, report, seed["eligible"])
        else:
            seed, report = (
                None,
                await run_profile(engine, profile, options, runtime=None, show_progress=not common.json),
            )
    if report is None:
        emit(common.json, {"seed": seed, "run": None}, lambda: console.print("No SKU to export."))
        return 1 if seed and seed["unknown"] else 0
    shown = max(verbose, 1) if seed is not None else verbose
    data = {"seed": seed, "run": {**_report_data(report), "held_by_another_run": held}}

    def human() -> None:
        render_report(report, shown)
        render_held(held)

    emit(common.json, data, human)
    return exit_code_of(report, held)


async def export_products(
    engine: Engine, profile: str, skus: list[str], ids: list[int], options: RunOptions, *, as_json: bool
) -> tuple[dict[str, Any], RunReport | None]:
    """Queue the SKUs (printing the seed summary), then run the profile on the eligible ones."""
    async with export_runtime(engine, profile) as (rt, _config):
        report = await seed_queue(rt, engine, skus=skus, ids=ids, everything=False, dry_run=options.dry_run)
        seed = seed_data(report)
        if not as_json:
            print_seed(seed)
        if not seed["eligible"]:
            return seed, None
        keyed = replace(options, keys=tuple(seed["eligible"]), enqueue_keys=False)
        return seed, await run_profile(engine, profile, keyed, runtime=rt, show_progress=not as_json)


@export_app.command(name="add")
async def add(
    *,
    sku: Skus = None,
    id: ProductIds = None,
    all: Everything = False,
    profile: ExportProfile = EXPORT_TYPE_ID,
    force: Force = False,
    dry_run: DryRun = False,
    now: bool = False,
    common: Common = Common(),
) -> int:
    """Queue SKUs for export; configurable, bundle and grouped parents are skipped (they hold no stock).

    --all queues every stock-eligible product of the catalog (onboarding, while the cached PlentyONE
    stock is still empty and drift cannot compare); it asks first unless --force.

    --now queues at urgent priority and, when broker_url is set, publishes the SKUs on the topic
    plenty.stock.export.processor so a worker exports them within seconds; without a broker (or when
    it is down) the rows wait, first in line, for the next drain.

    Example: plentysync stock export add -s 24-MG04,WSH12

    Example: plentysync stock export add -s 24-MG04 --now

    Example: plentysync stock export add --all --force

    Parameters
    ----------
    sku
        SKUs to queue, comma-separated or repeated.
    id
        Magento product ids to queue.
    all
        Queue the whole catalog.
    profile
        The export profile (id or type id): its connections are used.
    force
        Do not ask before --all.
    dry_run
        Show what would be queued, without queueing.
    now
        Export now: urgent priority, and wake a worker through the broker when one is configured.
    """
    skus, ids = split_list(sku), product_ids(id)
    if all == bool(skus or ids):
        raise UsageError("choose what to queue: -s / -i, or --all")
    if now and dry_run:
        raise UsageError("--now queues and publishes; it cannot be combined with --dry-run")
    async with open_engine(common) as engine:
        await stock_profile(engine, profile, EXPORT_TYPE_ID)
        if all and not dry_run:
            confirm("Queue every stock-eligible product of the catalog for export?", force=force)
        async with export_runtime(engine, profile) as (rt, _config):
            if now:
                data = await add_now(rt, engine, skus=skus, ids=ids, everything=all)
            else:
                data = seed_data(await seed_queue(rt, engine, skus=skus, ids=ids, everything=all, dry_run=dry_run))
    emit(common.json, data, lambda: print_add_now(data) if now else print_seed(data))
    return 0


async def add_now(
    rt: StockRuntime, engine: Engine, *, skus: list[str], ids: list[int], everything: bool
) -> dict[str, Any]:
    """Resolve the eligible SKUs (without writing), then queue them urgently and publish a wake-up."""
    report = await seed_queue(rt, engine, skus=skus, ids=ids, everything=everything, dry_run=True)
    publisher = open_publisher(engine.settings)
    try:
        result = await push_urgent(engine.queue, EXPORT_TYPE_ID, report.eligible, reason="cli", publisher=publisher)
    finally:
        if publisher is not None:
            await publisher.aclose()
    report.dry_run, report.inserted, report.updated = False, result.enqueued.inserted, result.enqueued.updated
    data = seed_data(report)
    data.update(
        priority=PRIORITY_URGENT,
        published=result.published,
        topic=topic_of(EXPORT_TYPE_ID),
        broker=None if publisher is None else publisher.url,
    )
    return data


def print_add_now(data: dict[str, Any]) -> None:
    print_seed(data)
    if not data["eligible"]:
        return
    if data["published"]:
        console.print(f"Published on {data['topic']}: a worker picks the rows up now (urgent priority).")
    elif data["broker"] is None:
        console.print(
            "No broker configured (broker_url): the rows wait at urgent priority for the next drain "
            "(the worker, or `plentysync cron run`)."
        )
    else:
        console.print(
            f"[yellow]The broker at {data['broker']} did not take the message:[/yellow] the rows wait at "
            "urgent priority for the next drain (the worker, or `plentysync cron run`)."
        )


@export_app.command(name="purge")
async def purge(
    *,
    sku: Skus = None,
    id: Annotated[list[str] | None, Parameter(name=["--id", "-i"])] = None,
    older_than: Annotated[Days | None, Parameter(name=["--older-than", "-o"])] = None,
    all: Everything = False,
    force: Force = False,
    dry_run: DryRun = False,
    common: Common = Common(),
) -> int:
    """Delete export queue rows: by SKU, by queue row id, finished rows older than N days, or all.

    --older-than only removes finished rows (success, error, skipped); pending and processing rows
    are never purged by age, so it is safe to run daily. --all empties the whole export queue and asks
    first unless --force. Baselines are kept: they live in their own table (see reset-baseline).

    Example: plentysync stock export purge --older-than 30

    Example: plentysync stock export purge -s SKU1,SKU2

    Parameters
    ----------
    sku
        SKUs whose rows to remove.
    id
        Queue row ids to remove (comma-separated or repeated).
    older_than
        Remove finished rows not changed for this many days.
    all
        Remove every row of the export queue, in every status.
    force
        Do not ask before --all.
    dry_run
        Count the rows that would be removed.
    """
    skus, ids = split_list(sku) or None, parse_ids(id) or None
    if older_than is not None and older_than < 0:
        raise UsageError("--older-than cannot be negative")
    if sum(x is not None for x in (skus, ids, older_than)) + int(all) != 1:
        raise UsageError("choose exactly one of -s, -i, --older-than, --all")
    selection: dict[str, Any] = {
        "keys": skus,
        "ids": ids,
        "older_than": timedelta(days=older_than) if older_than is not None else None,
        "everything": all,
    }
    async with open_engine(common) as engine:
        count = await engine.queue.purge(EXPORT_TYPE_ID, dry_run=True, **selection)
        if not dry_run and count:
            if all:
                confirm(f"Delete all {count} rows of the stock export queue?", force=force)
            count = await engine.queue.purge(EXPORT_TYPE_ID, **selection)
    verb = "Would delete" if dry_run else "Deleted"
    emit(
        common.json,
        {"dry_run": dry_run, "rows": count, "baselines_kept": True},
        lambda: console.print(
            f"{verb} {count} export queue rows. Baselines are kept (see: stock export reset-baseline)."
        ),
    )
    return 0


# -- drift and producers --------------------------------------------------------------------------


def print_drift(report: drift.DriftReport) -> None:
    verb = "would queue" if report.dry_run else "queued"
    console.print(
        f"Compared {report.compared} SKUs with the cached PlentyONE stock: {report.divergent_skus} divergent, "
        f"{verb} {report.enqueued} (trigger reason collect_drift)."
    )
    if report.divergent:
        grid = table("SKU", "Warehouse", "Magento", "PlentyONE (cached)", title="Divergent, largest gap first")
        for d in report.divergent:
            grid.add_row(d.sku, str(d.warehouse_id), qty(d.magento), qty(d.plenty))
        console.print(grid)
    for note in report.notes:
        console.print(f"• {note}")
    if report.persistent:
        print_persistent(report.persistent)


def print_persistent(rows: Sequence[DriftRow]) -> None:
    grid = table("SKU", "Sweeps in a row", "Magento", "PlentyONE (cached)", "Since", title="Keeps drifting")
    for row in rows:
        grid.add_row(
            row.sku,
            str(row.consecutive),
            qty(row.magento_quantity),
            qty(row.plenty_quantity),
            fmt_time(row.first_seen_at),
        )
    console.print(grid)
    skus = ",".join(row.sku for row in rows)
    console.print(
        "Fix (troubleshooting 2 / 5): set bootstrap_policy = absolute_then_delta, then\n"
        f"  plentysync stock export reset-baseline -s {skus}\n"
        f"  plentysync stock export -s {skus}"
    )


@export_app.command(name="drift")
async def drift_sweep(
    *,
    limit: int | None = None,
    profile: ExportProfile = EXPORT_TYPE_ID,
    dry_run: DryRun = False,
    common: Common = Common(),
) -> int:
    """Compare Magento's stock with the cached PlentyONE stock and queue the SKUs that differ.

    The same sweep the worker runs on the profile's drift_cron; divergent SKUs are queued with
    trigger reason collect_drift. SKUs that keep drifting are listed with what to do about them.

    Example: plentysync stock export drift --limit 500

    Parameters
    ----------
    limit
        Queue at most this many divergent SKUs.
    profile
        The export profile (id or type id).
    dry_run
        Compare and list, without queueing.
    """
    check_limit(limit)
    async with open_engine(common) as engine, export_runtime(engine, profile) as (rt, config):
        report = await drift.sweep(rt, engine.queue, config, limit=limit, dry_run=dry_run)
    emit(common.json, report, lambda: print_drift(report))
    return 0


def print_polls(reports: Sequence[producers.PollReport]) -> None:
    for report in reports:
        print_poll(report)


def print_poll(report: producers.PollReport) -> None:
    verb = "would queue" if report.dry_run else "queued"
    changed = ", ".join(report.changed[:20]) + (" ..." if len(report.changed) > 20 else "")
    details = [f"{report.removed} removed"] if report.removed else []
    details += [f"{report.skipped} parents skipped"] if report.skipped else []
    console.print(
        f"{report.producer}: {report.scanned} scanned, {len(report.changed)} changed"
        f"{''.join(', ' + d for d in details)}, {verb} {report.enqueued}{': ' + changed if changed else ''}."
    )
    if report.note:
        console.print(f"  {report.note}")


@export_app.command(name="poll")
async def poll(*, profile: ExportProfile = EXPORT_TYPE_ID, dry_run: DryRun = False, common: Common = Common()) -> int:
    """Look for stock changes in Magento once (source items, then products) and queue what changed.

    plentysync cannot hook into Magento's saves, so the worker runs these producers every
    poll_interval_seconds; this command runs them once, now. Legacy inventory (no MSI) has no source
    items to scan: only the product poll runs.

    Example: plentysync stock export poll --dry-run

    Parameters
    ----------
    profile
        The export profile (id or type id).
    dry_run
        Show what changed, without queueing or moving the watermarks.
    """
    async with open_engine(common) as engine, export_runtime(engine, profile) as (rt, config):
        reports: list[producers.PollReport] = []
        if config.inventory_api != "legacy":
            reports.append(await producers.poll_source_items(rt, engine.queue, dry_run=dry_run))
        reports.append(await producers.poll_products(rt, engine.queue, dry_run=dry_run))
    emit(common.json, {"dry_run": dry_run, "polls": reports}, lambda: print_polls(reports))
    return 0


# -- one SKU, baselines, reference data -------------------------------------------------------------


def qty(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def queue_data(row: QueueRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "id": row.id,
        "status": row.status,
        "trigger_reason": row.trigger_reason,
        "attempts": row.attempts,
        "message": row.message,
        "updated_at": row.updated_at,
    }


def booking_data(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "warehouse_id": booking.warehouse_id,
        "mode": booking.mode,
        "operation": booking.operation,
        "reason_id": booking.reason_id,
        "quantity": booking.quantity,
        "delta": booking.delta,
        "status": booking.status,
        "plenty_booking_id": booking.plenty_booking_id,
        "order_no": booking.plenty_order_no,
        "message": booking.message,
        "created_at": booking.created_at,
    }


RUN_STOPPED = "the run stopped before this row"
"""How the runner marks the rows a stopped run hands back (:meth:`ProfileRunner._wrap_up`)."""


def unsettled_note(bookings: list[dict[str, Any]]) -> str | None:
    """What the bookings whose answer never came mean for the SKU (None when there are none)."""
    pending = [b for b in bookings if b["status"] == "pending"]
    if not pending:
        return None
    what = "1 booking was" if len(pending) == 1 else f"{len(pending)} bookings were"
    return (
        f"{what} sent but PlentyONE's answer never came (outcome unknown): the next run looks for it in "
        "PlentyONE's stock movements and settles it, as applied or not, before anything new is sent for this SKU"
    )


def print_queue_row(sku: str, row: dict[str, Any] | None, bookings: list[dict[str, Any]] | None = None) -> None:
    if row is None:
        console.print(f"[bold]{sku}[/bold]: not in the export queue.")
        return
    console.print(
        f"[bold]{sku}[/bold]: queue row {row['id']}, {styled(row['status'])}, reason {row['trigger_reason']}, "
        f"{row['attempts']} attempts, updated {fmt_time(row['updated_at'])}"
    )
    note = unsettled_note(bookings or [])
    message = row["message"]
    if message and message.startswith(RUN_STOPPED) and note:
        # the row was handed back while its booking was in flight: it did not stop *before* the row
        message = "the run stopped while this row's booking was in flight; the row was queued again"
    if message:
        console.print(f"  {escape(message)}", soft_wrap=True)
    if note:
        console.print(f"  [yellow]{note}[/yellow]", soft_wrap=True)


def print_stock_rows(baselines: list[dict[str, Any]], cached: list[dict[str, Any]]) -> None:
    if baselines:
        grid = table("Warehouse", "Baseline", "Set by", "Updated", title="Baselines (last pushed quantity)")
        for b in baselines:
            grid.add_row(str(b["warehouse_id"]), qty(b["quantity"]), b["source"], fmt_time(b["updated_at"]))
        console.print(grid)
    else:
        console.print("No baselines: the next delta push bootstraps (bootstrap_policy).")
    if cached:
        grid = table("Warehouse", "Variation", "Physical", "Net", "Reserved", "Fetched", title="Cached PlentyONE stock")
        for c in cached:
            grid.add_row(
                str(c["warehouse_id"]),
                str(c["variation_id"]),
                qty(c["physical"]),
                qty(c["net"]),
                qty(c["reserved"]),
                fmt_time(c["fetched_at"]),
            )
        console.print(grid)
    else:
        console.print("No cached PlentyONE stock (filled by stock import).")


def settled_booking(booking: dict[str, Any]) -> bool:
    """Its answer was lost and PlentyONE's movement log settled it (the message says which movement)."""
    return str(booking["message"] or "").startswith("outcome was unknown")


def print_bookings(bookings: list[dict[str, Any]]) -> None:
    if not bookings:
        console.print("No bookings.")
        return
    grid = table(
        "Time", "Warehouse", "Mode", "Operation", "Reason", "Quantity", "Delta", "Status", "Booking / order no",
        "Message", title="Bookings, newest first",
    )  # fmt: skip
    for b in bookings:
        ref = " / ".join(str(x) for x in (b["plenty_booking_id"], b["order_no"]) if x)
        grid.add_row(
            fmt_time(b["created_at"]),
            str(b["warehouse_id"]),
            b["mode"],
            b["operation"],
            str(b["reason_id"] or "—"),
            qty(b["quantity"]),
            qty(b["delta"]),
            styled(b["status"]),
            ref or "—",
            "" if b["status"] == "applied" and not settled_booking(b) else (b["message"] or ""),
        )
    console.print(grid)


@export_app.command(name="show")
async def show(sku: str, /, *, limit: int = 20, common: Common = Common()) -> int:
    """One SKU's export state: queue row, baselines, cached PlentyONE stock and the booking trail.

    Baselines and cached stock are per PlentyONE warehouse; the bookings (the seed's
    metadata.plenty_bookings) are listed newest first.

    Example: plentysync stock export show 24-MG04 --limit 10

    Parameters
    ----------
    sku
        The SKU.
    limit
        Bookings to show.
    """
    check_limit(limit)
    async with open_engine(common) as engine:
        store = StockStore(engine.db)
        rows = await engine.queue.list_items(EXPORT_TYPE_ID, keys=[sku], limit=1)
        data: dict[str, Any] = {
            "sku": sku,
            "queue": queue_data(rows[0] if rows else None),
            "baselines": await store.baseline_rows(sku),
            "plenty_stock": await store.plenty_rows(sku),
            "bookings": [booking_data(b) for b in await store.bookings(sku, limit=limit)],
        }

    data["unsettled"] = unsettled_note(data["bookings"])

    def human() -> None:
        print_queue_row(sku, data["queue"], data["bookings"])
        print_stock_rows(data["baselines"], data["plenty_stock"])
        print_bookings(data["bookings"])

    emit(common.json, data, human)
    return 0


@export_app.command(name="reset-baseline")
async def reset_baseline(
    *, sku: Skus = None, force: Force = False, dry_run: DryRun = False, common: Common = Common()
) -> int:
    """Forget the baselines of SKUs so their next delta push bootstraps again (troubleshooting 2 and 5).

    For SKUs seeded by skip_and_seed whose PlentyONE stock was never aligned: set bootstrap_policy
    to absolute_then_delta, reset their baselines, then export them again. Asks first unless --force.

    Example: plentysync stock export reset-baseline -s 24-MG04 --force

    Parameters
    ----------
    sku
        SKUs whose baselines to forget, comma-separated or repeated.
    force
        Do not ask for confirmation.
    dry_run
        Count the baselines that would be forgotten.
    """
    skus = split_list(sku)
    if not skus:
        raise UsageError("name the SKUs whose baselines to forget: -s SKU1,SKU2")
    async with open_engine(common) as engine:
        store = StockStore(engine.db)
        count = await store.clear_baselines(skus, dry_run=True)
        if not dry_run and count:
            confirm(f"Forget {count} baselines of {len(skus)} SKUs?", force=force)
            count = await store.clear_baselines(skus)
        policy = await bootstrap_policy(engine)
    data = {"dry_run": dry_run, "baselines": count, "skus": skus, "bootstrap_policy": policy}

    def human() -> None:
        verb = "Would forget" if dry_run else "Forgot"
        console.print(f"{verb} {count} baselines of {len(skus)} SKUs.")
        if not dry_run and count:
            console.print(f"Export them again to bootstrap: plentysync stock export -s {','.join(skus)}")
        if policy == "skip_and_seed":
            console.print(
                "[yellow]bootstrap_policy is skip_and_seed:[/yellow] the next push seeds the baseline again "
                "without aligning PlentyONE; switch to absolute_then_delta first."
            )

    emit(common.json, data, human)
    return 0


async def bootstrap_policy(engine: Engine) -> str | None:
    record = await engine.profiles.find(EXPORT_TYPE_ID)
    if record is None or engine.profiles.config_problem(record) is not None:
        return None
    config = engine.profiles.typed_config(record)
    return config.bootstrap_policy if isinstance(config, StockExportConfig) else None


async def reference_data(engine: Engine, rt: StockRuntime, config: StockProfileConfig) -> dict[str, Any]:
    """Collect both systems' reference data afresh and check the configuration against it."""
    await engine.refdata.clear(rt.plenty_connection_id, "plenty.warehouses")
    await engine.refdata.clear(rt.magento_connection_id, "magento.sources")
    problem = None
    try:
        await check_reference(rt, engine.refdata, config)
    except ConfigError as exc:
        problem = str(exc)
    warehouses = await engine.refdata.get(rt.plenty_connection_id, "plenty.warehouses")
    sources = await engine.refdata.get(rt.magento_connection_id, "magento.sources")
    source_items = sources.items if sources else []
    msi = not any(s.get("msi") is False for s in source_items)
    return {
        "ok": problem is None,
        "problem": problem,
        "warehouses": warehouses.items if warehouses else [],
        "msi": msi,
        "sources": source_items if msi else [],
        "main_warehouse_id": config.main_warehouse_id,
        "stock_source_mapping": config.stock_source_mapping,
    }


def print_reference(data: dict[str, Any]) -> None:
    grid = table("Warehouse", "Name", title="PlentyONE warehouses")
    for w in data["warehouses"]:
        grid.add_row(str(w["id"]), w.get("name") or "")
    console.print(grid)
    if data["msi"]:
        grid = table("Source", "Name", "Mapped to warehouse", title="Magento sources")
        for s in data["sources"]:
            mapped = data["stock_source_mapping"].get(s["source_code"])
            grid.add_row(s["source_code"], s.get("name") or "", str(mapped) if mapped else "—")
        console.print(grid)
    else:
        console.print("Magento answers no MSI source routes (legacy inventory).")
    if data["ok"]:
        console.print("[green]OK[/green]: the configuration matches both systems.")
    else:
        console.print(f"[red]Problems:[/red] {data['problem']}")


@export_app.command(name="check")
async def check(*, profile: ExportProfile = EXPORT_TYPE_ID, common: Common = Common()) -> int:
    """Collect PlentyONE's warehouses and Magento's sources afresh and check the profile against them.

    The seed's "Collect Configuration Data": exit code 0 when main_warehouse_id and every
    stock_source_mapping row exist in both systems, 2 otherwise.

    Example: plentysync stock export check

    Parameters
    ----------
    profile
        The export profile (id or type id).
    """
    async with open_engine(common) as engine, export_runtime(engine, profile) as (rt, config):
        data = await reference_data(engine, rt, config)
    emit(common.json, data, lambda: print_reference(data))
    return 0 if data["ok"] else ConfigError.exit_code


# -- stock import ---------------------------------------------------------------------------------


@import_app.default
async def stock_import(
    *,
    sku: Skus = None,
    profile: Annotated[str, Parameter(name=["--profile", "-p"])] = IMPORT_TYPE_ID,
    limit: int | None = None,
    dry_run: DryRun = False,
    force: bool = False,
    verbose: Verbose = 0,
    common: Common = Common(),
) -> int:
    """Import PlentyONE's stock into Magento: what changed since the last run, or the given SKUs.

    Also fills the cached PlentyONE stock the drift reconciler and reconcile_to_cache compare against.
    Exit code 0 when all went well, 3 when some SKUs failed, 1 when the run failed.

    Example: plentysync stock import -s 24-MG04,WSH12 -v

    Parameters
    ----------
    sku
        Only these SKUs, comma-separated or repeated.
    profile
        The import profile (id or type id).
    limit
        Stop after this many SKUs.
    dry_run
        Compute what would be written, change nothing.
    force
        Run even though the profile is disabled.
    verbose
        -v lists the SKUs' results (first 20), -vv all of them (up to 50 kept per run).
    """
    check_limit(limit)
    skus = tuple(split_list(sku))
    options = RunOptions(keys=skus, limit=limit, dry_run=dry_run, force=force)
    async with open_engine(common) as engine:
        await stock_profile(engine, profile, IMPORT_TYPE_ID)
        report = await run_profile(engine, profile, options, runtime=None, show_progress=not common.json)
    shown = max(verbose, 1) if skus else verbose
    emit(common.json, {"run": _report_data(report)}, lambda: render_report(report, shown))
    return exit_code_for(report.run.status)
