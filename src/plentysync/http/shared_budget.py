"""One PlentyONE API budget for every process using an account, kept in the ``api_budget`` table.

Several workers (on several hosts) that each read the rate-limit headers for themselves would
together send N times what the server allows. A :class:`SharedGate` keeps the reading, the calls in
flight (``holders``, which makes the write concurrency cap global) and a 429's block in one row per
account and kind, and decides in the database, under the row lock, whether a call may go out. The
arithmetic is :mod:`plentysync.http.budget_state`; this module locks, reads and writes the row.

Cost per call: one short transaction to take a slot (lock the row, decide, add the holder) and one
to give it back together with the answer's reading. While a process waits, one of its coroutines
per kind polls the row (the others queue in the process), so waiting costs a few transactions a
second per process, not per coroutine. A holder expires after ``lease_seconds``: a process killed
mid-call frees its slot then.

Times are epoch seconds from the database's clock (:attr:`Database.clock`: the host clock corrected
by the offset to the server), so every host compares the same reset times and leases.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.db.dialect import insert_ignore
from plentysync.db.engine import Database
from plentysync.db.tables import api_budget
from plentysync.errors import RateLimitedError
from plentysync.http import budget_state as bs
from plentysync.http.budget import (
    GateSnapshot,
    HeaderParser,
    Kind,
    RateBudget,
    WindowReading,
    WindowSnapshot,
)
from plentysync.log import get_logger
from plentysync.procs import holder_gone, process_id

log = get_logger(__name__)


@dataclass(frozen=True)
class SharedBudgetConfig:
    concurrency: int | None = None
    """Calls of this kind in flight across all processes (``None``: no cap)."""
    max_wait: float = 900.0
    """A wait longer than this raises :class:`RateLimitedError` instead of sleeping."""
    reserve: int = 0
    """Calls to leave unused in every window, for other tools sharing the account."""
    lease_seconds: float = 120.0
    """How long a call in flight holds its slot at most; longer than any one request may take."""
    reset_grace: float = 1.0
    """Seconds after the announced reset before a window counts as reset on our side."""
    poll_seconds: float = 0.1
    """Pause between looks at the row while waiting for a slot (jittered ±50 %)."""
    recheck_seconds: float = 30.0
    """The longest sleep before looking at the row again during a long wait."""


@dataclass
class _Lease:
    gate: SharedGate
    holder: str
    readings: dict[str, WindowReading] = field(default_factory=dict)


_CURRENT: ContextVar[_Lease | None] = ContextVar("plentysync_shared_budget_lease", default=None)
"""The slot the current task holds, so :meth:`SharedGate.observe` (which the HTTP base calls inside
the slot) can hand the reading to the release instead of writing it separately."""


def _wall_clock(db: Database) -> Callable[[], float]:
    def now() -> float:
        return db.clock.now().timestamp()

    return now


class SharedGate:
    """The budget of one kind of call of one account, shared through the database."""

    def __init__(
        self,
        db: Database,
        account: str,
        kind: Kind,
        config: SharedBudgetConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.account = account
        self.kind: str = kind
        self.config = config or SharedBudgetConfig()
        self.clock = clock or _wall_clock(db)
        self.sleep = sleep
        self.waits = 0
        self.waited_seconds = 0.0
        self.throttled = 0
        """429s this process saw (the row counts everybody's)."""
        self._last = bs.BudgetState()
        self._local_blocked_until = 0.0
        self._waiter = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    # -- the row -----------------------------------------------------------------------------

    def _where(self) -> Any:
        return (api_budget.c.account == self.account) & (api_budget.c.kind == self.kind)

    async def _lock_row(self, conn: AsyncConnection) -> bs.BudgetState:
        """Read the row under its lock, creating it first when it does not exist yet."""
        t = api_budget
        query = select(t.c.windows, t.c.holders, t.c.blocked_until, t.c.throttled).where(self._where())
        if self.db.backend != "sqlite":  # SQLite: BEGIN IMMEDIATE already excludes every other writer
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            initial: dict[str, Any] = {
                "account": self.account,
                "kind": self.kind,
                "windows": {},
                "holders": {},
                "blocked_until": None,
                "throttled": 0,
                "updated_at": datetime.fromtimestamp(self.clock(), UTC),
            }
            await conn.execute(insert_ignore(self.db.backend, t, [initial], ["account", "kind"]))
            row = (await conn.execute(query)).one()
        return bs.from_row(row.windows, row.holders, row.blocked_until, row.throttled)

    def _without_dead_holders(self, state: bs.BudgetState) -> bs.BudgetState:
        """Drop the slots of processes of this host that are gone (SIGKILL, OOM): their calls ended with
        them, and waiting out their lease would stall every writer for minutes. (A holder on another host
        frees its slot when its lease runs out.)"""
        dead = [holder for holder in state.holders if holder_gone(holder)]
        if not dead:
            return state
        log.warning(
            "budget.dead_holders_reclaimed", kind=self.kind, account=_account_label(self.account), slots=len(dead)
        )
        return replace(state, holders={h: e for h, e in state.holders.items() if h not in dead})

    async def _store(self, conn: AsyncConnection, state: bs.BudgetState, now: float) -> None:
        await conn.execute(
            update(api_budget)
            .where(self._where())
            .values(
                windows=bs.windows_json(state),
                holders=dict(state.holders),
                blocked_until=state.blocked_until or None,
                throttled=state.throttled,
                updated_at=datetime.fromtimestamp(now, UTC),
            )
        )
        self._last = state

    # -- taking and giving back a slot ---------------------------------------------------------

    async def _try_admit(self, holder: str) -> bs.Wait:
        cfg = self.config

        async def work(conn: AsyncConnection) -> bs.Wait:
            now = self.clock()
            state = self._without_dead_holders(bs.refresh(await self._lock_row(conn), now, grace=cfg.reset_grace))
            wait = bs.wait_needed(state, now, grace=cfg.reset_grace, reserve=cfg.reserve, concurrency=cfg.concurrency)
            local = self._local_blocked_until - now
            if local > wait.seconds:
                wait = bs.Wait(local, "blocked")
            if wait.reason is not None:
                self._last = state  # nothing written: the next look decides again
                return wait
            await self._store(conn, bs.admit(state, holder, now + cfg.lease_seconds), now)
            return wait

        return await self.db.transact(work)

    async def acquire(self) -> str:
        """Wait until a call may go out; the holder id that counts it as in flight."""
        await self.flush()
        holder = f"{process_id()}:{uuid.uuid4().hex[:12]}"
        async with self._waiter:  # one coroutine per process and kind looks at the row at a time
            announcer = _WaitAnnouncer(self)
            while True:
                wait = await self._try_admit(holder)
                if wait.reason is None:
                    announcer.done()
                    return holder
                if wait.reason in ("blocked", "window") and wait.seconds > self.config.max_wait:
                    raise RateLimitedError(
                        f"the API's {self.kind} budget is spent for another {math.ceil(wait.seconds)} s",
                        retry_after=wait.seconds,
                    )
                if wait.reason in ("slot", "probe"):
                    nap = max(wait.seconds, self.config.poll_seconds * random.uniform(0.5, 1.5))
                else:
                    nap = min(wait.seconds, self.config.recheck_seconds)
                self.waits += 1
                self.waited_seconds += nap
                announcer.waiting(wait, nap)
                await self.sleep(nap)

    async def release(self, holder: str | None, readings: Mapping[str, WindowReading]) -> None:
        """The call of ``holder`` ended (answered with ``readings``, or not at all)."""
        grace = self.config.reset_grace

        async def work(conn: AsyncConnection) -> None:
            now = self.clock()
            state = bs.refresh(await self._lock_row(conn), now, grace=grace)
            await self._store(conn, bs.settle(state, holder, readings, now), now)

        await self.db.transact(work)

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        lease = _Lease(self, await self.acquire())
        token = _CURRENT.set(lease)
        try:
            yield
        finally:
            _CURRENT.reset(token)
            try:
                await self.release(lease.holder, lease.readings)
            except Exception:  # the call's outcome matters more: give the slot back in the background
                log.warning("could not give back a shared %s budget slot yet; retrying", self.kind, exc_info=True)
                self._release_later(lease.holder, dict(lease.readings))

    def observe(self, readings: Mapping[str, WindowReading]) -> None:
        lease = _CURRENT.get()
        if lease is not None and lease.gate is self:
            lease.readings.update(readings)  # written with the release, in the same transaction
        else:
            self._background(self.release(None, dict(readings)))

    def penalize(self, retry_after: float | None) -> None:
        """Block this process at once and every other one as soon as the row is written."""
        self.throttled += 1
        now = self.clock()
        self._local_blocked_until = max(self._local_blocked_until, now + (1.0 if retry_after is None else retry_after))

        async def work(conn: AsyncConnection) -> None:
            state, at = await self._lock_row(conn), self.clock()
            await self._store(conn, bs.penalize(state, at, retry_after), at)

        self._background(self.db.transact(work))

    def _release_later(self, holder: str, readings: Mapping[str, WindowReading]) -> None:
        """Keep trying to give a slot back (the database restarting, say) until it works or the slot's
        lease has run out anyway. Without this, a short database outage would hold every slot for the
        whole lease, and with the cap of 3 all processes would stop writing that long."""

        async def retry() -> None:
            waited, delay = 0.0, 0.25
            while True:
                await self.sleep(delay)
                waited += delay
                try:
                    await self.release(holder, readings)
                    return
                except Exception:
                    if waited + delay >= self.config.lease_seconds:
                        log.warning("gave up giving back a shared %s budget slot; its lease expires", self.kind)
                        return
                    delay = min(delay * 2, 5.0)

        task = asyncio.get_running_loop().create_task(retry())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _background(self, write: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await write
            except Exception:  # a lost reading only makes the budget more cautious
                log.warning("could not write the shared %s budget", self.kind, exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending)

    def snapshot(self) -> GateSnapshot:
        """The row as this process last read it, with this process's waits and 429s."""
        now = self.clock()
        state = self._last
        return GateSnapshot(
            kind=self.kind,
            windows=tuple(
                WindowSnapshot(
                    name=name,
                    limit=w.limit,
                    calls_left=w.left,
                    resets_in=None if w.resets_at is None else max(0.0, w.resets_at - now),
                )
                for name, w in sorted(state.windows.items())
            ),
            in_flight=state.in_flight,
            blocked_for=max(0.0, state.blocked_until - now, self._local_blocked_until - now),
            waits=self.waits,
            waited_seconds=self.waited_seconds,
            throttled=self.throttled,
        )


ANNOUNCE_AFTER_SECONDS = 2.0
"""A wait for the budget longer than this is said on the console and in the log (then every minute)."""
ANNOUNCE_EVERY_SECONDS = 60.0


def _account_label(account: str) -> str:
    """The account without the user name (``base_url|username``): what the log and console show."""
    return account.partition("|")[0]


class _WaitAnnouncer:
    """Says what one call waits for, once the wait gets long: a run that sits still without a word
    looks hung (a dead holder's slots once stalled runs for minutes in silence)."""

    def __init__(self, gate: SharedGate) -> None:
        self.gate = gate
        self.started = time.monotonic()
        self.expected = 0.0
        self.said_at: float | None = None

    def _why(self, wait: bs.Wait) -> str:
        gate, state = self.gate, self.gate._last
        seconds = math.ceil(wait.seconds)
        if wait.reason == "blocked":
            return f"PlentyONE answered 429 (too many requests): every process pauses for {seconds} s"
        if wait.reason == "window":
            return f"the PlentyONE {gate.kind} budget is spent: waiting {seconds} s for its window to reset"
        holders = ", ".join(sorted({h.rsplit(":", 1)[0] for h in state.holders})) or "none"
        if wait.reason == "slot":
            cap = gate.config.concurrency
            return f"all {cap} PlentyONE {gate.kind} slots are in use (held by {holders}): waiting for one to free"
        return (
            f"waiting for the PlentyONE {gate.kind} call in flight (held by {holders}) to report the budget "
            "after its window reset"
        )

    def waiting(self, wait: bs.Wait, nap: float) -> None:
        now = time.monotonic()
        self.expected = max(self.expected, now - self.started + nap)
        due = (
            self.expected >= ANNOUNCE_AFTER_SECONDS
            if self.said_at is None
            else now - self.said_at >= ANNOUNCE_EVERY_SECONDS
        )
        if due:
            self.said_at = now
            log.warning(
                "budget.waiting",
                message=self._why(wait),
                kind=self.gate.kind,
                reason=wait.reason,
                waited_seconds=round(now - self.started, 1),
                account=_account_label(self.gate.account),
            )

    def done(self) -> None:
        if self.said_at is not None:
            log.warning(
                "budget.wait_over",
                kind=self.gate.kind,
                waited_seconds=round(time.monotonic() - self.started, 1),
                account=_account_label(self.gate.account),
            )


def shared_rate_budget(
    db: Database,
    account: str,
    parse_headers: HeaderParser,
    *,
    write_concurrency: int = 3,
    read_concurrency: int | None = None,
    max_requests_per_second: float | None = None,
    max_wait: float = 900.0,
    reserve: int = 0,
    lease_seconds: float = 120.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> RateBudget:
    """A :class:`RateBudget` whose gates are shared through ``db`` under ``account``; the write
    concurrency cap holds across all processes (and per process, which changes nothing below it)."""
    caps: dict[Kind, int | None] = {"write": write_concurrency, "read": read_concurrency}

    def gate(kind: Kind) -> SharedGate:
        config = SharedBudgetConfig(
            concurrency=caps[kind], max_wait=max_wait, reserve=reserve, lease_seconds=lease_seconds
        )
        return SharedGate(db, account, kind, config, clock=clock, sleep=sleep)

    return RateBudget(
        parse_headers,
        write_concurrency=write_concurrency,
        read_concurrency=read_concurrency,
        max_requests_per_second=max_requests_per_second,
        gate_factory=gate,
    )


def account_key(base_url: str, username: str) -> str:
    """The ``api_budget.account`` of a PlentyONE system and user."""
    return f"{base_url.rstrip('/')}|{username}"


# -- for the status screens -------------------------------------------------------------------


@dataclass(frozen=True)
class SharedWindowSnapshot:
    name: str
    limit: int | None
    left: int | None
    resets_in: float | None
    """Seconds until the window resets; ``None`` when unknown (reset on our side, not confirmed yet)."""


@dataclass(frozen=True)
class SharedBudgetSnapshot:
    """One account's budget of one kind of call, as every process sees it."""

    account: str
    kind: str
    windows: tuple[SharedWindowSnapshot, ...]
    in_flight: int
    blocked_for: float
    throttled: int
    """429s seen by any process since the row was created."""
    updated_at: datetime


async def load_budgets(
    db: Database, *, reset_grace: float = SharedBudgetConfig.reset_grace
) -> list[SharedBudgetSnapshot]:
    """Every shared budget, with windows past their reset shown reset and expired holders left out."""
    t = api_budget
    async with db.read() as conn:
        rows = (await conn.execute(select(t).order_by(t.c.account, t.c.kind))).all()
    now = db.clock.now().timestamp()
    snapshots = []
    for row in rows:
        state = bs.refresh(
            bs.from_row(row.windows, row.holders, row.blocked_until, row.throttled), now, grace=reset_grace
        )
        snapshots.append(
            SharedBudgetSnapshot(
                account=row.account,
                kind=row.kind,
                windows=tuple(
                    SharedWindowSnapshot(
                        name, w.limit, w.left, None if w.resets_at is None else max(0.0, w.resets_at - now)
                    )
                    for name, w in sorted(state.windows.items())
                ),
                in_flight=state.in_flight,
                blocked_for=max(0.0, state.blocked_until - now),
                throttled=state.throttled,
                updated_at=row.updated_at,
            )
        )
    return snapshots
