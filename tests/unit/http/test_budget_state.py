"""The shared budget's window arithmetic (pure functions of the stored row, a reading and the time),
and a simulation of several processes sharing one row against a fixed-window server."""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from plentysync.http import budget_state as bs
from plentysync.http.budget import WindowReading

GRACE = 1.0


def state(**windows: bs.WindowState) -> bs.BudgetState:
    return bs.BudgetState(windows=windows)


def test_answers_within_one_window_keep_the_smallest_count() -> None:
    s = state(short=bs.WindowState(20, 5, 1030.0))
    s = bs.settle(s, None, {"short": WindowReading(20, 9, 30.4)}, now=1000.0)  # an older answer, late
    assert s.windows["short"] == bs.WindowState(20, 5, 1030.0)
    s = bs.settle(s, None, {"short": WindowReading(20, 3, 29.0)}, now=1000.5)
    assert s.windows["short"] == bs.WindowState(20, 3, 1030.0)


def test_a_newer_window_takes_the_announced_count_and_reset() -> None:
    s = state(short=bs.WindowState(20, 0, 1002.0))
    s = bs.settle(s, None, {"short": WindowReading(20, 18, 60.0)}, now=1001.0)
    assert s.windows["short"] == bs.WindowState(20, 18, 1061.0)


def test_an_answer_from_an_ended_window_changes_nothing() -> None:
    """It was on the way while the next window began: its low count and past reset would otherwise
    make us reset again in a moment and hand out the whole limit while the server's window is half spent."""
    current = bs.WindowState(20, 12, 1060.0)
    s = bs.settle(state(short=current), None, {"short": WindowReading(20, 0, 1.0)}, now=1001.0)
    assert s.windows["short"] == current


def test_the_first_answer_after_our_reset_can_only_lower_the_count() -> None:
    s = bs.refresh(state(short=bs.WindowState(20, 0, 1000.0)), 1001.0, grace=GRACE)
    assert s.windows["short"] == bs.WindowState(20, 20, None)
    s = bs.settle(s, None, {"short": WindowReading(20, 17, 59.0)}, now=1001.2)
    assert s.windows["short"] == bs.WindowState(20, 17, 1060.2)
    s2 = bs.settle(
        bs.BudgetState({"short": bs.WindowState(20, 4, None)}), None, {"short": WindowReading(20, 17, 59.0)}, now=1.0
    )
    assert s2.windows["short"].left == 4


def test_a_window_resets_only_after_the_grace() -> None:
    s = state(short=bs.WindowState(20, 0, 1000.0))
    assert bs.refresh(s, 1000.9, grace=GRACE).windows["short"].left == 0
    assert bs.refresh(s, 1001.0, grace=GRACE).windows["short"] == bs.WindowState(20, 20, None)
    wait = bs.wait_needed(bs.refresh(s, 1000.4, grace=GRACE), 1000.4, grace=GRACE)
    assert wait.reason == "window"
    assert math.isclose(wait.seconds, 0.6)


def test_expired_holders_are_forgotten() -> None:
    s = bs.BudgetState(holders={"a": 999.0, "b": 1001.0})
    assert dict(bs.refresh(s, 1000.0, grace=GRACE).holders) == {"b": 1001.0}


def test_calls_in_flight_count_against_the_budget_and_the_cap() -> None:
    s = bs.BudgetState({"short": bs.WindowState(20, 2, 1030.0)}, {"a": 2000.0})
    assert bs.wait_needed(s, 1000.0, grace=GRACE).reason is None
    assert bs.wait_needed(s, 1000.0, grace=GRACE, reserve=1).reason == "window"
    s = bs.admit(s, "b", 2000.0)
    wait = bs.wait_needed(s, 1000.0, grace=GRACE)
    assert (wait.reason, wait.seconds) == ("window", 31.0)
    roomy = bs.BudgetState({"short": bs.WindowState(20, 20, 1030.0)}, {"a": 2000.0, "b": 2000.0, "c": 2000.0})
    assert bs.wait_needed(roomy, 1000.0, grace=GRACE, concurrency=3).reason == "slot"
    assert bs.wait_needed(roomy, 1000.0, grace=GRACE, concurrency=4).reason is None


def test_one_probe_at_a_time_until_the_budget_is_known() -> None:
    unknown = bs.BudgetState()
    assert bs.wait_needed(unknown, 0.0, grace=GRACE).reason is None
    assert bs.wait_needed(bs.admit(unknown, "a", 99.0), 0.0, grace=GRACE).reason == "probe"
    after_reset = bs.refresh(bs.BudgetState({"short": bs.WindowState(20, 0, 10.0)}), 11.0, grace=GRACE)
    assert bs.wait_needed(after_reset, 11.0, grace=GRACE).reason is None
    assert bs.wait_needed(bs.admit(after_reset, "a", 99.0), 11.0, grace=GRACE).reason == "probe"


def test_a_429_blocks_and_counts() -> None:
    s = bs.penalize(bs.BudgetState(blocked_until=1003.0), 1000.0, 2.0)
    assert (s.blocked_until, s.throttled) == (1003.0, 1)
    s = bs.penalize(s, 1000.0, None)
    assert (s.blocked_until, s.throttled) == (1003.0, 2)
    s = bs.penalize(s, 1000.0, 10.0)
    wait = bs.wait_needed(s, 1000.0, grace=GRACE)
    assert (wait.reason, wait.seconds) == ("blocked", 10.0)


