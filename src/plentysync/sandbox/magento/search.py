"""searchCriteria: PHP bracket query strings into nested values, parsing (snake and camel keys),
evaluation (OR within a filter group, AND across groups), sorting, paging with Magento's
clamp-to-last-page quirk, and ``fields=`` partial responses."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from plentysync.sandbox.magento.errors import bad_request, required

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def parse_php_query(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=x`` -> ``{"a": {"b": [{"c": "x"}]}}``, as PHP does; ``x[]=`` appends. Containers whose
    keys are all integers become lists ordered by key."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        keys = [head]
        if rest:
            keys += _BRACKETS.findall("[" + rest)
        node: dict[str, Any] = root
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if key == "":
                key = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    node[key] = child
                node = child
    result: dict[str, Any] = _listify(root)
    return result


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _pick(data: dict[str, Any], snake: str, camel: str) -> tuple[bool, Any]:
    if snake in data:
        return True, data[snake]
    if camel in data:
        return True, data[camel]
    return False, None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return []


@dataclass
class Filter:
    field: str
    value: Any
    condition_type: str = "eq"


@dataclass
class SearchCriteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int | None = None
    echo: dict[str, Any] = field(default_factory=lambda: {"filter_groups": []})


@dataclass(frozen=True)
class Limits:
    clamp_pages: bool = True
    input_limits: bool = False
    maximum_page_size: int = 300
    default_page_size: int = 20


CONDITIONS = frozenset(
    {"eq", "neq", "gt", "gteq", "lt", "lteq", "moreq", "like", "nlike", "in", "nin", "finset", "nfinset"}
    | {"null", "notnull", "from", "to"}
)


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip() or "0")
    except ValueError:
        raise bad_request(
            'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
            {"value": value, "type": "int"},
        ) from None


def parse_search_criteria(query: dict[str, Any], *, required_param: bool = True) -> SearchCriteria:
    """Read ``searchCriteria`` from a parsed query; missing and required -> 400 like Magento."""
    found, raw = _pick(query, "searchCriteria", "search_criteria")
    if not found:
        if required_param:
            raise required("searchCriteria")
        return SearchCriteria()
    if not isinstance(raw, dict):
        return SearchCriteria()
    criteria = SearchCriteria()
    has_groups, groups = _pick(raw, "filter_groups", "filterGroups")
    for group in _as_list(groups) if has_groups else []:
        filters: list[Filter] = []
        echo_filters: list[dict[str, Any]] = []
        for raw_filter in _as_list(group.get("filters") if isinstance(group, dict) else None):
            if not isinstance(raw_filter, dict):
                continue
            _, condition = _pick(raw_filter, "condition_type", "conditionType")
            condition = str(condition or "eq").lower()
            if condition not in CONDITIONS:
                raise bad_request('Invalid condition type "%1".', [condition])
            name = str(raw_filter.get("field", ""))
            value = raw_filter.get("value", "")
            filters.append(Filter(name, value, condition))
            echo_filters.append({"field": name, "value": value, "condition_type": condition})
        criteria.filter_groups.append(filters)
        criteria.echo["filter_groups"].append({"filters": echo_filters})
    has_sorts, sorts = _pick(raw, "sort_orders", "sortOrders")
    if has_sorts:
        echo_sorts = []
        for sort in _as_list(sorts):
            if not isinstance(sort, dict) or not sort.get("field"):
                continue
            direction = str(sort.get("direction") or "DESC").upper()
            if direction not in ("ASC", "DESC"):
                raise bad_request(
                    "The sort order's direction is invalid. Change the direction to ASC or DESC and try again."
                )
            criteria.sort_orders.append((str(sort["field"]), direction))
            echo_sorts.append({"field": str(sort["field"]), "direction": direction})
        criteria.echo["sort_orders"] = echo_sorts
    has_size, size = _pick(raw, "page_size", "pageSize")
    if has_size:
        criteria.page_size = _int(size, "pageSize")
        criteria.echo["page_size"] = criteria.page_size
    has_page, page = _pick(raw, "current_page", "currentPage")
    if has_page:
        criteria.current_page = _int(page, "currentPage")
        criteria.echo["current_page"] = criteria.current_page
    return criteria


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare(left: Any, right: Any) -> int | None:
    """SQL-like comparison: numeric when both sides are numbers, else case-insensitive text."""
    if left is None:
        return None
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    sa, sb = str(left).lower(), str(right).lower()
    return (sa > sb) - (sa < sb)


def _like(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _as_set(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).lower() for v in value]
    if value is None:
        return []
    return [v.strip().lower() for v in str(value).split(",") if v.strip() != ""]


def matches(actual: Any, flt: Filter) -> bool:
    cond = flt.condition_type
    value = flt.value
    if cond == "null":
        return actual is None or actual == ""
    if cond == "notnull":
        return not (actual is None or actual == "")
    if isinstance(actual, list) and cond in ("eq", "neq", "in", "nin"):
        members = [str(a).lower() for a in actual]
        wanted = _as_set(value) if cond in ("in", "nin") else [str(value).lower()]
        hit = any(w in members for w in wanted)
        return hit if cond in ("eq", "in") else not hit
    if cond in ("in", "nin"):
        hit = actual is not None and any(_compare(actual, v) == 0 for v in _as_set(value))
        return hit if cond == "in" else not hit
    if cond in ("finset", "nfinset"):
        hit = str(value).lower() in _as_set(actual)
        return hit if cond == "finset" else not hit
    if cond in ("like", "nlike"):
        hit = actual is not None and _like(str(value)).match(str(actual)) is not None
        return hit if cond == "like" else not hit
    result = _compare(actual, value)
    if cond == "neq":
        return result != 0
    if result is None:
        return False
    return {
        "eq": result == 0,
        "gt": result > 0,
        "gteq": result >= 0,
        "moreq": result >= 0,
        "from": result >= 0,
        "lt": result < 0,
        "lteq": result <= 0,
        "to": result <= 0,
    }[cond]


def default_getter(item: dict[str, Any], name: str) -> Any:
    """Top-level field, else a ``custom_attributes`` entry (EAV attributes are filterable too)."""
    if name in item:
        return item[name]
    for attr in item.get("custom_attributes") or []:
        if attr.get("attribute_code") == name:
            return attr.get("value")
    return None


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (0, 0.0, "")
    number = _number(value)
    if number is not None:
        return (1, number, "")
    return (2, 0.0, str(value).lower())


@dataclass
class Page:
    items: list[dict[str, Any]]
    total_count: int


def evaluate(
    items: Sequence[dict[str, Any]],
    criteria: SearchCriteria,
    limits: Limits,
    getter: Callable[[dict[str, Any], str], Any] = default_getter,
) -> Page:
    selected = [
        item
        for item in items
        if all(not group or any(matches(getter(item, f.field), f) for f in group) for group in criteria.filter_groups)
    ]
    for name, direction in reversed(criteria.sort_orders):

        def key(item: dict[str, Any], field_name: str = name) -> tuple[int, float, str]:
            return _sort_key(getter(item, field_name))

        selected.sort(key=key, reverse=direction == "DESC")
    total = len(selected)
    page_size = criteria.page_size
    if limits.input_limits:
        if page_size is None:
            page_size = limits.default_page_size
        elif page_size > limits.maximum_page_size:
            raise bad_request("Maximum SearchCriteria pageSize is %max", {"max": limits.maximum_page_size})
    if not page_size or page_size <= 0:
        return Page(selected, total)
    page = max(1, criteria.current_page or 1)
    last = max(1, math.ceil(total / page_size))
    if page > last:
        if not limits.clamp_pages:
            return Page([], total)
        page = last
    start = (page - 1) * page_size
    return Page(selected[start : start + page_size], total)


def search_result(page: Page, criteria: SearchCriteria) -> dict[str, Any]:
    return {"items": page.items, "search_criteria": criteria.echo, "total_count": page.total_count}


# fields= partial responses


FieldSpec = dict[str, "FieldSpec | None"]


def parse_fields(spec: str) -> FieldSpec:
    """``items[sku,extension_attributes[website_ids]],total_count`` -> nested dict (``None``: whole value)."""
    result, _ = _parse_fields(spec.replace(" ", ""), 0)
    return result


def _parse_fields(spec: str, pos: int) -> tuple[FieldSpec, int]:
    out: FieldSpec = {}
    name = ""
    while pos < len(spec):
        char = spec[pos]
        if char == "[":
            sub, pos = _parse_fields(spec, pos + 1)
            if name:
                out[name] = sub
            name = ""
            continue
        if char == "]":
            if name:
                out.setdefault(name, None)
            return out, pos + 1
        if char == ",":
            if name:
                out.setdefault(name, None)
            name = ""
        else:
            name += char
        pos += 1
    if name:
        out.setdefault(name, None)
    return out, pos


def apply_fields(data: Any, spec: FieldSpec) -> Any:
    if isinstance(data, list):
        return [apply_fields(item, spec) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for name, sub in spec.items():
        if name not in data:
            continue
        out[name] = data[name] if sub is None else apply_fields(data[name], sub)
    return out


# an index for ``eq``/``in`` searches on one field (``sku``), for large catalogues

IndexKey = tuple[int, Any]
INDEXED_CONDITIONS = ("eq", "in")


def index_key(value: Any) -> IndexKey:
    """What :func:`matches` compares for ``eq``/``in``: the number when the value reads as one (``"12"`` and
    ``"12.0"`` are equal), else the lower-cased text."""
    number = _number(value)
    return (1, number) if number is not None else (0, str(value).lower())


def _wanted(criteria: SearchCriteria, field_name: str) -> list[IndexKey] | None:
    """The keys one filter group asks for when it holds only ``eq``/``in`` filters on ``field_name``: every
    match has one of them. ``None`` when no group does, or a wanted number is NaN (equal to every number)."""
    for group in criteria.filter_groups:
        if not group or not all(f.field == field_name and f.condition_type in INDEXED_CONDITIONS for f in group):
            continue
        keys = [index_key(v) for f in group for v in (_as_set(f.value) if f.condition_type == "in" else [f.value])]
        if any(kind == 1 and math.isnan(value) for kind, value in keys):
            return None
        return keys
    return None


class IndexedRecords(dict[Any, dict[str, Any]]):
    """A dict of records, as a sandbox state keeps them, that also indexes its records by one field.

    Every mutation keeps the index current, so a search whose filters pin that field with ``eq``/``in``
    (the ``sku in (...)`` of bulk reads) looks its candidates up instead of scanning every record; the
    search then runs on the candidates as before, so its answer is the same. A record's field is indexed
    when the record is stored: records are replaced, not renamed in place."""

    def __init__(self, field_name: str, data: Any = ()) -> None:
        super().__init__()
        self.field_name = field_name
        self._by_key: dict[IndexKey, set[Any]] = {}
        self._nan: set[Any] = set()
        """Keys of records whose field is NaN: a candidate for every number."""
        self._other: set[Any] = set()
        """Keys of records whose field is not a text or number (lists...): a candidate for every search."""
        self.update(data)

    def __reduce__(self) -> Any:
        return (type(self), (self.field_name, dict(self)))

    def _bucket(self, record: Any, *, create: bool = True) -> set[Any] | None:
        value = record.get(self.field_name) if isinstance(record, dict) else None
        if value is None:
            return None  # matches nothing
        if not isinstance(value, str | int | float):
            return self._other
        key = index_key(value)
        if key[0] == 1 and math.isnan(key[1]):
            return self._nan
        return self._by_key.setdefault(key, set()) if create else self._by_key.get(key)

    def _forget(self, key: Any, record: Any) -> None:
        bucket = self._bucket(record, create=False)
        if bucket is not None:
            bucket.discard(key)
            if not bucket and bucket is not self._nan and bucket is not self._other:
                self._by_key.pop(index_key(record[self.field_name]), None)

    def __setitem__(self, key: Any, record: dict[str, Any]) -> None:
        old = dict.get(self, key)
        bucket = self._bucket(record)
        if bucket is not None:
            bucket.add(key)  # indexed before it is stored: a concurrent search skips it, never misses it
        super().__setitem__(key, record)
        if old is not None and self._bucket(old, create=False) is not bucket:
            self._forget(key, old)

    def __delitem__(self, key: Any) -> None:
        record = self[key]
        super().__delitem__(key)
        self._forget(key, record)

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        record = self[key]
        del self[key]
        return record

    def popitem(self) -> tuple[Any, dict[str, Any]]:
        key, record = super().popitem()
        self._forget(key, record)
        return key, record

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, record in dict(*args, **kwargs).items():
            self[key] = record

    def __ior__(self, other: Any) -> IndexedRecords:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        self._by_key.clear()
        self._nan.clear()
        self._other.clear()

    def candidates(self, criteria: SearchCriteria) -> list[dict[str, Any]] | None:
        """The records that can match ``criteria`` (in no particular order), or ``None`` when the criteria
        do not pin the indexed field: then every record can."""
        wanted = _wanted(criteria, self.field_name)
        if wanted is None:
            return None
        keys: set[Any] = set(self._other)
        for key in wanted:
            keys.update(self._by_key.get(key, ()))
        if any(kind == 1 for kind, _ in wanted):
            keys.update(self._nan)
        found = (dict.get(self, key) for key in keys)
        return [record for record in found if record is not None]


def indexed(owner: Any, attribute: str, field_name: str) -> IndexedRecords:
    """``owner.<attribute>`` (a state's dict of records) as :class:`IndexedRecords` on ``field_name``: the
    dict is replaced by an indexed copy once, which the state then keeps using as its dict."""
    records = getattr(owner, attribute)
    if not isinstance(records, IndexedRecords) or records.field_name != field_name:
        records = IndexedRecords(field_name, records)
        setattr(owner, attribute, records)
    return records
