"""Categories: tree nodes, flat records, product links."""

from __future__ import annotations

from typing import Self

from plentysync.magento.dates import MagentoDateTime
from plentysync.magento.models.common import (
    Bool,
    CustomAttributeInput,
    HasCustomAttributes,
    Int,
    RequestModel,
    WireModel,
)


class CategoryTreeNode(WireModel):
    id: Int = None
    parent_id: Int = None
    name: str | None = None
    is_active: Bool = None
    position: Int = None
    level: Int = None
    product_count: Int = None
    children_data: list[CategoryTreeNode] | None = None

    def walk(self) -> list[Self]:
        """This node and all descendants, depth first."""
        nodes = [self]
        for child in self.children_data or ():
            nodes.extend(child.walk())  # type: ignore[arg-type]
        return nodes


class Category(HasCustomAttributes):
    id: Int = None
    parent_id: Int = None
    name: str | None = None
    is_active: Bool = None
    position: Int = None
    level: Int = None
    children: str | None = None
    path: str | None = None
    include_in_menu: Bool = None
    available_sort_by: list[str] | None = None
    created_at: MagentoDateTime = None
    updated_at: MagentoDateTime = None

    @property
    def child_ids(self) -> list[int]:
        return [int(part) for part in (self.children or "").split(",") if part.strip()]


class CategoryProductLink(WireModel):
    sku: str | None = None
    position: Int = None
    category_id: Int = None


# ---- requests -------------------------------------------------------------------------------------------------


class CategoryInput(RequestModel):
    parent_id: int | None = None
    name: str | None = None
    is_active: bool | None = None
    position: int | None = None
    include_in_menu: bool | None = None
    available_sort_by: list[str] | None = None
    custom_attributes: list[CustomAttributeInput] | None = None


class CategoryProductLinkInput(RequestModel):
    sku: str
    position: int = 0
    category_id: str
