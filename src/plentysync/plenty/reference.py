"""Reference data: webstores (plentyIds), warehouses, countries, VAT, units, sales price configs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from plentysync.plenty.models.items import SalesPrice
from plentysync.plenty.models.reference import Country, Unit, VatConfig, Warehouse, Webstore
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient


class ReferenceResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    async def webstores(self) -> list[Webstore]:
        """A plain array; ``storeIdentifier`` is the plentyId used on orders, contacts, variations."""
        return await self.client.get_list("/rest/webstores", Webstore)

    async def warehouses(self) -> list[Warehouse]:
        return await self.client.get_list("/rest/stockmanagement/warehouses", Warehouse)

    async def warehouse(self, warehouse_id: int) -> Warehouse:
        return await self.client.get_one(f"/rest/stockmanagement/warehouses/{warehouse_id}", Warehouse)

    async def countries(self, *, active_only: bool = False) -> list[Country]:
        """Countries with numeric ids; ISO2 is not unique (pick the lowest id for the mainland)."""
        params = query({"active": 1 if active_only else None})
        return await self.client.get_list("/rest/orders/shipping/countries", Country, params)

    async def vat_standard(self, plenty_id: int | None = None) -> VatConfig:
        """The standard VAT configuration; ``vatField`` on order items indexes its ``vatRates``."""
        return await self.client.get_one("/rest/vat/standard", VatConfig, query({"plentyId": plenty_id}))

    def vat_configs(self) -> AsyncIterator[VatConfig]:
        return self.client.paginate("/rest/vat", VatConfig)

    def units(self) -> AsyncIterator[Unit]:
        return self.client.paginate("/rest/items/units", Unit)

    def sales_price_configs(self) -> AsyncIterator[SalesPrice]:
        return self.client.paginate("/rest/items/sales_prices", SalesPrice)
