"""Settle bookings whose outcome is unknown (the call timed out, the connection dropped after sending,
the worker died between sending and recording) against PlentyONE's stock movement log, before anything
new is sent for those SKUs. This is what makes delta bookings exactly-once: a booking that PlentyONE
applied is recorded as applied (and its baseline moves), one it never saw is recorded as not applied and
the SKU is planned again from the unchanged baseline.

A movement matches a booking when variation, reason and signed quantity agree and it was created no
earlier than the booking's intent (minus a clock allowance); each movement settles one booking at most.
A correction's movement holds the difference it made, not the quantity sent, so a correction matches
any movement of its variation with its reason after the intent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from plentysync.plenty import PlentyClient
from plentysync.plenty.models.stock import StockMovement
from plentysync.sync.stock.mapping import CORRECTION
from plentysync.sync.stock.store import BaselineRow, Booking, BookingOutcome, BookingStatus, StockStore

CLOCK_ALLOWANCE = timedelta(minutes=5)
"""How much earlier than our intent PlentyONE's clock may date the movement."""
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Settled:
    outcomes: list[BookingOutcome]
    baselines: list[BaselineRow]

    @property
    def applied(self) -> int:
        return sum(1 for o in self.outcomes if o.status == BookingStatus.APPLIED)


def _created(movement: StockMovement) -> datetime | None:
    if not movement.createdAt:
        return None
    try:
        return datetime.fromisoformat(movement.createdAt)
    except ValueError:
        return None


def match(
    bookings: Sequence[Booking], movements: Sequence[StockMovement], taken: set[int], applied: Sequence[Booking] = ()
) -> Settled:
    """Pure: pair pending bookings with unclaimed movements; the rest were not applied.

    ``applied`` are our bookings of the same variations already known to be applied whose movement id
    we never learnt (outgoing bookings answer with an empty body): in id order with the pending ones,
    each takes the oldest movement that fits it, so a pending booking cannot settle on a movement that
    an earlier booking of ours made."""
    by_variation: dict[int, list[StockMovement]] = defaultdict(list)
    for movement in sorted(movements, key=lambda m: m.id or 0):
        if movement.id is not None and movement.variationId is not None and movement.id not in taken:
            by_variation[movement.variationId].append(movement)
    outcomes: list[BookingOutcome] = []
    baselines: list[BaselineRow] = []
    used: set[int] = set()
    known = {b.id for b in applied}
    for booking in sorted([*bookings, *applied], key=lambda b: b.id):
        earliest = booking.created_at - CLOCK_ALLOWANCE
        found = None
        for movement in by_variation.get(booking.variation_id, []):
            created = _created(movement)
            if movement.id in used or (created is not None and created < earliest):
                continue
            if movement.reason != booking.reason_id:
                continue
            if booking.operation != CORRECTION and abs((movement.quantity or 0.0) - booking.quantity) > TOLERANCE:
                continue
            found = movement
            break
        if booking.id in known:
            if found is not None and found.id is not None:
                used.add(found.id)
            continue
        if found is not None and found.id is not None:
            used.add(found.id)
            outcomes.append(
                BookingOutcome(
                    booking.id,
                    BookingStatus.APPLIED,
                    f"outcome was unknown; PlentyONE movement {found.id} shows it was applied",
                    plenty_movement_id=found.id,
                )
            )
            baselines.append(BaselineRow(booking.sku, booking.warehouse_id, booking.target, booking.mode))
        else:
            outcomes.append(
                BookingOutcome(
                    booking.id,
                    BookingStatus.NOT_APPLIED,
                    "outcome was unknown; PlentyONE has no matching movement, so it was not applied",
                )
            )
    return Settled(outcomes, baselines)


async def settle(bookings: Sequence[Booking], plenty: PlentyClient, store: StockStore) -> Settled:
    """Read the movements of each affected warehouse since the oldest intent, match, and record the
    result (bookings and baselines in one transaction). Reads one variation at a time when only a few
    are affected, the whole warehouse log otherwise."""
    outcomes: list[BookingOutcome] = []
    baselines: list[BaselineRow] = []
    by_warehouse: dict[int, list[Booking]] = defaultdict(list)
    for booking in bookings:
        by_warehouse[booking.warehouse_id].append(booking)
    for warehouse_id, group in sorted(by_warehouse.items()):
        since = min(b.created_at for b in group) - CLOCK_ALLOWANCE
        variations = sorted({b.variation_id for b in group})
        movements: list[StockMovement] = []
        if len(variations) <= 3:
            for variation_id in variations:
                async for m in plenty.stock.movements(warehouse_id, variation_id=variation_id, created_from=since):
                    movements.append(m)
        else:
            wanted = set(variations)
            async for m in plenty.stock.movements(warehouse_id, created_from=since):
                if m.variationId in wanted:
                    movements.append(m)
        taken = await store.claimed_movements(m.id for m in movements if m.id is not None)
        applied = [
            b for b in await store.applied_since(warehouse_id, variations, since) if b.plenty_movement_id is None
        ]
        settled = match(group, movements, taken, applied)
        outcomes += settled.outcomes
        baselines += settled.baselines
    await store.complete(outcomes, baselines)
    return Settled(outcomes, baselines)
