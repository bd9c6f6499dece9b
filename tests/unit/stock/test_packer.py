"""How the export packs claimed SKUs into pushes whose calls are full."""

from __future__ import annotations

from plentysync.engine.pipeline import BatchItem
from plentysync.sync.stock.config import StockExportConfig
from plentysync.sync.stock.exporter import _Packer
from plentysync.sync.stock.mapping import SkuStock

CONFIG = StockExportConfig(
    main_warehouse_id=1, stock_source_mapping={"default": 1, "berlin": 2}, correction_mode="delta"
)


def sku(n: int, *, up: bool = True, both: bool = False) -> BatchItem:
    change = 1.0 if up else -1.0
    sources = {"default": 10 + change, **({"berlin": 10 + change} if both else {})}
    baselines = {1: 10.0, **({2: 10.0} if both else {})}
    data = SkuStock(f"S{n}", "simple", 100 + n, sources=sources, baselines=baselines)
    return BatchItem(f"S{n}", data=data)


def test_a_push_cut_at_the_size_limit_holds_back_what_would_part_fill_a_call() -> None:
    packer = _Packer(CONFIG, limit=2)
    packer.add([sku(n) for n in range(5)])  # 5 incoming rows in warehouse 1: two full calls and one row
    assert not packer.full()
    push = packer.take(hold_back=True)
    assert [i.key for i in push] == ["S0", "S1", "S2", "S3"]
    packer.add([sku(5, up=False)])
    # the held-back SKU goes first and is never held back again, even though its call stays part-filled
    assert [i.key for i in packer.take(hold_back=True)] == ["S4"]
    assert [i.key for i in packer.take(hold_back=False)] == ["S5"]


def test_a_sku_is_held_back_only_when_none_of_its_groups_would_drop_below_full_calls() -> None:
    packer = _Packer(CONFIG, limit=2)
    packer.add([sku(0), sku(1), sku(2, both=True)])  # warehouse 1: 3 incoming; warehouse 2: 1 incoming
    push = packer.take(hold_back=True)
    assert [i.key for i in push] == ["S0", "S1"]  # S2 part-fills both of its groups: held back
    packer.add([sku(3), sku(4, both=True)])  # warehouse 1: S2, S3, S4; warehouse 2: S2, S4
    assert not packer.full()
    # S4 cannot wait (warehouse 2 would lose a full call); S3 can
    assert [i.key for i in packer.take(hold_back=True)] == ["S2", "S4"]
    assert [i.key for i in packer.take(hold_back=False)] == ["S3"]
