"""Runs the stock export once, as a separate process, so test_export_faults can SIGKILL it mid-batch.

Usage: python -m tests.integration.stock.export_worker <database url>
Settings (data dir, secret key, lease) come from the environment like any plentysync process."""

from __future__ import annotations

import asyncio
import sys

from plentysync.db import Database
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.runner import ProfileRunner
from plentysync.engine.services import Engine
from plentysync.settings import Settings
from plentysync.sync import register_all
from plentysync.sync.stock.config import EXPORT_TYPE_ID


async def main(url: str) -> None:
    db = Database(url)
    await db.sync_clock()
    engine = Engine.build(db, register_all(ProfileRegistry()), Settings())
    print("STARTED", flush=True)
    await ProfileRunner(engine, owner="doomed-worker").run(EXPORT_TYPE_ID, options=RunOptions(force=True))
    print("FINISHED", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
