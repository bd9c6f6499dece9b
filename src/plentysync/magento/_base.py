"""What every resource API shares: the client, and parsing helpers for bare JSON scalars."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter

from plentysync.errors import RemoteValidationError
from plentysync.magento.models.common import to_int

if TYPE_CHECKING:
    from plentysync.magento.client import MagentoClient

ModelT = TypeVar("ModelT", bound=BaseModel)


class ResourceApi:
    def __init__(self, client: MagentoClient) -> None:
        self._client = client


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """Building a TypeAdapter costs more than parsing a small list with it: one per model, kept."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def parse_list(model: type[ModelT], body: Any) -> list[ModelT]:
    rows: list[ModelT] = _list_adapter(model).validate_python(body if isinstance(body, list) else [])
    return rows


def parse_id(body: Any, what: str) -> int:
    """A created id: ``3`` or ``"3"`` on the wire."""
    try:
        value = to_int(body)
    except (TypeError, ValueError):
        value = None
    if value is None:
        raise RemoteValidationError(f"magento: expected {what} id, got {body!r}", body=body)
    return value


def parse_bool(body: Any) -> bool:
    """``true``/``false``; void methods answer ``[]`` (taken as success)."""
    if isinstance(body, list):
        return True
    return bool(body)
