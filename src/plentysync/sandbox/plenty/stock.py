"""Stock arithmetic: physical per storage location, reservations per warehouse, the movement log."""

from __future__ import annotations

from typing import Any

from plentysync.sandbox.plenty.state import PlentyState, Record

REASONS: dict[int, str] = {
    100: "Incoming items",
    101: "Incoming items (WE)",
    102: "Recognition stocktaking",
    116: "Recognition correction",
    150: "Return booked in",
    180: "Incoming (purchase order)",
    200: "Outgoing items",
    201: "Outgoing (WA)",
    202: "Derecognition stocktaking",
    207: "Damage",
    216: "Derecognition correction",
    300: "Stock correction",
    301: "Stock correction (WK)",
    302: "Stocktaking",
}
ORDER_OUTGOING_REASON = 201


def _pair(variation_id: int, warehouse_id: int) -> str:
    return f"{variation_id}:{warehouse_id}"


def touch(state: PlentyState, variation_id: int, warehouse_id: int) -> None:
    """Mark the (variation, warehouse) stock as changed now and make sure it has a row."""
    state.stock.setdefault(f"{variation_id}:{warehouse_id}:0", 0.0)
    state.stock_updated[_pair(variation_id, warehouse_id)] = state.now()


def add_movement(
    state: PlentyState,
    variation_id: int,
    warehouse_id: int,
    storage_location_id: int,
    delta: float,
    reason: int,
    extra: dict[str, Any] | None = None,
) -> Record:
    variation = state.variations[variation_id]
    warehouse = state.warehouses.get(warehouse_id, {})
    movement: Record = {
        "id": state.next_id("movement"),
        "processRowId": None,
        "processRowType": 0,
        "itemId": variation["itemId"],
        "variationId": variation_id,
        "attributeValues": "",
        "warehouseId": warehouse_id,
        "warehouseName": warehouse.get("name", ""),
        "storageLocationName": "Standard-Lagerort" if storage_location_id == 0 else f"L-{storage_location_id}",
        "quantity": delta,
        "reason": reason,
        "reasonString": REASONS.get(reason, f"Reason {reason}"),
        "purchasePrice": 0,
        "batch": None,
        "bestBeforeDate": None,
        "createdAt": state.now(),
        "userId": 1,
        "_storageLocationId": storage_location_id,
    }
    if extra:
        movement.update(extra)
    state.movements.append(movement)
    return movement


def book_delta(
    state: PlentyState,
    variation_id: int,
    warehouse_id: int,
    storage_location_id: int,
    delta: float,
    reason: int,
    extra: dict[str, Any] | None = None,
) -> Record:
    key = f"{variation_id}:{warehouse_id}:{storage_location_id}"
    state.stock[key] = state.stock.get(key, 0.0) + delta
    touch(state, variation_id, warehouse_id)
    return add_movement(state, variation_id, warehouse_id, storage_location_id, delta, reason, extra)


def correct(
    state: PlentyState,
    variation_id: int,
    warehouse_id: int,
    storage_location_id: int,
    quantity: float,
    reason: int,
    extra: dict[str, Any] | None = None,
) -> Record:
    """Set the absolute quantity at one storage location; the movement holds the difference."""
    key = f"{variation_id}:{warehouse_id}:{storage_location_id}"
    delta = quantity - state.stock.get(key, 0.0)
    state.stock[key] = quantity
    touch(state, variation_id, warehouse_id)
    return add_movement(state, variation_id, warehouse_id, storage_location_id, delta, reason, extra)


def reserve(state: PlentyState, variation_id: int, warehouse_id: int, quantity: float) -> None:
    key = _pair(variation_id, warehouse_id)
    state.reservations[key] = state.reservations.get(key, 0.0) + quantity
    touch(state, variation_id, warehouse_id)


def stock_row(state: PlentyState, variation_id: int, warehouse_id: int) -> Record:
    """Entry of ``/rest/stockmanagement/stock`` (``stockPhysical``/``stockNet`` names)."""
    level = state.stock_of(variation_id, warehouse_id)
    variation = state.variations.get(variation_id, {})
    return {
        "itemId": variation.get("itemId"),
        "variationId": variation_id,
        "warehouseId": warehouse_id,
        "stockPhysical": level.physical,
        "reservedStock": level.reserved,
        "reservedEbay": 0,
        "reorderDelta": 0,
        "stockNet": level.net,
        "reordered": 0,
        "reservedBundle": 0,
        "averagePurchasePrice": variation.get("purchasePrice", 0),
        "averageSale": 0,
        "warehousePriority": state.warehouses.get(warehouse_id, {}).get("priority", 0),
        "updatedAt": updated_at(state, variation_id, warehouse_id),
    }


def variation_stock_row(state: PlentyState, variation_id: int, warehouse_id: int) -> Record:
    """Entry of ``/rest/items/{id}/variations/{vid}/stock`` (``physicalStock``/``netStock`` names)."""
    level = state.stock_of(variation_id, warehouse_id)
    variation = state.variations.get(variation_id, {})
    return {
        "itemId": variation.get("itemId"),
        "variationId": variation_id,
        "warehouseId": warehouse_id,
        "physicalStock": level.physical,
        "reservedStock": level.reserved,
        "netStock": level.net,
        "reservedListing": 0,
        "reservedBundles": 0,
        "valueOfGoods": 0,
        "purchasePrice": variation.get("purchasePrice", 0),
        "reorderLevel": 0,
        "deltaReorderLevel": 0,
    }


def updated_at(state: PlentyState, variation_id: int, warehouse_id: int) -> str | None:
    return state.stock_updated.get(_pair(variation_id, warehouse_id))
