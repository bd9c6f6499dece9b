"""Product attributes, their options and attribute sets."""

from __future__ import annotations

from pydantic import Field

from plentysync.magento.models.common import Bool, Int, RequestModel, WireModel


class StoreLabel(WireModel):
    store_id: Int = None
    label: str | None = None


class AttributeOption(WireModel):
    label: str | None = None
    value: str | None = None
    sort_order: Int = None
    is_default: Bool = None
    store_labels: list[StoreLabel] | None = None

    @property
    def is_placeholder(self) -> bool:
        """The blank ``{"label": " ", "value": ""}`` entry option lists start with."""
        return not (self.value or "").strip()


class FrontendLabel(WireModel):
    store_id: Int = None
    label: str | None = None


class ProductAttribute(WireModel):
    attribute_id: Int = None
    attribute_code: str | None = None
    frontend_input: str | None = None
    entity_type_id: Int = None
    is_required: Bool = None
    is_user_defined: Bool = None
    default_frontend_label: str | None = None
    frontend_labels: list[FrontendLabel] | None = None
    scope: str | None = None
    backend_type: str | None = None
    options: list[AttributeOption] | None = None


class AttributeSet(WireModel):
    attribute_set_id: Int = None
    attribute_set_name: str | None = None
    sort_order: Int = None
    entity_type_id: Int = None


# ---- requests -------------------------------------------------------------------------------------------------


class StoreLabelInput(RequestModel):
    store_id: int
    label: str


class AttributeOptionInput(RequestModel):
    label: str
    value: str = ""
    """Empty for a new option; Magento assigns the option id."""
    sort_order: int | None = None
    is_default: bool | None = None
    store_labels: list[StoreLabelInput] | None = None


class FrontendLabelInput(RequestModel):
    store_id: int
    label: str


class ProductAttributeInput(RequestModel):
    attribute_code: str
    frontend_input: str = "select"
    entity_type_id: str = "4"
    is_required: bool = False
    frontend_labels: list[FrontendLabelInput] = Field(default_factory=list)
    default_frontend_label: str | None = None
    scope: str | None = None
    is_user_defined: bool | None = None
    is_visible_on_front: str | None = None
    is_filterable: bool | None = None
    is_searchable: str | None = None
    is_comparable: str | None = None
    backend_type: str | None = None
    options: list[AttributeOptionInput] | None = None


class AttributeSetInput(RequestModel):
    attribute_set_name: str
    sort_order: int = 0
    entity_type_id: int | None = None
