"""Items, variations and the per-variation links: barcodes, sales prices, categories, clients, texts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from plentysync.plenty.models.items import (
    BarcodeType,
    BarcodeWrite,
    CategoryLinkWrite,
    ClientLinkWrite,
    DescriptionWrite,
    Item,
    ItemCreate,
    SalesPriceWrite,
    Variation,
    VariationBarcode,
    VariationCategory,
    VariationClient,
    VariationCreate,
    VariationDescription,
    VariationSalesPrice,
    VariationUpdate,
)
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient


class ItemsResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    @staticmethod
    def _variation_path(item_id: int, variation_id: int, tail: str = "") -> str:
        return f"/rest/items/{item_id}/variations/{variation_id}{tail}"

    # -- items --------------------------------------------------------------------------------

    def list_items(
        self,
        *,
        updated_between: str | None = None,
        lang: str | None = None,
        with_: Sequence[str] = (),
        items_per_page: int | None = None,
    ) -> AsyncIterator[Item]:
        """Stream items; ``updated_between`` is ``"<from>[,<to>]"`` (unix seconds or W3C)."""
        params = query({"updatedBetween": updated_between, "lang": lang}, with_=with_)
        return self.client.paginate("/rest/items", Item, params, items_per_page=items_per_page)

    async def get_item(self, item_id: int, *, lang: str | None = None) -> Item:
        return await self.client.get_one(f"/rest/items/{item_id}", Item, query({"lang": lang}))

    async def create_item(self, item: ItemCreate) -> Item:
        """Create an item with its variations (NOT idempotent: look the variation number up first)."""
        return await self.client.write_one("POST", "/rest/items", Item, json=item.payload())

    # -- variations ---------------------------------------------------------------------------

    def search_variations(
        self,
        *,
        number_exact: str | None = None,
        barcode: str | None = None,
        ids: Sequence[int] = (),
        item_id: int | None = None,
        updated_between: str | None = None,
        related_updated_between: str | None = None,
        plenty_id: int | None = None,
        with_: Sequence[str] = (),
        items_per_page: int | None = None,
    ) -> AsyncIterator[Variation]:
        """Stream ``/rest/items/variations`` (this route answers 422 for unknown filters, so only
        known ones are sent)."""
        params = query(
            {
                "numberExact": number_exact,
                "barcode": barcode,
                "id": ",".join(map(str, ids)) if ids else None,
                "itemId": item_id,
                "updatedBetween": updated_between,
                "relatedUpdatedBetween": related_updated_between,
                "plentyId": plenty_id,
            },
            with_=with_,
        )
        return self.client.paginate("/rest/items/variations", Variation, params, items_per_page=items_per_page)

    async def find_variation_by_number(self, number: str, *, with_: Sequence[str] = ()) -> Variation | None:
        """The variation whose number (the SKU-like key) is exactly ``number``, if any."""
        async for variation in self.search_variations(number_exact=number, with_=with_):
            if variation.number == number:
                return variation
        return None

    def list_variations(
        self, item_id: int, *, with_: Sequence[str] = (), items_per_page: int | None = None
    ) -> AsyncIterator[Variation]:
        params = query({}, with_=with_)
        path = f"/rest/items/{item_id}/variations"
        return self.client.paginate(path, Variation, params, items_per_page=items_per_page)

    async def get_variation(self, item_id: int, variation_id: int, *, with_: Sequence[str] = ()) -> Variation:
        path = self._variation_path(item_id, variation_id)
        return await self.client.get_one(path, Variation, query({}, with_=with_))

    async def create_variation(self, item_id: int, variation: VariationCreate) -> Variation:
        """Add a variation to an item (NOT idempotent)."""
        body = variation.model_copy(update={"itemId": item_id}).payload()
        return await self.client.write_one("POST", f"/rest/items/{item_id}/variations", Variation, json=body)

    async def update_variation(self, item_id: int, variation_id: int, update: VariationUpdate) -> Variation:
        path = self._variation_path(item_id, variation_id)
        return await self.client.write_one("PUT", path, Variation, json=update.payload())

    # -- barcodes -----------------------------------------------------------------------------

    async def list_barcodes(self, item_id: int, variation_id: int) -> list[VariationBarcode]:
        path = self._variation_path(item_id, variation_id, "/variation_barcodes")
        return await self.client.get_list(path, VariationBarcode)

    async def add_barcode(self, item_id: int, variation_id: int, barcode_id: int, code: str) -> VariationBarcode:
        """Link a barcode; (barcodeId, code) must be unique, a duplicate answers 4xx."""
        path = self._variation_path(item_id, variation_id, "/variation_barcodes")
        body = BarcodeWrite(variationId=variation_id, barcodeId=barcode_id, code=code).payload()
        return await self.client.write_one("POST", path, VariationBarcode, json=body)

    async def update_barcode(self, item_id: int, variation_id: int, barcode_id: int, code: str) -> VariationBarcode:
        path = self._variation_path(item_id, variation_id, f"/variation_barcodes/{barcode_id}")
        body = BarcodeWrite(variationId=variation_id, barcodeId=barcode_id, code=code).payload()
        return await self.client.write_one("PUT", path, VariationBarcode, json=body)

    async def delete_barcode(self, item_id: int, variation_id: int, barcode_id: int) -> None:
        path = self._variation_path(item_id, variation_id, f"/variation_barcodes/{barcode_id}")
        await self.client.call("DELETE", path)

    def barcode_types(self) -> AsyncIterator[BarcodeType]:
        """The barcode *types* (``GTIN_13`` …) whose ids :meth:`add_barcode` takes."""
        return self.client.paginate("/rest/items/barcodes", BarcodeType)

    # -- sales prices -------------------------------------------------------------------------

    async def list_sales_prices(self, item_id: int, variation_id: int) -> list[VariationSalesPrice]:
        path = self._variation_path(item_id, variation_id, "/variation_sales_prices")
        return await self.client.get_list(path, VariationSalesPrice)

    async def add_sales_price(self, item_id: int, variation_id: int, price: SalesPriceWrite) -> VariationSalesPrice:
        path = self._variation_path(item_id, variation_id, "/variation_sales_prices")
        return await self.client.write_one("POST", path, VariationSalesPrice, json=price.payload())

    async def update_sales_price(self, item_id: int, variation_id: int, price: SalesPriceWrite) -> VariationSalesPrice:
        path = self._variation_path(item_id, variation_id, f"/variation_sales_prices/{price.salesPriceId}")
        return await self.client.write_one("PUT", path, VariationSalesPrice, json=price.payload())

    # -- categories, clients ------------------------------------------------------------------

    async def list_categories(self, item_id: int, variation_id: int) -> list[VariationCategory]:
        path = self._variation_path(item_id, variation_id, "/variation_categories")
        return await self.client.get_list(path, VariationCategory)

    async def link_category(
        self, item_id: int, variation_id: int, category_id: int, *, position: int | None = None
    ) -> VariationCategory:
        path = self._variation_path(item_id, variation_id, "/variation_categories")
        body = CategoryLinkWrite(variationId=variation_id, categoryId=category_id, position=position).payload()
        return await self.client.write_one("POST", path, VariationCategory, json=body)

    async def unlink_category(self, item_id: int, variation_id: int, category_id: int) -> None:
        path = self._variation_path(item_id, variation_id, f"/variation_categories/{category_id}")
        await self.client.call("DELETE", path)

    async def list_clients(self, item_id: int, variation_id: int) -> list[VariationClient]:
        path = self._variation_path(item_id, variation_id, "/variation_clients")
        return await self.client.get_list(path, VariationClient)

    async def link_client(self, item_id: int, variation_id: int, plenty_id: int) -> VariationClient:
        """Make the variation visible in the webstore ``plenty_id`` (its ``storeIdentifier``)."""
        path = self._variation_path(item_id, variation_id, "/variation_clients")
        body = ClientLinkWrite(variationId=variation_id, plentyId=plenty_id).payload()
        return await self.client.write_one("POST", path, VariationClient, json=body)

    async def unlink_client(self, item_id: int, variation_id: int, plenty_id: int) -> None:
        path = self._variation_path(item_id, variation_id, f"/variation_clients/{plenty_id}")
        await self.client.call("DELETE", path)

    # -- texts --------------------------------------------------------------------------------

    async def list_texts(self, item_id: int, variation_id: int) -> list[VariationDescription]:
        """Item texts per language (stored on the item, whatever the path says)."""
        path = self._variation_path(item_id, variation_id, "/descriptions")
        return await self.client.get_list(path, VariationDescription)

    async def create_text(self, item_id: int, variation_id: int, text: DescriptionWrite) -> VariationDescription:
        path = self._variation_path(item_id, variation_id, "/descriptions")
        body = text.model_copy(update={"itemId": item_id}).payload()
        return await self.client.write_one("POST", path, VariationDescription, json=body)

    async def update_text(self, item_id: int, variation_id: int, text: DescriptionWrite) -> VariationDescription:
        path = self._variation_path(item_id, variation_id, f"/descriptions/{text.lang}")
        body = text.model_copy(update={"itemId": item_id}).payload()
        return await self.client.write_one("PUT", path, VariationDescription, json=body)
