"""GET /healthz over real HTTP: the database check, worker liveness (none registered, fresh, stale,
stopped), the broker as the injected publisher reports it, and budget limits without credentials."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest

from plentysync.db import Database
from plentysync.runtime.urgent import Publisher
from plentysync.settings import Settings
from plentysync.web.app import create_app
from tests.integration.web.rows import add_budget, add_worker
from tests.integration.web.support import live, web_settings

pytestmark = pytest.mark.anyio


class ProbedPublisher:
    def __init__(self, healthy: bool) -> None:
        self._healthy = healthy

    async def publish(self, profile_type: str, keys: Sequence[str], *, reason: str) -> bool:
        return True

    async def healthy(self) -> bool:
        return self._healthy


class PlainPublisher:
    async def publish(self, profile_type: str, keys: Sequence[str], *, reason: str) -> bool:
        return True


async def healthz(
    db: Database, *, publisher: Publisher | None = None, settings: Settings | None = None
) -> AsyncIterator[httpx2.Response]:
    settings = settings or web_settings()
    app = create_app(settings, db=db, publisher=publisher)
    async with live(app) as url, httpx2.AsyncClient(base_url=url) as client:
        yield await client.get("/healthz")


async def get(db: Database, **kwargs: Any) -> httpx2.Response:
    async for response in healthz(db, **kwargs):
        return response
    raise AssertionError("unreachable")


@pytest.mark.db
async def test_no_worker_registered_is_healthy(db: Database) -> None:
    response = await get(db)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["reasons"] == []
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["workers"]["status"] == "none_registered"
    assert body["checks"]["broker"] == {"status": "not_configured"}
    assert body["checks"]["api_budget"] == {"status": "ok", "accounts": []}


@pytest.mark.db
async def test_fresh_worker_is_healthy_stale_or_stopped_is_not(db: Database) -> None:
    now = db.clock.now()
    await add_worker(db, "w-stale", now=now, age=120)
    response = await get(db)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["workers"]["status"] == "lost"
    assert body["reasons"] == [
        "workers: the only running worker has not sent a heartbeat in the last 30 s (the last 120 s ago)"
    ]

    await add_worker(db, "w-stopped", now=now, age=2, state="stopped")
    assert (await get(db)).status_code == 503  # a cleanly stopped worker does not work either

    await add_worker(db, "w-fresh", now=now, age=2)
    response = await get(db)
    assert response.status_code == 200
    workers = response.json()["checks"]["workers"]
    assert (workers["status"], workers["registered"], workers["alive"]) == ("alive", 3, 1)
    assert 1.5 <= workers["last_heartbeat_age_seconds"] < 30


@pytest.mark.db
async def test_a_stopped_worker_with_a_fresh_heartbeat_is_not_called_silent(db: Database) -> None:
    """The reason must agree with last_heartbeat_age_seconds next to it: a worker that stopped 26 s ago
    did send a heartbeat within the window; what is wrong is that none is running."""
    now = db.clock.now()
    await add_worker(db, "w-stopped", now=now, age=26, state="stopped")
    await add_worker(db, "w-old", now=now, age=3600, state="stopped")
    response = await get(db)
    assert response.status_code == 503
    body = response.json()
    workers = body["checks"]["workers"]
    assert 25 <= workers["last_heartbeat_age_seconds"] < 30  # inside the 30 s window
    assert workers["last_heartbeat_state"] == "stopped"
    assert workers["running"] == 0
    [reason] = body["reasons"]
    assert "in the last" not in reason
    assert reason.startswith("workers: no running worker (2 registered, all stopped or lost)")
    assert "came from a stopped worker" in reason

    await add_worker(db, "w-quiet", now=now, age=90)  # running, but silent for 90 s
    [reason] = (await get(db)).json()["reasons"]
    assert reason == (
        "workers: the only running worker has not sent a heartbeat in the last 30 s (the last 90 s ago); "
        "2 more are stopped or lost"
    )


@pytest.mark.db
async def test_budget_limits_are_reported_without_the_username(db: Database) -> None:
    now = db.clock.now()
    epoch = time.time()
    account = "https://shop.plentymarkets-cloud01.com|api-user@example.com"
    await add_budget(
        db,
        account,
        "write",
        windows={"minute": {"limit": 60, "left": 0, "resets_at": epoch + 30}, "day": {"limit": 1000, "left": 900}},
        blocked_until=epoch + 20,
        throttled=3,
        now=now,
    )
    await add_budget(
        db, account, "read", windows={"minute": {"limit": 60, "left": 50, "resets_at": epoch + 30}}, now=now
    )
    response = await get(db)
    assert response.status_code == 200  # a spent budget is waited out, not a failure
    budget = response.json()["checks"]["api_budget"]
    assert budget["status"] == "limited"
    [limited] = budget["accounts"]
    assert limited["kind"] == "write"
    assert limited["spent_windows"] == ["minute"]
    assert 15 < limited["blocked_for_seconds"] <= 20
    assert limited["account"].startswith("https://shop.plentymarkets-cloud01.com#")
    assert "api-user" not in response.text


@pytest.mark.db
@pytest.mark.parametrize(
    ("publisher", "status"),
    [(ProbedPublisher(True), "connected"), (ProbedPublisher(False), "disconnected"), (PlainPublisher(), "configured")],
    ids=["connected", "disconnected", "no-probe"],
)
async def test_broker_state_comes_from_the_publisher(db: Database, publisher: Publisher, status: str) -> None:
    response = await get(db, publisher=publisher)
    assert response.status_code == 200  # the database queue works without the broker
    assert response.json()["checks"]["broker"] == {"status": status}


@pytest.mark.db
async def test_broker_configured_but_unusable(db: Database) -> None:
    settings = Settings(broker_url="amqp://guest:guest@127.0.0.1:1/")
    response = await get(db, settings=settings)
    assert response.json()["checks"]["broker"] == {"status": "unavailable"}
    assert "guest" not in response.text


async def test_database_down_is_503_and_metrics_say_so() -> None:
    # A server that refuses connections: nothing listens on port 1.
    down = Database("postgresql+psycopg://plentysync:secret-pw@127.0.0.1:1/plentysync")
    try:
        app = create_app(web_settings(), db=down)
        async with live(app) as url, httpx2.AsyncClient(base_url=url) as client:
            response = await client.get("/healthz")
            assert response.status_code == 503
            body = response.json()
            assert body["checks"]["database"]["status"] == "down"
            assert body["reasons"] == ["database: unreachable"]
            assert "secret-pw" not in response.text
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200
            assert "plentysync_database_up 0.0" in metrics.text
    finally:
        await down.dispose()


async def test_lifespan_opens_its_own_database(tmp_path: Path) -> None:
    """Without ``db`` the app opens (and migrates, on SQLite) the database of its settings."""
    path = tmp_path / "own" / "plentysync.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}")
    app = create_app(settings)
    async with live(app) as url, httpx2.AsyncClient(base_url=url) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert path.exists()
