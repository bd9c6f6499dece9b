"""Database failures reach the operator as one line naming the cause and ``database_url`` (password hidden),
with exit code 4 (the environment: server down, read-only or full disk, the SQLite file deleted) or 2 (the
setting is wrong: role, password, database, driver), never as ``internal error: OperationalError …`` (70).
A deleted SQLite file is an error, not a fresh start: for the CLI and for a running worker."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event

from plentysync.cli.app import main
from plentysync.db import Database, failures
from plentysync.db import engine as db_engine
from plentysync.db.migrate import ensure_schema, upgrade
from plentysync.db.urls import normalize_database_url
from plentysync.engine.queue import CoalescingQueue
from plentysync.errors import (
    DatabaseMissingError,
    DatabaseSettingsError,
    DatabaseUnavailableError,
    PlentysyncError,
)
from tests.databases import unavailable
from tests.integration.test_cli import cli

DEMO = "sandbox_demo_export"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def first_use(url: str, **kwargs: Any) -> None:
    db = Database(url, **kwargs)
    try:
        await ensure_schema(db, auto_upgrade=db.backend == "sqlite")
    finally:
        await db.dispose()


def raised(url: str, **kwargs: Any) -> PlentysyncError:
    with pytest.raises(PlentysyncError) as info:
        asyncio.run(first_use(url, **kwargs))
    return info.value


def server_error(url: str, backend: str) -> PlentysyncError:
    """The error for ``url`` on a running server (skips when the server is down)."""
    error = raised(url)
    if isinstance(error, DatabaseUnavailableError):
        unavailable(f"{backend} is not running: {error}")
    return error


# -- connection failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "mariadb"])
def test_a_server_that_is_down_is_unavailable_not_an_internal_error(scheme: str) -> None:
    port = free_port()
    error = raised(f"{scheme}://plenty:s3cret@127.0.0.1:{port}/state")
    assert type(error) is DatabaseUnavailableError
    assert error.exit_code == 4
    message = str(error)
    assert message.startswith("cannot connect to the state database: ")
    assert f"127.0.0.1:{port}" in message
    assert f"(database_url = {scheme}+" in message
    assert f"plenty:***@127.0.0.1:{port}/state" in message
    assert "s3cret" not in message
    assert "sqlalche.me" not in message
    assert "\n" not in message


def test_wrong_role_and_missing_database_on_postgresql_are_settings_errors() -> None:
    role = server_error("postgresql://nobody_here:s3cret@127.0.0.1:5432/postgres", "postgresql")
    assert type(role) is DatabaseSettingsError
    assert role.exit_code == 2
    assert 'PostgreSQL refused the login: role "nobody_here" does not exist' in str(role)
    assert "nobody_here:***@" in str(role)
    assert "s3cret" not in str(role)
    missing = server_error("postgresql://postgres@127.0.0.1:5432/no_such_db_here", "postgresql")
    assert type(missing) is DatabaseSettingsError
    assert 'database "no_such_db_here" does not exist' in str(missing)
    assert "run `plentysync db upgrade`" in str(missing)


def test_wrong_user_and_missing_database_on_mariadb_are_settings_errors() -> None:
    user = server_error("mariadb://nobody_here:s3cret@127.0.0.1:3306/test", "mariadb")
    assert type(user) is DatabaseSettingsError
    assert user.exit_code == 2
    assert "MariaDB refused the login: Access denied for user 'nobody_here'" in str(user)
    assert "s3cret" not in str(user)
    missing = server_error("mariadb://root@127.0.0.1:3306/no_such_db_here", "mariadb")
    assert type(missing) is DatabaseSettingsError
    assert "Unknown database 'no_such_db_here'" in str(missing)


def test_postgresql_password_messages_are_settings_errors() -> None:
    """The local server trusts every login: psycopg's message for a wrong password, as libpq words it."""
    url = normalize_database_url("postgresql://plenty:pw@db.example:5432/state")
    orig = Exception(
        'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
        'FATAL:  password authentication failed for user "plenty"'
    )
    error = failures.translate(url, orig, connecting=True)
    assert isinstance(error, DatabaseSettingsError)
    assert str(error) == (
        'PostgreSQL refused the login: password authentication failed for user "plenty" (check the user and '
        "password; database_url = postgresql+psycopg://plenty:***@db.example:5432/state)"
    )


@pytest.mark.parametrize(
    ("scheme", "module", "extra"), [("postgresql", "psycopg", "postgres"), ("mysql", "aiomysql", "mysql")]
)
def test_a_missing_driver_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, scheme: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(DatabaseSettingsError) as info:
        Database(f"{scheme}://u:pw@127.0.0.1/state")
    assert f"pip install 'plentysync[{extra}]'" in str(info.value)
    assert "database_url = " in str(info.value)
    assert ":pw@" not in str(info.value)


