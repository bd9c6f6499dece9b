"""The searchCriteria builder: filter groups are AND-ed, the filters inside one group are OR-ed, and the
whole thing is sent as PHP-style bracket query parameters (``searchCriteria[filter_groups][0][filters][0][field]``).

``(A AND B) OR (C AND D)`` cannot be expressed; a range is two groups (``from`` and ``to``, or ``gteq`` and
``lteq``). Values are rendered for the wire: datetimes as UTC ``YYYY-MM-DD HH:MM:SS``, sequences for
``in``/``nin`` comma-joined, booleans as ``1``/``0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from plentysync.magento.dates import format_datetime

Direction = Literal["ASC", "DESC"]
FilterValue = str | int | float | bool | datetime | date | Sequence[str | int] | None


class Condition(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTEQ = "gteq"
    LT = "lt"
    LTEQ = "lteq"
    MOREQ = "moreq"
    LIKE = "like"
    NLIKE = "nlike"
    IN = "in"
    NIN = "nin"
    FINSET = "finset"
    NFINSET = "nfinset"
    NULL = "null"
    NOTNULL = "notnull"
    FROM = "from"
    TO = "to"


def render_value(value: FilterValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | int | float):
        return str(value)
    return ",".join(str(v) for v in value)


@dataclass(frozen=True)
class Filter:
    field: str
    value: FilterValue = None
    condition: Condition | str = Condition.EQ


@dataclass(frozen=True)
class SortOrder:
    field: str
    direction: Direction = "ASC"


@dataclass(frozen=True)
class SearchCriteria:
    """An immutable builder; every method returns a new criteria.

    >>> SearchCriteria().where("updated_at", since, "gteq").where_any(Filter("status", "pending"),
    ...     Filter("status", "processing")).order_by("updated_at").order_by("entity_id").page(100)
    """

    groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None

    def where(self, field: str, value: FilterValue = None, condition: Condition | str = Condition.EQ) -> SearchCriteria:
        """AND one more condition."""
        return self.where_any(Filter(field, value, condition))

    def where_any(self, *filters: Filter) -> SearchCriteria:
        """AND a group whose filters are OR-ed."""
        if not filters:
            raise ValueError("a filter group needs at least one filter")
        for flt in filters:
            Condition(flt.condition)
        return replace(self, groups=(*self.groups, tuple(filters)))

    def where_in(self, field: str, values: Iterable[str | int]) -> SearchCriteria:
        return self.where(field, tuple(values), Condition.IN)

    def between(self, field: str, low: FilterValue, high: FilterValue) -> SearchCriteria:
        """An inclusive range: two groups, because ``from`` and ``to`` in one group would be OR-ed."""
        return self.where(field, low, Condition.FROM).where(field, high, Condition.TO)

    def order_by(self, field: str, direction: Direction = "ASC") -> SearchCriteria:
        return replace(self, sort_orders=(*self.sort_orders, SortOrder(field, direction)))

    def page(self, size: int, current: int = 1) -> SearchCriteria:
        if size < 1 or current < 1:
            raise ValueError("page size and current page start at 1")
        return replace(self, page_size=size, current_page=current)

    def to_params(self) -> list[tuple[str, str]]:
        """The bracket query parameters. Empty criteria still send ``searchCriteria=`` because most list
        routes require the parameter."""
        params: list[tuple[str, str]] = []
        for g, group in enumerate(self.groups):
            for f, flt in enumerate(group):
                prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
                params.append((f"{prefix}[field]", flt.field))
                params.append((f"{prefix}[value]", render_value(flt.value)))
                params.append((f"{prefix}[condition_type]", str(Condition(flt.condition))))
        for s, order in enumerate(self.sort_orders):
            params.append((f"searchCriteria[sortOrders][{s}][field]", order.field))
            params.append((f"searchCriteria[sortOrders][{s}][direction]", order.direction))
        if self.page_size is not None:
            params.append(("searchCriteria[pageSize]", str(self.page_size)))
        if self.current_page is not None:
            params.append(("searchCriteria[currentPage]", str(self.current_page)))
        return params or [("searchCriteria", "")]


def list_fields(*item_fields: str) -> str:
    """A ``fields=`` value for a list route: the item fields wrapped in ``items[...]``, plus ``total_count``,
    without which pagination cannot stop (a bare field list on a list route returns nothing)."""
    if not item_fields:
        raise ValueError("name at least one item field")
    return f"items[{','.join(item_fields)}],total_count"
