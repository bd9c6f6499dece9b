"""Orders and their documents (invoices, shipments + tracks, credit memos)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from plentysync.magento.dates import MagentoDateTime
from plentysync.magento.models.common import Float, Int, RequestModel, WireModel


class OrderAddress(WireModel):
    entity_id: Int = None
    parent_id: Int = None
    address_type: str | None = None
    customer_address_id: Int = None
    firstname: str | None = None
    lastname: str | None = None
    company: str | None = None
    street: list[str] | None = None
    city: str | None = None
    postcode: str | None = None
    region: str | None = None
    region_code: str | None = None
    region_id: Int = None
    country_id: str | None = None
    telephone: str | None = None
    email: str | None = None
    vat_id: str | None = None


class OrderItem(WireModel):
    item_id: Int = None
    order_id: Int = None
    parent_item_id: Int = None
    product_id: Int = None
    product_type: str | None = None
    sku: str | None = None
    name: str | None = None
    qty_ordered: Float = None
    qty_invoiced: Float = None
    qty_shipped: Float = None
    qty_refunded: Float = None
    qty_canceled: Float = None
    price: Float = None
    base_price: Float = None
    price_incl_tax: Float = None
    row_total: Float = None
    row_total_incl_tax: Float = None
    tax_amount: Float = None
    tax_percent: Float = None
    discount_amount: Float = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None


class KeyValue(WireModel):
    key: str | None = None
    value: Any = None


class Payment(WireModel):
    entity_id: Int = None
    parent_id: Int = None
    method: str | None = None
    additional_information: list[Any] | None = None
    amount_ordered: Float = None
    amount_paid: Float = None
    cc_last4: str | None = None


class StatusHistory(WireModel):
    entity_id: Int = None
    parent_id: Int = None
    comment: str | None = None
    status: str | None = None
    is_customer_notified: Int = None
    is_visible_on_front: Int = None
    entity_name: str | None = None
    created_at: MagentoDateTime = None


class ShippingTotal(WireModel):
    shipping_amount: Float = None
    shipping_incl_tax: Float = None
    shipping_tax_amount: Float = None


class Shipping(WireModel):
    address: OrderAddress | None = None
    method: str | None = None
    total: ShippingTotal | None = None


class ShippingAssignment(WireModel):
    shipping: Shipping | None = None
    items: list[OrderItem] | None = None


class OrderExtension(WireModel):
    shipping_assignments: list[ShippingAssignment] | None = None
    payment_additional_info: list[KeyValue] | None = None


class Order(WireModel):
    entity_id: Int = None
    increment_id: str | None = None
    state: str | None = None
    status: str | None = None
    store_id: Int = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None
    customer_id: Int = None
    customer_is_guest: Int = None
    customer_email: str | None = None
    customer_firstname: str | None = None
    customer_lastname: str | None = None
    customer_group_id: Int = None
    base_currency_code: str | None = None
    order_currency_code: str | None = None
    grand_total: Float = None
    base_grand_total: Float = None
    subtotal: Float = None
    tax_amount: Float = None
    shipping_amount: Float = None
    shipping_description: str | None = None
    discount_amount: Float = None
    total_paid: Float = None
    total_invoiced: Float = None
    total_refunded: Float = None
    total_qty_ordered: Float = None
    ext_order_id: str | None = None
    items: list[OrderItem] | None = None
    billing_address: OrderAddress | None = None
    payment: Payment | None = None
    status_histories: list[StatusHistory] | None = None
    extension_attributes: OrderExtension | None = None

    @property
    def shipping_address(self) -> OrderAddress | None:
        """The shipping address lives only in ``extension_attributes.shipping_assignments[0]``."""
        ext = self.extension_attributes
        if ext is None or not ext.shipping_assignments:
            return None
        shipping = ext.shipping_assignments[0].shipping
        return shipping.address if shipping else None

    @property
    def payment_info(self) -> dict[str, Any]:
        """Named payment data (``payment_additional_info``); ``payment.additional_information`` is positional."""
        ext = self.extension_attributes
        return {kv.key: kv.value for kv in (ext.payment_additional_info or []) if kv.key} if ext else {}

    @property
    def lines(self) -> list[OrderItem]:
        """Items without the children of configurable/bundle parents (the parent carries the price)."""
        return [item for item in self.items or () if item.parent_item_id is None]


class DocumentItem(WireModel):
    entity_id: Int = None
    order_item_id: Int = None
    sku: str | None = None
    qty: Float = None
    price: Float = None


class DocumentComment(WireModel):
    entity_id: Int = None
    parent_id: Int = None
    comment: str | None = None
    created_at: MagentoDateTime = None


class Invoice(WireModel):
    entity_id: Int = None
    increment_id: str | None = None
    order_id: Int = None
    state: Int = None
    grand_total: Float = None
    total_qty: Float = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None
    items: list[DocumentItem] | None = None
    comments: list[DocumentComment] | None = None


class ShipmentTrack(WireModel):
    entity_id: Int = None
    order_id: Int = None
    parent_id: Int = None
    track_number: str | None = None
    title: str | None = None
    carrier_code: str | None = None
    qty: Float = None
    weight: Float = None
    description: str | None = None
    created_at: MagentoDateTime = None


class ShipmentExtension(WireModel):
    source_code: str | None = None


class Shipment(WireModel):
    entity_id: Int = None
    increment_id: str | None = None
    order_id: Int = None
    total_qty: Float = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None
    items: list[DocumentItem] | None = None
    tracks: list[ShipmentTrack] | None = None
    comments: list[DocumentComment] | None = None
    extension_attributes: ShipmentExtension | None = None


class Creditmemo(WireModel):
    entity_id: Int = None
    increment_id: str | None = None
    order_id: Int = None
    invoice_id: Int = None
    state: Int = None
    grand_total: Float = None
    adjustment_positive: Float = None
    adjustment_negative: Float = None
    shipping_amount: Float = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None
    items: list[DocumentItem] | None = None


# ---- requests -------------------------------------------------------------------------------------------------


class StatusHistoryInput(RequestModel):
    """A comment. Always send ``status`` (the current one when only commenting): some versions set the status
    to NULL when it is missing, others change the status with it, 2.4.7 ignores it."""

    comment: str
    status: str | None = None
    is_customer_notified: int = 0
    is_visible_on_front: int = 0
    parent_id: int | None = None


class ItemQty(RequestModel):
    order_item_id: int
    qty: float


class CommentInput(RequestModel):
    comment: str
    is_visible_on_front: int = 0


class TrackInput(RequestModel):
    track_number: str
    title: str
    carrier_code: str = "custom"


class ShipmentTrackInput(RequestModel):
    """A track added to an existing shipment; the spec marks every field required, so all are sent."""

    order_id: int
    parent_id: int
    track_number: str
    title: str
    carrier_code: str = "custom"
    qty: float = 1
    weight: float = 0
    description: str = ""


class CreditmemoArgumentsExtension(RequestModel):
    return_to_stock_items: list[int] | None = None


class CreditmemoArguments(RequestModel):
    shipping_amount: float | None = None
    adjustment_positive: float | None = None
    adjustment_negative: float | None = None
    extension_attributes: CreditmemoArgumentsExtension | None = None


class OrderInput(RequestModel):
    """A full ``sales-data-order-interface`` for the raw ``POST /V1/orders`` (``OrderRepository::save``).

    No quote, no totals, no reservations and no emails: every amount, item, address and the payment must be
    consistent already. The spec's order interface has well over a hundred fields, so this model types the
    ones an import sets and passes the others through unchanged."""

    model_config = ConfigDict(extra="allow")

    increment_id: str | None = None
    ext_order_id: str | None = None
    state: str | None = None
    status: str | None = None
    store_id: int | None = None
    customer_id: int | None = None
    customer_is_guest: int | None = None
    customer_email: str
    customer_firstname: str | None = None
    customer_lastname: str | None = None
    base_currency_code: str | None = None
    order_currency_code: str | None = None
    grand_total: float
    base_grand_total: float
    subtotal: float | None = None
    base_subtotal: float | None = None
    shipping_amount: float | None = None
    tax_amount: float | None = None
    total_qty_ordered: float | None = None
    items: list[dict[str, Any]]
    billing_address: dict[str, Any] | None = None
    payment: dict[str, Any]
    extension_attributes: dict[str, Any] | None = None
