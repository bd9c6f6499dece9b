# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Orders and their reference data. ``statusId`` and ``referrerId`` are decimals (``5.7``, ``2.08``)."""

from __future__ import annotations

from typing import Any

from plentysync.plenty.models.base import RequestModel, W3CDateTime, WireDecimal, WireModel


class OrderProperty(WireModel):
    orderId: int | None = None
    typeId: int | None = None
    value: str | None = None


class OrderDate(WireModel):
    orderId: int | None = None
    typeId: int | None = None
    date: str | None = None


class OrderRelation(WireModel):
    orderId: int | None = None
    referenceType: str | None = None
    referenceId: int | None = None
    relation: str | None = None


class AddressRelation(WireModel):
    id: int | None = None
    orderId: int | None = None
    typeId: int | None = None
    addressId: int | None = None


class OrderAmount(WireModel):
    id: int | None = None
    isSystemCurrency: bool | None = None
    isNet: bool | None = None
    currency: str | None = None
    exchangeRate: WireDecimal | None = None
    netTotal: WireDecimal | None = None
    grossTotal: WireDecimal | None = None
    vatTotal: WireDecimal | None = None
    invoiceTotal: WireDecimal | None = None
    paidAmount: WireDecimal | None = None
    shippingCostsGross: WireDecimal | None = None


class OrderItemAmount(WireModel):
    id: int | None = None
    isSystemCurrency: bool | None = None
    currency: str | None = None
    exchangeRate: WireDecimal | None = None
    priceOriginalGross: WireDecimal | None = None
    priceOriginalNet: WireDecimal | None = None
    priceGross: WireDecimal | None = None
    priceNet: WireDecimal | None = None
    discount: WireDecimal | None = None
    isPercentage: bool | None = None


class OrderItem(WireModel):
    id: int | None = None
    orderId: int | None = None
    typeId: int | None = None
    referrerId: WireDecimal | None = None
    itemVariationId: int | None = None
    quantity: WireDecimal | None = None
    orderItemName: str | None = None
    countryVatId: int | None = None
    vatField: int | None = None
    vatRate: WireDecimal | None = None
    warehouseId: int | None = None
    amounts: list[OrderItemAmount] | None = None
    properties: list[dict[str, Any]] | None = None


class Order(WireModel):
    id: int | None = None
    typeId: int | None = None
    plentyId: int | None = None
    statusId: WireDecimal | None = None
    statusName: str | None = None
    referrerId: WireDecimal | None = None
    ownerId: int | None = None
    locationId: int | None = None
    lockStatus: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    amounts: list[OrderAmount] | None = None
    properties: list[OrderProperty] | None = None
    dates: list[OrderDate] | None = None
    relations: list[OrderRelation] | None = None
    addressRelations: list[AddressRelation] | None = None
    orderItems: list[OrderItem] | None = None
    addresses: list[dict[str, Any]] | None = None
    payments: list[dict[str, Any]] | None = None
    shippingPackages: list[dict[str, Any]] | None = None

    def property_value(self, type_id: int) -> str | None:
        """The value of order property ``type_id`` (7 = external order id, 4 = payment status …)."""
        for prop in self.properties or []:
            if prop.typeId == type_id:
                return prop.value
        return None

    @property
    def external_order_id(self) -> str | None:
        return self.property_value(7)


class OrderStatus(WireModel):
    statusId: WireDecimal | None = None
    names: dict[str, str] | list[dict[str, Any]] | None = None
    isErasable: bool | None = None
    isFrontendVisible: bool | None = None
    color: str | None = None


class Referrer(WireModel):
    id: WireDecimal | None = None
    backendName: str | None = None
    name: str | None = None
    isEditable: bool | None = None
    isFilterable: bool | None = None
    orderOwnerId: int | None = None
    origin: str | None = None


class ShippingProfile(WireModel):
    id: int | None = None
    parcelServiceId: int | None = None
    backendName: str | None = None
    priority: int | None = None
    shippingGroup: str | None = None
    isCod: int | bool | None = None
    updatedAt: str | None = None


class ShippingPackage(WireModel):
    id: int | None = None
    orderId: int | None = None
    packageId: int | None = None
    packageNumber: str | None = None
    packageType: int | None = None
    weight: int | None = None
    volume: float | None = None
    isClosed: bool | None = None
    createdAt: str | None = None


# -- requests ---------------------------------------------------------------------------------


class PropertyWrite(RequestModel):
    """An order or order-item property; values are strings on the wire."""

    typeId: int
    value: str


class DateWrite(RequestModel):
    typeId: int
    date: W3CDateTime


class RelationWrite(RequestModel):
    referenceType: str
    referenceId: int
    relation: str


class AddressRelationWrite(RequestModel):
    typeId: int
    addressId: int


class OrderItemAmountWrite(RequestModel):
    currency: str = "EUR"
    priceOriginalGross: WireDecimal
    isSystemCurrency: bool | None = None
    exchangeRate: WireDecimal | None = None
    isNet: bool | None = None
    discount: WireDecimal | None = None
    isPercentage: bool | None = None


class OrderItemWrite(RequestModel):
    typeId: int = 1
    quantity: WireDecimal
    orderItemName: str
    itemVariationId: int | None = None
    referrerId: WireDecimal | None = None
    countryVatId: int | None = None
    vatField: int | None = None
    vatRate: WireDecimal | None = None
    amounts: list[OrderItemAmountWrite] | None = None
    properties: list[PropertyWrite] | None = None


class OrderCreate(RequestModel):
    """``POST /rest/orders``. The spec declares no top-level ``referrerId`` / ``dates``: the referrer
    goes on the order items, where every real client puts it too."""

    typeId: int = 1
    plentyId: int
    statusId: WireDecimal | None = None
    ownerId: int | None = None
    orderItems: list[OrderItemWrite]
    properties: list[PropertyWrite] | None = None
    addressRelations: list[AddressRelationWrite] | None = None
    relations: list[RelationWrite] | None = None


class OrderStatusUpdate(RequestModel):
    statusId: WireDecimal


class ShippingPackageCreate(RequestModel):
    packageId: int
    packageType: int = 0
    packageNumber: str | None = None
    weight: int | None = None
    volume: WireDecimal | None = None
