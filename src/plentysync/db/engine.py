"""The state database connection: one async engine per process, set up per backend.

* SQLite: WAL, a busy timeout, foreign keys on, and every write transaction opened with
  ``BEGIN IMMEDIATE`` so concurrent writers queue on the lock instead of failing with SQLITE_BUSY.
* MariaDB/MySQL: READ COMMITTED, which keeps ``SKIP LOCKED`` claims from taking gap locks.
* PostgreSQL: driver psycopg 3 (spelt out; SQLAlchemy 2.1's default changed).

Times that several hosts compare (leases, schedules) come from :attr:`Database.clock`, the host clock
corrected by the measured offset to the database server's clock.

Failures to connect, and SQLite's file errors, are raised as plentysync errors naming the cause and
``database_url`` (:mod:`plentysync.db.failures`).

A SQLite file is created once. Creating it writes a marker beside it (``.<name>.created``); while the
marker is there, a missing file is an error (:class:`DatabaseMissingError`) instead of a new, empty
database, unless the :class:`Database` was opened with ``recreate=True`` (``plentysync db upgrade``). An
existing file is opened with SQLite's ``mode=rw``, so a connection never creates a file in its place, and
:meth:`Database.check_file` tells a long-running process that its file was deleted or replaced.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from plentysync.clock import OffsetClock
from plentysync.db import failures
from plentysync.db.urls import normalize_database_url, redact_url
from plentysync.errors import DatabaseMissingError
from plentysync.log import get_logger

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
    def __init__(self, url: str | URL, *, pool_size: int = 10, echo: bool = False, recreate: bool = False) -> None:
        """``recreate``: on SQLite, create the file even when the marker says it existed before (it was
        deleted); without it that is a :class:`DatabaseMissingError`. A fresh install (no file, no
        marker) creates the file either way."""
        self.url = normalize_database_url(url if isinstance(url, str) else url.render_as_string(False))
        self.backend: Backend = _backend_of(self.url)
        self.clock = OffsetClock()
        self.sqlite_file: SqliteFile | None = None
        kwargs: dict[str, Any] = {"echo": echo}
        if self.backend == "sqlite":
            if self.url.database and self.url.database != ":memory:" and not self.url.query.get("uri"):
                self.sqlite_file = SqliteFile(Path(self.url.database).expanduser().absolute(), self.url, recreate)
                try:
                    self.sqlite_file.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise failures.from_os_error(self.url, exc) from exc
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
        try:
            self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        except ImportError as exc:
            raise failures.missing_driver(self.url, exc) from exc
        failures.install(self.engine, self.url)
        if self.backend == "sqlite":
            _install_sqlite_hooks(self.engine, self.sqlite_file)

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    def check_file(self) -> None:
        """On SQLite: raise :class:`DatabaseMissingError` when the file this process opened has been
        deleted, moved or replaced since (writes would go to the unlinked file, lost at exit). A
        ``stat()``, cheap enough for every heartbeat; does nothing on the server backends and before
        the first connection."""
        if self.sqlite_file is not None:
            self.sqlite_file.check()

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


_CREATED = "plentysync_created"
_log = get_logger(__name__)


class SqliteFile:
    """The SQLite file of a :class:`Database`: created once (with a marker), then only opened."""

    def __init__(self, path: Path, url: URL, recreate: bool) -> None:
        self.path = path
        self.url = url
        self.recreate = recreate
        self.identity: tuple[int, int] | None = None
        """``(st_dev, st_ino)`` of the file as first opened by this process."""

    @property
    def marker(self) -> Path:
        return self.path.with_name(f".{self.path.name}.created")

    def _missing(self, what: str) -> DatabaseMissingError:
        return DatabaseMissingError(
            f"the SQLite database {self.path} {what}. Restore it from a backup (with the plentysync processes "
            f"stopped), or start over with a new, empty database: `plentysync db upgrade` "
            f"({failures.setting(self.url)})"
        )

    def before_connect(self) -> bool:
        """Check the file before a connection opens it; True when this connection is to create it."""
        if self.path.exists():
            return False
        if self.identity is not None:
            raise self._missing("was deleted or moved while this process was using it")
        if self.marker.exists() and not self.recreate:
            raise self._missing(f"is missing: it was created before (marker {self.marker}), then deleted or moved")
        if self.marker.exists():  # a deliberate new start: the old journal files belong to the lost database
            for stale in (self.path.with_name(self.path.name + "-wal"), self.path.with_name(self.path.name + "-shm")):
                if stale.exists():
                    _log.warning("db.stale_journal_removed", path=str(stale))
                    stale.unlink()
        return True

    def uri(self) -> str:
        """The file as an SQLite URI that opens it read-write and never creates it."""
        return f"file:{quote(str(self.path))}?mode=rw"

    def after_connect(self, created: bool) -> None:
        st = os.stat(self.path)
        identity = (st.st_dev, st.st_ino)
        if self.identity is None:
            self.identity = identity
        elif identity != self.identity:
            raise self._missing("was replaced by another file while this process was using it")
        if created:
            note = {
                "database": str(self.path),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "note": "plentysync created the database beside this file. If the database goes missing, "
                "plentysync stops with an error instead of starting over with an empty one; "
                "`plentysync db upgrade` creates a new one deliberately.",
            }
            try:
                self.marker.write_text(json.dumps(note, indent=2) + "\n", encoding="utf-8")
            except OSError as exc:
                _log.warning("db.marker_not_written", marker=str(self.marker), error=str(exc))

    def check(self) -> None:
        if self.identity is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise self._missing("was deleted or moved while this process was using it") from None
        if (st.st_dev, st.st_ino) != self.identity:
            raise self._missing("was replaced by another file while this process was using it")


async def _aiosqlite_connect(*args: Any, **kwargs: Any) -> Any:
    """``aiosqlite.connect``, as SQLAlchemy calls it, with one fix: when the file cannot be opened,
    aiosqlite (0.22) queues the stop of its worker thread without waiting for it. The thread then
    reports back to the event loop; if that loop has been closed meanwhile (the CLI exits at once after
    the error) the thread dies with ``RuntimeError: Event loop is closed`` on stderr. Wait for it."""
    import aiosqlite

    connection = aiosqlite.connect(*args, **kwargs)
    thread = getattr(connection, "_thread", None)
    if thread is not None:
        thread.daemon = True  # as SQLAlchemy does: a connection left open never blocks the exit
    try:
        return await connection
    except BaseException:
        if thread is not None and thread.is_alive():
            thread.join(1.0)  # it only closes nothing and posts a result: milliseconds
        raise


def _install_sqlite_hooks(engine: AsyncEngine, file: SqliteFile | None) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _do_connect(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        created = False
        if file is not None:
            created = file.before_connect()
            record.info[_CREATED] = created
            if not created:
                cargs, cparams = [file.uri()], {**cparams, "uri": True}
        return dialect.loaded_dbapi.connect(*cargs, async_creator_fn=_aiosqlite_connect, **cparams)

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
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
        if file is not None:
            file.after_connect(record.info.pop(_CREATED, False))

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
