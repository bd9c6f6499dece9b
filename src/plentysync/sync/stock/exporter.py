"""``plenty_stock_export``: the stages of a run (seed 000, stages 3-5).

* **collect** claims queue rows, settles earlier bookings whose outcome is unknown, loads what the
  generator needs in bulk (product types and source items from Magento, one search each per claimed
  batch; variation ids, bulk-loaded; baselines; the cached PlentyONE stock) and merges claimed batches
  into pushes whose calls are full;
* **generate** is :func:`plentysync.sync.stock.mapping.plan`, pure;
* **process** packs the rows of a push per (warehouse, call) into calls of up to
  ``http.plenty_stock_batch_size`` rows. Every row becomes a booking intent *before* its call; a call
  PlentyONE refuses for some rows is sent again without them (one bad row fails only itself); a call
  whose outcome is unknown is settled against the movement log at once, or on the next run;
* **post-process** records the bookings and moves the baselines they establish (one transaction: the
  seed's UpdateLastPushedQty, made atomic), then writes the queue rows (SaveEntity) with the booking
  trail in ``metadata.plenty_bookings``; the runner writes the history (History / DataLog).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from plentysync.engine.pipeline import Batch, BatchItem, Request, Result, RunContext
from plentysync.engine.stages import collect_from_queue, finish_queue_rows
from plentysync.errors import OutcomeUnknownError, RateLimitedError, RemoteValidationError, RetryableError, SyncError
from plentysync.http.client import WRITE_FENCE
from plentysync.magento import MagentoClient
from plentysync.magento.search import SearchCriteria, list_fields
from plentysync.plenty.models.stock import BookingReceipt, IncomingRow, OutgoingRow, StockCorrectionRow
from plentysync.sync.stock import reconcile
from plentysync.sync.stock.config import DEFAULT_SOURCE, STOCK_ELIGIBLE_TYPES, StockExportConfig
from plentysync.sync.stock.mapping import (
    CORRECTION,
    INCOMING,
    NO_CALL,
    PlannedRows,
    SkuStock,
    StockRow,
    plan,
    qty,
)
from plentysync.sync.stock.resources import StockRuntime, check_reference, runtime
from plentysync.sync.stock.store import BaselineRow, BookingOutcome, BookingStatus, SnapshotRow

TRAIL_LENGTH = 50
"""Bookings kept in a queue row's ``metadata.plenty_bookings`` (the full trail is in stock_booking)."""
MAGENTO_PAGE = 300
_ROW_PATH = re.compile(r"^(?:corrections|incomingItems|outgoingItems)\.(\d+)\.")


def _config(ctx: RunContext) -> StockExportConfig:
    assert isinstance(ctx.config, StockExportConfig)
    return ctx.config


# -- collect ----------------------------------------------------------------------------------------


class ProductRef(NamedTuple):
    type_id: str
    id: int | None
    sku: str
    """Magento's own spelling."""


async def product_types(magento: MagentoClient, skus: Sequence[str]) -> dict[str, ProductRef]:
    """Lower-cased SKU -> the product's type, id and spelling, in one search (Magento SKUs are
    case-insensitive)."""
    found: dict[str, ProductRef] = {}
    criteria = SearchCriteria().where_in("sku", skus)
    async for product in magento.products.search(
        criteria, fields=list_fields("id", "sku", "type_id"), page_size=MAGENTO_PAGE
    ):
        if product.sku:
            found[product.sku.lower()] = ProductRef(product.type_id or "", product.id, product.sku)
    return found


async def source_states(magento: MagentoClient, skus: Sequence[str]) -> dict[str, dict[str, tuple[float, int]]]:
    """Lower-cased SKU -> {source code: (physical quantity, status)} of Magento's MSI source items, in one
    search."""
    found: dict[str, dict[str, tuple[float, int]]] = defaultdict(dict)
    criteria = SearchCriteria().where_in("sku", skus)
    async for item in magento.inventory.source_items(criteria, page_size=MAGENTO_PAGE):
        if item.sku and item.source_code:
            found[item.sku.lower()][item.source_code] = (qty(float(item.quantity or 0.0)), item.status or 0)
    return found


