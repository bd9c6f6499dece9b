"""The ``notification`` table: record, read, mark read, claim for a channel, and clean up.

A channel (``email``, ``webhook``) has its own column saying when a notification went out on it.
Claiming sets that column inside the transaction that row-locks the rows (``FOR UPDATE SKIP LOCKED``;
SQLite: ``BEGIN IMMEDIATE``) and only where it is still NULL, so two dispatchers never take the same
row; releasing sets it back to NULL so the next dispatch tries again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.db import Database
from plentysync.db.dialect import chunked, lock_skip_locked
from plentysync.db.tables import notification as n
from plentysync.errors import NotFoundError

Channel = Literal["email", "webhook"]
CHANNELS: tuple[Channel, ...] = ("email", "webhook")
_CHUNK = 500


@dataclass(frozen=True)
class NotificationRecord:
    id: int
    severity: str
    level: int
    kind: str
    profile_type: str | None
    run_id: int | None
    title: str
    message: str | None
    context: dict[str, Any] | None
    created_at: datetime
    emailed_at: datetime | None
    digested_at: datetime | None
    webhook_at: datetime | None
    read_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> NotificationRecord:
        return cls(**row._mapping)


def sent_column(channel: Channel) -> Any:
    return n.c.emailed_at if channel == "email" else n.c.webhook_at


class NotificationStore:
    def __init__(self, db: Database, *, batch_size: int = 1000) -> None:
        self.db = db
        self.batch_size = batch_size

    # -- recording and reading -----------------------------------------------------------------

    async def add(self, values: dict[str, Any]) -> int:
        async with self.db.begin() as conn:
            key = (await conn.execute(n.insert().values(**values))).inserted_primary_key
        assert key is not None
        return int(key[0])

    async def get(self, notification_id: int) -> NotificationRecord:
        async with self.db.read() as conn:
            row = (await conn.execute(select(n).where(n.c.id == notification_id))).first()
        if row is None:
            raise NotFoundError(f"no notification {notification_id}")
        return NotificationRecord.from_row(row)

    async def find(
        self,
        *,
        min_level: int | None = None,
        profile_type: str | None = None,
        kind: str | None = None,
        unread: bool = False,
        limit: int = 50,
    ) -> list[NotificationRecord]:
        """Newest first."""
        cond = self._filters(min_level=min_level, profile_type=profile_type, kind=kind, unread=unread)
        query = select(n).where(*cond).order_by(n.c.created_at.desc(), n.c.id.desc()).limit(limit)
        async with self.db.read() as conn:
            return [NotificationRecord.from_row(row) for row in (await conn.execute(query)).all()]

    async def mark_read(self, ids: Sequence[int] | None, now: datetime, *, profile_type: str | None = None) -> int:
        """Mark these notifications read (``ids=None``: all, or all of one profile). Returns how many
        changed; rows already read keep their first read time."""
        base: list[ColumnElement[bool]] = [n.c.read_at.is_(None)]
        if profile_type is not None:
            base.append(n.c.profile_type == profile_type)
        if ids is None:
            return (await self.db.write(update(n).where(*base).values(read_at=now))).rowcount
        changed = 0
        for chunk in chunked(list(ids), _CHUNK):
            result = await self.db.write(update(n).where(n.c.id.in_(chunk), *base).values(read_at=now))
            changed += result.rowcount
        return changed

    async def existing_ids(self, ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        async with self.db.read() as conn:
            for chunk in chunked(list(ids), _CHUNK):
                found.update((await conn.execute(select(n.c.id).where(n.c.id.in_(chunk)))).scalars().all())
        return found

    # -- channels -------------------------------------------------------------------------------

    async def pending(
        self, channel: Channel, where: Sequence[ColumnElement[bool]], *, limit: int
    ) -> list[NotificationRecord]:
        """What a dispatch would claim, without claiming it (oldest first)."""
        query = select(n).where(sent_column(channel).is_(None), *where).order_by(n.c.id).limit(limit)
        async with self.db.read() as conn:
            return [NotificationRecord.from_row(row) for row in (await conn.execute(query)).all()]

    async def has_pending(self, channel: Channel, where: Sequence[ColumnElement[bool]]) -> bool:
        query = select(n.c.id).where(sent_column(channel).is_(None), *where).limit(1)
        async with self.db.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def claim(
        self, channel: Channel, where: Sequence[ColumnElement[bool]], now: datetime, *, limit: int
    ) -> list[NotificationRecord]:
        """Take up to ``limit`` rows not yet sent on ``channel`` (oldest first) by stamping the
        channel's column with ``now``: compare-and-set under row locks, so a row goes to one
        dispatcher only. Rows another dispatcher holds locked are skipped, not waited for."""
        column = sent_column(channel)

        async def work(conn: AsyncConnection) -> list[NotificationRecord]:
            query = select(n).where(column.is_(None), *where).order_by(n.c.id).limit(limit)
            result = await conn.execute(lock_skip_locked(self.db.backend, query))
            rows = [NotificationRecord.from_row(row) for row in result.all()]
            if rows:
                stamp = update(n).where(n.c.id.in_([r.id for r in rows]), column.is_(None)).values({column.key: now})
                await conn.execute(stamp)
            return rows

        return await self.db.transact(work)

    async def release(self, channel: Channel, ids: Sequence[int]) -> None:
        """Give claimed rows back: the next dispatch sends them again."""
        column = sent_column(channel)
        for chunk in chunked(list(ids), _CHUNK):
            await self.db.write(update(n).where(n.c.id.in_(chunk)).values({column.key: None}))

    async def mark_digested(self, ids: Sequence[int], now: datetime) -> None:
        for chunk in chunked(list(ids), _CHUNK):
            await self.db.write(update(n).where(n.c.id.in_(chunk), n.c.digested_at.is_(None)).values(digested_at=now))

    # -- retention ------------------------------------------------------------------------------

    async def count(self, cond: Sequence[ColumnElement[bool]] = ()) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(n).where(*cond))).scalar_one())

    async def clean(self, now: datetime, *, retention_days: int, max_rows: int, dry_run: bool = False) -> int:
        """Delete notifications older than ``retention_days`` (0: none), then the oldest beyond
        ``max_rows`` (0: no cap). Each batch is its own short transaction, so a table that has
        grown huge is worked down step by step instead of in one statement that needs the space
        and the locks of everything at once."""
        aged: list[ColumnElement[bool]] = []
        if retention_days:
            aged = [n.c.created_at < now - timedelta(days=retention_days)]
        if dry_run:
            by_age = await self.count(aged) if aged else 0
            rest = await self.count() - by_age
            return by_age + (max(0, rest - max_rows) if max_rows else 0)
        deleted = 0
        if aged:
            while True:
                batch = await self._delete_batch(select(n.c.id).where(*aged).order_by(n.c.id).limit(self.batch_size))
                deleted += batch
                if batch < self.batch_size:
                    break
        if max_rows:
            while (excess := await self.count() - max_rows) > 0:
                oldest = select(n.c.id).order_by(n.c.created_at, n.c.id).limit(min(excess, self.batch_size))
                batch = await self._delete_batch(oldest)
                deleted += batch
                if not batch:
                    break
        return deleted

    async def _delete_batch(self, ids_query: Any) -> int:
        async def work(conn: AsyncConnection) -> int:
            ids = (await conn.execute(ids_query)).scalars().all()
            if not ids:
                return 0
            return (await conn.execute(delete(n).where(n.c.id.in_(list(ids))))).rowcount

        return await self.db.transact(work)

    @staticmethod
    def _filters(
        *, min_level: int | None, profile_type: str | None, kind: str | None, unread: bool
    ) -> list[ColumnElement[bool]]:
        cond: list[ColumnElement[bool]] = []
        if min_level is not None:
            cond.append(n.c.level >= min_level)
        if profile_type is not None:
            cond.append(n.c.profile_type == profile_type)
        if kind is not None:
            cond.append(n.c.kind == kind)
        if unread:
            cond.append(n.c.read_at.is_(None))
        return cond
