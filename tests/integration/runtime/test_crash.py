"""``plentysync worker`` as real OS processes under failure: SIGKILL mid-batch, SIGTERM mid-drain, a
RabbitMQ outage and a PostgreSQL restart. Both sandboxes run in this test process (served on loopback);
the workers reach them through the stored connections. After each scenario every claimed row was
finished exactly once: PlentyONE holds what delta mode promises, its movement log has exactly one delta
movement per SKU, and our booking audit (``stock_booking``) agrees with that log."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from plentysync.db import Database
from plentysync.engine.history import RunRecord
from plentysync.runtime.publisher import AmqpPublisher
from plentysync.runtime.urgent import push_urgent
from plentysync.sandbox.faults import FaultRule
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.sync.stock.mapping import INCOMING, OUTGOING
from tests.integration.broker_support import (
    BROKER_URL,
    broker_stopped,
    can_control_broker,
    delete_topology,
    private_settings,
    require_broker,
)
from tests.integration.runtime.worker_process import (
    WorkerProcess,
    poll,
    start_worker,
    worker_row,
    workers_cleaned_up,
)
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
postgresql_only = pytest.mark.parametrize("test_database", ["postgresql"], indirect=True)
BOOKINGS = r"/stock/book(Incoming|Outgoing)Items"
DELTA_REASONS = (100, 200)
LEASE = {"queue": {"lease_seconds": 5, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.01}}


def _url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


async def _changes(s: StockScenario, count: int, *, batch_size: int) -> dict[str, float]:
    """Delta mode, ``count`` SKUs aligned at 10 (exported in this process), then channel sales in
    PlentyONE and a Magento change per SKU, queued; the profile enabled so a worker drains it.
    Returns what PlentyONE must end at per SKU (warehouse 1)."""
    await s.configure(
        correction_mode="delta",
        stock_source_mapping={"default": 1},
        process_batch_size=batch_size,
        max_skus_per_push=batch_size,
    )
    await s.engine.profiles.set_enabled(EXPORT_TYPE_ID, True)
    skus = s.stock_skus(count)
    for sku in skus:
        s.set_magento(sku, "default", 10)
    await s.export(*skus)
    assert all(s.plenty_physical(sku, 1) == 10 for sku in skus)
    expected: dict[str, float] = {}
    for n, sku in enumerate(skus):
        if n % 3:
            s.channel_sale(sku, 1, n % 3)
        change = 3 if n % 2 else -2
        s.set_magento(sku, "default", 10 + change)
        expected[sku] = 10 - n % 3 + change
    await s.engine.queue.enqueue(EXPORT_TYPE_ID, skus, reason="source_item_save")
    return expected


async def _assert_exactly_once(s: StockScenario, expected: dict[str, float]) -> None:
    """PlentyONE's stock and movement log, and our booking audit, say every change was booked once."""
    bookings = await s.store.bookings(limit=100_000)
    assert [b for b in bookings if b.status == "pending"] == [], "bookings of unknown outcome are left"
    claimed = [b.plenty_movement_id for b in bookings if b.plenty_movement_id is not None]
    assert len(claimed) == len(set(claimed)), "two bookings claim the same PlentyONE movement"
    for sku, quantity in expected.items():
        deltas = [m for m in s.our_movements(sku, 1) if m["reason"] in DELTA_REASONS]
        trail = (sku, deltas, [b for b in bookings if b.sku == sku])
        assert s.plenty_physical(sku, 1) == quantity, trail
        assert len(deltas) == 1, trail
        (movement,) = deltas
        applied = [
            b
            for b in bookings
            if b.sku == sku and b.mode == "delta" and b.status == "applied" and b.operation in (INCOMING, OUTGOING)
        ]
        assert len(applied) == 1, (sku, applied)
        (booking,) = applied
        assert (booking.reason_id, booking.quantity, booking.warehouse_id) == (
            movement["reason"],
            movement["quantity"],
            movement["warehouseId"],
        ), sku
        if booking.plenty_movement_id is not None:
            assert booking.plenty_movement_id == movement["id"], sku
    queue = s.engine.queue
    assert await queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing", "error")) == 0
    # success, or skipped: a row whose booking was settled from the movement log has nothing left to send
    assert await queue.count(EXPORT_TYPE_ID, statuses=("success", "skipped")) == len(expected)


