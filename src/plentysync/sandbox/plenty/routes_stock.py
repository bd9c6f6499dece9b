"""Stock reads, movements, corrections and incoming/outgoing bookings (notes §8).

Every write validates all rows first and applies nothing if one is invalid (dotted error paths such
as ``outgoingItems.0.reasonId``). Every applied row appends a movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from starlette.responses import Response

from plentysync.sandbox.plenty import stock
from plentysync.sandbox.plenty.context import Ctx, RouteSpec, lookup
from plentysync.sandbox.plenty.errors import Validator, bad_request, not_found
from plentysync.sandbox.plenty.filters import from_to, in_range
from plentysync.sandbox.plenty.paging import paginate
from plentysync.sandbox.plenty.params import int_param
from plentysync.sandbox.plenty.state import PlentyState, Record, public
from plentysync.sandbox.plenty.timefmt import is_w3c_with_offset

BookingKind = Literal["incoming", "outgoing", "correction"]
_LIST_KEYS: dict[BookingKind, str] = {
    "incoming": "incomingItems",
    "outgoing": "outgoingItems",
    "correction": "corrections",
}
_REASONS: dict[BookingKind, tuple[int, int]] = {
    "incoming": (100, 199),
    "outgoing": (200, 299),
    "correction": (300, 399),
}


@dataclass
class Booking:
    variation_id: int
    warehouse_id: int
    storage_location_id: int
    quantity: float
    reason: int
    raw: dict[str, Any]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _validate_row(
    state: PlentyState,
    kind: BookingKind,
    row: Any,
    path: str,
    v: Validator,
    *,
    warehouse_id: int | None,
    variation_id: int | None,
    strict_sign: bool,
) -> Booking | None:
    if not isinstance(row, dict):
        v.add(path.rstrip(".") or "body", "The row must be an object.")
        return None
    errors_before = sum(len(e) for e in v.errors.values())
    if variation_id is None:
        variation_id = _int(row.get("variationId"))
        if variation_id is None:
            v.add(f"{path}variationId", "The variation id field is required.")
        elif variation_id not in state.variations:
            v.add(f"{path}variationId", "The selected variation id is invalid.")
    if warehouse_id is None:
        warehouse_id = _int(row.get("warehouseId"))
        if warehouse_id is None:
            v.add(f"{path}warehouseId", "The warehouse id field is required.")
        elif warehouse_id not in state.warehouses:
            v.add(f"{path}warehouseId", "The selected warehouse id is invalid.")
    quantity = None
    if v.require(row, "quantity", path):
        quantity = v.number(row, "quantity", path)
    if quantity is not None:
        if kind == "incoming" and quantity <= 0:
            v.add(f"{path}quantity", "The quantity must be greater than 0.")
        elif kind == "outgoing" and (quantity == 0 or (strict_sign and quantity > 0)):
            v.add(f"{path}quantity", "The quantity must be negative.")
        elif kind == "correction" and quantity < 0:
            v.add(f"{path}quantity", "The quantity must be at least 0.")
    low, high = _REASONS[kind]
    reason = _int(row.get("reasonId"))
    if row.get("reasonId") is None:
        v.add(f"{path}reasonId", "The reason id field is required.")
    elif reason is None or not low <= reason <= high:
        v.add(f"{path}reasonId", f"reasonId must be between {low} and {high}")
    if kind != "correction":
        if row.get("deliveredAt") is None:
            v.add(f"{path}deliveredAt", "The delivered at field is required.")
        elif not is_w3c_with_offset(row["deliveredAt"]):
            v.add(f"{path}deliveredAt", "validation.date_w3c")
    location = row.get("storageLocationId", 0)
    location = 0 if location is None else _int(location)
    if location is None or location < 0:
        v.add(f"{path}storageLocationId", "The storage location id must be an integer.")
    if sum(len(e) for e in v.errors.values()) > errors_before:
        return None
    if variation_id is None or warehouse_id is None or quantity is None or reason is None or location is None:
        return None
    if kind == "outgoing":
        quantity = -abs(quantity)
    return Booking(variation_id, warehouse_id, location, quantity, reason, row)


def _apply(state: PlentyState, kind: BookingKind, booking: Booking) -> Record:
    extra = {
        key: booking.raw[key]
        for key in ("batch", "bestBeforeDate", "purchasePrice")
        if booking.raw.get(key) is not None
    }
    extra["_orderNumber"] = booking.raw.get("orderNumber")
    extra["_deliveredAt"] = booking.raw.get("deliveredAt")
    args = (state, booking.variation_id, booking.warehouse_id, booking.storage_location_id, booking.quantity)
    if kind == "correction":
        return stock.correct(*args, booking.reason, extra)
    return stock.book_delta(*args, booking.reason, extra)


def _booking_response(state: PlentyState, kind: BookingKind, applied: list[tuple[Booking, Record]]) -> Any:
    if kind == "outgoing":
        return Response(status_code=200)
    if kind == "correction":
        pairs = sorted({(b.variation_id, b.warehouse_id) for b, _ in applied})
        return [stock.stock_row(state, v, w) for v, w in pairs]
    first = applied[0][0].raw if applied else {}
    return {
        "id": state.next_id("incoming_booking"),
        "orderNo": first.get("orderNumber") or "",
        "warehouseId": applied[0][0].warehouse_id if applied else None,
        "deliveredAt": first.get("deliveredAt"),
        "items": [
            {
                "movementId": movement["id"],
                "variationId": b.variation_id,
                "quantity": b.quantity,
                "reasonId": b.reason,
                "storageLocationId": b.storage_location_id,
            }
            for b, movement in applied
        ],
    }


def _warehouse_booking(kind: BookingKind) -> Any:
    async def handler(ctx: Ctx) -> Any:
        warehouse_id = ctx.path_int("warehouse_id")
        lookup(ctx.state.warehouses, warehouse_id, "Warehouse")
        body = await ctx.body()
        list_key = _LIST_KEYS[kind]
        if list_key in body:
            rows = body[list_key]
            if not isinstance(rows, list):
                raise bad_request(f"{list_key} must be an array.")
            if len(rows) > ctx.config.max_stock_rows:
                v = Validator()
                v.add(list_key, f"The {list_key} may not have more than {ctx.config.max_stock_rows} items.")
                v.check()
            paths = [f"{list_key}.{i}." for i in range(len(rows))]
        else:
            rows, paths = [body], [""]
        v = Validator()
        bookings = [
            _validate_row(
                ctx.state,
                kind,
                row,
                path,
                v,
                warehouse_id=warehouse_id,
                variation_id=None,
                strict_sign=ctx.config.strict_outgoing_sign,
            )
            for row, path in zip(rows, paths, strict=True)
        ]
        v.check()
        applied = [(b, _apply(ctx.state, kind, b)) for b in bookings if b is not None]
        return _booking_response(ctx.state, kind, applied)

    return handler


def _variation_booking(kind: BookingKind) -> Any:
    async def handler(ctx: Ctx) -> Any:
        variation = lookup(ctx.state.variations, ctx.path_int("variation_id"), "Variation")
        if variation["itemId"] != ctx.path_int("item_id"):
            raise not_found(f"Variation {variation['id']} not found for item {ctx.path_int('item_id')}")
        body = await ctx.body()
        v = Validator()
        if kind == "correction":
            v.require(body, "storageLocationId")
        if kind != "correction":
            v.require(body, "currency")
        booking = _validate_row(
            ctx.state,
            kind,
            body,
            "",
            v,
            warehouse_id=None,
            variation_id=variation["id"],
            strict_sign=ctx.config.strict_outgoing_sign,
        )
        v.check()
        assert booking is not None
        _apply(ctx.state, kind, booking)
        return [stock.variation_stock_row(ctx.state, variation["id"], booking.warehouse_id)]

    return handler


def _stock_rows(ctx: Ctx, warehouse_id: int | None) -> list[Record]:
    variation_id = int_param(ctx.query, "variationId")
    if warehouse_id is None:
        warehouse_id = int_param(ctx.query, "warehouseId")
    updated = from_to(ctx.query, "updatedAt")
    rows = []
    for vid, wid in ctx.state.stock_pairs():
        if variation_id is not None and vid != variation_id:
            continue
        if warehouse_id is not None and wid != warehouse_id:
            continue
        row = stock.stock_row(ctx.state, vid, wid)
        if updated is not None and not in_range(row["updatedAt"], updated):
            continue
        rows.append(row)
    return rows


async def list_stock(ctx: Ctx) -> Any:
    return paginate(_stock_rows(ctx, None), ctx.query, clamp=ctx.config.clamp_pages)


async def warehouse_stock(ctx: Ctx) -> Any:
    warehouse_id = ctx.path_int("warehouse_id")
    lookup(ctx.state.warehouses, warehouse_id, "Warehouse")
    return paginate(_stock_rows(ctx, warehouse_id), ctx.query, clamp=ctx.config.clamp_pages)


async def movements(ctx: Ctx) -> Any:
    warehouse_id = ctx.path_int("warehouse_id")
    lookup(ctx.state.warehouses, warehouse_id, "Warehouse")
    q = ctx.query
    variation_id, item_id, order_id = int_param(q, "variationId"), int_param(q, "itemId"), int_param(q, "orderId")
    created = from_to(q, "createdAt")
    entries = []
    for movement in reversed(ctx.state.movements):
        if movement["warehouseId"] != warehouse_id:
            continue
        if variation_id is not None and movement["variationId"] != variation_id:
            continue
        if item_id is not None and movement["itemId"] != item_id:
            continue
        if order_id is not None and movement.get("_orderId") != order_id:
            continue
        if created is not None and not in_range(movement["createdAt"], created):
            continue
        entries.append(public(movement))
    return paginate(entries, q, clamp=ctx.config.clamp_pages)


_W = "/rest/stockmanagement/warehouses/{warehouse_id:int}/stock"
_V = "/rest/items/{item_id:int}/variations/{variation_id:int}/stock"
ROUTES: list[RouteSpec] = [
    ("GET", "/rest/stockmanagement/stock", list_stock),
    ("GET", _W, warehouse_stock),
    ("GET", f"{_W}/movements", movements),
    ("PUT", f"{_W}/correction", _warehouse_booking("correction")),
    ("PUT", f"{_W}/bookIncomingItems", _warehouse_booking("incoming")),
    ("PUT", f"{_W}/bookOutgoingItems", _warehouse_booking("outgoing")),
    ("PUT", f"{_V}/correction", _variation_booking("correction")),
    ("PUT", f"{_V}/bookIncomingItems", _variation_booking("incoming")),
    ("PUT", f"{_V}/bookOutgoingItems", _variation_booking("outgoing")),
]
