# ruff: noqa: N815  -- field names mirror the wire (camelCase) so models dump to the exact JSON keys
"""Categories (``details`` per language and plentyId)."""

from __future__ import annotations

from plentysync.plenty.models.base import RequestModel, WireModel


class CategoryDetail(WireModel):
    categoryId: int | None = None
    lang: str | None = None
    name: str | None = None
    nameUrl: str | None = None
    description: str | None = None
    shortDescription: str | None = None
    metaTitle: str | None = None
    position: int | None = None
    plentyId: int | None = None
    updatedAt: str | None = None


class Category(WireModel):
    id: int | None = None
    parentCategoryId: int | None = None
    level: int | None = None
    type: str | None = None
    linklist: str | None = None
    right: str | None = None
    sitemap: str | None = None
    hasChildren: bool | None = None
    details: list[CategoryDetail] | None = None
    clients: list[dict[str, int]] | None = None


class CategoryDetailWrite(RequestModel):
    plentyId: int
    lang: str
    name: str
    nameUrl: str | None = None
    description: str | None = None
    shortDescription: str | None = None
    metaDescription: str | None = None
    position: int | None = None


class CategoryClientWrite(RequestModel):
    plentyId: int


class CategoryCreate(RequestModel):
    parentCategoryId: int | None = None
    type: str = "item"
    right: str = "all"
    linklist: str | None = None
    sitemap: str | None = None
    details: list[CategoryDetailWrite]
    clients: list[CategoryClientWrite] | None = None
