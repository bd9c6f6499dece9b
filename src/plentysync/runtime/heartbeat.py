"""The ``worker`` table: one row per worker process, its heartbeat and what it reports about itself.

A worker registers at start, beats every ``worker.heartbeat_seconds`` and marks itself stopped on a
clean exit. A row whose heartbeat is older than ``worker.lost_after_seconds`` belongs to a worker that
crashed or lost the database: it shows as ``lost``, and its queue rows come back when their leases run
out. SQLite allows one worker: a second one is refused while the first one's heartbeat is fresh.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.tables import worker as w
from plentysync.errors import ConflictError
from plentysync.procs import gone_here, process_id, this_host

RUNNING, STOPPING, STOPPED, LOST = "running", "stopping", "stopped", "lost"


@dataclass(frozen=True)
class WorkerRow:
    name: str
    host: str
    pid: int
    state: str
    """running, stopping or stopped as the worker wrote it; ``lost`` when its heartbeat is stale."""
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    info: dict[str, Any]
    heartbeat_age: float

    @property
    def alive(self) -> bool:
        return self.state in (RUNNING, STOPPING)


def default_worker_name() -> str:
    return process_id()


class WorkerRegistry:
    def __init__(self, db: Database, clock: Clock, *, lost_after: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.lost_after = lost_after

    def _row(self, row: Any, now: datetime) -> WorkerRow:
        age = (now - row.heartbeat_at).total_seconds()
        state = row.state
        if state in (RUNNING, STOPPING) and age > self.lost_after.total_seconds():
            state = LOST
        return WorkerRow(
            name=row.name,
            host=row.host,
            pid=row.pid,
            state=state,
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
            stopped_at=row.stopped_at,
            info=dict(row.info or {}),
            heartbeat_age=max(0.0, age),
        )

    async def register(self, name: str, info: dict[str, Any]) -> None:
        """Claim the row ``name`` for this process. Refused while a live worker holds that name, and on
        SQLite while any other worker is alive (SQLite takes one writer at a time: a second worker would
        only wait for locks, and its claims are not isolated from the first one's)."""
        now = self.clock.now()
        fresh_since = now - self.lost_after
        async with self.db.begin() as conn:
            live = (
                await conn.execute(
                    select(w.c.name, w.c.host, w.c.pid).where(
                        w.c.state.in_([RUNNING, STOPPING]), w.c.heartbeat_at >= fresh_since
                    )
                )
            ).all()
            live = [other for other in live if not gone_here(other.host, other.pid)]
            for other in live:
                if other.name == name:
                    raise ConflictError(
                        f"a worker named {name!r} is already running (pid {other.pid} on {other.host}); "
                        "give this one another --name, or stop that one first"
                    )
            if self.db.backend == "sqlite" and live:
                other = live[0]
                raise ConflictError(
                    f"worker {other.name!r} (pid {other.pid} on {other.host}) is already running on this SQLite "
                    "database, and SQLite supports one worker. Stop it first, or move the state database to "
                    "PostgreSQL or MariaDB (database_url) to run several workers."
                )
            values = {
                "host": this_host(),
                "pid": os.getpid(),
                "state": RUNNING,
                "started_at": now,
                "heartbeat_at": now,
                "stopped_at": None,
                "info": info,
            }
            updated = await conn.execute(update(w).where(w.c.name == name).values(**values))
            if updated.rowcount == 0:
                await conn.execute(insert(w).values(name=name, **values))

    async def beat(self, name: str, info: dict[str, Any], *, state: str = RUNNING) -> bool:
        """Write the heartbeat; False when the row is gone (deleted by ``worker status --prune``)."""
        now = self.clock.now()
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(w).where(w.c.name == name).values(heartbeat_at=now, state=state, info=info)
            )
        return result.rowcount == 1

    async def stopped(self, name: str, info: dict[str, Any]) -> None:
        now = self.clock.now()
        async with self.db.begin() as conn:
            await conn.execute(
                update(w).where(w.c.name == name).values(state=STOPPED, stopped_at=now, heartbeat_at=now, info=info)
            )

    async def list(self) -> list[WorkerRow]:
        now = self.clock.now()
        async with self.db.read() as conn:
            rows = (await conn.execute(select(w).order_by(w.c.heartbeat_at.desc()))).all()
        return [self._row(r, now) for r in rows]

    async def prune(self, older_than: timedelta) -> int:
        """Delete rows of workers stopped or lost longer than ``older_than`` ago."""
        cutoff = self.clock.now() - older_than
        async with self.db.begin() as conn:
            result = await conn.execute(delete(w).where(w.c.heartbeat_at < cutoff))
        return result.rowcount
