"""Payments: methods, create, link to an order, look-ups by transaction id and by order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plentysync.plenty.models.payments import Payment, PaymentCreate, PaymentMethod, PaymentOrderRelation
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient

TRANSACTION_ID_PROPERTY = 1


class PaymentsResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    async def methods(self) -> list[PaymentMethod]:
        return await self.client.get_list("/rest/payments/methods", PaymentMethod)

    async def create(self, payment: PaymentCreate) -> Payment:
        """``POST /rest/payments``. NOT idempotent: after an ambiguous failure look the payment up
        with :meth:`find_by_transaction_id` (carry the transaction id as property type 1)."""
        return await self.client.write_one("POST", "/rest/payments", Payment, json=payment.payload(), idempotent=False)

    async def link_to_order(self, payment_id: int, order_id: int) -> PaymentOrderRelation:
        """Assign the payment to the order (Plenty then recomputes the order's payment status).
        Note the singular ``/rest/payment/``."""
        path = f"/rest/payment/{payment_id}/order/{order_id}"
        return await self.client.write_one("POST", path, PaymentOrderRelation, idempotent=True)

    async def find_by_transaction_id(self, transaction_id: str) -> list[Payment]:
        """Payments whose transaction id (property type 1) is ``transaction_id``; deleted ones dropped."""
        path = f"/rest/payments/property/{TRANSACTION_ID_PROPERTY}/{transaction_id}"
        payments = await self.client.get_list(path, Payment)
        return [p for p in payments if not p.is_deleted]

    async def of_order(self, order_id: int) -> list[Payment]:
        return await self.client.get_list(f"/rest/payments/orders/{order_id}", Payment, query({}))
