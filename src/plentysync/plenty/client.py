"""The PlentyONE client: one shared token, one rate budget, one connection pool per system.

Resource modules (``client.stock``, ``client.items`` …) build requests and parse answers; every
call goes through :meth:`PlentyClient.call`, which hands it to the shared HTTP base (budget gate,
auth, retries, error classification).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
from pydantic import BaseModel

from plentysync.errors import SyncError
from plentysync.http.budget import GateSnapshot, RateBudget
from plentysync.http.client import HttpClient, HttpConfig, decode_body
from plentysync.http.policy import StatusPolicy
from plentysync.http.requestlog import RequestLog
from plentysync.plenty.attributes import AttributesResource
from plentysync.plenty.auth import AuthSettings, PlentyAuth, PlentyCredentials, SessionStore
from plentysync.plenty.categories import CategoriesResource
from plentysync.plenty.contacts import ContactsResource
from plentysync.plenty.items import ItemsResource
from plentysync.plenty.models.reference import User
from plentysync.plenty.orders import OrdersResource
from plentysync.plenty.paging import Params, parse_list, stream_pages
from plentysync.plenty.payments import PaymentsResource
from plentysync.plenty.reference import ReferenceResource
from plentysync.plenty.stock import StockResource
from plentysync.plenty.throttle import PLENTY_RULES, parse_plenty_headers

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PlentyClientConfig:
    base_url: str
    """The exact https address of the system, without ``/rest`` (a redirect turns POST into GET)."""
    http: HttpConfig = field(default_factory=HttpConfig)
    write_concurrency: int = 3
    read_concurrency: int | None = None
    max_requests_per_second: float | None = None
    budget_max_wait: float = 900.0
    budget_reserve: int = 0
    refresh_margin: float = 600.0
    session_cap_retry_after: float = 30.0
    items_per_page: int = 50
    stock_batch_size: int = 100
    """Rows per stock correction / booking call (see :meth:`StockResource.corrections`)."""
    request_log: RequestLog | None = None


class PlentyClient:
    """``async with PlentyClient(credentials, config) as plenty: ...`` — logs in on first use and
    out on close."""

    def __init__(
        self,
        credentials: PlentyCredentials,
        config: PlentyClientConfig,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        budget: RateBudget | None = None,
        sessions: SessionStore | None = None,
    ) -> None:
        """``budget``: a prebuilt rate budget (e.g. one shared through the state database, see
        :func:`plentysync.http.shared_budget.shared_rate_budget`); by default one of this process,
        built from the config. ``sessions``: where the live session is recorded, so a process that
        dies without logging out leaves it to the next one (:mod:`plentysync.plenty.sessions`)."""
        self.config = config
        self.auth = PlentyAuth(
            credentials,
            AuthSettings(refresh_margin=config.refresh_margin, session_cap_retry_after=config.session_cap_retry_after),
            clock=clock,
            sessions=sessions,
        )
        self.budget = (
            budget
            if budget is not None
            else RateBudget(
                parse_plenty_headers,
                write_concurrency=config.write_concurrency,
                read_concurrency=config.read_concurrency,
                max_requests_per_second=config.max_requests_per_second,
                max_wait=config.budget_max_wait,
                reserve=config.budget_reserve,
                clock=clock,
            )
        )
        self.http = HttpClient(
            config.base_url,
            name="PlentyONE",
            policy=StatusPolicy(PLENTY_RULES),
            auth=self.auth,
            budget=self.budget,
            request_log=config.request_log,
            config=config.http,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self.auth.bind(self.http)
        self.stock = StockResource(self)
        self.items = ItemsResource(self)
        self.categories = CategoriesResource(self)
        self.attributes = AttributesResource(self)
        self.orders = OrdersResource(self)
        self.payments = PaymentsResource(self)
        self.contacts = ContactsResource(self)
        self.reference = ReferenceResource(self)

    async def __aenter__(self) -> PlentyClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Log out (frees one of the capped sessions) and close the connection pool."""
        try:
            await self.auth.logout()
        finally:
            try:
                await self.budget.flush()
            finally:
                await self.http.aclose()

    async def login(self) -> None:
        """Log in now instead of on the first call (to fail fast on wrong credentials)."""
        await self.auth.ensure_login()

    def budget_snapshot(self) -> dict[str, GateSnapshot]:
        """The announced read and write budgets, calls in flight, waits and 429s so far."""
        return self.budget.snapshot()

    # -- the one way resources talk HTTP ------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body (``None`` when empty)."""
        response = await self.http.request(method, path, params=params, json=json, idempotent=idempotent)
        return decode_body(response)

    async def get_one(self, path: str, model: type[M], params: Params | None = None) -> M:
        body = await self.call("GET", path, params=params)
        return self.parse_one(body, model, path)

    async def get_list(self, path: str, model: type[M], params: Params | None = None) -> list[M]:
        return parse_list(await self.call("GET", path, params=params), model)

    def paginate(
        self, path: str, model: type[M], params: Params | None = None, *, items_per_page: int | None = None
    ) -> AsyncIterator[M]:
        async def fetch(page_params: Params) -> Any:
            return await self.call("GET", path, params=page_params)

        return stream_pages(fetch, params or [], model, items_per_page=items_per_page or self.config.items_per_page)

    async def write_one(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        json: Any = None,
        params: Params | None = None,
        idempotent: bool | None = None,
    ) -> M:
        body = await self.call(method, path, json=json, params=params, idempotent=idempotent)
        return self.parse_one(body, model, path)

    @staticmethod
    def parse_one(body: Any, model: type[M], path: str) -> M:
        if isinstance(body, list) and len(body) == 1:
            body = body[0]
        if not isinstance(body, dict):
            raise SyncError(f"PlentyONE {path} answered {type(body).__name__} where one record was expected")
        return model.model_validate(body)

    async def whoami(self) -> User:
        """``GET /rest/user``: the back-end user of the token (a cheap credentials check)."""
        return await self.get_one("/rest/user", User)
