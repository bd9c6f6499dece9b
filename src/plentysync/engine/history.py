"""Run history: one row per profile run and one per entity a run touched, with retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, select, update

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import chunked
from plentysync.db.tables import profile_run as r
from plentysync.db.tables import run_entity as e
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.messages import EntityMessage
from plentysync.errors import NotFoundError


@dataclass(frozen=True)
class RunRecord:
    id: int
    profile_id: int
    type_id: str
    trigger: str
    status: str
    dry_run: bool
    owner: str | None
    started_at: datetime
    finished_at: datetime | None
    processed: int
    succeeded: int
    errors: int
    skipped: int
    message: str | None
    messages: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> RunRecord:
        return cls(**row._mapping)

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True)
class EntityHistoryRecord:
    run_id: int
    entity_key: str
    status: str
    message: str | None
    created_at: datetime


@dataclass(frozen=True)
class CleanResult:
    runs: int
    entities: int


class RunHistory:
    def __init__(self, db: Database, clock: Clock | None = None, *, chunk_size: int = 1000) -> None:
        self.db = db
        self.clock: Clock = clock or db.clock
        self.chunk_size = chunk_size

    async def start(self, *, profile_id: int, type_id: str, trigger: str, dry_run: bool, owner: str) -> RunRecord:
        now = self.clock.now()
        async with self.db.begin() as conn:
            result = await conn.execute(
                r.insert().values(
                    profile_id=profile_id,
                    type_id=type_id,
                    trigger=trigger,
                    status=RunStatus.RUNNING.value,
                    dry_run=dry_run,
                    owner=owner,
                    started_at=now,
                    processed=0,
                    succeeded=0,
                    errors=0,
                    skipped=0,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            run_id = int(key[0])
        return await self.get(run_id)

    async def add_entities(self, run_id: int, profile_id: int, entries: Sequence[EntityMessage]) -> None:
        if not entries:
            return
        rows = [
            {
                "run_id": run_id,
                "profile_id": profile_id,
                "entity_key": entry.key,
                "status": entry.status.value,
                "message": entry.message,
                "created_at": entry.at,
            }
            for entry in entries
        ]
        for chunk in chunked(rows, self.chunk_size):
            await self.db.write(e.insert(), list(chunk))

    async def finish(
        self,
        run_id: int,
        *,
        status: RunStatus,
        processed: int,
        succeeded: int,
        errors: int,
        skipped: int,
        message: str | None,
        messages: dict[str, Any] | None,
    ) -> RunRecord:
        async with self.db.begin() as conn:
            await conn.execute(
                update(r)
                .where(r.c.id == run_id)
                .values(
                    status=status.value,
                    finished_at=self.clock.now(),
                    processed=processed,
                    succeeded=succeeded,
                    errors=errors,
                    skipped=skipped,
                    message=message,
                    messages=messages,
                )
            )
        return await self.get(run_id)

    async def get(self, run_id: int) -> RunRecord:
        async with self.db.read() as conn:
            row = (await conn.execute(select(r).where(r.c.id == run_id))).first()
        if row is None:
            raise NotFoundError(f"no run {run_id}")
        return RunRecord.from_row(row)

    async def list_runs(
        self,
        profile_id: int | None = None,
        *,
        limit: int = 10,
        statuses: Sequence[str] | None = None,
    ) -> list[RunRecord]:
        query = select(r).order_by(r.c.started_at.desc(), r.c.id.desc()).limit(limit)
        if profile_id is not None:
            query = query.where(r.c.profile_id == profile_id)
        if statuses:
            query = query.where(r.c.status.in_(list(statuses)))
        async with self.db.read() as conn:
            return [RunRecord.from_row(row) for row in (await conn.execute(query)).all()]

    async def count(self, profile_id: int | None = None) -> int:
        query = select(func.count()).select_from(r)
        if profile_id is not None:
            query = query.where(r.c.profile_id == profile_id)
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def entities(
        self,
        *,
        run_id: int | None = None,
        profile_id: int | None = None,
        entity_key: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[EntityHistoryRecord]:
        query = select(e.c.run_id, e.c.entity_key, e.c.status, e.c.message, e.c.created_at)
        if run_id is not None:
            query = query.where(e.c.run_id == run_id)
        if profile_id is not None:
            query = query.where(e.c.profile_id == profile_id)
        if entity_key is not None:
            query = query.where(e.c.entity_key == entity_key)
        if statuses:
            query = query.where(e.c.status.in_(list(statuses)))
        query = query.order_by(e.c.id.desc()).limit(limit)
        async with self.db.read() as conn:
            return [EntityHistoryRecord(**row._mapping) for row in (await conn.execute(query)).all()]

    async def clean(
        self,
        older_than: timedelta,
        *,
        profile_id: int | None = None,
        dry_run: bool = False,
    ) -> CleanResult:
        """Delete runs that started before now - ``older_than`` (never one still running), with their
        entity rows. Works in chunks, so cleaning a huge history never takes a long lock."""
        cutoff = self.clock.now() - older_than
        cond: list[Any] = [
            r.c.started_at < cutoff,
            r.c.status != RunStatus.RUNNING.value,
        ]
        if profile_id is not None:
            cond.append(r.c.profile_id == profile_id)
        if dry_run:
            async with self.db.read() as conn:
                runs = (await conn.execute(select(func.count()).select_from(r).where(*cond))).scalar_one()
                entities = (
                    await conn.execute(
                        select(func.count()).select_from(e).where(e.c.run_id.in_(select(r.c.id).where(*cond)))
                    )
                ).scalar_one()
            return CleanResult(runs, entities)
        runs = entities = 0
        while True:
            async with self.db.read() as conn:
                ids = (await conn.execute(select(r.c.id).where(*cond).limit(self.chunk_size))).scalars().all()
            if not ids:
                break
            # Entity rows can number millions: delete them in chunks, each its own transaction.
            while True:
                async with self.db.begin() as conn:
                    entity_ids = (
                        (await conn.execute(select(e.c.id).where(e.c.run_id.in_(ids)).limit(self.chunk_size * 5)))
                        .scalars()
                        .all()
                    )
                    if entity_ids:
                        entities += (await conn.execute(delete(e).where(e.c.id.in_(entity_ids)))).rowcount
                if len(entity_ids) < self.chunk_size * 5:
                    break
            async with self.db.begin() as conn:
                runs += (await conn.execute(delete(r).where(r.c.id.in_(ids)))).rowcount
        return CleanResult(runs, entities)
