from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from plentysync.magento import Condition, Filter, SearchCriteria, list_fields


def test_groups_are_anded_and_filters_inside_a_group_ored() -> None:
    params = dict(
        SearchCriteria()
        .where("store_id", 1)
        .where_any(Filter("status", "pending"), Filter("status", "processing", Condition.EQ))
        .to_params()
    )
    assert params["searchCriteria[filter_groups][0][filters][0][field]"] == "store_id"
    assert params["searchCriteria[filter_groups][0][filters][0][value]"] == "1"
    assert params["searchCriteria[filter_groups][1][filters][0][value]"] == "pending"
    assert params["searchCriteria[filter_groups][1][filters][1][value]"] == "processing"
    assert "searchCriteria[filter_groups][0][filters][1][field]" not in params


def test_values_are_rendered_for_the_wire() -> None:
    berlin = timezone(timedelta(hours=2))
    criteria = (
        SearchCriteria()
        .where("updated_at", datetime(2024, 5, 1, 12, 0, 0, tzinfo=berlin), Condition.GTEQ)
        .where_in("sku", ["A", "B"])
        .where("is_active", True)
        .where("name", "%shirt%", "like")
        .where("special_price", None, Condition.NULL)
    )
    params = dict(criteria.to_params())
    assert params["searchCriteria[filter_groups][0][filters][0][value]"] == "2024-05-01 10:00:00"
    assert params["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "gteq"
    assert params["searchCriteria[filter_groups][1][filters][0][value]"] == "A,B"
    assert params["searchCriteria[filter_groups][1][filters][0][condition_type]"] == "in"
    assert params["searchCriteria[filter_groups][2][filters][0][value]"] == "1"
    assert params["searchCriteria[filter_groups][3][filters][0][condition_type]"] == "like"
    assert params["searchCriteria[filter_groups][4][filters][0][condition_type]"] == "null"


@pytest.mark.parametrize("condition", list(Condition))
def test_every_condition_type_is_emitted(condition: Condition) -> None:
    params = dict(SearchCriteria().where("x", "1", condition).to_params())
    assert params["searchCriteria[filter_groups][0][filters][0][condition_type]"] == condition.value


def test_unknown_condition_is_refused() -> None:
    with pytest.raises(ValueError):
        SearchCriteria().where("x", 1, "between")


def test_range_uses_two_groups() -> None:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    params = dict(SearchCriteria().between("created_at", start, end).to_params())
    assert params["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "from"
    assert params["searchCriteria[filter_groups][1][filters][0][condition_type]"] == "to"


def test_sort_and_page() -> None:
    params = SearchCriteria().order_by("updated_at").order_by("entity_id", "DESC").page(50, 3).to_params()
    assert ("searchCriteria[sortOrders][0][field]", "updated_at") in params
    assert ("searchCriteria[sortOrders][0][direction]", "ASC") in params
    assert ("searchCriteria[sortOrders][1][direction]", "DESC") in params
    assert ("searchCriteria[pageSize]", "50") in params
    assert ("searchCriteria[currentPage]", "3") in params


def test_empty_criteria_still_send_the_parameter() -> None:
    assert SearchCriteria().to_params() == [("searchCriteria", "")]


def test_builder_is_immutable() -> None:
    base = SearchCriteria().where("a", 1)
    base.where("b", 2)
    assert len(base.groups) == 1


def test_list_fields_keeps_total_count() -> None:
    assert list_fields("sku", "updated_at") == "items[sku,updated_at],total_count"
    with pytest.raises(ValueError):
        list_fields()
