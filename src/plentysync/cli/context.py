"""What every command shares: the ``--json``/``--config`` options and an opened engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from plentysync.db import Database
from plentysync.db.migrate import ensure_schema
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.services import Engine
from plentysync.log import configure_logging
from plentysync.settings import Settings, load_settings
from plentysync.sync import register_all


@Parameter(name="*")
@dataclass(frozen=True)
class Common:
    json: bool = False
    """Print JSON for scripts instead of tables."""
    config: Annotated[Path | None, Parameter(env_var="PLENTYSYNC_CONFIG")] = None
    """Settings file (default: ./plentysync.toml if present)."""


def build_registry() -> ProfileRegistry:
    registry = register_all(ProfileRegistry())
    # The sandbox demo profile, so the profile `plentysync demo` creates can be inspected and run
    # with the ordinary commands. It uses nothing but the engine and a local file.
    from plentysync.sandbox.demo import DEMO_TYPE

    registry.register(DEMO_TYPE)
    return registry


def settings_for(common: Common) -> Settings:
    settings = load_settings(common.config)
    configure_logging(settings.effective_log_dir, file_level=settings.log_level)
    return settings


@asynccontextmanager
async def open_engine(common: Common, *, check_schema: bool = True) -> AsyncIterator[Engine]:
    """Settings, logging and the database, with the schema checked (SQLite: migrated)."""
    settings = settings_for(common)
    db = Database(settings.effective_database_url)
    try:
        await db.sync_clock()
        if check_schema:
            await ensure_schema(db)
        yield Engine.build(db, build_registry(), settings)
    finally:
        await db.dispose()


@asynccontextmanager
async def open_database(common: Common, *, recreate: bool = False) -> AsyncIterator[tuple[Settings, Database]]:
    """Settings, logging and the database, schema unchecked. ``recreate``: a SQLite file that was
    deleted is created anew (``db upgrade``); anywhere else that is an error."""
    settings = settings_for(common)
    db = Database(settings.effective_database_url, recreate=recreate)
    try:
        yield settings, db
    finally:
        await db.dispose()
