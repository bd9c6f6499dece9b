"""The coalescing queue on SQLite, PostgreSQL and MariaDB: coalescing, claims, leases, outcomes,
retries, purge and stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from plentysync.clock import ManualClock
from plentysync.db import Database
from plentysync.db.tables import queue_item
from plentysync.engine.queue import (
    PRIORITY_URGENT,
    CoalescingQueue,
    Outcome,
    QueuePolicy,
)
from plentysync.errors import UsageError

pytestmark = [pytest.mark.anyio, pytest.mark.db]
T = "plenty_stock_export"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def queue(db: Database, clock: ManualClock) -> CoalescingQueue:
    policy = QueuePolicy(lease_seconds=60, max_attempts=3, backoff_base_seconds=10, backoff_max_seconds=100)
    return CoalescingQueue(db, policy=policy, clock=clock, chunk_size=7, recovery_interval=0)


async def row(db: Database, key: str, profile_type: str = T) -> dict[str, object]:
    async with db.read() as conn:
        found = (
            await conn.execute(
                select(queue_item).where(queue_item.c.profile_type == profile_type, queue_item.c.entity_key == key)
            )
        ).first()
    assert found is not None, f"no row for {key}"
    return dict(found._mapping)


async def test_enqueue_coalesces_one_row_per_key_and_counts_versions(db: Database, queue: CoalescingQueue) -> None:
    first = await queue.enqueue(T, ["A", "B", "A", "C"], reason="source_item_save")
    assert (first.requested, first.inserted, first.updated) == (4, 3, 0)
    second = await queue.enqueue(T, ["A", "D"], reason="cli")
    assert (second.inserted, second.updated) == (1, 1)
    a = await row(db, "A")
    assert a["version"] == 3  # three enqueues of A: two in the first call, one in the second
    assert a["trigger_reason"] == "cli"
    assert a["status"] == "pending"
    assert (await row(db, "B"))["version"] == 1
    # the same key under another profile type is a different row
    await queue.enqueue("plenty_order_export", ["A"], reason="manual")
    assert (await row(db, "A", "plenty_order_export"))["version"] == 1


async def test_keys_are_compared_exactly_on_every_backend(db: Database, queue: CoalescingQueue) -> None:
    result = await queue.enqueue(T, ["sku-1", "SKU-1", "Sku-1 "[:-1]], reason="manual")
    assert result.inserted == 3


async def test_invalid_keys_and_reasons_are_refused(queue: CoalescingQueue) -> None:
    with pytest.raises(UsageError, match="invalid entity key"):
        await queue.enqueue(T, [" padded"], reason="manual")
    with pytest.raises(UsageError, match="longer than 255"):
        await queue.enqueue(T, ["x" * 256], reason="manual")
    with pytest.raises(UsageError, match="invalid trigger reason"):
        await queue.enqueue(T, ["ok"], reason="Not A Reason")


async def test_large_enqueue_is_chunked_and_complete(db: Database, queue: CoalescingQueue) -> None:
    keys = [f"K{n}" for n in range(50)]  # chunk size 7 in this fixture
    assert (await queue.enqueue(T, keys, reason="cli")).inserted == 50
    assert (await queue.enqueue(T, keys, reason="cli")).updated == 50
    assert (await queue.stats(T)).by_status == {"pending": 50}


async def test_claim_takes_urgent_first_then_oldest(queue: CoalescingQueue) -> None:
    await queue.enqueue(T, ["old"], reason="manual")
    await queue.enqueue(T, ["mid"], reason="manual")
    await queue.enqueue(T, ["new"], reason="webhook", priority=PRIORITY_URGENT)
    claimed = await queue.claim(T, owner="w1", limit=2)
    assert [c.entity_key for c in claimed] == ["new", "old"]
    assert all(c.attempts == 1 for c in claimed)


async def test_claimed_rows_are_not_claimed_again_until_finished(queue: CoalescingQueue) -> None:
    await queue.enqueue(T, ["A", "B", "C"], reason="manual")
    first = await queue.claim(T, owner="w1", limit=2)
    second = await queue.claim(T, owner="w2", limit=5)
    assert {c.entity_key for c in first}.isdisjoint({c.entity_key for c in second})
    assert len(first) + len(second) == 3
    assert await queue.claim(T, owner="w3", limit=5) == []


async def test_change_during_processing_is_not_lost(db: Database, queue: CoalescingQueue) -> None:
    await queue.enqueue(T, ["A"], reason="manual")
    [item] = await queue.claim(T, owner="w1", limit=1)
    # a new change arrives while w1 pushes the old state
    await queue.enqueue(T, ["A"], reason="source_item_save")
    during = await row(db, "A")
    assert during["status"] == "processing"  # still w1's: nobody else may take it now
    assert during["lease_owner"] == "w1"
    assert await queue.claim(T, owner="w2", limit=1) == []
    result = await queue.finish("w1", [Outcome.success(item, "pushed", metadata={"pushed": 1})])
    assert (result.finished, result.requeued, result.lost) == (0, 1, 0)
    after = await row(db, "A")
    assert after["status"] == "pending"
    assert after["metadata"] == {"pushed": 1}  # what happened is kept even though the row re-queued
    [again] = await queue.claim(T, owner="w2", limit=1)
    assert again.version == 2
    assert (await queue.finish("w2", [Outcome.success(again)])).finished == 1
    assert (await row(db, "A"))["status"] == "success"


async def test_outcomes_success_skipped_error(db: Database, queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["ok", "same", "bad"], reason="manual")
    items = {c.entity_key: c for c in await queue.claim(T, owner="w", limit=3)}
    result = await queue.finish(
        "w",
        [
            Outcome.success(items["ok"], "Stock corrected."),
            Outcome.skipped(items["same"], "Stock is up-to-date"),
            Outcome.failed(items["bad"], "unknown SKU: export the product first", retryable=False),
        ],
    )
    assert (result.finished, result.gave_up) == (3, 1)
    ok, same, bad = [await row(db, k) for k in ("ok", "same", "bad")]
    assert (ok["status"], ok["message"], ok["lease_owner"]) == ("success", "Stock corrected.", None)
    assert ok["processed_at"] == clock.now()
    assert same["status"] == "skipped"
    assert (bad["status"], bad["message"]) == ("error", "unknown SKU: export the product first")


async def test_retries_back_off_then_give_up(db: Database, queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["flaky"], reason="manual")
    waits = []
    for attempt in (1, 2):
        [item] = await queue.claim(T, owner="w", limit=1)
        assert item.attempts == attempt
        await queue.finish("w", [Outcome.failed(item, "HTTP 503")])
        state = await row(db, "flaky")
        assert state["status"] == "pending"
        assert "retrying: HTTP 503" in str(state["message"])
        waits.append(state["next_attempt_at"] - clock.now())  # type: ignore[operator]
        assert await queue.claim(T, owner="w", limit=1) == []  # not before the backoff has passed
        clock.advance(waits[-1])
    assert waits == [timedelta(seconds=10), timedelta(seconds=20)]
    [item] = await queue.claim(T, owner="w", limit=1)
    await queue.finish("w", [Outcome.failed(item, "HTTP 503")])
    final = await row(db, "flaky")
    assert final["status"] == "error"
    assert final["message"] == "gave up after 3 attempts: HTTP 503"


async def test_retry_after_from_the_server_is_honoured(
    db: Database, queue: CoalescingQueue, clock: ManualClock
) -> None:
    await queue.enqueue(T, ["r"], reason="manual")
    [item] = await queue.claim(T, owner="w", limit=1)
    await queue.finish("w", [Outcome.failed(item, "429", retry_after=90)])
    assert (await row(db, "r"))["next_attempt_at"] == clock.now() + timedelta(seconds=90)


async def test_enqueue_resets_an_error_row_and_its_backoff(db: Database, queue: CoalescingQueue) -> None:
    await queue.enqueue(T, ["x"], reason="manual")
    [item] = await queue.claim(T, owner="w", limit=1)
    await queue.finish("w", [Outcome.failed(item, "bad data", retryable=False)])
    await queue.enqueue(T, ["x"], reason="product_save")
    state = await row(db, "x")
    assert (state["status"], state["attempts"], state["message"]) == ("pending", 0, None)
    assert len(await queue.claim(T, owner="w", limit=1)) == 1


async def test_expired_lease_returns_rows_and_stale_finish_is_ignored(
    db: Database, queue: CoalescingQueue, clock: ManualClock
) -> None:
    await queue.enqueue(T, ["A"], reason="manual")
    [lost] = await queue.claim(T, owner="dead", limit=1)
    clock.advance(30)
    assert await queue.claim(T, owner="w2", limit=1) == []  # lease still valid
    clock.advance(31)
    [taken] = await queue.claim(T, owner="w2", limit=1)
    assert taken.id == lost.id
    assert taken.attempts == 2
    assert "lease expired" in str(taken.previous_message)
    # the first worker wakes up and tries to finish: nothing happens to w2's row
    result = await queue.finish("dead", [Outcome.success(lost)])
    assert (result.finished, result.requeued, result.lost) == (0, 0, 1)
    assert (await row(db, "A"))["lease_owner"] == "w2"


async def test_extend_lease_keeps_rows(queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["A"], reason="manual")
    items = await queue.claim(T, owner="w", limit=1)
    clock.advance(50)
    assert await queue.extend_lease("w", items) == 1
    clock.advance(50)
    assert await queue.claim(T, owner="other", limit=1) == []


async def test_worker_that_keeps_dying_ends_in_error(db: Database, queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["poison"], reason="manual")
    for _ in range(3):
        assert len(await queue.claim(T, owner="w", limit=1)) == 1
        clock.advance(61)
    assert await queue.recover_expired() == 1
    state = await row(db, "poison")
    assert state["status"] == "error"
    assert "stopped responding on every attempt" in str(state["message"])


async def test_release_gives_rows_back_without_using_an_attempt(db: Database, queue: CoalescingQueue) -> None:
    await queue.enqueue(T, ["A"], reason="manual")
    items = await queue.claim(T, owner="w", limit=1)
    assert await queue.release("w", items, message="dry run") == 1
    state = await row(db, "A")
    assert (state["status"], state["attempts"], state["lease_owner"]) == ("pending", 0, None)


async def test_claim_filters_by_keys_status_and_change_time(queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["A", "B", "C"], reason="manual")
    cutoff = clock.now()
    clock.advance(1)
    await queue.enqueue(T, ["D"], reason="manual")
    assert [c.entity_key for c in await queue.claim(T, owner="w", limit=10, keys=["C", "Z"])] == ["C"]
    claimed = await queue.claim(T, owner="w", limit=10, changed_before=cutoff)
    assert [c.entity_key for c in claimed] == ["A", "B"]
    await queue.finish("w", [Outcome.failed(claimed[0], "no", retryable=False)])
    assert [c.entity_key for c in await queue.claim(T, owner="w", limit=10, statuses=["error"])] == ["A"]


async def test_purge_by_keys_ids_age_and_all(db: Database, queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["done", "failed", "waiting", "busy", "keep"], reason="manual")
    items = {c.entity_key: c for c in await queue.claim(T, owner="w", limit=4, keys=["done", "failed", "busy", "keep"])}
    await queue.finish(
        "w",
        [
            Outcome.success(items["done"]),
            Outcome.failed(items["failed"], "x", retryable=False),
            Outcome.success(items["keep"]),
        ],
    )
    clock.advance(timedelta(days=31))
    # by age: finished rows only; pending and processing are never purged by age
    assert await queue.purge(T, older_than=timedelta(days=30), dry_run=True) == 3
    assert await queue.purge(T, older_than=timedelta(days=30)) == 3
    remaining = {r.entity_key: r.status for r in await queue.list_items(T)}
    assert remaining == {"waiting": "pending", "busy": "processing"}
    await queue.enqueue(T, ["a", "b"], reason="manual")
    assert await queue.purge(T, keys=["a", "nope"]) == 1
    b_id = (await row(db, "b"))["id"]
    assert await queue.purge(ids=[b_id]) == 1  # type: ignore[list-item]
    assert await queue.purge(T, everything=True) == 2
    assert (await queue.stats()).total == 0
    with pytest.raises(UsageError):
        await queue.purge(T)
    with pytest.raises(UsageError):
        await queue.purge(keys=["a"])


async def test_purge_in_chunks_removes_everything(queue: CoalescingQueue) -> None:
    await queue.enqueue(T, [f"k{n}" for n in range(30)], reason="manual")  # chunk size 7
    assert await queue.purge(T, everything=True) == 30
    assert (await queue.stats()).total == 0


async def test_stats_by_status_reason_and_profile(queue: CoalescingQueue, clock: ManualClock) -> None:
    await queue.enqueue(T, ["a", "b", "c"], reason="source_item_save")
    await queue.enqueue(T, ["d"], reason="collect_drift")
    await queue.enqueue("plenty_order_export", ["1001"], reason="manual")
    [item] = await queue.claim(T, owner="w", limit=1)
    clock.advance(61)
    stats = await queue.stats()
    assert stats.total == 5
    assert stats.by_status == {"pending": 4, "processing": 1}
    assert stats.by_reason == {"source_item_save": 3, "collect_drift": 1, "manual": 1}
    assert stats.by_profile == {T: {"pending": 3, "processing": 1}, "plenty_order_export": {"pending": 1}}
    assert stats.expired_leases == 1
    assert stats.due_now == 4
    assert stats.oldest_pending_at is not None
    assert stats.oldest_pending_at <= clock.now()
    assert (await queue.stats(T)).total == 4
    assert item.entity_key == "a"


async def test_retry_errors_resets_rows(db: Database, queue: CoalescingQueue) -> None:
    await queue.enqueue(T, ["a", "b"], reason="manual")
    items = await queue.claim(T, owner="w", limit=2)
    await queue.finish("w", [Outcome.failed(i, "x", retryable=False) for i in items])
    assert await queue.retry_errors(T, keys=["a"]) == 1
    assert (await row(db, "a"))["status"] == "pending"
    assert await queue.retry_errors() == 1
    assert (await row(db, "b"))["attempts"] == 0
