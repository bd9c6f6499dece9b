"""Urgent enqueues: rows that should go out within seconds (webhook, "export now" from the CLI or UI).

The database queue is the contract: the rows are committed first, then a message on the profile's
topic wakes a worker. When the broker is down or not configured, the message is skipped with a
warning; nothing is lost, because the rows wait in the database for the next drain (a worker checks
every ``worker.drain_idle_seconds``; ``cron run`` on its schedule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from plentysync.engine.queue import PRIORITY_URGENT, CoalescingQueue, EnqueueResult
from plentysync.log import get_logger

log = get_logger(__name__)


def topic_of(profile_type: str) -> str:
    """The topic (routing key) of a profile: ``plenty_stock_export`` → ``plenty.stock.export.processor``,
    the seed's name for the stock export consumer; every other profile follows the same pattern."""
    return profile_type.replace("_", ".") + ".processor"


class Publisher(Protocol):
    """Tells the workers that a profile has urgent rows. ``publish`` returns False (and must not raise)
    when the message could not be handed to the broker."""

    async def publish(self, profile_type: str, keys: Sequence[str], *, reason: str) -> bool: ...


@dataclass(frozen=True)
class UrgentResult:
    enqueued: EnqueueResult
    published: bool
    """False when no broker is configured or it did not take the message: the database drain picks
    the rows up instead."""


async def push_urgent(
    queue: CoalescingQueue,
    profile_type: str,
    keys: Sequence[str],
    *,
    reason: str,
    publisher: Publisher | None,
) -> UrgentResult:
    """Queue ``keys`` at urgent priority (committed), then publish a wake-up on the profile's topic."""
    enqueued = await queue.enqueue(profile_type, keys, reason=reason, priority=PRIORITY_URGENT)
    published = False
    if publisher is not None and keys:
        published = await publisher.publish(profile_type, list(keys), reason=reason)
        if not published:
            log.warning(
                "urgent.publish_failed",
                profile=profile_type,
                keys=len(keys),
                fallback="the rows wait in the database queue for the next drain",
            )
    return UrgentResult(enqueued, published)
