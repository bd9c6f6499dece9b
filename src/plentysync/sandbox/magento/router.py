"""A small router for ``/V1/...`` paths matched on raw, per-segment-decoded paths (so ``%2F`` inside a
SKU stays one segment), with Magento's 404/405 behaviour and per-route ACL resources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from plentysync.clock import Clock
from plentysync.sandbox.magento.config import MagentoSandboxConfig
from plentysync.sandbox.magento.errors import NO_ROUTE, MagentoError, not_supported
from plentysync.sandbox.magento.search import Limits, SearchCriteria, parse_search_criteria
from plentysync.sandbox.magento.state import MagentoState, fmt_time


@dataclass(frozen=True)
class StoreScope:
    code: str | None
    """The code from the URL (``None``: ``/rest/V1``)."""
    store_id: int
    website_id: int

    @property
    def is_all(self) -> bool:
        return self.code == "all"

    @property
    def write_store(self) -> int | None:
        """Where an update's store-scoped values go: ``None`` for global (``all``), else the store view."""
        return None if self.is_all else self.store_id


@dataclass
class Ctx:
    state: MagentoState
    config: MagentoSandboxConfig
    clock: Clock
    request: Request
    scope: StoreScope
    params: dict[str, str]
    query: dict[str, Any]
    body: Any

    def now(self) -> str:
        return fmt_time(self.clock.now())

    @property
    def limits(self) -> Limits:
        return Limits(
            clamp_pages=self.config.clamp_pages,
            input_limits=self.config.input_limits,
            maximum_page_size=self.config.maximum_page_size,
            default_page_size=self.config.default_page_size,
        )

    def criteria(self, *, required_param: bool = True) -> SearchCriteria:
        return parse_search_criteria(self.query, required_param=required_param)

    def int_param(self, name: str) -> int:
        raw = self.params[name]
        try:
            return int(raw)
        except ValueError:
            raise MagentoError(
                400,
                'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
                {"value": raw, "type": "int"},
            ) from None

    def field(self, name: str, *, required: bool = True) -> Any:
        """A top-level body parameter (``{"product": {...}}`` -> ``field("product")``)."""
        body = self.body if isinstance(self.body, dict) else {}
        if name not in body:
            if required:
                raise MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": name})
            return None
        return body[name]

    def check_array(self, value: Any, type_name: str) -> None:
        if self.config.input_limits and isinstance(value, list) and len(value) > self.config.complex_array_limit:
            raise MagentoError(
                400,
                'Maximum items of type "%type" is %max',
                {"type": type_name, "max": self.config.complex_array_limit},
            )


Handler = Callable[[Ctx], Any]


@dataclass(frozen=True)
class Route:
    method: str
    segments: tuple[str, ...]
    handler: Handler
    resource: str | None
    """ACL resource; ``None``: anonymous."""
    body: frozenset[str] | None
    """Allowed top-level body keys (``None``: not checked)."""

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, segment in zip(self.segments, segments, strict=True):
            if pattern.startswith("{"):
                params[pattern[1:-1]] = segment
            elif pattern != segment:
                return None
        return params

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(0 if s.startswith("{") else 1 for s in self.segments)


@dataclass
class Router:
    routes: list[Route] = field(default_factory=list)

    def route(
        self, method: str, path: str, resource: str | None, body: tuple[str, ...] | None = None
    ) -> Callable[[Handler], Handler]:
        """Register ``path`` (``/V1/...`` with ``{param}`` segments)."""
        segments = tuple(s for s in path.strip("/").split("/") if s)

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(method.upper(), segments, handler, resource, frozenset(body) if body is not None else None)
            )
            return handler

        return register

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)

    def resolve(self, method: str, segments: list[str]) -> tuple[Route, dict[str, str]]:
        candidates = [(route, params) for route in self.routes if (params := route.match(segments)) is not None]
        if not candidates:
            raise MagentoError(404, NO_ROUTE)
        allowed = [(route, params) for route, params in candidates if route.method == method]
        if not allowed:
            raise MagentoError(405, NO_ROUTE)
        return max(allowed, key=lambda pair: pair[0].specificity)


def check_body_keys(route: Route, body: Any) -> None:
    if route.body is None or not isinstance(body, dict):
        return
    for key in body:
        if key not in route.body:
            raise not_supported(key)
