"""What a route handler gets: the request, the state and the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request

from plentysync.sandbox.plenty.config import PlentySandboxConfig
from plentysync.sandbox.plenty.errors import not_found
from plentysync.sandbox.plenty.params import body_data, body_object
from plentysync.sandbox.plenty.state import PlentyState


@dataclass
class Ctx:
    request: Request
    state: PlentyState
    config: PlentySandboxConfig
    bearer: str | None = None

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    def path_int(self, name: str) -> int:
        value = self.request.path_params[name]
        return int(value)

    async def body(self) -> dict[str, Any]:
        return await body_object(self.request)

    async def data(self) -> Any:
        return await body_data(self.request)


Handler = Callable[[Ctx], Awaitable[Any]]
RouteSpec = tuple[str, str, Handler]
"""(method, path, handler); the handler returns a Starlette Response or JSON-ready data."""


def lookup(store: dict[int, Any], key: int, what: str) -> Any:
    """``store[key]`` or a 404 in the API's envelope."""
    if key not in store:
        raise not_found(f"{what} {key} not found")
    return store[key]
