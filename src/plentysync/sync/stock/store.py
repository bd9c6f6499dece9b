"""The stock tables: baselines, the booking trail (intents and audit), the source-item snapshot, the
cached PlentyONE stock, drift findings and producer watermarks. All SQL of the stock profiles lives here.

Every multi-row write is chunked, so a 200,000-SKU catalogue never builds one huge statement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import chunked, upsert
from plentysync.db.tables import (
    plenty_stock,
    stock_baseline,
    stock_booking,
    stock_drift,
    stock_source_snapshot,
    sync_state,
)
from plentysync.sync.stock.mapping import StockRow

CHUNK = 500
Pair = tuple[str, int]
"""(SKU, PlentyONE warehouse id)."""


class BookingStatus:
    PENDING = "pending"
    """Written before the call; until completed, the outcome is unknown."""
    APPLIED = "applied"
    FAILED = "failed"
    """Refused by PlentyONE: not applied."""
    NOT_APPLIED = "not_applied"
    """The outcome was unknown; PlentyONE's movements show it was not applied."""


@dataclass(frozen=True)
class BaselineRow:
    sku: str
    warehouse_id: int
    quantity: float
    source: str


@dataclass(frozen=True)
class Booking(StockRow):
    """A stock row as it was written to ``stock_booking``, with what became of it."""

    id: int
    status: str
    plenty_booking_id: int | None
    plenty_order_no: str | None
    plenty_movement_id: int | None
    run_id: int | None
    message: str | None
    created_at: datetime
    completed_at: datetime | None

    def audit_entry(self) -> dict[str, Any]:
        """The seed's ``metadata.plenty_bookings`` entry."""
        entry: dict[str, Any] = {
            "mode": self.mode,
            "operation": self.operation,
            "warehouse_id": self.warehouse_id,
            "reason_id": self.reason_id,
            "quantity": self.quantity,
            "delta": self.delta,
            "status": self.status,
            "at": self.created_at.isoformat(),
        }
        if self.plenty_booking_id is not None:
            entry["plenty_booking_id"] = self.plenty_booking_id
        if self.plenty_order_no:
            entry["order_no"] = self.plenty_order_no
        return entry


@dataclass(frozen=True)
class BookingOutcome:
    id: int
    status: str
    message: str | None = None
    plenty_booking_id: int | None = None
    plenty_order_no: str | None = None
    plenty_movement_id: int | None = None


@dataclass(frozen=True)
class SnapshotRow:
    sku: str
    source_code: str
    quantity: float
    status: int


@dataclass(frozen=True)
class PlentyStockRow:
    variation_id: int
    warehouse_id: int
    sku: str | None
    item_id: int | None
    physical: float
    net: float
    reserved: float
    plenty_updated_at: datetime | None


@dataclass(frozen=True)
class DriftRow:
    sku: str
    consecutive: int
    magento_quantity: float | None
    plenty_quantity: float | None
    first_seen_at: datetime
    last_seen_at: datetime


_BOOKING_FIELDS = tuple(Booking.__dataclass_fields__)


class StockStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or db.clock

    # -- baselines --------------------------------------------------------------------------------

    async def baselines(self, skus: Iterable[str]) -> dict[Pair, float]:
        keys = list(dict.fromkeys(skus))
        found: dict[Pair, float] = {}
        t = stock_baseline
        async with self.db.read() as conn:
            for chunk in chunked(keys, CHUNK):
                rows = await conn.execute(select(t.c.sku, t.c.warehouse_id, t.c.quantity).where(t.c.sku.in_(chunk)))
                found.update({(r.sku, r.warehouse_id): r.quantity for r in rows})
        return found

    async def baseline_rows(self, sku: str) -> list[dict[str, Any]]:
        t = stock_baseline
        async with self.db.read() as conn:
            rows = await conn.execute(select(t).where(t.c.sku == sku).order_by(t.c.warehouse_id))
            return [dict(r._mapping) for r in rows]

    async def _set_baselines(self, conn: AsyncConnection, rows: Sequence[BaselineRow]) -> None:
        now = self.clock.now()
        unique = {(r.sku, r.warehouse_id): r for r in rows}
        values = [
            {
                "sku": r.sku,
                "warehouse_id": r.warehouse_id,
                "quantity": r.quantity,
                "source": r.source,
                "updated_at": now,
            }
            for r in unique.values()
        ]
        for chunk in chunked(values, CHUNK):
            stmt = upsert(
                self.db.backend,
                stock_baseline,
                list(chunk),
                ["sku", "warehouse_id"],
                lambda new: [(c, new(c)) for c in ("quantity", "source", "updated_at")],
            )
            await conn.execute(stmt)

    async def set_baselines(self, rows: Sequence[BaselineRow]) -> None:
        if rows:
            await self.db.transact(lambda conn: self._set_baselines(conn, rows))

    async def clear_baselines(self, skus: Sequence[str], *, dry_run: bool = False) -> int:
        """Forget the baselines of these SKUs: their next delta push bootstraps again (seed issue 2's fix)."""
        t = stock_baseline
        total = 0
        for chunk in chunked(list(skus), CHUNK):
            if dry_run:
                async with self.db.read() as conn:
                    total += (await conn.execute(select(func.count()).where(t.c.sku.in_(chunk)))).scalar_one()
            else:
                total += (await self.db.write(delete(t).where(t.c.sku.in_(chunk)))).rowcount
        return total

    # -- bookings ---------------------------------------------------------------------------------

    async def add_intents(self, intents: Sequence[StockRow], run_id: int | None) -> list[int]:
        """Write the intents (status pending) and return their ids in the same order."""
        if not intents:
            return []
        now = self.clock.now()
        t = stock_booking
        rows = [
            {**intent.__dict__, "status": BookingStatus.PENDING, "run_id": run_id, "created_at": now}
            for intent in intents
        ]
        ids: list[int] = []
        for chunk in chunked(rows, CHUNK):
            result = await self.db.write(t.insert().returning(t.c.id, sort_by_parameter_order=True), list(chunk))
            ids.extend(row[0] for row in result.rows)
        return ids

    async def complete(self, outcomes: Sequence[BookingOutcome], baselines: Sequence[BaselineRow] = ()) -> None:
        """Record what became of bookings and move the baselines they establish, in one transaction: a
        baseline never moves without its booking being marked applied, and the other way round."""
        if not outcomes and not baselines:
            return
        now = self.clock.now()
        t = stock_booking

        stmt = (
            update(t)
            .where(t.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                message=bindparam("b_message"),
                plenty_booking_id=bindparam("b_booking"),
                plenty_order_no=bindparam("b_order_no"),
                plenty_movement_id=bindparam("b_movement"),
                completed_at=bindparam("b_at"),
            )
        )
        params = [
            {
                "b_id": o.id,
                "b_status": o.status,
                "b_message": o.message,
                "b_booking": o.plenty_booking_id,
                "b_order_no": o.plenty_order_no,
                "b_movement": o.plenty_movement_id,
                "b_at": now,
            }
            for o in outcomes
        ]

        async def work(conn: AsyncConnection) -> None:
            for chunk in chunked(params, CHUNK):
                await conn.execute(stmt, list(chunk))
            await self._set_baselines(conn, baselines)

        await self.db.transact(work)

    def _booking(self, row: Any) -> Booking:
        data = dict(row._mapping)
        return Booking(**{name: data[name] for name in _BOOKING_FIELDS})

    async def pending(self, skus: Iterable[str] | None = None) -> list[Booking]:
        """Bookings whose outcome is not known yet (all of them, or those of ``skus``)."""
        t = stock_booking
        cond = [t.c.status == BookingStatus.PENDING]
        async with self.db.read() as conn:
            if skus is None:
                rows = await conn.execute(select(t).where(*cond).order_by(t.c.id))
                return [self._booking(r) for r in rows]
            found: list[Booking] = []
            for chunk in chunked(list(dict.fromkeys(skus)), CHUNK):
                rows = await conn.execute(select(t).where(*cond, t.c.sku.in_(chunk)).order_by(t.c.id))
                found.extend(self._booking(r) for r in rows)
            return found

    async def applied_since(self, warehouse_id: int, variation_ids: Sequence[int], since: datetime) -> list[Booking]:
        """Applied bookings of these variations in a warehouse since ``since`` (reconciliation lets them
        claim their own movements first, so a pending booking never takes an applied one's)."""
        t = stock_booking
        found: list[Booking] = []
        async with self.db.read() as conn:
            for chunk in chunked(list(variation_ids), CHUNK):
                rows = await conn.execute(
                    select(t).where(
                        t.c.status == BookingStatus.APPLIED,
                        t.c.warehouse_id == warehouse_id,
                        t.c.variation_id.in_(chunk),
                        t.c.created_at >= since,
                    )
                )
                found.extend(self._booking(r) for r in rows)
        return found

    async def claimed_movements(self, movement_ids: Iterable[int]) -> set[int]:
        """Which of these PlentyONE movements are already matched to one of our bookings."""
        t = stock_booking
        ids = list(set(movement_ids))
        taken: set[int] = set()
        async with self.db.read() as conn:
            for chunk in chunked(ids, CHUNK):
                rows = await conn.execute(select(t.c.plenty_movement_id).where(t.c.plenty_movement_id.in_(chunk)))
                taken.update(r[0] for r in rows)
        return taken

    async def bookings(self, sku: str | None = None, *, limit: int = 50, status: str | None = None) -> list[Booking]:
        t = stock_booking
        cond = []
        if sku is not None:
            cond.append(t.c.sku == sku)
        if status is not None:
            cond.append(t.c.status == status)
        async with self.db.read() as conn:
            rows = await conn.execute(select(t).where(*cond).order_by(t.c.id.desc()).limit(limit))
            return [self._booking(r) for r in rows]

    async def booking_counts(self) -> dict[str, int]:
        t = stock_booking
        async with self.db.read() as conn:
            rows = await conn.execute(select(t.c.status, func.count()).group_by(t.c.status))
            return {status: int(n) for status, n in rows}

    # -- source-item snapshot ---------------------------------------------------------------------

    async def snapshot(self) -> dict[tuple[str, str], tuple[float, int]]:
        """The whole last-seen snapshot, (SKU, source) -> (quantity, status)."""
        t = stock_source_snapshot
        found: dict[tuple[str, str], tuple[float, int]] = {}
        async with self.db.read() as conn:
            result = await conn.stream(select(t.c.sku, t.c.source_code, t.c.quantity, t.c.status))
            async for r in result:
                found[(r.sku, r.source_code)] = (r.quantity, r.status)
        return found

    async def snapshot_for(self, skus: Iterable[str]) -> dict[tuple[str, str], tuple[float, int]]:
        t = stock_source_snapshot
        found: dict[tuple[str, str], tuple[float, int]] = {}
        async with self.db.read() as conn:
            for chunk in chunked(list(dict.fromkeys(skus)), CHUNK):
                rows = await conn.execute(
                    select(t.c.sku, t.c.source_code, t.c.quantity, t.c.status).where(t.c.sku.in_(chunk))
                )
                found.update({(r.sku, r.source_code): (r.quantity, r.status) for r in rows})
        return found

    async def _put_snapshot(self, conn: AsyncConnection, rows: Sequence[SnapshotRow]) -> None:
        now = self.clock.now()
        values = [
            {"sku": r.sku, "source_code": r.source_code, "quantity": r.quantity, "status": r.status, "seen_at": now}
            for r in {(r.sku, r.source_code): r for r in rows}.values()
        ]
        for chunk in chunked(values, CHUNK):
            stmt = upsert(
                self.db.backend,
                stock_source_snapshot,
                list(chunk),
                ["sku", "source_code"],
                lambda new: [(c, new(c)) for c in ("quantity", "status", "seen_at")],
            )
            await conn.execute(stmt)

    async def update_snapshot(
        self,
        rows: Sequence[SnapshotRow],
        removed: Sequence[tuple[str, str]] = (),
        baselines: Sequence[BaselineRow] = (),
    ) -> None:
        """Store what was seen (or written), forget removed pairs and, for stock import, move the
        export baselines, all in one transaction so an import is never half-recorded."""
        t = stock_source_snapshot

        async def work(conn: AsyncConnection) -> None:
            await self._put_snapshot(conn, rows)
            for chunk in chunked(list(removed), CHUNK):
                await conn.execute(delete(t).where(tuple_(t.c.sku, t.c.source_code).in_(list(chunk))))
            await self._set_baselines(conn, baselines)

        if rows or removed or baselines:
            await self.db.transact(work)

    # -- cached PlentyONE stock -------------------------------------------------------------------

    async def put_plenty_stock(self, rows: Sequence[PlentyStockRow]) -> None:
        now = self.clock.now()
        values = [
            {**r.__dict__, "fetched_at": now} for r in {(r.variation_id, r.warehouse_id): r for r in rows}.values()
        ]
        columns = ("item_id", "sku", "physical", "net", "reserved", "plenty_updated_at", "fetched_at")
        for chunk in chunked(values, CHUNK):
            stmt = upsert(
                self.db.backend,
                plenty_stock,
                list(chunk),
                ["variation_id", "warehouse_id"],
                lambda new: [(c, new(c)) for c in columns],
            )
            await self.db.write(stmt)

    async def plenty_physical(self, skus: Iterable[str]) -> dict[Pair, float]:
        t = plenty_stock
        found: dict[Pair, float] = {}
        async with self.db.read() as conn:
            for chunk in chunked(list(dict.fromkeys(skus)), CHUNK):
                rows = await conn.execute(select(t.c.sku, t.c.warehouse_id, t.c.physical).where(t.c.sku.in_(chunk)))
                found.update({(r.sku, r.warehouse_id): r.physical for r in rows})
        return found

    async def plenty_rows(self, sku: str) -> list[dict[str, Any]]:
        t = plenty_stock
        async with self.db.read() as conn:
            rows = await conn.execute(select(t).where(t.c.sku == sku).order_by(t.c.warehouse_id))
            return [dict(r._mapping) for r in rows]

    async def cached_skus(self) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(plenty_stock))).scalar_one())

    # -- drift ------------------------------------------------------------------------------------

    async def record_drift(
        self, divergent: dict[str, tuple[float, float]], *, swept: Iterable[str] | None
    ) -> list[DriftRow]:
        """Count one more sweep for each divergent SKU (sku -> (Magento, PlentyONE)); SKUs swept and
        found in line are forgotten (``swept`` None: the whole catalogue was swept)."""
        t = stock_drift
        now = self.clock.now()
        async with self.db.read() as conn:
            existing = {
                r.sku: r
                for chunk in chunked(list(divergent), CHUNK)
                for r in (await conn.execute(select(t).where(t.c.sku.in_(chunk)))).all()
            }
        found = [
            DriftRow(
                sku=sku,
                consecutive=(existing[sku].consecutive + 1) if sku in existing else 1,
                magento_quantity=mq,
                plenty_quantity=pq,
                first_seen_at=existing[sku].first_seen_at if sku in existing else now,
                last_seen_at=now,
            )
            for sku, (mq, pq) in divergent.items()
        ]
        values: list[dict[str, Any]] = [row.__dict__ for row in found]

        async def work(conn: AsyncConnection) -> None:
            if swept is None:
                await conn.execute(delete(t).where(t.c.last_seen_at < now))
            else:
                gone = [sku for sku in swept if sku not in divergent]
                for keys in chunked(gone, CHUNK):
                    await conn.execute(delete(t).where(t.c.sku.in_(keys)))
            for rows in chunked(values, CHUNK):
                stmt = upsert(
                    self.db.backend,
                    t,
                    list(rows),
                    ["sku"],
                    lambda new: [
                        (c, new(c)) for c in ("consecutive", "magento_quantity", "plenty_quantity", "last_seen_at")
                    ],
                )
                await conn.execute(stmt)

        await self.db.transact(work)
        return found

    async def drifting(self, *, at_least: int = 2, limit: int = 50) -> list[DriftRow]:
        t = stock_drift
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(t).where(t.c.consecutive >= at_least).order_by(t.c.consecutive.desc(), t.c.sku).limit(limit)
            )
            return [DriftRow(**{k: v for k, v in r._mapping.items() if k != "id"}) for r in rows]

    async def clear_all(self) -> None:
        """Forget every stock table's rows (``plentysync demo --fresh`` starting over)."""

        async def work(conn: AsyncConnection) -> None:
            for table in (stock_baseline, stock_booking, stock_source_snapshot, plenty_stock, stock_drift, sync_state):
                await conn.execute(delete(table))

        await self.db.transact(work)

    # -- producer state ---------------------------------------------------------------------------

    async def get_state(self, name: str) -> Any:
        async with self.db.read() as conn:
            row = (await conn.execute(select(sync_state.c.value).where(sync_state.c.name == name))).first()
        return None if row is None else row[0]

    async def set_state(self, name: str, value: Any) -> None:
        stmt = upsert(
            self.db.backend,
            sync_state,
            [{"name": name, "value": value, "updated_at": self.clock.now()}],
            ["name"],
            lambda new: [("value", new("value")), ("updated_at", new("updated_at"))],
        )
        await self.db.write(stmt)
