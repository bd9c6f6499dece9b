"""PlentyONE sessions survive killed processes: PlentyONE caps a user's concurrent sessions (three in the
sandbox) and a token lives a day, so a process that dies without logging out must not keep a session
counted. Real ``plentysync`` processes against both sandboxes (served on loopback by this test process)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from plentysync.db import Database
from plentysync.plenty.sessions import live_sessions
from plentysync.sandbox.faults import FaultRule
from plentysync.sandbox.plenty.auth import Sessions
from tests.integration.runtime.test_crash import BOOKINGS, LEASE, _assert_exactly_once, _changes, _queue_done, _url
from tests.integration.runtime.worker_process import FAST_ENV, ROOT, poll, start_worker, workers_cleaned_up
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.db]


def _fired_beyond(rule: FaultRule, count: int) -> bool:
    return rule.fired > count


def _open_sessions(s: StockScenario) -> int:
    """Sessions the PlentyONE sandbox counts against the cap right now."""
    return Sessions(s.pair.plenty_state, s.pair.plenty_config).live_sessions(s.pair.plenty_config.username)


async def test_three_killed_workers_leave_no_session_behind_and_a_fresh_one_drains_at_once(
    db: Database, tmp_path: Path
) -> None:
    async with StockScenarioBuilder(db).with_settings(**LEASE).build() as s, workers_cleaned_up() as started:
        expected = await _changes(s, 24, batch_size=2)
        assert _open_sessions(s) == 0
        # every booking is applied, then its answer is held: a worker is always mid-call when it is killed
        held = s.pair.plenty_faults.add(FaultRule("latency_after", method="PUT", path=BOOKINGS, latency_ms=1500))
        for n in range(3):
            fired = held.fired
            doomed = await start_worker(_url(db), f"doomed{n}", tmp_path / f"doomed{n}")
            started.append(doomed)
            await doomed.wait_running(db)
            await poll(partial(_fired_beyond, held, fired), within=60, what=f"doomed{n} to book")
            assert await doomed.kill() == -signal.SIGKILL
            # its session is still open on PlentyONE, and recorded for whoever comes next: at most one
            # is ever left, since each worker takes over the session of the one killed before it
            assert _open_sessions(s) == 1, doomed.describe()
            assert len(await live_sessions(db)) == 1
        s.pair.plenty_faults.clear()

        began = time.monotonic()
        fresh = await start_worker(_url(db), "fresh", tmp_path / "fresh")
        started.append(fresh)
        await fresh.wait_running(db)
        await poll(lambda: _queue_done(s), within=60, what="the fresh worker to empty the queue")
        took = time.monotonic() - began
        assert await fresh.terminate() == 0, fresh.describe()

        # within the queue lease (the dead worker's rows come back then) plus a few seconds, and every
        # change booked once
        assert took <= float(FAST_ENV["PLENTYSYNC_QUEUE__LEASE_SECONDS"]) + 10, (took, fresh.describe())
        await _assert_exactly_once(s, expected)
        assert fresh.events("plenty_session_taken_over"), fresh.describe()
        assert not fresh.events("plenty_login"), "the fresh worker took over a session instead of a login"
        # no wait went unannounced: a budget wait would have been logged
        assert [e["message"] for e in fresh.events("budget.waiting")] == []
        # the fresh worker logged out on SIGTERM: nothing open on PlentyONE, nothing recorded
        assert _open_sessions(s) == 0
        assert await live_sessions(db) == []


async def _start_cli(db: Database, directory: Path, *args: str) -> asyncio.subprocess.Process:
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **FAST_ENV,
        "PLENTYSYNC_DATABASE_URL": _url(db),
        "PLENTYSYNC_LOG_DIR": str(directory),
        "PYTHONPATH": str(ROOT / "src"),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plentysync",
        *args,
        cwd=directory,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
@pytest.mark.parametrize("test_database", ["sqlite"], indirect=True)  # the signal path is the same on every backend
async def test_a_cli_run_stopped_by_a_signal_logs_out(
    db: Database, tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    async with StockScenarioBuilder(db).with_settings(**LEASE).build() as s:
        await _changes(s, 8, batch_size=2)
        held = s.pair.plenty_faults.add(FaultRule("latency_after", method="PUT", path=BOOKINGS, latency_ms=1500))
        process = await _start_cli(db, tmp_path / "cli", "stock", "export", "--status", "pending")
        try:
            await poll(lambda: held.fired >= 1 or process.returncode is not None, within=60, what="a booking")
            assert process.returncode is None, await process.communicate()
            assert _open_sessions(s) == 1
            process.send_signal(sig)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
            returncode = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert returncode == code, err.decode()[-3000:]
        assert word in err.decode()
        assert "Traceback" not in err.decode()
        assert _open_sessions(s) == 0
        assert await live_sessions(db) == []


@pytest.mark.parametrize("test_database", ["sqlite"], indirect=True)
async def test_a_second_sigterm_stops_the_worker_at_once_without_a_traceback(db: Database, tmp_path: Path) -> None:
    async with StockScenarioBuilder(db).with_settings(**LEASE).build() as s, workers_cleaned_up() as started:
        await _changes(s, 8, batch_size=2)
        held = s.pair.plenty_faults.add(FaultRule("latency_after", method="PUT", path=BOOKINGS, latency_ms=20_000))
        worker = await start_worker(_url(db), "impatient", tmp_path / "impatient")
        started.append(worker)
        await worker.wait_running(db)
        await poll(lambda: held.fired >= 1, within=60, what="the worker to book")
        worker.process.send_signal(signal.SIGTERM)  # graceful: it waits for the held booking
        await poll(lambda: bool(worker.events("worker.stopping")), within=10, what="the worker to start stopping")
        worker.process.send_signal(signal.SIGTERM)  # now
        assert await worker.wait(within=15) == 143, worker.describe()
        console = worker.console()
        assert "terminated" in console
        assert "Traceback" not in console
        assert "CancelledError" not in console
        assert _open_sessions(s) == 0  # even cut short, it logged out
