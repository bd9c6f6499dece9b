"""The drift reconciler (seed 000: DriftReconciler, Workflow 5): the safety net for missed changes.

A sweep reads Magento's physical stock live, adds it up per (SKU, PlentyONE warehouse) the way the
export does (unmapped sources are not exported, so they are not compared), and compares it with the
PlentyONE stock cached by stock import. SKUs that differ by more than ``drift_tolerance`` are queued
with ``collect_drift``; the generator then does the right thing for the mode (re-seeds, sends nothing,
or sends the correct delta), so queueing a SKU that needs nothing is harmless.

Only (SKU, warehouse) pairs Magento has stock rows for are compared; a warehouse without a cached row
counts as 0 in PlentyONE. A SKU with no cached row at all cannot be compared: stock import has not seen
it yet (``no_cache``). Every finding is recorded, so a SKU found drifting sweep after sweep stands out:
its changes are missed, or (delta mode) its baseline was seeded by ``skip_and_seed`` and PlentyONE was
never aligned (seed troubleshooting 2 and 5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from plentysync.engine.queue import CoalescingQueue
from plentysync.errors import UsageError
from plentysync.magento.search import SearchCriteria, list_fields
from plentysync.sync.stock.config import DEFAULT_SOURCE, STOCK_ELIGIBLE_TYPES, StockExportConfig
from plentysync.sync.stock.exporter import source_quantities
from plentysync.sync.stock.mapping import qty
from plentysync.sync.stock.producers import PAGE, ScanCounter, enqueue_export, scan_source_items
from plentysync.sync.stock.resources import StockRuntime
from plentysync.sync.stock.store import DriftRow, Pair

SAMPLE = 50
"""Divergent pairs kept in the report."""
NO_CACHE_HINT = "run stock import first (`plentysync stock import`) to fill the cached PlentyONE stock"


@dataclass(frozen=True)
class Divergence:
    sku: str
    warehouse_id: int
    magento: float
    plenty: float
    """PlentyONE's physical stock as last cached."""

    @property
    def gap(self) -> float:
        return abs(qty(self.magento - self.plenty))


@dataclass
class WarehouseTotals:
    """Magento's quantity per (SKU, warehouse), from source items as they stream in. Kept per pair until
    the end, so a source item read twice (pages shifting during the scan) counts once."""

    warehouse_of: Callable[[str], int | None]
    pairs: dict[tuple[str, str], float] = field(default_factory=dict)

    def add(self, sku: str, source: str, quantity: float) -> None:
        self.pairs[(sku, source)] = quantity

    def totals(self) -> dict[Pair, float]:
        summed: dict[Pair, float] = defaultdict(float)
        for (sku, source), quantity in self.pairs.items():
            warehouse = self.warehouse_of(source)
            if warehouse is not None:
                summed[(sku, warehouse)] += quantity
        return dict(summed)


@dataclass(frozen=True)
class Comparison:
    compared: int
    """SKUs that had cached PlentyONE stock to compare with."""
    no_cache: list[str]
    divergences: list[Divergence]
    """Largest gap first."""

    def divergent_skus(self) -> list[str]:
        """Each divergent SKU once, in the order of its largest gap."""
        return list(dict.fromkeys(d.sku for d in self.divergences))

    def worst(self) -> dict[str, tuple[float, float]]:
        """SKU -> (Magento, PlentyONE) of its largest gap: what the drift record keeps."""
        found: dict[str, tuple[float, float]] = {}
        for d in self.divergences:
            found.setdefault(d.sku, (d.magento, d.plenty))
        return found


def compare(magento: Mapping[Pair, float], plenty: Mapping[Pair, float], tolerance: float) -> Comparison:
    """The pairs where |Magento - PlentyONE| > ``tolerance``, over the SKUs with cached PlentyONE stock."""
    cached = {sku for sku, _ in plenty}
    by_sku: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (sku, warehouse), quantity in magento.items():
        by_sku[sku].append((warehouse, quantity))
    no_cache: list[str] = []
    divergences: list[Divergence] = []
    for sku in sorted(by_sku):
        if sku not in cached:
            no_cache.append(sku)
            continue
        for warehouse, quantity in sorted(by_sku[sku]):
            found = Divergence(sku, warehouse, qty(quantity), qty(plenty.get((sku, warehouse), 0.0)))
            if found.gap > tolerance:
                divergences.append(found)
    divergences.sort(key=lambda d: (-d.gap, d.sku, d.warehouse_id))
    return Comparison(len(by_sku) - len(no_cache), no_cache, divergences)


