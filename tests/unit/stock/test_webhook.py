"""The webhook intake core: HMAC signatures bound to a timestamp (good, bad, replayed, skewed), the payload
forms it accepts and the ones it refuses, and that intake queues urgently with reason webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any, cast

import pytest

from plentysync.engine.queue import PRIORITY_URGENT, CoalescingQueue, EnqueueResult
from plentysync.errors import ConfigError
from plentysync.sync.stock import webhook
from plentysync.sync.stock.webhook import WebhookRejected, intake, parse_skus, sign, verify

pytestmark = pytest.mark.anyio

SECRET = "shared-secret"
NOW = 1_780_000_000.0
BODY = b'{"skus": ["A-1"]}'


def signed(body: bytes = BODY, at: float = NOW, secret: str = SECRET) -> dict[str, Any]:
    stamp = str(int(at))
    return {"signature": sign(secret, stamp, body), "timestamp": stamp}


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b"123." + BODY, hashlib.sha256).hexdigest()
    assert sign("k", 123, BODY) == f"sha256={expected}"
    assert sign("k", "123", BODY) == sign("k", 123, BODY)


def test_a_correct_signature_passes() -> None:
    verify(SECRET, BODY, now=NOW, **signed())
    headers = signed()
    digest = headers["signature"].removeprefix("sha256=")
    verify(SECRET, BODY, now=NOW + 299, signature=f"SHA256={digest.upper()}", timestamp=headers["timestamp"])


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (signed(secret="wrong"), "does not match"),
        (signed(body=b'{"skus": ["B-2"]}'), "does not match"),
        ({"signature": signed()["signature"], "timestamp": str(int(NOW) + 1)}, "does not match"),
        ({"signature": None, "timestamp": str(int(NOW))}, "missing signature"),
        ({"signature": signed()["signature"], "timestamp": None}, "missing timestamp"),
        ({"signature": signed()["signature"], "timestamp": "yesterday"}, "malformed timestamp"),
        ({"signature": "md5=abc", "timestamp": str(int(NOW))}, "malformed signature"),
        ({"signature": signed()["signature"].removeprefix("sha256="), "timestamp": str(int(NOW))}, "malformed"),
    ],
)
def test_bad_signatures_are_rejected(headers: dict[str, Any], reason: str) -> None:
    with pytest.raises(WebhookRejected, match=reason) as caught:
        verify(SECRET, BODY, now=NOW, **headers)
    assert caught.value.unauthenticated


def test_a_replayed_request_is_rejected_once_the_window_passed() -> None:
    headers = signed(at=NOW - 301)
    with pytest.raises(WebhookRejected, match="replayed"):
        verify(SECRET, BODY, now=NOW, **headers)
    verify(SECRET, BODY, now=NOW, tolerance=600, **headers)


def test_a_timestamp_from_the_future_is_rejected() -> None:
    with pytest.raises(WebhookRejected, match="in the future"):
        verify(SECRET, BODY, now=NOW, **signed(at=NOW + 301))


def test_no_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        verify("", BODY, now=NOW, **signed())


@pytest.mark.parametrize(
    ("payload", "skus"),
    [
        ({"entity": "stock", "keys": ["A-1", "B-2", "A-1"]}, ["A-1", "B-2"]),
        ({"skus": [" A-1 ", "B/2"]}, ["A-1", "B/2"]),
        (
            {
                "eventName": "plugin.magento.inventory_api.api.source_items_save.execute",
                "data": {"value": {"sourceItems": [{"sku": "S-1", "source_code": "default"}, {"sku": "S-2"}]}},
            },
            ["S-1", "S-2"],
        ),
        ({"eventName": "observer.catalog_product_save_after", "data": {"value": {"sku": "P-1", "qty": 3}}}, ["P-1"]),
        (
            {"data": {"value": {"product": {"sku": "P-1", "extension_attributes": {"stock_item": {"sku": "P-1"}}}}}},
            ["P-1"],
        ),
    ],
)
def test_payload_forms(payload: dict[str, Any], skus: list[str]) -> None:
    assert parse_skus(json.dumps(payload).encode()) == skus


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'["A-1"]', "JSON object"),
        (b'{"entity": "order", "keys": ["1"]}', '"entity" must be "stock"'),
        (b'{"keys": ["A-1"]}', '"entity" must be "stock"'),
        (b'{"skus": "A-1"}', "must be a list"),
        (b'{"skus": ["A-1", 7, ""]}', "2 entries that are not SKUs"),
        (b'{"skus": []}', "no SKUs"),
        (b'{"eventName": "x", "data": {"value": {"order_id": 5}}}', 'no "sku" found'),
        (b'{"hello": "world"}', "unrecognised payload"),
    ],
)
def test_other_payloads_are_rejected(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookRejected, match=reason) as caught:
        parse_skus(body)
    assert not caught.value.unauthenticated


def test_limits() -> None:
    with pytest.raises(WebhookRejected, match="larger than"):
        parse_skus(b" " * (webhook.MAX_BODY_BYTES + 1))
    too_many = json.dumps({"skus": [f"S-{i}" for i in range(webhook.MAX_SKUS + 1)]}).encode()
    with pytest.raises(WebhookRejected, match="split it"):
        parse_skus(too_many)


def nested(depth: int) -> bytes:
    return ('{"data": ' + '{"c": ' * depth + '{"sku": "DEEP"}' + "}" * depth + "}").encode()


def test_deeply_nested_payloads() -> None:
    assert parse_skus(nested(500)) == ["DEEP"]
    with pytest.raises(WebhookRejected, match="nested too deeply"):
        parse_skus(nested(100_000))


class RecordingQueue:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], str, int]] = []

    async def enqueue(self, profile_type: str, keys: Iterable[str], *, reason: str, priority: int) -> EnqueueResult:
        listed = list(keys)
        self.calls.append((profile_type, listed, reason, priority))
        return EnqueueResult(requested=len(listed), inserted=len(listed), updated=0)


async def test_intake_verifies_then_queues_urgently() -> None:
    queue = RecordingQueue()
    body = b'{"entity": "stock", "keys": ["A-1", "B-2"]}'
    result = await intake(cast(CoalescingQueue, queue), body, secret=SECRET, now=NOW, **signed(body))
    assert result.inserted == 2
    assert queue.calls == [("plenty_stock_export", ["A-1", "B-2"], "webhook", PRIORITY_URGENT)]
    with pytest.raises(WebhookRejected):
        await intake(cast(CoalescingQueue, queue), body, secret=SECRET, now=NOW + 1000, **signed(body))
    assert len(queue.calls) == 1
