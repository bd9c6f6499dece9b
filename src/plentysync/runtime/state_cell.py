"""Compare-and-set on one ``sync_state`` row, for small state several processes may change at once
(the digest clock, alert streaks).

JSON cannot be compared portably, so ``updated_at`` is the version: every write moves it forward by
at least a microsecond, and a write succeeds only while ``updated_at`` is still what the writer read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import insert_ignore
from plentysync.db.tables import sync_state

_NEVER = datetime(2000, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Versioned:
    value: Any
    version: datetime


class StateCell:
    def __init__(self, db: Database, clock: Clock, name: str) -> None:
        self.db = db
        self.clock = clock
        self.name = name

    async def read(self) -> Versioned:
        """The current value and its version (the row is created empty on first use)."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(sync_state.c.value, sync_state.c.updated_at).where(sync_state.c.name == self.name)
                )
            ).first()
        if row is None:
            await self.db.write(
                insert_ignore(
                    self.db.backend, sync_state, [{"name": self.name, "value": None, "updated_at": _NEVER}], ["name"]
                )
            )
            return await self.read()
        return Versioned(row[0], row[1])

    async def swap(self, seen: Versioned, value: Any) -> Versioned | None:
        """Write ``value`` if nobody wrote since ``seen`` was read; the new version, or None when
        another process got there first."""
        version = max(self.clock.now(), seen.version + _TICK)
        result = await self.db.write(
            update(sync_state)
            .where(sync_state.c.name == self.name, sync_state.c.updated_at == seen.version)
            .values(value=value, updated_at=version)
        )
        return Versioned(value, version) if result.rowcount == 1 else None
