"""Producers of the stock export queue (seed 000, stage 1), for a service that runs outside Magento.

The seed hooks Magento's plugins and observers; plentysync cannot, so it finds the changes itself:

* :func:`poll_source_items` stands in for the source-item save / delete, legacy save and shipment
  decrement plugins: it scans every MSI source item and diffs the scan against the last snapshot
  (trigger reason ``source_item_save``). Stock import records what it writes in the same snapshot, so
  its own writes do not come back as Magento changes.
* :func:`poll_products` stands in for the ``catalog_product_save_after`` observer: products whose
  ``updated_at`` moved (``product_save``).
* :func:`enqueue_products` is ``plenty:stock:export:add`` (``-s``, ``-i``, ``--all``).
* :mod:`plentysync.sync.stock.webhook` (``webhook``) and :mod:`plentysync.sync.stock.drift`
  (``collect_drift``) are the others.

Legacy inventory (``inventory_api = "legacy"``, no MSI) has no source-item list to scan, so the worker
runs only :func:`poll_products` there: saves through the product (the admin form) bump ``updated_at``;
stock set through the legacy stock-item API does not, and the drift sweep catches that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from plentysync.db.dialect import chunked
from plentysync.engine.queue import PRIORITY_DEFAULT, CoalescingQueue, validate_reason
from plentysync.errors import RemoteNotFoundError, UsageError
from plentysync.magento import MagentoClient
from plentysync.magento.client import MAX_PAGE_SIZE
from plentysync.magento.dates import format_datetime, parse_datetime
from plentysync.magento.models.inventory import SourceItem
from plentysync.magento.models.products import Product
from plentysync.magento.search import Condition, SearchCriteria, list_fields
from plentysync.sync.stock.config import EXPORT_TYPE_ID, STOCK_ELIGIBLE_TYPES
from plentysync.sync.stock.mapping import qty
from plentysync.sync.stock.resources import StockRuntime
from plentysync.sync.stock.store import SnapshotRow

PAGE = MAX_PAGE_SIZE
SOURCE_ITEMS_ROUTE = "/V1/inventory/source-items"
PRODUCT_FIELDS = list_fields("id", "sku", "type_id", "updated_at")
PRODUCTS_WATERMARK = "plenty_stock_export.products_watermark"
"""Magento's ``updated_at`` (``YYYY-MM-DD HH:MM:SS`` UTC) of the newest product the last poll saw."""
PRODUCTS_SEEN = "plenty_stock_export.products_seen"
"""SKU -> ``updated_at`` of the products the last poll queued inside the next poll's overlap window."""
SEEN_MARGIN = timedelta(seconds=5)
"""Only stamps at least this old when read are remembered: a second save within the same second
would keep the stamp, and must not be mistaken for one already queued."""
MAX_SEEN = 5_000
"""Beyond this many products in the overlap window nothing is remembered (re-queueing is harmless)."""
NO_MSI = (
    "Magento answers no MSI source-item route (legacy inventory): the product poll and the drift sweep "
    "cover stock changes there"
)

Pair = tuple[str, str]
"""(SKU, Magento source code)."""
ItemState = tuple[float, int]
"""(quantity, status) of one source item."""


@dataclass
class PollReport:
    producer: str
    """``source_items`` or ``products``."""
    dry_run: bool = False
    scanned: int = 0
    """Source items or products read."""
    changed: list[str] = field(default_factory=list)
    """The SKUs found changed, sorted."""
    enqueued: int = 0
    """Queue rows inserted or set back to pending (dry run: that would be)."""
    inserted: int = 0
    updated: int = 0
    removed: int = 0
    """Source items: (SKU, source) pairs gone since the last scan (source-item deletes)."""
    skipped: int = 0
    """Products: parents (configurable, bundle, grouped) in the window; they hold no stock, so not queued."""
    seeded: bool = False
    """First run: the snapshot or watermark was set, nothing was queued."""
    api_calls: int = 0
    watermark: str | None = None
    """Products: the watermark after the poll."""
    note: str | None = None


