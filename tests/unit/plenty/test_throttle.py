from __future__ import annotations

import asyncio

import httpx2
import pytest

from plentysync.errors import RateLimitedError
from plentysync.http.budget import WindowReading
from plentysync.plenty.throttle import parse_plenty_headers
from tests.unit.plenty.fakes import FakePlenty

pytestmark = pytest.mark.anyio

HEADERS = {
    "X-Plenty-Global-Short-Period-Limit": "200",
    "X-Plenty-Global-Short-Period-Calls-Left": "150",
    "X-Plenty-Global-Short-Period-Decay": "42",
    "X-Plenty-Global-Long-Period-Limit": "166000",
    "X-Plenty-Global-Long-Period-Calls-Left": "165000",
    "X-Plenty-Global-Long-Period-Decay": "29770",
    "x-plenty-route-limit": "10",
    "x-plenty-route-calls-left": "0",
    "x-plenty-route-decay": "5",
}


def test_all_three_windows_are_read() -> None:
    readings = parse_plenty_headers(HEADERS)
    assert readings == {
        "short": WindowReading(200, 150, 42.0),
        "long": WindowReading(166000, 165000, 29770.0),
        "route": WindowReading(10, 0, 5.0),
    }


def test_absent_or_garbled_headers_give_no_window() -> None:
    assert parse_plenty_headers({"Content-Type": "application/json"}) == {}
    readings = parse_plenty_headers({"X-Plenty-Global-Short-Period-Calls-Left": "n/a"})
    assert readings == {}


async def test_reads_and_writes_feed_separate_budgets() -> None:
    def read(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=[], headers={"X-Plenty-Global-Short-Period-Calls-Left": "150"})

    def write(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={}, headers={"X-Plenty-Global-Short-Period-Calls-Left": "70"})

    fake = FakePlenty(routes={"GET /rest/webstores": read, "PUT /rest/orders/1": write})
    async with fake.client() as plenty:
        await plenty.reference.webstores()
        await plenty.call("PUT", "/rest/orders/1", json={"statusId": 5})
        snapshot = plenty.budget_snapshot()
    short_read = {w.name: w.calls_left for w in snapshot["read"].windows}
    short_write = {w.name: w.calls_left for w in snapshot["write"].windows}
    assert short_read == {"short": 150}
    assert short_write == {"short": 70}


async def test_a_spent_window_makes_the_next_call_wait_for_the_decay() -> None:
    calls = []

    def read(_request: httpx2.Request) -> httpx2.Response:
        calls.append(asyncio.get_running_loop().time())
        headers = {"X-Plenty-Global-Short-Period-Calls-Left": "0", "X-Plenty-Global-Short-Period-Decay": "0.2"}
        return httpx2.Response(200, json=[], headers=headers)

    fake = FakePlenty(routes={"GET /rest/webstores": read})
    async with fake.client() as plenty:
        await plenty.reference.webstores()
        await plenty.reference.webstores()
        assert plenty.budget_snapshot()["read"].waits >= 1
    assert calls[1] - calls[0] >= 0.15


async def test_429_short_period_is_retried_after_retry_after() -> None:
    answers = iter(
        [
            httpx2.Response(
                429,
                json={"error": {"message": "short period read limit reached", "code": 429}},
                headers={"Retry-After": "0"},
            )
        ]
    )

    def read(_request: httpx2.Request) -> httpx2.Response:
        return next(answers, httpx2.Response(200, json=[{"id": 0}]))

    fake = FakePlenty(routes={"GET /rest/webstores": read})
    async with fake.client() as plenty:
        stores = await plenty.reference.webstores()
        assert plenty.budget_snapshot()["read"].throttled == 1
    assert len(stores) == 1


async def test_429_storm_longer_than_the_retry_budget_raises_rate_limited() -> None:
    def read(_request: httpx2.Request) -> httpx2.Response:
        body = {"error": {"message": "short period read limit reached", "code": 429}}
        return httpx2.Response(429, json=body, headers={"Retry-After": "0"})

    fake = FakePlenty(routes={"GET /rest/webstores": read})
    async with fake.client() as plenty:
        with pytest.raises(RateLimitedError, match="short period read limit reached"):
            await plenty.reference.webstores()
