"""The stock export's generator, pure: every mode, bootstrap policy and troubleshooting case of seed 000
decided without a server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plentysync.engine.pipeline import Result
from plentysync.sync.stock.config import StockExportConfig
from plentysync.sync.stock.mapping import (
    CORRECTION,
    INCOMING,
    NO_CALL,
    OUTGOING,
    PlannedRows,
    SkuStock,
    StockRow,
    plan,
    qty,
)

MAPPING = {"default": 1, "berlin": 2}


def config(**options: Any) -> StockExportConfig:
    return StockExportConfig(**{"main_warehouse_id": 1, "stock_source_mapping": MAPPING, **options})


def stock(**fields: Any) -> SkuStock:
    base: dict[str, Any] = {"sku": "24-MG04", "product_type": "simple", "variation_id": 1026}
    return SkuStock(**{**base, **fields})


def rows(result: list[StockRow] | Result) -> list[tuple[int, str, str, float]]:
    assert isinstance(result, list), result
    return [(r.warehouse_id, r.mode, r.operation, r.quantity) for r in result]


def test_absolute_mode_corrects_every_mapped_warehouse_with_reason_301() -> None:
    planned = plan(stock(sources={"default": 9, "berlin": 4}, baselines={1: 10}), config())
    assert rows(planned) == [(1, "absolute", CORRECTION, 9), (2, "absolute", CORRECTION, 4)]
    assert isinstance(planned, list)
    assert {r.reason_id for r in planned} == {301}
    assert planned[0].delta == -1


def test_sources_mapped_to_one_warehouse_add_up() -> None:
    planned = plan(stock(sources={"default": 2, "berlin": 3}), config(stock_source_mapping={"default": 5, "berlin": 5}))
    assert rows(planned) == [(5, "absolute", CORRECTION, 5)]


def test_empty_mapping_sends_every_source_to_the_main_warehouse() -> None:
    planned = plan(stock(sources={"default": 2, "eu": 3}), StockExportConfig(main_warehouse_id=7))
    assert rows(planned) == [(7, "absolute", CORRECTION, 5)]


def test_unmapped_source_is_not_exported() -> None:
    result = plan(stock(sources={"hamburg": 5}), config())
    assert isinstance(result, Result)
    assert result.status == "skipped"
    assert "hamburg" in (result.message or "")
    assert rows(plan(stock(sources={"hamburg": 5, "default": 1}), config())) == [(1, "absolute", CORRECTION, 1)]


@pytest.mark.parametrize("product_type", ["configurable", "bundle", "grouped"])
def test_parents_are_not_stock_eligible(product_type: str) -> None:
    result = plan(stock(product_type=product_type, sources={"default": 5}), config())
    assert isinstance(result, Result)
    assert result.status == "skipped"
    assert product_type in (result.message or "")


@pytest.mark.parametrize("product_type", ["simple", "virtual", "downloadable"])
def test_stock_holding_types_are_exported(product_type: str) -> None:
    assert rows(plan(stock(product_type=product_type, sources={"default": 5}), config())) == [
        (1, "absolute", CORRECTION, 5)
    ]


def test_sku_unknown_to_plenty_is_an_error_naming_the_fix() -> None:
    result = plan(stock(variation_id=None, sources={"default": 5}), config())
    assert isinstance(result, Result)
    assert result.status == "error"
    assert "plenty_item_export" in (result.message or "")


def test_sku_unknown_to_magento_is_skipped() -> None:
    result = plan(stock(product_type=None), config())
    assert isinstance(result, Result)
    assert result.status == "skipped"


def test_deleted_source_item_sets_its_warehouse_to_zero() -> None:
    planned = plan(stock(sources={"default": 4}, baselines={1: 4, 2: 6}), config(correction_mode="delta"))
    assert rows(planned) == [(2, "delta", OUTGOING, -6)]


def test_delta_zero_makes_no_call() -> None:
    result = plan(stock(sources={"default": 10}, baselines={1: 10}), config(correction_mode="delta"))
    assert isinstance(result, Result)
    assert result.status == "skipped"
    assert "up-to-date" in (result.message or "")


def test_delta_splits_into_incoming_and_outgoing_with_the_seed_reasons() -> None:
    planned = plan(stock(sources={"default": 9, "berlin": 8}, baselines={1: 10, 2: 5}), config(correction_mode="delta"))
    assert isinstance(planned, list)
    assert [(r.warehouse_id, r.operation, r.quantity, r.reason_id, r.target) for r in planned] == [
        (1, OUTGOING, -1, 200, 9),
        (2, INCOMING, 3, 100, 8),
    ]


def test_absolute_then_delta_bootstraps_with_a_correction() -> None:
    planned = plan(stock(sources={"default": 10}), config(correction_mode="delta"))
    assert rows(planned) == [(1, "bootstrap", CORRECTION, 10)]


def test_skip_and_seed_records_the_baseline_without_a_call() -> None:
    planned = plan(stock(sources={"default": 10}), config(correction_mode="delta", bootstrap_policy="skip_and_seed"))
    assert rows(planned) == [(1, "seed", NO_CALL, 10)]


def test_reconcile_to_cache_books_the_difference_to_the_cached_plenty_stock() -> None:
    policy = config(correction_mode="delta", bootstrap_policy="reconcile_to_cache")
    assert rows(plan(stock(sources={"default": 10}, cached_plenty={1: 7}), policy)) == [(1, "reconcile", INCOMING, 3)]
    assert rows(plan(stock(sources={"default": 7}, cached_plenty={1: 7}), policy)) == [(1, "reconcile", NO_CALL, 0)]
    # nothing cached to compute from: align once, as the default policy would
    assert rows(plan(stock(sources={"default": 7}), policy)) == [(1, "bootstrap", CORRECTION, 7)]


def test_an_unsettled_booking_blocks_new_writes() -> None:
    result = plan(stock(sources={"default": 9}, baselines={1: 10}, unresolved=1), config(correction_mode="delta"))
    assert isinstance(result, Result)
    assert result.status == "retry"


def test_reason_ids_are_validated_against_the_api_ranges() -> None:
    with pytest.raises(ValueError, match="outgoing_reason_id 100 must be between 200 and 299"):
        config(outgoing_reason_id=100)
    with pytest.raises(ValueError, match="correction_reason_id"):
        config(correction_reason_id=200)
    assert config(incoming_reason_id=101, outgoing_reason_id=201, correction_reason_id=302).outgoing_reason_id == 201


def test_float_noise_does_not_make_a_delta() -> None:
    assert qty(0.1 + 0.2 - 0.3) == 0.0
    result = plan(stock(sources={"default": 0.1 + 0.2}, baselines={1: 0.3}), config(correction_mode="delta"))
    assert isinstance(result, Result)


@given(
    baseline=st.integers(min_value=0, max_value=10_000),
    magento=st.integers(min_value=0, max_value=10_000),
)
def test_delta_plus_baseline_is_always_the_magento_quantity(baseline: int, magento: int) -> None:
    planned = plan(stock(sources={"default": magento}, baselines={1: baseline}), config(correction_mode="delta"))
    if magento == baseline:
        assert isinstance(planned, Result)
        return
    assert isinstance(planned, list)
    (row,) = planned
    assert row.baseline_before == baseline
    assert baseline + row.quantity == magento == row.target
    assert (row.operation == INCOMING) == (row.quantity > 0)


def test_a_sku_queued_in_another_spelling_than_magento_s_is_refused() -> None:
    result = plan(stock(sku="24-mg04", magento_sku="24-MG04", sources={"default": 5}), config())
    assert isinstance(result, Result)
    assert result.status == "error"
    assert "Magento spells this SKU '24-MG04'" in (result.message or "")


def test_dry_runs_show_what_each_row_would_do() -> None:
    planned = plan(stock(sources={"default": 9, "berlin": 8}, baselines={1: 10}), config(correction_mode="delta"))
    assert isinstance(planned, list)
    assert repr(PlannedRows(planned)) == (
        "delta: -1 in warehouse 1 (bookOutgoingItems, reason 200); "
        "bootstrap: set warehouse 2 to 8 (createStockCorrection, reason 301)"
    )
