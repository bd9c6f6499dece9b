"""The stock export's producers against the Magento sandbox over real HTTP: the source-item poll (seed
on the first scan, saves and deletes queued as source_item_save, nothing lost when the snapshot write
fails), the product poll (product_save, watermark, no re-queue inside the overlap), ``add`` (parents
skipped, unknown SKUs reported, coalescing) and the webhook intake on every backend."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from plentysync.db import Database
from plentysync.engine.queue import PRIORITY_URGENT, CoalescingQueue
from plentysync.sandbox.magento.state import fmt_time
from plentysync.sync.stock import producers, webhook
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.sync.stock.resources import StockRuntime
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]


@asynccontextmanager
async def runtime(s: StockScenario, **config: Any) -> AsyncIterator[StockRuntime]:
    await s.configure(**config)
    async with s.export_runtime() as rt:
        yield rt


async def queued(queue: CoalescingQueue) -> dict[str, str]:
    """Pending SKU -> trigger reason."""
    return {r.entity_key: r.trigger_reason for r in await queue.list_items(EXPORT_TYPE_ID, limit=1000)}


def default_only(s: StockScenario, count: int) -> list[str]:
    """Simple SKUs with a ``default`` source item and none in ``hamburg``."""
    held = s.pair.magento_state.source_items
    found = [sku for sku in s.stock_skus(20) if (sku, "default") in held and (sku, "hamburg") not in held]
    assert len(found) >= count
    return found[:count]


def parents(s: StockScenario) -> dict[str, str]:
    return {
        sku: str(p["type_id"])
        for sku, p in s.pair.magento_state.products.items()
        if p["type_id"] in ("configurable", "bundle", "grouped")
    }


async def test_source_item_poll_queues_saves_and_deletes_only(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as rt:
        queue = s.engine.queue
        items = len(s.pair.magento_state.source_items)

        first = await producers.poll_source_items(rt, queue)
        assert (first.seeded, first.scanned, first.changed, first.api_calls) == (True, items, [], 1)
        assert "add --all" in (first.note or "")
        assert await queued(queue) == {}

        unchanged = await producers.poll_source_items(rt, queue)
        assert (unchanged.seeded, unchanged.changed, unchanged.enqueued) == (False, [], 0)

        saved, added, deleted, status_only = default_only(s, 4)
        s.set_magento(saved, "default", (s.magento_qty(saved) or 0) + 4)
        s.set_magento(added, "hamburg", 2)
        s.delete_magento(deleted, "default")
        item = s.pair.magento_state.source_items[(status_only, "default")]
        s.pair.magento_state.set_source_item(status_only, "default", item["quantity"], 1 - int(item["status"]))

        dry = await producers.poll_source_items(rt, queue, dry_run=True)
        assert dry.changed == sorted([saved, added, deleted, status_only])
        assert (dry.enqueued, dry.inserted, await queued(queue)) == (4, 0, {})

        report = await producers.poll_source_items(rt, queue)
        assert report.changed == sorted([saved, added, deleted, status_only])
        assert (report.removed, report.inserted, report.updated) == (1, 4, 0)
        assert await queued(queue) == dict.fromkeys(report.changed, "source_item_save")

        again = await producers.poll_source_items(rt, queue)
        assert (again.changed, again.enqueued) == ([], 0)


async def test_source_item_changes_survive_a_failed_snapshot_write(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as rt:
        await producers.poll_source_items(rt, s.engine.queue)
        sku = s.stock_skus(1)[0]
        s.set_magento(sku, "default", 99)

        async def crash(*_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("worker killed")

        store_update = rt.store.update_snapshot
        rt.store.update_snapshot = crash  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await producers.poll_source_items(rt, s.engine.queue)
        assert await queued(s.engine.queue) == {sku: "source_item_save"}
        rt.store.update_snapshot = store_update  # type: ignore[method-assign]

        await s.engine.queue.purge(EXPORT_TYPE_ID, everything=True)
        found_again = await producers.poll_source_items(rt, s.engine.queue)
        assert (found_again.changed, found_again.inserted) == ([sku], 1)


async def test_product_poll_queues_saved_stock_products_once(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as rt:
        queue, products = s.engine.queue, s.pair.magento_state.products
        for record in products.values():
            record["updated_at"] = "2025-12-01 08:00:00"

        first = await producers.poll_products(rt, queue)
        assert (first.seeded, first.changed) == (True, [])
        assert await queued(queue) == {}
        assert await rt.store.get_state(producers.PRODUCTS_WATERMARK) == first.watermark

        now = rt.store.clock.now()
        simple, parent = s.stock_skus(1)[0], next(iter(parents(s)))
        products[simple]["updated_at"] = fmt_time(now - timedelta(seconds=30))
        products[parent]["updated_at"] = fmt_time(now - timedelta(seconds=20))

        report = await producers.poll_products(rt, queue)
        assert (report.changed, report.skipped, report.inserted, report.api_calls) == ([simple], 1, 1, 1)
        assert await queued(queue) == {simple: "product_save"}

        repeat = await producers.poll_products(rt, queue)
        assert (repeat.scanned, repeat.changed, repeat.enqueued) == (2, [], 0)

        later = now + timedelta(seconds=400)
        products[simple]["updated_at"] = fmt_time(later)
        moved = await producers.poll_products(rt, queue)
        assert (moved.changed, moved.updated, moved.watermark) == ([simple], 1, fmt_time(later))


async def test_add_skips_parents_and_reports_unknown_skus(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as rt:
        queue = s.engine.queue
        simple = s.stock_skus(2)
        kinds = parents(s)
        wanted = [simple[0].lower(), simple[1], simple[1], *kinds, "NO-SUCH-SKU"]

        report = await producers.enqueue_products(rt, queue, skus=wanted)
        assert report.requested == len(wanted) - 1
        assert report.eligible == simple
        assert report.skipped == kinds
        assert sorted(set(kinds.values())) == ["bundle", "configurable", "grouped"]
        assert report.unknown == ["NO-SUCH-SKU"]
        assert (report.inserted, report.updated, report.api_calls) == (2, 0, 1)
        assert await queued(queue) == dict.fromkeys(simple, "cli")

        again = await producers.enqueue_products(rt, queue, skus=simple, reason="manual")
        assert (again.inserted, again.updated) == (0, 2)

        everything = await producers.enqueue_products(rt, queue, everything=True, dry_run=True)
        catalogue = s.pair.magento_state.products
        assert everything.requested == len(catalogue)
        assert everything.skipped == kinds
        assert len(everything.eligible) == len(catalogue) - len(kinds)
        assert len(await queued(queue)) == 2


async def test_add_by_product_id(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as rt:
        sku = s.stock_skus(1)[0]
        product_id = int(s.pair.magento_state.products[sku]["id"])
        report = await producers.enqueue_products(rt, s.engine.queue, ids=[product_id, 999_999])
        assert (report.eligible, report.unknown) == ([sku], [999_999])


async def test_webhook_intake_queues_urgently(db: Database) -> None:
    queue = CoalescingQueue(db)
    body = json.dumps({"eventName": "observer.x", "data": {"value": {"sourceItems": [{"sku": "W-1"}]}}}).encode()
    now = datetime.now().timestamp()
    stamp = str(int(now))
    result = await webhook.intake(
        queue, body, secret="s3cret", signature=webhook.sign("s3cret", stamp, body), timestamp=stamp, now=now
    )
    assert (result.inserted, result.updated) == (1, 0)
    (row,) = await queue.list_items(EXPORT_TYPE_ID)
    assert (row.entity_key, row.trigger_reason, row.priority) == ("W-1", "webhook", PRIORITY_URGENT)
    with pytest.raises(webhook.WebhookRejected):
        await webhook.intake(
            queue, body, secret="other", signature=webhook.sign("s3cret", stamp, body), timestamp=stamp, now=now
        )