async def source_quantities(magento: MagentoClient, skus: Sequence[str], api: str) -> dict[str, dict[str, float]]:
    """Lower-cased SKU -> {source code: physical quantity}. MSI: one search; legacy: the stock item of
    each SKU stands for the ``default`` source."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    if api == "legacy":
        for sku in skus:
            try:
                item = await magento.inventory.stock_item(sku)
            except SyncError as exc:
                if exc.status == 404:
                    continue
                raise
            if item.qty is not None:
                found[sku.lower()][DEFAULT_SOURCE] = float(item.qty)
        return found
    for sku, held in (await source_states(magento, skus)).items():
        found[sku] = {code: quantity for code, (quantity, _) in held.items()}
    return found


async def load(batch: Batch, ctx: RunContext, rt: StockRuntime, config: StockExportConfig) -> None:
    """Fill every item's ``data`` with its :class:`SkuStock`."""
    skus = batch.keys
    unresolved: dict[str, int] = defaultdict(int)
    found_applied: dict[str, list[str]] = defaultdict(list)
    pending = await rt.store.pending(skus)
    if pending and not ctx.dry_run:
        settled = await reconcile.settle(pending, rt.plenty, rt.store)
        if settled.outcomes:
            ctx.messages.note(
                f"settled {len(settled.outcomes)} bookings whose outcome was unknown: "
                f"{settled.applied} had been applied, {len(settled.outcomes) - settled.applied} had not"
            )
        booking_of = {b.id: b for b in pending}
        for outcome in settled.outcomes:
            booking = booking_of.get(outcome.id)
            if booking is not None and outcome.status == BookingStatus.APPLIED:
                found_applied[booking.sku].append(
                    f"{booking.describe()} (PlentyONE movement {outcome.plenty_movement_id})"
                )
    else:
        for booking in pending:
            unresolved[booking.sku] += 1
    types = await product_types(rt.magento, skus)
    eligible = [sku for sku in skus if sku.lower() in types and types[sku.lower()].type_id in STOCK_ELIGIBLE_TYPES]
    seen = await source_states(rt.magento, eligible) if eligible and config.inventory_api == "msi" else {}
    if config.inventory_api == "msi":
        sources = {sku: {code: q for code, (q, _) in held.items()} for sku, held in seen.items()}
    else:
        sources = await source_quantities(rt.magento, eligible, "legacy") if eligible else {}
    baselines = await rt.store.baselines(eligible)
    baselines_of = _by_sku(baselines)
    with_stock = [sku for sku in eligible if sources.get(sku.lower()) or sku in baselines_of]
    variations = await rt.resolver.resolve(with_stock) if with_stock else {}
    cached = (
        await rt.store.plenty_physical(eligible)
        if config.correction_mode == "delta" and config.bootstrap_policy == "reconcile_to_cache"
        else {}
    )
    cached_of = _by_sku(cached)
    for item in batch.items:
        sku = item.key
        product = types.get(sku.lower())
        item.data = SkuStock(
            sku=sku,
            product_type=product.type_id if product else None,
            magento_sku=product.sku if product else None,
            variation_id=variations.get(sku),
            sources=dict(sources.get(sku.lower(), {})),
            baselines=baselines_of.get(sku, {}),
            cached_plenty=cached_of.get(sku, {}),
            unresolved=unresolved.get(sku, 0),
            seen=dict(seen.get(sku.lower(), {})),
            settled=tuple(found_applied.get(sku, ())),
        )


def _by_sku(values: dict[tuple[str, int], float]) -> dict[str, dict[int, float]]:
    grouped: dict[str, dict[int, float]] = defaultdict(dict)
    for (sku, warehouse), quantity in values.items():
        grouped[sku][warehouse] = quantity
    return grouped


