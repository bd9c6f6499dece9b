"""Attributes with their names and values, value names, and properties."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from plentysync.plenty.models.attributes import (
    Attribute,
    AttributeCreate,
    AttributeName,
    AttributeNameWrite,
    AttributeValue,
    AttributeValueCreate,
    AttributeValueName,
    AttributeValueNameWrite,
    Property,
)
from plentysync.plenty.paging import query

if TYPE_CHECKING:
    from plentysync.plenty.client import PlentyClient


class AttributesResource:
    def __init__(self, client: PlentyClient) -> None:
        self.client = client

    def list_attributes(
        self, *, with_: Sequence[str] = (), updated_at: str | None = None, items_per_page: int | None = None
    ) -> AsyncIterator[Attribute]:
        params = query({"updatedAt": updated_at}, with_=with_)
        return self.client.paginate("/rest/items/attributes", Attribute, params, items_per_page=items_per_page)

    async def get_attribute(self, attribute_id: int) -> Attribute:
        return await self.client.get_one(f"/rest/items/attributes/{attribute_id}", Attribute)

    async def create_attribute(self, attribute: AttributeCreate) -> Attribute:
        return await self.client.write_one("POST", "/rest/items/attributes", Attribute, json=attribute.payload())

    async def list_names(self, attribute_id: int) -> list[AttributeName]:
        return await self.client.get_list(f"/rest/items/attributes/{attribute_id}/names", AttributeName)

    async def add_name(self, attribute_id: int, lang: str, name: str) -> AttributeName:
        body = AttributeNameWrite(attributeId=attribute_id, lang=lang, name=name).payload()
        path = f"/rest/items/attributes/{attribute_id}/names"
        return await self.client.write_one("POST", path, AttributeName, json=body)

    def list_values(self, attribute_id: int, *, items_per_page: int | None = None) -> AsyncIterator[AttributeValue]:
        path = f"/rest/items/attributes/{attribute_id}/values"
        return self.client.paginate(path, AttributeValue, items_per_page=items_per_page)

    async def create_value(self, attribute_id: int, value: AttributeValueCreate) -> AttributeValue:
        body = value.model_copy(update={"attributeId": attribute_id}).payload()
        path = f"/rest/items/attributes/{attribute_id}/values"
        return await self.client.write_one("POST", path, AttributeValue, json=body)

    async def list_value_names(self, value_id: int) -> list[AttributeValueName]:
        return await self.client.get_list(f"/rest/items/attribute_values/{value_id}/names", AttributeValueName)

    async def add_value_name(self, value_id: int, lang: str, name: str) -> AttributeValueName:
        body = AttributeValueNameWrite(valueId=value_id, lang=lang, name=name).payload()
        path = f"/rest/items/attribute_values/{value_id}/names"
        return await self.client.write_one("POST", path, AttributeValueName, json=body)

    def list_properties(self, *, items_per_page: int | None = None) -> AsyncIterator[Property]:
        """``/rest/properties`` — paginated on the servers although the spec declares a plain array."""
        return self.client.paginate("/rest/properties", Property, items_per_page=items_per_page)