@dataclass
class DriftReport:
    dry_run: bool = False
    limit: int | None = None
    scanned: int = 0
    """Source items read (legacy: products)."""
    compared: int = 0
    """SKUs compared with the cached PlentyONE stock."""
    divergent_skus: int = 0
    divergent: list[Divergence] = field(default_factory=list)
    """The first 50 divergent pairs, largest gap first."""
    enqueued: int = 0
    """Divergent SKUs queued (dry run: that would be), at most ``limit``."""
    inserted: int = 0
    updated: int = 0
    no_cache: int = 0
    """SKUs with Magento stock but no cached PlentyONE stock: not compared."""
    persistent: list[DriftRow] = field(default_factory=list)
    """SKUs found divergent in two or more sweeps in a row."""
    api_calls: int = 0
    notes: list[str] = field(default_factory=list)


async def _msi_totals(rt: StockRuntime, config: StockExportConfig, report: DriftReport) -> dict[Pair, float]:
    counter = ScanCounter()
    totals = WarehouseTotals(config.warehouse_of)
    async for sku, source, (quantity, _status) in scan_source_items(rt.magento, counter):
        totals.add(sku, source, quantity)
    report.scanned, report.api_calls = counter.items, counter.calls
    return totals.totals()


async def _legacy_totals(rt: StockRuntime, config: StockExportConfig, report: DriftReport) -> dict[Pair, float]:
    """Legacy shops have no source-item list: read the stock item of every stock-eligible product that
    has cached PlentyONE stock (one call each; the others could not be compared anyway)."""
    warehouse = config.warehouse_of(DEFAULT_SOURCE)
    if warehouse is None:
        report.notes.append(f"legacy inventory: source '{DEFAULT_SOURCE}' is not mapped, nothing to compare")
        return {}
    totals: dict[Pair, float] = {}
    criteria = SearchCriteria().where_in("type_id", STOCK_ELIGIBLE_TYPES).order_by("entity_id")
    async for page in rt.magento.products.pages(criteria, fields=list_fields("id", "sku", "type_id"), page_size=PAGE):
        report.api_calls += 1
        skus = [p.sku for p in page.items if p.sku and p.type_id in STOCK_ELIGIBLE_TYPES]
        report.scanned += len(skus)
        cached = {sku for sku, _ in await rt.store.plenty_physical(skus)}
        report.no_cache += sum(1 for sku in skus if sku not in cached)
        with_cache = [sku for sku in skus if sku in cached]
        quantities = await source_quantities(rt.magento, with_cache, "legacy")
        report.api_calls += len(with_cache)
        for sku in with_cache:
            found = quantities.get(sku.lower(), {}).get(DEFAULT_SOURCE)
            if found is not None:
                totals[(sku, warehouse)] = found
    report.api_calls = max(report.api_calls, 1)
    return totals


def _notes(report: DriftReport) -> None:
    if report.no_cache and not report.compared:
        report.notes.append(
            f"nothing could be compared: no SKU has cached PlentyONE stock; {NO_CACHE_HINT}, "
            "or queue everything once with `plentysync stock export add --all`"
        )
    elif report.no_cache:
        report.notes.append(
            f"{report.no_cache} SKUs have no cached PlentyONE stock and were not compared; {NO_CACHE_HINT}"
        )
    if report.persistent:
        report.notes.append(
            f"{len(report.persistent)} SKUs keep drifting sweep after sweep: a missed producer, or (delta mode) a "
            "skip_and_seed baseline that never aligned PlentyONE (seed troubleshooting 2 and 5); if stock import "
            "refreshed the cache since the last sweep, reset their baselines and export them again"
        )


async def sweep(
    rt: StockRuntime,
    queue: CoalescingQueue,
    config: StockExportConfig,
    *,
    limit: int | None = None,
    dry_run: bool = False,
) -> DriftReport:
    """One drift sweep: compare, queue up to ``limit`` divergent SKUs (largest gap first), record the
    findings and report the SKUs that keep drifting. A dry run queues and records nothing."""
    if limit is not None and limit < 1:
        raise UsageError("the drift limit must be at least 1")
    report = DriftReport(dry_run=dry_run, limit=limit)
    reader = _legacy_totals if config.inventory_api == "legacy" else _msi_totals
    magento = await reader(rt, config, report)
    plenty = await rt.store.plenty_physical(sorted({sku for sku, _ in magento}))
    comparison = compare(magento, plenty, config.drift_tolerance)
    report.compared = comparison.compared
    report.no_cache += len(comparison.no_cache)
    report.divergent = comparison.divergences[:SAMPLE]
    skus = comparison.divergent_skus()
    report.divergent_skus = len(skus)
    report.enqueued, report.inserted, report.updated = await enqueue_export(
        queue, skus[:limit], reason="collect_drift", dry_run=dry_run
    )
    if not dry_run:
        await rt.store.record_drift(comparison.worst(), swept=None)
    report.persistent = await rt.store.drifting(at_least=2)
    _notes(report)
    return report
