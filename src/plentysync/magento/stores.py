"""Websites, store groups, store views, store configs and countries.

The website, group and store-view lists include the admin scope (id 0, code ``admin``); it is left out
unless ``include_admin`` is set, since nothing is sold there.
"""

from __future__ import annotations

from collections.abc import Sequence

from plentysync.magento._base import ResourceApi, parse_list
from plentysync.magento.client import seg
from plentysync.magento.models.stores import Country, StoreConfig, StoreGroup, StoreView, Website


class StoresApi(ResourceApi):
    async def websites(self, *, include_admin: bool = False) -> list[Website]:
        rows = parse_list(Website, await self._client.request("GET", "/V1/store/websites"))
        return [row for row in rows if include_admin or row.id != 0]

    async def store_groups(self, *, include_admin: bool = False) -> list[StoreGroup]:
        rows = parse_list(StoreGroup, await self._client.request("GET", "/V1/store/storeGroups"))
        return [row for row in rows if include_admin or row.id != 0]

    async def store_views(self, *, include_admin: bool = False) -> list[StoreView]:
        rows = parse_list(StoreView, await self._client.request("GET", "/V1/store/storeViews"))
        return [row for row in rows if include_admin or row.id != 0]

    async def store_configs(self, store_codes: Sequence[str] | None = None) -> list[StoreConfig]:
        """Locale, currencies, time zone and base URLs per store view (all views, or the codes given)."""
        params = [(f"storeCodes[{i}]", code) for i, code in enumerate(store_codes or ())]
        body = await self._client.request("GET", "/V1/store/storeConfigs", params=params or None)
        return parse_list(StoreConfig, body)

    async def countries(self) -> list[Country]:
        return parse_list(Country, await self._client.request("GET", "/V1/directory/countries"))

    async def country(self, country_id: str) -> Country:
        body = await self._client.request("GET", f"/V1/directory/countries/{seg(country_id)}")
        return Country.model_validate(body)
