"""Categories: list/get/create. Names are not unique — match on ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from plentysync.errors import SyncError
from plentysync.plenty.models.categories import Category, CategoryCreate
from plentysync.plenty.paging import parse_list, query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient


class CategoriesResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    def list_categories(
        self,
        *,
        type_: str | None = None,
        parent_id: int | None = None,
        plenty_id: int | None = None,
        lang: str | None = None,
        updated_at: str | None = None,
        with_: Sequence[str] = (),
        items_per_page: int | None = None,
    ) -> AsyncIterator[Category]:
        """Stream categories (filter ``parentId``; the servers silently ignore ``parentCategoryId``)."""
        params = query(
            {"type": type_, "parentId": parent_id, "plentyId": plenty_id, "lang": lang, "updatedAt": updated_at},
            with_=with_,
        )
        return self.client.paginate("/rest/categories", Category, params, items_per_page=items_per_page)

    async def get_category(self, category_id: int, *, with_: Sequence[str] = ()) -> Category:
        return await self.client.get_one(f"/rest/categories/{category_id}", Category, query({}, with_=with_))

    async def create_categories(self, categories: Sequence[CategoryCreate]) -> list[Category]:
        """Create categories; body and answer are arrays on the servers (the spec says object).
        NOT idempotent."""
        body = [category.payload() for category in categories]
        created = parse_list(await self.client.call("POST", "/rest/categories", json=body), Category)
        if len(created) != len(categories):
            raise SyncError(f"PlentyONE created {len(created)} categories for {len(categories)} requested")
        return created
