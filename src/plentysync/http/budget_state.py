"""The arithmetic of a budget shared through the database: pure functions from one stored row (and a
reading, and the time) to the next row. :mod:`plentysync.http.shared_budget` does the locking and the
I/O around them.

The model is the in-memory :class:`~plentysync.http.budget.BudgetGate`'s, with every process's calls
in flight as ``holders``: a window's ``left`` is the smallest count the server announced in it, and a
call may go out while ``left - calls in flight - reserve > 0``. Counting the calls in flight instead
of decrementing ``left`` at each acquire keeps a call that was admitted in one window and lands in the
next one counted, and keeps calls of other tools (that only show in the announced count) counted too.

Two rules keep a reset on our side from running ahead of the server's:

* a window counts as reset only ``grace`` seconds after the announced reset time (the server rounds
  ``Decay`` to whole seconds and its clock is not ours);
* after a reset on our side, until an answer from the new window confirms it (``resets_at`` is
  ``None``), only one call is in flight: if the server has not reset yet, one call learns it, not a
  burst. The same holds before anything is known about an account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from plentysync.http.budget import WindowReading

SAME_WINDOW = 1.5
"""Two readings whose reset times differ by less than this describe the same window (``Decay`` is
whole seconds, and answers take time to arrive)."""

WaitReason = Literal["blocked", "window", "slot", "probe"]


@dataclass(frozen=True)
class WindowState:
    limit: int | None = None
    left: int | None = None
    """The smallest ``calls-left`` the server announced in the current window (``limit`` after a reset
    on our side; ``None``: no count known, nothing to hold back for)."""
    resets_at: float | None = None
    """Epoch seconds; ``None`` after a reset on our side, until an answer from the new window."""


@dataclass(frozen=True)
class BudgetState:
    """One ``api_budget`` row: the windows of one kind of call of one account, and its calls in flight."""

    windows: Mapping[str, WindowState] = field(default_factory=dict)
    holders: Mapping[str, float] = field(default_factory=dict)
    """Calls in flight in any process: holder id → epoch seconds when the holder counts as gone."""
    blocked_until: float = 0.0
    throttled: int = 0

    @property
    def in_flight(self) -> int:
        return len(self.holders)


@dataclass(frozen=True)
class Wait:
    seconds: float
    reason: WaitReason | None = None
    """``blocked``/``window``: a known time; ``slot``/``probe``: until an answer frees a slot (poll)."""


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def from_row(windows: Any, holders: Any, blocked_until: Any, throttled: Any) -> BudgetState:
    """The state of a stored row (JSON as the database returns it; missing parts count as empty)."""
    parsed: dict[str, WindowState] = {}
    if isinstance(windows, Mapping):
        for name, window in windows.items():
            if isinstance(window, Mapping):
                parsed[str(name)] = WindowState(
                    limit=_int_or_none(window.get("limit")),
                    left=_int_or_none(window.get("left")),
                    resets_at=_float_or_none(window.get("resets_at")),
                )
    held = {str(k): float(v) for k, v in holders.items()} if isinstance(holders, Mapping) else {}
    return BudgetState(parsed, held, float(blocked_until or 0.0), int(throttled or 0))


def windows_json(state: BudgetState) -> dict[str, dict[str, Any]]:
    """The ``windows`` column: ``{name: {"limit", "left", "resets_at"}}``."""
    return {
        name: {"limit": w.limit, "left": w.left, "resets_at": w.resets_at} for name, w in sorted(state.windows.items())
    }


def refresh(state: BudgetState, now: float, *, grace: float) -> BudgetState:
    """Reset the windows whose reset time (plus ``grace``) has passed and forget expired holders."""
    windows = {
        name: WindowState(w.limit, w.limit, None) if w.resets_at is not None and now >= w.resets_at + grace else w
        for name, w in state.windows.items()
    }
    holders = {holder: expires for holder, expires in state.holders.items() if expires > now}
    return replace(state, windows=windows, holders=holders)


def wait_needed(
    state: BudgetState, now: float, *, grace: float, reserve: int = 0, concurrency: int | None = None
) -> Wait:
    """How long a new call has to wait (``seconds <= 0``: it may go now). ``state`` must be refreshed."""
    waits: list[Wait] = []
    in_flight = state.in_flight
    if state.blocked_until > now:
        waits.append(Wait(state.blocked_until - now, "blocked"))
    if concurrency is not None and in_flight >= concurrency:
        waits.append(Wait(0.0, "slot"))
    unconfirmed = not state.windows or any(w.left is not None and w.resets_at is None for w in state.windows.values())
    if unconfirmed and in_flight >= 1:
        waits.append(Wait(0.0, "probe"))
    for window in state.windows.values():
        if window.left is None or window.left - in_flight - reserve > 0:
            continue
        if window.resets_at is not None:
            waits.append(Wait(window.resets_at + grace - now, "window"))
        elif in_flight:
            waits.append(Wait(0.0, "probe"))
        # Spent, no reset time known and nothing in flight that could tell: one call goes out to learn
        # it (its answer, or a 429's Retry-After, says when to go on).
    if not waits:
        return Wait(0.0)
    return max(waits, key=lambda w: (w.seconds, w.reason is not None))


def admit(state: BudgetState, holder: str, expires_at: float) -> BudgetState:
    """Count one more call in flight."""
    return replace(state, holders={**state.holders, holder: expires_at})


def _min(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def apply_reading(window: WindowState | None, reading: WindowReading, now: float) -> WindowState:
    """One window after an answer announced ``reading`` at ``now``."""
    resets_at = None if reading.decay is None else now + reading.decay
    if window is None:
        return WindowState(reading.limit, reading.calls_left, resets_at)
    limit = reading.limit if reading.limit is not None else window.limit
    announced = reading.calls_left
    if resets_at is None:
        # No timing: trust the newest count, as the in-memory gate does.
        return WindowState(limit, announced if announced is not None else window.left, window.resets_at)
    if window.resets_at is None:
        # Reset on our side (or new): the first answer of the window can only lower what we assumed.
        return WindowState(limit, _min(window.left, announced), resets_at)
    if abs(resets_at - window.resets_at) < SAME_WINDOW:
        # Answers arrive out of order: within one window the smallest count is the newest.
        return WindowState(limit, _min(window.left, announced), window.resets_at)
    if resets_at > window.resets_at:
        return WindowState(limit, announced if announced is not None else window.left, resets_at)
    # An answer from a window that has ended already (it was on the way while the next one began):
    # its count says nothing about the current window, and its reset time is in the past.
    return replace(window, limit=limit)


def settle(state: BudgetState, holder: str | None, readings: Mapping[str, WindowReading], now: float) -> BudgetState:
    """The call of ``holder`` was answered with ``readings`` (``state`` must be refreshed)."""
    holders = {h: expires for h, expires in state.holders.items() if h != holder}
    windows = dict(state.windows)
    for name, reading in readings.items():
        windows[name] = apply_reading(windows.get(name), reading, now)
    return replace(state, windows=windows, holders=holders)


def penalize(state: BudgetState, now: float, retry_after: float | None) -> BudgetState:
    """The server answered 429: nothing goes out for ``retry_after`` seconds (1 when not told)."""
    wait = 1.0 if retry_after is None else retry_after
    return replace(state, blocked_until=max(state.blocked_until, now + wait), throttled=state.throttled + 1)
