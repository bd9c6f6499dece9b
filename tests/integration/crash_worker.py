"""A worker that claims queue rows and then hangs, to be killed with SIGKILL by test_queue_crash.

Usage: python -m tests.integration.crash_worker <database url> <profile type> <limit> <lease seconds>
"""

from __future__ import annotations

import asyncio
import sys

from plentysync.db import Database
from plentysync.engine.queue import CoalescingQueue, QueuePolicy


async def main(url: str, profile_type: str, limit: int, lease: float) -> None:
    db = Database(url)
    await db.sync_clock()
    queue = CoalescingQueue(db, policy=QueuePolicy(lease_seconds=lease))
    claimed = await queue.claim(profile_type, owner="doomed-worker", limit=limit)
    print("CLAIMED " + ",".join(item.entity_key for item in claimed), flush=True)
    await asyncio.sleep(3600)  # "processing"; the test kills us here


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