async def collect(ctx: RunContext) -> AsyncIterator[Batch]:
    """Claimed batches, loaded and merged into pushes: a push goes out when each of its (warehouse, call)
    groups fills whole calls, when it reaches ``max_skus_per_push`` SKUs, or when the queue runs dry.

    A push cut at the size limit holds back the SKUs whose rows would only part-fill a last call and
    sends them at the head of the next push (once: a held-back SKU is never held back again), so nearly
    every call carries as many rows as PlentyONE accepts."""
    rt = runtime(ctx)
    config = _config(ctx)
    await check_reference(rt, ctx.refdata, config)
    packer = _Packer(config, rt.plenty.config.stock_batch_size)
    async with aclosing(collect_from_queue(ctx)) as batches:  # type: ignore[type-var]
        async for batch in batches:
            await load(batch, ctx, rt, config)
            packer.add(batch.items)
            if packer.full() or packer.size() >= config.max_skus_per_push:
                yield Batch(packer.take(hold_back=not packer.full()))
    if packer.size():
        yield Batch(packer.take(hold_back=False))


class _Packer:
    """The SKUs of the next push, with the rows each would put into every (warehouse, call) group."""

    def __init__(self, config: StockExportConfig, limit: int) -> None:
        self.config = config
        self.limit = limit
        self.held: list[BatchItem] = []
        """Held back once already: sent with the next push whatever it holds."""
        self.fresh: list[BatchItem] = []
        self.groups: dict[str, Counter[tuple[int, str]]] = {}
        self.totals: Counter[tuple[int, str]] = Counter()

    def add(self, items: Sequence[BatchItem]) -> None:
        for item in items:
            planned = plan(item.data, self.config)
            rows = planned if isinstance(planned, list) else []
            groups = Counter((r.warehouse_id, r.operation) for r in rows if r.operation != NO_CALL)
            self.groups[item.key] = groups
            self.totals.update(groups)
            self.fresh.append(item)

    def size(self) -> int:
        return len(self.held) + len(self.fresh)

    def full(self) -> bool:
        return bool(self.totals) and all(count % self.limit == 0 for count in self.totals.values())

    def take(self, *, hold_back: bool) -> list[BatchItem]:
        excess = {group: count % self.limit for group, count in self.totals.items()}
        kept: list[BatchItem] = []
        if hold_back:
            for item in reversed(self.fresh):
                groups = self.groups[item.key]
                if groups and all(excess[g] >= n for g, n in groups.items()):
                    for g, n in groups.items():
                        excess[g] -= n
                    kept.append(item)
        kept.reverse()
        keep = {id(item) for item in kept}
        push = self.held + [item for item in self.fresh if id(item) not in keep]
        self.held, self.fresh = kept, []
        self.totals = Counter()
        for item in kept:
            self.totals.update(self.groups[item.key])
        self.groups = {item.key: self.groups[item.key] for item in kept}
        return push


# -- generate ---------------------------------------------------------------------------------------


def generate(batch: Batch, ctx: RunContext) -> list[Request | Result]:
    config = _config(ctx)
    out: list[Request | Result] = []
    for item in batch.items:
        planned = plan(item.data, config)
        if isinstance(planned, Result):
            out.append(planned)
        else:
            operations = ", ".join(sorted({r.operation for r in planned if r.operation != NO_CALL})) or "no call"
            out.append(Request(item.key, PlannedRows(planned), operation=operations))
    return out


# -- process ----------------------------------------------------------------------------------------


@dataclass
class RowOutcome:
    row: StockRow
    booking_id: int
    status: str
    message: str | None = None
    plenty_booking_id: int | None = None
    order_no: str | None = None
    movement_id: int | None = None
    retryable: bool = False
    """Failed without reaching PlentyONE (rate limit, outage): worth trying again."""
    retry_after: float | None = None
    settled: bool = False
    """The outcome was unknown and was settled from the movement log (and recorded then)."""


@dataclass
class SkuOutcome:
    """What process hands to post-processing for one SKU (``Result.data``)."""

    rows: list[RowOutcome] = field(default_factory=list)


