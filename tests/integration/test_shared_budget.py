"""One PlentyONE budget shared through the state database, on SQLite, PostgreSQL and MariaDB: several
clients (tasks, and separate OS processes) drive writes against the sandbox over loopback HTTP with a
small write window, and the sandbox never has to answer 429, never sees more than three writes at
once; a killed process's slots come back at once on its host, after their lease elsewhere; a 429 blocks every
process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from structlog.testing import capture_logs

from plentysync.db import Database
from plentysync.db.tables import api_budget
from plentysync.engine.connections import Connection
from plentysync.http.budget import WindowReading
from plentysync.http.client import RetryConfig
from plentysync.http.shared_budget import SharedBudgetConfig, SharedGate, account_key, load_budgets
from plentysync.plenty import PlentyClient
from plentysync.plenty.models import StockCorrectionRow
from plentysync.sandbox.faults import ASGIApp, FaultInjector, FaultMiddleware, FaultRule, Receive, Scope, Send
from plentysync.sandbox.plenty import PlentySandboxConfig, PlentyState, create_plenty_app
from plentysync.sandbox.server import serving
from plentysync.settings import Settings
from plentysync.sync.clients import plenty_client
from tests.integration.clients.plenty_support import seeded_state

pytestmark = pytest.mark.anyio

WRITE_LIMIT = 6
"""Writes per window of the whole system (the sandbox's long window, which all tokens share)."""
WINDOW = 1.5
LATENCY_MS = 40.0
RETRY = RetryConfig(attempts=3, timeout=60, wait_initial=0.01, wait_max=0.05, wait_jitter=0)


class WritesInFlight:
    """ASGI middleware counting stock writes the server is working on right now, and the peak."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.current = 0
        self.peak = 0
        self.total = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = scope["type"] == "http" and scope["method"] != "GET" and "/stock/" in scope["path"]
        if not counted:
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.current += 1
            self.total += 1
            self.peak = max(self.peak, self.current)
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.current -= 1


@dataclass
class Sandbox:
    state: PlentyState
    config: PlentySandboxConfig
    counter: WritesInFlight
    url: str

    @property
    def warehouse(self) -> int:
        return next(iter(self.state.warehouses))

    @property
    def variations(self) -> list[int]:
        return sorted(self.state.variations)

    def connection(self) -> Connection:
        now = datetime.now(UTC)
        credentials = {"username": self.config.username, "password": self.config.password}
        return Connection(
            id=1,
            name="erp",
            system="plenty",
            base_url=self.url,
            options={},
            credentials={k: SecretStr(v) for k, v in credentials.items()},
            created_at=now,
            updated_at=now,
        )

    @property
    def account(self) -> str:
        return account_key(self.url, self.config.username)


@contextmanager
def write_window_sandbox() -> Iterator[Sandbox]:
    """A sandbox whose system-wide write window allows ``WRITE_LIMIT`` writes per ``WINDOW`` seconds
    (the per-token window is out of the way), each write taking ``LATENCY_MS``."""
    config = PlentySandboxConfig(
        write_limit=1_000_000, long_write_limit=WRITE_LIMIT, long_window_seconds=WINDOW, max_sessions=50
    )
    state = seeded_state()
    faults = FaultInjector([FaultRule("latency", method="PUT", path="/stock/", latency_ms=LATENCY_MS)])
    counter = WritesInFlight(FaultMiddleware(create_plenty_app(state, config), faults, system="plenty", tokens=state))
    with serving(counter) as server:
        yield Sandbox(state, config, counter, server.url)


def settings(*, shared: bool = True) -> Settings:
    return Settings(http={"max_attempts": RETRY.attempts, "shared_budget": shared})


async def correct(plenty: PlentyClient, sandbox: Sandbox, variation: int, quantity: int) -> None:
    await plenty.stock.corrections(
        sandbox.warehouse, [StockCorrectionRow(variationId=variation, quantity=Decimal(quantity))]
    )


async def drive(clients: list[PlentyClient], sandbox: Sandbox, per_client: int) -> list[BaseException | None]:
    """Every client sends ``per_client`` corrections at once; the exceptions (None: it worked)."""
    variations = sandbox.variations
    for plenty in clients:
        await plenty.login()
    calls = [
        correct(plenty, sandbox, variations[(c * per_client + i) % len(variations)], 10 + c)
        for c, plenty in enumerate(clients)
        for i in range(per_client)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    return [r if isinstance(r, BaseException) else None for r in results]


async def test_clients_sharing_the_budget_stay_under_the_window_and_the_cap(db: Database) -> None:
    with write_window_sandbox() as sandbox:
        clients = [plenty_client(sandbox.connection(), settings(), retry=RETRY, db=db) for _ in range(4)]
        started = time.monotonic()
        try:
            errors = await drive(clients, sandbox, per_client=5)
        finally:
            for plenty in clients:
                await plenty.aclose()
        elapsed = time.monotonic() - started
    assert errors == [None] * 20
    assert sandbox.state.throttled_count == 0
    assert sandbox.counter.total == 20  # nothing was refused and sent again
    assert sandbox.counter.peak <= 3
    assert sandbox.counter.peak >= 2  # the clients did overlap
    assert elapsed >= (20 / WRITE_LIMIT - 1) * WINDOW  # at least three windows were waited for

    budgets = {b.kind: b for b in await load_budgets(db)}
    write = budgets["write"]
    assert write.account == sandbox.account
    assert write.in_flight == 0
    assert write.throttled == 0
    long = {w.name: w for w in write.windows}["long"]
    assert long.limit == WRITE_LIMIT
    async with db.read() as conn:
        row = (await conn.execute(select(api_budget).where(api_budget.c.kind == "write"))).one()
    assert set(row.windows) == {"short", "long"}
    assert set(row.windows["long"]) == {"limit", "left", "resets_at"}
    assert row.holders == {}


async def test_per_process_budgets_alone_collect_429s() -> None:
    """The same load with every client keeping its own reading: they spend the shared window together."""
    with write_window_sandbox() as sandbox:
        clients = [plenty_client(sandbox.connection(), settings(shared=False), retry=RETRY) for _ in range(4)]
        try:
            await drive(clients, sandbox, per_client=5)
        finally:
            for plenty in clients:
                await plenty.aclose()
    assert sandbox.state.throttled_count > 0
    assert sandbox.counter.peak > 3


WORKER = """
import asyncio, json, sys
from datetime import UTC, datetime
from decimal import Decimal
from pydantic import SecretStr
from plentysync.db import Database
from plentysync.engine.connections import Connection
from plentysync.http.client import RetryConfig
from plentysync.plenty.models import StockCorrectionRow
from plentysync.settings import Settings
from plentysync.sync.clients import plenty_client

async def main(a):
    db = Database(a["db"])
    await db.sync_clock()
    now = datetime.now(UTC)
    connection = Connection(1, "erp", "plenty", a["url"], {}, {k: SecretStr(v) for k, v in a["credentials"].items()},
                            now, now)
    retry = RetryConfig(attempts=3, timeout=60, wait_initial=0.01, wait_max=0.05, wait_jitter=0)
    settings = Settings(http={"max_attempts": 3})
    errors = []
    async with plenty_client(connection, settings, retry=retry, db=db) as plenty:
        await plenty.login()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the go: every process is ready by then
        async def one(v):
            rows = [StockCorrectionRow(variationId=v, quantity=Decimal(a["quantity"]))]
            await plenty.stock.corrections(a["warehouse"], rows)
        results = await asyncio.gather(*(one(v) for v in a["variations"]), return_exceptions=True)
        errors = [repr(r) for r in results if isinstance(r, BaseException)]
        waits = plenty.budget_snapshot()["write"].waits
    await db.dispose()
    print(json.dumps({"errors": errors, "waits": waits}))

asyncio.run(main(json.loads(sys.argv[1])))
"""


async def read_until(process: asyncio.subprocess.Process, marker: bytes) -> bytes:
    """Read the process's output (log lines come first) up to the line ``marker``."""
    assert process.stdout is not None
    while True:
        line = await process.stdout.readline()
        if not line:
            stderr = await process.stderr.read() if process.stderr else b""
            raise AssertionError(f"the process ended before {marker!r}: {stderr.decode()}")
        if line.strip() == marker:
            return line


def database_url(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


async def test_worker_processes_share_one_budget(db: Database) -> None:
    """Three OS processes, each with its own database pool and login, start sending at the same moment.
    On the server databases: SQLite serialises its writers anyway and runs one worker."""
    if db.backend == "sqlite":
        pytest.skip("several worker processes need PostgreSQL or MariaDB (SQLite: one worker)")
    per_process = 6
    with write_window_sandbox() as sandbox:
        variations = sandbox.variations
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                WORKER,
                json.dumps(
                    {
                        "db": database_url(db),
                        "url": sandbox.url,
                        "credentials": {"username": sandbox.config.username, "password": sandbox.config.password},
                        "warehouse": sandbox.warehouse,
                        "variations": [variations[(p * per_process + i) % len(variations)] for i in range(per_process)],
                        "quantity": 20 + p,
                    }
                ),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for p in range(3)
        ]
        try:
            for process in processes:
                await asyncio.wait_for(read_until(process, b"ready"), timeout=120)
            for process in processes:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
                await process.stdin.drain()
            outputs = []
            for process in processes:
                stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
                assert process.returncode == 0, stderr.decode()
                outputs.append(json.loads(stdout.decode().strip().splitlines()[-1]))
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    assert [o["errors"] for o in outputs] == [[], [], []]
    assert sandbox.state.throttled_count == 0
    assert sandbox.counter.total == 3 * per_process
    assert sandbox.counter.peak <= 3
    assert sum(o["waits"] for o in outputs) > 0  # the processes did hold each other back
    for p in range(3):
        for i in range(per_process):
            variation = variations[(p * per_process + i) % len(variations)]
            assert sandbox.state.stock_of(variation, sandbox.warehouse).physical == 20 + p


HOLDER = """
import asyncio, json, sys, time
from plentysync.db import Database
from plentysync.http.budget import WindowReading
from plentysync.http.shared_budget import SharedBudgetConfig, SharedGate

async def main(a):
    db = Database(a["db"])
    await db.sync_clock()
    gate = SharedGate(db, a["account"], "write", SharedBudgetConfig(concurrency=3, lease_seconds=a["lease"]))
    await gate.release(None, {"short": WindowReading(1000, 1000, 600.0)})  # a known, roomy budget
    for _ in range(3):
        await gate.acquire()
    print("held", flush=True)
    print(json.dumps({"held_at": time.time()}), flush=True)
    await asyncio.sleep(600)

asyncio.run(main(json.loads(sys.argv[1])))
"""


async def test_a_killed_process_of_this_host_frees_its_slots_at_once(db: Database) -> None:
    """A SIGKILLed holder on this host is seen dead at the next look (its pid is gone): the next caller
    neither waits out the lease nor sits there in silence."""
    lease = 120.0
    account = "http://plenty.test|killed"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        json.dumps({"db": database_url(db), "account": account, "lease": lease}),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        await asyncio.wait_for(read_until(process, b"held"), timeout=120)
        await process.stdout.readline()
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
        assert [b.in_flight for b in await load_budgets(db)] == [3]
        gate = SharedGate(db, account, "write", SharedBudgetConfig(concurrency=3))
        started = time.monotonic()
        with capture_logs() as logs:
            await gate.acquire()
        took = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert took < 1.0
    assert gate.waits == 0
    assert [b.in_flight for b in await load_budgets(db)] == [1]  # the dead holders are gone, ours is left
    assert [(e["event"], e["slots"]) for e in logs] == [("budget.dead_holders_reclaimed", 3)]


async def test_slots_of_another_host_are_freed_after_their_lease_and_the_wait_is_announced(db: Database) -> None:
    """A holder on another host cannot be checked from here: its slots come back when the lease runs
    out, and a caller waiting that long says what it waits for."""
    account = "http://plenty.test|elsewhere"
    seed = SharedGate(db, account, "write", SharedBudgetConfig(concurrency=3))
    await seed.release(None, {"short": WindowReading(1000, 1000, 600.0)})
    lease_ends = db.clock.now().timestamp() + 2.5
    async with db.begin() as conn:
        await conn.execute(
            api_budget.update()
            .where(api_budget.c.account == account)
            .values(holders={f"other-host:{n}:abc": lease_ends for n in (101, 102, 103)})
        )
    gate = SharedGate(db, account, "write", SharedBudgetConfig(concurrency=3, poll_seconds=0.2))
    started = time.monotonic()
    with capture_logs() as logs:
        await gate.acquire()
    took = time.monotonic() - started
    assert 2.0 <= took <= 5.0
    assert gate.waits >= 1
    assert [e["event"] for e in logs] == ["budget.waiting", "budget.wait_over"]  # said once, not per look
    assert logs[0]["message"] == (
        "all 3 PlentyONE write slots are in use (held by other-host:101, other-host:102, other-host:103): "
        "waiting for one to free"
    )


async def test_a_429_in_one_process_blocks_the_others(db: Database) -> None:
    """Two gates on separate database pools, as two processes have."""
    other_db = Database(db.url)
    try:
        account = "http://plenty.test|blocked"
        first = SharedGate(db, account, "read")
        second = SharedGate(other_db, account, "read")
        await first.release(None, {"short": WindowReading(100, 100, 60.0)})
        first.penalize(1.5)
        await first.flush()
        started = time.monotonic()
        await second.acquire()
        waited = time.monotonic() - started
        budgets = await load_budgets(other_db)
    finally:
        await other_db.dispose()
    assert 1.2 <= waited <= 3.0
    assert second.waits >= 1
    assert [(b.kind, b.throttled, b.in_flight) for b in budgets] == [("read", 1, 1)]
    assert first.throttled == 1


async def test_a_wait_beyond_max_wait_raises_for_every_process(db: Database) -> None:
    from plentysync.errors import RateLimitedError

    account = "http://plenty.test|spent"
    first = SharedGate(db, account, "write")
    await first.release(None, {"long": WindowReading(1000, 0, 3600.0)})
    second = SharedGate(db, account, "write", SharedBudgetConfig(max_wait=60))
    with pytest.raises(RateLimitedError) as caught:
        await second.acquire()
    assert caught.value.retry_after is not None
    assert caught.value.retry_after == pytest.approx(3601, abs=2)


async def test_a_slot_that_could_not_be_given_back_is_returned_when_the_database_answers(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database is away when a call ends: the slot must come back as soon as it answers again,
    not after the whole lease (with the cap of 3, every process would stop writing meanwhile)."""
    account = "http://plenty.test|outage"
    gate = SharedGate(db, account, "write", SharedBudgetConfig(concurrency=3, lease_seconds=120))
    real_release = SharedGate.release
    failures = {"left": 2}

    async def flaky_release(self: SharedGate, holder: str | None, readings: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("database restarting")
        await real_release(self, holder, readings)

    monkeypatch.setattr(SharedGate, "release", flaky_release)
    async with gate.hold():
        assert [b.in_flight for b in await load_budgets(db)] == [1]
    assert [b.in_flight for b in await load_budgets(db)] == [1]  # the give-back failed
    await asyncio.wait_for(gate.flush(), timeout=10)  # retried in the background
    assert failures["left"] == 0
    assert [b.in_flight for b in await load_budgets(db)] == [0]
