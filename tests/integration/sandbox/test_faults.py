"""The fault injector over real HTTP: each fault looks to a client the way it would in production,
and drop_after really applies the write before the connection dies."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from plentysync.sandbox.faults import FaultInjector, FaultMiddleware, FaultRule
from plentysync.sandbox.recorder import Recorder, RecordingMiddleware
from plentysync.sandbox.server import RunningServer, serving


class Counter:
    def __init__(self) -> None:
        self.writes = 0
        self.expired = 0

    def expire_tokens(self) -> None:
        self.expired += 1


@pytest.fixture
def setup() -> Iterator[tuple[RunningServer, FaultInjector, Counter, Recorder]]:
    counter = Counter()

    async def write(_request: Request) -> JSONResponse:
        counter.writes += 1
        return JSONResponse({"writes": counter.writes})

    async def read(_request: Request) -> JSONResponse:
        return JSONResponse({"writes": counter.writes})

    app = Starlette(routes=[Route("/w", write, methods=["POST"]), Route("/r", read)])
    injector = FaultInjector()
    recorder = Recorder()
    wrapped = FaultMiddleware(
        RecordingMiddleware(app, recorder, system="plenty"), injector, system="plenty", tokens=counter
    )
    with serving(wrapped) as server:
        yield server, injector, counter, recorder


def test_drop_after_applies_the_write_and_the_client_sees_a_dead_connection(
    setup: tuple[RunningServer, FaultInjector, Counter, Recorder],
) -> None:
    server, injector, counter, _ = setup
    injector.add(FaultRule("drop_after", method="POST", path="^/w$", times=1))
    with httpx2.Client(base_url=server.url) as http:
        with pytest.raises(httpx2.TransportError):
            http.post("/w")
        assert counter.writes == 1
        assert http.post("/w").json() == {"writes": 2}


def test_drop_before_never_reaches_the_app(setup: tuple[RunningServer, FaultInjector, Counter, Recorder]) -> None:
    server, injector, counter, recorder = setup
    injector.add(FaultRule("drop_before", path="/w", times=2))
    with httpx2.Client(base_url=server.url) as http:
        for _ in range(2):
            with pytest.raises(httpx2.TransportError):
                http.post("/w")
        assert http.post("/w").json() == {"writes": 1}
    assert counter.writes == 1
    assert recorder.count("POST", "/w") == 1


def test_rate_limit_status_skip_and_times(setup: tuple[RunningServer, FaultInjector, Counter, Recorder]) -> None:
    server, injector, _, _ = setup
    injector.add(FaultRule("rate_limit", path="^/r$", skip=1, times=2, retry_after=3))
    with httpx2.Client(base_url=server.url) as http:
        codes = [http.get("/r") for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 429, 429, 200]
    assert codes[1].headers["Retry-After"] == "3"
    assert codes[1].json()["error"]["message"] == "short period read limit reached"


def test_latency_and_expired_tokens(setup: tuple[RunningServer, FaultInjector, Counter, Recorder]) -> None:
    server, injector, counter, _ = setup
    injector.add(FaultRule("latency", latency_ms=150))
    injector.add(FaultRule("expire_token", times=1))
    with httpx2.Client(base_url=server.url) as http:
        started = time.perf_counter()
        http.get("/r")
        assert time.perf_counter() - started >= 0.15
        http.get("/r")
    assert counter.expired == 1


def test_faults_are_controlled_over_http(setup: tuple[RunningServer, FaultInjector, Counter, Recorder]) -> None:
    server, injector, _, _ = setup
    with httpx2.Client(base_url=server.url) as http:
        added = http.post("/__sandbox/faults", json={"kind": "status", "status": 502, "path": "^/r$", "times": 1})
        assert added.status_code == 200
        assert http.get("/r").status_code == 502
        assert http.get("/r").status_code == 200
        listed = http.get("/__sandbox/faults").json()
        assert listed[0]["fired"] == 1
        assert http.post("/__sandbox/faults", json={"kind": "explode"}).status_code == 400
        http.delete("/__sandbox/faults")
    assert injector.rules() == []


def test_command_line_form_parses() -> None:
    rule = FaultRule.parse("status:status=500,times=3,path=/rest/orders,probability=0.5")
    assert (rule.kind, rule.status, rule.times, rule.path, rule.probability) == ("status", 500, 3, "/rest/orders", 0.5)
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule.parse("meteor")
    with pytest.raises(ValueError, match="not key=value"):
        FaultRule.parse("latency:fast")