async def _queue_done(s: StockScenario) -> bool:
    return await s.engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing")) == 0


async def _runs_of(s: StockScenario, worker: str) -> list[RunRecord]:
    runs = await s.engine.history.list_runs(limit=500)
    return [r for r in runs if r.owner == f"{worker}:drain"]


async def _finish_with_fresh_worker(s: StockScenario, db: Database, tmp_path: Path, name: str) -> WorkerProcess:
    """Start a worker, let it empty the queue, stop it with SIGTERM: exit code 0, row stopped."""
    worker = await start_worker(_url(db), name, tmp_path / name)
    try:
        await worker.wait_running(db)
        await poll(lambda: _queue_done(s), within=60, what="the fresh worker to empty the queue")
        assert await worker.terminate() == 0, worker.describe()
    finally:
        await worker.ensure_gone()
    row = await worker_row(db, name)
    assert row is not None
    assert row.state == "stopped"
    assert row.stopped_at is not None
    return worker


@pytest.mark.db
async def test_sigkill_mid_batch_then_a_fresh_worker_books_everything_once(db: Database, tmp_path: Path) -> None:
    async with StockScenarioBuilder(db).with_settings(**LEASE).build() as s, workers_cleaned_up() as started:
        expected = await _changes(s, 12, batch_size=4)
        # A batch of 4 SKUs is one incoming and one outgoing call. The second booking call is applied
        # by PlentyONE, then its answer is held back: the worker is mid-batch when it dies.
        held = s.pair.plenty_faults.add(
            FaultRule("latency_after", method="PUT", path=BOOKINGS, skip=1, times=1, latency_ms=10_000)
        )
        movements_before = len(s.pair.plenty_state.movements)
        doomed = await start_worker(_url(db), "doomed", tmp_path / "doomed")
        started.append(doomed)
        await doomed.wait_running(db)
        await poll(
            lambda: held.fired == 1 and len(s.pair.plenty_state.movements) == movements_before + 4,
            within=60,
            what="the worker's second booking call to be applied and held",
        )
        assert await doomed.kill() == -signal.SIGKILL
        assert len(s.pair.plenty_state.movements) == movements_before + 4
        unknown = await s.store.pending()
        # the batch's four bookings: intents written before the calls, both calls applied, never completed
        assert len(unknown) == 4, unknown
        processing = await s.engine.queue.list_items(EXPORT_TYPE_ID, statuses=("processing",))
        assert processing
        assert {r.lease_owner for r in processing} == {"doomed:drain"}
        s.pair.plenty_faults.clear()
        if db.backend == "sqlite":
            # SQLite takes one worker: a new one is refused until the dead one's heartbeat is stale
            await poll(lambda: _lost(db, "doomed"), within=15, what="the killed worker to show as lost")

        await _finish_with_fresh_worker(s, db, tmp_path, "fresh")

        await _assert_exactly_once(s, expected)
        settled = {b.id: b for b in await s.store.bookings(limit=100_000)}
        for booking in unknown:  # PlentyONE applied them: settled from the movement log, not sent again
            after = settled[booking.id]
            assert after.status == "applied", after
            assert after.plenty_movement_id is not None
            assert "outcome was unknown" in (after.message or "")
        assert [r.status for r in await _runs_of(s, "doomed") if r.finished_at is not None] == []
        await poll(
            lambda: _lost(db, "doomed"), within=15, what="the killed worker to show as lost (its heartbeat stale)"
        )


async def _lost(db: Database, name: str) -> bool:
    row = await worker_row(db, name)
    assert row is not None
    assert row.stopped_at is None
    return row.state == "lost"


