"""Time-range filters for change polling; bounds are inclusive."""

from __future__ import annotations

from datetime import datetime

from starlette.datastructures import QueryParams

from plentysync.sandbox.plenty.errors import validation_error
from plentysync.sandbox.plenty.timefmt import parse_query_time, parse_stored

Range = tuple[datetime | None, datetime | None]


def time_param(query: QueryParams, name: str) -> datetime | None:
    """A W3C/unix-time filter; an unparseable value (e.g. an unencoded ``+``) is a 422."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    parsed = parse_query_time(raw)
    if parsed is None:
        raise validation_error({name: [f"The {name} is not a valid date."]})
    return parsed


def between_param(query: QueryParams, name: str) -> Range | None:
    """``name=<from>[,<to>]`` with unix seconds or ISO 8601 values."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    low_raw, _, high_raw = raw.partition(",")
    low = parse_query_time(low_raw) if low_raw.strip() else None
    high = parse_query_time(high_raw) if high_raw.strip() else None
    if (low_raw.strip() and low is None) or (high_raw.strip() and high is None):
        raise validation_error({name: [f"The {name} is not a valid date range."]})
    return low, high


def in_range(stored: str | None, bounds: Range) -> bool:
    low, high = bounds
    if stored is None:
        return low is None and high is None
    moment = parse_stored(stored)
    return (low is None or moment >= low) and (high is None or moment <= high)


def from_to(query: QueryParams, prefix: str) -> Range | None:
    low = time_param(query, f"{prefix}From")
    high = time_param(query, f"{prefix}To")
    if low is None and high is None:
        return None
    return low, high
