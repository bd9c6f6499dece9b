# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""The paginated envelope (``PaginatedResult``) and small shared records."""

from __future__ import annotations

from typing import Any

from plentysync.plenty.models.base import WireModel


class PageEnvelope(WireModel):
    """``page``, ``lastPageNumber`` and ``itemsPerPage`` often arrive as strings; lax mode reads them."""

    page: int | None = None
    totalsCount: int | None = None
    isLastPage: bool | None = None
    lastPageNumber: int | None = None
    firstOnPage: int | None = None
    lastOnPage: int | None = None
    itemsPerPage: int | None = None
    entries: list[Any] | None = None


class DeleteResponse(WireModel):
    """What ``DELETE`` routes answer (often an empty body or ``{"success": true}``)."""