def _wire_row(row: StockRow, config: StockExportConfig, delivered_at: Any) -> Any:
    if row.operation == CORRECTION:
        return StockCorrectionRow(variationId=row.variation_id, quantity=row.quantity, reasonId=row.reason_id or 301)
    if row.operation == INCOMING:
        return IncomingRow(
            variationId=row.variation_id,
            quantity=row.quantity,
            reasonId=row.reason_id or config.incoming_reason_id,
            deliveredAt=delivered_at,
        )
    return OutgoingRow(
        variationId=row.variation_id,
        quantity=row.quantity,
        reasonId=row.reason_id or config.outgoing_reason_id,
        deliveredAt=delivered_at,
    )


def _bad_rows(exc: RemoteValidationError, size: int) -> dict[int, str]:
    """Row index -> PlentyONE's message, from ``validation_errors`` paths like ``outgoingItems.3.reasonId``."""
    body = exc.body if isinstance(exc.body, dict) else {}
    errors = body.get("validation_errors")
    bad: dict[int, str] = {}
    if isinstance(errors, dict):
        for path, messages in errors.items():
            found = _ROW_PATH.match(str(path))
            if found and int(found.group(1)) < size:
                text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
                bad.setdefault(int(found.group(1)), f"{path}: {text}")
    return bad


class _Sender:
    """Sends one group of rows (one warehouse, one operation) in calls of up to ``limit`` rows."""

    def __init__(self, rt: StockRuntime, ctx: RunContext, config: StockExportConfig) -> None:
        self.rt = rt
        self.ctx = ctx
        self.config = config
        self.limit = rt.plenty.config.stock_batch_size
        self.stopped: RetryableError | None = None

    async def _call(self, warehouse_id: int, operation: str, rows: Sequence[StockRow]) -> list[BookingReceipt]:
        delivered_at = self.ctx.clock.now()
        wire = [_wire_row(row, self.config, delivered_at) for row in rows]
        stock = self.rt.plenty.stock
        if operation == CORRECTION:
            return await stock.corrections(warehouse_id, wire)
        if operation == INCOMING:
            return await stock.book_incoming(warehouse_id, wire)
        return await stock.book_outgoing(warehouse_id, wire)

    async def send(self, warehouse_id: int, operation: str, rows: list[tuple[StockRow, int]]) -> list[RowOutcome]:
        outcomes: list[RowOutcome] = []
        for start in range(0, len(rows), self.limit):
            outcomes += await self._send_chunk(warehouse_id, operation, rows[start : start + self.limit])
        return outcomes

    async def _send_chunk(
        self, warehouse_id: int, operation: str, chunk: list[tuple[StockRow, int]]
    ) -> list[RowOutcome]:
        if self.stopped is not None:
            return [self._not_sent(row, bid, self.stopped) for row, bid in chunk]
        try:
            receipts = await self._call(warehouse_id, operation, [row for row, _ in chunk])
        except RemoteValidationError as exc:
            bad = _bad_rows(exc, len(chunk))
            if not bad or len(bad) == len(chunk):
                message = f"PlentyONE refused the call: {exc}"
                return [
                    RowOutcome(row, bid, BookingStatus.FAILED, bad.get(i, message))
                    for i, (row, bid) in enumerate(chunk)
                ]
            refused = [
                RowOutcome(row, bid, BookingStatus.FAILED, f"PlentyONE refused: {bad[i]}")
                for i, (row, bid) in enumerate(chunk)
                if i in bad
            ]
            rest = [pair for i, pair in enumerate(chunk) if i not in bad]
            return refused + await self._send_chunk(warehouse_id, operation, rest)
        except OutcomeUnknownError as exc:
            return [RowOutcome(row, bid, BookingStatus.PENDING, f"outcome unknown: {exc}") for row, bid in chunk]
        except RetryableError as exc:
            self.stopped = exc
            return [self._not_sent(row, bid, exc) for row, bid in chunk]
        return self._applied(operation, chunk, receipts)

    def _not_sent(self, row: StockRow, booking_id: int, exc: RetryableError) -> RowOutcome:
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        return RowOutcome(
            row, booking_id, BookingStatus.FAILED, f"not sent: {exc}", retryable=True, retry_after=retry_after
        )

    def _applied(
        self, operation: str, chunk: list[tuple[StockRow, int]], receipts: list[BookingReceipt]
    ) -> list[RowOutcome]:
        """Applied rows, with what PlentyONE told about them: an incoming booking answers with its id,
        orderNo and one movement per row (the trail and reconciliation use them); the others say little."""
        booking = receipts[0] if operation == INCOMING and receipts else None
        movements: dict[int, int] = {}
        if booking is not None:
            for entry in (booking.model_extra or {}).get("items") or []:
                if isinstance(entry, dict) and isinstance(entry.get("variationId"), int):
                    movement = entry.get("movementId")
                    if isinstance(movement, int):
                        movements.setdefault(entry["variationId"], movement)
        return [
            RowOutcome(
                row,
                bid,
                BookingStatus.APPLIED,
                row.describe(),
                plenty_booking_id=booking.id if booking else None,
                order_no=(booking.orderNo or None) if booking else None,
                movement_id=movements.get(row.variation_id),
            )
            for row, bid in chunk
        ]


