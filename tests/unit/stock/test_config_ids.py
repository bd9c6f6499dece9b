"""Ids in the stock profiles' configuration are strict, positive, 32-bit whole numbers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from plentysync.sync.stock.config import MAX_PLENTY_ID, StockExportConfig, StockImportConfig


@pytest.mark.parametrize("value", [True, False, "3", 3.0, 0, -1, MAX_PLENTY_ID + 1, 99999999999999999999])
@pytest.mark.parametrize(
    "options",
    [
        lambda v: {"main_warehouse_id": v},
        lambda v: {"main_warehouse_id": 1, "stock_source_mapping": {"default": v}},
        lambda v: {"main_warehouse_id": 1, "correction_reason_id": v},
        lambda v: {"main_warehouse_id": 1, "incoming_reason_id": v},
        lambda v: {"main_warehouse_id": 1, "outgoing_reason_id": v},
    ],
    ids=["main_warehouse_id", "stock_source_mapping", "correction_reason_id", "incoming", "outgoing"],
)
def test_bad_ids_are_refused(options: Any, value: object) -> None:
    with pytest.raises(ValidationError):
        StockExportConfig.model_validate(options(value))


def test_good_ids_are_kept() -> None:
    config = StockImportConfig.model_validate({"main_warehouse_id": MAX_PLENTY_ID, "stock_source_mapping": {"a": 2}})
    assert (config.main_warehouse_id, config.stock_source_mapping) == (MAX_PLENTY_ID, {"a": 2})
    with pytest.raises(ValidationError, match="main_warehouse_id"):
        StockImportConfig.model_validate({"main_warehouse_id": True})
