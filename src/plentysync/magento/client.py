"""The Magento client: store-scoped paths, one request method over the shared HTTP base, and pagination.

Paths are ``/rest/<store code>/V1/...``. Reads and store-view writes go to a store view (the configured
``store_code``, ``default`` unless set); global writes (product and category master data) go to
``/rest/all/V1/...``, because a write without a store code, or to ``default``, creates store-view overrides
("Use Default Value" unticked) for every attribute sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import quote

import httpx2
from pydantic import BaseModel

from plentysync.http import HttpClient, HttpConfig, RateBudget, RequestLog, decode_body
from plentysync.magento.auth import AdminTokenAuth, MagentoCredentials, build_auth
from plentysync.magento.models.common import SearchPage
from plentysync.magento.policy import magento_error_message, magento_policy
from plentysync.magento.search import SearchCriteria

ALL_STORES = "all"
"""The admin scope (store id 0): where global values are written."""
MAX_PAGE_SIZE = 300
"""Magento's ``webapi/validation/maximum_page_size`` default; larger pages give 400 when input limits are on."""

ModelT = TypeVar("ModelT", bound=BaseModel)
Params = Sequence[tuple[str, str]] | Mapping[str, Any] | None


@dataclass(frozen=True)
class MagentoClientConfig:
    base_url: str
    """The shop's base URL, e.g. ``https://shop.example`` or ``https://shop.example/index.php``."""
    credentials: MagentoCredentials
    store_code: str = "default"
    """The store view that reads and store-scoped writes address."""
    page_size: int = 100
    """Items per page when the criteria do not say; never more than 300."""
    source_items_chunk_size: int = 20
    """Source items per save/delete call: 20 is the array limit when web API input limits are on."""
    write_concurrency: int = 3
    http: HttpConfig = field(default_factory=HttpConfig)


def seg(value: str | int) -> str:
    """One path segment, fully percent-encoded (SKUs may hold ``/``, spaces, ``#``, ``?``, ``+``)."""
    return quote(str(value), safe="")


class MagentoClient:
    """Async Magento 2 REST client. Use as an async context manager, or call :meth:`aclose`.

    The resource APIs hang off it: ``stores``, ``products``, ``attributes``, ``categories``, ``customers``,
    ``orders``, ``inventory``.
    """

    def __init__(
        self,
        config: MagentoClientConfig,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        request_log: RequestLog | None = None,
        budget: RateBudget | None = None,
    ) -> None:
        from plentysync.magento.attributes import AttributesApi
        from plentysync.magento.categories import CategoriesApi
        from plentysync.magento.customers import CustomersApi
        from plentysync.magento.inventory import InventoryApi
        from plentysync.magento.orders import OrdersApi
        from plentysync.magento.products import ProductsApi
        from plentysync.magento.stores import StoresApi

        if not 1 <= config.page_size <= MAX_PAGE_SIZE:
            config = replace(config, page_size=max(1, min(config.page_size, MAX_PAGE_SIZE)))
        self.config = config
        self.auth = build_auth(config.credentials, self.path("/V1/integration/admin/token"))
        self.http = HttpClient(
            config.base_url,
            name="magento",
            policy=magento_policy(config.credentials),
            auth=self.auth,
            budget=budget or RateBudget(None, write_concurrency=config.write_concurrency),
            request_log=request_log,
            config=config.http,
            transport=transport,
            error_message=magento_error_message(config.credentials),
        )
        if isinstance(self.auth, AdminTokenAuth):
            self.auth.bind(self.http)
        self.stores = StoresApi(self)
        self.products = ProductsApi(self)
        self.attributes = AttributesApi(self)
        self.categories = CategoriesApi(self)
        self.customers = CustomersApi(self)
        self.orders = OrdersApi(self)
        self.inventory = InventoryApi(self)

    async def __aenter__(self) -> MagentoClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    def path(self, route: str, *, store: str | None = None) -> str:
        """``/rest/<store>/V1/...`` for ``route`` (``/V1/...``); ``store`` defaults to the configured view."""
        if not route.startswith("/V1/"):
            raise ValueError(f"route must start with /V1/: {route!r}")
        return f"/rest/{seg(store or self.config.store_code)}{route}"

    async def request(
        self,
        method: str,
        route: str,
        *,
        store: str | None = None,
        params: Params = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """The one place that talks HTTP: send, and return the decoded JSON body (``None`` when empty)."""
        response = await self.http.request(
            method, self.path(route, store=store), params=params, json=json, idempotent=idempotent
        )
        return decode_body(response)

    async def pages(
        self,
        route: str,
        model: type[ModelT],
        criteria: SearchCriteria | None = None,
        *,
        store: str | None = None,
        fields: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[SearchPage[ModelT]]:
        """Stream the pages of a search route.

        Stops when ``current_page * page_size >= total_count``, because a page past the end repeats the last
        page on most Magento versions; also stops on an empty page (versions that return one) and on a short
        page when ``total_count`` is missing.
        """
        criteria = criteria or SearchCriteria()
        size = min(page_size or criteria.page_size or self.config.page_size, MAX_PAGE_SIZE)
        current = criteria.current_page or 1
        while True:
            params = replace(criteria, page_size=size, current_page=current).to_params()
            if fields is not None:
                params.append(("fields", fields))
            body = await self.request("GET", route, store=store, params=params)
            page = _search_page(model, body)
            if not page.items:
                return
            yield page
            if page.total_count is not None:
                if current * size >= page.total_count:
                    return
            elif len(page.items) < size:
                return
            current += 1

    async def items(
        self,
        route: str,
        model: type[ModelT],
        criteria: SearchCriteria | None = None,
        *,
        store: str | None = None,
        fields: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ModelT]:
        """The items of :meth:`pages`, one by one."""
        async for page in self.pages(route, model, criteria, store=store, fields=fields, page_size=page_size):
            for item in page.items:
                yield item

    async def first(
        self, route: str, model: type[ModelT], criteria: SearchCriteria, *, store: str | None = None
    ) -> ModelT | None:
        """The first match of ``criteria`` (one request of page size 1), or ``None``."""
        body = await self.request("GET", route, store=store, params=criteria.page(1).to_params())
        page = _search_page(model, body)
        return page.items[0] if page.items else None


def _search_page(model: type[ModelT], body: Any) -> SearchPage[ModelT]:
    """A search answer as a typed page; anything but an object reads as an empty page."""
    page: SearchPage[ModelT] = SearchPage[model].model_validate(body if isinstance(body, dict) else {})  # type: ignore[valid-type]
    return page
