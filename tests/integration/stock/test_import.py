"""``plenty_stock_import`` against both sandboxes over real HTTP: what lands in Magento, what is cached,
how the watermark limits the reads, and that an import never echoes back as an export booking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from plentysync.db import Database
from plentysync.engine.messages import EntityMessage
from plentysync.engine.runner import RunReport
from plentysync.sandbox.faults import FaultRule
from plentysync.sandbox.plenty import stock as plenty_stock
from plentysync.sandbox.plenty.timefmt import w3c
from plentysync.sandbox.recorder import Exchange
from plentysync.sync.stock import producers
from plentysync.sync.stock.config import EXPORT_TYPE_ID, IMPORT_TYPE_ID
from plentysync.sync.stock.importer import WATERMARK, unknown_variation_key
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.db]

STOCK_ROUTE = "/rest/stockmanagement/stock"


def _exchanges(s: StockScenario, since: int = 0) -> list[Exchange]:
    recorder = s.pair.recorder
    assert recorder is not None
    return recorder.exchanges()[since:]


def _mark(s: StockScenario) -> int:
    return len(_exchanges(s))


def _stock_reads(s: StockScenario, since: int) -> list[Exchange]:
    return [x for x in _exchanges(s, since) if x.system == "plenty" and x.method == "GET" and x.path == STOCK_ROUTE]


def _rows_read(s: StockScenario, since: int) -> list[tuple[int, int]]:
    return [
        (entry["variationId"], entry["warehouseId"])
        for x in _stock_reads(s, since)
        for entry in (x.response_body or {}).get("entries", [])
    ]


def _magento_writes(s: StockScenario, since: int) -> list[Exchange]:
    """Source-item saves and legacy stock-item writes."""
    return [
        x
        for x in _exchanges(s, since)
        if x.system == "magento"
        and x.method in ("POST", "PUT")
        and ("/source-items" in x.path or "/stockItems/" in x.path)
    ]


def _source_item(s: StockScenario, sku: str, source: str) -> dict[str, Any]:
    item = s.pair.magento_state.source_item(sku, source)
    assert item is not None, f"no source item {sku}/{source}"
    return dict(item)


def _entity(report: RunReport, key: str) -> EntityMessage:
    found = [e for e in [*report.entities, *report.errors] if e.key == key]
    assert found, f"no message for {key}"
    return found[-1]


def _backdate_plenty_stock(s: StockScenario, hours: float = 1) -> None:
    """Every PlentyONE stock row last changed ``hours`` ago (so what a test changes stands out)."""
    state = s.pair.plenty_state
    old = w3c(state.clock.now() - timedelta(hours=hours))
    for pair in state.stock_updated:
        state.stock_updated[pair] = old


async def test_import_writes_mapped_sources_and_caches_every_warehouse(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID, stock_source_mapping={"default": 1, "berlin": 2})
        sku = s.stock_skus(1, sources=3)[0]
        s.set_plenty(sku, 1, 11)
        s.set_plenty(sku, 2, 0)
        s.set_plenty(sku, 3, 99)
        hamburg = s.magento_qty(sku, "hamburg")
        assert hamburg != 99
        plenty_only = next(
            v["number"]
            for v in s.pair.plenty_state.variations.values()
            if s.pair.magento_state.product(v["number"]) is None
        )
        nameless = s.variation_id(s.stock_skus(2, sources=1)[1])
        s.pair.plenty_state.variations[nameless]["number"] = ""

        report = await s.run(IMPORT_TYPE_ID)

        assert report.run.status == "success", report.run.message
        assert _source_item(s, sku, "default")["quantity"] == 11
        assert _source_item(s, sku, "default")["status"] == 1
        assert _source_item(s, sku, "berlin")["quantity"] == 0
        assert _source_item(s, sku, "berlin")["status"] == 0
        assert s.magento_qty(sku, "hamburg") == hamburg
        cached = {r["warehouse_id"]: (r["sku"], r["physical"]) for r in await s.store.plenty_rows(sku)}
        assert cached == {1: (sku, 11), 2: (sku, 0), 3: (sku, 99)}
        assert (await s.engine.links.resolve("variation", [sku]))[sku].plenty_key == str(s.variation_id(sku))
        # every variation's rows are cached, the ones Magento does not have too
        assert await s.store.cached_skus() == len(s.pair.plenty_state.stock_pairs())
        assert "Magento has no product" in (_entity(report, plenty_only).message or "")
        assert _entity(report, unknown_variation_key(nameless)).status == "skipped"
        # the rest of the catalogue: every mapped warehouse of a Magento SKU now equals PlentyONE
        for other in s.stock_skus(5, sources=1):
            assert s.magento_qty(other, "default") == s.plenty_physical(other, 1)


async def test_physical_or_net_stock(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID, stock_source_mapping={"default": 1})
        sku = s.stock_skus(1, sources=1)[0]
        s.set_plenty(sku, 1, 10)
        plenty_stock.reserve(s.pair.plenty_state, s.variation_id(sku), 1, 4)

        assert (await s.run(IMPORT_TYPE_ID)).run.status == "success"
        assert s.magento_qty(sku, "default") == 10

        await s.configure(IMPORT_TYPE_ID, stock_source_mapping={"default": 1}, stock_kind="net")
        scoped = await s.run(IMPORT_TYPE_ID, keys=(sku,))
        assert scoped.run.status == "success", scoped.run.message
        assert s.magento_qty(sku, "default") == 6
        row = (await s.store.plenty_rows(sku))[0]
        assert (row["physical"], row["net"], row["reserved"]) == (10, 6, 4)


async def test_watermark_reads_only_changed_rows(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID)
        _backdate_plenty_stock(s)
        mark = _mark(s)
        first = await s.run(IMPORT_TYPE_ID)
        assert first.run.status == "success", first.run.message
        assert len(_rows_read(s, mark)) == len(s.pair.plenty_state.stock_pairs())
        assert all("updatedAtFrom" not in dict(x.query) for x in _stock_reads(s, mark))
        assert await s.store.get_state(WATERMARK) is not None

        sku = s.stock_skus(1, sources=1)[0]
        s.set_plenty(sku, 1, 3)
        mark = _mark(s)
        second = await s.run(IMPORT_TYPE_ID)

        assert second.run.status == "success", second.run.message
        assert _rows_read(s, mark) == [(s.variation_id(sku), 1)]
        plenty_gets = [x for x in _exchanges(s, mark) if x.system == "plenty" and x.method == "GET"]
        assert [x.path for x in plenty_gets] == [STOCK_ROUTE]
        assert "updatedAtFrom" in dict(plenty_gets[0].query)
        assert s.magento_qty(sku, "default") == 3


async def test_a_failed_batch_holds_the_watermark_and_records_what_landed(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID, process_batch_size=500)
        for key in list(s.pair.plenty_state.stock):  # PlentyONE differs everywhere: every source needs a write
            s.pair.plenty_state.stock[key] += 1
        _backdate_plenty_stock(s)
        # the first chunk of the batch's write lands, the second is refused
        s.pair.magento_faults.add(
            FaultRule("status", method="POST", path="/inventory/source-items$", status=400, skip=1, times=1)
        )
        failed = await s.run(IMPORT_TYPE_ID)
        assert failed.run.status == "failed", failed.run.message
        assert await s.store.get_state(WATERMARK) is None
        snapshot = await s.store.snapshot()
        assert len(snapshot) >= 20
        for (sku, source), (quantity, status) in snapshot.items():
            assert _source_item(s, sku, source)["quantity"] == quantity
            assert _source_item(s, sku, source)["status"] == status

        mark = _mark(s)
        again = await s.run(IMPORT_TYPE_ID)
        assert again.run.status == "success", again.run.message
        assert len(_rows_read(s, mark)) == len(s.pair.plenty_state.stock_pairs())
        assert await s.store.get_state(WATERMARK) is not None


async def test_an_import_is_not_echoed_by_the_delta_export(db: Database) -> None:
    """Amazon sells 3 in PlentyONE, the import brings Magento to 7: neither the source-item poll nor an
    export sees a change. Then Magento ships 1: exactly -1 is booked and PlentyONE ends at 6."""
    async with StockScenarioBuilder(db).build() as s:
        mapping = {"default": 1}
        await s.configure(EXPORT_TYPE_ID, correction_mode="delta", stock_source_mapping=mapping)
        await s.configure(IMPORT_TYPE_ID, stock_source_mapping=mapping)
        sku = s.stock_skus(1, sources=1)[0]
        s.set_magento(sku, "default", 10)
        s.set_plenty(sku, 1, 10)
        assert (await s.export(sku)).run.status == "success"
        async with s.export_runtime() as rt:
            assert (await producers.poll_source_items(rt, s.engine.queue)).seeded
            s.channel_sale(sku, 1, 3)

            imported = await s.run(IMPORT_TYPE_ID)
            assert imported.run.status == "success", imported.run.message
            assert s.magento_qty(sku, "default") == 7
            assert (await producers.poll_source_items(rt, s.engine.queue)).changed == []
            writes = s.writes()
            echo = await s.export(sku)
            assert echo.run.status == "success", echo.run.message
            assert s.writes() == writes
            assert s.plenty_physical(sku, 1) == 7

            s.set_magento(sku, "default", 6)
            assert (await producers.poll_source_items(rt, s.engine.queue)).changed == [sku]
        shipped = await s.run(EXPORT_TYPE_ID)
        assert shipped.run.status == "success", shipped.run.message
        assert s.plenty_physical(sku, 1) == 6
        assert [(m["reason"], m["quantity"]) for m in s.our_movements(sku, 1)][-1] == (200, -1.0)
        assert s.writes() == writes + 1


async def test_skips_what_magento_already_holds(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID, stock_source_mapping={"default": 1})
        sku = s.stock_skus(1, sources=1)[0]
        assert (await s.run(IMPORT_TYPE_ID)).run.status == "success"
        mark = _mark(s)

        again = await s.run(IMPORT_TYPE_ID, keys=(sku, "NO-SUCH-SKU"))

        assert again.run.status == "success", again.run.message
        assert _entity(again, sku).status == "skipped"
        assert "already up to date" in (_entity(again, sku).message or "")
        assert "not in PlentyONE" in (_entity(again, "NO-SUCH-SKU").message or "")
        assert _magento_writes(s, mark) == []
        assert [v for v, _ in _rows_read(s, mark)] == [s.variation_id(sku)] * len(_rows_read(s, mark))


async def test_dry_run_writes_nothing(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID)
        sku = s.stock_skus(1, sources=1)[0]
        s.set_plenty(sku, 1, 42)
        before = dict(s.pair.magento_state.source_items)

        report = await s.run(IMPORT_TYPE_ID, dry_run=True)

        assert report.run.status == "success", report.run.message
        assert "would send saveSourceItems" in (_entity(report, sku).message or "")
        assert _magento_writes(s, 0) == []
        assert s.pair.magento_state.source_items == before
        assert await s.store.cached_skus() == 0
        assert await s.store.get_state(WATERMARK) is None
        assert await s.store.snapshot() == {}
        assert await s.engine.links.count("variation") == 0


async def test_legacy_inventory_writes_the_stock_item(db: Database) -> None:
    async with StockScenarioBuilder(db).build() as s:
        await s.configure(IMPORT_TYPE_ID, inventory_api="legacy")
        sku = s.stock_skus(1, sources=3)[0]
        berlin = s.magento_qty(sku, "berlin")
        s.set_plenty(sku, 1, 5)
        s.set_plenty(sku, 2, 77)
        mark = _mark(s)

        report = await s.run(IMPORT_TYPE_ID, keys=(sku,))

        assert report.run.status == "success", report.run.message
        default = _source_item(s, sku, "default")
        assert (default["quantity"], default["status"]) == (5, 1)
        assert s.magento_qty(sku, "berlin") == berlin
        writes = _magento_writes(s, mark)
        assert [x.method for x in writes] == ["PUT"]
        assert "/stockItems/" in writes[0].path
        assert await s.store.snapshot() == {(sku, "default"): (5.0, 1)}


async def test_an_unexported_magento_change_is_not_overwritten(db: Database) -> None:
    """Magento ships 5 (55 -> 50) while Amazon sells 2 in PlentyONE (55 -> 53). The import must not write
    53 over Magento's 50: the export books -5 first (PlentyONE 48), then the import brings 48 back."""
    async with StockScenarioBuilder(db).build() as s:
        mapping = {"default": 1}
        await s.configure(EXPORT_TYPE_ID, correction_mode="delta", stock_source_mapping=mapping)
        await s.configure(IMPORT_TYPE_ID, stock_source_mapping=mapping)
        sku = s.stock_skus(1, sources=1)[0]
        s.set_magento(sku, "default", 55)
        await s.export(sku)
        await s.run(IMPORT_TYPE_ID, keys=(sku,))
        assert (s.magento_qty(sku), s.plenty_physical(sku, 1)) == (55, 55)

        s.set_magento(sku, "default", 50)
        s.channel_sale(sku, 1, 2)
        for pending in (False, True):  # not yet seen by the poller, then waiting in the export queue
            if pending:
                await s.engine.queue.enqueue(EXPORT_TYPE_ID, [sku], reason="source_item_save")
            report = await s.run(IMPORT_TYPE_ID, keys=(sku,))
            assert "not imported yet" in (report.entities[0].message or "")
            assert s.magento_qty(sku) == 50
        await s.run(EXPORT_TYPE_ID)
        assert s.plenty_physical(sku, 1) == 48
        await s.run(IMPORT_TYPE_ID, keys=(sku,))
        assert s.magento_qty(sku) == 48
        assert await s.store.baselines([sku]) == {(sku, 1): 48}
