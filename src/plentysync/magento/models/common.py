"""Shared pieces of the wire models.

Response models (parsers) follow the server, not the spec: every field is optional and nullable, unknown
fields are kept (``extra="allow"``), and ids that arrive as numeric strings become ints. Request models are
separate, forbid unknown fields and are dumped with ``exclude_none``.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict


def to_int(value: Any) -> int | None:
    """``3``, ``"3"``, ``3.0`` → 3; empty → ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if number.is_integer():
            return int(number)
        raise


def to_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def to_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no")
    return bool(value)


Int = Annotated[int | None, BeforeValidator(to_int)]
Float = Annotated[float | None, BeforeValidator(to_float)]
Bool = Annotated[bool | None, BeforeValidator(to_bool)]


class WireModel(BaseModel):
    """Base of the response models."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestModel(BaseModel):
    """Base of the request models: only the fields the spec declares for the route."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON body. ``None`` is left out at every depth, also inside pass-through dicts (an order's
        addresses), because Magento rejects ``null`` where the spec declares a string."""
        body: dict[str, Any] = _without_none(self.model_dump(mode="json", exclude_none=True, by_alias=True))
        return body


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


class CustomAttribute(WireModel):
    attribute_code: str | None = None
    value: Any = None
    """A string for most attributes; a list of option ids for multiselects and ``category_ids``."""


class CustomAttributeInput(RequestModel):
    attribute_code: str
    value: str | list[str]


class HasCustomAttributes(WireModel):
    custom_attributes: list[CustomAttribute] | None = None

    def custom_attribute(self, code: str) -> str | list[str] | None:
        """The value of custom attribute ``code`` (a string, or a list for multiselects), ``None`` if absent."""
        for attribute in self.custom_attributes or ():
            if attribute.attribute_code == code:
                value = attribute.value
                if value is None or isinstance(value, str):
                    return value
                if isinstance(value, list):
                    return [str(v) for v in value]
                return str(value)
        return None

    def custom_attribute_list(self, code: str) -> list[str]:
        """A multiselect value as a list, whether it came as ``["5","7"]`` or ``"5,7"``."""
        value = self.custom_attribute(code)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            return value
        return [part for part in value.split(",") if part]


ItemT = TypeVar("ItemT", bound=BaseModel)


class SearchPage(WireModel, Generic[ItemT]):
    """One page of a ``*-search-results-interface``."""

    items: list[ItemT] = []
    total_count: Int = None
    search_criteria: dict[str, Any] | None = None


class ErrorEntry(WireModel):
    message: str | None = None
    parameters: Any = None
