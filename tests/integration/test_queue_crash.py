"""A worker killed with SIGKILL between claim and finish: its rows come back once the lease expires."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from plentysync.db import Database
from plentysync.engine.queue import CoalescingQueue, Outcome, QueuePolicy

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.slow]
T = "plenty_stock_export"
LEASE = 2.0
ROOT = Path(__file__).resolve().parents[2]


async def test_rows_of_a_killed_worker_return_after_the_lease(db: Database) -> None:
    queue = CoalescingQueue(db, policy=QueuePolicy(lease_seconds=30), recovery_interval=0)
    keys = [f"SKU-{n:02d}" for n in range(20)]
    await queue.enqueue(T, keys, reason="source_item_save")

    url = db.url.render_as_string(hide_password=False)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.crash_worker",
        url,
        T,
        "10",
        str(LEASE),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), timeout=60)).decode().strip()
    assert line.startswith("CLAIMED "), line
    victim_keys = set(line.removeprefix("CLAIMED ").split(","))
    assert len(victim_keys) == 10
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    assert await proc.wait() == -signal.SIGKILL

    # While the dead worker's lease runs, only the other rows can be claimed.
    first = await queue.claim(T, owner="survivor", limit=100)
    assert {item.entity_key for item in first} == set(keys) - victim_keys
    await queue.finish("survivor", [Outcome.success(item) for item in first])
    assert await queue.claim(T, owner="survivor", limit=100) == []

    await asyncio.sleep(max(0.0, LEASE + 0.5 - (time.monotonic() - killed_at)))
    returned = await queue.claim(T, owner="survivor", limit=100)
    assert {item.entity_key for item in returned} == victim_keys
    assert all(item.attempts == 2 for item in returned)  # the killed claim counted as an attempt
    assert all("lease expired" in (item.previous_message or "") for item in returned)
    result = await queue.finish("survivor", [Outcome.success(item) for item in returned])
    assert result.finished == 10
    assert (await queue.stats(T)).by_status == {"success": 20}
