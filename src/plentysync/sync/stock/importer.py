"""``plenty_stock_import``: PlentyONE -> Magento (the seed's Stock Import Profile, the export's inverse).

* **collect** polls ``/rest/stockmanagement/stock`` for rows changed since the watermark (less
  ``overlap_seconds``; everything on the first run), groups them by variation into batches of
  ``process_batch_size`` variations, finds each variation's SKU (links first, then one
  ``search_variations(ids=...)`` per 50 unknown ids) and caches every row read in ``plenty_stock``,
  warehouses without a source included: drift and the ``reconcile_to_cache`` bootstrap read it. A run
  scoped to SKUs (``RunOptions.keys``) reads those variations only;
* **generate** is :func:`map_entries` (rows -> source writes) and :func:`plan_writes` (drop what Magento
  already holds), both pure;
* **process** writes the batch's source items with one ``save_source_items`` call (the client chunks
  it) or, for ``inventory_api = legacy``, each SKU's legacy stock item; then, in one transaction, moves
  the source-item snapshot and the export baselines to what was written, so the export's poller does not
  take the import's own write for a Magento change and delta mode's baseline equals what Magento holds
  (echo prevention). This happens in process, not in a post-processing step, because when a later chunk
  of the write fails the runner would hand post-processing nothing about the chunks that landed.

The watermark (``plenty_stock_import.watermark``, the poll's start time by our clock) moves only after
a full, unscoped, unlimited run in which no entity failed: a failed SKU is read again next time.

Warehouse -> source is the inverse of ``stock_source_mapping``; when several sources map to one warehouse
the warehouse's quantity goes to the first of them by source code and the others are left alone.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from plentysync.clock import utc
from plentysync.db.dialect import chunked
from plentysync.engine.links import Link
from plentysync.engine.pipeline import Batch, BatchItem, Request, Result, RunContext
from plentysync.errors import RemoteNotFoundError, RemoteValidationError, SyncError
from plentysync.magento.models.inventory import SourceItemInput, StockItemInput
from plentysync.plenty.models.stock import StockEntry
from plentysync.sync.stock.config import DEFAULT_SOURCE, EXPORT_TYPE_ID, STOCK_ELIGIBLE_TYPES, StockImportConfig
from plentysync.sync.stock.exporter import product_types, source_states
from plentysync.sync.stock.mapping import qty
from plentysync.sync.stock.resolver import ENTITY
from plentysync.sync.stock.resources import StockRuntime, check_reference, runtime
from plentysync.sync.stock.store import BaselineRow, PlentyStockRow, SnapshotRow

WATERMARK = "plenty_stock_import.watermark"
BASELINE_SOURCE = "import"
"""``stock_baseline.source`` of the baselines an import sets."""
LOOKUP_CHUNK = 50
"""Unknown variation ids looked up per ``search_variations(ids=...)`` call."""
OUT_OF_STOCK = 0
IN_STOCK = 1

Snapshot = Mapping[str, tuple[float, int]]
"""One SKU's source-item snapshot: source code -> (quantity, status)."""


def _config(ctx: RunContext) -> StockImportConfig:
    assert isinstance(ctx.config, StockImportConfig)
    return ctx.config


# -- pure mapping -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceWrite:
    """One PlentyONE warehouse quantity as a Magento source item."""

    sku: str
    variation_id: int
    warehouse_id: int
    source_code: str
    quantity: float
    status: int
    baseline: float
    """What the export will see for the warehouse once this lands: ``quantity`` plus the other sources
    mapped to the same warehouse (the export adds them up); set by :func:`plan_writes`."""

    def describe(self) -> str:
        state = ", out of stock" if self.status == OUT_OF_STOCK else ""
        return f"{self.source_code} → {self.quantity:g}{state} (warehouse {self.warehouse_id})"


@dataclass(frozen=True)
class SkuEntries:
    """What one batch read for one SKU."""

    sku: str
    variation_id: int
    writes: tuple[SourceWrite, ...]
    unmapped: tuple[int, ...] = ()
    """Warehouses read that map to no source (cached, not written)."""