async def process(requests: Sequence[Request], ctx: RunContext) -> list[Result]:
    rt = runtime(ctx)
    config = _config(ctx)
    rows = [row for request in requests for row in request.payload]
    ids = await rt.store.add_intents(rows, ctx.run_id)
    outcomes: list[RowOutcome] = []
    groups: dict[tuple[int, str], list[tuple[StockRow, int]]] = defaultdict(list)
    for row, booking_id in zip(rows, ids, strict=True):
        if row.operation == NO_CALL:
            outcomes.append(RowOutcome(row, booking_id, BookingStatus.APPLIED, row.describe()))
        else:
            groups[(row.warehouse_id, row.operation)].append((row, booking_id))
    sender = _Sender(rt, ctx, config)
    # Groups are independent (a (SKU, warehouse) is in one group only), so they go out side by side;
    # the client keeps the writes in flight within its concurrency and the announced budget.
    fence = WRITE_FENCE.set(ctx.check_leases)  # no booking goes out for rows this run may have lost
    try:
        sent = await asyncio.gather(*(sender.send(w, op, group) for (w, op), group in sorted(groups.items())))
    finally:
        WRITE_FENCE.reset(fence)
    outcomes += [outcome for group in sent for outcome in group]
    outcomes = await _settle_unknown(outcomes, rt)
    per_sku: dict[str, SkuOutcome] = defaultdict(SkuOutcome)
    for outcome in outcomes:
        per_sku[outcome.row.sku].rows.append(outcome)
    return [_result(request.key, per_sku[request.key]) for request in requests]


async def _settle_unknown(outcomes: list[RowOutcome], rt: StockRuntime) -> list[RowOutcome]:
    """Bookings whose call had an unknown outcome: read the movement log now and settle them; if that
    read fails too, they stay pending and the next run settles them before sending anything."""
    unknown = [o for o in outcomes if o.status == BookingStatus.PENDING]
    if not unknown:
        return outcomes
    bookings = {b.id: b for b in await rt.store.pending(sorted({o.row.sku for o in unknown}))}
    try:
        settled = await reconcile.settle(
            [bookings[o.booking_id] for o in unknown if o.booking_id in bookings], rt.plenty, rt.store
        )
    except SyncError:
        return outcomes
    status = {o.id: o for o in settled.outcomes}
    for outcome in unknown:
        found = status.get(outcome.booking_id)
        if found is not None:
            outcome.status, outcome.settled = found.status, True
            outcome.message = (
                f"{outcome.row.describe()} ({found.message})"
                if found.status == BookingStatus.APPLIED
                else found.message
            )
    return outcomes


