"""The error envelopes of the PlentyONE REST API (notes §4)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by route code; the app turns it into the JSON error response."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def error_body(message: str, code: int) -> dict[str, Any]:
    return {"error": {"message": message, "code": code}}


def not_found(message: str = "Not found") -> ApiError:
    return ApiError(404, error_body(message, 404))


def bad_request(message: str) -> ApiError:
    return ApiError(400, error_body(message, 400))


def validation_error(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(422, {"error": {"message": "validation error found"}, "validation_errors": errors})


def unauthenticated() -> ApiError:
    """Status 401 is certain; the body is the notes' suggestion (§2.3: the real envelope is unverified)."""
    return ApiError(
        401,
        {"error": "access_denied", "message": "The resource owner or authorization server denied the request."},
    )


class Validator:
    """Collects field errors under dotted paths; ``check()`` raises them all at once (all-or-nothing)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def require(self, data: dict[str, Any], field: str, path: str = "") -> bool:
        if data.get(field) is None or data.get(field) == "":
            self.add(f"{path}{field}", f"The {field} field is required.")
            return False
        return True

    def number(self, data: dict[str, Any], field: str, path: str = "") -> float | None:
        value = data.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                return float(str(value))
            except ValueError:
                self.add(f"{path}{field}", f"The {field} must be a number.")
                return None
        return float(value)

    def check(self) -> None:
        if self.errors:
            raise validation_error(self.errors)
