"""``AmqpPublisher``: wakes workers by publishing a profile's urgent keys on its topic.

Lazy, robust connection (aio-pika reconnects in the background after an outage); persistent messages
on a durable topic exchange with publisher confirms. ``publish`` never raises and never waits longer
than ``publish_timeout_seconds``: while the broker is down it returns False at once (the rows are in
the database queue already), and one warning is logged per outage, not per message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from plentysync.log import get_logger
from plentysync.runtime.amqp import declare_dead_letters, declare_exchange, declare_profile_queue
from plentysync.runtime.broker import encode_messages, mask_url
from plentysync.runtime.urgent import topic_of
from plentysync.settings import BrokerSettings

log = get_logger(__name__)


class BrokerUnavailableError(ConnectionError):
    """Raised internally when the broker cannot be reached right now."""


class AmqpPublisher:
    """Implements ``plentysync.runtime.urgent.Publisher``."""

    def __init__(self, url: str, settings: BrokerSettings, *, connection_name: str = "plentysync publisher") -> None:
        self._url = url
        self._settings = settings
        self._connection_name = connection_name
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._declared: set[str] = set()
        self._lock = asyncio.Lock()
        self._last_failed_connect: float | None = None
        self._down_since: float | None = None
        self._closed = False

    @property
    def url(self) -> str:
        """The broker URL with the password masked."""
        return mask_url(self._url)

    @property
    def down(self) -> bool:
        """True between a failed publish and the next successful one."""
        return self._down_since is not None

    async def publish(self, profile_type: str, keys: Sequence[str], *, reason: str) -> bool:
        """Publish ``keys`` (split into messages of at most 1000) on ``topic_of(profile_type)``.

        True when the broker confirmed every message; False (never an exception) otherwise."""
        if not keys:
            return True
        if self._closed:
            return False
        try:
            async with asyncio.timeout(self._settings.publish_timeout_seconds):
                channel, exchange = await self._ready()
                await self._declare(channel, exchange, profile_type)
                for body in encode_messages(profile_type, keys, reason=reason):
                    message = aio_pika.Message(
                        body,
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        app_id="plentysync",
                    )
                    await exchange.publish(message, routing_key=topic_of(profile_type), mandatory=True)
        except Exception as exc:
            self._failed(exc)
            return False
        self._recovered()
        return True

    async def healthy(self) -> bool:
        """Whether the broker is reachable now (connects if needed, within ``publish_timeout_seconds``)."""
        if self._closed:
            return False
        try:
            async with asyncio.timeout(self._settings.publish_timeout_seconds):
                await self._ready()
        except Exception as exc:
            self._failed(exc)
            return False
        return True

    async def aclose(self) -> None:
        self._closed = True
        connection, self._connection, self._channel, self._exchange = self._connection, None, None, None
        if connection is not None:
            try:
                await connection.close()
            except Exception as exc:
                log.debug("broker.publisher.close_failed", url=self.url, error=str(exc))

    # -- internals ---------------------------------------------------------------------------------

    async def _ready(self) -> tuple[AbstractRobustChannel, AbstractExchange]:
        async with self._lock:
            connection = self._connection
            if connection is not None and connection.is_closed:
                self._connection = self._channel = self._exchange = None
                connection = None
            if connection is None:
                await self._connect()
            elif not connection.connected.is_set():
                raise BrokerUnavailableError("reconnecting")  # the robust connection retries in the background
            channel, exchange = self._channel, self._exchange
            if channel is None or exchange is None:
                raise BrokerUnavailableError("not connected")
        await channel.ready()
        return channel, exchange

    async def _connect(self) -> None:
        now = time.monotonic()
        if self._last_failed_connect is not None and now - self._last_failed_connect < self._settings.reconnect_seconds:
            raise BrokerUnavailableError("still down (last attempt failed less than reconnect_seconds ago)")
        connection = aio_pika.RobustConnection(
            aio_pika.connection.make_url(self._url),
            reconnect_interval=self._settings.reconnect_seconds,
            client_properties={"connection_name": self._connection_name},
        )
        try:
            await connection.connect(timeout=self._settings.connect_timeout_seconds)
            channel: AbstractRobustChannel = connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.initialize(timeout=self._settings.connect_timeout_seconds)
            exchange = await declare_exchange(channel, self._settings)
            await declare_dead_letters(channel, self._settings)
        except BaseException:
            self._last_failed_connect = time.monotonic()
            await asyncio.shield(self._close_quietly(connection))
            raise
        self._last_failed_connect = None
        self._connection, self._channel, self._exchange = connection, channel, exchange
        self._declared = set()

    async def _declare(self, channel: AbstractRobustChannel, exchange: AbstractExchange, profile_type: str) -> None:
        """The profile's queue, so a message published before any consumer ever ran is kept."""
        if profile_type in self._declared:
            return
        await declare_profile_queue(channel, self._settings, exchange, profile_type)
        self._declared.add(profile_type)

    @staticmethod
    async def _close_quietly(connection: AbstractRobustConnection) -> None:
        try:
            await connection.close()
        except Exception as exc:
            log.debug("broker.publisher.close_failed", error=str(exc))

    def _failed(self, exc: BaseException) -> None:
        error = str(exc) or type(exc).__name__
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning(
                "broker.publisher.unavailable",
                url=self.url,
                error=error,
                fallback="urgent rows wait in the database queue for the next drain",
            )
        else:
            log.debug("broker.publisher.still_unavailable", url=self.url, error=error)

    def _recovered(self) -> None:
        if self._down_since is not None:
            down = round(time.monotonic() - self._down_since)
            log.info("broker.publisher.recovered", url=self.url, down_seconds=down)
            self._down_since = None