@dataclass(frozen=True)
class MappedEntries:
    by_sku: dict[str, SkuEntries]
    unknown: tuple[int, ...]
    """Variations without a known SKU."""
    cache: tuple[PlentyStockRow, ...]
    """Every row read, for ``plenty_stock``."""


def sources_by_warehouse(config: StockImportConfig) -> dict[int, str]:
    """Warehouse -> the source its quantity is written to (the inverse of ``stock_source_mapping``;
    with several sources on one warehouse, the first by source code: the stored mapping's key order is
    not kept by every database, PostgreSQL's JSONB reorders it). An empty mapping pairs
    ``main_warehouse_id`` with ``default``; legacy inventory has the ``default`` source only."""
    if config.inventory_api == "legacy":
        warehouse = config.warehouse_of(DEFAULT_SOURCE)
        return {} if warehouse is None else {warehouse: DEFAULT_SOURCE}
    if not config.stock_source_mapping:
        return {config.main_warehouse_id: DEFAULT_SOURCE}
    found: dict[int, str] = {}
    for code, warehouse in sorted(config.stock_source_mapping.items()):
        found.setdefault(warehouse, code)
    return found


def source_status(quantity: float, config: StockImportConfig) -> int:
    return OUT_OF_STOCK if quantity <= 0 and config.set_out_of_stock_at_zero else IN_STOCK


def _stock_quantity(entry: StockEntry, config: StockImportConfig) -> float:
    value = entry.stockNet if config.stock_kind == "net" else entry.stockPhysical
    return qty(float(value or 0.0))


def _updated_at(entry: StockEntry) -> datetime | None:
    if not entry.updatedAt:
        return None
    try:
        return utc(datetime.fromisoformat(entry.updatedAt))
    except ValueError:
        return None


def _cache_row(entry: StockEntry, variation_id: int, warehouse_id: int, sku: str | None) -> PlentyStockRow:
    return PlentyStockRow(
        variation_id=variation_id,
        warehouse_id=warehouse_id,
        sku=sku,
        item_id=entry.itemId,
        physical=qty(float(entry.stockPhysical or 0.0)),
        net=qty(float(entry.stockNet or 0.0)),
        reserved=qty(float(entry.reservedStock or 0.0)),
        plenty_updated_at=_updated_at(entry),
    )


def map_entries(entries: Iterable[StockEntry], links: Mapping[int, str], config: StockImportConfig) -> MappedEntries:
    """PlentyONE stock rows -> the source writes per SKU (``links``: variation id -> SKU). A repeated
    (variation, warehouse) row replaces the earlier one; rows without ids are ignored."""
    rows: dict[tuple[int, int], StockEntry] = {}
    for entry in entries:
        if entry.variationId is not None and entry.warehouseId is not None:
            rows[(entry.variationId, entry.warehouseId)] = entry
    targets = sources_by_warehouse(config)
    writes: dict[int, list[SourceWrite]] = {}
    unmapped: dict[int, list[int]] = {}
    unknown: list[int] = []
    for (variation_id, warehouse_id), entry in sorted(rows.items()):
        sku = links.get(variation_id)
        if sku is None:
            if variation_id not in unknown:
                unknown.append(variation_id)
            continue
        writes.setdefault(variation_id, [])
        source = targets.get(warehouse_id)
        if source is None:
            unmapped.setdefault(variation_id, []).append(warehouse_id)
            continue
        quantity = _stock_quantity(entry, config)
        writes[variation_id].append(
            SourceWrite(
                sku=sku,
                variation_id=variation_id,
                warehouse_id=warehouse_id,
                source_code=source,
                quantity=quantity,
                status=source_status(quantity, config),
                baseline=quantity,
            )
        )
    by_sku = {
        links[vid]: SkuEntries(links[vid], vid, tuple(found), tuple(unmapped.get(vid, ())))
        for vid, found in writes.items()
    }
    cache = tuple(_cache_row(entry, vid, wid, links.get(vid)) for (vid, wid), entry in sorted(rows.items()))
    return MappedEntries(by_sku, tuple(unknown), cache)


