"""Stock: absolute corrections, relative incoming/outgoing bookings, and stock reads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from plentysync.errors import RemoteValidationError
from plentysync.plenty.models.base import RequestModel, w3c
from plentysync.plenty.models.stock import (
    BookingReceipt,
    IncomingRow,
    OutgoingRow,
    StockCorrectionRow,
    StockEntry,
    StockMovement,
    VariationStock,
)
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient

R = TypeVar("R", bound=RequestModel)

CORRECTION_REASONS = range(300, 400)
INCOMING_REASONS = range(100, 200)
OUTGOING_REASONS = range(200, 300)


class StockValidationError(RemoteValidationError):
    """A booking row the server would refuse, caught before sending."""


def _chunks(rows: Sequence[R], size: int) -> Iterable[Sequence[R]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _receipts(body: Any) -> list[BookingReceipt]:
    if isinstance(body, list):
        return [BookingReceipt.model_validate(e) for e in body if isinstance(e, dict)]
    if isinstance(body, dict):
        return [BookingReceipt.model_validate(body)]
    return []


def validate_rows(
    rows: Sequence[StockCorrectionRow | IncomingRow | OutgoingRow], reasons: range, field: str, sign: int
) -> None:
    """Check reasonId ranges and quantity signs of every row; raise one error naming each bad row."""
    problems: list[str] = []
    for index, row in enumerate(rows):
        if row.reasonId not in reasons:
            low, high = reasons.start, reasons.stop - 1
            problems.append(f"{field}.{index}.reasonId {row.reasonId} must be between {low} and {high}")
        if sign > 0 and row.quantity <= 0:
            problems.append(f"{field}.{index}.quantity {row.quantity} must be positive for incoming items")
        if sign < 0 and row.quantity >= 0:
            problems.append(f"{field}.{index}.quantity {row.quantity} must be negative for outgoing items")
        if sign == 0 and row.quantity < 0:
            problems.append(f"{field}.{index}.quantity {row.quantity} must not be negative for a correction")
    if problems:
        raise StockValidationError("stock rows rejected before sending: " + "; ".join(problems))


class StockResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    def _path(self, warehouse_id: int, action: str) -> str:
        return f"/rest/stockmanagement/warehouses/{warehouse_id}/stock/{action}"

    async def corrections(self, warehouse_id: int, rows: Sequence[StockCorrectionRow]) -> list[BookingReceipt]:
        """Set the *absolute* physical stock of each variation at each storage location.

        A correction sets the quantity at the row's ``storageLocationId`` (0 = the default location);
        the warehouse total is the sum over all locations, so correcting location 0 to 7 while another
        location holds 7 shows 14 — send a row per location that holds stock. Absolute corrections
        also overwrite sales Plenty booked meanwhile; use bookings when Plenty sells too.

        Idempotent (sending the same absolute values twice changes nothing), so it is retried after
        ambiguous failures. Rows go in chunks of ``config.stock_batch_size`` (default 100): the API
        documents no maximum; established connectors send 20, which costs five times the write
        budget for the same rows. Callers that must know which rows a failure hit send one chunk
        per call.
        """
        validate_rows(rows, CORRECTION_REASONS, "corrections", 0)
        receipts: list[BookingReceipt] = []
        for chunk in _chunks(rows, self.client.config.stock_batch_size):
            body = {"corrections": [row.payload() for row in chunk]}
            result = await self.client.call("PUT", self._path(warehouse_id, "correction"), json=body, idempotent=True)
            receipts.extend(_receipts(result))
        return receipts

    async def book_incoming(self, warehouse_id: int, rows: Sequence[IncomingRow]) -> list[BookingReceipt]:
        """Book stock in (relative, positive quantities, reasonId 100–199).

        NOT idempotent: a repeated call books twice, so it is never retried after an ambiguous
        failure (:class:`~plentysync.errors.OutcomeUnknownError`; check the movements before rebooking).
        """
        validate_rows(rows, INCOMING_REASONS, "incomingItems", 1)
        return await self._book(warehouse_id, "bookIncomingItems", "incomingItems", rows)

    async def book_outgoing(self, warehouse_id: int, rows: Sequence[OutgoingRow]) -> list[BookingReceipt]:
        """Book stock out (relative, *negative* quantities, reasonId 200–299). NOT idempotent, see
        :meth:`book_incoming`."""
        validate_rows(rows, OUTGOING_REASONS, "outgoingItems", -1)
        return await self._book(warehouse_id, "bookOutgoingItems", "outgoingItems", rows)

    async def _book(
        self, warehouse_id: int, action: str, key: str, rows: Sequence[IncomingRow] | Sequence[OutgoingRow]
    ) -> list[BookingReceipt]:
        receipts: list[BookingReceipt] = []
        for chunk in _chunks(rows, self.client.config.stock_batch_size):
            body = {key: [row.payload() for row in chunk]}
            result = await self.client.call("PUT", self._path(warehouse_id, action), json=body, idempotent=False)
            receipts.extend(_receipts(result))
        return receipts

    def list_stock(
        self,
        *,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        variation_id: int | None = None,
        items_per_page: int | None = None,
    ) -> AsyncIterator[StockEntry]:
        """Stream stock rows of all warehouses (only variations linked to a warehouse have rows);
        ``updated_from`` polls changes (W3C with offset, inclusive)."""
        params = query(
            {
                "updatedAtFrom": None if updated_from is None else w3c(updated_from),
                "updatedAtTo": None if updated_to is None else w3c(updated_to),
                "variationId": variation_id,
            }
        )
        return self.client.paginate("/rest/stockmanagement/stock", StockEntry, params, items_per_page=items_per_page)

    def warehouse_stock(
        self,
        warehouse_id: int,
        *,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        variation_id: int | None = None,
        items_per_page: int | None = None,
    ) -> AsyncIterator[StockEntry]:
        params = query(
            {
                "updatedAtFrom": None if updated_from is None else w3c(updated_from),
                "updatedAtTo": None if updated_to is None else w3c(updated_to),
                "variationId": variation_id,
            }
        )
        path = f"/rest/stockmanagement/warehouses/{warehouse_id}/stock"
        return self.client.paginate(path, StockEntry, params, items_per_page=items_per_page)

    def movements(
        self,
        warehouse_id: int,
        *,
        variation_id: int | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        items_per_page: int | None = None,
    ) -> AsyncIterator[StockMovement]:
        """Stream the movement log of a warehouse (entries carry ``reason``, not ``reasonId``)."""
        params = query(
            {
                "variationId": variation_id,
                "createdAtFrom": None if created_from is None else w3c(created_from),
                "createdAtTo": None if created_to is None else w3c(created_to),
            }
        )
        path = self._path(warehouse_id, "movements")
        return self.client.paginate(path, StockMovement, params, items_per_page=items_per_page)

    async def variation_stock(self, item_id: int, variation_id: int) -> list[VariationStock]:
        """Stock of one variation per warehouse (a plain array; ``physicalStock``/``netStock`` spelling)."""
        path = f"/rest/items/{item_id}/variations/{variation_id}/stock"
        return await self.client.get_list(path, VariationStock, query({"itemId": item_id}))
