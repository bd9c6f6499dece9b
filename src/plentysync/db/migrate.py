"""Schema migrations (Alembic), run programmatically on the application's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from plentysync.db.engine import Database
from plentysync.errors import SchemaError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(db: Database) -> str | None:
    def _current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with db.read() as conn:
        return await conn.run_sync(_current)


async def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema to ``revision``; returns (before, after)."""

    def _upgrade(conn: Connection) -> tuple[str | None, str | None]:
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(alembic_config(conn), revision)
        after = MigrationContext.configure(conn).get_current_revision()
        return before, after

    async with db.begin() as conn:
        return await conn.run_sync(_upgrade)


async def ensure_schema(db: Database, *, auto_upgrade: bool | None = None) -> None:
    """Make sure the schema is current. SQLite is upgraded automatically (it is the embedded
    default and has no DBA); a server database must be upgraded on purpose with ``db upgrade``."""
    if auto_upgrade is None:
        auto_upgrade = db.backend == "sqlite"
    head = head_revision()
    current = await current_revision(db)
    if current == head:
        return
    if auto_upgrade:
        await upgrade(db)
        return
    state = "has no plentysync tables" if current is None else f"is at schema revision {current}"
    raise SchemaError(f"the database {db.display_url} {state}, this version needs {head}: run `plentysync db upgrade`")
