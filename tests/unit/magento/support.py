"""A scripted Magento for unit tests: routes (method, path suffix) to handlers and records every request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

from plentysync.http import HttpConfig, RetryConfig
from plentysync.magento import BearerCredentials, MagentoClient, MagentoClientConfig, MagentoCredentials

Handler = Callable[[httpx2.Request], httpx2.Response]
FAST = HttpConfig(retry=RetryConfig(attempts=3, wait_initial=0.001, wait_max=0.002, wait_jitter=0))


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers)


class FakeMagento:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx2.Request] = []

    def on(self, method: str, path: str, handler: Handler | Any) -> None:
        if isinstance(handler, httpx2.Response):
            fixed = handler
            self.routes[(method, path)] = lambda _r: httpx2.Response(
                fixed.status_code, content=fixed.content, headers=fixed.headers
            )
        elif callable(handler):
            self.routes[(method, path)] = handler
        else:
            self.routes[(method, path)] = _fixed(handler)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode().split("?", 1)[0]
        handler = self.routes.get((request.method, path))
        if handler is None:
            return reply({"message": "Request does not match any route."}, 404)
        return handler(request)

    def client(self, credentials: MagentoCredentials | None = None, **config: Any) -> MagentoClient:
        cfg = MagentoClientConfig("http://shop.test", credentials or BearerCredentials("tkn"), http=FAST, **config)
        return MagentoClient(cfg, transport=httpx2.MockTransport(self))

    def sent(self, method: str | None = None, path: str | None = None) -> list[httpx2.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.raw_path.decode().startswith(path))
        ]


def _fixed(body: Any) -> Handler:
    return lambda _request: reply(body)


def body_of(request: httpx2.Request) -> Any:
    return json.loads(request.content) if request.content else None


def query_of(request: httpx2.Request) -> dict[str, str]:
    return dict(request.url.params.multi_items())
