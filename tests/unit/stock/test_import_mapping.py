"""The stock import's mapping, pure: PlentyONE stock rows -> Magento source writes, the inverse of the
source mapping, physical or net stock, out-of-stock status, the skip of what Magento holds and the
baselines an import establishes for the export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from plentysync.engine.pipeline import BatchItem, Request, Result
from plentysync.plenty.models.stock import StockEntry
from plentysync.sync.stock.config import StockImportConfig
from plentysync.sync.stock.importer import (
    ImportItem,
    ImportRequest,
    NotImported,
    SkuEntries,
    SourceWrite,
    conflict,
    group_by_variation,
    map_entries,
    needs_write,
    plan,
    plan_writes,
    sources_by_warehouse,
)

SKU = "24-MG04"
VID = 1026
LINKS = {VID: SKU}


def config(**options: Any) -> StockImportConfig:
    return StockImportConfig(**{"main_warehouse_id": 1, "stock_source_mapping": {"default": 1, "berlin": 2}, **options})


def entry(warehouse: int, physical: float, net: float | None = None, variation: int = VID, **extra: Any) -> StockEntry:
    return StockEntry(
        variationId=variation,
        warehouseId=warehouse,
        itemId=42,
        stockPhysical=physical,
        stockNet=physical if net is None else net,
        reservedStock=physical - (physical if net is None else net),
        **extra,
    )


def writes(entries: Sequence[StockEntry], cfg: StockImportConfig) -> list[tuple[str, int, float, int]]:
    mapped = map_entries(entries, LINKS, cfg)
    return [(w.source_code, w.warehouse_id, w.quantity, w.status) for w in mapped.by_sku[SKU].writes]


def test_each_mapped_warehouse_becomes_its_source() -> None:
    assert writes([entry(1, 7), entry(2, 3)], config()) == [("default", 1, 7, 1), ("berlin", 2, 3, 1)]


def test_empty_mapping_pairs_the_main_warehouse_with_default() -> None:
    cfg = StockImportConfig(main_warehouse_id=5)
    assert sources_by_warehouse(cfg) == {5: "default"}
    assert writes([entry(5, 4), entry(1, 9)], cfg) == [("default", 5, 4, 1)]


def test_several_sources_on_one_warehouse_write_the_first_by_source_code() -> None:
    """Not the mapping's key order: PostgreSQL's JSONB does not keep it."""
    cfg = config(stock_source_mapping={"eu": 1, "default": 1, "berlin": 2})
    assert sources_by_warehouse(cfg) == {1: "default", 2: "berlin"}


def test_legacy_inventory_writes_the_default_source_only() -> None:
    cfg = config(inventory_api="legacy")
    assert sources_by_warehouse(cfg) == {1: "default"}
    assert sources_by_warehouse(config(inventory_api="legacy", stock_source_mapping={"berlin": 2})) == {}


@pytest.mark.parametrize(("kind", "expected"), [("physical", 10.0), ("net", 6.0)])
def test_stock_kind_chooses_the_quantity(kind: str, expected: float) -> None:
    assert writes([entry(1, 10, net=6)], config(stock_kind=kind))[0][2] == expected


@pytest.mark.parametrize(("at_zero", "status"), [(True, 0), (False, 1)])
def test_zero_or_less_is_out_of_stock_when_configured(at_zero: bool, status: int) -> None:
    cfg = config(set_out_of_stock_at_zero=at_zero)
    assert [w[3] for w in writes([entry(1, 0), entry(2, -2)], cfg)] == [status, status]


def test_unmapped_warehouses_are_cached_but_not_written() -> None:
    mapped = map_entries([entry(1, 7), entry(3, 99)], LINKS, config())
    assert [w.warehouse_id for w in mapped.by_sku[SKU].writes] == [1]
    assert mapped.by_sku[SKU].unmapped == (3,)
    assert {(r.warehouse_id, r.sku, r.physical) for r in mapped.cache} == {(1, SKU, 7), (3, SKU, 99)}


def test_variations_without_a_sku_are_reported_and_still_cached() -> None:
    mapped = map_entries([entry(1, 7), entry(1, 5, variation=2000)], LINKS, config())
    assert list(mapped.by_sku) == [SKU]
    assert mapped.unknown == (2000,)
    assert {(r.variation_id, r.sku) for r in mapped.cache} == {(VID, SKU), (2000, None)}


def test_a_repeated_row_replaces_the_earlier_one_and_cache_keeps_plenty_fields() -> None:
    later = entry(1, 8, net=5, updatedAt="2026-05-29T13:13:12+02:00")
    mapped = map_entries([entry(1, 7), later], LINKS, config())
    assert [w.quantity for w in mapped.by_sku[SKU].writes] == [8]
    (row,) = mapped.cache
    assert (row.physical, row.net, row.reserved, row.item_id) == (8, 5, 3, 42)
    assert row.plenty_updated_at == datetime(2026, 5, 29, 11, 13, 12, tzinfo=UTC)


def test_float_noise_is_rounded_away() -> None:
    assert writes([entry(1, 0.1 + 0.2)], config())[0][2] == 0.3


def sku_entries(*rows: StockEntry, cfg: StockImportConfig | None = None) -> SkuEntries:
    return map_entries(rows, LINKS, cfg or config()).by_sku[SKU]


def test_only_what_magento_does_not_hold_needs_a_write() -> None:
    entries = sku_entries(entry(1, 7), entry(2, 0))
    held = {"default": (7.0, 1), "berlin": (0.0, 1)}
    planned = plan_writes(entries, held, config())
    # berlin's quantity matches but its status must turn to out of stock
    assert [(w.source_code, w.status) for w in planned if needs_write(w, held)] == [("berlin", 0)]
    in_line = {"default": (7.0, 1), "berlin": (0.0, 0)}
    assert [w for w in plan_writes(entries, in_line, config()) if needs_write(w, in_line)] == []


def test_a_warehouse_shared_by_sources_is_not_counted_twice() -> None:
    """The export adds up the sources of a warehouse: the written source gets the warehouse's quantity
    less what the others hold, and the baseline is the total Magento then holds (7, as in PlentyONE)."""
    cfg = config(stock_source_mapping={"default": 1, "eu": 1, "berlin": 2})
    entries = sku_entries(entry(1, 7), entry(2, 3), cfg=cfg)
    planned = plan_writes(entries, {"eu": (2.0, 1), "berlin": (1.0, 1)}, cfg)
    assert [(w.source_code, w.quantity, w.baseline) for w in planned] == [("default", 5, 7), ("berlin", 3, 3)]


def test_a_shared_warehouse_below_the_other_sources_empties_the_written_one() -> None:
    cfg = config(stock_source_mapping={"default": 1, "eu": 1})
    planned = plan_writes(sku_entries(entry(1, 1), cfg=cfg), {"eu": (2.0, 1), "default": (4.0, 1)}, cfg)
    assert [(w.source_code, w.quantity, w.status, w.baseline) for w in planned] == [("default", 0, 0, 2)]


def test_empty_mapping_counts_every_source_of_the_sku() -> None:
    cfg = StockImportConfig(main_warehouse_id=1)
    planned = plan_writes(sku_entries(entry(1, 7), cfg=cfg), {"eu": (2.0, 1), "default": (1.0, 1)}, cfg)
    assert [(w.quantity, w.baseline) for w in planned] == [(5, 7)]


def test_a_pending_magento_change_is_not_overwritten() -> None:
    entries = sku_entries(entry(1, 53))
    waiting = ImportItem(entries, "simple", {"default": (55.0, 1)}, export_pending=True)
    assert "waits in the stock export queue" in (conflict(waiting) or "")
    unseen = ImportItem(entries, "simple", {"default": (55.0, 1)}, live={"default": (50.0, 1)})
    assert "changed since plentysync last saw it (55 → 50)" in (conflict(unseen) or "")
    in_line = ImportItem(entries, "simple", {"default": (55.0, 1)}, live={"default": (55.0, 1)})
    assert conflict(in_line) is None
    first_contact = ImportItem(entries, "simple", {}, live={"default": (50.0, 1)})
    assert conflict(first_contact) is None
    result = plan(BatchItem(SKU, data=unseen), config())
    assert isinstance(result, Result)
    assert result.status == "skipped"


def item(product_type: str | None = "simple", snapshot: dict[str, tuple[float, int]] | None = None) -> BatchItem:
    entries = sku_entries(entry(1, 7), entry(3, 1))
    return BatchItem(SKU, data=ImportItem(entries, product_type, snapshot or {}))


def test_plan_requests_the_needed_writes() -> None:
    planned = plan(item(), config())
    assert isinstance(planned, Request)
    assert planned.operation == "saveSourceItems"
    assert isinstance(planned.payload, ImportRequest)
    assert planned.payload.unmapped == (3,)
    assert repr(planned.payload) == "default → 7 (warehouse 1)"
    legacy = plan(item(), config(inventory_api="legacy"))
    assert isinstance(legacy, Request)
    assert legacy.operation == "updateStockItem"


@pytest.mark.parametrize(
    ("batch_item", "message"),
    [
        (item(snapshot={"default": (7.0, 1)}), "already up to date"),
        (item(product_type=None), "Magento has no product"),
        (item(product_type="configurable"), "holds no stock"),
        (BatchItem("variation:5", data=NotImported("no SKU")), "no SKU"),
        (BatchItem(SKU, data=ImportItem(sku_entries(entry(3, 1)), "simple", {})), "warehouse(s) 3 map to no"),
    ],
)
def test_plan_skips_with_a_reason(batch_item: BatchItem, message: str) -> None:
    planned = plan(batch_item, config())
    assert isinstance(planned, Result)
    assert planned.status == "skipped"
    assert message in (planned.message or "")


def test_describe_marks_out_of_stock() -> None:
    write = SourceWrite(SKU, VID, 2, "berlin", 0.0, 0, 0.0)
    assert write.describe() == "berlin → 0, out of stock (warehouse 2)"


async def _stream(entries: Sequence[StockEntry]) -> AsyncIterator[StockEntry]:
    for e in entries:
        yield e


@pytest.mark.anyio
async def test_groups_hold_whole_variations_up_to_the_size_and_limit() -> None:
    rows = [entry(w, 1, variation=v) for v in (1, 2, 3) for w in (1, 2)]
    groups = [g async for g in group_by_variation(_stream(rows), 2)]
    assert [[(e.variationId, e.warehouseId) for e in g] for g in groups] == [
        [(1, 1), (1, 2), (2, 1), (2, 2)],
        [(3, 1), (3, 2)],
    ]
    limited = [g async for g in group_by_variation(_stream(rows), 2, limit=1)]
    assert [[e.variationId for e in g] for g in limited] == [[1, 1]]
