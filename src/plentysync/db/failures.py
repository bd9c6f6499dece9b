"""Database failures an operator can act on, each as one line that names the cause and the setting.

SQLAlchemy reports a refused connection, a wrong password, a missing database or a read-only SQLite
file as ``OperationalError`` with the driver's text and a link. :func:`translate` turns those into
:class:`~plentysync.errors.DatabaseUnavailableError` (the environment: server down, read-only or full
disk; exit code 4) or :class:`~plentysync.errors.DatabaseSettingsError` (``database_url`` is wrong: exit
code 2). :func:`install` hooks it into an engine (SQLAlchemy's ``handle_error`` event), so the CLI, the
worker and ``serve`` all get the same errors.

What is translated: every failure to open a connection, and on SQLite the errors of the file (read-only,
disk full, I/O error, not a database) wherever they happen. Errors of a working connection on PostgreSQL
and MariaDB (a deadlock, a dropped connection) stay SQLAlchemy's: :meth:`Database.transact` retries the
ones that collided, and the pool's disconnect handling needs them as they are.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from plentysync.db.urls import redact_url
from plentysync.errors import DatabaseSettingsError, DatabaseUnavailableError, PlentysyncError

_EXTRAS = {"postgresql": ("psycopg", "postgres"), "mariadb": ("aiomysql", "mysql")}
# MariaDB/MySQL client and server error numbers
_MY_UNREACHABLE = {2002, 2003, 2006, 2013, 1040, 1053}  # can't connect, gone away, lost, too many, shutdown
_MY_ACCESS = {1044, 1045, 1698, 1130}  # access denied (db, password, plugin), host not allowed
_MY_UNKNOWN_DB = 1049
_MY_UNKNOWN_HOST = 2005


def setting(url: URL) -> str:
    """How the messages name the setting: ``database_url = <url, password hidden>``."""
    return f"database_url = {redact_url(url)}"


def _backend(url: URL) -> str:
    name = url.get_backend_name()
    return name if name in ("sqlite", "postgresql") else "mariadb"


def missing_driver(url: URL, exc: ImportError) -> DatabaseSettingsError:
    """The driver of ``url``'s backend is not installed: name the extra that brings it."""
    driver, extra = _EXTRAS.get(_backend(url), (exc.name or "the driver", ""))
    how = f"install it with: pip install 'plentysync[{extra}]'" if extra else f"install {driver}"
    return DatabaseSettingsError(
        f"the {_backend(url)} driver {driver} is not installed ({exc}); {how} ({setting(url)})"
    )


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pg_reason(text: str) -> str:
    """The server's or libpq's reason from psycopg's ``connection failed: connection to server at
    "h", port p failed: FATAL:  reason`` (several lines when several addresses were tried)."""
    reason = text.rsplit("failed:", 1)[-1]
    reason = re.sub(r"^\s*(FATAL|ERROR):\s*", "", reason)
    return _one_line(reason).rstrip(".")


def _where(url: URL, default_port: int) -> str:
    return f"{url.host or 'localhost'}:{url.port or default_port}"


def _postgresql(url: URL, orig: BaseException) -> PlentysyncError:
    text = str(orig)
    low = text.lower()
    reason = _pg_reason(text)
    where = _where(url, 5432)
    if "password authentication failed" in low or "no password supplied" in low:
        return DatabaseSettingsError(
            f"PostgreSQL refused the login: {reason} (check the user and password; {setting(url)})"
        )
    if re.search(r'role ".*" does not exist', low) or "no pg_hba.conf entry" in low:
        return DatabaseSettingsError(f"PostgreSQL refused the login: {reason} ({setting(url)})")
    if re.search(r'database ".*" does not exist', low):
        return DatabaseSettingsError(
            f"PostgreSQL has no such database: {reason} (create it, then run `plentysync db upgrade`; {setting(url)})"
        )
    if "could not translate host name" in low or "name or service not known" in low:
        return DatabaseSettingsError(f"unknown database host {url.host!r}: {reason} ({setting(url)})")
    if "connection refused" in low:
        return DatabaseUnavailableError(
            f"cannot connect to the state database: PostgreSQL at {where} refused the connection "
            f"(is the server running and accepting TCP/IP connections?) ({setting(url)})"
        )
    if "timeout expired" in low or "timed out" in low:
        return DatabaseUnavailableError(
            f"cannot connect to the state database: PostgreSQL at {where} did not answer in time ({setting(url)})"
        )
    return DatabaseUnavailableError(f"cannot connect to the state database at {where}: {reason} ({setting(url)})")