def test_the_row_round_trips_through_its_json() -> None:
    s = bs.BudgetState({"long": bs.WindowState(None, 5, None), "short": bs.WindowState(20, 3, 1.5)}, {"h": 9.0})
    back = bs.from_row(bs.windows_json(s), dict(s.holders), s.blocked_until, s.throttled)
    assert back == s
    assert bs.windows_json(s) == {
        "long": {"limit": None, "left": 5, "resets_at": None},
        "short": {"limit": 20, "left": 3, "resets_at": 1.5},
    }
    assert bs.from_row(None, None, None, None) == bs.BudgetState()


readings = st.builds(
    WindowReading,
    limit=st.none() | st.integers(1, 500),
    calls_left=st.none() | st.integers(0, 500),
    decay=st.none() | st.floats(0, 3600, allow_nan=False),
)
windows = st.builds(
    bs.WindowState,
    limit=st.none() | st.integers(1, 500),
    left=st.none() | st.integers(0, 500),
    resets_at=st.none() | st.floats(900, 5000, allow_nan=False),
)


@given(windows, readings, st.floats(900, 5000, allow_nan=False))
def test_a_reading_never_raises_the_count_of_the_window_it_belongs_to(
    window: bs.WindowState, reading: WindowReading, now: float
) -> None:
    after = bs.apply_reading(window, reading, now)
    if reading.decay is None or window.left is None:
        return
    new_resets = now + reading.decay
    same = window.resets_at is None or abs(new_resets - window.resets_at) < bs.SAME_WINDOW
    older = window.resets_at is not None and new_resets <= window.resets_at - bs.SAME_WINDOW
    if same or older:
        assert after.left is not None
        assert after.left <= window.left
    if older:
        assert after.resets_at == window.resets_at


# -- several processes, one row, one fixed-window server ----------------------------------------


@dataclass
class Server:
    """The sandbox's window: it starts with the first call after the previous one ended."""

    limit: int
    length: float
    rounding: str
    start: float = -1e9
    count: int = 0
    throttled: int = 0
    served: int = 0

    def hit(self, now: float) -> WindowReading | None:
        if now >= self.start + self.length:
            self.start, self.count = now, 0
        if self.count >= self.limit:
            self.throttled += 1
            return None
        self.count += 1
        self.served += 1
        left = self.start + self.length - now
        decay = max(1, math.ceil(left)) if self.rounding == "ceil" else math.floor(left)
        return WindowReading(self.limit, self.limit - self.count, float(decay))


@dataclass(order=True)
class Event:
    at: float
    seq: int
    what: str = field(compare=False)
    client: int = field(compare=False)
    holder: str = field(compare=False, default="")
    reading: WindowReading | None = field(compare=False, default=None)


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(1, 12),
    length=st.floats(1.0, 8.0),
    rounding=st.sampled_from(["ceil", "floor"]),
    clients=st.integers(1, 6),
    concurrency=st.none() | st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    max_latency=st.floats(0.0, 0.6),
)
def test_processes_sharing_a_row_never_send_into_a_spent_window(
    limit: int, length: float, rounding: str, clients: int, concurrency: int | None, seed: int, max_latency: float
) -> None:
    """Every client tries to send as fast as the shared row lets it, with random latency both ways and
    ``Decay`` rounded either way; the server never has to refuse a call, and the calls keep flowing."""
    rng = random.Random(seed)
    server = Server(limit, length, rounding)
    row = bs.BudgetState()
    events: list[Event] = []
    seq = 0

    def schedule(at: float, what: str, client: int, holder: str = "", reading: WindowReading | None = None) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, Event(at, seq, what, client, holder, reading))

    for client in range(clients):
        schedule(rng.uniform(0, 0.2), "try", client)
    target, answered, now = 4 * limit + 5, 0, 0.0
    while answered < target:
        event = heapq.heappop(events)
        now = event.at
        if event.what == "try":
            row = bs.refresh(row, now, grace=GRACE)
            wait = bs.wait_needed(row, now, grace=GRACE, concurrency=concurrency)
            if wait.reason is not None:
                schedule(now + max(wait.seconds, 0.05), "try", event.client)
                continue
            holder = f"{event.client}:{seq}"
            row = bs.admit(row, holder, now + 1000)
            schedule(now + rng.uniform(0, max_latency), "arrive", event.client, holder)
        elif event.what == "arrive":
            reading = server.hit(now)
            schedule(now + rng.uniform(0, max_latency), "answer", event.client, event.holder, reading)
        else:
            row = bs.refresh(row, now, grace=GRACE)
            row = bs.settle(row, event.holder, {} if event.reading is None else {"short": event.reading}, now)
            if event.reading is None:
                row = bs.penalize(row, now, 1.0)
            answered += 1
            schedule(now, "try", event.client)
    assert server.throttled == 0
    # Liveness, generously: every window costs at most its length, the grace, a probe's round trip and
    # Decay's rounding; on top, the clients' own round trips where they are fewer than the budget.
    parallel = min(clients, concurrency or clients)
    windows_needed = target / limit + 1
    assert now <= windows_needed * (length + GRACE + 2 * max_latency + 1.2) + target * 2 * max_latency / parallel + 1
