"""Reference data ("collect configuration data"): lists from both systems that mappings need
(warehouses, webstores, referrers, order statuses, MSI sources, customer groups...), cached per
connection. Collected on demand, shown in dropdowns and used to validate configuration before a run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import upsert
from plentysync.db.tables import reference_data as t


@dataclass(frozen=True)
class ReferenceEntry:
    connection_id: int
    kind: str
    items: list[Any]
    fetched_at: datetime


class ReferenceDataCache:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or db.clock
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    async def get(self, connection_id: int, kind: str, *, max_age: timedelta | None = None) -> ReferenceEntry | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t).where(t.c.connection_id == connection_id, t.c.kind == kind))).first()
        if row is None:
            return None
        if max_age is not None and self.clock.now() - row.fetched_at > max_age:
            return None
        return ReferenceEntry(row.connection_id, row.kind, list(row.payload or []), row.fetched_at)

    async def put(self, connection_id: int, kind: str, items: list[Any]) -> ReferenceEntry:
        now = self.clock.now()
        stmt = upsert(
            self.db.backend,
            t,
            [
                {
                    "connection_id": connection_id,
                    "kind": kind,
                    "payload": items,
                    "fetched_at": now,
                }
            ],
            ["connection_id", "kind"],
            lambda new: [
                ("payload", new("payload")),
                ("fetched_at", new("fetched_at")),
            ],
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)
        return ReferenceEntry(connection_id, kind, items, now)

    async def get_or_collect(
        self,
        connection_id: int,
        kind: str,
        collector: Callable[[], Awaitable[list[Any]]],
        *,
        max_age: timedelta | None = None,
    ) -> ReferenceEntry:
        """The cached list, or a fresh one from ``collector`` if missing or older than ``max_age``.
        Concurrent callers in this process share one collection."""
        lock = self._locks.setdefault((connection_id, kind), asyncio.Lock())
        async with lock:
            cached = await self.get(connection_id, kind, max_age=max_age)
            if cached is not None:
                return cached
            return await self.put(connection_id, kind, await collector())

    async def kinds(self, connection_id: int) -> dict[str, datetime]:
        async with self.db.read() as conn:
            rows = (
                await conn.execute(select(t.c.kind, t.c.fetched_at).where(t.c.connection_id == connection_id))
            ).all()
        return {row.kind: row.fetched_at for row in rows}

    async def clear(self, connection_id: int, kind: str | None = None) -> int:
        stmt = delete(t).where(t.c.connection_id == connection_id)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        async with self.db.begin() as conn:
            return (await conn.execute(stmt)).rowcount
