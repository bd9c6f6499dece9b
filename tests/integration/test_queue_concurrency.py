"""Hypothesis state machine: 8 concurrent claimers, concurrent enqueues and finishes, lease expiry,
on each backend. Checks that no row is ever held by two claimers at once and that no enqueue is lost:
every key enqueued after its last successful finish is processed again."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, select

from plentysync.clock import ManualClock
from plentysync.db import Database
from plentysync.db.migrate import upgrade
from plentysync.db.tables import queue_item
from plentysync.engine.queue import ClaimedItem, CoalescingQueue, FinishResult, Outcome, QueuePolicy
from tests.databases import DatabaseUnderTest

pytestmark = pytest.mark.db

T = "plenty_stock_export"
KEYS = [f"SKU-{n}" for n in range(12)]
CLAIMERS = 8
LEASE = 60.0

key_lists = st.lists(st.sampled_from(KEYS), min_size=1, max_size=6)


def make_machine(url: str) -> type[RuleBasedStateMachine]:
    class QueueMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
            self.db = Database(url, pool_size=12)
            policy = QueuePolicy(lease_seconds=LEASE, max_attempts=1000, backoff_base_seconds=0, backoff_max_seconds=0)
            self.queue = CoalescingQueue(self.db, policy=policy, clock=self.clock, recovery_interval=0)
            self.enqueued: Counter[str] = Counter()
            self.held: dict[int, ClaimedItem] = {}
            self.stale: dict[int, ClaimedItem] = {}
            self.last_success_version: dict[str, int] = {}
            self.round = 0

        def run(self, coro: Any) -> Any:
            return self.loop.run_until_complete(coro)

        @initialize()
        def empty_queue(self) -> None:
            async def reset() -> None:
                await upgrade(self.db)
                async with self.db.begin() as conn:
                    await conn.execute(delete(queue_item))

            self.run(reset())

        def teardown(self) -> None:
            try:
                self.run(self._drain_and_check())
            finally:
                self.run(self.db.dispose())
                self.loop.close()

        # -- helpers --------------------------------------------------------------------------

        async def _enqueue(self, keys: list[str]) -> None:
            await self.queue.enqueue(T, keys, reason="source_item_save")
            self.enqueued.update(keys)

        async def _finish_one(self, item: ClaimedItem, status: str) -> FinishResult:
            outcome = Outcome(item, status)  # type: ignore[arg-type]
            result = await self.queue.finish(item.owner, [outcome])
            if result.finished and status in ("success", "skipped"):  # both mean: processed
                self.last_success_version[item.entity_key] = item.version
            return result

        def _check_claims(self, batches: list[list[ClaimedItem]], busy: set[int]) -> None:
            seen: set[int] = set()
            for batch in batches:
                for item in batch:
                    assert item.id not in seen, f"row {item.entity_key} claimed twice in one round"
                    assert item.id not in busy, f"row {item.entity_key} claimed while another worker holds it"
                    seen.add(item.id)
                    self.held[item.id] = item

        # -- rules ----------------------------------------------------------------------------

        @rule(keys=key_lists)
        def enqueue(self, keys: list[str]) -> None:
            self.run(self._enqueue(keys))

        @rule(
            enqueues=st.lists(key_lists, max_size=4),
            limits=st.lists(st.integers(1, 4), min_size=CLAIMERS, max_size=CLAIMERS),
            finish_share=st.floats(0, 1),
            seed=st.integers(0, 2**16),
        )
        def concurrent_round(
            self, enqueues: list[list[str]], limits: list[int], finish_share: float, seed: int
        ) -> None:
            """8 claimers, the enqueues and finishes of some held rows, all at the same time."""
            rng = random.Random(seed)
            to_finish = [item for item in self.held.values() if rng.random() < finish_share]
            statuses = [rng.choice(["success", "success", "retry", "skipped"]) for _ in to_finish]
            for item in to_finish:
                del self.held[item.id]
            busy = set(self.held)
            self.round += 1

            async def go() -> list[Any]:
                claims = [
                    self.queue.claim(T, owner=f"r{self.round}-w{n}", limit=limit) for n, limit in enumerate(limits)
                ]
                others: list[Coroutine[Any, Any, Any]] = [self._enqueue(keys) for keys in enqueues]
                others += [self._finish_one(item, s) for item, s in zip(to_finish, statuses, strict=True)]
                return await asyncio.gather(*claims, *others, return_exceptions=True)

            results = self.run(go())
            for result in results:
                if isinstance(result, BaseException):  # every task has ended: safe to fail now
                    raise result
            self._check_claims(results[:CLAIMERS], busy)
            for result in results[CLAIMERS + len(enqueues) :]:
                assert result.lost == 0, "a live claim was lost"

        # Draws never depend on which claimer won which row (that differs from run to run): rules
        # pick by position and share, so Hypothesis can replay and shrink them.

        @rule(
            picks=st.lists(st.floats(0, 1), min_size=1, max_size=6),
            statuses=st.lists(st.sampled_from(["success", "retry", "error", "skipped"]), min_size=6, max_size=6),
        )
        def finish_some(self, picks: list[float], statuses: list[str]) -> None:
            ordered = sorted(self.held)
            chosen = list(dict.fromkeys(ordered[int(p * (len(ordered) - 1))] for p in picks)) if ordered else []
            for row_id, status in zip(chosen, statuses, strict=False):
                item = self.held.pop(row_id)
                result = self.run(self._finish_one(item, status))
                assert result.finished + result.requeued == 1

        @rule()
        def leases_expire(self) -> None:
            """Every holder stalls past its lease; their rows become claimable again."""
            self.stale.update(self.held)
            self.held.clear()
            self.clock.advance(LEASE + 1)

        @rule()
        def stale_workers_wake_up(self) -> None:
            for item in list(self.stale.values()):
                result = self.run(self._finish_one(item, "success"))
                if item.id in self.held:
                    assert result.lost == 1, "a stale worker overwrote a row another worker holds"
            self.stale.clear()

        @invariant()
        def versions_count_every_enqueue(self) -> None:
            async def versions() -> dict[str, int]:
                async with self.db.read() as conn:
                    rows = await conn.execute(select(queue_item.c.entity_key, queue_item.c.version))
                    return {key: version for key, version in rows.all()}

            assert self.run(versions()) == dict(self.enqueued)

        # -- the end --------------------------------------------------------------------------

        async def _drain_and_check(self) -> None:
            for item in list(self.held.values()):
                await self._finish_one(item, "success")
            self.held.clear()
            self.stale.clear()
            self.clock.advance(LEASE + 1)
            for _ in range(100):
                batches = await asyncio.gather(
                    *(
                        self.queue.claim(T, owner=f"drain-{n}", limit=5, statuses=("pending", "error"))
                        for n in range(CLAIMERS)
                    ),
                    return_exceptions=True,
                )
                claimed: list[list[ClaimedItem]] = []
                for batch in batches:
                    if isinstance(batch, BaseException):
                        raise batch
                    claimed.append(batch)
                self._check_claims(claimed, set())
                items = [item for batch in claimed for item in batch]
                if not items:
                    break
                for item in items:
                    await self._finish_one(item, "success")
                    del self.held[item.id]
            async with self.db.read() as conn:
                rows = (
                    await conn.execute(select(queue_item.c.entity_key, queue_item.c.status, queue_item.c.version))
                ).all()
            assert {key for key, _, _ in rows} == set(self.enqueued)
            for key, status, version in rows:
                assert status in ("success", "skipped"), f"{key} ended {status}"
                assert version == self.enqueued[key]
                assert self.last_success_version.get(key) == version, f"the last change of {key} was never processed"

    return QueueMachine


def test_queue_under_concurrency(test_database: DatabaseUnderTest) -> None:
    machine = make_machine(test_database.url)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        ),
    )