@dataclass
class AddReport:
    dry_run: bool = False
    requested: int = 0
    """Distinct SKUs and product ids asked for; with ``everything``, the products read."""
    eligible: list[str] = field(default_factory=list)
    """Magento's SKUs (its spelling) that were queued, or would be in a dry run."""
    skipped: dict[str, str] = field(default_factory=dict)
    """SKU -> type id of the parents left out (configurable, bundle, grouped hold no stock)."""
    unknown: list[str | int] = field(default_factory=list)
    """SKUs and product ids Magento does not have."""
    inserted: int = 0
    updated: int = 0
    api_calls: int = 0


@dataclass
class ScanCounter:
    pages: int = 0
    items: int = 0

    @property
    def calls(self) -> int:
        """Requests made: a search answering nothing still took one, though it yielded no page."""
        return max(self.pages, 1)


async def scan_source_items(magento: MagentoClient, counter: ScanCounter) -> AsyncIterator[tuple[str, str, ItemState]]:
    """Every MSI source item as (SKU, source, (quantity, status)), in pages of 300.

    Rows that move between pages while the scan runs (a delete shifts the later pages) are read twice or
    look gone; either way their SKU reads as changed, so a scan can queue too much, never too little."""
    async for page in magento.pages(SOURCE_ITEMS_ROUTE, SourceItem, page_size=PAGE):
        counter.pages += 1
        for item in page.items:
            counter.items += 1
            if item.sku and item.source_code:
                yield item.sku, item.source_code, (float(item.quantity or 0.0), int(item.status or 0))


@dataclass
class SnapshotDiff:
    """A scan against the last snapshot, built while the scan streams: each pair seen is taken out of
    ``previous``, so what is left at the end disappeared. Memory stays at one snapshot."""

    previous: dict[Pair, ItemState]
    changed: set[str] = field(default_factory=set)
    rows: list[SnapshotRow] = field(default_factory=list)
    """New and changed pairs, to store."""

    def see(self, sku: str, source: str, state: ItemState) -> None:
        old = self.previous.pop((sku, source), None)
        if old is None or qty(old[0]) != qty(state[0]) or old[1] != state[1]:
            self.changed.add(sku)
            self.rows.append(SnapshotRow(sku, source, state[0], state[1]))

    def finish(self) -> list[Pair]:
        """The pairs that disappeared; their SKUs count as changed."""
        removed = sorted(self.previous)
        self.changed.update(sku for sku, _ in removed)
        return removed


async def enqueue_export(
    queue: CoalescingQueue, skus: Sequence[str], *, reason: str, dry_run: bool, priority: int = PRIORITY_DEFAULT
) -> tuple[int, int, int]:
    """(enqueued, inserted, updated); a dry run counts what would be enqueued."""
    if dry_run or not skus:
        return len(skus), 0, 0
    result = await queue.enqueue(EXPORT_TYPE_ID, skus, reason=reason, priority=priority)
    return result.inserted + result.updated, result.inserted, result.updated


# -- source items -----------------------------------------------------------------------------------


SEEDED_STATE = "plenty_stock_export.snapshot_seeded"


async def poll_source_items(rt: StockRuntime, queue: CoalescingQueue, *, dry_run: bool = False) -> PollReport:
    """One full scan of Magento's source items; queue the SKUs whose pairs are new, changed or gone.

    The queue is written before the snapshot: a crash in between finds the same changes again, nothing
    is lost. The first scan only records the snapshot: onboarding queues everything with ``add --all``,
    and a first scan cannot tell changes from the catalogue. "First" is a flag, not an empty snapshot:
    stock import records what it writes there too, and a snapshot holding only those pairs must not
    make the next scan queue the whole catalogue."""
    report = PollReport("source_items", dry_run=dry_run)
    counter = ScanCounter()
    diff = SnapshotDiff(await rt.store.snapshot())
    first = not await rt.store.get_state(SEEDED_STATE)
    try:
        async for sku, source, state in scan_source_items(rt.magento, counter):
            diff.see(sku, source, state)
    except RemoteNotFoundError:
        report.api_calls, report.note = counter.calls, NO_MSI
        return report
    report.scanned, report.api_calls = counter.items, counter.calls
    if first:
        return await _seed_snapshot(rt, report, diff.rows)
    removed = diff.finish()
    report.changed, report.removed = sorted(diff.changed), len(removed)
    report.enqueued, report.inserted, report.updated = await enqueue_export(
        queue, report.changed, reason="source_item_save", dry_run=dry_run
    )
    if not dry_run:
        await rt.store.update_snapshot(diff.rows, removed)
    return report


