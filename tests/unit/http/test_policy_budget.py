"""The status→action table, Retry-After parsing and the header-driven budget gate, with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from plentysync.errors import RateLimitedError
from plentysync.http.budget import BudgetGate, RateBudget, WindowReading
from plentysync.http.policy import Action, Rule, StatusPolicy
from plentysync.http.retry_after import parse_retry_after


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, "", Action.OK),
        (204, "", Action.OK),
        (429, "short period write limit reached", Action.RATE_LIMITED),
        (401, "", Action.REFRESH_AUTH),
        (403, "", Action.FAIL),
        (404, "", Action.NOT_FOUND),
        (422, "", Action.VALIDATION),
        (400, "", Action.VALIDATION),
        (500, "", Action.RETRY),
        (503, "", Action.RETRY),
        (418, "", Action.FAIL),
    ],
)
def test_default_table(status: int, body: str, expected: Action) -> None:
    assert StatusPolicy().classify(status, body) is expected


def test_adapter_rules_with_markers_win_over_defaults() -> None:
    policy = StatusPolicy([Rule(404, Action.FAIL, marker="does not match any route")])
    assert policy.classify(404, '{"message":"Request does not match any route."}') is Action.FAIL
    assert policy.classify(404, '{"message":"No such entity with sku = X"}') is Action.NOT_FOUND


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("1.5", now=now) == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-3", now=now) == 0.0


@pytest.mark.anyio
async def test_gate_waits_for_the_announced_reset_instead_of_sending() -> None:
    t = FakeTime()
    gate = BudgetGate("write", clock=t.clock, sleep=t.sleep)
    await gate.acquire()
    gate.observe({"short": WindowReading(limit=20, calls_left=0, decay=5)})
    gate.release()
    await gate.acquire()  # must wait for the reset: nothing may go out while the budget is zero
    assert t.sleeps == [5.0]
    assert gate.snapshot().waits == 1


@pytest.mark.anyio
async def test_gate_counts_calls_in_flight_against_the_budget() -> None:
    t = FakeTime()
    gate = BudgetGate("write", clock=t.clock, sleep=t.sleep)
    gate.observe({"short": WindowReading(limit=20, calls_left=2, decay=10)})
    await gate.acquire()
    await gate.acquire()
    assert t.sleeps == []
    await gate.acquire()  # two unanswered calls use up the two left
    assert t.sleeps == [10.0]


@pytest.mark.anyio
async def test_gate_keeps_the_smallest_count_when_answers_arrive_out_of_order() -> None:
    t = FakeTime()
    gate = BudgetGate("read", clock=t.clock, sleep=t.sleep)
    gate.observe({"short": WindowReading(limit=10, calls_left=1, decay=30)})
    gate.observe({"short": WindowReading(limit=10, calls_left=4, decay=30)})  # an older answer
    assert gate.snapshot().windows[0].calls_left == 1


@pytest.mark.anyio
async def test_gate_refills_after_the_window_resets() -> None:
    t = FakeTime()
    gate = BudgetGate("read", clock=t.clock, sleep=t.sleep)
    gate.observe({"short": WindowReading(limit=10, calls_left=0, decay=3)})
    t.now += 3.5
    await gate.acquire()
    assert t.sleeps == []
    assert gate.snapshot().windows[0].calls_left == 10


@pytest.mark.anyio
async def test_the_longest_window_decides() -> None:
    t = FakeTime()
    gate = BudgetGate("read", clock=t.clock, sleep=t.sleep)
    gate.observe(
        {
            "short": WindowReading(limit=10, calls_left=0, decay=3),
            "long": WindowReading(limit=1000, calls_left=0, decay=200),
        }
    )
    await gate.acquire()
    assert t.sleeps == [200.0]


@pytest.mark.anyio
async def test_a_wait_beyond_max_wait_raises_rate_limited() -> None:
    t = FakeTime()
    gate = BudgetGate("read", clock=t.clock, sleep=t.sleep, max_wait=60)
    gate.observe({"long": WindowReading(limit=1000, calls_left=0, decay=3600)})
    with pytest.raises(RateLimitedError) as caught:
        await gate.acquire()
    assert caught.value.retry_after == pytest.approx(3600)
    assert t.sleeps == []


@pytest.mark.anyio
async def test_a_429_blocks_the_gate_for_retry_after() -> None:
    t = FakeTime()
    gate = BudgetGate("write", clock=t.clock, sleep=t.sleep)
    gate.penalize(4.0)
    await gate.acquire()
    assert t.sleeps == [4.0]
    assert gate.snapshot().throttled == 1


@pytest.mark.anyio
async def test_read_and_write_budgets_are_separate() -> None:
    t = FakeTime()
    budget = RateBudget(
        lambda headers: {"short": WindowReading(int(headers["l"]), int(headers["left"]), float(headers["d"]))},
        clock=t.clock,
        sleep=t.sleep,
    )
    budget.observe("write", {"l": "20", "left": "0", "d": "5"})
    async with budget.slot("read"):
        pass
    assert t.sleeps == []
    async with budget.slot("write"):
        pass
    assert t.sleeps == [5.0]
    snapshot = budget.snapshot()
    assert snapshot["write"].waits == 1
    assert snapshot["read"].waits == 0
