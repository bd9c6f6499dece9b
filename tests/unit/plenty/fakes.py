"""A scriptable PlentyONE stand-in on ``httpx2.MockTransport`` for unit tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from plentysync.http.client import HttpConfig, RetryConfig
from plentysync.plenty import PlentyClient, PlentyClientConfig, PlentyCredentials

Handler = Callable[[httpx2.Request], httpx2.Response]
FAST = HttpConfig(retry=RetryConfig(attempts=4, wait_initial=0.001, wait_max=0.005, wait_jitter=0))
CREDENTIALS = PlentyCredentials("api-user", "s3cret-pass")


def token_body(n: int, *, snake: bool = True, camel: bool = True, expires_in: int = 86400) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if snake:
        body |= {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": expires_in}
    if camel:
        body |= {"accessToken": f"at-{n}", "refreshToken": f"rt-{n}", "expiresIn": expires_in}
    return body


@dataclass
class FakePlenty:
    """Logins issue ``at-1``, ``at-2`` …; ``routes`` maps ``"METHOD /path"`` to a handler."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[httpx2.Request] = field(default_factory=list)
    logins: int = 0
    refreshes: int = 0
    valid: set[str] = field(default_factory=set)
    login_response: Handler | None = None
    refresh_ok: bool = True
    token_kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        key = f"{request.method} {request.url.path}"
        if key == "POST /rest/login":
            if self.login_response is not None:
                return self.login_response(request)
            self.logins += 1
            self.valid.add(f"at-{self.logins + self.refreshes}")
            return httpx2.Response(200, json=token_body(self.logins + self.refreshes, **self.token_kwargs))
        if key == "POST /rest/login/refresh":
            if not self.refresh_ok:
                return httpx2.Response(401, json={"error": "access_denied"})
            self.refreshes += 1
            self.valid.add(f"at-{self.logins + self.refreshes}")
            return httpx2.Response(200, json=token_body(self.logins + self.refreshes, snake=False))
        if key == "POST /rest/logout":
            self.valid.discard(bearer(request))
            return httpx2.Response(200, json=[])
        if bearer(request) not in self.valid:
            return httpx2.Response(401, json={"error": "access_denied", "message": "denied"})
        handler = self.routes.get(key)
        if handler is None:
            return httpx2.Response(404, json={"error": {"message": "Not found", "code": 404}})
        return handler(request)

    def sent(self, method: str, path: str) -> list[httpx2.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def client(self, **config: Any) -> PlentyClient:
        cfg = PlentyClientConfig(base_url="https://p1.example.test", http=FAST, **config)
        return PlentyClient(CREDENTIALS, cfg, transport=httpx2.MockTransport(self))


def bearer(request: httpx2.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


def body_of(request: httpx2.Request) -> Any:
    return json.loads(request.content)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    def handler(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body, headers=headers)

    return handler
