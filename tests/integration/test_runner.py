"""Profile runs end to end on every backend: pipeline stages, failure handling, dry runs, history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from plentysync.db import Database
from plentysync.engine.lifecycle import ProfileState, RunStatus
from plentysync.engine.pipeline import Batch, Request, Result, RunContext, RunOptions
from plentysync.engine.registry import ProfileType
from plentysync.engine.runner import ProfileRunner
from plentysync.engine.services import Engine
from plentysync.errors import ConfigError, ConflictError, FatalError, RateLimitedError, RetryableError, UsageError
from tests.support import NeedsWarehouseConfig, ProfileTypeBuilder, make_engine

pytestmark = [pytest.mark.anyio, pytest.mark.db]
T = "plenty_test_export"
KEYS = [f"K{n:02d}" for n in range(25)]


async def setup(db: Database, builder: ProfileTypeBuilder, *, batch: int = 10) -> tuple[Engine, ProfileType]:
    profile_type = builder.build()
    engine = make_engine(db, profile_type)
    record = await engine.profiles.create(T, enabled=True, config={"process_batch_size": batch})
    assert record.enabled
    await engine.queue.enqueue(T, KEYS, reason="source_item_save")
    return engine, profile_type


async def statuses(engine: Engine) -> dict[str, str]:
    return {row.entity_key: row.status for row in await engine.queue.list_items(T, limit=1000)}


async def test_run_drains_the_queue_in_batches_and_records_history(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T, trigger="cli")
    assert report.status == RunStatus.SUCCESS
    assert [len(call) for call in builder.remote.calls] == [10, 10, 5]
    assert set(builder.remote.stored) == set(KEYS)
    assert set((await statuses(engine)).values()) == {"success"}
    run = report.run
    assert (run.processed, run.succeeded, run.errors, run.skipped, run.trigger) == (25, 25, 0, 0, "cli")
    entities = await engine.history.entities(run_id=run.id, limit=100)
    assert sorted(e.entity_key for e in entities) == KEYS
    profile = await engine.profiles.resolve(T)
    assert (profile.last_run_status, profile.last_run_id, profile.run_owner) == ("success", run.id, None)
    assert engine.profiles.state_of(profile) == ProfileState.COMPLETED
    # nothing pending: the next run has nothing to do and calls nothing
    again = await ProfileRunner(engine).run(T)
    assert again.run.processed == 0
    assert len(builder.remote.calls) == 3


async def test_one_bad_entity_fails_only_itself(db: Database) -> None:
    builder = ProfileTypeBuilder().rejecting("K03").flaky("K04").unmappable_keys("K05").forgetting("K06")
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T)
    assert report.status == RunStatus.PARTIAL
    assert (report.run.succeeded, report.run.errors) == (21, 4)
    rows = await statuses(engine)
    assert rows["K03"] == "error"  # rejected by the remote: retrying cannot help
    assert rows["K05"] == "error"  # could not be mapped: never sent
    assert rows["K04"] == "pending"  # temporary failure: retried after a backoff
    assert rows["K06"] == "pending"  # no result came back: never assumed to have worked
    assert "K05" not in [k for call in builder.remote.calls for k in call]
    assert {e.key: e.status for e in report.errors} == {"K03": "error", "K04": "retry", "K05": "error", "K06": "retry"}
    assert engine.profiles.state_of(await engine.profiles.resolve(T)) == ProfileState.COMPLETED


async def test_temporary_batch_failure_stops_the_run_and_retries_the_rows(db: Database) -> None:
    builder = ProfileTypeBuilder().raising(RateLimitedError("429 Too Many Requests", retry_after=120), on_call=2)
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T)
    assert report.status == RunStatus.PARTIAL
    assert len(builder.remote.calls) == 2  # no third call into a rate limit
    rows = await engine.queue.list_items(T, limit=100)
    retrying = [r for r in rows if r.status == "pending" and r.attempts == 1]
    assert len(retrying) == 10
    assert all(r.next_attempt_at >= engine.clock.now() + timedelta(seconds=110) for r in retrying)
    untouched = [r for r in rows if r.status == "pending" and r.attempts == 0]
    assert len(untouched) == 5
    assert "temporary failure" in (report.run.message or "")


async def test_fatal_failure_releases_rows_without_using_attempts(db: Database) -> None:
    builder = ProfileTypeBuilder().raising(FatalError("401 Unauthorized: check the API user"), on_call=1)
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T)
    assert report.status == RunStatus.FAILED
    rows = await engine.queue.list_items(T, limit=100)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    assert "401 Unauthorized" in (report.run.message or "")
    profile = await engine.profiles.resolve(T)
    assert engine.profiles.state_of(profile) == ProfileState.FAILED


async def test_a_bug_counts_an_attempt_and_fails_the_run(db: Database) -> None:
    builder = ProfileTypeBuilder().raising(KeyError("oops"), on_call=1)
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T)
    assert report.status == RunStatus.FAILED
    assert "internal error (KeyError" in (report.run.message or "")
    rows = await engine.queue.list_items(T, limit=100)
    assert sorted(r.attempts for r in rows) == [0] * 15 + [1] * 10


async def test_rows_left_unfinished_by_the_profile_are_retried(db: Database) -> None:
    builder = ProfileTypeBuilder().without_post_processing()
    engine, _ = await setup(db, builder)
    await ProfileRunner(engine).run(T, options=RunOptions(limit=5))
    rows = [r for r in await engine.queue.list_items(T, limit=100) if r.attempts]
    assert len(rows) == 5
    assert all(r.status == "pending" and "did not record an outcome" in (r.message or "") for r in rows)


async def test_dry_run_sends_nothing_and_changes_no_row(db: Database) -> None:
    builder = ProfileTypeBuilder().unmappable_keys("K01")
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T, options=RunOptions(dry_run=True))
    assert builder.remote.calls == []
    assert report.run.dry_run
    assert (report.run.skipped, report.run.errors) == (24, 1)  # the mapping error shows in a dry run too
    rows = await engine.queue.list_items(T, limit=100)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    profile = await engine.profiles.resolve(T)
    assert profile.last_run_status is None  # a dry run is not the profile's last run


async def test_run_by_keys_queues_them_and_processes_only_them(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T, options=RunOptions(keys=("K07", "NEW-1")))
    assert sorted(k for call in builder.remote.calls for k in call) == ["K07", "NEW-1"]
    assert report.run.succeeded == 2
    new = (await engine.queue.list_items(T, keys=["NEW-1"]))[0]
    assert (new.status, new.trigger_reason) == ("success", "cli")


async def test_limit_and_batch_size(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder)
    await ProfileRunner(engine).run(T, options=RunOptions(limit=7, batch_size=3))
    assert [len(c) for c in builder.remote.calls] == [3, 3, 1]


async def test_retry_errors_with_status_option(db: Database) -> None:
    builder = ProfileTypeBuilder().rejecting("K00")
    engine, _ = await setup(db, builder)
    await ProfileRunner(engine).run(T)
    builder.remote.reject.clear()
    report = await ProfileRunner(engine).run(T, options=RunOptions(statuses=("error",)))
    assert report.run.succeeded == 1
    assert (await statuses(engine))["K00"] == "success"


async def test_disabled_and_unconfigured_profiles_do_not_run(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder)
    await engine.profiles.set_enabled(T, False)
    with pytest.raises(UsageError, match="disabled"):
        await ProfileRunner(engine).run(T)
    with pytest.raises(UsageError, match="scheduled runs are skipped"):
        await ProfileRunner(engine).run(T, trigger="cron")
    forced = await ProfileRunner(engine).run(T, options=RunOptions(force=True, limit=1))
    assert forced.run.processed == 1
    assert engine.profiles.state_of(await engine.profiles.resolve(T)) == ProfileState.DISABLED

    unconfigured = ProfileTypeBuilder("plenty_other_export").with_config(NeedsWarehouseConfig).build()
    engine2 = make_engine(db, unconfigured)
    await engine2.profiles.create("plenty_other_export")
    with pytest.raises(ConfigError, match="main_warehouse_id"):
        await ProfileRunner(engine2).run("plenty_other_export")


async def test_a_profile_never_runs_twice_at_once(db: Database) -> None:
    gate = asyncio.Event()
    entered = asyncio.Event()

    async def slow_process(requests: Sequence[Request], ctx: RunContext) -> list[Result]:
        entered.set()
        await gate.wait()
        return [Result.success(r.key) for r in requests]

    slow = ProfileTypeBuilder().processing_with(slow_process).build()
    engine = make_engine(db, slow)
    await engine.profiles.create(T, enabled=True)
    await engine.queue.enqueue(T, KEYS, reason="manual")
    first = asyncio.create_task(ProfileRunner(engine).run(T))
    await entered.wait()
    assert engine.profiles.state_of(await engine.profiles.resolve(T)) == ProfileState.RUNNING
    with pytest.raises(ConflictError, match="already running"):
        await ProfileRunner(engine).run(T)
    # interrupting the run (Ctrl+C, SIGTERM) returns its claimed rows and leaves it Paused
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    rows = await engine.queue.list_items(T, limit=100)
    assert {(r.status, r.attempts, r.lease_owner) for r in rows} == {("pending", 0, None)}
    profile = await engine.profiles.resolve(T)
    assert engine.profiles.state_of(profile) == ProfileState.PAUSED
    [run] = await engine.history.list_runs(profile.id)
    assert run.status == RunStatus.CANCELLED
    gate.set()


async def test_lifecycle_from_created_to_completed(db: Database) -> None:
    profile_type = ProfileTypeBuilder().with_config(NeedsWarehouseConfig).build()
    engine = make_engine(db, profile_type)
    record = await engine.profiles.create(T)
    state = engine.profiles.state_of
    assert state(record) == ProfileState.CREATED
    with pytest.raises(ConfigError, match="cannot enable"):
        await engine.profiles.set_enabled(T, True)
    with pytest.raises(ConfigError, match="main_warehouse_id"):
        await engine.profiles.update_config(T, {"main_warehouse_id": 0})
    record = await engine.profiles.update_config(T, {"main_warehouse_id": 1})
    assert state(record) == ProfileState.CONFIGURED
    await ProfileRunner(engine).run(T, options=RunOptions(dry_run=True))
    assert state(await engine.profiles.resolve(T)) == ProfileState.TESTED
    record = await engine.profiles.update_config(T, {"main_warehouse_id": 2})
    assert state(record) == ProfileState.CONFIGURED  # changed configuration needs a new test
    record = await engine.profiles.set_enabled(T, True)
    assert state(record) == ProfileState.ACTIVE
    await ProfileRunner(engine).run(T)
    assert state(await engine.profiles.resolve(T)) == ProfileState.COMPLETED
    record = await engine.profiles.set_enabled(T, False)
    assert state(record) == ProfileState.DISABLED


async def test_one_profile_per_type_and_delete_keeps_queue(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder)
    with pytest.raises(ConflictError, match="already exists"):
        await engine.profiles.create(T)
    await ProfileRunner(engine).run(T, options=RunOptions(limit=3))
    deleted = await engine.profiles.delete(T)
    assert await engine.profiles.find(deleted.id) is None
    assert await engine.history.count(deleted.id) == 0
    assert (await engine.queue.stats(T)).total == 25
    again = await engine.profiles.create(T)
    assert again.id != deleted.id


async def test_history_retention(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder, batch=5)
    await ProfileRunner(engine).run(T)
    assert await engine.history.count() == 1
    preview = await engine.history.clean(timedelta(days=30), dry_run=True)
    assert (preview.runs, preview.entities) == (0, 0)
    preview = await engine.history.clean(timedelta(seconds=-1), dry_run=True)
    assert (preview.runs, preview.entities) == (1, 25)
    assert (await engine.history.clean(timedelta(seconds=-1))).entities == 25
    assert await engine.history.count() == 0
    assert await engine.history.entities(limit=10) == []


async def test_retryable_error_from_a_stage_is_not_a_crash(db: Database) -> None:
    builder = ProfileTypeBuilder().raising(RetryableError("HTTP 503"), on_call=1)
    engine, _ = await setup(db, builder)
    report = await ProfileRunner(engine).run(T)
    assert report.status == RunStatus.FAILED  # nothing got through
    assert {r.status for r in await engine.queue.list_items(T, limit=100)} == {"pending"}


async def test_a_failing_collect_stage_fails_the_run_cleanly(db: Database) -> None:

    async def collect(ctx: RunContext) -> AsyncIterator[Batch]:
        claimed = await ctx.queue.claim(T, owner=ctx.owner, limit=5)
        ctx.hold(claimed)
        if claimed:  # a source that fails after the claim
            raise RetryableError("PlentyONE answered 503 while listing changes")
        yield Batch([])

    broken = ProfileTypeBuilder().collecting_with(collect).build()
    engine = make_engine(db, broken)
    await engine.profiles.create(T, enabled=True)
    await engine.queue.enqueue(T, KEYS, reason="manual")
    report = await ProfileRunner(engine).run(T)
    assert report.status == RunStatus.FAILED
    assert report.run.message == "stopped: PlentyONE answered 503 while listing changes"
    rows = await engine.queue.list_items(T, limit=100)
    assert {(r.status, r.lease_owner) for r in rows} == {("pending", None)}  # claimed rows were given back
    assert (await engine.profiles.resolve(T)).run_owner is None


async def test_the_first_run_after_leases_expired_processes_the_recovered_rows(db: Database) -> None:
    """A crashed run's rows come back when their lease runs out: the next run must process them, not only
    return them to pending (the cut-off that keeps a run from chasing re-queued rows came before the
    recovery, so every recovered row looked 'changed after the run started')."""
    builder = ProfileTypeBuilder()
    engine, _ = await setup(db, builder)
    crashed = await engine.queue.claim(T, owner="crashed-run", limit=len(KEYS), lease_seconds=0.05)
    assert len(crashed) == len(KEYS)
    await asyncio.sleep(0.2)
    report = await ProfileRunner(engine).run(T, options=RunOptions(statuses=("pending",)))
    assert report.run.processed == len(KEYS)
    assert set(builder.remote.stored) == set(KEYS)
    assert set((await statuses(engine)).values()) == {"success"}
