# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Items, variations and what hangs off a variation (barcodes, prices, categories, clients, texts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from plentysync.plenty.models.base import RequestModel, WireDecimal, WireModel


class ItemText(WireModel):
    """``texts[]`` inside an item (``name1``…) — not the ``/descriptions`` shape (``name``…)."""

    lang: str | None = None
    name1: str | None = None
    name2: str | None = None
    name3: str | None = None
    shortDescription: str | None = None
    description: str | None = None
    urlPath: str | None = None


class VariationBarcode(WireModel):
    variationId: int | None = None
    barcodeId: int | None = None
    code: str | None = None
    createdAt: str | None = None


class VariationSalesPrice(WireModel):
    variationId: int | None = None
    salesPriceId: int | None = None
    price: WireDecimal | None = None
    updatedAt: str | None = None
    createdAt: str | None = None


class VariationCategory(WireModel):
    variationId: int | None = None
    categoryId: int | None = None
    position: int | None = None
    isNeckermannPrimary: bool | str | None = None


class VariationClient(WireModel):
    variationId: int | None = None
    plentyId: int | None = None
    createdAt: str | None = None


class VariationDescription(WireModel):
    """A text record of ``…/descriptions`` (stored per item, whatever the path says)."""

    id: int | None = None
    itemId: int | None = None
    lang: str | None = None
    name: str | None = None
    name2: str | None = None
    name3: str | None = None
    previewDescription: str | None = None
    metaDescription: str | None = None
    description: str | None = None
    technicalData: str | None = None
    urlPath: str | None = None
    metaKeywords: str | None = None


class Variation(WireModel):
    id: int | None = None
    itemId: int | None = None
    isMain: bool | None = None
    mainVariationId: int | None = None
    isActive: bool | None = None
    number: str | None = None
    model: str | None = None
    externalId: str | None = None
    name: str | None = None
    mainWarehouseId: int | None = None
    purchasePrice: WireDecimal | None = None
    weightG: int | None = None
    vatId: int | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    relatedUpdatedAt: str | None = None
    variationBarcodes: list[VariationBarcode] | None = None
    variationSalesPrices: list[VariationSalesPrice] | None = None
    variationCategories: list[VariationCategory] | None = None
    variationClients: list[VariationClient] | None = None
    variationAttributeValues: list[dict[str, Any]] | None = None
    stock: list[dict[str, Any]] | None = None


class Item(WireModel):
    id: int | None = None
    mainVariationId: int | None = None
    manufacturerId: int | None = None
    stockType: int | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    texts: list[ItemText] | None = None
    variations: list[Variation] | None = None


class BarcodeType(WireModel):
    """A barcode *type* of ``/rest/items/barcodes`` (``GTIN_13`` …)."""

    id: int | None = None
    name: str | None = None
    type: str | None = None
    updatedAt: str | None = None


class SalesPrice(WireModel):
    """A sales price configuration (``/rest/items/sales_prices``); ``-1`` in its lists means "all"."""

    id: int | None = None
    position: int | None = None
    type: str | None = None
    minimumOrderQuantity: float | None = None
    isCustomerPrice: bool | None = None
    names: list[dict[str, Any]] | None = None
    clients: list[dict[str, Any]] | None = None
    currencies: list[dict[str, Any]] | None = None
    referrers: list[dict[str, Any]] | None = None
    updatedAt: str | None = None


# -- requests ---------------------------------------------------------------------------------


class UnitLink(RequestModel):
    unitId: int
    content: WireDecimal = Decimal(1)


class CategoryRef(RequestModel):
    categoryId: int
    position: int | None = None


class ClientRef(RequestModel):
    plentyId: int


class BarcodeRef(RequestModel):
    barcodeId: int
    code: str


class SalesPriceRef(RequestModel):
    salesPriceId: int
    price: WireDecimal


class VariationCreate(RequestModel):
    """A variation inside ``POST /rest/items`` or for ``POST /rest/items/{itemId}/variations``.

    The spec types ``unit`` as an array and declares few fields on the item route; the servers take
    ``unit`` as an object and the nested link lists (notes §6.4) — the servers win."""

    itemId: int | None = None
    number: str | None = None
    name: str | None = None
    model: str | None = None
    externalId: str | None = None
    isActive: bool | None = None
    mainWarehouseId: int | None = None
    purchasePrice: WireDecimal | None = None
    weightG: int | None = None
    vatId: int | None = None
    unit: UnitLink | None = None
    variationCategories: list[CategoryRef] | None = None
    variationClients: list[ClientRef] | None = None
    variationBarcodes: list[BarcodeRef] | None = None
    variationSalesPrices: list[SalesPriceRef] | None = None


class ItemCreate(RequestModel):
    manufacturerId: int | None = None
    stockType: int | None = None
    variations: list[VariationCreate]


class VariationUpdate(RequestModel):
    number: str | None = None
    name: str | None = None
    model: str | None = None
    externalId: str | None = None
    isActive: bool | None = None
    mainWarehouseId: int | None = None
    purchasePrice: WireDecimal | None = None
    weightG: int | None = None
    vatId: int | None = None


class BarcodeWrite(RequestModel):
    variationId: int | None = None
    barcodeId: int
    code: str


class SalesPriceWrite(RequestModel):
    variationId: int
    salesPriceId: int
    price: WireDecimal


class CategoryLinkWrite(RequestModel):
    variationId: int
    categoryId: int
    position: int | None = None


class ClientLinkWrite(RequestModel):
    variationId: int
    plentyId: int


class DescriptionWrite(RequestModel):
    itemId: int | None = None
    lang: str
    name: str | None = None
    name2: str | None = None
    name3: str | None = None
    previewDescription: str | None = None
    metaDescription: str | None = None
    description: str | None = None
    technicalData: str | None = None
    urlPath: str | None = None
    metaKeywords: str | None = None
