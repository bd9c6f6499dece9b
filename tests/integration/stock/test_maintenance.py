"""`plentysync cron run` drives the stock producers when they are due."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plentysync.db import Database
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.sync.stock.maintenance import DRIFT_STATE, POLL_STATE, run_due
from tests.integration.stock.harness import StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_pollers_and_drift_run_when_due(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure()
        assert (await run_due(s.engine)).ran == []  # a disabled profile's producers do not run
        record = await s.engine.profiles.find(EXPORT_TYPE_ID)
        assert record is not None
        await s.engine.profiles.set_enabled(record.id, True)
        first = await run_due(s.engine)
        assert first.ran == ["poll"]
        assert first.details["source_items"]["seeded"] is True
        assert (await run_due(s.engine)).ran == []  # within the poll interval
        sku = s.stock_skus(1)[0]
        s.set_magento(sku, "default", 77)
        earlier = (s.engine.clock.now() - timedelta(hours=2)).isoformat()
        await s.store.set_state(POLL_STATE, earlier)
        await s.store.set_state(DRIFT_STATE, earlier)
        due = await run_due(s.engine)
        assert due.ran == ["poll", "drift"]
        assert due.details["source_items"]["changed"] == 1
        (row,) = await s.engine.queue.list_items(EXPORT_TYPE_ID, keys=[sku])
        assert (row.status, row.trigger_reason) == ("pending", "source_item_save")
