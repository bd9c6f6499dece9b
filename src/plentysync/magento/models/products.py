"""Products, configurable options, media entries and prices: parsers and request models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from plentysync.magento.dates import MagentoDateTime
from plentysync.magento.models.common import (
    Bool,
    CustomAttributeInput,
    Float,
    HasCustomAttributes,
    Int,
    RequestModel,
    WireModel,
)
from plentysync.magento.models.inventory import StockItem, StockItemInput

ProductType = Literal["simple", "virtual", "configurable", "bundle", "grouped", "downloadable", "giftcard"]
STATUS_ENABLED = 1
STATUS_DISABLED = 2
VISIBILITY_NOT_VISIBLE = 1
VISIBILITY_CATALOG_SEARCH = 4


class CategoryLink(WireModel):
    position: Int = None
    category_id: Int = None


class ConfigurableValue(WireModel):
    value_index: Int = None


class ConfigurableOption(WireModel):
    id: Int = None
    attribute_id: Int = None
    label: str | None = None
    position: Int = None
    is_use_default: Bool = None
    values: list[ConfigurableValue] | None = None
    product_id: Int = None


class ProductExtension(WireModel):
    website_ids: list[int] | None = None
    category_links: list[CategoryLink] | None = None
    stock_item: StockItem | None = None
    configurable_product_options: list[ConfigurableOption] | None = None
    configurable_product_links: list[int] | None = None


class MediaEntry(WireModel):
    id: Int = None
    media_type: str | None = None
    label: str | None = None
    position: Int = None
    disabled: Bool = None
    types: list[str] | None = None
    file: str | None = None


class TierPrice(WireModel):
    customer_group_id: Int = None
    qty: Float = None
    value: Float = None


class Product(HasCustomAttributes):
    id: Int = None
    sku: str | None = None
    name: str | None = None
    attribute_set_id: Int = None
    price: Float = None
    status: Int = None
    visibility: Int = None
    type_id: str | None = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None
    weight: Float = None
    extension_attributes: ProductExtension | None = None
    product_links: list[dict[str, Any]] | None = None
    options: list[dict[str, Any]] | None = None
    media_gallery_entries: list[MediaEntry] | None = None
    tier_prices: list[TierPrice] | None = None

    @property
    def website_ids(self) -> list[int]:
        ext = self.extension_attributes
        return list(ext.website_ids or []) if ext else []

    @property
    def child_ids(self) -> list[int]:
        """The product ids of a configurable's children."""
        ext = self.extension_attributes
        return list(ext.configurable_product_links or []) if ext else []


class ProductTypeInfo(WireModel):
    name: str | None = None
    label: str | None = None


class BasePrice(WireModel):
    sku: str | None = None
    price: Float = None
    store_id: Int = None


class PriceUpdateResult(WireModel):
    """One failure of a price-storage call (an empty list means every price was saved)."""

    message: str | None = None
    parameters: Any = None


# ---- requests -------------------------------------------------------------------------------------------------


class CategoryLinkInput(RequestModel):
    category_id: str
    position: int | None = None


class ConfigurableValueInput(RequestModel):
    value_index: int


class ConfigurableOptionInput(RequestModel):
    attribute_id: str
    label: str | None = None
    position: int | None = None
    is_use_default: bool | None = None
    values: list[ConfigurableValueInput] = Field(default_factory=list)


class ProductExtensionInput(RequestModel):
    """Array fields replace the stored set: leave a field ``None`` (omitted) to keep it, ``[]`` clears it."""

    website_ids: list[int] | None = None
    category_links: list[CategoryLinkInput] | None = None
    stock_item: StockItemInput | None = None
    configurable_product_options: list[ConfigurableOptionInput] | None = None
    configurable_product_links: list[int] | None = None


class ImageContent(RequestModel):
    base64_encoded_data: str
    type: str
    name: str


class MediaEntryInput(RequestModel):
    id: int | None = None
    media_type: str = "image"
    label: str = ""
    position: int = 0
    disabled: bool = False
    types: list[str] = Field(default_factory=list)
    file: str | None = None
    content: ImageContent | None = None


class ProductInput(RequestModel):
    """``catalog-data-product-interface`` for POST/PUT. Send only what should change: on a store-view path
    every field sent becomes a store-view override."""

    sku: str
    name: str | None = None
    attribute_set_id: int | None = None
    price: float | None = None
    status: int | None = None
    visibility: int | None = None
    type_id: ProductType | None = None
    weight: float | None = None
    extension_attributes: ProductExtensionInput | None = None
    custom_attributes: list[CustomAttributeInput] | None = None
    media_gallery_entries: list[MediaEntryInput] | None = None


class BasePriceInput(RequestModel):
    sku: str
    price: float
    store_id: int = 0
