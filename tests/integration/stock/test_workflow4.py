"""Seed 000, Workflow 4 with its exact numbers, against both sandboxes over real HTTP: Magento and
PlentyONE hold 10; Amazon sells 3 through PlentyONE (Magento blind, PlentyONE 7); Magento ships 1
(Magento 9). Absolute mode ends at PlentyONE 9 (the channel sale undone), delta mode at 6 (kept)."""

from __future__ import annotations

import pytest

from plentysync.db import Database
from tests.integration.stock.harness import StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _workflow4(db: Database, mode: str) -> tuple[float, list[dict[str, object]]]:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(correction_mode=mode, stock_source_mapping={"default": 1})
        sku = s.stock_skus(1)[0]
        s.set_magento(sku, "default", 10)
        s.set_plenty(sku, 1, 10)
        first = await s.export(sku)
        assert first.run.status == "success", first.run.message
        assert s.plenty_physical(sku, 1) == 10
        s.channel_sale(sku, 1, 3)
        assert s.plenty_physical(sku, 1) == 7
        s.set_magento(sku, "default", 9)
        second = await s.export(sku)
        assert second.run.status == "success", second.run.message
        return s.plenty_physical(sku, 1), s.our_movements(sku, 1)


async def test_absolute_mode_undoes_the_channel_sale(db: Database) -> None:
    final, movements = await _workflow4(db, "absolute")
    assert final == 9
    assert [m["reason"] for m in movements] == [301, 301]


async def test_delta_mode_preserves_the_channel_sale(db: Database) -> None:
    final, movements = await _workflow4(db, "delta")
    assert final == 6
    # day zero: one bootstrap correction; then one outgoing booking of -1 with reason 200
    assert [(m["reason"], m["quantity"]) for m in movements] == [(301, 0.0), (200, -1.0)]
