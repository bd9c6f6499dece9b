"""The state database connection: one async engine per process, set up per backend.

* SQLite: WAL, a busy timeout, foreign keys on, and every write transaction opened with
  ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock instead of failing with SQLITE_BUSY.
* MariaDB/MySQL: READ COMMITTED, which keeps ``SKIP LOCKED`` claims from taking gap locks.
* PostgreSQL: driver psycopg 3 (spelt out; SQLAlchemy 2.1's default changed).

Times that several hosts compare (leases, schedules) come from :attr:`Database.clock`, the host clock
corrected by the measured offset to the database server's clock.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from plentysync.clock import OffsetClock
from plentysync.db.urls import normalize_database_url, redact_url

Backend = Literal["sqlite", "postgresql", "mariadb"]
T = TypeVar("T")
_READ_ONLY = "plentysync_read_only"
_PG_RETRY = {"40P01", "40001"}  # deadlock detected, serialization failure
_MYSQL_RETRY = {1213, 1205}  # deadlock found, lock wait timeout


def is_transient(exc: BaseException) -> bool:
    """Whether a database error means "two transactions collided, run it again": a deadlock, a
    serialization failure, a lock wait that timed out, SQLite's busy database."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_RETRY:
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in _MYSQL_RETRY:
        return True
    return "database is locked" in str(orig)


@dataclass(frozen=True)
class WriteResult:
    rowcount: int
    rows: list[Any]


CONNECT_TIMEOUT_SECONDS = 10


class Database:
    def __init__(self, url: str | URL, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = normalize_database_url(url if isinstance(url, str) else url.render_as_string(False))
        self.backend: Backend = _backend_of(self.url)
        self.clock = OffsetClock()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.backend == "sqlite":
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_recycle=1800,
            )
        if self.backend == "postgresql" and "connect_timeout" not in self.url.query:
            # libpq's default is to wait for as long as the OS does (minutes): a worker must notice a
            # database that is restarting and retry, not hang in connect
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if self.backend == "mariadb":
            kwargs["isolation_level"] = "READ COMMITTED"
            if "connect_timeout" not in self.url.query:
                kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}  # aiomysql: none
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.backend == "sqlite":
            _install_sqlite_hooks(self.engine)

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed on success and rolled back on error."""
        async with self.engine.begin() as conn:
            yield conn

    async def transact(self, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 8) -> T:
        """Run ``work`` in a write transaction, again (after a short random pause) if it collided
        with a concurrent one. Deadlocks are normal between multi-row writes of busy workers; the
        database rolls one side back, and this runs it again. ``work`` must be safe to repeat."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.begin() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    async def write(self, statement: Any, parameters: Any = None) -> WriteResult:
        """Execute one statement in its own write transaction (retried on a collision)."""

        async def work(conn: AsyncConnection) -> WriteResult:
            result = await conn.execute(statement, parameters)
            return WriteResult(result.rowcount, list(result.all()) if result.returns_rows else [])

        return await self.transact(work)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (on SQLite a plain deferred BEGIN that does not block writers)."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{_READ_ONLY: True})
            async with conn.begin():
                yield conn

    async def sync_clock(self) -> timedelta:
        """Measure the offset between this host's clock and the database server's, and use it."""
        if self.backend == "sqlite":
            return self.clock.offset  # SQLite runs on this host: same clock
        query = {
            "postgresql": "SELECT clock_timestamp() AT TIME ZONE 'UTC'",
            "mariadb": "SELECT UTC_TIMESTAMP(6)",
        }[self.backend]
        async with self.engine.connect() as conn:
            before = time.time()
            server_now: datetime = (await conn.execute(text(query))).scalar_one()
            after = time.time()
        local_mid = datetime.fromtimestamp((before + after) / 2, UTC)
        self.clock.offset = server_now.replace(tzinfo=UTC) - local_mid
        return self.clock.offset

    async def dispose(self) -> None:
        await self.engine.dispose()


def _backend_of(url: URL) -> Backend:
    name = url.get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    return "mariadb"


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so we can say BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