def test_the_cli_prints_one_line_with_the_exit_code_of_the_cause(tmp_path: Path) -> None:
    down = cli(
        "queue", "stats", env={"PLENTYSYNC_DATABASE_URL": f"postgresql://p:pw@127.0.0.1:{free_port()}/x"}, check=4
    )
    assert down.stderr.startswith("error: cannot connect to the state database: PostgreSQL at 127.0.0.1:")
    assert len(down.stderr.strip().splitlines()) == 1
    assert "internal error" not in down.stderr
    assert ":pw@" not in down.stderr
    as_json = cli(
        "queue",
        "stats",
        "--json",
        env={"PLENTYSYNC_DATABASE_URL": f"mariadb://root@127.0.0.1:{free_port()}/x"},
        check=4,
    )
    assert json.loads(as_json.stdout)["error"]["exit_code"] == 4


# -- SQLite files ------------------------------------------------------------------------------------


def test_a_read_only_sqlite_database_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    asyncio.run(first_use(f"sqlite:///{path}"))
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # what a chmod 444 file is to its non-root user

    async def write() -> None:
        db = Database(read_only)
        try:
            await CoalescingQueue(db).enqueue(DEMO, ["SKU-1"], reason="manual")
        finally:
            await db.dispose()

    with pytest.raises(PlentysyncError) as info:
        asyncio.run(write())
    error = info.value
    assert type(error) is DatabaseUnavailableError
    assert str(error).startswith(f"the SQLite database {path} is read-only: ")
    assert "(database_url = sqlite+aiosqlite:///" in str(error)


def test_a_sqlite_file_on_a_read_only_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite cannot open a directory: "unable to open database file", as on a read-only mount, which is
    simulated (root, who runs the tests here, may write anywhere)."""
    path = tmp_path / "state.db"
    path.mkdir()
    real_statvfs = os.statvfs

    class ReadOnly:
        def __init__(self, directory: Any) -> None:
            self.f_flag = real_statvfs(directory).f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", ReadOnly)
    error = raised(f"sqlite:///{path}")
    assert type(error) is DatabaseUnavailableError
    assert error.exit_code == 4
    assert str(error) == (
        f"cannot open the SQLite database {path}: {tmp_path} is on a read-only file system "
        f"(database_url = sqlite+aiosqlite:///{path})"
    )
    assert failures.sqlite_problem(tmp_path / "new.db", Exception("unable to open database file")) == (
        f"cannot create the SQLite database {tmp_path / 'new.db'}: {tmp_path} is on a read-only file system"
    )


def test_a_failed_sqlite_open_leaves_no_thread_to_hit_the_closed_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiosqlite queues the stop of its thread after a failed open without waiting for it; the thread then
    reported to an event loop that ``asyncio.run`` had closed: ``RuntimeError: Event loop is closed`` on
    stderr. The thread is made slow here, so the race is lost every time."""
    crashed: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(args.exc_value))
    real_stop = aiosqlite.Connection.stop

    def slow_stop(self: aiosqlite.Connection) -> Any:
        self._tx.put_nowait((None, lambda: time.sleep(0.3)))
        return real_stop(self)

    monkeypatch.setattr(aiosqlite.Connection, "stop", slow_stop)
    (tmp_path / "state.db").mkdir()
    before = set(threading.enumerate())
    with pytest.raises(DatabaseUnavailableError):
        asyncio.run(first_use(f"sqlite:///{tmp_path / 'state.db'}"))
    for thread in set(threading.enumerate()) - before:
        thread.join(2)
    assert crashed == []


def test_disk_full_during_an_enqueue_is_named(tmp_path: Path) -> None:
    """SQLite's max_page_count gives the real SQLITE_FULL ("database or disk is full")."""

    async def scenario() -> int:
        db = await _limited_database(tmp_path / "state.db", extra_pages=60)
        try:
            with pytest.raises(DatabaseUnavailableError, match=r"the disk holding the SQLite database .* is full"):
                await CoalescingQueue(db).enqueue(DEMO, [f"SKU-{n:06d}" for n in range(20_000)], reason="manual")
            return await CoalescingQueue(db).count(DEMO)
        finally:
            await db.dispose()

    assert 0 < asyncio.run(scenario()) < 20_000


async def _limited_database(path: Path, *, extra_pages: int) -> Database:
    db = Database(f"sqlite:///{path}")
    await upgrade(db)
    async with db.read() as conn:
        pages = (await conn.exec_driver_sql("PRAGMA page_count")).scalar_one()
    await db.engine.dispose()
    _limit_pages(db, pages + extra_pages)
    return db


def _limit_pages(db: Database, pages: int) -> None:
    _limit_pages_of(db.engine.sync_engine, pages)


