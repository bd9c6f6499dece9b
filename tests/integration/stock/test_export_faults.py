"""Exactly-once delta bookings under failure, against the sandbox's fault injector and a worker killed
with SIGKILL mid-batch: after a run to completion every (SKU, warehouse) in PlentyONE holds what delta
mode promises, and PlentyONE's movement log shows each change booked exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from plentysync.db import Database
from plentysync.sandbox.faults import FaultKind, FaultRule
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]
ROOT = Path(__file__).resolve().parents[3]
BOOKINGS = r"/stock/book(Incoming|Outgoing)Items"


async def _changes(s: StockScenario, count: int, batch_size: int = 100) -> dict[str, float]:
    """Delta mode, ``count`` SKUs aligned at 10; then channel sales in PlentyONE and Magento changes.
    Returns what PlentyONE must end at per SKU (warehouse 1)."""
    await s.configure(correction_mode="delta", stock_source_mapping={"default": 1}, process_batch_size=batch_size)
    skus = s.stock_skus(count)
    for sku in skus:
        s.set_magento(sku, "default", 10)
    await s.export(*skus)
    assert all(s.plenty_physical(sku, 1) == 10 for sku in skus)
    expected: dict[str, float] = {}
    for n, sku in enumerate(skus):
        sold_on_amazon = n % 3
        if sold_on_amazon:
            s.channel_sale(sku, 1, sold_on_amazon)
        change = 3 if n % 2 else -2
        s.set_magento(sku, "default", 10 + change)
        expected[sku] = 10 - sold_on_amazon + change
    await s.engine.queue.enqueue(EXPORT_TYPE_ID, skus, reason="source_item_save")
    return expected


def _assert_exactly_once(s: StockScenario, expected: dict[str, float]) -> None:
    for sku, quantity in expected.items():
        assert s.plenty_physical(sku, 1) == quantity, sku
        deltas = [m for m in s.our_movements(sku, 1) if m["reason"] in (100, 200)]
        assert len(deltas) == 1, (sku, deltas)


async def _no_pending(s: StockScenario) -> None:
    assert await s.store.pending() == []
    assert await s.engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing", "error")) == 0


@pytest.mark.parametrize("kind", ["drop_after", "drop_before", "status"])
async def test_lost_booking_responses_never_book_twice(db: Database, kind: FaultKind) -> None:
    async with StockScenarioBuilder(db).build() as s:
        expected = await _changes(s, 12)
        s.pair.plenty_faults.add(FaultRule(kind, method="PUT", path=BOOKINGS, times=2, status=502))
        await s.drain()
        assert sum(r.fired for r in s.pair.plenty_faults.rules()) == 2
        _assert_exactly_once(s, expected)
        await _no_pending(s)


async def test_unknown_outcome_waits_for_the_movement_log_when_it_cannot_be_read(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        expected = await _changes(s, 6)
        s.pair.plenty_faults.add(FaultRule("drop_after", method="PUT", path=BOOKINGS, times=1))
        s.pair.plenty_faults.add(FaultRule("status", method="GET", path="/movements", times=3, status=503))
        first = await s.run(EXPORT_TYPE_ID)
        assert first.run.status in ("partial", "success")
        assert await s.store.pending() != []  # nothing could be settled in that run
        await s.drain()
        _assert_exactly_once(s, expected)
        await _no_pending(s)


async def test_worker_killed_after_plenty_applied_a_booking(db: Database) -> None:
    async with (
        StockScenarioBuilder(db)
        .with_settings(queue={"lease_seconds": 5, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.01})
        .build() as s
    ):
        expected = await _changes(s, 12, batch_size=4)
        # the second booking call is applied, then its answer is held back while the worker is killed
        s.pair.plenty_faults.add(
            FaultRule("latency_after", method="PUT", path=BOOKINGS, skip=1, times=1, latency_ms=30_000)
        )
        applied_before = len(s.pair.plenty_state.movements)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.stock.export_worker",
            db.url.render_as_string(hide_password=False),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PLENTYSYNC_QUEUE__LEASE_SECONDS": "5"},
        )
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).startswith(b"STARTED")
        rule = s.pair.plenty_faults.rules()[0]
        for _ in range(600):
            if rule.fired:
                break
            await asyncio.sleep(0.05)
        assert rule.fired == 1, "the worker never reached the held-back call"
        await asyncio.sleep(0.2)  # the sandbox applies the call before holding the answer
        proc.send_signal(signal.SIGKILL)
        assert await proc.wait() == -signal.SIGKILL
        assert len(s.pair.plenty_state.movements) > applied_before
        assert len(await s.store.pending()) >= 1  # written as intents, never completed
        s.pair.plenty_faults.clear()
        await asyncio.sleep(5.3)  # the dead worker's leases run out
        await s.drain()
        _assert_exactly_once(s, expected)
        await _no_pending(s)


async def test_a_run_that_cannot_renew_its_leases_stops_writing_before_they_lapse(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is away for the keep-alive (renewals fail) while the run goes on sending: it must
    stop writing a third of a lease before its rows could be taken over, or another worker would book
    them a second time."""
    from plentysync.engine.queue import CoalescingQueue
    from plentysync.errors import RetryableError

    fast_retry = {"lease_seconds": 6, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.01}
    async with StockScenarioBuilder(db).with_settings(queue=fast_retry).build() as s:
        expected = await _changes(s, 12, batch_size=2)
        await s.configure(
            correction_mode="delta", stock_source_mapping={"default": 1}, process_batch_size=2, max_skus_per_push=2
        )
        s.pair.plenty_faults.add(FaultRule("latency", method="PUT", path=BOOKINGS, latency_ms=800))

        async def unreachable(self: CoalescingQueue, *args: object, **kwargs: object) -> int:
            raise RetryableError("database unavailable")

        with monkeypatch.context() as patch:
            patch.setattr(CoalescingQueue, "extend_lease", unreachable)
            stopped = await s.run(EXPORT_TYPE_ID)
        refused = [e for e in stopped.errors if "could not renew its queue leases" in (e.message or "")]
        assert refused, [e.message for e in stopped.errors]
        booked = [sku for sku in expected if any(m["reason"] in (100, 200) for m in s.our_movements(sku, 1))]
        assert 0 < len(booked) < len(expected)
        assert await s.store.pending() == []  # refused before sending: nothing of unknown outcome
        s.pair.plenty_faults.clear()
        await s.drain()
        _assert_exactly_once(s, expected)
        await _no_pending(s)