async def _seed_snapshot(rt: StockRuntime, report: PollReport, rows: list[SnapshotRow]) -> PollReport:
    report.seeded = True
    verb = "would record" if report.dry_run else "recorded"
    report.note = (
        f"first scan: {verb} {len(rows)} source items as the snapshot later scans are compared with; nothing "
        "queued (to export everything once, use `plentysync stock export add --all`)"
    )
    if not report.dry_run:
        await rt.store.update_snapshot(rows)
        await rt.store.set_state(SEEDED_STATE, True)
    return report


# -- products ---------------------------------------------------------------------------------------


def _moment(value: Any) -> datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _seen(value: Any) -> dict[str, str]:
    return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


@dataclass
class _ProductScan:
    """What one product poll found: the SKUs to queue, the newest stamp, and the stamps to remember."""

    mark: datetime
    started: datetime
    seen_before: dict[str, str]
    changed: dict[str, None] = field(default_factory=dict)
    remember: dict[str, datetime] = field(default_factory=dict)

    def see(self, product: Product, report: PollReport) -> None:
        report.scanned += 1
        if not product.sku or product.updated_at is None:
            return
        self.mark = max(self.mark, product.updated_at)
        if product.type_id not in STOCK_ELIGIBLE_TYPES:
            report.skipped += 1
            return
        if product.updated_at <= self.started - SEEN_MARGIN:
            self.remember[product.sku] = product.updated_at
        if self.seen_before.get(product.sku) != format_datetime(product.updated_at):
            self.changed[product.sku] = None

    def kept(self, overlap: timedelta) -> dict[str, str]:
        """The remembered stamps the next poll's window still reaches (none when there are too many)."""
        start = self.mark - overlap
        kept = {sku: format_datetime(at) for sku, at in self.remember.items() if at >= start}
        return kept if len(kept) <= MAX_SEEN else {}


async def poll_products(
    rt: StockRuntime, queue: CoalescingQueue, *, overlap_seconds: int = 120, dry_run: bool = False
) -> PollReport:
    """Queue the stock-eligible products whose ``updated_at`` is at or after the watermark minus the
    overlap (``updated_at`` has second granularity and late commits land behind the newest stamp), then
    move the watermark to the newest stamp seen.

    A product seen with the same stamp by the previous poll is not queued again: the overlap would
    otherwise queue every save two or three times, and each extra export is a PlentyONE call. The first
    poll sets the watermark to now and queues nothing."""
    report = PollReport("products", dry_run=dry_run)
    started = rt.store.clock.now()
    mark = _moment(await rt.store.get_state(PRODUCTS_WATERMARK))
    if mark is None:
        return await _seed_watermark(rt, report, started)
    overlap = timedelta(seconds=overlap_seconds)
    scan = _ProductScan(mark, started, _seen(await rt.store.get_state(PRODUCTS_SEEN)))
    criteria = SearchCriteria().where("updated_at", mark - overlap, Condition.GTEQ).order_by("entity_id")
    async for page in rt.magento.products.pages(criteria, fields=PRODUCT_FIELDS, page_size=PAGE):
        report.api_calls += 1
        for product in page.items:
            scan.see(product, report)
    report.api_calls = max(report.api_calls, 1)
    report.changed = sorted(scan.changed)
    report.enqueued, report.inserted, report.updated = await enqueue_export(
        queue, report.changed, reason="product_save", dry_run=dry_run
    )
    report.watermark = format_datetime(scan.mark)
    if not dry_run:
        await rt.store.set_state(PRODUCTS_SEEN, scan.kept(overlap))
        await rt.store.set_state(PRODUCTS_WATERMARK, report.watermark)
    return report


