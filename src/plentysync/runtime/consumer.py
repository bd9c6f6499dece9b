"""``AmqpConsumer``: turns broker messages into urgent database rows, acking only after they are committed.

One durable quorum queue per profile (``<queue_prefix>.<topic>``). For each message the handler is
awaited (it enqueues the keys at urgent priority, commits, and wakes the drain); only then is the message
acked. A handler that raises gets the message back (requeued after ``retry_delay_seconds``) until it has
been delivered ``max_deliveries`` times; then, and for malformed messages at once, it is rejected without
requeue and RabbitMQ dead-letters it to ``<queue_prefix>.dead``. The consumer never reconnects through
aio-pika's robust machinery: ``run`` owns the loop, so ``connected`` is exact and stopping is clean.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue

from plentysync.log import get_logger
from plentysync.runtime.amqp import declare_dead_letters, declare_exchange, declare_profile_queue
from plentysync.runtime.broker import MalformedMessageError, decode_message, mask_url, queue_name
from plentysync.settings import BrokerSettings

log = get_logger(__name__)

Handler = Callable[[str, list[str], str], Awaitable[None]]
"""``await handler(profile_type, keys, reason)``: commit the keys to the database queue; raise if not."""

DEFAULT_MAX_DELIVERIES = 5
DEFAULT_RETRY_DELAY_SECONDS = 1.0


def delivery_count(message: AbstractIncomingMessage) -> int:
    """How many times the message was delivered before this delivery (quorum queues count it in
    ``x-delivery-count``; other queues only say ``redelivered``)."""
    raw = (message.headers or {}).get("x-delivery-count")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    return 1 if message.redelivered else 0


class AmqpConsumer:
    def __init__(
        self,
        url: str,
        settings: BrokerSettings,
        profile_types: Sequence[str],
        handler: Handler,
        *,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        retry_delay_seconds: float = DEFAULT_RETRY_DELAY_SECONDS,
        connection_name: str = "plentysync consumer",
    ) -> None:
        if not profile_types:
            raise ValueError("AmqpConsumer needs at least one profile type")
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        self._url = url
        self._settings = settings
        self._profiles = tuple(dict.fromkeys(profile_types))
        self._handler = handler
        self._max_deliveries = max_deliveries
        self._retry_delay = retry_delay_seconds
        self._connection_name = connection_name
        self._connected = False
        self._outage_logged = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    @property
    def connected(self) -> bool:
        """True while the consumer is subscribed to its queues."""
        return self._connected

    @property
    def url(self) -> str:
        return mask_url(self._url)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; across broker outages, retry every ``reconnect_seconds``.

        On stop: cancel the subscriptions, let the handlers in flight finish (and ack), close."""
        self._stopping = stop
        while not stop.is_set():
            try:
                await self._session(stop)
            except asyncio.CancelledError:
                # Cancelled rather than stopped: the process is going away. Handlers in flight are
                # cancelled too; their messages were not acked, so the broker delivers them again.
                for task in list(self._inflight):
                    task.cancel()
                raise
            except Exception as exc:
                self._lost(exc)
            finally:
                self._connected = False
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.reconnect_seconds)
        log.info("broker.consumer.stopped", url=self.url)

    # -- one connection ----------------------------------------------------------------------------

    async def _session(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect(
            self._url,
            timeout=self._settings.connect_timeout_seconds,
            client_properties={"connection_name": self._connection_name},
        )
        lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

        def on_close(_sender: Any, exc: BaseException | None = None) -> None:
            if not lost.done():
                lost.set_result(exc)

        connection.close_callbacks.add(on_close)
        try:
            channel = await connection.channel()
            channel.close_callbacks.add(on_close)
            subscriptions = await self._subscribe(channel)
            self._connected = True
            self._recovered()
            stopped = asyncio.ensure_future(stop.wait())
            waiters: list[asyncio.Future[Any]] = [stopped, lost]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
            if not stop.is_set():
                raise ConnectionError(f"connection lost: {lost.result() or 'closed'}")
            await self._drain(subscriptions)
        finally:
            self._connected = False
            with contextlib.suppress(Exception):
                await self._close(connection)

    async def _subscribe(self, channel: AbstractChannel) -> list[tuple[AbstractQueue, str]]:
        await channel.set_qos(prefetch_count=self._settings.prefetch)
        exchange = await declare_exchange(channel, self._settings)
        await declare_dead_letters(channel, self._settings)
        subscriptions = []
        for profile_type in self._profiles:
            queue = await declare_profile_queue(channel, self._settings, exchange, profile_type)
            tag = await queue.consume(self._callback_for(profile_type))
            subscriptions.append((queue, tag))
        log.info("broker.consumer.subscribed", url=self.url, queues=[q.name for q, _ in subscriptions])
        return subscriptions

    async def _drain(self, subscriptions: list[tuple[AbstractQueue, str]]) -> None:
        """Stop new deliveries, then wait for the handlers in flight (they ack or reject)."""
        for queue, tag in subscriptions:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
        if self._inflight:
            log.info("broker.consumer.draining", in_flight=len(self._inflight))
            await asyncio.gather(*self._inflight, return_exceptions=True)

    @staticmethod
    async def _close(connection: AbstractConnection) -> None:
        await asyncio.shield(connection.close())

    # -- messages ----------------------------------------------------------------------------------

    def _callback_for(self, profile_type: str) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def on_message(message: AbstractIncomingMessage) -> None:
            # Our own task, not aio-pika's: a lost connection must not cancel a handler mid-commit,
            # and stop() waits for it.
            task = asyncio.create_task(self._process(profile_type, message))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            await asyncio.shield(task)

        return on_message

    async def _process(self, profile_type: str, message: AbstractIncomingMessage) -> None:
        try:
            parsed = decode_message(message.body, expected_profile=profile_type, known_profiles=self._profiles)
        except MalformedMessageError as exc:
            log.error(
                "broker.message.malformed",
                queue=queue_name(self._settings, profile_type),
                error=str(exc),
                action="rejected without requeue (dead-lettered)",
            )
            await self._settle(message, ack=False, requeue=False)
            return
        try:
            await self._handler(parsed.profile, parsed.keys, parsed.reason)
        except Exception as exc:
            await self._handler_failed(profile_type, message, len(parsed.keys), exc)
            return
        await self._settle(message, ack=True, requeue=False)

    async def _handler_failed(
        self, profile_type: str, message: AbstractIncomingMessage, keys: int, exc: Exception
    ) -> None:
        deliveries = delivery_count(message) + 1
        if deliveries >= self._max_deliveries:
            log.error(
                "broker.message.dead_lettered",
                profile=profile_type,
                keys=keys,
                deliveries=deliveries,
                error=str(exc) or type(exc).__name__,
                action="rejected without requeue; the poller / drift sweep catches what the database misses",
            )
            await self._settle(message, ack=False, requeue=False)
            return
        log.warning(
            "broker.message.handler_failed",
            profile=profile_type,
            keys=keys,
            deliveries=deliveries,
            error=str(exc) or type(exc).__name__,
            action=f"requeued (dead-lettered after {self._max_deliveries} deliveries)",
            exc_info=exc,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._retry_delay)
        await self._settle(message, ack=False, requeue=True)

    async def _settle(self, message: AbstractIncomingMessage, *, ack: bool, requeue: bool) -> None:
        try:
            if ack:
                await message.ack()
            else:
                await message.reject(requeue=requeue)
        except Exception as exc:
            # The channel is gone: the broker returns the unacked message to the queue by itself.
            log.warning("broker.message.settle_failed", ack=ack, error=str(exc) or type(exc).__name__)

    # -- outages -----------------------------------------------------------------------------------

    def _lost(self, exc: BaseException) -> None:
        error = str(exc) or type(exc).__name__
        if not self._outage_logged:
            self._outage_logged = True
            log.warning(
                "broker.consumer.disconnected",
                url=self.url,
                error=error,
                retry_seconds=self._settings.reconnect_seconds,
                fallback="urgent rows wait in the database queue for the next drain",
            )
        else:
            log.debug("broker.consumer.still_disconnected", url=self.url, error=error)

    def _recovered(self) -> None:
        if self._outage_logged:
            log.info("broker.consumer.reconnected", url=self.url)
            self._outage_logged = False
