"""The real RabbitMQ for the broker tests: availability (skip, or fail under CI=true), a private exchange
and queue prefix per test (deleted afterwards), a consumer running in the background, direct reads of a
queue, and stopping / starting the broker application for outage tests.

PLENTYSYNC_TEST_BROKER_URL overrides the default amqp://guest:guest@127.0.0.1:5672/.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest

from plentysync.runtime.broker import dead_letter_exchange, dead_letter_queue, mask_url, queue_name
from plentysync.runtime.consumer import AmqpConsumer
from plentysync.settings import BrokerSettings
from tests.databases import in_ci

BROKER_URL = os.environ.get("PLENTYSYNC_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
PROFILES = ("plenty_stock_export", "plenty_stock_import")


def broker_unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the broker tests must run)")
    pytest.skip(reason)


async def can_connect(url: str = BROKER_URL, connect_seconds: float = 2.0) -> bool:
    try:
        connection = await aio_pika.connect(url, timeout=connect_seconds)
    except Exception:
        return False
    await connection.close()
    return True


async def require_broker() -> None:
    if not await can_connect():
        broker_unavailable(f"RabbitMQ is not reachable at {mask_url(BROKER_URL)}")


def closed_port_url() -> str:
    """A broker URL on a loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"amqp://guest:s3cret-pw@127.0.0.1:{port}/"


def private_settings(**overrides: Any) -> BrokerSettings:
    """Settings with an exchange and queue prefix no other test uses."""
    tag = f"test-{uuid.uuid4().hex[:12]}"
    values: dict[str, Any] = {
        "exchange": tag,
        "queue_prefix": tag,
        "connect_timeout_seconds": 2.0,
        "publish_timeout_seconds": 2.0,
        "reconnect_seconds": 0.3,
        "prefetch": 10,
    }
    values.update(overrides)
    return BrokerSettings(**values)


async def delete_topology(settings: BrokerSettings, profiles: Sequence[str] = PROFILES) -> None:
    connection = await aio_pika.connect(BROKER_URL, timeout=5)
    try:
        channel = await connection.channel()
        for name in [*(queue_name(settings, p) for p in profiles), dead_letter_queue(settings)]:
            await channel.queue_delete(name)
        for name in (settings.exchange, dead_letter_exchange(settings)):
            await channel.exchange_delete(name)
    finally:
        await connection.close()


@dataclass
class QueuedMessage:
    body: dict[str, Any] | None
    raw: bytes
    routing_key: str | None
    headers: dict[str, Any]


async def drain_queue(name: str, *, limit: int = 100) -> list[QueuedMessage]:
    """Take (and ack) every ready message of a queue; an absent queue reads as empty."""
    connection = await aio_pika.connect(BROKER_URL, timeout=5)
    found: list[QueuedMessage] = []
    try:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return found
        while len(found) < limit:
            message = await queue.get(fail=False, no_ack=True)
            if message is None:
                break
            try:
                body = json.loads(message.body)
            except ValueError:
                body = None
            found.append(QueuedMessage(body, message.body, message.routing_key, dict(message.headers or {})))
    finally:
        await connection.close()
    return found


async def ready_messages(name: str) -> int:
    connection = await aio_pika.connect(BROKER_URL, timeout=5)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        count = queue.declaration_result.message_count
        return int(count or 0)
    finally:
        await connection.close()


async def publish_raw(settings: BrokerSettings, routing_key: str, body: bytes) -> None:
    connection = await aio_pika.connect(BROKER_URL, timeout=5)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(settings.exchange)
        await exchange.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key)
    finally:
        await connection.close()


async def eventually(check: Callable[[], Awaitable[bool] | bool], *, within: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or check}")
        await asyncio.sleep(0.05)


@dataclass
class Received:
    calls: list[tuple[str, list[str], str]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [key for _, keys, _ in self.calls for key in keys]


@asynccontextmanager
async def running_consumer(consumer: AmqpConsumer, *, wait_connected: bool = True) -> AsyncIterator[asyncio.Task[None]]:
    """``consumer.run(stop)`` in the background; stopped (and awaited) on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        if wait_connected:
            await eventually(lambda: consumer.connected or task.done(), what="the consumer to connect")
            assert not task.done(), "consumer.run returned early"
        yield task
    finally:
        stop.set()
        if not task.done():
            await asyncio.wait_for(task, 30)


# -- outages ---------------------------------------------------------------------------------------


async def rabbitmqctl(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    if process.returncode != 0:
        raise AssertionError(f"rabbitmqctl {' '.join(args)} failed ({process.returncode}): {output.decode()}")


def can_control_broker() -> bool:
    return shutil.which("rabbitmqctl") is not None and os.geteuid() == 0


@asynccontextmanager
async def broker_stopped() -> AsyncIterator[None]:
    """``rabbitmqctl stop_app`` for the body; ``start_app`` afterwards, always (even when the body
    fails), then wait until the broker accepts connections again."""
    await rabbitmqctl("stop_app")
    try:
        yield
    finally:
        await asyncio.shield(_start_again())


async def _start_again() -> None:
    await rabbitmqctl("start_app")
    await rabbitmqctl("await_startup")
    await eventually(can_connect, within=60, what="RabbitMQ to accept connections after start_app")