def _limit_pages_of(sync_engine: Any, pages: int) -> None:
    @event.listens_for(sync_engine, "connect")
    def _limit(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={pages}")
        cursor.close()


def _run_main(*argv: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    return int(info.value.code or 0)


def test_queue_add_file_says_how_many_keys_were_committed_before_the_disk_filled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("".join(f"SKU-{n:06d}\n" for n in range(20_000)))
    url = f"sqlite:///{tmp_path / 'data' / 'plentysync.db'}"
    pages = asyncio.run(_page_count(url))
    real_hooks: Callable[..., None] = db_engine._install_sqlite_hooks

    def hooks_with_a_small_disk(engine: Any, file: Any) -> None:
        real_hooks(engine, file)
        _limit_pages_of(engine.sync_engine, pages + 60)

    monkeypatch.setattr(db_engine, "_install_sqlite_hooks", hooks_with_a_small_disk)
    assert _run_main("queue", "add", "-p", DEMO, "--file", str(keys)) == 4
    err = capsys.readouterr().err
    found = re.match(
        rf"error: queued (\d+) of 20000 keys for {DEMO}, then failed; the other (\d+) were not queued", err
    )
    assert found, err
    queued, rest = int(found[1]), int(found[2])
    assert queued > 0
    assert queued % 500 == 0
    assert queued + rest == 20_000
    assert asyncio.run(_queued(url)) == queued  # what it says is what was committed
    assert f"the disk holding the SQLite database {tmp_path / 'data' / 'plentysync.db'} is full" in err
    assert "Logging error" not in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


async def _page_count(url: str) -> int:
    db = Database(url)
    try:
        await ensure_schema(db)
        async with db.read() as conn:
            return int((await conn.exec_driver_sql("PRAGMA page_count")).scalar_one())
    finally:
        await db.dispose()


async def _queued(url: str) -> int:
    db = Database(url)
    try:
        return await CoalescingQueue(db).count(DEMO)
    finally:
        await db.dispose()


# -- a deleted SQLite file --------------------------------------------------------------------------


def test_a_deleted_sqlite_file_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    url = f"sqlite:///{path}"
    asyncio.run(first_use(url))  # a fresh install creates the file, and the marker beside it
    marker = tmp_path / ".state.db.created"
    assert json.loads(marker.read_text())["database"] == str(path)
    path.unlink()
    error = raised(url)
    assert type(error) is DatabaseMissingError
    assert error.exit_code == 4
    assert str(error).startswith(f"the SQLite database {path} is missing: it was created before (marker {marker})")
    assert "`plentysync db upgrade`" in str(error)
    assert not path.exists()
    asyncio.run(first_use(url, recreate=True))  # deliberately: a new, empty database
    assert path.exists()


def test_check_file_notices_a_deleted_or_replaced_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def scenario() -> None:
        db = Database(f"sqlite:///{path}")
        try:
            db.check_file()  # not opened yet: nothing to compare
            await ensure_schema(db)
            db.check_file()
            moved = path.rename(tmp_path / "moved.db")
            with pytest.raises(DatabaseMissingError, match="was deleted or moved while this process was using it"):
                db.check_file()
            (tmp_path / "other.db").write_bytes(moved.read_bytes())
            (tmp_path / "other.db").rename(path)
            with pytest.raises(DatabaseMissingError, match="was replaced by another file"):
                db.check_file()
        finally:
            await db.dispose()

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_worker_stops_when_its_sqlite_file_is_deleted_and_the_cli_refuses_to_start_over(tmp_path: Path) -> None:
    path = tmp_path / "data" / "plentysync.db"
    asyncio.run(first_use(f"sqlite:///{path}"))
    output = tmp_path / "worker.txt"
    with output.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "plentysync", "worker", "--no-producers", "--no-schedules"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PLENTYSYNC_WORKER__HEARTBEAT_SECONDS": "1", "COLUMNS": "300"},
        )
    try:
        deadline = time.monotonic() + 60
        while "started on" not in output.read_text():
            assert worker.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.05)
        path.unlink()
        deleted = time.monotonic()
        rc = worker.wait(timeout=15)
        assert time.monotonic() - deleted < 6
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    console = output.read_text()
    assert rc == 4, console
    assert f"error: the SQLite database {path} was deleted or moved while this process was using it." in console
    log = [json.loads(line) for line in (tmp_path / "data" / "logs" / "plentysync.log").read_text().splitlines()]
    assert any(entry["event"] == "worker.database_missing" for entry in log)
    assert not path.exists()

    after = cli("queue", "stats", check=4)
    assert after.stderr.startswith(f"error: the SQLite database {path} is missing: it was created before")
    assert "start over with a new, empty database: `plentysync db upgrade`" in after.stderr
    assert not path.exists()
    cli("db", "upgrade")
    assert cli("queue", "stats").stdout.strip() == "The queue is empty."
