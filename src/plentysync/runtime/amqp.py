"""The RabbitMQ topology both sides declare (idempotently): the topic exchange, the dead-letter exchange
and queue, and one durable quorum queue per profile bound on the profile's topic."""

from __future__ import annotations

import logging

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from plentysync.runtime.broker import (
    DEAD_LETTER_ARGUMENTS,
    dead_letter_exchange,
    dead_letter_queue,
    queue_arguments,
    queue_name,
)
from plentysync.runtime.urgent import topic_of
from plentysync.settings import BrokerSettings


class _OneReportPerOutage(logging.Filter):
    """aiormq logs an error and aio-pika a warning on every failed connection attempt (every
    ``reconnect_seconds`` while the broker is down); the publisher and the consumer report an outage
    once themselves, with the URL masked. Other records pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not message.startswith(("error when creating transport", "Connection attempt to"))


_quiet = _OneReportPerOutage()
for _name in ("aiormq.connection", "aio_pika.robust_connection"):
    logging.getLogger(_name).addFilter(_quiet)


async def declare_exchange(channel: AbstractChannel, settings: BrokerSettings) -> AbstractExchange:
    return await channel.declare_exchange(settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_dead_letters(channel: AbstractChannel, settings: BrokerSettings) -> AbstractQueue:
    """``<exchange>.dead`` (topic) and ``<queue_prefix>.dead`` bound on ``#``: rejected messages keep
    their routing key, so an operator can move them back with a shovel."""
    exchange = await channel.declare_exchange(dead_letter_exchange(settings), aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(dead_letter_queue(settings), durable=True, arguments=DEAD_LETTER_ARGUMENTS)
    await queue.bind(exchange, routing_key="#")
    return queue


async def declare_profile_queue(
    channel: AbstractChannel, settings: BrokerSettings, exchange: AbstractExchange, profile_type: str
) -> AbstractQueue:
    """``<queue_prefix>.<topic>``: durable quorum queue bound on exactly the profile's topic."""
    queue = await channel.declare_queue(
        queue_name(settings, profile_type), durable=True, arguments=queue_arguments(settings)
    )
    await queue.bind(exchange, routing_key=topic_of(profile_type))
    return queue
