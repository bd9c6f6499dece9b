"""Runs a profile: takes its run lease, drives the pipeline batch by batch, turns failures into the
right queue outcome, and writes the run record and per-entity history.

How failures are handled, per batch:

* one entity fails (its Result says error/retry): only that entity, the rest of the batch goes on;
* the whole batch hits a passing failure (timeout, 5xx, rate limit): the batch's rows are retried
  later with a backoff and the run stops (the next batches would fail the same way);
* the remote rejects the whole batch's data: those rows go to error, the run goes on;
* a fatal problem (credentials, configuration): the rows are released untouched (it was not their
  fault) and the run fails;
* a bug (any other exception): the rows count an attempt, so a row that always crashes ends in
  error instead of looping, and the run fails with the exception logged.

Rows the run still holds when it stops, however it stops, are released back to pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from plentysync.engine.history import RunRecord
from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.messages import EntityMessage, EntityStatus, MessageCollector
from plentysync.engine.pipeline import (
    TRIGGERS,
    Batch,
    NullProgress,
    ProgressReporter,
    Request,
    Result,
    RunContext,
    RunOptions,
    align_results,
)
from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.queue import Outcome
from plentysync.engine.services import Engine
from plentysync.errors import (
    ConfigError,
    ConflictError,
    CredentialsError,
    DatabaseUnavailableError,
    FatalError,
    PlentysyncError,
    RateLimitedError,
    RemoteValidationError,
    RetryableError,
    UsageError,
)
from plentysync.log import get_logger

log = get_logger(__name__)

_STATUS_OF_RESULT = {
    "success": EntityStatus.SUCCESS,
    "skipped": EntityStatus.SKIPPED,
    "error": EntityStatus.ERROR,
    "retry": EntityStatus.RETRY,
}
REPORT_SAMPLE = 50
WRAP_UP_RETRY_PAUSES = (1.0, 3.0)


def failure_kind_of(exc: BaseException) -> str:
    """``auth`` for rejected or unreadable credentials, else ``fatal``."""
    if isinstance(exc, CredentialsError) or (isinstance(exc, FatalError) and exc.status in (401, 403)):
        return "auth"
    return "fatal"


def default_owner() -> str:
    """Who holds a lease: host, process and a random part (two runners in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunReport:
    run: RunRecord
    profile: ProfileRecord
    errors: list[EntityMessage]
    entities: list[EntityMessage]
    notes: list[str]
    failure_kind: str | None = None
    """See :attr:`RunContext.failure_kind`."""

    @property
    def status(self) -> RunStatus:
        return RunStatus(self.run.status)


class ProfileRunner:
    def __init__(
        self,
        engine: Engine,
        *,
        owner: str | None = None,
        keep_alive_seconds: float | None = None,
        extras: dict[str, Any] | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """``stop``: when set, a run ends after the batch it is working on (a graceful shutdown)."""
        self.engine = engine
        self.stop = stop
        self.owner = owner or default_owner()
        self.lease = timedelta(seconds=engine.queue.policy.lease_seconds)
        self.keep_alive_seconds = keep_alive_seconds or max(self.lease.total_seconds() / 3, 1.0)
        self.extras = extras or {}

    async def run(
        self,
        ref: str | int,
        *,
        trigger: str = "manual",
        options: RunOptions | None = None,
        progress: ProgressReporter | None = None,
    ) -> RunReport:
        options = options or RunOptions()
        if trigger not in TRIGGERS:
            raise UsageError(f"unknown trigger {trigger!r} (one of {', '.join(TRIGGERS)})")
        eng = self.engine
        record = await eng.profiles.resolve(ref)
        profile_type = eng.registry.get(record.type_id)
        config = eng.profiles.typed_config(record)
        if not record.enabled:
            if trigger == "cron":
                raise UsageError(f"profile {record.type_id} is disabled; scheduled runs are skipped")
            if record.activated_at is not None and not (options.force or options.dry_run):
                raise UsageError(
                    f"profile {record.type_id} is disabled: enable it (plentysync profile enable "
                    f"{record.type_id}) or pass --force for a one-off run"
                )
        exclusive = not profile_type.concurrent_runs
        if exclusive and not await eng.profiles.acquire_run(record.id, self.owner, self.lease):
            current = await eng.profiles.resolve(record.id)
            raise ConflictError(
                f"profile {record.type_id} is already running (held by {current.run_owner}); "
                "wait for that run to end, it cannot run twice at once"
            )
        run: RunRecord | None = None
        ctx: RunContext | None = None
        status = RunStatus.FAILED
        summary: str | None = "the run did not start"
        try:
            run = await eng.history.start(
                profile_id=record.id,
                type_id=record.type_id,
                trigger=trigger,
                dry_run=options.dry_run,
                owner=self.owner,
            )
            if exclusive:
                await eng.profiles.set_current_run(record.id, self.owner, run.id)
            ctx = RunContext(
                run_id=run.id,
                profile=record,
                profile_type=profile_type,
                config=config,
                trigger=trigger,
                options=options,
                owner=self.owner,
                started_at=run.started_at,
                clock=eng.clock,
                queue=eng.queue,
                links=eng.links,
                refdata=eng.refdata,
                messages=MessageCollector(clock=eng.clock, keep=REPORT_SAMPLE),
                log=log.bind(profile=record.type_id, run_id=run.id),
                progress=progress or NullProgress(),
                extras=dict(self.extras),
            )
            ctx.leases_valid_until = run.started_at + self.lease
            ctx.lease_margin = self.lease / 3
            keeper = asyncio.create_task(self._keep_alive(ctx, exclusive=exclusive))
            try:
                async with contextlib.AsyncExitStack() as stack:
                    try:
                        if profile_type.open_resources is not None:
                            resources = await stack.enter_async_context(profile_type.open_resources(ctx, eng.settings))
                            ctx.extras = {**resources, **ctx.extras}
                        status, summary = await self._drive(ctx)
                    except DatabaseUnavailableError:
                        # The state database went away (a restart): not this profile's failure. It goes up
                        # to the caller (the worker pauses and tries again); the wrap-up below still
                        # returns the rows once the database answers.
                        raise
                    except PlentysyncError as exc:
                        # setting up, collecting or estimating failed outside any batch
                        status, summary = RunStatus.FAILED, f"stopped: {exc}"
                        ctx.failure_kind = failure_kind_of(exc)
            except asyncio.CancelledError:
                status, summary = (
                    RunStatus.CANCELLED,
                    "interrupted; unfinished rows were returned to the queue",
                )
                raise
            except Exception as exc:
                summary = f"internal error ({type(exc).__name__}: {exc}); see the log file"
                raise
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
        finally:
            # Runs even when cancelled: leave no row claimed and no profile marked running. A database
            # that is restarting gets a few seconds, else the rows wait for their leases to run out.
            for pause in (*WRAP_UP_RETRY_PAUSES, None):
                try:
                    await self._wrap_up(ctx, run, record, status, summary, exclusive=exclusive)
                    break
                except Exception:
                    task = asyncio.current_task()
                    if pause is None or (task is not None and task.cancelling()):
                        log.exception("run.wrap_up_failed", profile=record.type_id)
                        break
                    log.warning("run.wrap_up_retry", profile=record.type_id, pause=pause)
                    await asyncio.sleep(pause)
        assert run is not None
        assert ctx is not None
        final = await eng.history.get(run.id)
        return RunReport(
            run=final,
            profile=await eng.profiles.resolve(record.id),
            errors=list(ctx.messages.errors),
            entities=list(ctx.messages.recent),
            notes=list(ctx.messages.notes),
            failure_kind=ctx.failure_kind,
        )

    async def _drive(self, ctx: RunContext) -> tuple[RunStatus, str | None]:
        pipeline = ctx.profile_type.pipeline
        ctx.progress.start(await pipeline.estimate(ctx) if pipeline.estimate else None)
        stop: str | None = None
        fatal = False
        async with contextlib.aclosing(pipeline.collect(ctx)) as batches:  # type: ignore[type-var]
            async for batch in batches:
                if not batch.items:
                    continue
                try:
                    await self._run_batch(batch, ctx)
                except RetryableError as exc:
                    retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
                    await self._settle(
                        batch,
                        [Result.retry(k, str(exc), retry_after=retry_after) for k in batch.keys],
                        ctx,
                    )
                    stop = f"stopped after a temporary failure, the rest waits for the next run: {exc}"
                except RemoteValidationError as exc:
                    await self._settle(batch, [Result.error(k, str(exc)) for k in batch.keys], ctx)
                except (FatalError, ConfigError, CredentialsError) as exc:
                    await self._release(batch, ctx, f"not processed: {exc}")
                    stop, fatal = str(exc), True
                    ctx.failure_kind = failure_kind_of(exc)
                except Exception as exc:
                    ctx.log.exception("run.batch_crashed")
                    message = f"internal error ({type(exc).__name__}: {exc})"
                    await self._settle(batch, [Result.retry(k, message) for k in batch.keys], ctx)
                    stop, fatal = message + "; see the log file", True
                    ctx.failure_kind = "crash"
                await self._leftovers(batch, ctx)
                await self._flush_history(ctx)
                ctx.progress.advance(len(batch.items))
                if not stop and self.stop is not None and self.stop.is_set():
                    stop = "the worker is shutting down; the rest waits in the queue"
                if stop:
                    break
        m = ctx.messages
        if fatal or (m.failed and not (m.succeeded or m.skipped)):
            status = RunStatus.FAILED
        elif m.failed or stop:
            status = RunStatus.PARTIAL
        else:
            status = RunStatus.SUCCESS
        summary = f"{m.processed} processed: {m.succeeded} succeeded, {m.failed} failed, {m.skipped} skipped"
        if stop:
            summary += f"; {stop}"
        return status, summary

    async def _run_batch(self, batch: Batch, ctx: RunContext) -> None:
        pipeline = ctx.profile_type.pipeline
        generated = pipeline.generate(batch, ctx)
        requests = [g for g in generated if isinstance(g, Request)]
        early = [g for g in generated if isinstance(g, Result)]
        if ctx.dry_run:
            for request in requests:
                what = request.operation or "request"
                ctx.messages.add(
                    request.key,
                    EntityStatus.DRY_RUN,
                    f"would send {what}: {_short(request.payload)}",
                )
            self._record(early, ctx)
            await self._release(batch, ctx, None)
            return
        processed = await pipeline.process(requests, ctx) if requests else []
        results, strays = align_results(batch, [*early, *processed])
        if strays:
            ctx.log.warning("run.results_for_unknown_keys", keys=strays[:20])
        await self._settle(batch, results, ctx)

    async def _settle(self, batch: Batch, results: Sequence[Result], ctx: RunContext) -> None:
        for step in ctx.profile_type.pipeline.post_process:
            await step(batch, results, ctx)
        self._record(results, ctx)

    def _record(self, results: Sequence[Result], ctx: RunContext) -> None:
        for result in results:
            ctx.messages.add(result.key, _STATUS_OF_RESULT[result.status], result.message)

    async def _release(self, batch: Batch, ctx: RunContext, message: str | None) -> None:
        claims = [item for item in batch.claims if item.id in ctx.held]
        if claims:
            await ctx.queue.release(ctx.owner, claims, message=message, count_attempt=False)
            ctx.unhold(claims)

    async def _leftovers(self, batch: Batch, ctx: RunContext) -> None:
        """Rows of this batch that post-processing did not finish: a profile bug. Retry them."""
        left = [item for item in batch.claims if item.id in ctx.held]
        if not left:
            return
        ctx.log.error("run.rows_left_unfinished", rows=len(left))
        await ctx.queue.finish(
            ctx.owner,
            [Outcome.failed(item, "the profile did not record an outcome for this row") for item in left],
        )
        ctx.unhold(left)

    async def _flush_history(self, ctx: RunContext) -> None:
        entries = ctx.messages.drain()
        if ctx.config.enable_history:
            await self.engine.history.add_entities(ctx.run_id, ctx.profile.id, entries)

    async def _keep_alive(self, ctx: RunContext, *, exclusive: bool) -> None:
        while True:
            await asyncio.sleep(self.keep_alive_seconds)
            started = self.engine.clock.now()
            try:
                if exclusive:
                    await self.engine.profiles.renew_run(ctx.profile.id, self.owner, self.lease)
                await ctx.queue.extend_lease(self.owner, list(ctx.held.values()))
                # rows claimed since are leased until later still; rows taken over were not ours anyway
                ctx.leases_valid_until = started + self.lease
            except Exception:  # a hiccup must not kill the run; the next beat tries again
                ctx.log.warning("run.keep_alive_failed", exc_info=True)

    async def _wrap_up(
        self,
        ctx: RunContext | None,
        run: RunRecord | None,
        record: ProfileRecord,
        status: RunStatus,
        summary: str | None,
        *,
        exclusive: bool,
    ) -> None:
        eng = self.engine
        if ctx is not None and ctx.held:
            await eng.queue.release(
                self.owner,
                list(ctx.held.values()),
                message="the run stopped before this row; queued again",
            )
            ctx.held.clear()
        if ctx is not None:
            await self._flush_history(ctx)
        if run is not None and ctx is not None:
            m = ctx.messages
            await eng.history.finish(
                run.id,
                status=status,
                processed=m.processed,
                succeeded=m.succeeded,
                errors=m.failed,
                skipped=m.skipped,
                message=summary,
                messages={
                    "notes": m.notes,
                    "errors": [{"key": e.key, "status": e.status.value, "message": e.message} for e in m.errors],
                },
            )
        dry_run = ctx.options.dry_run if ctx is not None else False
        if exclusive:
            await eng.profiles.release_run(
                record.id,
                self.owner,
                run_id=run.id if run else None,
                status=None if dry_run else status.value,
                finished_at=eng.clock.now(),
            )
        elif not dry_run and run is not None:
            await eng.profiles.record_last_run(
                record.id, run_id=run.id, status=status.value, finished_at=eng.clock.now()
            )
        if dry_run and status == RunStatus.SUCCESS:
            await eng.profiles.mark_tested(record.id)


def _short(payload: Any, limit: int = 200) -> str:
    text = repr(payload)
    return text if len(text) <= limit else text[: limit - 1] + "…"
