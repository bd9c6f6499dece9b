"""The drift reconciler's pure part: Magento's source items summed per warehouse through the mapping,
and the comparison with the cached PlentyONE stock (tolerance, missing cache, ordering), plus the
source-item snapshot diff the poller uses."""

from __future__ import annotations

import pytest

from plentysync.sync.stock.drift import Divergence, WarehouseTotals, compare
from plentysync.sync.stock.producers import SnapshotDiff
from plentysync.sync.stock.store import SnapshotRow

MAPPING = {"default": 1, "berlin": 2, "hamburg": 2}


def test_sources_mapped_to_one_warehouse_add_up_and_unmapped_ones_are_left_out() -> None:
    totals = WarehouseTotals(MAPPING.get)
    totals.add("A", "default", 3)
    totals.add("A", "berlin", 1.5)
    totals.add("A", "hamburg", 2)
    totals.add("A", "paris", 100)
    totals.add("B", "paris", 7)
    assert totals.totals() == {("A", 1): 3, ("A", 2): 3.5}


def test_a_source_item_read_twice_counts_once() -> None:
    totals = WarehouseTotals(MAPPING.get)
    totals.add("A", "berlin", 4)
    totals.add("A", "berlin", 5)
    assert totals.totals() == {("A", 2): 5}


def test_divergence_beyond_the_tolerance_only() -> None:
    magento = {("A", 1): 10.0, ("B", 1): 0.1 + 0.2, ("C", 1): 5.0002, ("D", 1): 5.00005}
    plenty = {("A", 1): 7.0, ("B", 1): 0.3, ("C", 1): 5.0, ("D", 1): 5.0}
    found = compare(magento, plenty, 0.0001)
    assert found.compared == 4
    assert found.divergences == [Divergence("A", 1, 10.0, 7.0), Divergence("C", 1, 5.0002, 5.0)]


def test_a_sku_without_any_cached_row_is_not_compared() -> None:
    found = compare({("A", 1): 4.0, ("B", 1): 2.0}, {("B", 1): 2.0}, 0.0001)
    assert (found.compared, found.no_cache, found.divergences) == (1, ["A"], [])


def test_a_warehouse_missing_from_the_cache_counts_as_zero() -> None:
    found = compare({("A", 1): 4.0, ("A", 2): 3.0}, {("A", 1): 4.0}, 0.0001)
    assert found.divergences == [Divergence("A", 2, 3.0, 0.0)]


def test_largest_gap_first_and_the_worst_warehouse_per_sku() -> None:
    magento = {("A", 1): 1.0, ("A", 2): 9.0, ("B", 1): 5.0}
    plenty = {("A", 1): 0.0, ("A", 2): 0.0, ("B", 1): 0.0}
    found = compare(magento, plenty, 0.0001)
    assert [(d.sku, d.warehouse_id) for d in found.divergences] == [("A", 2), ("B", 1), ("A", 1)]
    assert found.divergent_skus() == ["A", "B"]
    assert found.worst() == {"A": (9.0, 0.0), "B": (5.0, 0.0)}


@pytest.mark.parametrize("tolerance", [0.0, 2.5])
def test_the_tolerance_is_configurable(tolerance: float) -> None:
    found = compare({("A", 1): 3.0}, {("A", 1): 1.0}, tolerance)
    assert len(found.divergences) == (1 if tolerance < 2 else 0)


def test_snapshot_diff_finds_new_changed_and_gone_pairs() -> None:
    diff = SnapshotDiff({("A", "default"): (1.0, 1), ("B", "default"): (2.0, 1), ("C", "default"): (0.0, 0)})
    diff.see("A", "default", (1.0, 1))
    diff.see("B", "default", (2.0, 0))
    diff.see("D", "berlin", (4.0, 1))
    assert diff.finish() == [("C", "default")]
    assert diff.changed == {"B", "C", "D"}
    assert diff.rows == [SnapshotRow("B", "default", 2.0, 0), SnapshotRow("D", "berlin", 4.0, 1)]


def test_snapshot_diff_ignores_float_noise() -> None:
    diff = SnapshotDiff({("A", "default"): (0.3, 1)})
    diff.see("A", "default", (0.1 + 0.2, 1))
    assert (diff.finish(), diff.changed) == ([], set())
