"""Every request the stock profiles send, and every answer the sandboxes give them, checked against the
official specs: the export in absolute and delta mode (corrections, both bookings, the bulk variation
scan, a refused row sent again, an unknown outcome settled from the movement log), the producers and
drift sweep, and the stock import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plentysync.db import Database
from plentysync.db.migrate import upgrade
from plentysync.engine.links import Link
from plentysync.sandbox.faults import FaultRule
from plentysync.sync.stock import drift, producers
from plentysync.sync.stock.config import IMPORT_TYPE_ID
from tests.contract.validate import ContractValidator
from tests.integration.stock.harness import StockScenarioBuilder

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}")
    await upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


async def test_stock_profiles_follow_the_specs(sqlite_db: Database, contract_validator: ContractValidator) -> None:
    async with StockScenarioBuilder(sqlite_db).build() as s:
        skus = s.stock_skus(8)
        await s.engine.links.upsert([Link("variation", skus[0], "999999")])  # one row PlentyONE refuses
        await s.configure()
        await s.export(*skus)
        await s.engine.links.delete("variation", [skus[0]])
        await s.configure(correction_mode="delta")
        config = await s.export_config()
        async with s.export_runtime() as rt:
            await producers.poll_source_items(rt, s.engine.queue)
            await producers.poll_products(rt, s.engine.queue)
            await producers.enqueue_products(rt, s.engine.queue, everything=True)
            for n, sku in enumerate(skus):
                s.set_magento(sku, "default", 20 + (n % 2) * 10)
            await producers.poll_source_items(rt, s.engine.queue)
            s.pair.plenty_faults.add(FaultRule("drop_after", method="PUT", path="bookIncomingItems", times=1))
            await s.drain()
            await s.configure(IMPORT_TYPE_ID)
            await s.run(IMPORT_TYPE_ID)
            s.channel_sale(skus[1], 1, 2)
            await s.run(IMPORT_TYPE_ID)
            await drift.sweep(rt, s.engine.queue, config)
        assert s.pair.recorder is not None
        exchanges = s.pair.recorder.exchanges()
    report = contract_validator.validate_exchanges(exchanges)
    assert report.ok, str(report)
    labels = {contract_validator.route_label(e) for e in exchanges}
    for needed in (
        "stock/correction",
        "bookIncomingItems",
        "bookOutgoingItems",
        "stock/movements",
        "GET /rest/items/variations",
        "GET /rest/stockmanagement/stock",
        "/V1/inventory/source-items",
        "GET /V1/products",
    ):
        assert any(needed in label for label in labels), (needed, sorted(labels))
    assert any(e.status == 422 for e in exchanges)  # the refused row's call was checked too
