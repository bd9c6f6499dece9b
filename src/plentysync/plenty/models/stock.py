# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Stock records (reads) and booking rows (writes)."""

from __future__ import annotations

from plentysync.plenty.models.base import RequestModel, W3CDateTime, WireDecimal, WireModel


class StockEntry(WireModel):
    """A row of ``/rest/stockmanagement/stock`` and ``…/warehouses/{id}/stock``."""

    itemId: int | None = None
    variationId: int | None = None
    warehouseId: int | None = None
    stockPhysical: float | None = None
    reservedStock: float | None = None
    stockNet: float | None = None
    reorderDelta: float | None = None
    reservedEbay: float | None = None
    reservedBundle: float | None = None
    averagePurchasePrice: float | None = None
    warehousePriority: int | None = None
    updatedAt: str | None = None


class VariationStock(WireModel):
    """``/rest/items/{id}/variations/{variationId}/stock`` (note the other spelling: ``physicalStock``)."""

    itemId: int | None = None
    variationId: int | None = None
    warehouseId: int | None = None
    physicalStock: float | None = None
    reservedStock: float | None = None
    netStock: float | None = None
    reservedListing: float | None = None
    reservedBundles: float | None = None
    reorderLevel: float | None = None
    deltaReorderLevel: float | None = None
    valueOfGoods: float | None = None
    purchasePrice: float | None = None


class StockMovement(WireModel):
    id: int | None = None
    itemId: int | None = None
    variationId: int | None = None
    warehouseId: int | None = None
    warehouseName: str | None = None
    storageLocationName: str | None = None
    quantity: float | None = None
    reason: int | None = None
    reasonString: str | None = None
    purchasePrice: float | None = None
    batch: str | None = None
    bestBeforeDate: str | None = None
    createdAt: str | None = None
    userId: int | None = None


class BookingReceipt(WireModel):
    """Whatever a correction or booking answers (the servers' bodies vary: booking info, rows, empty)."""

    id: int | None = None
    orderNo: str | None = None
    variationId: int | None = None


class StockCorrectionRow(RequestModel):
    """One absolute correction: ``quantity`` becomes the physical stock at ``storageLocationId``."""

    variationId: int
    quantity: WireDecimal
    reasonId: int = 301
    storageLocationId: int = 0
    batch: str | None = None
    bestBeforeDate: str | None = None


class IncomingRow(RequestModel):
    """One relative incoming booking (positive ``quantity``, reasonId 100–199)."""

    variationId: int
    quantity: WireDecimal
    reasonId: int = 101
    deliveredAt: W3CDateTime
    currency: str = "EUR"
    storageLocationId: int = 0
    purchasePrice: WireDecimal | None = None
    orderNumber: str | None = None
    supplierId: int | None = None
    exchangeRate: WireDecimal | None = None
    batch: str | None = None
    bestBeforeDate: str | None = None


class OutgoingRow(RequestModel):
    """One relative outgoing booking (negative ``quantity``, reasonId 200–299)."""

    variationId: int
    quantity: WireDecimal
    reasonId: int = 201
    deliveredAt: W3CDateTime
    currency: str = "EUR"
    storageLocationId: int = 0
    orderNumber: str | None = None
    batch: str | None = None
    bestBeforeDate: str | None = None
