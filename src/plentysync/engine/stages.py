"""Stages most profiles share: collecting from the coalescing queue and writing the queue status back
(the seed's SaveEntity post-processor)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from plentysync.db.dialect import chunked
from plentysync.engine.pipeline import Batch, BatchItem, Result, RunContext
from plentysync.engine.queue import Outcome


async def estimate_queue(ctx: RunContext) -> int | None:
    """Rows the queue collector will see (for the progress bar)."""
    opts = ctx.options
    if opts.dry_run and opts.keys:
        total = len(set(opts.keys))
    else:
        total = await ctx.queue.count(
            ctx.profile_type.type_id,
            statuses=opts.statuses,
            keys=opts.keys or None,
            due_only=not opts.keys,
        )
    return min(total, opts.limit) if opts.limit is not None else total


async def collect_from_queue(ctx: RunContext) -> AsyncIterator[Batch]:
    """Claim the profile's queue rows batch by batch.

    With ``keys`` the keys are queued first (trigger ``cli``), so "export these SKUs" works whether
    or not they were queued; backoff is ignored for them. Rows whose lease expired (a crashed run's) are
    returned and processed. Rows touched after the run started (queued again meanwhile) are left for the
    next run, so a run always ends."""
    opts = ctx.options
    type_id = ctx.profile_type.type_id
    keys = list(dict.fromkeys(opts.keys)) or None
    if keys and opts.dry_run:
        # A dry run changes nothing, not even the queue: look at the keys as they are.
        for chunk in chunked(keys, ctx.batch_size):
            yield Batch([BatchItem(key) for key in chunk])
        return
    statuses = opts.statuses
    if keys:
        if opts.enqueue_keys:
            await ctx.queue.enqueue(type_id, keys, reason="cli")
        statuses = tuple(dict.fromkeys(("pending", *statuses)))
    # Expired leases first: recovery stamps the rows, and a row stamped after the cut-off waits for the
    # next run, so a crashed run's rows would come back here and yet not be processed.
    await ctx.queue.recover_expired(type_id)
    cutoff = ctx.clock.now()
    remaining = opts.limit
    while remaining is None or remaining > 0:
        want = ctx.batch_size if remaining is None else min(ctx.batch_size, remaining)
        claimed = await ctx.queue.claim(
            type_id,
            owner=ctx.owner,
            limit=want,
            statuses=statuses,
            keys=keys,
            changed_before=cutoff,
            respect_backoff=keys is None,
        )
        if not claimed:
            return
        ctx.hold(claimed)
        if remaining is not None:
            remaining -= len(claimed)
        yield Batch([BatchItem(item.entity_key, claim=item) for item in claimed])


async def finish_queue_rows(batch: Batch, results: Sequence[Result], ctx: RunContext) -> None:
    """Write each claimed row's outcome (post-processing step "SaveEntity")."""
    claims = batch.claims
    if not claims:
        return
    if ctx.dry_run:
        await ctx.queue.release(ctx.owner, claims, count_attempt=False)
        ctx.unhold(claims)
        return
    by_key = {result.key: result for result in results}
    outcomes = []
    for item in claims:
        result = by_key.get(item.entity_key) or Result.retry(item.entity_key, "no result for this entity")
        outcomes.append(
            Outcome(
                item,
                result.status,
                result.message,
                metadata=result.metadata,
                retry_after=result.retry_after,
            )
        )
    finished = await ctx.queue.finish(ctx.owner, outcomes, max_attempts=ctx.profile_type.max_attempts)
    ctx.unhold(claims)
    if finished.requeued:
        ctx.messages.note(f"{finished.requeued} entities changed while being processed and are queued again")
    if finished.lost:
        ctx.messages.note(
            f"{finished.lost} queue rows were taken over by another worker after their lease expired; "
            "their results were not recorded"
        )