async def _seed_watermark(rt: StockRuntime, report: PollReport, now: datetime) -> PollReport:
    report.seeded = True
    report.watermark = format_datetime(now)
    report.note = "first poll: watermark set to now, nothing queued (changes from now on are picked up)"
    if not report.dry_run:
        await rt.store.set_state(PRODUCTS_WATERMARK, report.watermark)
    return report


# -- plenty:stock:export:add ------------------------------------------------------------------------


async def _lookup(
    rt: StockRuntime, criteria: SearchCriteria, report: AddReport
) -> AsyncIterator[tuple[int | None, str, str]]:
    """(product id, SKU, type id) of the products matching ``criteria``."""
    pages = 0
    async for page in rt.magento.products.pages(criteria, fields=PRODUCT_FIELDS, page_size=PAGE):
        pages += 1
        for product in page.items:
            if product.sku:
                yield product.id, product.sku, product.type_id or ""
    report.api_calls += max(pages, 1)


def _classify(report: AddReport, sku: str, type_id: str) -> None:
    if type_id in STOCK_ELIGIBLE_TYPES:
        report.eligible.append(sku)
    else:
        report.skipped[sku] = type_id


async def _by_sku(rt: StockRuntime, skus: Sequence[str], report: AddReport) -> None:
    """One search per 300 SKUs; Magento compares SKUs case-insensitively and its spelling is queued."""
    for chunk in chunked(skus, PAGE):
        found = {
            sku.lower(): (sku, type_id)
            async for _, sku, type_id in _lookup(rt, SearchCriteria().where_in("sku", chunk), report)
        }
        for wanted in chunk:
            match = found.get(wanted.lower())
            if match is None:
                report.unknown.append(wanted)
            else:
                _classify(report, *match)


async def _by_id(rt: StockRuntime, ids: Sequence[int], report: AddReport) -> None:
    for chunk in chunked(ids, PAGE):
        found = {
            pid: (sku, type_id)
            async for pid, sku, type_id in _lookup(rt, SearchCriteria().where_in("entity_id", chunk), report)
        }
        for wanted in chunk:
            match = found.get(wanted)
            if match is None:
                report.unknown.append(wanted)
            else:
                _classify(report, *match)


async def _whole_catalogue(rt: StockRuntime, report: AddReport) -> None:
    async for _, sku, type_id in _lookup(rt, SearchCriteria().order_by("entity_id"), report):
        report.requested += 1
        _classify(report, sku, type_id)


async def enqueue_products(
    rt: StockRuntime,
    queue: CoalescingQueue,
    *,
    skus: Iterable[str] = (),
    ids: Iterable[int] = (),
    everything: bool = False,
    reason: str = "cli",
    dry_run: bool = False,
) -> AddReport:
    """Queue products by SKU, by Magento product id, or the whole catalogue (seed: ``stock:export:add``).

    Parents (configurable, bundle, grouped) are left out and reported with their type: they have no
    source items, so exporting them would do nothing. Unknown SKUs and ids are reported, not queued."""
    validate_reason(reason)
    wanted_skus, wanted_ids = list(dict.fromkeys(skus)), list(dict.fromkeys(ids))
    if everything == bool(wanted_skus or wanted_ids):
        raise UsageError("choose what to queue: SKUs and/or product ids, or the whole catalogue")
    report = AddReport(dry_run=dry_run, requested=len(wanted_skus) + len(wanted_ids))
    if everything:
        await _whole_catalogue(rt, report)
    else:
        await _by_sku(rt, wanted_skus, report)
        await _by_id(rt, wanted_ids, report)
    report.eligible = list(dict.fromkeys(report.eligible))
    _, report.inserted, report.updated = await enqueue_export(queue, report.eligible, reason=reason, dry_run=dry_run)
    return report
