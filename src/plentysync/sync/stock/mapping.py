"""Pure stock mapping (the seed's generators, stage 3): what one SKU's Magento stock means for each
PlentyONE warehouse under the profile's correction mode and bootstrap policy. No I/O: everything comes
in a :class:`SkuStock` that collect loaded.

Messages follow the seed's wording ("Stock corrected.", "Bootstrap (absolute then delta)", "Delta
corrected (incoming|outgoing)", "Stock is up-to-date") so operators recognise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plentysync.engine.pipeline import Result
from plentysync.sync.stock.config import STOCK_ELIGIBLE_TYPES, StockExportConfig

PRECISION = 4
"""Quantities are compared and sent rounded to 4 decimals (the seed's tolerance is 0.0001)."""

CORRECTION = "createStockCorrection"
INCOMING = "bookIncomingItems"
OUTGOING = "bookOutgoingItems"
NO_CALL = "none"
OPERATIONS = (CORRECTION, INCOMING, OUTGOING)


def qty(value: float) -> float:
    """Round away float noise (0.1 + 0.2) so equal quantities compare equal."""
    rounded = round(value, PRECISION)
    return 0.0 if rounded == 0 else rounded


@dataclass(frozen=True)
class SkuStock:
    """Everything collect knows about one queued SKU."""

    sku: str
    product_type: str | None
    """Magento type id; None when Magento has no product with this SKU."""
    variation_id: int | None
    """PlentyONE variation; None when PlentyONE has no variation with this number."""
    sources: dict[str, float] = field(default_factory=dict)
    """Magento source code -> physical quantity (the SKU's source items; a deleted one is absent)."""
    baselines: dict[int, float] = field(default_factory=dict)
    """Warehouse -> quantity last pushed (delta mode's baseline)."""
    cached_plenty: dict[int, float] = field(default_factory=dict)
    """Warehouse -> PlentyONE physical as stock import last saw it."""
    unresolved: int = 0
    """Bookings of this SKU whose outcome could not be established yet (nothing may be sent)."""
    seen: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Source code -> (quantity, status) as read (MSI): recorded as the poller's snapshot once pushed."""
    magento_sku: str | None = None
    """Magento's spelling of the SKU (SKUs are case-insensitive there; baselines are per exact key)."""
    settled: tuple[str, ...] = ()
    """Earlier bookings of this SKU whose answer was lost and that this run found applied in PlentyONE's
    movements (described, with the movement): the baselines already include them."""


@dataclass(frozen=True)
class StockRow:
    """One planned write for one (SKU, warehouse)."""

    sku: str
    variation_id: int
    warehouse_id: int
    mode: str
    """absolute, bootstrap, delta, reconcile or seed."""
    operation: str
    reason_id: int | None
    quantity: float
    """Sent as is: the absolute quantity of a correction, the signed delta of a booking."""
    delta: float | None
    baseline_before: float | None
    target: float
    """Magento's quantity: the baseline once the write is applied."""

    def describe(self) -> str:
        where = f"warehouse {self.warehouse_id}"
        if self.mode == "absolute":
            return f"Stock corrected. {where} → {_num(self.target)}"
        if self.mode == "bootstrap":
            return f"Bootstrap (absolute then delta): {where} → {_num(self.target)}"
        if self.operation == NO_CALL:
            why = "skip_and_seed" if self.mode == "seed" else "in line with the cached PlentyONE stock"
            return f"Baseline seeded ({why}, no call): {where} = {_num(self.target)}"
        direction = "incoming" if self.operation == INCOMING else "outgoing"
        prefix = "Reconciled to cache" if self.mode == "reconcile" else "Delta corrected"
        before = "?" if self.baseline_before is None else _num(self.baseline_before)
        return f"{prefix} ({direction}): {where} {self.quantity:+g} (baseline {before} → {_num(self.target)})"

    def intent(self) -> str:
        """What sending this row does, for dry runs."""
        where = f"warehouse {self.warehouse_id}"
        if self.operation == CORRECTION:
            return f"{self.mode}: set {where} to {_num(self.target)} (createStockCorrection, reason {self.reason_id})"
        if self.operation == NO_CALL:
            return f"{self.mode}: record the baseline {_num(self.target)} for {where} (no call)"
        return f"{self.mode}: {self.quantity:+g} in {where} ({self.operation}, reason {self.reason_id})"


class PlannedRows(tuple[StockRow, ...]):
    """A SKU's planned rows (``Request.payload``); its repr is what a dry run shows."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "; ".join(row.intent() for row in self)


def _num(value: float) -> str:
    return f"{value:g}"


def warehouse_targets(stock: SkuStock, config: StockExportConfig) -> tuple[dict[int, float], list[str]]:
    """Magento's physical quantity per PlentyONE warehouse (sources mapped to one warehouse add up),
    and the source codes left out because they are not mapped.

    A warehouse that has a baseline but no source item any more (the source item was deleted) gets 0:
    the stock there is gone."""
    targets: dict[int, float] = {}
    unmapped: list[str] = []
    for code, quantity in sorted(stock.sources.items()):
        warehouse = config.warehouse_of(code)
        if warehouse is None:
            unmapped.append(code)
            continue
        targets[warehouse] = targets.get(warehouse, 0.0) + quantity
    for warehouse in stock.baselines:
        if warehouse in config.warehouses():
            targets.setdefault(warehouse, 0.0)
    return {w: qty(q) for w, q in sorted(targets.items())}, unmapped


SETTLED = "booked; the answer was lost, found in PlentyONE's movements and settled without sending again"
"""A SKU whose only change was a booking with a lost answer that PlentyONE had applied."""


def plan(stock: SkuStock, config: StockExportConfig) -> list[StockRow] | Result:
    """The writes one SKU needs, or a Result when it needs none (or cannot be exported)."""
    sku = stock.sku
    if stock.product_type is None:
        return Result.skipped(sku, "Magento has no product with this SKU; nothing to export")
    if stock.magento_sku is not None and stock.magento_sku != sku:
        return Result.error(
            sku,
            f"Magento spells this SKU '{stock.magento_sku}': queued under another spelling, it would keep "
            f"baselines of its own. Export '{stock.magento_sku}' instead and purge this row",
        )
    if stock.product_type not in STOCK_ELIGIBLE_TYPES:
        return Result.skipped(
            sku,
            f"product type '{stock.product_type}' holds no stock (only {', '.join(STOCK_ELIGIBLE_TYPES)} are exported)",
        )
    if stock.unresolved:
        return Result.retry(
            sku, "an earlier booking's outcome is still unknown; will check PlentyONE's movements again"
        )
    targets, unmapped = warehouse_targets(stock, config)
    if not targets:
        if unmapped:
            return Result.skipped(
                sku, f"source(s) {', '.join(unmapped)} not in stock_source_mapping; their stock is not exported"
            )
        return Result.skipped(sku, "no source items in Magento; nothing to export")
    if stock.variation_id is None:
        return Result.error(
            sku,
            "SKU not in PlentyONE: no variation has this number. Export the product first (plenty_item_export; "
            "until it exists, give the PlentyONE variation this SKU as its number), then retry: "
            "plentysync stock export --status error",
        )
    rows = [_row(stock, stock.variation_id, warehouse, target, config) for warehouse, target in targets.items()]
    planned = [row for row in rows if row is not None]
    if not planned:
        if stock.settled:
            return Result.success(sku, f"{SETTLED}: {'; '.join(stock.settled)}")
        return Result.skipped(sku, "Stock is up-to-date (Magento equals the baseline; delta 0, no call)")
    return planned


def _row(
    stock: SkuStock, variation_id: int, warehouse: int, target: float, config: StockExportConfig
) -> StockRow | None:
    """The write for one warehouse; None when delta mode finds nothing changed."""
    baseline = stock.baselines.get(warehouse)

    def row(mode: str, operation: str, reason: int | None, quantity: float, delta: float | None) -> StockRow:
        return StockRow(
            sku=stock.sku,
            variation_id=variation_id,
            warehouse_id=warehouse,
            mode=mode,
            operation=operation,
            reason_id=reason,
            quantity=quantity,
            delta=delta,
            baseline_before=baseline,
            target=target,
        )

    def delta_row(mode: str, delta: float) -> StockRow | None:
        if delta > 0:
            return row(mode, INCOMING, config.incoming_reason_id, delta, delta)
        if delta < 0:
            return row(mode, OUTGOING, config.outgoing_reason_id, delta, delta)
        # in line already: only a first contact records the baseline (without a call)
        return None if mode == "delta" else row(mode, NO_CALL, None, 0.0, 0.0)

    if config.correction_mode == "absolute":
        return row(
            "absolute",
            CORRECTION,
            config.correction_reason_id,
            target,
            None if baseline is None else qty(target - baseline),
        )
    if baseline is not None:
        return delta_row("delta", qty(target - baseline))
    if config.bootstrap_policy == "skip_and_seed":
        return row("seed", NO_CALL, None, target, None)
    cached = stock.cached_plenty.get(warehouse)
    if config.bootstrap_policy == "reconcile_to_cache" and cached is not None:
        return delta_row("reconcile", qty(target - cached))
    # absolute_then_delta, or reconcile_to_cache with no cached value to compute a delta from
    return row("bootstrap", CORRECTION, config.correction_reason_id, target, None)
