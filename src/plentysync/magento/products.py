"""Products of all types: search and get, upsert, delete; configurable options and children; media; website
links; base prices.

Product saves go to ``/rest/all/V1`` by default (global values). Pass ``store=<code>`` to write store-view
values (translations), and then send only the fields to override.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from plentysync.errors import RemoteNotFoundError
from plentysync.magento._base import ResourceApi, parse_bool, parse_id, parse_list
from plentysync.magento.client import ALL_STORES, seg
from plentysync.magento.models.common import SearchPage
from plentysync.magento.models.products import (
    BasePrice,
    BasePriceInput,
    ConfigurableOption,
    ConfigurableOptionInput,
    MediaEntry,
    MediaEntryInput,
    PriceUpdateResult,
    Product,
    ProductInput,
    ProductTypeInfo,
)
from plentysync.magento.search import SearchCriteria


class ProductsApi(ResourceApi):
    def pages(
        self,
        criteria: SearchCriteria | None = None,
        *,
        store: str | None = None,
        fields: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[SearchPage[Product]]:
        """Pages of ``GET /V1/products``. The list omits ``stock_item`` and some extension attributes; use
        :meth:`get` or the inventory API when they matter."""
        return self._client.pages("/V1/products", Product, criteria, store=store, fields=fields, page_size=page_size)

    def search(
        self,
        criteria: SearchCriteria | None = None,
        *,
        store: str | None = None,
        fields: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Product]:
        return self._client.items("/V1/products", Product, criteria, store=store, fields=fields, page_size=page_size)

    async def get(self, sku: str, *, store: str | None = None, store_id: int | None = None) -> Product:
        """One product with all extension attributes; raises RemoteNotFoundError if the SKU does not exist."""
        params = {"storeId": store_id} if store_id is not None else None
        body = await self._client.request("GET", f"/V1/products/{seg(sku)}", store=store, params=params)
        return Product.model_validate(body)

    async def find(self, sku: str, *, store: str | None = None) -> Product | None:
        """:meth:`get`, or ``None`` when the SKU does not exist."""
        try:
            return await self.get(sku, store=store)
        except RemoteNotFoundError:
            return None

    async def save(
        self, product: ProductInput, *, store: str = ALL_STORES, save_options: bool | None = None
    ) -> Product:
        """``POST /V1/products``: create, or update when the SKU exists (an upsert, so safe to retry).

        Array fields (``website_ids``, ``category_links``, media, ...) replace the stored set when sent."""
        body: dict[str, object] = {"product": product.wire()}
        if save_options is not None:
            body["saveOptions"] = save_options
        result = await self._client.request("POST", "/V1/products", store=store, json=body, idempotent=True)
        return Product.model_validate(result)

    async def update(
        self, sku: str, product: ProductInput, *, store: str = ALL_STORES, save_options: bool | None = None
    ) -> Product:
        """``PUT /V1/products/{sku}`` (creates the product if missing). With ``store=<code>`` only the fields
        sent become store-view values."""
        body: dict[str, object] = {"product": product.wire()}
        if save_options is not None:
            body["saveOptions"] = save_options
        result = await self._client.request("PUT", f"/V1/products/{seg(sku)}", store=store, json=body)
        return Product.model_validate(result)

    async def delete(self, sku: str) -> bool:
        return parse_bool(await self._client.request("DELETE", f"/V1/products/{seg(sku)}", store=ALL_STORES))

    async def types(self) -> list[ProductTypeInfo]:
        return parse_list(ProductTypeInfo, await self._client.request("GET", "/V1/products/types"))

    # ---- configurable products ------------------------------------------------------------------------------

    async def children(self, sku: str) -> list[Product]:
        """The simple children of configurable ``sku`` (the product list has no parent SKU)."""
        body = await self._client.request("GET", f"/V1/configurable-products/{seg(sku)}/children")
        return parse_list(Product, body)

    async def add_child(self, sku: str, child_sku: str) -> bool:
        body = {"childSku": child_sku}
        route = f"/V1/configurable-products/{seg(sku)}/child"
        return parse_bool(await self._client.request("POST", route, store=ALL_STORES, json=body))

    async def remove_child(self, sku: str, child_sku: str) -> bool:
        route = f"/V1/configurable-products/{seg(sku)}/children/{seg(child_sku)}"
        return parse_bool(await self._client.request("DELETE", route, store=ALL_STORES))

    async def configurable_options(self, sku: str) -> list[ConfigurableOption]:
        body = await self._client.request("GET", f"/V1/configurable-products/{seg(sku)}/options/all")
        return parse_list(ConfigurableOption, body)

    async def add_configurable_option(self, sku: str, option: ConfigurableOptionInput) -> int:
        """Declare a configurable attribute (e.g. size) with its values; returns the option id."""
        route = f"/V1/configurable-products/{seg(sku)}/options"
        return parse_id(
            await self._client.request("POST", route, store=ALL_STORES, json={"option": option.wire()}), "option"
        )

    # ---- media ----------------------------------------------------------------------------------------------

    async def media(self, sku: str) -> list[MediaEntry]:
        return parse_list(MediaEntry, await self._client.request("GET", f"/V1/products/{seg(sku)}/media"))

    async def get_media(self, sku: str, entry_id: int) -> MediaEntry:
        body = await self._client.request("GET", f"/V1/products/{seg(sku)}/media/{entry_id}")
        return MediaEntry.model_validate(body)

    async def add_media(self, sku: str, entry: MediaEntryInput) -> int:
        """Upload an image (``entry.content`` base64); returns the new entry id (sent as a string)."""
        body = {"entry": entry.wire()}
        return parse_id(
            await self._client.request("POST", f"/V1/products/{seg(sku)}/media", store=ALL_STORES, json=body), "media"
        )

    async def update_media(self, sku: str, entry_id: int, entry: MediaEntryInput) -> bool:
        body = {"entry": entry.model_copy(update={"id": entry_id}).wire()}
        route = f"/V1/products/{seg(sku)}/media/{entry_id}"
        return parse_bool(await self._client.request("PUT", route, store=ALL_STORES, json=body))

    async def delete_media(self, sku: str, entry_id: int) -> bool:
        route = f"/V1/products/{seg(sku)}/media/{entry_id}"
        return parse_bool(await self._client.request("DELETE", route, store=ALL_STORES))

    # ---- websites -------------------------------------------------------------------------------------------

    async def assign_website(self, sku: str, website_id: int) -> bool:
        """Assign ``sku`` to a website (assigning twice is harmless, so it is retried like an upsert)."""
        body = {"productWebsiteLink": {"sku": sku, "website_id": website_id}}
        route = f"/V1/products/{seg(sku)}/websites"
        return parse_bool(await self._client.request("POST", route, store=ALL_STORES, json=body, idempotent=True))

    async def unassign_website(self, sku: str, website_id: int) -> bool:
        route = f"/V1/products/{seg(sku)}/websites/{website_id}"
        return parse_bool(await self._client.request("DELETE", route, store=ALL_STORES))

    # ---- prices ---------------------------------------------------------------------------------------------

    async def update_base_prices(self, prices: Sequence[BasePriceInput]) -> list[PriceUpdateResult]:
        """Set base prices through the price-storage API (no full product save). Returns the failures; an
        empty list means all were saved. Note that this does not bump the product's ``updated_at``."""
        body = {"prices": [price.wire() for price in prices]}
        result = await self._client.request(
            "POST", "/V1/products/base-prices", store=ALL_STORES, json=body, idempotent=True
        )
        return parse_list(PriceUpdateResult, result)

    async def base_prices(self, skus: Sequence[str]) -> list[BasePrice]:
        body = {"skus": list(skus)}
        result = await self._client.request("POST", "/V1/products/base-prices-information", json=body, idempotent=True)
        return parse_list(BasePrice, result)
