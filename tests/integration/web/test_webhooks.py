"""POST /webhooks/stock over real HTTP on every backend: the accepted payload forms queue urgent rows
(read back from queue_item), every refusal answers its status and queues nothing, replays are refused
across serve processes, and the broker publisher is told (or its failure tolerated)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from plentysync.db import Database
from plentysync.db.tables import queue_item, sync_state
from plentysync.engine.queue import PRIORITY_URGENT
from plentysync.runtime.urgent import Publisher
from plentysync.settings import Settings
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.web.app import create_app
from plentysync.web.replay import PREFIX
from plentysync.web.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.integration.web.support import body_of, live, signed_headers, stock_engine, web_settings

pytestmark = [pytest.mark.anyio, pytest.mark.db]

ADOBE_COMMERCE_EVENT: dict[str, Any] = {
    "eventName": "observer.inventory_source_items_save_after",
    "data": {
        "value": {
            "sourceItems": [
                {"sku": "MS-1", "source_code": "default", "quantity": 4, "status": 1},
                {"sku": "MS-2", "source_code": "berlin", "quantity": 0, "status": 0},
                {"sku": "MS-1", "source_code": "hamburg", "quantity": 2, "status": 1},
            ]
        }
    },
}


class RecordingPublisher:
    def __init__(self, answer: bool = True, *, fail: bool = False) -> None:
        self.answer = answer
        self.fail = fail
        self.calls: list[tuple[str, list[str], str]] = []

    async def publish(self, profile_type: str, keys: Sequence[str], *, reason: str) -> bool:
        self.calls.append((profile_type, list(keys), reason))
        if self.fail:
            raise ConnectionError("broker gone")
        return self.answer


async def queued(db: Database) -> dict[str, tuple[str, int, str]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(
                queue_item.c.entity_key, queue_item.c.profile_type, queue_item.c.priority, queue_item.c.status
            ).where(queue_item.c.trigger_reason == "webhook")
        )
        return {key: (ptype, priority, status) for key, ptype, priority, status in rows}


async def all_rows(db: Database) -> int:
    async with db.read() as conn:
        return len((await conn.execute(select(queue_item.c.id))).all())


class Served:
    def __init__(self, client: httpx2.AsyncClient) -> None:
        self.client = client

    async def post(self, payload: Any = None, *, raw: bytes | None = None, **sign: Any) -> httpx2.Response:
        body = raw if raw is not None else body_of(payload)
        return await self.client.post("/webhooks/stock", content=body, headers=signed_headers(body, **sign))


async def serve(
    db: Database, settings: Settings | None = None, *, publisher: Publisher | None = None, profile: bool = True
) -> AsyncIterator[Served]:
    settings = settings or web_settings()
    engine = await stock_engine(db, settings, profile=profile)
    app = create_app(settings, db=db, publisher=publisher, registry=engine.registry)
    async with live(app) as url, httpx2.AsyncClient(base_url=url, timeout=10) as client:
        yield Served(client)


@pytest.fixture
async def served(db: Database) -> AsyncIterator[Served]:
    async for s in serve(db):
        yield s


async def test_skus_form_queues_urgent_rows(db: Database, served: Served) -> None:
    response = await served.post({"skus": ["24-MG04", "WSH12", "24-MG04"]})
    assert response.status_code == 202, response.text
    assert response.json() == {"queued": 2, "coalesced": 0, "published": False, "skus": 2}
    assert await queued(db) == {
        "24-MG04": (EXPORT_TYPE_ID, PRIORITY_URGENT, "pending"),
        "WSH12": (EXPORT_TYPE_ID, PRIORITY_URGENT, "pending"),
    }


async def test_entity_keys_form_and_coalescing_with_a_routine_row(db: Database, served: Served) -> None:
    engine_queue = (await stock_engine(db, web_settings(), profile=False)).queue
    await engine_queue.enqueue(EXPORT_TYPE_ID, ["A-1"], reason="poll")  # routine priority 100
    response = await served.post({"entity": "stock", "keys": ["A-1", "A-2"]})
    assert response.status_code == 202, response.text
    assert response.json() == {"queued": 1, "coalesced": 1, "published": False, "skus": 2}
    rows = await queued(db)
    assert rows["A-1"] == (EXPORT_TYPE_ID, PRIORITY_URGENT, "pending")  # moved ahead, reason webhook
    assert rows["A-2"] == (EXPORT_TYPE_ID, PRIORITY_URGENT, "pending")


async def test_adobe_commerce_payload_takes_every_sku_under_data(db: Database, served: Served) -> None:
    response = await served.post(ADOBE_COMMERCE_EVENT)
    assert response.status_code == 202, response.text
    assert response.json()["skus"] == 2
    assert set(await queued(db)) == {"MS-1", "MS-2"}


async def test_wrong_secret_missing_headers_and_stale_timestamp_are_401(db: Database, served: Served) -> None:
    wrong = await served.post({"skus": ["X-1"]}, secret="not-the-secret")
    assert wrong.status_code == 401
    assert "signature does not match" in wrong.json()["detail"]
    assert "HMAC-SHA256" in wrong.headers["www-authenticate"]
    unsigned = await served.client.post("/webhooks/stock", json={"skus": ["X-1"]})
    assert unsigned.status_code == 401
    assert "missing signature" in unsigned.json()["detail"]
    stale = await served.post({"skus": ["X-1"]}, at=time.time() - 301)
    assert stale.status_code == 401
    assert "s old" in stale.json()["detail"]
    future = await served.post({"skus": ["X-1"]}, at=time.time() + 600)
    assert future.status_code == 401
    body = body_of({"skus": ["X-1"]})
    tampered = signed_headers(body)
    tampered_body = body_of({"skus": ["X-1", "X-2"]})
    assert (await served.client.post("/webhooks/stock", content=tampered_body, headers=tampered)).status_code == 401
    assert await all_rows(db) == 0


async def test_bad_payloads_are_400(db: Database, served: Served) -> None:
    for raw, message in (
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"entity": "order", "keys": ["1"]}', '"entity" must be "stock"'),
        (b'{"skus": []}', "no SKUs"),
        (b'{"data": {"value": {"qty": 1}}}', 'no "sku" found'),
    ):
        response = await served.post(raw=raw)
        assert response.status_code == 400, raw
        assert message in response.json()["detail"]
    assert await all_rows(db) == 0


async def test_exact_replay_is_refused_and_a_fresh_signature_is_accepted(db: Database, served: Served) -> None:
    body = body_of({"skus": ["R-1"]})
    headers = signed_headers(body)
    first = await served.client.post("/webhooks/stock", content=body, headers=headers)
    assert first.status_code == 202
    replay = await served.client.post("/webhooks/stock", content=body, headers=headers)
    assert replay.status_code == 409
    assert "accepted before" in replay.json()["detail"]
    # same signed request with the digest in upper case: still the same request
    shouted = {**headers, SIGNATURE_HEADER: "sha256=" + headers[SIGNATURE_HEADER].partition("=")[2].upper()}
    assert (await served.client.post("/webhooks/stock", content=body, headers=shouted)).status_code == 409
    fresh = await served.post(raw=body, at=time.time() + 1)
    assert fresh.status_code == 202
    assert fresh.json()["coalesced"] == 1
    async with db.read() as conn:
        marks = (await conn.execute(select(sync_state.c.name).where(sync_state.c.name.startswith(PREFIX)))).all()
    assert len(marks) == 2
    assert all(headers[SIGNATURE_HEADER].partition("=")[2] not in name for (name,) in marks)  # only hashes stored


async def test_replay_is_refused_by_another_serve_process(db: Database) -> None:
    body = body_of({"skus": ["R-2"]})
    headers = signed_headers(body)
    async for one in serve(db):
        assert (await one.client.post("/webhooks/stock", content=body, headers=headers)).status_code == 202
    # a second application on the same database (another process) remembers it too
    settings = web_settings()
    app = create_app(settings, db=db)
    async with live(app) as url, httpx2.AsyncClient(base_url=url) as client:
        assert (await client.post("/webhooks/stock", content=body, headers=headers)).status_code == 409


async def test_no_secret_is_503(db: Database) -> None:
    async for s in serve(db, web_settings(secret=None)):
        response = await s.post({"skus": ["N-1"]})
        assert response.status_code == 503
        assert "serve.webhook.secret" in response.json()["detail"]
    assert await all_rows(db) == 0


async def test_oversize_body_is_413_with_and_without_content_length(db: Database) -> None:
    async for s in serve(db, web_settings(max_body_bytes=1024)):
        big = body_of({"skus": [f"SKU-{i:05d}" for i in range(200)]})
        assert len(big) > 1024
        assert (await s.post(raw=big)).status_code == 413

        async def chunks(big: bytes = big) -> AsyncIterator[bytes]:
            for start in range(0, len(big), 256):
                yield big[start : start + 256]

        streamed = await s.client.post("/webhooks/stock", content=chunks(), headers=signed_headers(big))
        assert streamed.status_code == 413
        assert (await s.post({"skus": ["S-1"]})).status_code == 202  # the limit leaves small bodies alone
    assert set(await queued(db)) == {"S-1"}


async def test_a_limit_above_one_mib_accepts_bodies_above_one_mib(db: Database) -> None:
    """The parser has no limit of its own: serve.webhook.max_body_bytes decides (it answered 400 over 1 MiB)."""
    async for s in serve(db, web_settings(max_body_bytes=2 * 1_048_576)):
        padded = b'{"skus": ["BIG-1"]}' + b" " * 1_100_000
        response = await s.post(raw=padded)
        assert response.status_code == 202, response.text
        too_big = b'{"skus": ["BIG-2"]}' + b" " * (2 * 1_048_576)
        assert (await s.post(raw=too_big)).status_code == 413
    assert set(await queued(db)) == {"BIG-1"}


async def test_a_body_that_is_not_declared_json_is_415(db: Database, served: Served) -> None:
    body = body_of({"skus": ["CT-1"]})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = signed_headers(body)
        if content_type is None:
            del headers["Content-Type"]
        else:
            headers["Content-Type"] = content_type
        response = await served.client.post("/webhooks/stock", content=body, headers=headers)
        assert response.status_code == 415, (content_type, response.text)
        assert "application/json" in response.json()["detail"]
        assert response.headers["accept"] == "application/json"
    unsigned = await served.client.post("/webhooks/stock", content=body, headers={"Content-Type": "text/plain"})
    assert unsigned.status_code == 401  # the signature is checked first: only a signed sender learns more
    assert await all_rows(db) == 0
    for content_type in ("application/json; charset=utf-8", "Application/JSON", "application/cloudevents+json"):
        headers = {**signed_headers(body, at=time.time() + len(content_type)), "Content-Type": content_type}
        response = await served.client.post("/webhooks/stock", content=body, headers=headers)
        assert response.status_code == 202, (content_type, response.text)


async def test_missing_profile_is_503_and_the_request_can_be_retried(db: Database) -> None:
    body = body_of({"skus": ["P-1"]})
    headers = signed_headers(body)
    async for s in serve(db, profile=False):
        response = await s.client.post("/webhooks/stock", content=body, headers=headers)
        assert response.status_code == 503
        assert EXPORT_TYPE_ID in response.json()["detail"]
        assert await all_rows(db) == 0
        await stock_engine(db, web_settings())  # creates the export profile
        again = await s.client.post("/webhooks/stock", content=body, headers=headers)
        assert again.status_code == 202  # not taken for a replay: the first attempt was not accepted


async def test_publisher_is_told_and_its_answer_reported(db: Database) -> None:
    ok = RecordingPublisher(True)
    async for s in serve(db, publisher=ok):
        response = await s.post({"skus": ["B-1", "B-2"]})
        assert response.status_code == 202
        assert response.json()["published"] is True
    assert ok.calls == [(EXPORT_TYPE_ID, ["B-1", "B-2"], "webhook")]


@pytest.mark.parametrize(
    "publisher", [RecordingPublisher(False), RecordingPublisher(fail=True)], ids=["false", "raises"]
)
async def test_publisher_failure_still_queues(db: Database, publisher: RecordingPublisher) -> None:
    publisher.calls.clear()
    async for s in serve(db, publisher=publisher):
        response = await s.post({"skus": ["F-1"]})
        assert response.status_code == 202
        assert response.json() == {"queued": 1, "coalesced": 0, "published": False, "skus": 1}
    assert len(publisher.calls) == 1
    assert await queued(db) == {"F-1": (EXPORT_TYPE_ID, PRIORITY_URGENT, "pending")}


async def test_headers_are_named_as_documented(served: Served) -> None:
    schema = (await served.client.get("/openapi.json")).json()
    params = schema["paths"]["/webhooks/stock"]["post"]["parameters"]
    assert {p["name"] for p in params} == {SIGNATURE_HEADER, TIMESTAMP_HEADER}
