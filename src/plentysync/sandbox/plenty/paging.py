"""PaginatedResult (notes §5.1): ``page``/``itemsPerPage`` clamped silently, page past the end clamped
to the last page with its real number."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import QueryParams

DEFAULT_PER_PAGE = 50


def paginate(
    entries: Sequence[Any],
    query: QueryParams,
    *,
    max_per_page: int = 250,
    default_per_page: int = DEFAULT_PER_PAGE,
    clamp: bool = True,
) -> dict[str, Any]:
    per_page = _positive(query.get("itemsPerPage"), default_per_page)
    per_page = min(per_page, max_per_page)
    page = _positive(query.get("page"), 1)
    total = len(entries)
    last_page = max(1, math.ceil(total / per_page))
    if clamp and page > last_page:
        page = last_page
    start = (page - 1) * per_page
    chunk = list(entries[start : start + per_page])
    return {
        "page": page,
        "totalsCount": total,
        "isLastPage": page >= last_page,
        "lastPageNumber": last_page,
        "firstOnPage": start + 1 if chunk else 0,
        "lastOnPage": start + len(chunk) if chunk else 0,
        "itemsPerPage": str(per_page),
        "entries": chunk,
    }


def _positive(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(float(raw))
    except ValueError:
        return default
    return value if value > 0 else default
