"""Settling bookings of unknown outcome against PlentyONE's movement log, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from plentysync.plenty.models.stock import StockMovement
from plentysync.sync.stock.reconcile import match
from plentysync.sync.stock.store import Booking

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def booking(id_: int, quantity: float, *, status: str = "pending", at: datetime = T0, **kw: Any) -> Booking:
    data: dict[str, Any] = {
        "sku": "SKU-1",
        "variation_id": 10,
        "warehouse_id": 1,
        "mode": "delta",
        "operation": "bookOutgoingItems" if quantity < 0 else "bookIncomingItems",
        "reason_id": 200 if quantity < 0 else 100,
        "quantity": quantity,
        "delta": quantity,
        "baseline_before": 10.0,
        "target": 10.0 + quantity,
        "id": id_,
        "status": status,
        "plenty_booking_id": None,
        "plenty_order_no": None,
        "plenty_movement_id": None,
        "run_id": None,
        "message": None,
        "created_at": at,
        "completed_at": None,
    }
    return Booking(**{**data, **kw})


def movement(id_: int, quantity: float, reason: int, at: datetime = T0, variation: int = 10) -> StockMovement:
    return StockMovement(id=id_, variationId=variation, quantity=quantity, reason=reason, createdAt=at.isoformat())


def test_a_matching_movement_settles_the_booking_as_applied_and_moves_the_baseline() -> None:
    settled = match([booking(1, -1)], [movement(50, -1, 200, T0 + timedelta(seconds=1))], taken=set())
    assert [(o.id, o.status, o.plenty_movement_id) for o in settled.outcomes] == [(1, "applied", 50)]
    assert [(b.sku, b.warehouse_id, b.quantity) for b in settled.baselines] == [("SKU-1", 1, 9.0)]


def test_no_matching_movement_means_not_applied() -> None:
    movements = [
        movement(50, -1, 201),  # a channel sale, not ours
        movement(51, -2, 200),  # ours, but another quantity
        movement(52, -1, 200, variation=11),
        movement(53, -1, 200, T0 - timedelta(hours=1)),  # long before the intent
    ]
    settled = match([booking(1, -1)], movements, taken=set())
    assert [o.status for o in settled.outcomes] == ["not_applied"]
    assert settled.baselines == []


def test_a_movement_already_claimed_settles_nothing() -> None:
    settled = match([booking(1, -1)], [movement(50, -1, 200)], taken={50})
    assert [o.status for o in settled.outcomes] == ["not_applied"]


def test_each_movement_settles_one_booking() -> None:
    settled = match([booking(1, -1), booking(2, -1)], [movement(50, -1, 200)], taken=set())
    assert [(o.id, o.status) for o in settled.outcomes] == [(1, "applied"), (2, "not_applied")]


def test_an_applied_booking_without_movement_id_keeps_its_own_movement() -> None:
    """Outgoing bookings answer with an empty body: their movement is unknown. A later pending booking
    of the same quantity must not take it."""
    earlier = booking(1, -1, status="applied")
    pending = booking(2, -1, at=T0 + timedelta(seconds=30))
    settled = match([pending], [movement(50, -1, 200)], taken=set(), applied=[earlier])
    assert [(o.id, o.status) for o in settled.outcomes] == [(2, "not_applied")]
    both = match(
        [pending], [movement(50, -1, 200), movement(51, -1, 200, T0 + timedelta(seconds=31))], set(), [earlier]
    )
    assert [(o.id, o.status, o.plenty_movement_id) for o in both.outcomes] == [(2, "applied", 51)]


def test_a_correction_matches_any_movement_of_its_reason_after_the_intent() -> None:
    correction = booking(1, 9, operation="createStockCorrection", reason_id=301, mode="bootstrap", target=9.0)
    settled = match([correction], [movement(50, -1, 301, T0 + timedelta(seconds=2))], taken=set())
    assert [o.status for o in settled.outcomes] == ["applied"]
    assert [b.quantity for b in settled.baselines] == [9.0]
