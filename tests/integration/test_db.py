"""The state database layer on every backend: migrations match the tables, schema checks, types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select

from plentysync.db import Database
from plentysync.db.migrate import current_revision, ensure_schema, head_revision
from plentysync.db.tables import entity_link, metadata
from plentysync.errors import SchemaError
from tests.databases import server_database

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_migrations_create_exactly_the_declared_tables(db: Database) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.read() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
    assert await current_revision(db) == head_revision()


async def test_times_keep_microseconds_and_come_back_in_utc(db: Database) -> None:
    when = datetime(2026, 3, 29, 3, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    await db.write(
        entity_link.insert().values(
            entity="stock",
            magento_key="24-MG04",
            plenty_key="1001",
            extra=None,
            synced_at=when,
            created_at=when,
            updated_at=when,
        )
    )
    async with db.read() as conn:
        row = (await conn.execute(select(entity_link))).one()
    assert row.synced_at == when
    assert row.synced_at.tzinfo == UTC
    assert row.synced_at.microsecond == 123456
    assert row.extra is None


async def test_sqlite_is_migrated_on_first_use(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh' / 'state.db'}")
    try:
        assert await current_revision(db) is None
        await ensure_schema(db)
        assert await current_revision(db) == head_revision()
        await ensure_schema(db)  # a second time is a no-op
    finally:
        await db.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
async def test_server_databases_are_never_migrated_behind_the_operators_back(backend: str) -> None:
    with server_database(backend) as empty:
        db = Database(empty.url)
        try:
            with pytest.raises(SchemaError, match=r"has no plentysync tables.*plentysync db upgrade"):
                await ensure_schema(db)
            assert await current_revision(db) is None
        finally:
            await db.dispose()


async def test_clock_offset_to_the_server_is_small(db: Database) -> None:
    offset = await db.sync_clock()
    assert abs(offset.total_seconds()) < 1  # same machine here: only measurement noise
    assert abs((db.clock.now() - datetime.now(UTC)).total_seconds()) < 1
