"""The worker against both sandboxes over loopback: it drains the stock queue, registers and beats,
refuses a second worker on SQLite, and several workers share one queue on PostgreSQL and MariaDB
with every change booked exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from plentysync.db import Database
from plentysync.errors import ConflictError
from plentysync.runtime.heartbeat import WorkerRegistry
from plentysync.runtime.worker import Worker, WorkerOptions
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]
FAST = {"worker": {"drain_idle_seconds": 0.2, "heartbeat_seconds": 1, "tick_seconds": 0.2}}


async def _changes(s: StockScenario, count: int, *, batch_size: int = 100, **config: Any) -> dict[str, float]:
    """``count`` SKUs aligned at 10 in delta mode, then a Magento change each and some channel sales;
    queued. Returns what PlentyONE must end at (warehouse 1)."""
    await s.configure(
        correction_mode="delta",
        stock_source_mapping={"default": 1},
        process_batch_size=batch_size,
        max_skus_per_push=batch_size,
        **config,
    )
    await s.engine.profiles.set_enabled(EXPORT_TYPE_ID, True)
    skus = s.stock_skus(count)
    for sku in skus:
        s.set_magento(sku, "default", 10)
    await s.export(*skus)
    expected: dict[str, float] = {}
    for n, sku in enumerate(skus):
        if n % 3:
            s.channel_sale(sku, 1, n % 3)
        change = 3 if n % 2 else -2
        s.set_magento(sku, "default", 10 + change)
        expected[sku] = 10 - n % 3 + change
    await s.engine.queue.enqueue(EXPORT_TYPE_ID, skus, reason="source_item_save")
    return expected


def _assert_exactly_once(s: StockScenario, expected: dict[str, float]) -> None:
    for sku, quantity in expected.items():
        assert s.plenty_physical(sku, 1) == quantity, sku
        deltas = [m for m in s.our_movements(sku, 1) if m["reason"] in (100, 200)]
        assert len(deltas) == 1, (sku, deltas)


async def _until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Poll ``check`` (a database read: there is no event to wait on) until it holds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def _queue_empty(s: StockScenario) -> bool:
    return await s.engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing")) == 0


def _registry(s: StockScenario) -> WorkerRegistry:
    return WorkerRegistry(s.engine.db, s.engine.clock, lost_after=timedelta(seconds=60))


async def test_worker_once_drains_the_queue_and_records_itself(db: Database) -> None:
    async with StockScenarioBuilder(db).sized(2).build() as s:
        expected = await _changes(s, 30, batch_size=10)
        options = WorkerOptions(name="w-once", once=True, schedules=False, producers=False)
        stats = await Worker(s.engine, options).run()
        _assert_exactly_once(s, expected)
        assert await _queue_empty(s)
        assert stats.rows == 30
        assert stats.runs == 1  # one run drains every batch
        (row,) = await _registry(s).list()
        assert (row.name, row.state) == ("w-once", "stopped")
        assert row.info["rows"] == 30
        routes = {c["route"] for c in row.info["api_calls"] if c["system"] == "PlentyONE"}
        assert "/rest/stockmanagement/warehouses/{id}/stock/bookIncomingItems" in routes


async def test_a_second_worker_is_refused_on_sqlite_only(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        registry = _registry(s)
        await registry.register("first", {})
        with pytest.raises(ConflictError, match="already running"):
            await registry.register("first", {})
        if db.backend == "sqlite":
            with pytest.raises(ConflictError, match="SQLite supports one worker"):
                await registry.register("second", {})
            await registry.stopped("first", {})
            await registry.register("second", {})  # the first one stopped: allowed
        else:
            await registry.register("second", {})
            assert {r.name for r in await registry.list() if r.alive} == {"first", "second"}


async def test_a_lost_worker_is_shown_as_lost_and_does_not_block(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        registry = WorkerRegistry(db, s.engine.clock, lost_after=timedelta(seconds=5))
        await registry.register("crashed", {})
        async with db.begin() as conn:
            from sqlalchemy import update

            from plentysync.db.tables import worker

            stale = s.engine.clock.now() - timedelta(seconds=30)
            await conn.execute(update(worker).values(heartbeat_at=stale))
        (row,) = await registry.list()
        assert row.state == "lost"
        await registry.register("replacement", {})  # even on SQLite: the old one is gone


async def test_running_worker_drains_new_rows_and_stops_gracefully(db: Database) -> None:
    async with StockScenarioBuilder(db).with_settings(**FAST).build() as s:
        expected = await _changes(s, 12, batch_size=4)
        stop = asyncio.Event()
        options = WorkerOptions(name="w-live", schedules=False, producers=False)
        task = asyncio.create_task(Worker(s.engine, options, stop=stop).run())
        await _until(lambda: _queue_empty(s))
        _assert_exactly_once(s, expected)
        # a change arriving while it idles is picked up within drain_idle_seconds
        sku = next(iter(expected))
        s.set_magento(sku, "default", s.magento_qty(sku) + 5)  # type: ignore[operator]
        await s.engine.queue.enqueue(EXPORT_TYPE_ID, [sku], reason="source_item_save")
        await _until(lambda: _queue_empty(s), within=10)
        assert s.plenty_physical(sku, 1) == expected[sku] + 5
        (row,) = await _registry(s).list()
        assert row.state == "running"
        stop.set()
        stats = await asyncio.wait_for(task, 30)
        assert stats.rows == 13
        (row,) = await _registry(s).list()
        assert row.state == "stopped"


async def test_several_workers_share_one_queue_without_double_processing(db: Database) -> None:
    if db.backend == "sqlite":
        pytest.skip("SQLite runs one worker (test_a_second_worker_is_refused_on_sqlite_only)")
    async with StockScenarioBuilder(db).sized(3).with_settings(**FAST).build() as s:
        expected = await _changes(s, 60, batch_size=4)
        stop = asyncio.Event()
        workers = [
            Worker(s.engine, WorkerOptions(name=f"w{n}", schedules=False, producers=False), stop=stop) for n in range(3)
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        await _until(lambda: _queue_empty(s), within=120)
        stop.set()
        stats = await asyncio.gather(*tasks)
        _assert_exactly_once(s, expected)
        assert sum(st.rows for st in stats) == 60
        assert sum(1 for st in stats if st.rows) >= 2, [st.rows for st in stats]


async def test_a_run_failing_on_rejected_credentials_raises_a_critical_notification(db: Database) -> None:
    from plentysync.runtime.notify import Notifier
    from plentysync.sandbox.faults import FaultRule

    async with StockScenarioBuilder(db).build() as s:
        await _changes(s, 3)
        s.pair.plenty_faults.add(FaultRule("status", method="POST", path="/rest/login", status=401))
        notifier = Notifier(db, s.engine.settings.notifications, s.engine.clock)
        options = WorkerOptions(name="w-auth", once=True, schedules=False, producers=False)
        stats = await Worker(s.engine, options, notifier=notifier).run()
        assert stats.runs_failed == 1
        found = await notifier.store.find(limit=10)
        critical = [n for n in found if n.severity == "critical"]
        assert critical, [(n.severity, n.kind, n.title) for n in found]
        assert critical[0].profile_type == EXPORT_TYPE_ID
        assert "credentials" in (critical[0].title + (critical[0].message or "")).lower()
        # the rows were released untouched, for the run after the credentials are fixed
        assert await s.engine.queue.count(EXPORT_TYPE_ID, statuses=("pending",)) == 3


async def test_a_killed_worker_on_this_host_does_not_block_its_replacement(db: Database) -> None:
    """SQLite refuses a second live worker; one whose process is gone from this host is not live, so
    systemd's restart after a kill need not wait for the heartbeat to go stale."""
    import os
    import sys

    from sqlalchemy import update

    from plentysync.db.tables import worker

    async with StockScenarioBuilder(db).build() as s:
        registry = _registry(s)
        await registry.register("killed", {})
        child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        await child.wait()
        async with db.begin() as conn:
            await conn.execute(update(worker).values(pid=child.pid))
        await registry.register("killed", {})  # the same name: refused while the old process lived
        (row,) = await registry.list()
        assert (row.pid, row.state) == (os.getpid(), "running")


async def test_a_worker_starting_with_pending_rows_runs_every_loop_without_failures(db: Database) -> None:
    """The producers and the drain share the profile's logged-in clients: starting with rows due, the
    drain's run must not close them under the producers (it did: 'the client has been closed')."""
    async with StockScenarioBuilder(db).with_settings(**FAST).build() as s:
        expected = await _changes(s, 8, batch_size=4, poll_interval_seconds=5)
        stop = asyncio.Event()
        worker = Worker(s.engine, WorkerOptions(name="w-start", schedules=False), stop=stop)
        task = asyncio.create_task(worker.run())
        await _until(lambda: _queue_empty(s))
        await asyncio.sleep(1.5)  # a few producer passes after the drain
        stop.set()
        stats = await asyncio.wait_for(task, 30)
        _assert_exactly_once(s, expected)
        assert stats.producer_passes >= 2
        assert (stats.errors, stats.last_error) == (0, None)
        sessions = s.pair.plenty_state.tokens.values()
        assert not [t for t in sessions if not t.get("revoked")], "every PlentyONE session was logged out"
