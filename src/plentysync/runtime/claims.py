"""Timed chores that exactly one of several workers should do (a poll, a sweep, a digest): each keeps
when it last ran in ``sync_state``, and a worker claims a due chore by moving that time forward under
a row lock. The losers see a fresh time and skip, so N workers poll as often as one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import insert_ignore
from plentysync.db.tables import sync_state


def moment(value: Any) -> datetime | None:
    """A stored time; anything unreadable counts as never."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def claim_if_due(db: Database, clock: Clock, name: str, due: Callable[[datetime | None], bool]) -> bool:
    """If ``due(last time)`` holds, record now as the last time and return True (the caller does the
    chore); else return False. Atomic across processes: on PostgreSQL and MariaDB the row is locked
    with ``FOR UPDATE``, SQLite runs one writing transaction at a time."""
    now = clock.now()
    async with db.begin() as conn:
        await conn.execute(
            insert_ignore(db.backend, sync_state, [{"name": name, "value": None, "updated_at": now}], ["name"])
        )
        row = (await conn.execute(select(sync_state.c.value).where(sync_state.c.name == name).with_for_update())).one()
        if not due(moment(row[0])):
            return False
        await conn.execute(
            update(sync_state).where(sync_state.c.name == name).values(value=now.isoformat(), updated_at=now)
        )
        return True