def _mariadb(url: URL, orig: BaseException) -> PlentysyncError:
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else None
    message = _one_line(str(args[1]) if len(args) > 1 else str(orig))
    where = _where(url, 3306)
    if code in _MY_ACCESS:
        return DatabaseSettingsError(
            f"MariaDB refused the login: {message} (check the user, password and grants; {setting(url)})"
        )
    if code == _MY_UNKNOWN_DB:
        return DatabaseSettingsError(
            f"MariaDB has no such database: {message} (create it, then run `plentysync db upgrade`; {setting(url)})"
        )
    if code == _MY_UNKNOWN_HOST:
        return DatabaseSettingsError(f"unknown database host {url.host!r}: {message} ({setting(url)})")
    if code in _MY_UNREACHABLE:
        cause = orig.__cause__ or orig.__context__
        detail = f": {_one_line(str(cause))}" if cause is not None and str(cause) else ""
        return DatabaseUnavailableError(
            f"cannot connect to the state database: no connection to MariaDB at {where}{detail} "
            f"(is the server running and reachable?) ({setting(url)})"
        )
    return DatabaseUnavailableError(f"cannot connect to the state database at {where}: {message} ({setting(url)})")


def _read_only(directory: Path) -> str | None:
    """Why nothing can be created in ``directory``, or None when it looks writable."""
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return f"{directory} is on a read-only file system"
    except OSError:
        return None
    if not os.access(directory, os.W_OK):
        return f"no permission to write in {directory}"
    return None


def sqlite_problem(path: Path, orig: BaseException) -> str | None:
    """What is wrong with the SQLite file, in words; None for errors that are not about the file
    (a locked database, a missing table, a constraint)."""
    low = str(orig).lower()
    directory = path.parent
    if "unable to open database file" in low:
        if not path.exists():
            why = _read_only(directory) if directory.is_dir() else f"the directory {directory} does not exist"
            return f"cannot create the SQLite database {path}: {why or 'SQLite cannot create the file'}"
        # SQLite in WAL mode also needs to create and write <file>-wal and <file>-shm beside it
        why = _read_only(directory) or (None if os.access(path, os.W_OK) else f"no permission to write {path}")
        return f"cannot open the SQLite database {path}: {why or 'SQLite cannot open the file'}"
    if "readonly database" in low or "read-only" in low:
        why = _read_only(directory) or (None if os.access(path, os.W_OK) else f"no permission to write {path}")
        return f"the SQLite database {path} is read-only: {why or 'check the file and its directory'}"
    if "database or disk is full" in low:
        return f"the disk holding the SQLite database {path} is full"
    if "disk i/o error" in low:
        return f"disk I/O error on the SQLite database {path}"
    return None


def sqlite_path(url: URL) -> Path:
    """The file of a SQLite URL (also of the ``file:…?mode=ro&uri=true`` form)."""
    database = url.database or ""
    if database.startswith("file:"):
        database = unquote(database.removeprefix("file:").split("?", 1)[0])
    return Path(database).expanduser().absolute()


def _sqlite(url: URL, orig: BaseException, *, connecting: bool) -> PlentysyncError | None:
    path = sqlite_path(url)
    if "file is not a database" in str(orig).lower():
        return DatabaseSettingsError(f"{path} is not a SQLite database ({setting(url)})")
    problem = sqlite_problem(path, orig)
    if problem is not None:
        return DatabaseUnavailableError(f"{problem} ({setting(url)})")
    if connecting:
        return DatabaseUnavailableError(f"cannot open the SQLite database {path}: {orig} ({setting(url)})")
    return None


def translate(url: URL, orig: BaseException, *, connecting: bool) -> PlentysyncError | None:
    """The plentysync error for the driver-level exception ``orig``, or None to leave it as it is.
    ``connecting``: it happened while a connection was being opened."""
    backend = _backend(url)
    if backend == "sqlite":
        return _sqlite(url, orig, connecting=connecting)
    if not connecting:
        return None
    if backend == "postgresql":
        return _postgresql(url, orig)
    return _mariadb(url, orig)


def from_os_error(url: URL, exc: OSError) -> DatabaseUnavailableError:
    """A file-system error around the SQLite file (creating its directory, say)."""
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full"
    elif exc.errno == errno.EROFS:
        reason = "read-only file system"
    else:
        reason = exc.strerror or str(exc)
    where = f" {exc.filename}" if exc.filename else ""
    return DatabaseUnavailableError(f"cannot use{where}: {reason} ({setting(url)})")


def install(engine: AsyncEngine, url: URL) -> None:
    """Raise the translated errors from ``engine`` instead of SQLAlchemy's (the original stays
    attached as ``__cause__``, with its traceback, for the log file)."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> Any:
        if context.is_pre_ping or context.original_exception is None:
            return None
        translated = translate(url, context.original_exception, connecting=context.connection is None)
        if translated is not None:
            raise translated
        return None
