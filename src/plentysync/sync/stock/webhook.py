"""Stock change notifications pushed to plentysync: the webhook intake, without any web framework
(``plentysync serve`` puts it behind an HTTP endpoint).

A sender signs ``f"{timestamp}.".encode() + body`` with HMAC-SHA256 under the shared secret and sends the
hex digest as ``sha256=<hex>`` with the Unix timestamp it signed. Binding the timestamp into the
signature and refusing old (or far future) timestamps stops a captured request from being replayed
later; a replay inside the tolerance window only queues the same SKUs again, which the coalescing
queue absorbs.

Accepted bodies: ``{"entity": "stock", "keys": [...]}``, ``{"skus": [...]}``, and Adobe Commerce
webhook payloads (``{"eventName": ..., "data": {...}}``), from which every ``sku`` under ``data`` is
taken (``data.value.sourceItems[].sku``, ``data.value.sku``, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from plentysync.engine.queue import MAX_KEY_LENGTH, PRIORITY_URGENT, CoalescingQueue, EnqueueResult
from plentysync.errors import ConfigError, PlentysyncError
from plentysync.sync.stock.config import EXPORT_TYPE_ID

SCHEME = "sha256"
DEFAULT_TOLERANCE = 300.0
"""Seconds a signed timestamp stays acceptable, either way (clock skew between sender and us)."""
MAX_BODY_BYTES = 1_048_576
MAX_SKUS = 10_000
ENTITY = "stock"
_TIMESTAMP = re.compile(r"^\d{1,12}(?:\.\d{1,6})?$")
_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")
_FORMS = (
    '{"entity": "stock", "keys": [...]}, {"skus": [...]} or an Adobe Commerce webhook payload '
    '({"eventName": ..., "data": {...}} with "sku" fields under data)'
)


class WebhookRejected(PlentysyncError):  # noqa: N818 - a refusal, not a failure of ours
    """The request is refused; the message says why (the endpoint answers 401 or 400 with it)."""

    def __init__(self, message: str, *, unauthenticated: bool = False) -> None:
        super().__init__(message)
        self.unauthenticated = unauthenticated
        """True for signature and timestamp problems (401), False for a bad payload (400)."""


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``: ``sha256=<hex>``."""
    message = f"{timestamp}.".encode() + body
    return f"{SCHEME}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _timestamp(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise WebhookRejected("missing timestamp header", unauthenticated=True)
    if not _TIMESTAMP.match(text):
        raise WebhookRejected(f"malformed timestamp {text[:40]!r}: Unix seconds expected", unauthenticated=True)
    return text


def _digest(signature: str | None) -> str:
    if signature is None or not signature.strip():
        raise WebhookRejected("missing signature header", unauthenticated=True)
    scheme, sep, digest = signature.strip().partition("=")
    if not sep or scheme.lower() != SCHEME or not _DIGEST.match(digest):
        raise WebhookRejected(
            f"malformed signature: expected '{SCHEME}=<64 hex digits>' (HMAC-SHA256 of '<timestamp>.<body>')",
            unauthenticated=True,
        )
    return digest.lower()


def verify(
    secret: str,
    body: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> None:
    """Raise :class:`WebhookRejected` unless ``signature`` signs ``body`` at ``timestamp`` under
    ``secret`` and the timestamp is within ``tolerance`` seconds of ``now``.

    The signature is checked before the age, so an unsigned caller learns nothing about our clock;
    the digests are compared in constant time."""
    if not secret:
        raise ConfigError("no webhook secret is configured: refusing every request")
    given = _digest(signature)
    signed_at = _timestamp(timestamp)
    expected = sign(secret, signed_at, body).partition("=")[2]
    if not hmac.compare_digest(expected, given):
        raise WebhookRejected("signature does not match the body and timestamp (wrong secret?)", unauthenticated=True)
    age = now - float(signed_at)
    if age > tolerance:
        raise WebhookRejected(
            f"timestamp is {age:.0f} s old, more than the {tolerance:g} s allowed: a replayed or delayed request",
            unauthenticated=True,
        )
    if -age > tolerance:
        raise WebhookRejected(
            f"timestamp is {-age:.0f} s in the future, more than the {tolerance:g} s allowed: check the sender's clock",
            unauthenticated=True,
        )


def _key_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise WebhookRejected(f'"{field}" must be a list of SKUs')
    bad = [v for v in value if not isinstance(v, str) or not v.strip() or len(v.strip()) > MAX_KEY_LENGTH]
    if bad:
        raise WebhookRejected(f'"{field}" holds {len(bad)} entries that are not SKUs, e.g. {bad[0]!r}')
    return [v.strip() for v in value]


def _skus_under(data: Any) -> list[str]:
    """Every string ``sku`` anywhere under ``data``, walked without recursion (payloads can nest deep)."""
    found: list[str] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            sku = node.get("sku")
            if isinstance(sku, str) and sku.strip() and len(sku.strip()) <= MAX_KEY_LENGTH:
                found.append(sku.strip())
            stack.extend(reversed([v for v in node.values() if isinstance(v, dict | list)]))
        elif isinstance(node, list):
            stack.extend(reversed([v for v in node if isinstance(v, dict | list)]))
    return found


def _decode(body: bytes, max_bytes: int) -> dict[str, Any]:
    if len(body) > max_bytes:
        raise WebhookRejected(f"body is larger than {max_bytes} bytes")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise WebhookRejected("body is nested too deeply") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(f"body must be a JSON object: {_FORMS}")
    return payload


def parse_skus(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> list[str]:
    """The SKUs a notification names, de-duplicated in order; :class:`WebhookRejected` for anything else.

    ``max_bytes``: larger bodies are refused (``plentysync serve`` passes ``serve.webhook.max_body_bytes``,
    which it has enforced with 413 already)."""
    payload = _decode(body, max_bytes)
    if "keys" in payload:
        entity = payload.get("entity")
        if entity != ENTITY:
            raise WebhookRejected(f'"entity" must be "{ENTITY}" here, not {entity!r}')
        skus = _key_list(payload["keys"], "keys")
    elif "skus" in payload:
        skus = _key_list(payload["skus"], "skus")
    elif isinstance(payload.get("data"), dict | list):
        skus = _skus_under(payload["data"])
        if not skus:
            raise WebhookRejected('no "sku" found under "data": not a stock or product event')
    else:
        raise WebhookRejected(f"unrecognised payload: expected {_FORMS}")
    unique = list(dict.fromkeys(skus))
    if not unique:
        raise WebhookRejected("the payload lists no SKUs")
    if len(unique) > MAX_SKUS:
        raise WebhookRejected(f"the payload lists {len(unique)} SKUs, more than {MAX_SKUS}: split it")
    return unique


async def intake(
    queue: CoalescingQueue,
    body: bytes,
    *,
    secret: str,
    signature: str | None,
    timestamp: str | None,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> EnqueueResult:
    """Verify, parse and queue a notification's SKUs for export ahead of the routine work (a sender
    pushes because it wants the change out now)."""
    verify(secret, body, signature=signature, timestamp=timestamp, now=now, tolerance=tolerance)
    skus = parse_skus(body)
    return await queue.enqueue(EXPORT_TYPE_ID, skus, reason="webhook", priority=PRIORITY_URGENT)
