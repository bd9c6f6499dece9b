"""The drift sweep against the Magento sandbox over real HTTP and the cached PlentyONE stock (seed 000,
Workflow 5): divergent SKUs queued as collect_drift, largest gap first up to --limit, SKUs without cached
stock counted, a SKU drifting two sweeps in a row reported, a dry run that changes nothing, and the
legacy (no MSI) path."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from plentysync.db import Database
from plentysync.engine.queue import CoalescingQueue
from plentysync.sync.stock import drift
from plentysync.sync.stock.config import EXPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.resources import StockRuntime
from plentysync.sync.stock.store import Pair, PlentyStockRow
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]


@asynccontextmanager
async def runtime(s: StockScenario, **config: Any) -> AsyncIterator[tuple[StockRuntime, StockExportConfig]]:
    await s.configure(**config)
    async with s.export_runtime() as rt:
        yield rt, await s.export_config()


def magento_totals(s: StockScenario, config: StockExportConfig) -> dict[Pair, float]:
    totals: dict[Pair, float] = defaultdict(float)
    for (sku, source), item in s.pair.magento_state.source_items.items():
        warehouse = config.warehouse_of(source)
        if warehouse is not None:
            totals[(sku, warehouse)] += float(item["quantity"])
    return dict(totals)


def cache_rows(values: dict[Pair, float]) -> list[PlentyStockRow]:
    skus = sorted({sku for sku, _ in values})
    variation = {sku: 1000 + i for i, sku in enumerate(skus)}
    return [
        PlentyStockRow(variation[sku], warehouse, sku, None, physical, physical, 0.0, None)
        for (sku, warehouse), physical in sorted(values.items())
    ]


async def queued(queue: CoalescingQueue) -> dict[str, str]:
    return {r.entity_key: r.trigger_reason for r in await queue.list_items(EXPORT_TYPE_ID, limit=1000)}


async def test_sweep_queues_divergent_skus_and_reports_persistent_drift(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as (rt, config):
        queue = s.engine.queue
        totals = magento_totals(s, config)
        skus = sorted({sku for sku, _ in totals})
        far, near, within, uncached = skus[:4]
        cached = {pair: q for pair, q in totals.items() if pair[0] != uncached}
        far_pair = next(pair for pair in cached if pair[0] == far)
        near_pair = next(pair for pair in cached if pair[0] == near)
        within_pair = next(pair for pair in cached if pair[0] == within)
        cached[far_pair] += 5
        cached[near_pair] -= 2
        cached[within_pair] += 0.00004
        await s.store.put_plenty_stock(cache_rows(cached))

        dry = await drift.sweep(rt, queue, config, dry_run=True)
        assert (dry.compared, dry.divergent_skus, dry.enqueued, dry.no_cache) == (len(skus) - 1, 2, 2, 1)
        assert await queued(queue) == {}
        assert await s.store.drifting(at_least=1) == []

        first = await drift.sweep(rt, queue, config, limit=1)
        assert [(d.sku, d.warehouse_id, round(d.magento - d.plenty, 4)) for d in first.divergent] == [
            (far, far_pair[1], -5),
            (near, near_pair[1], 2),
        ]
        assert (first.enqueued, first.inserted, first.persistent) == (1, 1, [])
        assert await queued(queue) == {far: "collect_drift"}
        assert any("stock import" in note for note in first.notes)

        second = await drift.sweep(rt, queue, config)
        assert (second.enqueued, second.inserted, second.updated) == (2, 1, 1)
        assert await queued(queue) == {far: "collect_drift", near: "collect_drift"}
        assert [(row.sku, row.consecutive) for row in second.persistent] == [(far, 2), (near, 2)]
        assert (second.persistent[0].magento_quantity, second.persistent[0].plenty_quantity) == (
            totals[far_pair],
            cached[far_pair],
        )

        await s.store.put_plenty_stock(cache_rows({**cached, far_pair: totals[far_pair]}))
        third = await drift.sweep(rt, queue, config)
        assert [(row.sku, row.consecutive) for row in third.persistent] == [(near, 3)]


async def test_sweep_without_cached_stock_compares_nothing(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s) as (rt, config):
        report = await drift.sweep(rt, s.engine.queue, config)
        assert (report.compared, report.enqueued, report.api_calls) == (0, 0, 1)
        assert report.no_cache == len({sku for sku, _ in magento_totals(s, config)})
        assert "nothing could be compared" in report.notes[0]


async def test_legacy_sweep_reads_stock_items_of_cached_skus(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s, runtime(s, inventory_api="legacy") as (rt, config):
        state = s.pair.magento_state
        same, differs = [sku for sku in s.stock_skus(20) if (sku, "default") in state.source_items][:2]
        quantity = {sku: float(state.source_items[(sku, "default")]["quantity"]) for sku in (same, differs)}
        await s.store.put_plenty_stock(cache_rows({(same, 1): quantity[same], (differs, 1): quantity[differs] + 1}))

        report = await drift.sweep(rt, s.engine.queue, config)
        assert [(d.sku, d.warehouse_id) for d in report.divergent] == [(differs, 1)]
        assert (report.compared, report.api_calls) == (2, 1 + 2)
        eligible = [p for p in state.products.values() if p["type_id"] in ("simple", "virtual", "downloadable")]
        assert report.no_cache == len(eligible) - 2
        assert await queued(s.engine.queue) == {differs: "collect_drift"}
