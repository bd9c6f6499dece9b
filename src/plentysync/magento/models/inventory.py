"""MSI sources, stocks, links and source items; legacy stock items and statuses."""

from __future__ import annotations

from plentysync.magento.dates import MagentoDateTime
from plentysync.magento.models.common import Bool, Float, Int, RequestModel, WireModel

SOURCE_ITEM_IN_STOCK = 1
SOURCE_ITEM_OUT_OF_STOCK = 0


class Source(WireModel):
    source_code: str | None = None
    name: str | None = None
    enabled: Bool = None
    description: str | None = None
    country_id: str | None = None
    postcode: str | None = None
    city: str | None = None
    street: str | None = None
    region_id: Int = None
    email: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    latitude: Float = None
    longitude: Float = None
    use_default_carrier_config: Bool = None


class SalesChannel(WireModel):
    type: str | None = None
    code: str | None = None


class StockExtension(WireModel):
    sales_channels: list[SalesChannel] | None = None


class Stock(WireModel):
    stock_id: Int = None
    name: str | None = None
    extension_attributes: StockExtension | None = None


class StockSourceLink(WireModel):
    stock_id: Int = None
    source_code: str | None = None
    priority: Int = None


class SourceItem(WireModel):
    sku: str | None = None
    source_code: str | None = None
    quantity: Float = None
    status: Int = None


class SalableResult(WireModel):
    sku: str | None = None
    stock_id: Int = None
    salable: Bool = None


class StockItem(WireModel):
    item_id: Int = None
    product_id: Int = None
    stock_id: Int = None
    qty: Float = None
    is_in_stock: Bool = None
    is_qty_decimal: Bool = None
    manage_stock: Bool = None
    use_config_manage_stock: Bool = None
    min_qty: Float = None
    min_sale_qty: Float = None
    max_sale_qty: Float = None
    backorders: Int = None
    use_config_backorders: Bool = None
    notify_stock_qty: Float = None
    low_stock_date: MagentoDateTime = None


class StockStatus(WireModel):
    product_id: Int = None
    stock_id: Int = None
    qty: Float = None
    stock_status: Int = None
    stock_item: StockItem | None = None


# ---- requests -------------------------------------------------------------------------------------------------


class SourceInput(RequestModel):
    source_code: str
    name: str
    enabled: bool = True
    description: str | None = None
    country_id: str = "DE"
    postcode: str = "00000"
    city: str | None = None
    street: str | None = None
    region_id: int | None = None
    email: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    use_default_carrier_config: bool | None = None


class SalesChannelInput(RequestModel):
    type: str = "website"
    code: str


class StockExtensionInput(RequestModel):
    sales_channels: list[SalesChannelInput] | None = None


class StockInput(RequestModel):
    stock_id: int | None = None
    name: str
    extension_attributes: StockExtensionInput | None = None


class StockSourceLinkInput(RequestModel):
    stock_id: int
    source_code: str
    priority: int = 1


class SourceItemInput(RequestModel):
    """Physical on-hand quantity of ``sku`` at ``source_code`` (absolute, not a delta)."""

    sku: str
    source_code: str
    quantity: float
    status: int = SOURCE_ITEM_IN_STOCK


class SourceItemKey(RequestModel):
    sku: str
    source_code: str


class StockItemInput(RequestModel):
    """Legacy stock item fields a client sets (the spec's required list describes the response getter)."""

    qty: float | None = None
    is_in_stock: bool | None = None
    manage_stock: bool | None = None
    use_config_manage_stock: bool | None = None
    backorders: int | None = None
    use_config_backorders: bool | None = None
    min_sale_qty: float | None = None
    max_sale_qty: float | None = None
    notify_stock_qty: float | None = None
    is_qty_decimal: bool | None = None
