"""The PlentyONE client over real HTTP against the sandbox, with faults."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from plentysync.errors import OutcomeUnknownError, RateLimitedError, RetryableError
from plentysync.log import configure_logging
from plentysync.plenty.models import (
    OrderCreate,
    OrderItemAmountWrite,
    OrderItemWrite,
    OutgoingRow,
    PropertyWrite,
    StockCorrectionRow,
)
from plentysync.sandbox.faults import FaultRule
from plentysync.sandbox.plenty import PlentySandboxConfig
from tests.integration.clients.plenty_support import PlentySandbox, plenty_sandbox

pytestmark = pytest.mark.anyio


def an_order(sandbox: PlentySandbox, external_id: str) -> OrderCreate:
    variation = next(iter(sandbox.state.variations.values()))
    return OrderCreate(
        plentyId=sandbox.state.plenty_id,
        statusId=Decimal(3),
        orderItems=[
            OrderItemWrite(
                quantity=Decimal(1),
                orderItemName=str(variation.get("name") or "item"),
                itemVariationId=int(variation["id"]),
                referrerId=Decimal(1),
                countryVatId=1,
                vatField=0,
                amounts=[OrderItemAmountWrite(priceOriginalGross=Decimal("19.99"))],
            )
        ],
        properties=[PropertyWrite(typeId=7, value=external_id)],
    )


async def test_429_storm_is_waited_out_honouring_retry_after() -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        async with sandbox.client() as plenty:
            await plenty.login()
            sandbox.faults.add(FaultRule("rate_limit", method="GET", path="/rest/webstores", times=2, retry_after=1))
            started = time.monotonic()
            stores = await plenty.reference.webstores()
            elapsed = time.monotonic() - started
            assert plenty.budget_snapshot()["read"].throttled == 2
    assert stores
    assert sandbox.recorder.count("GET", "/rest/webstores") == 3
    assert elapsed >= 1.9


async def test_5xx_on_a_read_is_retried() -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        sandbox.faults.add(FaultRule("status", method="GET", path="/rest/orders/statuses", times=2, status=503))
        async with sandbox.client() as plenty:
            statuses = [s async for s in plenty.orders.statuses()]
    assert {s.statusId for s in statuses} >= {Decimal(3)}
    assert sandbox.recorder.count("GET", "/rest/orders/statuses") == 3


async def test_dropped_connection_after_an_order_create_is_reconciled_by_look_up() -> None:
    with plenty_sandbox() as sandbox:
        sandbox.faults.add(FaultRule("drop_after", method="POST", path="^/rest/orders$", times=1))
        async with sandbox.client() as plenty:
            with pytest.raises(OutcomeUnknownError):
                await plenty.orders.create(an_order(sandbox, "EXT-DROP-1"))
            assert len(sandbox.state.orders_by_external_id("EXT-DROP-1")) == 1
            found = await plenty.orders.find_by_external_order_id("EXT-DROP-1", sandbox.state.plenty_id)
    assert [o.id for o in found] == [o["id"] for o in sandbox.state.orders_by_external_id("EXT-DROP-1")]
    assert sandbox.recorder.count("POST", "/rest/orders") == 1


async def test_5xx_on_an_order_create_is_not_repeated_and_reconcile_then_create_makes_one_order() -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        sandbox.faults.add(FaultRule("status", method="POST", path="^/rest/orders$", times=1, status=500))
        async with sandbox.client() as plenty:
            with pytest.raises(OutcomeUnknownError):
                await plenty.orders.create(an_order(sandbox, "EXT-500-1"))
            assert sandbox.recorder.count("POST", "/rest/orders") == 1
            if not await plenty.orders.find_by_external_order_id("EXT-500-1"):
                await plenty.orders.create(an_order(sandbox, "EXT-500-1"))
    assert len(sandbox.state.orders_by_external_id("EXT-500-1")) == 1


async def test_5xx_on_an_outgoing_booking_is_not_repeated() -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        variation_id, warehouse_id = sandbox.state.stock_pairs()[0]
        sandbox.faults.add(FaultRule("status", method="PUT", path="bookOutgoingItems", times=1, status=502))
        row = OutgoingRow(variationId=variation_id, quantity=Decimal(-1), deliveredAt=datetime.now(UTC))
        async with sandbox.client() as plenty:
            with pytest.raises(OutcomeUnknownError):
                await plenty.stock.book_outgoing(warehouse_id, [row])
    assert sandbox.recorder.count("PUT", "bookOutgoingItems") == 1


async def test_drop_before_on_an_idempotent_correction_is_retried_and_applied_once() -> None:
    with plenty_sandbox() as sandbox:
        variation_id, warehouse_id = sandbox.state.stock_pairs()[0]
        before = len(sandbox.state.movements_of(variation_id, warehouse_id))
        sandbox.faults.add(FaultRule("drop_before", method="PUT", path="correction", times=1))
        async with sandbox.client() as plenty:
            await plenty.stock.corrections(
                warehouse_id, [StockCorrectionRow(variationId=variation_id, quantity=Decimal(42))]
            )
    assert sandbox.state.stock_at_location(variation_id, warehouse_id, 0) == 42
    assert sandbox.recorder.count("PUT", "correction") == 1
    assert len(sandbox.state.movements_of(variation_id, warehouse_id)) <= before + 1


async def test_latency_beyond_the_read_timeout_is_retried_and_gives_up_when_it_persists() -> None:
    with plenty_sandbox(record_all=True) as sandbox:
        async with sandbox.client(read_timeout=0.2) as plenty:
            await plenty.login()
            sandbox.faults.add(FaultRule("latency", method="GET", path="/rest/webstores", times=1, latency_ms=600))
            assert await plenty.reference.webstores()
            sandbox.faults.add(FaultRule("latency", method="GET", path="/rest/vat/standard", latency_ms=600))
            with pytest.raises(RetryableError, match="timed out"):
                await plenty.reference.vat_standard()
    assert sandbox.recorder.count("GET", "/rest/webstores") == 2


async def test_expired_token_is_renewed_without_a_second_login() -> None:
    with plenty_sandbox() as sandbox:
        async with sandbox.client() as plenty:
            await plenty.whoami()
            sandbox.faults.add(FaultRule("expire_token", method="GET", path="/rest/webstores", times=1))
            assert await plenty.reference.webstores()
            assert plenty.auth.logins == 1
            assert plenty.auth.refreshes == 1
    paths = [e.path for e in sandbox.recorder.exchanges() if e.method == "POST"]
    assert paths.count("/rest/login") == 1
    assert paths.count("/rest/login/refresh") == 1


async def test_session_cap_raises_rate_limited_until_a_session_is_freed() -> None:
    with plenty_sandbox(PlentySandboxConfig(max_sessions=1)) as sandbox:
        first = sandbox.client()
        await first.login()
        async with sandbox.client(session_cap_retry_after=0.01) as second:
            with pytest.raises(RateLimitedError, match="concurrent sessions"):
                await second.whoami()
            await first.aclose()
            assert (await second.whoami()).id is not None


async def test_the_announced_budget_is_waited_for_instead_of_collecting_429s() -> None:
    with plenty_sandbox(PlentySandboxConfig(read_limit=4, window_seconds=1.0)) as sandbox:
        async with sandbox.client() as plenty:
            for _ in range(7):
                await plenty.reference.webstores()
            snapshot = plenty.budget_snapshot()["read"]
    assert sandbox.state.throttled_count == 0
    assert snapshot.waits >= 1
    assert {w.name for w in snapshot.windows} == {"short", "long"}


async def test_concurrent_writes_never_exceed_the_write_window() -> None:
    """Twelve corrections at once against a window of 3 writes per second: the gate holds back
    whatever the budget does not cover, so the server sends no 429 and no request is repeated."""
    with plenty_sandbox(PlentySandboxConfig(write_limit=3, window_seconds=1.0), record_all=True) as sandbox:
        warehouse = next(iter(sandbox.state.warehouses))
        variations = sorted(sandbox.state.variations)[:12]
        async with sandbox.client() as plenty:
            await plenty.login()
            started = time.monotonic()
            await anyio_gather(
                plenty.stock.corrections(warehouse, [StockCorrectionRow(variationId=v, quantity=Decimal(5))])
                for v in variations
            )
            elapsed = time.monotonic() - started
            gate = plenty.budget_snapshot()["write"]
    corrections = sandbox.recorder.count("PUT", "/stock/correction")
    assert sandbox.state.throttled_count == 0
    assert corrections == 12  # every write sent once: nothing went out into a spent window and came back 429
    assert gate.waits >= 3
    assert elapsed >= 3.0  # four windows of three
    for v in variations:
        assert sandbox.state.stock_of(v, warehouse).physical == 5


async def anyio_gather(calls: Iterable[Awaitable[object]]) -> None:
    async def run(call: Awaitable[object]) -> None:
        await call

    async with anyio.create_task_group() as group:
        for call in calls:
            group.start_soon(run, call)


async def test_no_token_or_password_reaches_the_log_file_at_any_level(tmp_path: Path) -> None:
    """httpx2 logs every request line at INFO, and the refresh goes out as ``?refresh_token=…``: the log
    file, even at DEBUG, never holds a token or the password (the request log redacts them, and so must
    every library logger)."""
    configure_logging(tmp_path / "logs", file_level="DEBUG", console_level="CRITICAL")
    try:
        with plenty_sandbox() as sandbox:
            async with sandbox.client() as plenty:
                await plenty.whoami()
                sandbox.faults.add(FaultRule("expire_token", method="GET", path="/rest/webstores", times=1))
                assert await plenty.reference.webstores()
                assert plenty.auth.refreshes == 1
            issued = {*sandbox.state.tokens, *(t["refreshToken"] for t in sandbox.state.tokens.values())}
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = (tmp_path / "logs" / "plentysync.log").read_text()
    finally:
        configure_logging(None)
    assert len(issued) >= 4  # two logins' worth: the first pair and the refreshed one
    assert "/rest/login/refresh" in text or "plenty_login" in text  # the exchange was logged at all
    leaked = [secret for secret in [*issued, sandbox.config.password] if secret in text]
    assert not leaked