def _other_sources(write: SourceWrite, held: Snapshot, config: StockImportConfig) -> float:
    """What the other sources mapped to the write's warehouse hold (legacy: there are none)."""
    if config.inventory_api == "legacy":
        return 0.0
    return qty(
        sum(
            quantity
            for code, (quantity, _) in held.items()
            if code != write.source_code and config.warehouse_of(code) == write.warehouse_id
        )
    )


def plan_writes(entries: SkuEntries, held: Snapshot, config: StockImportConfig) -> list[SourceWrite]:
    """The source items PlentyONE's stock means for Magento (``held``: what Magento's sources hold now),
    each with the baseline it establishes for the export; :func:`needs_write` tells which Magento lacks.

    When several sources map to one warehouse the export adds them up, so the written source gets the
    warehouse's quantity less what the others hold (never below 0), and the baseline is the total Magento
    then holds for the warehouse: writing the whole quantity into one source would count the others twice."""
    needed = []
    for write in entries.writes:
        others = _other_sources(write, held, config)
        quantity = qty(max(write.quantity - others, 0.0))
        status = source_status(quantity, config)
        needed.append(replace(write, quantity=quantity, status=status, baseline=qty(quantity + others)))
    return needed


def needs_write(write: SourceWrite, held: Snapshot) -> bool:
    return held.get(write.source_code) != (write.quantity, write.status)


def conflict(item: ImportItem) -> str | None:
    """Why writing PlentyONE's quantity now would overwrite a Magento change the export has not pushed
    yet: the SKU waits in the export queue, or a source differs from what plentysync last saw (the poller
    has not caught the change yet). Skipping is safe: the export's booking touches the PlentyONE row, so
    the next import reads it again."""
    if item.export_pending:
        return "a Magento change of this SKU waits in the stock export queue; imported after the export pushed it"
    for source, (quantity, _) in item.snapshot.items():
        now = item.live.get(source)
        if now is not None and now[0] != quantity:
            return (
                f"Magento's {source} changed since plentysync last saw it ({quantity:g} → {now[0]:g}); the export "
                "pushes that change first, the import follows"
            )
    return None


