"""Inventory: MSI sources, stocks, stock-source links, source items and salable quantity; the legacy
single-stock items and statuses.

Source items carry the physical on-hand quantity per (SKU, source), as an absolute value: Magento subtracts
open reservations itself to get the salable quantity, so pushing "available" quantity would count open
orders twice. Absolute values also make the save an upsert that is safe to repeat, unlike a delta. Saves are
chunked (20 items per call by default, the array limit when web API input limits are on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from itertools import islice
from typing import TypeVar

from plentysync.magento._base import ResourceApi, parse_bool, parse_id, parse_list
from plentysync.magento.client import ALL_STORES, seg
from plentysync.magento.models.common import to_float
from plentysync.magento.models.inventory import (
    SalableResult,
    Source,
    SourceInput,
    SourceItem,
    SourceItemInput,
    SourceItemKey,
    Stock,
    StockInput,
    StockItem,
    StockItemInput,
    StockSourceLink,
    StockSourceLinkInput,
    StockStatus,
)
from plentysync.magento.search import SearchCriteria

DEFAULT_STOCK_ID = 1
DEFAULT_SOURCE = "default"
T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterable[list[T]]:
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class InventoryApi(ResourceApi):
    # ---- sources --------------------------------------------------------------------------------------------

    def sources(self, criteria: SearchCriteria | None = None) -> AsyncIterator[Source]:
        return self._client.items("/V1/inventory/sources", Source, criteria)

    async def source(self, source_code: str) -> Source:
        return Source.model_validate(await self._client.request("GET", f"/V1/inventory/sources/{seg(source_code)}"))

    async def save_source(self, source: SourceInput) -> None:
        """Create or update a source (keyed by ``source_code``; sources cannot be deleted)."""
        await self._client.request(
            "POST", "/V1/inventory/sources", store=ALL_STORES, json={"source": source.wire()}, idempotent=True
        )

    async def update_source(self, source_code: str, source: SourceInput) -> None:
        route = f"/V1/inventory/sources/{seg(source_code)}"
        await self._client.request("PUT", route, store=ALL_STORES, json={"source": source.wire()})

    # ---- stocks ---------------------------------------------------------------------------------------------

    def stocks(self, criteria: SearchCriteria | None = None) -> AsyncIterator[Stock]:
        return self._client.items("/V1/inventory/stocks", Stock, criteria)

    async def stock(self, stock_id: int) -> Stock:
        return Stock.model_validate(await self._client.request("GET", f"/V1/inventory/stocks/{stock_id}"))

    async def create_stock(self, stock: StockInput) -> int:
        """Create a stock; returns its id. Not retried blindly (a repeat creates a second stock)."""
        body = {"stock": stock.wire()}
        return parse_id(
            await self._client.request("POST", "/V1/inventory/stocks", store=ALL_STORES, json=body), "stock"
        )

    async def update_stock(self, stock_id: int, stock: StockInput) -> int:
        body = {"stock": {**stock.wire(), "stock_id": stock_id}}
        route = f"/V1/inventory/stocks/{stock_id}"
        return parse_id(await self._client.request("PUT", route, store=ALL_STORES, json=body), "stock")

    async def delete_stock(self, stock_id: int) -> None:
        await self._client.request("DELETE", f"/V1/inventory/stocks/{stock_id}", store=ALL_STORES)

    # ---- stock-source links ---------------------------------------------------------------------------------

    def stock_source_links(self, criteria: SearchCriteria | None = None) -> AsyncIterator[StockSourceLink]:
        return self._client.items("/V1/inventory/stock-source-links", StockSourceLink, criteria)

    async def link_sources(self, links: Sequence[StockSourceLinkInput]) -> None:
        """Assign sources to stocks (an upsert of the listed pairs)."""
        body = {"links": [link.wire() for link in links]}
        await self._client.request(
            "POST", "/V1/inventory/stock-source-links", store=ALL_STORES, json=body, idempotent=True
        )

    async def unlink_sources(self, links: Sequence[StockSourceLinkInput]) -> None:
        body = {"links": [link.wire() for link in links]}
        await self._client.request(
            "POST", "/V1/inventory/stock-source-links-delete", store=ALL_STORES, json=body, idempotent=True
        )

    # ---- source items ---------------------------------------------------------------------------------------

    def source_items(
        self, criteria: SearchCriteria | None = None, *, page_size: int | None = None
    ) -> AsyncIterator[SourceItem]:
        """Source items (no ``updated_at``: detect changes by diffing full scans)."""
        return self._client.items("/V1/inventory/source-items", SourceItem, criteria, page_size=page_size)

    def source_items_for(self, skus: Sequence[str], *, source_code: str | None = None) -> AsyncIterator[SourceItem]:
        criteria = SearchCriteria().where_in("sku", skus)
        if source_code is not None:
            criteria = criteria.where("source_code", source_code)
        return self.source_items(criteria)

    async def save_source_items(self, items: Iterable[SourceItemInput], *, chunk_size: int | None = None) -> int:
        """Set the physical quantity and status of each listed (SKU, source) pair; other pairs of the same SKU
        stay as they are. Returns the number of items sent. Safe to retry: values are absolute."""
        sent = 0
        for chunk in chunked(items, chunk_size or self._client.config.source_items_chunk_size):
            body = {"sourceItems": [item.wire() for item in chunk]}
            await self._client.request(
                "POST", "/V1/inventory/source-items", store=ALL_STORES, json=body, idempotent=True
            )
            sent += len(chunk)
        return sent

    async def delete_source_items(self, items: Iterable[SourceItemKey], *, chunk_size: int | None = None) -> int:
        """Unassign SKUs from sources. This clears the quantity there, which can break the salable quantity of
        pending orders with reservations on that source."""
        sent = 0
        for chunk in chunked(items, chunk_size or self._client.config.source_items_chunk_size):
            body = {"sourceItems": [item.wire() for item in chunk]}
            await self._client.request(
                "POST", "/V1/inventory/source-items-delete", store=ALL_STORES, json=body, idempotent=True
            )
            sent += len(chunk)
        return sent

    # ---- salable quantity -----------------------------------------------------------------------------------

    async def salable_quantity(self, sku: str, stock_id: int = DEFAULT_STOCK_ID) -> float:
        """Sum of the stock's in-stock source quantities plus reservations (simple/virtual/downloadable only)."""
        route = f"/V1/inventory/get-product-salable-quantity/{seg(sku)}/{stock_id}"
        return to_float(await self._client.request("GET", route)) or 0.0

    async def is_salable(self, sku: str, stock_id: int = DEFAULT_STOCK_ID) -> bool:
        route = f"/V1/inventory/is-product-salable/{seg(sku)}/{stock_id}"
        return parse_bool(await self._client.request("GET", route))

    async def are_salable(self, skus: Sequence[str], stock_id: int = DEFAULT_STOCK_ID) -> list[SalableResult]:
        params = [*((f"skus[{i}]", sku) for i, sku in enumerate(skus)), ("stockId", str(stock_id))]
        return parse_list(
            SalableResult, await self._client.request("GET", "/V1/inventory/are-products-salable", params=params)
        )

    # ---- legacy single stock --------------------------------------------------------------------------------

    async def stock_item(self, sku: str) -> StockItem:
        """The legacy stock item (under MSI it mirrors the ``default`` source only)."""
        return StockItem.model_validate(await self._client.request("GET", f"/V1/stockItems/{seg(sku)}"))

    async def update_stock_item(self, sku: str, item_id: int, stock_item: StockItemInput) -> int:
        """Legacy stock write: under MSI it changes the ``default`` source only. Returns the item id."""
        route = f"/V1/products/{seg(sku)}/stockItems/{item_id}"
        body = {"stockItem": stock_item.wire()}
        return parse_id(await self._client.request("PUT", route, store=ALL_STORES, json=body), "stock item")

    async def stock_status(self, sku: str) -> StockStatus:
        return StockStatus.model_validate(await self._client.request("GET", f"/V1/stockStatuses/{seg(sku)}"))
