from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from plentysync.db import Database
from plentysync.db.migrate import upgrade
from plentysync.db.tables import metadata
from tests.databases import BACKENDS, DatabaseUnderTest, server_database

pytest_plugins = ["anyio"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's settings, data directory or secret key."""
    for var in (
        "PLENTYSYNC_CONFIG",
        "PLENTYSYNC_DATABASE_URL",
        "PLENTYSYNC_SECRET_KEY",
        "PLENTYSYNC_SECRET_KEY_FALLBACKS",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PLENTYSYNC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


_migrated: set[str] = set()


@pytest.fixture(scope="session", params=BACKENDS)
def test_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseUnderTest]:
    backend = request.param
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "state.db"
        yield DatabaseUnderTest("sqlite", f"sqlite+aiosqlite:///{path}")
        return
    with server_database(backend) as database:
        yield database


@pytest.fixture
async def db(test_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    """A migrated, empty state database on each backend (the test runs once per backend)."""
    database = Database(test_database.url)
    if test_database.url not in _migrated:
        await upgrade(database)
        _migrated.add(test_database.url)
    async with database.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))
    await database.sync_clock()
    try:
        yield database
    finally:
        await database.dispose()
