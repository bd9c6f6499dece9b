# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Attributes, their values and names; item properties."""

from __future__ import annotations

from typing import Any

from plentysync.plenty.models.base import RequestModel, WireModel


class AttributeName(WireModel):
    attributeId: int | None = None
    lang: str | None = None
    name: str | None = None


class AttributeValue(WireModel):
    id: int | None = None
    attributeId: int | None = None
    backendName: str | None = None
    position: int | None = None
    updatedAt: str | None = None


class AttributeValueName(WireModel):
    valueId: int | None = None
    lang: str | None = None
    name: str | None = None


class Attribute(WireModel):
    id: int | None = None
    backendName: str | None = None
    position: int | None = None
    isSurchargePercental: bool | None = None
    isLinkableToImage: bool | None = None
    typeOfSelectionInOnlineStore: str | None = None
    isGroupable: bool | None = None
    updatedAt: str | None = None
    attributeNames: list[AttributeName] | None = None
    values: list[AttributeValue] | None = None


class Property(WireModel):
    """A property of ``/rest/properties`` (newer) or ``/rest/items/properties`` (legacy)."""

    id: int | None = None
    cast: str | None = None
    type: str | None = None
    position: int | None = None
    valueType: str | None = None
    backendName: str | None = None
    names: list[dict[str, Any]] | None = None
    groups: list[dict[str, Any]] | None = None


class AttributeCreate(RequestModel):
    backendName: str
    position: int | None = None
    isSurchargePercental: bool | None = None
    isLinkableToImage: bool | None = None
    typeOfSelectionInOnlineStore: str | None = None
    isGroupable: bool | None = None


class AttributeNameWrite(RequestModel):
    attributeId: int
    lang: str
    name: str


class AttributeValueCreate(RequestModel):
    attributeId: int | None = None
    backendName: str
    position: int | None = None
    comment: str | None = None


class AttributeValueNameWrite(RequestModel):
    valueId: int
    lang: str
    name: str
