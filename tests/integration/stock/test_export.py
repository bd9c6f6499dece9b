"""The stock export against both sandboxes over real HTTP: seed 000's troubleshooting cases 1-8 that
describe behaviour, the baseline table that purges cannot erase, the booking trail, and one bad row
failing only itself."""

from __future__ import annotations

import asyncio

import pytest

from plentysync.db import Database
from plentysync.engine.links import Link
from plentysync.engine.queue import CoalescingQueue, QueuePolicy
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _bootstrapped(s: StockScenario, count: int, quantity: float = 10) -> list[str]:
    """Delta mode, the SKUs aligned at ``quantity`` in Magento's default source and warehouse 1."""
    await s.configure(correction_mode="delta", stock_source_mapping={"default": 1})
    skus = s.stock_skus(count)
    for sku in skus:
        s.set_magento(sku, "default", quantity)
    report = await s.export(*skus)
    assert report.run.status == "success", report.run.message
    return skus


async def _row(s: StockScenario, sku: str) -> tuple[str, str | None]:
    (row,) = await s.engine.queue.list_items(EXPORT_TYPE_ID, keys=[sku])
    return row.status, row.message


async def test_issue1_delta_zero_makes_no_call(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        (sku,) = await _bootstrapped(s, 1)
        before = s.writes()
        report = await s.export(sku)
        assert report.run.skipped == 1
        assert s.writes() == before
        assert await _row(s, sku) == ("skipped", "Stock is up-to-date (Magento equals the baseline; delta 0, no call)")


async def test_issue1_unmapped_source_is_not_exported(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(stock_source_mapping={"default": 1})
        sku = s.stock_skus(1)[0]
        s.delete_magento(sku, "default")
        s.set_magento(sku, "hamburg", 5)
        before = s.writes()
        await s.export(sku)
        status, message = await _row(s, sku)
        assert status == "skipped"
        assert "hamburg" in (message or "")
        assert s.writes() == before


async def test_issue1_and_7_parent_products_are_not_exported(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure()
        parents = sorted(
            sku for sku, p in s.pair.magento_state.products.items() if p["type_id"] in ("configurable", "bundle")
        )[:2]
        before = s.writes()
        report = await s.export(*parents)
        assert report.run.skipped == 2
        assert s.writes() == before
        for sku in parents:
            status, message = await _row(s, sku)
            assert status == "skipped"
            assert "holds no stock" in (message or "")


async def test_issue1_sku_not_in_plenty_is_an_error_naming_the_fix(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure()
        state = s.pair.magento_state
        sku = next(
            k
            for k, p in sorted(state.products.items())
            if p["type_id"] == "simple" and s.pair.plenty_state.variation_by_number(k) is None
        )
        s.set_magento(sku, "default", 3)
        report = await s.export(sku)
        assert report.run.errors == 1
        status, message = await _row(s, sku)
        assert status == "error"
        assert "SKU not in PlentyONE" in (message or "")
        assert "plenty_item_export" in (message or "")


async def test_issue2_skip_and_seed_leaves_plenty_wrong_until_rebootstrapped(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(
            correction_mode="delta", bootstrap_policy="skip_and_seed", stock_source_mapping={"default": 1}
        )
        sku = s.stock_skus(1)[0]
        s.set_magento(sku, "default", 5)
        s.set_plenty(sku, 1, 0)
        await s.export(sku)
        assert s.plenty_physical(sku, 1) == 0  # seeded, never aligned
        assert await s.store.baselines([sku]) == {(sku, 1): 5}
        await s.export(sku)  # the drift sweep would enqueue it again and again: still no call
        assert s.plenty_physical(sku, 1) == 0
        # the seed's fix: absolute_then_delta, clear the baseline, export again
        await s.configure(
            correction_mode="delta", bootstrap_policy="absolute_then_delta", stock_source_mapping={"default": 1}
        )
        assert await s.store.clear_baselines([sku]) == 1
        await s.export(sku)
        assert s.plenty_physical(sku, 1) == 5


async def test_issue4_rows_of_a_dead_worker_come_back_and_are_exported(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(stock_source_mapping={"default": 1})
        sku = s.stock_skus(1)[0]
        s.set_magento(sku, "default", 4)
        await s.engine.queue.enqueue(EXPORT_TYPE_ID, [sku], reason="source_item_save")
        dead = CoalescingQueue(db, policy=QueuePolicy(lease_seconds=0.2))
        assert [c.entity_key for c in await dead.claim(EXPORT_TYPE_ID, owner="crashed-worker", limit=10)] == [sku]
        await asyncio.sleep(0.3)
        assert await s.engine.queue.recover_expired(EXPORT_TYPE_ID) == 1  # `plentysync queue recover`
        report = await s.run(EXPORT_TYPE_ID)
        assert report.run.succeeded == 1
        assert s.plenty_physical(sku, 1) == 4
        assert (await _row(s, sku))[0] == "success"


async def test_issue8_bootstrap_records_the_baseline_and_purges_cannot_erase_it(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        (sku,) = await _bootstrapped(s, 1, quantity=10)
        rows = await s.store.baseline_rows(sku)
        assert [(r["warehouse_id"], r["quantity"], r["source"]) for r in rows] == [(1, 10.0, "bootstrap")]
        assert await s.engine.queue.purge(EXPORT_TYPE_ID, everything=True) == 1
        s.channel_sale(sku, 1, 3)
        s.set_magento(sku, "default", 9)
        await s.export(sku)
        # a delta of -1, not a second bootstrap that would undo the channel sale (the seed's purge bug)
        assert s.plenty_physical(sku, 1) == 6


async def test_bookings_are_audited_on_the_queue_row_and_in_the_trail(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        (sku,) = await _bootstrapped(s, 1, quantity=10)
        s.set_magento(sku, "default", 12)
        await s.export(sku)
        s.set_magento(sku, "default", 11)
        await s.export(sku)
        (row,) = await s.engine.queue.list_items(EXPORT_TYPE_ID, keys=[sku])
        trail = (row.metadata or {})["plenty_bookings"]
        assert [(e["mode"], e["operation"], e["quantity"]) for e in trail] == [
            ("bootstrap", "createStockCorrection", 10),
            ("delta", "bookIncomingItems", 2),
            ("delta", "bookOutgoingItems", -1),
        ]
        assert trail[1]["plenty_booking_id"] > 0
        bookings = await s.store.bookings(sku)
        assert [(b.operation, b.status, b.reason_id) for b in reversed(bookings)] == [
            ("createStockCorrection", "applied", 301),
            ("bookIncomingItems", "applied", 100),
            ("bookOutgoingItems", "applied", 200),
        ]
        assert bookings[1].plenty_movement_id is not None


async def test_one_refused_row_fails_only_itself(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(stock_source_mapping={"default": 1})
        good, bad = s.stock_skus(2)
        await s.engine.links.upsert([Link("variation", bad, "999999")])  # a stale link PlentyONE refuses
        s.set_magento(good, "default", 4)
        s.set_magento(bad, "default", 5)
        before = s.writes("/correction")
        report = await s.export(good, bad)
        assert (report.run.succeeded, report.run.errors) == (1, 1)
        assert s.plenty_physical(good, 1) == 4
        status, message = await _row(s, bad)
        assert status == "error"
        assert "variationId" in (message or "")
        assert s.writes("/correction") - before == 2  # the refused call, then the good row alone


async def test_rows_are_packed_per_warehouse_into_one_call(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure()
        skus = s.stock_skus(12)
        before = s.writes("/correction")
        report = await s.export(*skus)
        assert report.run.succeeded == 12
        warehouses = {w for sku in skus for (k, code) in s.pair.magento_state.source_items if k == sku for w in [code]}
        assert s.writes("/correction") - before == len(warehouses)
