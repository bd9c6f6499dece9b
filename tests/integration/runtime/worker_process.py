"""``plentysync worker`` as a real OS process, for the crash tests: started with the test's settings
(database, data directory and secret key, so it can decrypt the stored connections; short leases and
heartbeats), its console and JSON log kept in a directory of its own, and waited for until its heartbeat
row says it is running."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from plentysync.db import Database
from plentysync.runtime.heartbeat import WorkerRegistry, WorkerRow

ROOT = Path(__file__).resolve().parents[3]

FAST_ENV: dict[str, str] = {
    "PLENTYSYNC_QUEUE__LEASE_SECONDS": "5",
    "PLENTYSYNC_QUEUE__BACKOFF_BASE_SECONDS": "0.01",
    "PLENTYSYNC_QUEUE__BACKOFF_MAX_SECONDS": "0.01",
    "PLENTYSYNC_HTTP__MAX_ATTEMPTS": "3",
    "PLENTYSYNC_WORKER__DRAIN_IDLE_SECONDS": "0.2",
    "PLENTYSYNC_WORKER__HEARTBEAT_SECONDS": "1",
    "PLENTYSYNC_WORKER__LOST_AFTER_SECONDS": "5",
    "PLENTYSYNC_WORKER__TICK_SECONDS": "0.2",
}
"""Settings every worker process of these tests gets (``extra_env`` may override them)."""
LOST_AFTER = timedelta(seconds=5)


async def poll(check: Callable[[], Awaitable[bool] | bool], *, within: float, what: str) -> None:
    """Poll ``check`` (a database read or the sandbox's state: nothing to wait on) until it holds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.05)


def registry(db: Database) -> WorkerRegistry:
    return WorkerRegistry(db, db.clock, lost_after=LOST_AFTER)


async def worker_row(db: Database, name: str) -> WorkerRow | None:
    return next((row for row in await registry(db).list() if row.name == name), None)


@dataclass
class WorkerProcess:
    name: str
    process: asyncio.subprocess.Process
    directory: Path
    """Holds ``console.txt`` (stdout and stderr) and ``plentysync.log`` (the JSON log)."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def console(self) -> str:
        path = self.directory / "console.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The worker's JSON log lines (only those named ``event`` if given)."""
        path = self.directory / "plentysync.log"
        if not path.exists():
            return []
        found = []
        for line in path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if event is None or entry.get("event") == event:
                    found.append(entry)
        return found

    def describe(self) -> str:
        return f"worker {self.name} (pid {self.pid}, exit {self.process.returncode}):\n{self.console()[-4000:]}"

    async def wait_running(self, db: Database, *, within: float = 60) -> WorkerRow:
        """Until this process's heartbeat row says it is running (it registered)."""
        found: list[WorkerRow] = []

        async def registered() -> bool:
            if not self.alive:
                raise AssertionError(f"the worker exited before it registered: {self.describe()}")
            try:
                row = await worker_row(db, self.name)
            except DBAPIError:
                return False  # a new SQLite database: the worker has not created the tables yet
            if row is not None and row.pid == self.pid and row.state == "running":
                found.append(row)
                return True
            return False

        await poll(registered, within=within, what=f"the heartbeat row of worker {self.name}")
        return found[0]

    async def wait(self, *, within: float) -> int:
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            raise AssertionError(f"still running after {within:g} s: {self.describe()}") from None

    async def terminate(self, *, within: float = 30) -> int:
        """SIGTERM (a graceful stop); the exit code."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait(within=within)

    async def kill(self) -> int:
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        return await self.wait(within=30)

    async def ensure_gone(self) -> None:
        """For ``finally``: no worker outlives its test, however the test ended."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.process.wait(), 30)


async def start_worker(
    database_url: str,
    name: str,
    directory: Path,
    *,
    args: Sequence[str] = ("--no-schedules", "--no-producers"),
    extra_env: Mapping[str, str] | None = None,
) -> WorkerProcess:
    """``python -m plentysync worker --name <name> <args>``, with the test process's environment (its
    ``PLENTYSYNC_DATA_DIR`` holds the secret key of the stored connections) plus ``FAST_ENV``."""
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **FAST_ENV,
        "PLENTYSYNC_DATABASE_URL": database_url,
        "PLENTYSYNC_LOG_DIR": str(directory),
        "PYTHONPATH": str(ROOT / "src"),
        **(extra_env or {}),
    }
    with (directory / "console.txt").open("ab") as console:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plentysync",
            "worker",
            "--name",
            name,
            *args,
            cwd=directory,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=console,
            stderr=console,
        )
    return WorkerProcess(name, process, directory)


@contextlib.asynccontextmanager
async def workers_cleaned_up() -> AsyncIterator[list[WorkerProcess]]:
    """``async with workers_cleaned_up() as started: started.append(await start_worker(...))``: every
    worker in the list is SIGKILLed on exit if it still runs."""
    started: list[WorkerProcess] = []
    try:
        yield started
    finally:
        for worker in started:
            await worker.ensure_gone()
