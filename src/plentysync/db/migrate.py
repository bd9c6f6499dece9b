"""Schema migrations (Alembic), run programmatically on the application's own engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Connection

from plentysync.db.engine import Database
from plentysync.errors import SchemaError, UsageError

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


def upgrade_target(current: str | None, revision: str = "head") -> str | None:
    """The revision ``revision`` names, checked as an upgrade of a database at ``current``: an unknown
    revision, or one older than ``current`` (downgrades are not supported), is a :class:`UsageError`.
    Returns ``current`` when there is nothing to do."""
    script = ScriptDirectory.from_config(alembic_config())
    if not revision.strip():
        raise UsageError("--revision must not be empty")
    try:
        target = script.get_revision(revision)
    except (CommandError, RevisionError) as exc:
        raise UsageError(f"unknown schema revision {revision!r}: {exc} (newest: {head_revision()})") from None
    if current is None:
        return None if target is None else target.revision
    try:
        reached = {r.revision for r in script.iterate_revisions(current, "base")}
    except (CommandError, RevisionError):
        raise SchemaError(
            f"the database is at schema revision {current}, which this version of plentysync does not know"
            " (it was upgraded by a newer version)"
        ) from None
    if target is None or (target.revision in reached and target.revision != current):
        name = "base" if target is None else target.revision
        raise UsageError(
            f"downgrades are not supported: the database is at {current}, revision {name} is older"
            " (restore a backup taken before the upgrade instead)"
        )
    return target.revision


async def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema to ``revision``; returns (before, after). Raises :class:`UsageError` for an
    unknown revision or a downgrade (see :func:`upgrade_target`)."""

    def _upgrade(conn: Connection) -> tuple[str | None, str | None]:
        before = MigrationContext.configure(conn).get_current_revision()
        upgrade_target(before, revision)
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