@postgresql_only  # the claims and leases behave alike on every backend: test_sigkill covers all three
async def test_sigterm_stops_after_the_current_batch_and_returns_the_rest(db: Database, tmp_path: Path) -> None:
    async with (
        StockScenarioBuilder(db).sized(2).with_settings(**LEASE).build() as s,
        workers_cleaned_up() as started,
    ):
        expected = await _changes(s, 40, batch_size=2)
        # every booking call takes 300 ms: 20 batches of two calls, a long drain
        s.pair.plenty_faults.add(FaultRule("latency", method="PUT", path=BOOKINGS, latency_ms=300))
        grace = 10.0
        worker = await start_worker(
            _url(db),
            "graceful",
            tmp_path / "graceful",
            extra_env={"PLENTYSYNC_WORKER__SHUTDOWN_GRACE_SECONDS": str(grace)},
        )
        started.append(worker)
        await worker.wait_running(db)
        queue = s.engine.queue
        await poll(lambda: _count(s, "success", at_least=6), within=60, what="the worker to finish three batches")
        signalled = time.monotonic()
        assert await worker.terminate(within=grace + 10) == 0, worker.describe()
        took = time.monotonic() - signalled
        assert took < grace, f"SIGTERM took {took:.1f} s"

        done = await queue.count(EXPORT_TYPE_ID, statuses=("success",))
        assert 6 <= done < len(expected), done
        assert await queue.count(EXPORT_TYPE_ID, statuses=("processing", "error")) == 0
        left = await queue.list_items(EXPORT_TYPE_ID, statuses=("pending",), limit=1000)
        assert len(left) == len(expected) - done
        assert all(r.lease_owner is None and r.lease_expires_at is None for r in left), left
        assert await s.store.pending() == []  # the batch in flight was finished, not abandoned
        (run,) = await _runs_of(s, "graceful")
        assert run.status == "partial", run
        assert "the worker is shutting down" in (run.message or ""), run.message
        assert run.processed == done
        row = await worker_row(db, "graceful")
        assert row is not None
        assert row.state == "stopped"
        assert any(e.get("event") == "worker.stopping" for e in worker.events())

        s.pair.plenty_faults.clear()
        await _finish_with_fresh_worker(s, db, tmp_path, "after-graceful")
        await _assert_exactly_once(s, expected)


async def _count(s: StockScenario, status: str, *, at_least: int) -> bool:
    return await s.engine.queue.count(EXPORT_TYPE_ID, statuses=(status,)) >= at_least


# -- PostgreSQL only -------------------------------------------------------------------------------


async def _row_done(s: StockScenario, sku: str, quantity: float) -> bool:
    (row,) = await s.engine.queue.list_items(EXPORT_TYPE_ID, keys=[sku])
    return row.status == "success" and s.plenty_physical(sku, 1) == quantity


async def _trigger_of_last_run(s: StockScenario, worker: str, sku: str) -> str:
    """The trigger of the run that exported ``sku`` last (per-entity history)."""
    entities = await s.engine.history.entities(entity_key=sku, limit=1)
    assert entities, sku
    run = await s.engine.history.get(entities[0].run_id)
    assert run.owner == f"{worker}:drain", run
    return run.trigger


async def _broker_state(db: Database, name: str, state: str) -> bool:
    row = await worker_row(db, name)
    assert row is not None
    assert row.state == "running", row
    return row.info.get("broker") == state and row.heartbeat_age < 3