# -- collect ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportItem:
    """``BatchItem.data``: one SKU's rows with what Magento has."""

    entries: SkuEntries
    product_type: str | None
    """Magento's type id; None when Magento has no product with this SKU."""
    snapshot: dict[str, tuple[float, int]]
    """Source -> (quantity, status) as plentysync last saw (or wrote) them."""
    live: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Source -> (quantity, status) Magento holds now (MSI; empty in legacy mode)."""
    export_pending: bool = False
    """The SKU waits in the export queue (pending or processing)."""


@dataclass(frozen=True)
class NotImported:
    """``BatchItem.data`` of an entity that has nothing to map (its message says why)."""

    message: str


def unknown_variation_key(variation_id: int) -> str:
    """The key of a variation whose SKU is unknown (results are keyed by SKU otherwise)."""
    return f"variation:{variation_id}"


async def _since(ctx: RunContext, rt: StockRuntime, config: StockImportConfig) -> datetime | None:
    stored = await rt.store.get_state(WATERMARK)
    if not isinstance(stored, str):
        return None
    try:
        watermark = utc(datetime.fromisoformat(stored))
    except ValueError:
        ctx.log.warning("stock_import.bad_watermark", value=stored)
        return None
    return watermark - timedelta(seconds=config.overlap_seconds)


async def _skus_of(variation_ids: Sequence[int], ctx: RunContext, rt: StockRuntime) -> dict[int, str]:
    """Variation id -> SKU from the links; the rest is looked up in PlentyONE (their numbers, 50 per call)
    and linked, except in a dry run."""
    known = await ctx.links.resolve_plenty(ENTITY, [str(v) for v in variation_ids])
    found = {int(key): link.magento_key for key, link in known.items()}
    missing = [v for v in variation_ids if v not in found]
    wanted = set(missing)
    new_links: list[Link] = []
    for chunk in chunked(missing, LOOKUP_CHUNK):
        async for variation in rt.plenty.items.search_variations(ids=list(chunk), items_per_page=LOOKUP_CHUNK):
            if variation.id is None or not variation.number or variation.id not in wanted:
                continue
            found[variation.id] = variation.number
            extra = {"item_id": variation.itemId} if variation.itemId is not None else {}
            new_links.append(Link(ENTITY, variation.number, str(variation.id), extra=extra))
    if new_links and not ctx.dry_run:
        await ctx.links.upsert(new_links)
    return found


async def _load(
    entries: Sequence[StockEntry],
    ctx: RunContext,
    rt: StockRuntime,
    config: StockImportConfig,
    skus: Mapping[int, str] | None = None,
) -> tuple[list[BatchItem], MappedEntries]:
    variation_ids = list(dict.fromkeys(e.variationId for e in entries if e.variationId is not None))
    links = dict(skus) if skus is not None else await _skus_of(variation_ids, ctx, rt)
    mapped = map_entries(entries, links, config)
    if not ctx.dry_run:
        await rt.store.put_plenty_stock(mapped.cache)
    names = list(mapped.by_sku)
    types = await product_types(rt.magento, names) if names else {}
    snapshot = await rt.store.snapshot_for(names) if names else {}
    live = await source_states(rt.magento, names) if names and config.inventory_api == "msi" else {}
    waiting = await _export_pending(ctx, names)
    items = []
    for sku, found in mapped.by_sku.items():
        product = types.get(sku.lower())
        held = {source: value for (s, source), value in snapshot.items() if s == sku}
        data = ImportItem(
            found,
            product[0] if product else None,
            held,
            live=dict(live.get(sku.lower(), {})),
            export_pending=sku in waiting,
        )
        items.append(BatchItem(sku, data=data))
    for variation_id in mapped.unknown:
        message = (
            f"PlentyONE variation {variation_id} has no SKU: no link and no variation number in PlentyONE; not imported"
        )
        items.append(BatchItem(unknown_variation_key(variation_id), data=NotImported(message)))
    return items, mapped


async def _export_pending(ctx: RunContext, skus: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunked(list(skus), LOOKUP_CHUNK):
        rows = await ctx.queue.list_items(
            EXPORT_TYPE_ID, statuses=("pending", "processing"), keys=list(chunk), limit=len(chunk)
        )
        found.update(row.entity_key for row in rows)
    return found


async def group_by_variation(
    entries: AsyncIterator[StockEntry], size: int, limit: int | None = None
) -> AsyncGenerator[list[StockEntry], None]:
    """Consecutive rows in groups of at most ``size`` variations, at most ``limit`` variations in all."""
    group: dict[int, list[StockEntry]] = {}
    taken = 0
    async for entry in entries:
        variation_id = entry.variationId
        if variation_id is None:
            continue
        if variation_id not in group:
            if limit is not None and taken >= limit:
                break
            if len(group) >= size:
                yield [e for rows in group.values() for e in rows]
                group = {}
            taken += 1
        group.setdefault(variation_id, []).append(entry)
    if group:
        yield [e for rows in group.values() for e in rows]


async def _collect_changed(ctx: RunContext, rt: StockRuntime, config: StockImportConfig) -> AsyncGenerator[Batch, None]:
    started = ctx.clock.now()
    since = await _since(ctx, rt, config)
    stream = rt.plenty.stock.list_stock(updated_from=since)
    async with aclosing(group_by_variation(stream, ctx.batch_size, ctx.options.limit)) as groups:
        async for group in groups:
            items, _ = await _load(group, ctx, rt, config)
            yield Batch(items)
    # Reached only once the runner asked for a batch after the last one: every batch went through.
    if ctx.dry_run or ctx.options.limit is not None or ctx.messages.failed:
        return
    await rt.store.set_state(WATERMARK, started.isoformat())


async def _variations_of(skus: Sequence[str], ctx: RunContext, rt: StockRuntime) -> dict[str, int]:
    known = await ctx.links.resolve(ENTITY, skus)
    found = {sku: int(link.plenty_key) for sku, link in known.items()}
    new_links: list[Link] = []
    for sku in skus:
        if sku in found:
            continue
        variation = await rt.plenty.items.find_variation_by_number(sku)
        if variation is not None and variation.id is not None:
            found[sku] = variation.id
            extra = {"item_id": variation.itemId} if variation.itemId is not None else {}
            new_links.append(Link(ENTITY, sku, str(variation.id), extra=extra))
    if new_links and not ctx.dry_run:
        await ctx.links.upsert(new_links)
    return found


async def _collect_scoped(ctx: RunContext, rt: StockRuntime, config: StockImportConfig) -> AsyncGenerator[Batch, None]:
    """Only the SKUs asked for, each variation read by id; the watermark stays where it is."""
    skus = list(dict.fromkeys(ctx.options.keys))
    if ctx.options.limit is not None:
        skus = skus[: ctx.options.limit]
    for chunk in chunked(skus, ctx.batch_size):
        variations = await _variations_of(list(chunk), ctx, rt)
        entries = [
            entry
            for variation_id in dict.fromkeys(variations.values())
            async for entry in rt.plenty.stock.list_stock(variation_id=variation_id)
        ]
        items, mapped = await _load(entries, ctx, rt, config, {v: s for s, v in variations.items()})
        for sku in chunk:
            if sku in mapped.by_sku:
                continue
            if sku in variations:
                message = f"PlentyONE has no stock rows for variation {variations[sku]}; nothing to import"
            else:
                message = "SKU not in PlentyONE: no variation has this number; nothing to import"
            items.append(BatchItem(sku, data=NotImported(message)))
        yield Batch(items)


async def collect(ctx: RunContext) -> AsyncIterator[Batch]:
    rt = runtime(ctx)
    config = _config(ctx)
    await check_reference(rt, ctx.refdata, config)
    batches = _collect_scoped(ctx, rt, config) if ctx.options.keys else _collect_changed(ctx, rt, config)
    async with aclosing(batches):
        async for batch in batches:
            yield batch


# -- generate ---------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ImportRequest:
    """``Request.payload``: the writes of one SKU (its repr is what a dry run reports)."""

    writes: tuple[SourceWrite, ...]
    unmapped: tuple[int, ...] = ()
    in_line: tuple[SourceWrite, ...] = ()
    """Quantities Magento holds already but plentysync had not recorded: recorded without a write."""

    def __repr__(self) -> str:
        return ", ".join(w.describe() for w in self.writes) or "nothing to write"


UP_TO_DATE = "already up to date (Magento holds PlentyONE's quantities)"


def _unmapped_note(warehouses: Sequence[int]) -> str:
    listed = ", ".join(map(str, warehouses))
    return f"warehouse(s) {listed} map to no Magento source (cached only)"


def plan(item: BatchItem, config: StockImportConfig) -> Request | Result:
    """The request of one batch item, or its Result when nothing is to be written."""
    data = item.data
    if isinstance(data, NotImported):
        return Result.skipped(item.key, data.message)
    assert isinstance(data, ImportItem)
    sku, entries = item.key, data.entries
    if data.product_type is None:
        return Result.skipped(sku, "Magento has no product with this SKU; nothing to import")
    if data.product_type not in STOCK_ELIGIBLE_TYPES:
        return Result.skipped(sku, f"product type '{data.product_type}' holds no stock; nothing to import")
    if not entries.writes:
        return Result.skipped(sku, _unmapped_note(entries.unmapped))
    blocked = conflict(data)
    if blocked is not None:
        return Result.skipped(sku, f"not imported yet: {blocked}")
    planned = plan_writes(entries, {**data.snapshot, **data.live}, config)
    writes = tuple(w for w in planned if needs_write(w, {**data.snapshot, **data.live}))
    unrecorded = tuple(w for w in planned if w not in writes and needs_write(w, data.snapshot))
    if not writes and not unrecorded:
        return Result.skipped(sku, UP_TO_DATE)
    operation = "record" if not writes else "updateStockItem" if config.inventory_api == "legacy" else "saveSourceItems"
    return Request(sku, ImportRequest(writes, entries.unmapped, unrecorded), operation=operation)


def generate(batch: Batch, ctx: RunContext) -> list[Request | Result]:
    config = _config(ctx)
    return [plan(item, config) for item in batch.items]


# -- process ----------------------------------------------------------------------------------------


def _payload(request: Request) -> ImportRequest:
    assert isinstance(request.payload, ImportRequest)
    return request.payload


def _success(request: Request) -> Result:
    payload = _payload(request)
    if not payload.writes:
        return Result.skipped(request.key, UP_TO_DATE)
    message = f"Stock imported: {payload!r}"
    if payload.unmapped:
        message += "; " + _unmapped_note(payload.unmapped)
    return Result.success(request.key, message)


async def record_written(rt: StockRuntime, writes: Sequence[SourceWrite]) -> None:
    """Snapshot and export baselines of what Magento now holds, in one transaction (echo prevention)."""
    await rt.store.update_snapshot(
        rows=[SnapshotRow(w.sku, w.source_code, w.quantity, w.status) for w in writes],
        baselines=[BaselineRow(w.sku, w.warehouse_id, w.baseline, BASELINE_SOURCE) for w in writes],
    )


async def _landed(rt: StockRuntime, ctx: RunContext, writes: Sequence[SourceWrite]) -> list[SourceWrite]:
    """After a failed save: the writes Magento holds anyway (chunks before the failing one landed)."""
    wanted = {(w.sku, w.source_code): w for w in writes}
    landed = []
    try:
        async for item in rt.magento.inventory.source_items_for(list(dict.fromkeys(w.sku for w in writes))):
            write = wanted.get((item.sku or "", item.source_code or ""))
            if write is not None and qty(float(item.quantity or 0.0)) == write.quantity and item.status == write.status:
                landed.append(write)
    except SyncError:
        ctx.log.warning("stock_import.landed_unknown", exc_info=True, writes=len(writes))
    return landed


async def _process_msi(requests: Sequence[Request], ctx: RunContext, rt: StockRuntime) -> list[Result]:
    await record_written(rt, [w for request in requests for w in _payload(request).in_line])
    writes = [w for request in requests for w in _payload(request).writes]
    inputs = (
        SourceItemInput(sku=w.sku, source_code=w.source_code, quantity=w.quantity, status=w.status) for w in writes
    )
    try:
        await rt.magento.inventory.save_source_items(inputs)
    except Exception:
        await record_written(rt, await _landed(rt, ctx, writes))
        raise
    await record_written(rt, writes)
    return [_success(request) for request in requests]


async def _write_legacy(rt: StockRuntime, write: SourceWrite) -> Result | None:
    """Read the legacy stock item for its id, then write it; a Result when that failed for this SKU."""
    inventory = rt.magento.inventory
    try:
        item = await inventory.stock_item(write.sku)
        if item.item_id is None:
            return Result.error(write.sku, "Magento returned a stock item without an id")
        update = StockItemInput(qty=write.quantity, is_in_stock=write.status == IN_STOCK)
        await inventory.update_stock_item(write.sku, item.item_id, update)
    except RemoteNotFoundError:
        return Result.skipped(write.sku, "Magento has no stock item for this SKU; nothing to import")
    except RemoteValidationError as exc:
        return Result.error(write.sku, f"Magento refused the stock item: {exc}")
    return None


async def _process_legacy(requests: Sequence[Request], rt: StockRuntime) -> list[Result]:
    """One legacy stock item per SKU (it stands for the ``default`` source, the only one mapped)."""
    results: list[Result] = []
    landed: list[SourceWrite] = [w for request in requests for w in _payload(request).in_line]
    try:
        for request in requests:
            failed = None
            for write in _payload(request).writes:
                failed = await _write_legacy(rt, write)
                if failed is not None:
                    break
                landed.append(write)
            results.append(failed or _success(request))
    finally:
        await record_written(rt, landed)
    return results


async def process(requests: Sequence[Request], ctx: RunContext) -> list[Result]:
    rt = runtime(ctx)
    if _config(ctx).inventory_api == "legacy":
        return await _process_legacy(requests, rt)
    return await _process_msi(requests, ctx, rt)
