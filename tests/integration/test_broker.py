"""The RabbitMQ push path against the real broker: publish → consume → handler commits → ack; messages
stay in the durable quorum queue until a handler returned; malformed and poison messages are
dead-lettered; a broker that is down costs nothing but speed (publish returns False at once, the rows are
in the database), and after a real outage (``rabbitmqctl stop_app``) both sides recover on their own.
Every test has its own exchange and queue prefix, deleted afterwards."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from plentysync.db import Database
from plentysync.db.tables import queue_item
from plentysync.engine.queue import PRIORITY_URGENT
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.services import Engine
from plentysync.errors import ConfigError
from plentysync.runtime.broker import (
    MAX_KEYS_PER_MESSAGE,
    BrokerMessage,
    MalformedMessageError,
    dead_letter_queue,
    decode_message,
    encode_messages,
    mask_url,
    open_publisher,
    queue_name,
)
from plentysync.runtime.consumer import AmqpConsumer
from plentysync.runtime.publisher import AmqpPublisher
from plentysync.runtime.urgent import push_urgent, topic_of
from plentysync.settings import BrokerSettings, Settings
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from tests.integration.broker_support import (
    BROKER_URL,
    Received,
    broker_stopped,
    broker_unavailable,
    can_control_broker,
    closed_port_url,
    delete_topology,
    drain_queue,
    eventually,
    private_settings,
    publish_raw,
    ready_messages,
    require_broker,
    running_consumer,
)

pytestmark = pytest.mark.anyio
EXPORT = "plenty_stock_export"
IMPORT = "plenty_stock_import"


@pytest.fixture
async def broker() -> AsyncIterator[BrokerSettings]:
    """Private broker settings on the real RabbitMQ; the exchange and queues are deleted afterwards."""
    await require_broker()
    settings = private_settings()
    try:
        yield settings
    finally:
        await delete_topology(settings)


@pytest.fixture
async def publisher(broker: BrokerSettings) -> AsyncIterator[AmqpPublisher]:
    pub = AmqpPublisher(BROKER_URL, broker)
    try:
        yield pub
    finally:
        await pub.aclose()


def recording_handler(received: Received) -> Any:
    async def handler(profile_type: str, keys: list[str], reason: str) -> None:
        received.calls.append((profile_type, keys, reason))

    return handler


async def queue_rows(db: Database, profile_type: str = EXPORT) -> dict[str, dict[str, Any]]:
    async with db.read() as conn:
        rows = (await conn.execute(select(queue_item).where(queue_item.c.profile_type == profile_type))).all()
    return {row.entity_key: dict(row._mapping) for row in rows}


# -- without a broker ------------------------------------------------------------------------------


def test_message_format_and_names() -> None:
    settings = BrokerSettings(exchange="ex", queue_prefix="pre")
    assert queue_name(settings, EXPORT) == "pre.plenty.stock.export.processor"
    bodies = [json.loads(b) for b in encode_messages(EXPORT, [f"K{n}" for n in range(2500)], reason="cli")]
    assert [len(b["keys"]) for b in bodies] == [MAX_KEYS_PER_MESSAGE, MAX_KEYS_PER_MESSAGE, 500]
    assert set(bodies[0]) == {"profile", "keys", "reason", "sent_at"}
    assert (bodies[0]["profile"], bodies[0]["reason"]) == (EXPORT, "cli")

    def decode(body: object) -> object:
        return decode_message(json.dumps(body).encode(), expected_profile=EXPORT, known_profiles=[EXPORT, IMPORT])

    assert decode({"profile": EXPORT, "keys": ["A"]}) == BrokerMessage(EXPORT, ["A"], "mq")  # reason defaults to mq
    for bad, why in [
        ({"profile": "nope", "keys": ["A"]}, "unknown profile"),
        ({"profile": IMPORT, "keys": ["A"]}, "arrived on the queue of"),
        ({"profile": EXPORT, "keys": []}, "non-empty list"),
        ({"profile": EXPORT, "keys": [" A"]}, "invalid key"),
        ({"profile": EXPORT, "keys": ["A"], "reason": "Not Valid"}, "invalid trigger reason"),
        ([1, 2], "not a JSON object"),
    ]:
        with pytest.raises(MalformedMessageError, match=why):
            decode(bad)
    with pytest.raises(MalformedMessageError, match="not JSON"):
        decode_message(b"\xff{", expected_profile=EXPORT, known_profiles=[EXPORT])


def test_urls_are_masked_and_checked() -> None:
    assert mask_url("amqp://plenty:s3cr%40t@mq.example:5671/prod") == "amqp://plenty:***@mq.example:5671/prod"
    assert mask_url("amqp://mq.example/") == "amqp://mq.example/"
    assert open_publisher(Settings()) is None
    with pytest.raises(ConfigError) as refused:
        open_publisher(Settings(broker_url="http://user:topsecret@host/"))
    assert "topsecret" not in str(refused.value)
    assert isinstance(open_publisher(Settings(broker_url=BROKER_URL)), AmqpPublisher)


def test_a_missing_aio_pika_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("plentysync.runtime.broker.amqp_available", lambda: False)
    with pytest.raises(ConfigError, match=r"install plentysync\[amqp\]"):
        open_publisher(Settings(broker_url=BROKER_URL))


@pytest.mark.db
async def test_broker_down_publish_returns_false_fast_and_the_rows_are_committed(db: Database) -> None:
    engine = Engine.build(db, ProfileRegistry())
    url = closed_port_url()
    pub = AmqpPublisher(url, private_settings(publish_timeout_seconds=1.0, reconnect_seconds=60))
    try:
        with capture_logs() as logs:
            started = time.monotonic()
            first = await push_urgent(engine.queue, EXPORT, ["A", "B"], reason="cli", publisher=pub)
            second = await push_urgent(engine.queue, EXPORT, ["C"], reason="webhook", publisher=pub)
            elapsed = time.monotonic() - started
        assert (first.published, second.published) == (False, False)
        assert elapsed < 2.0  # within publish_timeout_seconds each, and the second does not even try
        assert not await pub.healthy()
    finally:
        await pub.aclose()
    rows = await queue_rows(db)
    assert {k: (r["priority"], r["status"], r["trigger_reason"]) for k, r in rows.items()} == {
        "A": (PRIORITY_URGENT, "pending", "cli"),
        "B": (PRIORITY_URGENT, "pending", "cli"),
        "C": (PRIORITY_URGENT, "pending", "webhook"),
    }
    outage = [e for e in logs if e["event"] == "broker.publisher.unavailable"]
    assert len(outage) == 1, "one warning per outage, not per message"
    assert outage[0]["log_level"] == "warning"
    assert "s3cret-pw" not in repr(logs)
    assert outage[0]["url"] == mask_url(url)


# -- with the broker -------------------------------------------------------------------------------


@pytest.mark.db
async def test_publish_consume_commit_ack(db: Database, broker: BrokerSettings, publisher: AmqpPublisher) -> None:
    """Messages published before any consumer ran wait in the durable queue; the handler commits them to
    the database queue at urgent priority, and only then are they acked."""
    engine = Engine.build(db, ProfileRegistry())
    keys = [f"SKU-{n:04d}" for n in range(2500)]
    assert await publisher.publish(EXPORT, keys, reason="webhook")
    assert await publisher.publish(IMPORT, ["I-1"], reason="cli")
    assert await ready_messages(queue_name(broker, EXPORT)) == 3  # split into ≤1000 keys per message
    assert await publisher.healthy()

    committed: list[int] = []

    async def handler(profile_type: str, batch: list[str], reason: str) -> None:
        await engine.queue.enqueue(profile_type, batch, reason=reason, priority=PRIORITY_URGENT)
        committed.append(len(batch))

    consumer = AmqpConsumer(BROKER_URL, broker, [EXPORT, IMPORT], handler)
    async with running_consumer(consumer):
        await eventually(lambda: sum(committed) == 2501, what="all keys committed")
    assert not consumer.connected

    rows = await queue_rows(db)
    assert sorted(rows) == keys
    assert {(r["priority"], r["status"], r["trigger_reason"]) for r in rows.values()} == {(0, "pending", "webhook")}
    assert (await queue_rows(db, IMPORT))["I-1"]["priority"] == 0
    # acked: nothing comes back once the consumer is gone
    assert await ready_messages(queue_name(broker, EXPORT)) == 0
    assert await ready_messages(queue_name(broker, IMPORT)) == 0


async def test_a_failing_handler_leaves_the_message_for_the_next_consumer(
    broker: BrokerSettings, publisher: AmqpPublisher
) -> None:
    failed = asyncio.Event()

    async def broken(profile_type: str, keys: list[str], reason: str) -> None:
        failed.set()
        raise RuntimeError("database is down")

    first = AmqpConsumer(BROKER_URL, broker, [EXPORT], broken, retry_delay_seconds=30)  # stop ends the wait
    async with running_consumer(first):
        assert await publisher.publish(EXPORT, ["A", "B"], reason="cli")
        await asyncio.wait_for(failed.wait(), 10)

    received = Received()
    second = AmqpConsumer(BROKER_URL, broker, [EXPORT], recording_handler(received))
    async with running_consumer(second):
        await eventually(lambda: received.keys == ["A", "B"], what="the redelivery")
    assert received.calls == [(EXPORT, ["A", "B"], "cli")]
    assert await ready_messages(queue_name(broker, EXPORT)) == 0
    assert await drain_queue(dead_letter_queue(broker)) == []


async def test_a_consumer_cancelled_mid_handler_does_not_ack(broker: BrokerSettings, publisher: AmqpPublisher) -> None:
    entered = asyncio.Event()

    async def slow(profile_type: str, keys: list[str], reason: str) -> None:
        entered.set()
        await asyncio.sleep(3600)

    first = AmqpConsumer(BROKER_URL, broker, [EXPORT], slow)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    assert await publisher.publish(EXPORT, ["X"], reason="webhook")
    await asyncio.wait_for(entered.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    received = Received()
    async with running_consumer(AmqpConsumer(BROKER_URL, broker, [EXPORT], recording_handler(received))):
        await eventually(lambda: received.keys == ["X"], what="the redelivery")


async def test_stop_lets_the_handler_in_flight_finish_and_ack(broker: BrokerSettings, publisher: AmqpPublisher) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    done: list[str] = []

    async def handler(profile_type: str, keys: list[str], reason: str) -> None:
        entered.set()
        await release.wait()
        done.extend(keys)

    consumer = AmqpConsumer(BROKER_URL, broker, [EXPORT], handler)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    assert await publisher.publish(EXPORT, ["S"], reason="cli")
    await asyncio.wait_for(entered.wait(), 10)
    stop.set()
    await asyncio.sleep(0.2)
    assert not task.done(), "run() waits for the handler in flight"
    release.set()
    await asyncio.wait_for(task, 10)
    assert done == ["S"]
    assert await ready_messages(queue_name(broker, EXPORT)) == 0


async def test_poison_and_malformed_messages_are_dead_lettered(
    broker: BrokerSettings, publisher: AmqpPublisher
) -> None:
    assert await publisher.publish(EXPORT, ["good"], reason="cli")  # declares the topology
    topic = topic_of(EXPORT)
    await publish_raw(broker, topic, b"not json")
    await publish_raw(broker, topic, json.dumps({"profile": "plenty_order_export", "keys": ["A"]}).encode())
    await publish_raw(broker, topic, json.dumps({"profile": EXPORT, "keys": ["poison"], "reason": "cli"}).encode())

    seen: list[list[str]] = []

    async def handler(profile_type: str, keys: list[str], reason: str) -> None:
        seen.append(keys)
        if keys == ["poison"]:
            raise RuntimeError("cannot store this")

    consumer = AmqpConsumer(BROKER_URL, broker, [EXPORT], handler, max_deliveries=3, retry_delay_seconds=0.05)
    with capture_logs() as logs:
        async with running_consumer(consumer):
            await eventually(lambda: seen.count(["poison"]) == 3, what="three deliveries of the poison message")
            await eventually(
                lambda: any(e["event"] == "broker.message.dead_lettered" for e in logs), what="the give-up"
            )
    assert seen.count(["good"]) == 1
    assert len(seen) == 4  # the malformed ones never reach the handler
    assert [e["error"] for e in logs if e["event"] == "broker.message.malformed"] == [
        "not JSON: Expecting value: line 1 column 1 (char 0)",
        "unknown profile 'plenty_order_export'",
    ]

    dead = await drain_queue(dead_letter_queue(broker))
    assert sorted(repr((m.routing_key, m.body["keys"] if m.body else m.raw)) for m in dead) == sorted(
        repr(entry) for entry in [(topic, b"not json"), (topic, ["A"]), (topic, ["poison"])]
    )
    assert await ready_messages(queue_name(broker, EXPORT)) == 0


async def test_a_consumer_waits_for_a_broker_that_is_not_there(broker: BrokerSettings) -> None:
    consumer = AmqpConsumer(closed_port_url(), broker, [EXPORT], recording_handler(Received()))
    with capture_logs() as logs:
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.sleep(1.0)  # several attempts at reconnect_seconds=0.3
        assert not consumer.connected
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 5)
    warnings = [e for e in logs if e["event"] == "broker.consumer.disconnected"]
    assert len(warnings) == 1
    assert "s3cret-pw" not in repr(logs)


# -- a real outage ---------------------------------------------------------------------------------


@pytest.mark.slow
async def test_both_sides_recover_from_a_real_broker_outage(broker: BrokerSettings, publisher: AmqpPublisher) -> None:
    if not can_control_broker():
        broker_unavailable("the outage test needs rabbitmqctl, run as root, to stop and start the broker")
    received = Received()
    consumer = AmqpConsumer(BROKER_URL, broker, [EXPORT], recording_handler(received))
    async with running_consumer(consumer):
        assert await publisher.publish(EXPORT, ["before"], reason="cli")
        await eventually(lambda: "before" in received.keys, what="the first message")

        async with broker_stopped():
            await eventually(lambda: not consumer.connected, what="the consumer to notice the outage")
            started = time.monotonic()
            assert not await publisher.publish(EXPORT, ["during"], reason="cli")
            assert time.monotonic() - started <= broker.publish_timeout_seconds + 0.5
            assert not await publisher.publish(EXPORT, ["during-2"], reason="cli")
            down_during_outage = publisher.down
        # start_app done and the broker accepts connections again
        await eventually(lambda: consumer.connected, within=30, what="the consumer to reconnect")
        await eventually(
            lambda: publisher.publish(EXPORT, ["after"], reason="cli"), within=30, what="the publisher to recover"
        )
        await eventually(lambda: "after" in received.keys, within=15, what="a message published after the outage")
    assert (down_during_outage, publisher.down) == (True, False)
    assert "during" not in received.keys  # never taken by the broker: the database drain has those rows


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
async def stock_cli(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    from tests.integration.stock.harness import StockScenarioBuilder
    from tests.integration.stock.test_cli_stock import cli_database

    async with cli_database() as db, StockScenarioBuilder(db).build() as s:
        await s.configure(stock_source_mapping={"default": 1})
        yield s


def broker_env(monkeypatch: pytest.MonkeyPatch, settings: BrokerSettings, url: str) -> None:
    monkeypatch.setenv("PLENTYSYNC_BROKER_URL", url)
    monkeypatch.setenv("PLENTYSYNC_BROKER__EXCHANGE", settings.exchange)
    monkeypatch.setenv("PLENTYSYNC_BROKER__QUEUE_PREFIX", settings.queue_prefix)
    monkeypatch.setenv("PLENTYSYNC_BROKER__RECONNECT_SECONDS", "60")


async def test_stock_export_add_now_queues_urgently_and_publishes(
    stock_cli: Any, broker: BrokerSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.integration.stock.test_cli_stock import cli

    s = stock_cli
    first, second, third = s.stock_skus(3, sources=1)

    broker_env(monkeypatch, broker, BROKER_URL)
    data = (await cli(capsys, "stock", "export", "add", "-s", f"{first},{second}", "--now", "--json")).json()
    assert data["published"] is True
    assert data["eligible"] == [first, second]
    assert (data["inserted"], data["priority"], data["topic"]) == (2, 0, "plenty.stock.export.processor")
    rows = await s.engine.queue.list_items(EXPORT_TYPE_ID)
    assert {(r.entity_key, r.priority, r.status, r.trigger_reason) for r in rows} == {
        (first, 0, "pending", "cli"),
        (second, 0, "pending", "cli"),
    }
    messages = await drain_queue(queue_name(broker, EXPORT_TYPE_ID))
    assert [(m.routing_key, m.body and m.body["keys"], m.body and m.body["reason"]) for m in messages] == [
        ("plenty.stock.export.processor", [first, second], "cli")
    ]
    human = await cli(capsys, "stock", "export", "add", "-s", first, "--now")
    assert "Published on plenty.stock.export.processor" in human.out

    down = closed_port_url()
    broker_env(monkeypatch, broker, down)
    waits = await cli(capsys, "stock", "export", "add", "-s", third, "--now")
    assert "did not take the message" in waits.out
    assert "wait at urgent priority" in waits.out
    assert "s3cret-pw" not in waits.out + waits.err
    assert (await s.engine.queue.list_items(EXPORT_TYPE_ID, keys=[third]))[0].priority == 0

    monkeypatch.delenv("PLENTYSYNC_BROKER_URL")
    data = (await cli(capsys, "stock", "export", "add", "-s", third, "--now", "--json")).json()
    assert (data["published"], data["broker"], data["updated"]) == (False, None, 1)
    plain = (await cli(capsys, "stock", "export", "add", "-s", third, "--json")).json()
    assert "published" not in plain
    await cli(capsys, "stock", "export", "add", "-s", third, "--now", "--dry-run", code=2)