@postgresql_only
async def test_rabbitmq_outage_falls_back_to_the_database_drain(db: Database, tmp_path: Path) -> None:
    await require_broker()
    if not can_control_broker():
        pytest.skip("needs root and rabbitmqctl to stop and start the broker")
    broker = private_settings()
    env = {
        "PLENTYSYNC_BROKER_URL": BROKER_URL,
        "PLENTYSYNC_BROKER__EXCHANGE": broker.exchange,
        "PLENTYSYNC_BROKER__QUEUE_PREFIX": broker.queue_prefix,
        "PLENTYSYNC_BROKER__RECONNECT_SECONDS": "0.5",
        "PLENTYSYNC_BROKER__CONNECT_TIMEOUT_SECONDS": "2",
        # slow enough that a row drained within 2 s was woken by its message, fast enough to be the
        # fallback while the broker is down
        "PLENTYSYNC_WORKER__DRAIN_IDLE_SECONDS": "3",
    }
    publisher = AmqpPublisher(BROKER_URL, broker)
    try:
        async with StockScenarioBuilder(db).with_settings(**LEASE).build() as s, workers_cleaned_up() as started:
            skus = s.stock_skus(3)
            await _changes(s, 3, batch_size=10)
            await s.drain()  # the queued changes; from here on every change is pushed
            worker = await start_worker(
                _url(db), "consumer", tmp_path / "consumer", args=("--no-schedules", "--no-producers"), extra_env=env
            )
            started.append(worker)
            await worker.wait_running(db)
            await poll(lambda: _broker_state(db, "consumer", "connected"), within=30, what="the consumer to connect")

            async def push(sku: str, quantity: float) -> bool:
                s.set_magento(sku, "default", quantity)
                result = await push_urgent(s.engine.queue, EXPORT_TYPE_ID, [sku], reason="webhook", publisher=publisher)
                return result.published

            # 1. broker up: the message wakes the drain at once
            target = s.plenty_physical(skus[0], 1) + 4
            pushed = time.monotonic()
            assert await push(skus[0], s.magento_qty(skus[0]) + 4)  # type: ignore[operator]
            await poll(lambda: _row_done(s, skus[0], target), within=10, what="the pushed row to be exported")
            assert time.monotonic() - pushed < 2.0
            assert await _trigger_of_last_run(s, "consumer", skus[0]) == "mq"

            async with broker_stopped():
                # 2. broker down: the push is not published, the database drain exports it anyway
                await poll(lambda: _broker_state(db, "consumer", "down"), within=30, what="broker down in heartbeat")
                target = s.plenty_physical(skus[1], 1) - 1
                assert not await push(skus[1], s.magento_qty(skus[1]) - 1)  # type: ignore[operator]
                await poll(lambda: _row_done(s, skus[1], target), within=15, what="the fallback drain")
                assert await _trigger_of_last_run(s, "consumer", skus[1]) == "worker"
                assert worker.alive
                await poll(lambda: _broker_state(db, "consumer", "down"), within=5, what="a fresh heartbeat")

            # 3. broker back: the consumer reconnects, pushes are published and drained fast again
            await poll(lambda: _broker_state(db, "consumer", "connected"), within=60, what="the consumer back")
            await poll(publisher.healthy, within=30, what="the publisher to reconnect")
            target = s.plenty_physical(skus[2], 1) + 2
            pushed = time.monotonic()
            assert await push(skus[2], s.magento_qty(skus[2]) + 2)  # type: ignore[operator]
            await poll(lambda: _row_done(s, skus[2], target), within=10, what="the pushed row after the outage")
            assert time.monotonic() - pushed < 2.0
            assert await _trigger_of_last_run(s, "consumer", skus[2]) == "mq"

            assert await worker.terminate() == 0, worker.describe()
            assert worker.events("broker.consumer.disconnected")
            assert worker.events("broker.consumer.reconnected")
            assert await s.store.pending() == []
            for sku in skus:  # the initial change plus the one pushed: two delta movements, no more
                deltas = [m for m in s.our_movements(sku, 1) if m["reason"] in DELTA_REASONS]
                assert len(deltas) == 2, (sku, deltas)
    finally:
        await publisher.aclose()
        await delete_topology(broker)


def _can_restart_postgresql() -> bool:
    return shutil.which("pg_ctlcluster") is not None and Path("/etc/postgresql/15/main").is_dir() and os.geteuid() == 0


