"""RabbitMQ push path (extra ``amqp``): names, the message format and the publisher factory.

The database queue is the source of truth; a broker message only wakes a worker sooner. Everything
here works without aio-pika installed: ``publisher`` and ``consumer`` import it, this module does not.
See docs/broker.md for topics, queues, ack semantics and the RabbitMQ setup.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from plentysync.engine.queue import MAX_KEY_LENGTH, validate_reason
from plentysync.errors import ConfigError, UsageError
from plentysync.runtime.urgent import topic_of
from plentysync.settings import BrokerSettings, Settings

if TYPE_CHECKING:
    from plentysync.runtime.publisher import AmqpPublisher

MAX_KEYS_PER_MESSAGE = 1000
"""A publish with more keys is split into several messages."""
DEFAULT_REASON = "mq"
"""Trigger reason of a message that names none."""
SCHEMES = ("amqp", "amqps")
INSTALL_HINT = "aio-pika is not installed: install plentysync[amqp] to use broker_url"


# -- names -----------------------------------------------------------------------------------------


def queue_name(settings: BrokerSettings, profile_type: str) -> str:
    """``plenty_stock_export`` → ``<queue_prefix>.plenty.stock.export.processor``."""
    return f"{settings.queue_prefix}.{topic_of(profile_type)}"


def dead_letter_exchange(settings: BrokerSettings) -> str:
    return f"{settings.exchange}.dead"


def dead_letter_queue(settings: BrokerSettings) -> str:
    return f"{settings.queue_prefix}.dead"


def queue_arguments(settings: BrokerSettings) -> dict[str, Any]:
    """Arguments of every profile queue. They are fixed at declaration (RabbitMQ refuses a second
    declaration with other arguments), so tune anything else through a policy (docs/broker.md)."""
    return {"x-queue-type": "quorum", "x-dead-letter-exchange": dead_letter_exchange(settings)}


DEAD_LETTER_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum", "x-max-length": 100_000}


# -- URLs ------------------------------------------------------------------------------------------


def mask_url(url: str) -> str:
    """The broker URL for logs and output: the password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparsable broker URL>"
    if password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, parts.fragment))


def check_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise ConfigError(f"broker_url {mask_url(url)} is not a valid URL: {exc}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigError(f"broker_url {mask_url(url)} must look like amqp://user:password@host:5672/vhost")
    return url


# -- messages --------------------------------------------------------------------------------------


class MalformedMessageError(ValueError):
    """A message the consumer cannot act on: rejected without requeue (dead-lettered)."""


@dataclass(frozen=True)
class BrokerMessage:
    profile: str
    keys: list[str]
    reason: str
    sent_at: str | None = None


def encode_messages(
    profile_type: str, keys: Sequence[str], *, reason: str, now: datetime | None = None
) -> Iterator[bytes]:
    """JSON bodies ``{"profile", "keys", "reason", "sent_at"}``, at most ``MAX_KEYS_PER_MESSAGE`` keys each."""
    sent_at = (now or datetime.now(UTC)).isoformat()
    for start in range(0, len(keys), MAX_KEYS_PER_MESSAGE):
        chunk = list(keys[start : start + MAX_KEYS_PER_MESSAGE])
        body = {"profile": profile_type, "keys": chunk, "reason": reason, "sent_at": sent_at}
        yield json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_message(body: bytes, *, expected_profile: str, known_profiles: Collection[str]) -> BrokerMessage:
    """Parse and check a body; ``MalformedMessageError`` says why it cannot be used."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessageError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedMessageError("not a JSON object")
    profile = data.get("profile")
    if not isinstance(profile, str) or profile not in known_profiles:
        raise MalformedMessageError(f"unknown profile {profile!r}")
    if profile != expected_profile:
        raise MalformedMessageError(f"profile {profile!r} arrived on the queue of {expected_profile!r}")
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys:
        raise MalformedMessageError("'keys' must be a non-empty list")
    for key in keys:
        if not isinstance(key, str) or not key or key != key.strip() or len(key) > MAX_KEY_LENGTH:
            raise MalformedMessageError(f"invalid key {str(key)[:40]!r}")
    reason = data.get("reason", DEFAULT_REASON)
    if not isinstance(reason, str):
        raise MalformedMessageError("'reason' must be a string")
    try:
        validate_reason(reason)
    except UsageError as exc:
        raise MalformedMessageError(str(exc)) from None
    sent_at = data.get("sent_at")
    return BrokerMessage(profile, list(keys), reason, sent_at if isinstance(sent_at, str) else None)


# -- factory ---------------------------------------------------------------------------------------


def amqp_available() -> bool:
    return importlib.util.find_spec("aio_pika") is not None


def open_publisher(settings: Settings) -> AmqpPublisher | None:
    """The publisher of ``settings.broker_url``; None when no broker is configured. Connects lazily."""
    if settings.broker_url is None:
        return None
    url = check_url(settings.broker_url)
    if not amqp_available():
        raise ConfigError(INSTALL_HINT)
    from plentysync.runtime.publisher import AmqpPublisher

    return AmqpPublisher(url, settings.broker)
