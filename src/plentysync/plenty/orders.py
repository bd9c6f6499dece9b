"""Orders: create, look up, poll, update status; statuses, referrers, shipping profiles, packages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from plentysync.plenty.models.base import w3c
from plentysync.plenty.models.orders import (
    Order,
    OrderCreate,
    OrderStatus,
    OrderStatusUpdate,
    Referrer,
    ShippingPackage,
    ShippingPackageCreate,
    ShippingProfile,
)
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient


class OrdersResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    async def create(self, order: OrderCreate) -> Order:
        """``POST /rest/orders``. NOT idempotent and there is no idempotency key: a 5xx or a dropped
        connection raises :class:`~plentysync.errors.OutcomeUnknownError`, after which the caller
        must :meth:`find_by_external_order_id` before creating again (duplicate orders otherwise)."""
        return await self.client.write_one("POST", "/rest/orders", Order, json=order.payload(), idempotent=False)

    async def get(self, order_id: int, *, with_: Sequence[str] = ()) -> Order:
        return await self.client.get_one(f"/rest/orders/{order_id}", Order, query({}, with_=with_))

    async def find_by_external_order_id(
        self, external_id: str, plenty_id: int | None = None, *, with_: Sequence[str] = ()
    ) -> list[Order]:
        """Orders whose external order id (property 7) is ``external_id``, optionally of one plentyId.
        The reconcile step before (re)creating an order."""
        params = query({"externalOrderId": external_id, "clientId": plenty_id}, with_=with_)
        found: list[Order] = []
        async for order in self.client.paginate("/rest/orders", Order, params):
            if order.external_order_id not in (None, external_id):
                continue
            if plenty_id is not None and order.plentyId not in (None, plenty_id):
                continue
            found.append(order)
        return found

    def list_updated(
        self,
        updated_from: datetime,
        updated_to: datetime | None = None,
        *,
        order_types: Sequence[int] = (),
        plenty_id: int | None = None,
        with_: Sequence[str] = (),
        items_per_page: int | None = None,
    ) -> AsyncIterator[Order]:
        """Poll orders changed in ``[updated_from, updated_to]`` (inclusive bounds, W3C with offset).
        Overlap consecutive windows by a few seconds and de-duplicate by id."""
        params = query(
            {
                "updatedAtFrom": w3c(updated_from),
                "updatedAtTo": None if updated_to is None else w3c(updated_to),
                "orderType": ",".join(map(str, order_types)) if order_types else None,
                "clientId": plenty_id,
            },
            with_=with_,
        )
        return self.client.paginate("/rest/orders", Order, params, items_per_page=items_per_page)

    async def update_status(self, order_id: int, status_id: Decimal) -> Order:
        """Set the order status (a decimal such as ``Decimal("5.1")``; never a float)."""
        if not isinstance(status_id, Decimal):
            raise TypeError(f"status_id must be a Decimal, not {type(status_id).__name__}")
        body = OrderStatusUpdate(statusId=status_id).payload()
        return await self.client.write_one("PUT", f"/rest/orders/{order_id}", Order, json=body)

    def statuses(self) -> AsyncIterator[OrderStatus]:
        return self.client.paginate("/rest/orders/statuses", OrderStatus)

    async def referrers(self) -> list[Referrer]:
        return await self.client.get_list("/rest/orders/referrers", Referrer)

    async def shipping_profiles(self) -> list[ShippingProfile]:
        return await self.client.get_list("/rest/orders/shipping/presets", ShippingProfile)

    async def list_packages(self, order_id: int) -> list[ShippingPackage]:
        return await self.client.get_list(f"/rest/orders/{order_id}/shipping/packages", ShippingPackage)

    async def create_package(self, order_id: int, package: ShippingPackageCreate) -> ShippingPackage:
        """Add a shipping package (tracking number) to an order. NOT idempotent: list first."""
        path = f"/rest/orders/{order_id}/shipping/packages"
        return await self.client.write_one("POST", path, ShippingPackage, json=package.payload(), idempotent=False)
