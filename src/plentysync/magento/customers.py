"""Customers and customer groups.

Address semantics of ``PUT /V1/customers/{id}``: the ``addresses`` sent are the final state, and stored
addresses not among them are deleted; leaving ``addresses`` out keeps them. :meth:`CustomersApi.update`
therefore makes the caller choose: ``addresses=KEEP_ADDRESSES`` or the complete list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from enum import Enum
from typing import Any, Literal

from plentysync.magento._base import ResourceApi, parse_bool
from plentysync.magento.models.customers import AddressInput, Customer, CustomerGroup, CustomerInput
from plentysync.magento.search import SearchCriteria


class _Keep(Enum):
    KEEP = "keep"


KEEP_ADDRESSES: Literal[_Keep.KEEP] = _Keep.KEEP
"""Pass as ``addresses`` to leave the stored addresses as they are."""


class CustomersApi(ResourceApi):
    def search(
        self, criteria: SearchCriteria | None = None, *, page_size: int | None = None
    ) -> AsyncIterator[Customer]:
        """``GET /V1/customers/search``; items may lack detail, use :meth:`get` when it matters."""
        return self._client.items("/V1/customers/search", Customer, criteria, page_size=page_size)

    async def get(self, customer_id: int) -> Customer:
        return Customer.model_validate(await self._client.request("GET", f"/V1/customers/{customer_id}"))

    async def find_by_email(self, email: str, *, website_id: int | None = None) -> Customer | None:
        """The customer with this e-mail (unique per website), e.g. to reconcile after an unknown outcome."""
        criteria = SearchCriteria().where("email", email)
        if website_id is not None:
            criteria = criteria.where("website_id", website_id)
        return await self._client.first("/V1/customers/search", Customer, criteria)

    async def create(
        self, customer: CustomerInput, *, addresses: Sequence[AddressInput] = (), password: str | None = None
    ) -> Customer:
        """Create an account (Magento may send a welcome e-mail). Not retried blindly: after an unknown
        outcome look the customer up with :meth:`find_by_email` first."""
        data = customer.wire()
        if addresses:
            data["addresses"] = [address.wire() for address in addresses]
        body: dict[str, Any] = {"customer": data}
        if password is not None:
            body["password"] = password
        return Customer.model_validate(await self._client.request("POST", "/V1/customers", json=body))

    async def update(
        self,
        customer_id: int,
        customer: CustomerInput,
        *,
        addresses: Sequence[AddressInput] | Literal[_Keep.KEEP],
    ) -> Customer:
        """Full save of the customer. ``addresses`` is either :data:`KEEP_ADDRESSES` (the stored addresses stay)
        or the complete final list: stored addresses without a matching ``id`` in it are deleted."""
        data = {**customer.wire(), "id": customer_id}
        if addresses is not KEEP_ADDRESSES:
            data["addresses"] = [address.wire() for address in addresses]
        body = {"customer": data}
        return Customer.model_validate(await self._client.request("PUT", f"/V1/customers/{customer_id}", json=body))

    async def delete(self, customer_id: int) -> bool:
        return parse_bool(await self._client.request("DELETE", f"/V1/customers/{customer_id}"))

    def groups(self, criteria: SearchCriteria | None = None) -> AsyncIterator[CustomerGroup]:
        return self._client.items("/V1/customerGroups/search", CustomerGroup, criteria)

    async def group(self, group_id: int) -> CustomerGroup:
        return CustomerGroup.model_validate(await self._client.request("GET", f"/V1/customerGroups/{group_id}"))

    async def default_group(self) -> CustomerGroup:
        return CustomerGroup.model_validate(await self._client.request("GET", "/V1/customerGroups/default"))
