"""Magento's error bodies: ``{"message": "...%placeholder...", "parameters": {...} | [...]}``."""

from __future__ import annotations

from typing import Any

ParametersT = dict[str, Any] | list[Any] | None

NO_ROUTE = "Request does not match any route."
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
REQUIRED = '"%fieldName" is required. Enter and try again.'
NOT_SUPPORTED = '"%fieldName" is not supported. Correct the field name and try again.'
NO_SUCH_ENTITY = "No such entity with %fieldName = %fieldValue"
PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again."


class MagentoError(Exception):
    """Raised by a handler; the dispatcher turns it into the JSON error response."""

    def __init__(
        self, status: int, message: str, parameters: ParametersT = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.parameters is not None:
            out["parameters"] = self.parameters
        if self.errors:
            out["errors"] = self.errors
        return out


def bad_request(message: str, parameters: ParametersT = None) -> MagentoError:
    return MagentoError(400, message, parameters)


def not_found(message: str, parameters: ParametersT = None) -> MagentoError:
    return MagentoError(404, message, parameters)


def no_such_entity(field_name: str, value: Any) -> MagentoError:
    return MagentoError(404, NO_SUCH_ENTITY, {"fieldName": field_name, "fieldValue": value})


def required(field_name: str) -> MagentoError:
    return MagentoError(400, REQUIRED, {"fieldName": field_name})


def not_supported(field_name: str) -> MagentoError:
    return MagentoError(400, NOT_SUPPORTED, {"fieldName": field_name})


def unauthorized(resource: str) -> MagentoError:
    return MagentoError(401, NOT_AUTHORIZED, {"resources": resource})
