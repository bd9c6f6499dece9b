"""A rate-limit gate fed by the budget the server announces in its response headers.

A static token bucket is wrong for PlentyONE: the server tells, on every response, how many calls
are left in the current window and when it resets. The gate keeps the latest reading per window,
counts the calls it let through that have not been answered yet, and makes a caller wait for the
reset *before* sending when the budget is spent, instead of collecting 429s. A 429 that happens
anyway (another process sharing the account) blocks the gate for ``Retry-After``.

Reads and writes have separate gates, because the servers keep separate budgets for them, and
writes have a concurrency cap of their own (three in flight by default: more has been seen to
trip the write limit and lock out logins for the whole instance).

A gate is anything with the :class:`Gate` interface: :class:`BudgetGate` keeps the reading in this
process; :mod:`plentysync.http.shared_budget` keeps it in the state database for every process using
the account (``RateBudget(..., gate_factory=...)``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aiolimiter import AsyncLimiter

from plentysync.errors import RateLimitedError

Kind = Literal["read", "write"]


@dataclass(frozen=True)
class WindowReading:
    """One window as a response announced it: ``limit`` calls per window, ``calls_left`` after the
    call that carried it, and ``decay`` seconds until the window resets."""

    limit: int | None
    calls_left: int | None
    decay: float | None


@dataclass
class _Window:
    limit: int | None = None
    calls_left: int | None = None
    resets_at: float | None = None


@dataclass(frozen=True)
class WindowSnapshot:
    name: str
    limit: int | None
    calls_left: int | None
    resets_in: float | None


@dataclass(frozen=True)
class GateSnapshot:
    """What an operator sees: the budget of one kind of call right now."""

    kind: str
    windows: tuple[WindowSnapshot, ...]
    in_flight: int
    blocked_for: float
    waits: int
    waited_seconds: float
    throttled: int


HeaderParser = Callable[[Mapping[str, str]], dict[str, WindowReading]]


class Gate(Protocol):
    """The budget of one kind of call, as :class:`RateBudget` and the HTTP base use it."""

    kind: str

    def hold(self) -> AbstractAsyncContextManager[None]:
        """Wait until one call may go out and count it as in flight until the block ends."""
        ...

    def observe(self, readings: Mapping[str, WindowReading]) -> None:
        """An answer announced ``readings`` (inside :meth:`hold`: the answer of that call)."""
        ...

    def penalize(self, retry_after: float | None) -> None:
        """The server answered 429: nothing goes out for ``retry_after`` seconds."""
        ...

    def snapshot(self) -> GateSnapshot: ...

    async def flush(self) -> None:
        """Finish writes still on their way (a shared gate records a 429 in the background)."""
        ...


GateFactory = Callable[[Kind], Gate]


@dataclass
class BudgetGate:
    """The announced budget of one kind of call (reads or writes) of one account."""

    kind: str
    max_wait: float = 900.0
    """A wait longer than this raises :class:`RateLimitedError` instead of sleeping (e.g. the daily
    window is spent: the run should end and the rows retry later)."""
    reserve: int = 0
    """Calls to leave unused in every window, for other tools sharing the account."""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _windows: dict[str, _Window] = field(default_factory=dict)
    _in_flight: int = 0
    _blocked_until: float = 0.0
    waits: int = 0
    waited_seconds: float = 0.0
    throttled: int = 0

    def wait_needed(self) -> float:
        """Seconds until a call may be sent (0: now)."""
        now = self.clock()
        need = max(0.0, self._blocked_until - now)
        for window in self._windows.values():
            if window.resets_at is not None and now >= window.resets_at:
                window.calls_left = window.limit
                window.resets_at = None
            if window.calls_left is None:
                continue
            if window.calls_left - self._in_flight - self.reserve <= 0:
                # Spent with no reset time announced: wait a second for an answer in flight.
                need = max(need, 1.0 if window.resets_at is None else window.resets_at - now)
        return need

    async def acquire(self) -> None:
        while True:
            need = self.wait_needed()
            if need <= 0:
                self._in_flight += 1
                return
            if need > self.max_wait:
                raise RateLimitedError(
                    f"the API's {self.kind} budget is spent for another {math.ceil(need)} s", retry_after=need
                )
            self.waits += 1
            self.waited_seconds += need
            await self.sleep(need)

    def release(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()

    async def flush(self) -> None:
        """Nothing to write: the reading lives in this process."""

    def observe(self, readings: Mapping[str, WindowReading]) -> None:
        now = self.clock()
        for name, reading in readings.items():
            window = self._windows.setdefault(name, _Window())
            resets_at = None if reading.decay is None else now + reading.decay
            same_window = (
                window.resets_at is not None and resets_at is not None and abs(resets_at - window.resets_at) < 1.5
            )
            if reading.limit is not None:
                window.limit = reading.limit
            if reading.calls_left is not None:
                if same_window and window.calls_left is not None:
                    # Answers can arrive out of order: within one window the smallest count is the newest.
                    window.calls_left = min(window.calls_left, reading.calls_left)
                else:
                    window.calls_left = reading.calls_left
            if resets_at is not None and not same_window:
                window.resets_at = resets_at

    def penalize(self, retry_after: float | None) -> None:
        """The server answered 429: nothing goes out for ``retry_after`` seconds."""
        self.throttled += 1
        wait = 1.0 if retry_after is None else retry_after
        self._blocked_until = max(self._blocked_until, self.clock() + wait)

    def snapshot(self) -> GateSnapshot:
        now = self.clock()
        return GateSnapshot(
            kind=self.kind,
            windows=tuple(
                WindowSnapshot(
                    name=name,
                    limit=w.limit,
                    calls_left=w.calls_left,
                    resets_in=None if w.resets_at is None else max(0.0, w.resets_at - now),
                )
                for name, w in sorted(self._windows.items())
            ),
            in_flight=self._in_flight,
            blocked_for=max(0.0, self._blocked_until - now),
            waits=self.waits,
            waited_seconds=self.waited_seconds,
            throttled=self.throttled,
        )


class RateBudget:
    """Read and write gates of one account, the write concurrency cap and an optional fixed
    per-process ceiling (requests per second, via aiolimiter).

    ``gate_factory`` builds the gates (default: a :class:`BudgetGate` per kind, with ``max_wait``,
    ``reserve``, ``clock`` and ``sleep``). The concurrency caps here are per process; a shared gate
    applies its own cap across processes as well."""

    def __init__(
        self,
        parse_headers: HeaderParser | None = None,
        *,
        write_concurrency: int = 3,
        read_concurrency: int | None = None,
        max_requests_per_second: float | None = None,
        max_wait: float = 900.0,
        reserve: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        gate_factory: GateFactory | None = None,
    ) -> None:
        if write_concurrency < 1:
            raise ValueError("write_concurrency must be at least 1")
        self.parse_headers = parse_headers

        def local_gate(kind: Kind) -> Gate:
            return BudgetGate(kind, max_wait=max_wait, reserve=reserve, clock=clock, sleep=sleep)

        factory = gate_factory or local_gate
        kinds: tuple[Kind, ...] = ("read", "write")
        self.gates: dict[str, Gate] = {kind: factory(kind) for kind in kinds}
        self._concurrency: dict[str, asyncio.Semaphore | None] = {
            "write": asyncio.Semaphore(write_concurrency),
            "read": asyncio.Semaphore(read_concurrency) if read_concurrency else None,
        }
        self._ceiling = AsyncLimiter(max_requests_per_second, 1.0) if max_requests_per_second else None

    @asynccontextmanager
    async def slot(self, kind: Kind) -> AsyncIterator[Gate]:
        """Hold a concurrency slot and one unit of budget for the duration of one call."""
        semaphore = self._concurrency[kind]
        if semaphore is not None:
            await semaphore.acquire()
        try:
            if self._ceiling is not None:
                await self._ceiling.acquire()
            gate = self.gates[kind]
            async with gate.hold():
                yield gate
        finally:
            if semaphore is not None:
                semaphore.release()

    def observe(self, kind: Kind, headers: Mapping[str, str]) -> None:
        if self.parse_headers is not None:
            readings = self.parse_headers(headers)
            if readings:
                self.gates[kind].observe(readings)

    def snapshot(self) -> dict[str, GateSnapshot]:
        return {kind: gate.snapshot() for kind, gate in self.gates.items()}

    async def flush(self) -> None:
        """Finish the gates' pending writes (call before closing the database)."""
        for gate in self.gates.values():
            await gate.flush()