def _result(sku: str, outcome: SkuOutcome) -> Result:
    statuses = {o.status for o in outcome.rows}
    messages = [o.message or o.row.describe() for o in outcome.rows]
    text = "; ".join(messages)
    if BookingStatus.PENDING in statuses:
        return Result.retry(sku, text, data=outcome)
    if BookingStatus.NOT_APPLIED in statuses:
        return Result.retry(sku, text, data=outcome, retry_after=0)
    failed = [o for o in outcome.rows if o.status == BookingStatus.FAILED]
    if failed:
        if all(o.retryable for o in failed):
            retry_after = max((o.retry_after or 0.0) for o in failed) or None
            return Result.retry(sku, text, data=outcome, retry_after=retry_after)
        return Result.error(sku, text, data=outcome)
    return Result.success(sku, text, data=outcome)


# -- post-process -----------------------------------------------------------------------------------


async def record_bookings(batch: Batch, results: Sequence[Result], ctx: RunContext) -> None:
    """Complete the bookings and move the baselines of what was applied, in one transaction (the seed's
    UpdateLastPushedQty, made atomic with the booking record)."""
    rt = runtime(ctx)
    completions: list[BookingOutcome] = []
    baselines: list[BaselineRow] = []
    for o in _row_outcomes(results):
        if o.settled or o.status == BookingStatus.PENDING:
            continue  # pending stays pending; settled ones were recorded when they were settled
        completions.append(
            BookingOutcome(
                o.booking_id,
                o.status,
                o.message,
                plenty_booking_id=o.plenty_booking_id,
                plenty_order_no=o.order_no,
                plenty_movement_id=o.movement_id,
            )
        )
        if o.status == BookingStatus.APPLIED:
            baselines.append(BaselineRow(o.row.sku, o.row.warehouse_id, qty(o.row.target), o.row.mode))
    await rt.store.complete(completions, baselines)
    await rt.store.update_snapshot(_seen_rows(batch, results))


def _seen_rows(batch: Batch, results: Sequence[Result]) -> list[SnapshotRow]:
    """The source items of SKUs now in line with PlentyONE (pushed, or up to date), as the snapshot: the
    poller need not find those changes again, and stock import knows Magento holds nothing unexported."""
    done = {r.key for r in results if r.status in ("success", "skipped")}
    return [
        SnapshotRow(item.key, code, quantity, status)
        for item in batch.items
        if item.key in done and isinstance(item.data, SkuStock)
        for code, (quantity, status) in item.data.seen.items()
    ]


async def save_entity(batch: Batch, results: Sequence[Result], ctx: RunContext) -> None:
    """The queue rows' status and message (SaveEntity), with this run's bookings appended to the row's
    ``metadata.plenty_bookings`` (the last 50; ``stock export show`` lists them all)."""
    claims = {item.key: item.claim for item in batch.items if item.claim is not None}
    now = ctx.clock.now().isoformat()
    with_trail: list[Result] = []
    for result in results:
        claim = claims.get(result.key)
        if not isinstance(result.data, SkuOutcome) or claim is None:
            with_trail.append(result)
            continue
        metadata = dict(claim.metadata or {})
        trail = list(metadata.get("plenty_bookings") or [])
        trail += [_trail_entry(o, now) for o in result.data.rows]
        metadata["plenty_bookings"] = trail[-TRAIL_LENGTH:]
        with_trail.append(Result(result.key, result.status, result.message, result.data, metadata, result.retry_after))
    await finish_queue_rows(batch, with_trail, ctx)


def _row_outcomes(results: Sequence[Result]) -> list[RowOutcome]:
    return [o for r in results if isinstance(r.data, SkuOutcome) for o in r.data.rows]


def _trail_entry(o: RowOutcome, at: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "mode": o.row.mode,
        "operation": o.row.operation,
        "warehouse_id": o.row.warehouse_id,
        "reason_id": o.row.reason_id,
        "quantity": o.row.quantity,
        "delta": o.row.delta,
        "status": o.status,
        "booking": o.booking_id,
        "at": at,
    }
    if o.plenty_booking_id is not None:
        entry["plenty_booking_id"] = o.plenty_booking_id
    if o.order_no:
        entry["order_no"] = o.order_no
    return entry
