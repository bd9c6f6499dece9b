"""``bench/runtime_bench.py`` at a tiny size, so the benchmark cannot rot: each scenario runs end to end
against PostgreSQL (and RabbitMQ for the webhook path) and its invariants hold. No timing is asserted
(benchmarks measure, tests check)."""

from __future__ import annotations

import pytest
from bench import runtime_bench
from bench.runtime_support import ADMIN_URL
from sqlalchemy import create_engine, text

from tests.databases import unavailable
from tests.integration.broker_support import require_broker

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def postgres() -> None:
    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        unavailable(f"PostgreSQL is not reachable for the runtime benchmark: {exc}")


@pytest.mark.usefixtures("postgres")
async def test_drain_books_every_sku_once_under_the_shared_budget() -> None:
    result = await runtime_bench.drain(400, workers=2, write_limit=20, window=1.0, shared=True, within=120)
    assert result["status_429"] == 0
    assert result["movements"]["exactly_one"] == 400
    assert result["movements"]["more_than_one"] == 0
    assert result["stock_booking"]["distinct_sku_warehouse"] == result["stock_booking"]["rows"] == 400
    assert sum(result["rows_by_worker_heartbeat"].values()) == 400
    assert result["queue"] == {"success": 400, "error": 0, "pending": 0}
    assert result["write_calls"] >= result["write_calls_ideal"] == 4


@pytest.mark.usefixtures("postgres")
async def test_webhook_path_books_each_change() -> None:
    await require_broker()
    result = await runtime_bench.webhook_latency(3, spacing=0.2, burst=3)
    assert result["movements"]["exactly_one"] == 6
    assert result["webhooks"] == 6
    assert result["published"] == 6
    assert result["spaced"]["latency_s"]["max"] > 0
    assert result["broker_objects_deleted"]


@pytest.mark.usefixtures("postgres")
async def test_poller_path_books_each_change() -> None:
    result = await runtime_bench.poller_latency(
        3, cycles=0.2, interval=5, worker_env={"PLENTYSYNC_WORKER__DRAIN_IDLE_SECONDS": "0.5"}
    )
    assert result["movements"]["exactly_one"] == 3
    assert result["polls_during"] >= 1
    assert result["latency_s"]["max"] > 0
