"""The few statements that differ per backend: upserts, LEAST/GREATEST, and row-locking claims."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, func
from sqlalchemy.dialects import mysql, postgresql, sqlite

from plentysync.db.engine import Backend

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items: keeps IN lists and multi-row statements within every
    backend's parameter limits and transactions short."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert(backend: Backend, table: Table) -> Any:
    """The dialect's INSERT construct, which knows its own ON CONFLICT / ON DUPLICATE KEY form."""
    if backend == "postgresql":
        return postgresql.insert(table)
    if backend == "mariadb":
        return mysql.insert(table)
    return sqlite.insert(table)


def upsert(
    backend: Backend,
    table: Table,
    rows: list[dict[str, Any]],
    conflict_columns: list[str],
    assignments: Callable[[Callable[[str], Any]], list[tuple[str, Any]]],
) -> Any:
    """INSERT rows; on a conflict on ``conflict_columns`` apply ``assignments`` instead.

    ``assignments(new)`` returns an ordered list of (column, expression); ``new("col")`` is the value
    the INSERT tried to write (``excluded.col`` / ``VALUES(col)``). Order matters on MariaDB, where
    an assignment sees the columns assigned before it: put columns that others read (``status``) last."""
    stmt = insert(backend, table).values(rows)
    if backend == "mariadb":
        return stmt.on_duplicate_key_update(assignments(lambda col: stmt.inserted[col]))
    return stmt.on_conflict_do_update(
        index_elements=conflict_columns,
        set_=dict(assignments(lambda col: stmt.excluded[col])),
    )


def insert_ignore(
    backend: Backend,
    table: Table,
    rows: list[dict[str, Any]],
    conflict_columns: list[str],
) -> Any:
    """INSERT rows, silently skipping those that would violate the unique ``conflict_columns``."""
    stmt = insert(backend, table).values(rows)
    if backend == "mariadb":
        # a no-op assignment, unlike INSERT IGNORE, does not hide other errors
        first = conflict_columns[0]
        return stmt.on_duplicate_key_update([(first, table.c[first])])
    return stmt.on_conflict_do_nothing(index_elements=conflict_columns)


def least(backend: Backend, a: Any, b: Any) -> ColumnElement[Any]:
    return func.min(a, b) if backend == "sqlite" else func.least(a, b)


def lock_skip_locked(backend: Backend, select: Select[Any]) -> Select[Any]:
    """``FOR UPDATE SKIP LOCKED`` where the backend has it. SQLite has no row locks; its callers run
    inside a ``BEGIN IMMEDIATE`` transaction, which already excludes every other writer."""
    if backend == "sqlite":
        return select
    return select.with_for_update(skip_locked=True)
