"""``plentysync worker``: one long-running process that does everything on time.

It runs, side by side:

* the **scheduler**: plans schedule jobs, marks missed ones and runs the due profiles (the same pass
  as ``cron run``), every ``worker.schedule_every_seconds``;
* the **producers**: the stock pollers every ``poll_interval_seconds`` and the drift sweep on
  ``drift_cron``, each claimed so that of several workers exactly one runs it;
* one **drain** per queue-backed profile: when the queue has due rows, run the profile; woken at once
  by a broker message, otherwise it looks every ``worker.drain_idle_seconds``;
* the **broker consumer** (when ``broker_url`` is set): a message puts its keys in the database queue
  (committed, then acknowledged) and wakes that profile's drain;
* **notifications**: dispatch (immediate criticals, the digest) and retention;
* the **heartbeat** row.

Every row is claimed in the database with a lease, so several workers on PostgreSQL or MariaDB never
process a row twice; a worker that dies loses its leases and another one takes the rows over. On
SIGTERM the worker stops taking work, lets each run finish the batch it holds (up to
``worker.shutdown_grace_seconds``), releases what is left and marks itself stopped.

A failure in one loop (the database restarting, a broker outage, a profile's bug) is logged and retried
after a pause; it never ends the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from plentysync import __version__
from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.queue import PRIORITY_URGENT
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.scheduler import run_due_jobs
from plentysync.engine.services import Engine
from plentysync.errors import ConflictError, DatabaseMissingError, PlentysyncError
from plentysync.http.stats import API_CALLS
from plentysync.log import get_logger
from plentysync.runtime.heartbeat import STOPPING, WorkerRegistry, default_worker_name
from plentysync.sync.stock import maintenance
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.sync.stock.resources import RUNTIME

log = get_logger(__name__)

ERROR_PAUSE_SECONDS = 5.0
"""After a failed loop iteration (database or broker away), wait this long before the next try."""
WAKE_RECHECK_SECONDS = 0.25
NOTIFY_EVERY_SECONDS = 30.0
CLEAN_EVERY_SECONDS = 3600.0


class Notifications(Protocol):
    async def after_run(self, report: RunReport) -> Any: ...

    async def dispatch(self) -> Any: ...

    async def clean(self) -> Any: ...


class Consumer(Protocol):
    @property
    def connected(self) -> bool: ...

    async def run(self, stop: asyncio.Event) -> None: ...


MessageHandler = Callable[[str, list[str], str], Awaitable[None]]
ConsumerFactory = Callable[[Sequence[str], MessageHandler], Consumer]
"""Builds the broker consumer for the given profile types and message handler."""


@dataclass(frozen=True)
class WorkerOptions:
    name: str = field(default_factory=default_worker_name)
    schedules: bool = True
    producers: bool = True
    profiles: tuple[str, ...] | None = None
    """Drain only these profile types (default: every queue-backed type)."""
    once: bool = False
    """Do one pass of everything that is due, drain the queues until no row is due, then stop."""


@dataclass
class WorkerStats:
    runs: int = 0
    runs_failed: int = 0
    rows: int = 0
    messages: int = 0
    scheduler_passes: int = 0
    producer_passes: int = 0
    errors: int = 0
    activity: dict[str, str] = field(default_factory=dict)
    last_error: str | None = None


@dataclass
class _Shared:
    """A profile type's resources kept open across runs. ``users`` counts the loops using them right now:
    a retired set (stale, or after a failed run) is closed when its last user is done, never under it."""

    stack: AsyncExitStack
    extras: dict[str, Any]
    config_stamp: datetime | None
    opened: float
    users: int = 0
    retired: bool = False


class Worker:
    def __init__(
        self,
        engine: Engine,
        options: WorkerOptions | None = None,
        *,
        consumer_factory: ConsumerFactory | None = None,
        notifier: Notifications | None = None,
        stop: asyncio.Event | None = None,
        shared: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """``shared``: resources per profile type the caller keeps open (tests, the demo); the worker
        uses them instead of opening its own, and never closes them."""
        self.engine = engine
        self._injected = shared or {}
        self.options = options or WorkerOptions()
        self.settings = engine.settings.worker
        self.stop = stop or asyncio.Event()
        self.consumer_factory = consumer_factory
        self.notifier = notifier
        self.registry = WorkerRegistry(
            engine.db, engine.clock, lost_after=timedelta(seconds=self.settings.lost_after_seconds)
        )
        self.runner = ProfileRunner(engine, owner=f"{self.options.name}:drain", stop=self.stop)
        self.stats = WorkerStats()
        self.consumer: Consumer | None = None
        self._wake: dict[str, asyncio.Event] = {}
        self._woken_by_message: set[str] = set()
        self._shared: dict[str, _Shared] = {}
        self._shared_lock = asyncio.Lock()
        self.drain_types = self._drain_types()
        self.fatal: PlentysyncError | None = None
        """Why the worker stopped on its own (its SQLite file was deleted): ``run()`` raises it."""

    def _drain_types(self) -> list[str]:
        wanted = self.options.profiles
        types = [t.type_id for t in self.engine.registry.all() if t.queue_backed]
        if wanted is not None:
            unknown = sorted(set(wanted) - {t.type_id for t in self.engine.registry.all()})
            if unknown:
                raise PlentysyncError(f"unknown profile type(s): {', '.join(unknown)}")
            types = [t for t in types if t in wanted]
        return types

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self, *, on_started: Callable[[], None] | None = None) -> WorkerStats:
        """Register, run every loop until ``stop`` is set (or, with ``once``, until nothing is due),
        then shut down gracefully. ``on_started`` is called once registered (a refused worker never
        says it started)."""
        await self.registry.register(self.options.name, self._info())
        if on_started is not None:
            on_started()
        log.info("worker.started", worker=self.options.name, drains=self.drain_types)
        try:
            if self.options.once:
                await self._run_once()
            else:
                await self._run_forever()
        finally:
            await self._close_shared()
            with contextlib.suppress(Exception):
                await self.registry.stopped(self.options.name, self._info())
            log.info("worker.stopped", worker=self.options.name, runs=self.stats.runs)
        if self.fatal is not None:
            raise self.fatal
        return self.stats

    async def _run_forever(self) -> None:
        self._wake = {t: asyncio.Event() for t in self.drain_types}
        loops: list[Awaitable[None]] = [self._heartbeat_loop()]
        if self.options.schedules:
            loops.append(self._every(self.settings.schedule_every_seconds, "scheduler", self._scheduler_pass))
        if self.options.producers:
            loops.append(self._every(self.settings.tick_seconds, "producers", self._producers_pass))
        if self.notifier is not None:
            loops.append(self._every(NOTIFY_EVERY_SECONDS, "notifications", self._notify_pass))
            loops.append(self._every(CLEAN_EVERY_SECONDS, "notifications_clean", self._clean_pass))
        loops += [self._drain_loop(t) for t in self.drain_types]
        if self.consumer_factory is not None and self.drain_types:
            self.consumer = self.consumer_factory(self.drain_types, self._on_message)
            loops.append(self.consumer.run(self.stop))
        tasks = [asyncio.ensure_future(loop) for loop in loops]
        try:
            await self.stop.wait()
            log.info("worker.stopping", worker=self.options.name, grace_seconds=self.settings.shutdown_grace_seconds)
            with contextlib.suppress(Exception):
                await self.registry.beat(self.options.name, self._info(), state=STOPPING)
            for event in self._wake.values():
                event.set()
            _done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace_seconds)
            if pending:
                log.warning("worker.grace_expired", tasks=len(pending))
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                    log.error("worker.loop_crashed", error=repr(result))

    async def _run_once(self) -> None:
        if self.options.schedules:
            await self._guarded("scheduler", self._scheduler_pass)
        if self.options.producers:
            await self._guarded("producers", self._producers_pass)
        for type_id in self.drain_types:
            while not self.stop.is_set() and await self._drain_once(type_id, trigger="worker"):
                pass
        if self.notifier is not None:
            await self._guarded("notifications", self._notify_pass)
        await self._guarded("heartbeat", self._beat)

    # -- loops ---------------------------------------------------------------------------------

    async def _guarded(self, what: str, work: Callable[[], Awaitable[Any]]) -> bool:
        """Run one iteration; log and count a failure instead of raising it. True when it succeeded."""
        try:
            await work()
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats.errors += 1
            self.stats.last_error = f"{what}: {type(exc).__name__}: {exc}"
            log.warning("worker.loop_failed", loop=what, error=str(exc)[:500], exc_info=not _expected(exc))
            return False

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)

    async def _every(self, seconds: float, what: str, work: Callable[[], Awaitable[Any]]) -> None:
        while not self.stop.is_set():
            ok = await self._guarded(what, work)
            await self._pause(seconds if ok else max(seconds, ERROR_PAUSE_SECONDS))

    async def _heartbeat_loop(self) -> None:
        while not self.stop.is_set():
            await self._pause(self.settings.heartbeat_seconds)
            if not self.stop.is_set():
                try:
                    self.engine.db.check_file()  # SQLite: the file deleted or replaced under us
                except DatabaseMissingError as exc:
                    log.error("worker.database_missing", error=str(exc))
                    self.fatal = exc
                    self.stop.set()
                    return
                await self._guarded("heartbeat", self._beat)

    async def _beat(self) -> None:
        if not await self.registry.beat(self.options.name, self._info()):
            # the row was pruned while we were alive: put it back
            await self.registry.register(self.options.name, self._info())

    async def _scheduler_pass(self) -> None:
        self.stats.scheduler_passes += 1
        runner = ProfileRunner(self.engine, owner=f"{self.options.name}:cron", stop=self.stop)
        done = await run_due_jobs(self.engine, runner, on_report=self._after_run)
        for outcome in done.outcomes:
            log.info("worker.scheduled_run", profile=outcome.profile, status=outcome.status, run_id=outcome.run_id)
            if outcome.run_id is not None:
                self.stats.runs += 1

    async def _producers_pass(self) -> None:
        self.stats.producer_passes += 1
        record = await self.engine.profiles.find(EXPORT_TYPE_ID)
        if record is None or not record.enabled:
            return
        async with self._using_shared(record) as shared:
            report = await maintenance.run_due(self.engine, shared.get(RUNTIME))
        if report.ran:
            log.info("worker.producers", ran=report.ran, **report.details)
        wake = self._wake.get(EXPORT_TYPE_ID)
        if report.queued and wake is not None:
            wake.set()  # what the poll found goes out now, not at the drain's next look

    async def _notify_pass(self) -> None:
        assert self.notifier is not None
        await self.notifier.dispatch()

    async def _clean_pass(self) -> None:
        assert self.notifier is not None
        await self.notifier.clean()

    async def _drain_loop(self, type_id: str) -> None:
        wake = self._wake[type_id]
        again = True
        while not self.stop.is_set():
            if not again:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.settings.drain_idle_seconds)
            if self.stop.is_set():
                return
            wake.clear()
            trigger = "mq" if type_id in self._woken_by_message else "worker"
            self._woken_by_message.discard(type_id)
            ran: list[bool] = []

            async def once(type_id: str = type_id, trigger: str = trigger, ran: list[bool] = ran) -> None:
                ran.append(await self._drain_once(type_id, trigger=trigger))

            ok = await self._guarded(f"drain {type_id}", once)
            if not ok:
                await self._pause(ERROR_PAUSE_SECONDS)
            again = ok and bool(ran and ran[0])
            if ok and not again and trigger == "mq":
                # woken, yet nothing due: the rows may be stamped a few milliseconds ahead of this
                # worker's clock (each process measures its own offset to the database); look again
                await self._pause(WAKE_RECHECK_SECONDS)
                again = await self._guarded(f"drain {type_id}", once) and bool(ran and ran[-1])

    async def _drain_once(self, type_id: str, *, trigger: str) -> bool:
        """Run the profile when its queue has due rows. True when a run processed rows and more may
        be due (the drain loop goes on at once); False when there was nothing to do."""
        record = await self.engine.profiles.find(type_id)
        if record is None or not record.enabled:
            return False
        queue = self.engine.queue
        if await queue.count(type_id, due_only=True) == 0:
            await queue.recover_expired(type_id)
            if await queue.count(type_id, due_only=True) == 0:
                return False
        async with self._using_shared(record) as extras:
            runner = (
                self.runner
                if not extras
                else ProfileRunner(self.engine, owner=self.runner.owner, stop=self.stop, extras=extras)
            )
            self.stats.activity[type_id] = f"running since {self.engine.clock.now().isoformat(timespec='seconds')}"
            try:
                report = await runner.run(record.id, trigger=trigger)
            except ConflictError:
                return False  # another worker runs this (exclusive) profile; it drains the rows
            finally:
                self.stats.activity[type_id] = "idle"
        self.stats.runs += 1
        self.stats.rows += report.run.processed
        if report.run.status == "failed":
            self.stats.runs_failed += 1
            await self._drop_shared(type_id)
        log.info(
            "worker.run",
            profile=type_id,
            trigger=trigger,
            run_id=report.run.id,
            status=report.run.status,
            processed=report.run.processed,
        )
        await self._after_run(report)
        return report.run.processed > 0 and report.run.status != "failed" and not self.stop.is_set()

    async def _after_run(self, report: RunReport) -> None:
        if self.notifier is not None:
            await self._guarded("notifications", lambda: self.notifier.after_run(report))  # type: ignore[union-attr]

    # -- broker --------------------------------------------------------------------------------

    async def _on_message(self, type_id: str, keys: list[str], reason: str) -> None:
        """A broker message: commit its keys to the database queue (the consumer acknowledges after
        this returns), then wake the profile's drain. Keys already waiting are left alone: our own
        publishers commit the rows before they publish, and enqueueing again would bump the version of
        a row a drain may be working on, sending it round once more for nothing."""
        queue = self.engine.queue
        waiting = await queue.waiting_keys(type_id, keys) if keys else set()
        missing = [k for k in keys if k not in waiting]
        if missing:
            await queue.enqueue(type_id, missing, reason=reason, priority=PRIORITY_URGENT)
        self.stats.messages += 1
        wake = self._wake.get(type_id)
        if wake is not None:
            self._woken_by_message.add(type_id)
            wake.set()

    # -- resources shared across runs ----------------------------------------------------------

    @asynccontextmanager
    async def _using_shared(self, record: ProfileRecord) -> AsyncIterator[dict[str, Any]]:
        """The profile type's shared resources for the duration of one use (a run, a producer pass)."""
        if record.type_id in self._injected:
            yield self._injected[record.type_id]
            return
        shared = await self._current_shared(record)
        if shared is None:
            yield {}
            return
        shared.users += 1
        try:
            yield shared.extras
        finally:
            shared.users -= 1
            if shared.retired and shared.users == 0:
                await self._close(record.type_id, shared)

    async def _current_shared(self, record: ProfileRecord) -> _Shared | None:
        """Open (single-flight: the drain and the producers start together) or reuse the resources."""
        profile_type = self.engine.registry.get(record.type_id)
        if profile_type.shared_resources is None:
            return None
        async with self._shared_lock:
            current = self._shared.get(record.type_id)
            max_age = self.engine.settings.worker.resources_max_age_seconds
            if current is not None and (
                current.config_stamp != record.config_updated_at or time.monotonic() - current.opened > max_age
            ):
                await self._drop_shared(record.type_id)
                current = None
            if current is None:
                stack = AsyncExitStack()
                try:
                    config = self.engine.profiles.typed_config(record)
                    factory = profile_type.shared_resources(
                        self.engine.db, self.engine.settings, record, config, self.engine.links, self.engine.clock
                    )
                    extras = await stack.enter_async_context(factory)
                except BaseException:
                    await stack.aclose()
                    raise
                current = _Shared(stack, extras, record.config_updated_at, time.monotonic())
                self._shared[record.type_id] = current
            return current

    async def _drop_shared(self, type_id: str) -> None:
        """Retire the type's resources: closed now when unused, else when their last user is done."""
        shared = self._shared.pop(type_id, None)
        if shared is not None:
            shared.retired = True
            if shared.users == 0:
                await self._close(type_id, shared)

    async def _close(self, type_id: str, shared: _Shared) -> None:
        try:
            await shared.stack.aclose()
        except Exception:
            log.warning("worker.close_resources_failed", profile=type_id, exc_info=True)

    async def _close_shared(self) -> None:
        for type_id in list(self._shared):
            await self._drop_shared(type_id)

    # -- reporting -----------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        s = self.stats
        broker = "off" if self.consumer_factory is None else ("connected" if self._broker_connected() else "down")
        return {
            "version": __version__,
            "drains": self.drain_types,
            "schedules": self.options.schedules,
            "producers": self.options.producers,
            "broker": broker,
            "activity": dict(s.activity),
            "runs": s.runs,
            "runs_failed": s.runs_failed,
            "rows": s.rows,
            "messages": s.messages,
            "errors": s.errors,
            "last_error": s.last_error,
            "api_calls": API_CALLS.snapshot(),
        }

    def _broker_connected(self) -> bool:
        return self.consumer is not None and self.consumer.connected


def _expected(exc: Exception) -> bool:
    """Failures that need no traceback in the log: ours, and the database being away."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, PlentysyncError | DBAPIError | OSError)
