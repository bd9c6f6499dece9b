"""Categories: tree, search, get, create, update, move, delete, and product links."""

from __future__ import annotations

from collections.abc import AsyncIterator

from plentysync.magento._base import ResourceApi, parse_bool, parse_list
from plentysync.magento.client import ALL_STORES, seg
from plentysync.magento.models.categories import (
    Category,
    CategoryInput,
    CategoryProductLink,
    CategoryProductLinkInput,
    CategoryTreeNode,
)
from plentysync.magento.search import SearchCriteria


class CategoriesApi(ResourceApi):
    async def tree(self, *, root_id: int | None = None, depth: int | None = None) -> CategoryTreeNode:
        params = {k: v for k, v in (("rootCategoryId", root_id), ("depth", depth)) if v is not None}
        return CategoryTreeNode.model_validate(
            await self._client.request("GET", "/V1/categories", params=params or None)
        )

    def search(
        self, criteria: SearchCriteria | None = None, *, store: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[Category]:
        return self._client.items("/V1/categories/list", Category, criteria, store=store, page_size=page_size)

    async def get(self, category_id: int, *, store_id: int | None = None) -> Category:
        params = {"storeId": store_id} if store_id is not None else None
        return Category.model_validate(
            await self._client.request("GET", f"/V1/categories/{category_id}", params=params)
        )

    async def create(self, category: CategoryInput) -> Category:
        """Create at global scope. Not retried blindly: a repeat would create a second category (or fail on the
        duplicate ``url_key``); reconcile by searching ``parent_id`` + ``name`` after an unknown outcome."""
        body = {"category": category.wire()}
        return Category.model_validate(
            await self._client.request("POST", "/V1/categories", store=ALL_STORES, json=body)
        )

    async def update(self, category_id: int, category: CategoryInput, *, store: str = ALL_STORES) -> Category:
        """Update; with ``store=<code>`` the fields sent become store-view values (e.g. a translated name)."""
        body = {"category": {**category.wire(), "id": category_id}}
        result = await self._client.request("PUT", f"/V1/categories/{category_id}", store=store, json=body)
        return Category.model_validate(result)

    async def move(self, category_id: int, parent_id: int, *, after_id: int | None = None) -> bool:
        body: dict[str, int] = {"parentId": parent_id}
        if after_id is not None:
            body["afterId"] = after_id
        route = f"/V1/categories/{category_id}/move"
        return parse_bool(await self._client.request("PUT", route, store=ALL_STORES, json=body))

    async def delete(self, category_id: int) -> bool:
        return parse_bool(await self._client.request("DELETE", f"/V1/categories/{category_id}", store=ALL_STORES))

    async def products(self, category_id: int) -> list[CategoryProductLink]:
        body = await self._client.request("GET", f"/V1/categories/{category_id}/products")
        return parse_list(CategoryProductLink, body)

    async def assign_product(self, category_id: int, sku: str, *, position: int = 0) -> bool:
        """Assign (or re-position) ``sku`` in the category; a repeat is harmless, so it is retried."""
        link = CategoryProductLinkInput(sku=sku, position=position, category_id=str(category_id))
        route = f"/V1/categories/{category_id}/products"
        result = await self._client.request(
            "POST", route, store=ALL_STORES, json={"productLink": link.wire()}, idempotent=True
        )
        return parse_bool(result)

    async def remove_product(self, category_id: int, sku: str) -> bool:
        route = f"/V1/categories/{category_id}/products/{seg(sku)}"
        return parse_bool(await self._client.request("DELETE", route, store=ALL_STORES))
