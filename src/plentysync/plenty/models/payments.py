# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Payments, payment methods and the payment ↔ order relation."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from plentysync.plenty.models.base import RequestModel, WireDecimal, WireModel


class PaymentMethod(WireModel):
    id: int | None = None
    pluginKey: str | None = None
    paymentKey: str | None = None
    name: str | None = None
    isDocumentBuilderActive: bool | None = None


class PaymentProperty(WireModel):
    id: int | None = None
    typeId: int | None = None
    value: str | None = None


class Payment(WireModel):
    id: int | None = None
    amount: WireDecimal | None = None
    exchangeRatio: WireDecimal | None = None
    mopId: int | None = None
    currency: str | None = None
    type: str | None = None
    status: int | None = None
    transactionType: int | None = None
    deleted: bool | int | None = None
    isSystemCurrency: bool | None = None
    receivedAt: str | None = None
    properties: list[PaymentProperty] | None = None

    @property
    def is_deleted(self) -> bool:
        return bool(self.deleted)


class PaymentOrderRelation(WireModel):
    id: int | None = None
    paymentId: int | None = None
    orderId: int | None = None
    assignedAt: str | None = None


class PaymentPropertyWrite(RequestModel):
    typeId: int
    value: str


class PaymentCreate(RequestModel):
    """``POST /rest/payments``. The spec declares neither ``properties`` nor ``receivedAt``; the
    transaction id (property type 1) is what :meth:`find_by_transaction_id` searches, so the servers'
    ``properties`` list is sent (notes §10)."""

    amount: WireDecimal
    exchangeRatio: WireDecimal = Decimal(1)
    mopId: int
    currency: str = "EUR"
    type: Literal["credit", "debit"] = "credit"
    status: int = 2
    transactionType: int = 2
    properties: list[PaymentPropertyWrite] | None = None
