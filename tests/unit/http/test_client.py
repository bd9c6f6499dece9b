"""HttpClient behaviour with a scripted transport: what is retried, what is never repeated, auth
refresh, and the redacting request log."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from plentysync.errors import (
    FatalError,
    OutcomeUnknownError,
    RateLimitedError,
    RemoteNotFoundError,
    RemoteValidationError,
    RetryableError,
)
from plentysync.http.client import HttpClient, HttpConfig, RetryConfig, render_placeholders
from plentysync.http.requestlog import RequestLog

FAST = HttpConfig(retry=RetryConfig(attempts=4, wait_initial=0.001, wait_max=0.002, wait_jitter=0))


class Script:
    """Answers requests from a list of handlers, one per call, and records what was sent."""

    def __init__(self, *answers: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.answers = list(answers)
        self.sent: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.sent.append(request)
        return self.answers.pop(0)(request)


def status(code: int, body: object = None, headers: dict[str, str] | None = None) -> Callable[..., httpx2.Response]:
    return lambda _request: httpx2.Response(code, json=body, headers=headers)


def drop(exc: type[Exception]) -> Callable[..., httpx2.Response]:
    def raise_(request: httpx2.Request) -> httpx2.Response:
        raise exc("boom", request=request)  # type: ignore[call-arg]

    return raise_


def client_for(script: Script, **kwargs: object) -> HttpClient:
    return HttpClient("http://api.test", name="test", config=FAST, transport=httpx2.MockTransport(script), **kwargs)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_read_is_retried_after_5xx_and_dropped_connections() -> None:
    script = Script(status(503), drop(httpx2.RemoteProtocolError), drop(httpx2.ReadTimeout), status(200, {"ok": 1}))
    async with client_for(script) as http:
        response = await http.request("GET", "/rest/items")
    assert response.json() == {"ok": 1}
    assert len(script.sent) == 4


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure", [status(500), status(502), drop(httpx2.ReadTimeout), drop(httpx2.RemoteProtocolError)]
)
async def test_a_create_is_never_repeated_after_an_ambiguous_failure(
    failure: Callable[[httpx2.Request], httpx2.Response],
) -> None:
    script = Script(failure, status(200))
    async with client_for(script) as http:
        with pytest.raises(OutcomeUnknownError) as caught:
            await http.request("POST", "/rest/orders", json={"typeId": 1})
    assert len(script.sent) == 1
    assert caught.value.method == "POST"
    assert caught.value.url.endswith("/rest/orders")


@pytest.mark.anyio
async def test_a_create_is_retried_when_the_server_never_saw_it() -> None:
    script = Script(drop(httpx2.ConnectError), status(429, headers={"Retry-After": "0"}), status(200, {"id": 5}))
    async with client_for(script) as http:
        response = await http.request("POST", "/rest/orders", json={"typeId": 1})
    assert response.json() == {"id": 5}
    assert len(script.sent) == 3


@pytest.mark.anyio
async def test_a_non_idempotent_put_is_treated_like_a_create() -> None:
    script = Script(status(500), status(200))
    async with client_for(script) as http:
        with pytest.raises(OutcomeUnknownError):
            await http.request("PUT", "/rest/stock/bookIncomingItems", json={}, idempotent=False)
    assert len(script.sent) == 1


@pytest.mark.anyio
async def test_retries_end_with_a_retryable_error() -> None:
    script = Script(*[status(503)] * 4)
    async with client_for(script) as http:
        with pytest.raises(RetryableError) as caught:
            await http.request("GET", "/x")
    assert caught.value.status == 503
    assert len(script.sent) == 4


@pytest.mark.anyio
async def test_rate_limit_exhausting_the_attempts_keeps_retry_after() -> None:
    script = Script(*[status(429, {"error": {"message": "short period read limit reached"}}, {"Retry-After": "0"})] * 4)
    async with client_for(script) as http:
        with pytest.raises(RateLimitedError) as caught:
            await http.request("GET", "/x")
    assert caught.value.retry_after == 0.0
    assert "short period read limit reached" in str(caught.value)


@pytest.mark.anyio
async def test_validation_and_not_found_are_not_retried_and_carry_the_message() -> None:
    plenty_422 = {
        "error": {"message": "validation error found"},
        "validation_errors": {"outgoingItems.0.reasonId": ["must be between 200 and 299"]},
    }
    script = Script(
        status(422, plenty_422),
        status(
            404,
            {
                "message": "No such entity with %fieldName = %fieldValue",
                "parameters": {"fieldName": "sku", "fieldValue": "A-1"},
            },
        ),
    )
    async with client_for(script) as http:
        with pytest.raises(RemoteValidationError) as invalid:
            await http.request("PUT", "/x", json={})
        with pytest.raises(RemoteNotFoundError) as missing:
            await http.request("GET", "/y")
    assert "outgoingItems.0.reasonId: must be between 200 and 299" in str(invalid.value)
    assert "No such entity with sku = A-1" in str(missing.value)
    assert len(script.sent) == 2


class CountingAuth:
    def __init__(self, renew: bool = True) -> None:
        self.token = "t1"
        self.refreshes = 0
        self.renew = renew

    async def prepare(self, request: httpx2.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"

    async def refresh(self, request: httpx2.Request) -> bool:
        self.refreshes += 1
        self.token = "t2"
        return self.renew


@pytest.mark.anyio
async def test_401_refreshes_once_then_repeats_even_a_create() -> None:
    auth = CountingAuth()
    script = Script(status(401), status(200, {"id": 1}))
    async with client_for(script, auth=auth) as http:
        await http.request("POST", "/rest/orders", json={})
    assert auth.refreshes == 1
    assert [r.headers["Authorization"] for r in script.sent] == ["Bearer t1", "Bearer t2"]


@pytest.mark.anyio
async def test_a_second_401_is_fatal() -> None:
    auth = CountingAuth()
    script = Script(status(401), status(401))
    async with client_for(script, auth=auth) as http:
        with pytest.raises(FatalError, match="credentials rejected"):
            await http.request("GET", "/x")
    assert auth.refreshes == 1


@pytest.mark.anyio
async def test_request_log_redacts_secrets_and_personal_data(tmp_path: Path) -> None:
    log = RequestLog.for_profile(tmp_path, "customer export")
    body = {"customer": {"email": "max@example.com", "firstname": "Max", "group_id": 1}, "password": "hunter2"}
    script = Script(status(200, {"access_token": "abc.def", "note": "mail anna@example.org now"}))
    async with client_for(script, request_log=log, headers={"Authorization": "Bearer secret-token"}) as http:
        await http.request("POST", "/rest/login", json=body, params={"password": "pw", "page": "1"})
    text = (tmp_path / "customer_export_request.log").read_text()
    for secret in ("hunter2", "max@example.com", "Max", "abc.def", "anna@example.org", "secret-token", "=pw"):
        assert secret not in text
    entry = json.loads(text)
    assert entry["request"]["customer"]["group_id"] == 1
    assert entry["status"] == 200
    assert "page=1" in entry["url"]


def test_placeholders_render_named_and_positional() -> None:
    assert render_placeholders("Invalid product data: %1", ["bad set"]) == "Invalid product data: bad set"
    assert render_placeholders("%a and %ab", {"a": "x", "ab": "y"}) == "x and y"
