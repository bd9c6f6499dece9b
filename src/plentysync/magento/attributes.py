"""Product attributes, their options, and attribute sets."""

from __future__ import annotations

from collections.abc import AsyncIterator

from plentysync.magento._base import ResourceApi, parse_bool, parse_list
from plentysync.magento.client import ALL_STORES, seg
from plentysync.magento.models.attributes import (
    AttributeOption,
    AttributeOptionInput,
    AttributeSet,
    AttributeSetInput,
    ProductAttribute,
    ProductAttributeInput,
)
from plentysync.magento.models.common import to_int
from plentysync.magento.search import SearchCriteria

DEFAULT_ATTRIBUTE_SET_ID = 4


class AttributesApi(ResourceApi):
    def search(
        self, criteria: SearchCriteria | None = None, *, page_size: int | None = None
    ) -> AsyncIterator[ProductAttribute]:
        return self._client.items("/V1/products/attributes", ProductAttribute, criteria, page_size=page_size)

    async def get(self, code: str) -> ProductAttribute:
        body = await self._client.request("GET", f"/V1/products/attributes/{seg(code)}")
        return ProductAttribute.model_validate(body)

    async def create(self, attribute: ProductAttributeInput) -> ProductAttribute:
        body = {"attribute": attribute.wire()}
        return ProductAttribute.model_validate(
            await self._client.request("POST", "/V1/products/attributes", store=ALL_STORES, json=body)
        )

    async def update(self, code: str, attribute: ProductAttributeInput) -> ProductAttribute:
        body = {"attribute": attribute.wire()}
        route = f"/V1/products/attributes/{seg(code)}"
        return ProductAttribute.model_validate(await self._client.request("PUT", route, store=ALL_STORES, json=body))

    async def delete(self, code: str) -> bool:
        return parse_bool(
            await self._client.request("DELETE", f"/V1/products/attributes/{seg(code)}", store=ALL_STORES)
        )

    async def options(self, code: str, *, include_placeholder: bool = False) -> list[AttributeOption]:
        """The options of a select/multiselect attribute, without the blank placeholder Magento puts first."""
        body = await self._client.request("GET", f"/V1/products/attributes/{seg(code)}/options")
        options = parse_list(AttributeOption, body)
        return options if include_placeholder else [o for o in options if not o.is_placeholder]

    async def add_option(self, code: str, option: AttributeOptionInput) -> int | str:
        """Add an option; returns its id (Magento answers a string such as ``"52"`` or, on some versions,
        ``"id_52"``; numeric ids become ints). Not retried blindly: a repeat would add a duplicate label."""
        body = {"option": option.wire()}
        result = await self._client.request(
            "POST", f"/V1/products/attributes/{seg(code)}/options", store=ALL_STORES, json=body
        )
        text = str(result).removeprefix("id_")
        try:
            value = to_int(text)
        except ValueError:
            return str(result)
        return str(result) if value is None else value

    async def delete_option(self, code: str, option_id: int | str) -> bool:
        route = f"/V1/products/attributes/{seg(code)}/options/{seg(option_id)}"
        return parse_bool(await self._client.request("DELETE", route, store=ALL_STORES))

    def attribute_sets(self, criteria: SearchCriteria | None = None) -> AsyncIterator[AttributeSet]:
        return self._client.items("/V1/products/attribute-sets/sets/list", AttributeSet, criteria)

    async def attribute_set(self, attribute_set_id: int) -> AttributeSet:
        body = await self._client.request("GET", f"/V1/products/attribute-sets/{attribute_set_id}")
        return AttributeSet.model_validate(body)

    async def attribute_set_attributes(self, attribute_set_id: int) -> list[ProductAttribute]:
        body = await self._client.request("GET", f"/V1/products/attribute-sets/{attribute_set_id}/attributes")
        return parse_list(ProductAttribute, body)

    async def create_attribute_set(
        self, attribute_set: AttributeSetInput, *, skeleton_id: int = DEFAULT_ATTRIBUTE_SET_ID
    ) -> AttributeSet:
        """Create a set whose groups and attributes are copied from ``skeleton_id`` (usually 4, "Default")."""
        body = {"attributeSet": attribute_set.wire(), "skeletonId": skeleton_id}
        return AttributeSet.model_validate(
            await self._client.request("POST", "/V1/products/attribute-sets", store=ALL_STORES, json=body)
        )