async def _restart_postgresql() -> None:
    process = await asyncio.create_subprocess_exec(
        "pg_ctlcluster",
        "15",
        "main",
        "restart",
        "--mode",
        "fast",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode()


async def _postgresql_up(db: Database) -> bool:
    try:
        async with db.read() as conn:
            from sqlalchemy import text

            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


async def _ensure_postgresql(db: Database) -> None:
    """For ``finally``: PostgreSQL is running and answers, whatever happened."""
    if not await _postgresql_up(db):
        process = await asyncio.create_subprocess_exec("pg_ctlcluster", "15", "main", "start")
        await asyncio.wait_for(process.wait(), 120)
    await poll(lambda: _postgresql_up(db), within=60, what="PostgreSQL to answer SELECT 1")


@postgresql_only
async def test_postgresql_restart_mid_drain(db: Database, tmp_path: Path) -> None:
    """Two workers drain one queue; PostgreSQL restarts (``pg_ctlcluster 15 main restart --mode fast``,
    once): they notice (a failed loop, keep-alive or wrap-up), stay up, reconnect and finish, every
    change booked once. This exercised three fixes: budget slots given back once the database answers,
    writes fenced by lease, connect timeouts."""
    if not _can_restart_postgresql():
        pytest.skip("needs pg_ctlcluster and the local PostgreSQL 15 cluster")
    async with (
        StockScenarioBuilder(db).sized(2).with_settings(**LEASE).build() as s,
        workers_cleaned_up() as started,
    ):
        expected = await _changes(s, 48, batch_size=3)
        s.pair.plenty_faults.add(FaultRule("latency", method="PUT", path=BOOKINGS, latency_ms=150))
        for name in ("pg-a", "pg-b"):
            started.append(await start_worker(_url(db), name, tmp_path / name))
        for worker in started:
            await worker.wait_running(db)
        await poll(lambda: _count(s, "success", at_least=9), within=60, what="the workers to be well into the drain")
        try:
            await _restart_postgresql()
        finally:
            await _ensure_postgresql(db)
        assert await s.engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing")) > 0
        await poll(lambda: _queue_done(s), within=60, what="the workers to finish the queue after the restart")
        assert all(w.alive for w in started), [w.describe() for w in started]
        for worker in started:
            row = await worker_row(db, worker.name)
            assert row is not None
            assert row.state == "running", row
            assert row.heartbeat_age < 5, row  # beating again after the restart
        noticed = ("worker.loop_failed", "run.wrap_up_retry", "run.keep_alive_failed", "run.batch_crashed")
        failures = [e for w in started for name in noticed for e in w.events(name)]
        assert failures, "no worker noticed the restart"
        codes = [await w.terminate() for w in started]
        assert codes == [0, 0], [w.describe() for w in started]
        await _assert_exactly_once(s, expected)
        for worker in started:
            row = await worker_row(db, worker.name)
            assert row is not None
            assert row.state == "stopped"


# -- SQLite ----------------------------------------------------------------------------------------


async def test_a_second_worker_process_is_refused_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    async with workers_cleaned_up() as started:
        first = await start_worker(url, "first", tmp_path / "first")
        started.append(first)
        db = Database(url)
        try:
            await first.wait_running(db)
            second = await start_worker(url, "second", tmp_path / "second")
            started.append(second)
            assert await second.wait(within=60) == 1, second.describe()
            assert "SQLite supports one worker" in second.console(), second.describe()
            assert "'first'" in second.console()
            assert "Worker second started" not in second.console()  # refused: it never said it started
            assert "Worker first started" in first.console()
            assert first.alive
            assert await worker_row(db, "second") is None
            assert await first.terminate() == 0, first.describe()
            # the first one stopped: now a worker may start
            third = await start_worker(url, "third", tmp_path / "third")
            started.append(third)
            await third.wait_running(db)
            assert await third.terminate() == 0, third.describe()
        finally:
            await db.dispose()
