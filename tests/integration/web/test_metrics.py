"""GET /metrics over real HTTP, parsed with prometheus_client's parser and checked against rows
inserted on every backend: queue rows by status, runs, worker API call counters summed with this
process's own, budgets (without usernames), drift and worker liveness."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from plentysync.db import Database
from plentysync.db.tables import profile, queue_item
from plentysync.http.stats import API_CALLS
from plentysync.sync.stock.config import EXPORT_TYPE_ID, IMPORT_TYPE_ID
from plentysync.web.app import create_app
from plentysync.web.metrics import serve_process_name
from tests.integration.web.rows import add_budget, add_drift, add_run, add_worker
from tests.integration.web.support import live, stock_engine, web_settings

pytestmark = [pytest.mark.anyio, pytest.mark.db]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> tuple[Samples, dict[str, str]]:
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def matching(samples: Samples, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
    want = set(labels.items())
    return {k: v for (n, k), v in samples.items() if n == name and want <= k}


async def scrape(db: Database) -> str:
    app = create_app(web_settings(), db=db)
    async with live(app) as url, httpx2.AsyncClient(base_url=url) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_queue_rows_by_status_and_oldest_pending(db: Database) -> None:
    engine = await stock_engine(db, web_settings())
    await engine.queue.enqueue(EXPORT_TYPE_ID, ["A", "B", "C", "D"], reason="poll")
    await engine.queue.enqueue(IMPORT_TYPE_ID, ["Z"], reason="poll")
    old = db.clock.now() - timedelta(minutes=10)
    await db.write(update(queue_item).where(queue_item.c.entity_key == "A").values(updated_at=old))
    await db.write(update(queue_item).where(queue_item.c.entity_key == "D").values(status="error"))
    await db.write(update(queue_item).where(queue_item.c.entity_key == "C").values(status="success"))
    samples, types = parse(await scrape(db))
    assert types["plentysync_queue_rows"] == "gauge"
    assert value(samples, "plentysync_queue_rows", profile=EXPORT_TYPE_ID, status="pending") == 2
    assert value(samples, "plentysync_queue_rows", profile=EXPORT_TYPE_ID, status="error") == 1
    assert value(samples, "plentysync_queue_rows", profile=EXPORT_TYPE_ID, status="success") == 1
    assert value(samples, "plentysync_queue_rows", profile=EXPORT_TYPE_ID, status="processing") == 0  # zeros too
    assert value(samples, "plentysync_queue_rows", profile=IMPORT_TYPE_ID, status="pending") == 1
    oldest = value(samples, "plentysync_queue_oldest_pending_seconds", profile=EXPORT_TYPE_ID)
    assert 595 < oldest < 700
    assert value(samples, "plentysync_database_up") == 1


async def test_run_metrics(db: Database) -> None:
    engine = await stock_engine(db, web_settings())
    record = await engine.profiles.find(EXPORT_TYPE_ID)
    assert record is not None
    now = db.clock.now()
    await add_run(db, record.id, EXPORT_TYPE_ID, status="success", started=now - timedelta(hours=2), seconds=3)
    await add_run(db, record.id, EXPORT_TYPE_ID, status="failed", started=now - timedelta(hours=1), seconds=45)
    await add_run(db, record.id, EXPORT_TYPE_ID, status="success", started=now - timedelta(days=3), seconds=9)
    await add_run(
        db, record.id, EXPORT_TYPE_ID, status="success", started=now - timedelta(minutes=5), seconds=1, dry_run=True
    )
    last = await add_run(
        db, record.id, EXPORT_TYPE_ID, status="partial", started=now - timedelta(minutes=2), seconds=90.5
    )
    await db.write(update(profile).where(profile.c.id == record.id).values(last_run_id=last, last_run_status="partial"))
    samples, types = parse(await scrape(db))
    assert value(samples, "plentysync_run_last_duration_seconds", profile=EXPORT_TYPE_ID) == pytest.approx(
        90.5, abs=0.01
    )
    assert value(samples, "plentysync_run_last_status", profile=EXPORT_TYPE_ID, status="partial") == 1
    assert value(samples, "plentysync_run_last_status", profile=EXPORT_TYPE_ID, status="success") == 0
    finished = value(samples, "plentysync_run_last_finished_timestamp_seconds", profile=EXPORT_TYPE_ID)
    assert finished == pytest.approx((now - timedelta(minutes=2)).timestamp() + 90.5, abs=1)
    assert value(samples, "plentysync_runs_retained", profile=EXPORT_TYPE_ID, status="success") == 3
    assert value(samples, "plentysync_runs_retained", profile=EXPORT_TYPE_ID, status="failed") == 1
    # the histogram: runs started in the last 24 h, dry runs left out -> 3 s, 45 s, 90.5 s
    assert types["plentysync_run_duration_seconds"] == "histogram"
    bucket = "plentysync_run_duration_seconds_bucket"
    assert value(samples, bucket, profile=EXPORT_TYPE_ID, le="1.0") == 0
    assert value(samples, bucket, profile=EXPORT_TYPE_ID, le="5.0") == 1
    assert value(samples, bucket, profile=EXPORT_TYPE_ID, le="60.0") == 2
    assert value(samples, bucket, profile=EXPORT_TYPE_ID, le="120.0") == 3
    assert value(samples, bucket, profile=EXPORT_TYPE_ID, le="+Inf") == 3
    assert value(samples, "plentysync_run_duration_seconds_gsum", profile=EXPORT_TYPE_ID) == pytest.approx(
        138.5, abs=0.01
    )


def calls(*rows: tuple[str, str, str, str, int]) -> list[dict[str, Any]]:
    return [{"system": s, "method": m, "route": r, "status": st, "count": n} for s, m, r, st, n in rows]


async def test_api_calls_and_workers(db: Database) -> None:
    now = db.clock.now()
    stock_route = "/rest/stockmanagement/warehouses/{id}/stock/bookIncomingItems"
    await add_worker(
        db,
        "host-a:1",
        now=now,
        api_calls=calls(("plenty", "PUT", stock_route, "200", 40), ("plenty", "PUT", stock_route, "429", 2)),
    )
    await add_worker(
        db,
        "host-b:2",
        now=now,
        age=300,
        api_calls=calls(("plenty", "PUT", stock_route, "429", 5), ("magento", "GET", "/rest/V1/products", "200", 7)),
    )
    await add_worker(db, "ancient:3", now=now, age=3 * 86_400, state="stopped")  # left out: a day without news
    API_CALLS.reset()
    API_CALLS.record("magento", "get", "/rest/V1/products/24-MG04", 200)
    try:
        samples, types = parse(await scrape(db))
    finally:
        API_CALLS.reset()
    assert types["plentysync_api_calls"] == "counter"
    calls_total = "plentysync_api_calls_total"
    assert (
        value(samples, calls_total, system="plenty", method="PUT", route=stock_route, status="200", worker="host-a:1")
        == 40
    )
    assert (
        value(samples, calls_total, system="plenty", method="PUT", route=stock_route, status="429", worker="host-b:2")
        == 5
    )
    own = matching(samples, calls_total, worker=serve_process_name())
    assert list(own.values()) == [1]
    assert ("route", "/rest/V1/products/{id}") in next(iter(own))
    assert value(samples, "plentysync_api_throttled_total", system="plenty", route=stock_route) == 7
    assert sum(matching(samples, calls_total).values()) == 40 + 2 + 5 + 7 + 1
    assert value(samples, "plentysync_worker_up", worker="host-a:1") == 1
    assert value(samples, "plentysync_worker_up", worker="host-b:2") == 0  # 300 s > lost_after 30 s
    assert 290 < value(samples, "plentysync_worker_heartbeat_age_seconds", worker="host-b:2") < 400
    assert not matching(samples, "plentysync_worker_up", worker="ancient:3")


async def test_budget_and_drift(db: Database) -> None:
    now = db.clock.now()
    epoch = now.timestamp()
    account = "https://p12345.my.plentysystems.com|rest-user"
    await add_budget(
        db,
        account,
        "write",
        windows={
            "minute": {"limit": 60, "left": 12, "resets_at": epoch + 40},
            "day": {"limit": 10_000, "left": 0, "resets_at": epoch - 5},  # reset since the reading
        },
        holders={"w1": epoch + 30, "w2": epoch - 30},
        blocked_until=epoch + 15,
        throttled=9,
        now=now,
    )
    for sku, consecutive in (("D-1", 1), ("D-2", 2), ("D-3", 5)):
        await add_drift(db, sku, consecutive=consecutive, now=now)
    text = await scrape(db)
    assert "rest-user" not in text
    samples, _ = parse(text)
    [(labels, left)] = matching(samples, "plentysync_api_budget_left", kind="write", window="minute").items()
    acct = dict(labels)["account"]
    assert acct.startswith("https://p12345.my.plentysystems.com#")
    assert left == 12
    assert value(samples, "plentysync_api_budget_left", account=acct, kind="write", window="day") == 10_000
    assert value(samples, "plentysync_api_budget_limit", account=acct, kind="write", window="minute") == 60
    assert (
        30
        < value(samples, "plentysync_api_budget_resets_in_seconds", account=acct, kind="write", window="minute")
        <= 40
    )
    assert value(samples, "plentysync_api_budget_throttled_total", account=acct, kind="write") == 9
    assert 5 < value(samples, "plentysync_api_budget_blocked_seconds", account=acct, kind="write") <= 15
    assert value(samples, "plentysync_api_budget_in_flight", account=acct, kind="write") == 1
    assert value(samples, "plentysync_stock_drift_skus") == 3
    assert value(samples, "plentysync_stock_drift_persistent_skus") == 2


async def test_empty_database_scrapes(db: Database) -> None:
    samples, types = parse(await scrape(db))
    assert value(samples, "plentysync_database_up") == 1
    assert value(samples, "plentysync_stock_drift_skus") == 0
    assert "plentysync_queue_rows" in types
