"""The coalescing queue: one durable row per (profile type, entity key).

Life of a row::

    enqueue ──► pending ──claim──► processing ──finish──► success / skipped / error
                  ▲                    │  │
                  │   changed while    │  └─ retryable failure ─► pending (after backoff)
                  └── being processed ─┘     ... until max_attempts, then error

* **Coalescing.** Enqueueing a key that already has a row updates that row instead of adding one, and
  bumps its ``version``. A burst of changes to one SKU becomes one unit of work.
* **Claims with a lease.** A worker claims rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB,
  ``BEGIN IMMEDIATE`` on SQLite) and owns them until ``lease_expires_at``. A worker that dies leaves
  its rows ``processing``; once the lease has expired they go back to ``pending`` (the seed's "stuck in
  processing" fix, done automatically).
* **Nothing lost mid-flight.** The claim remembers the version it saw (``claimed_version``). Finishing
  only takes effect if the version is still the same; if a new change arrived meanwhile, the row goes
  back to ``pending`` so the newer state is pushed too.
* **Retries.** Every claim counts as an attempt (so a row that crashes its worker cannot loop forever);
  retryable failures wait ``backoff_base * 2^(attempt-1)`` (capped), and a row that used up its
  attempts goes to ``error`` and stays visible until an operator acts.

Priority: lower runs first (``PRIORITY_URGENT`` = 0 for "export now" pushes, ``PRIORITY_DEFAULT`` =
100). Within one priority, the oldest row runs first.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from itertools import islice
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Select,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.clock import Clock
from plentysync.db import Backend, Database
from plentysync.db.dialect import chunked, least, lock_skip_locked
from plentysync.db.dialect import insert as dialect_insert
from plentysync.db.tables import queue_item as t
from plentysync.db.types import UTCDateTime
from plentysync.errors import UsageError
from plentysync.log import get_logger

log = get_logger(__name__)

PRIORITY_URGENT = 0
PRIORITY_DEFAULT = 100
MAX_KEY_LENGTH = 255

# The seed's trigger reasons, plus the ways a service outside Magento learns about changes.
KNOWN_TRIGGER_REASONS = (
    "source_item_save",
    "product_save",
    "manual",
    "cli",
    "collect_drift",
    "reservation",
    "shipment",
    "poll",
    "webhook",
    "mq",
)
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class QueueStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCESS = "success"
    ERROR = "error"
    SKIPPED = "skipped"


DONE_STATUSES = (QueueStatus.SUCCESS, QueueStatus.ERROR, QueueStatus.SKIPPED)


@dataclass(frozen=True)
class QueuePolicy:
    lease_seconds: float = 300.0
    max_attempts: int = 5
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0

    def backoff(self, attempt: int) -> timedelta:
        """Wait before attempt ``attempt + 1``, after ``attempt`` attempts failed."""
        seconds = self.backoff_base_seconds * (2 ** max(attempt - 1, 0))
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


@dataclass(frozen=True)
class EnqueueResult:
    requested: int
    """Keys passed in, duplicates included."""
    inserted: int
    """New rows."""
    updated: int
    """Existing rows that were set back to pending (coalesced). A key repeated far apart in one
    very large call (more than a chunk apart) counts once as inserted and once as updated."""

    @property
    def coalesced(self) -> int:
        return self.requested - self.inserted


@dataclass(frozen=True)
class ClaimedItem:
    id: int
    profile_type: str
    entity_key: str
    version: int
    attempts: int
    trigger_reason: str
    owner: str
    metadata: dict[str, Any] | None = None
    previous_message: str | None = None


OutcomeStatus = Literal["success", "skipped", "error", "retry"]


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row. ``metadata`` replaces the row's metadata when not None."""

    item: ClaimedItem
    status: OutcomeStatus
    message: str | None = None
    metadata: dict[str, Any] | None = None
    retry_after: float | None = None

    @classmethod
    def success(cls, item: ClaimedItem, message: str | None = None, **kw: Any) -> Outcome:
        return cls(item, "success", message, **kw)

    @classmethod
    def skipped(cls, item: ClaimedItem, message: str | None = None, **kw: Any) -> Outcome:
        return cls(item, "skipped", message, **kw)

    @classmethod
    def failed(cls, item: ClaimedItem, message: str, *, retryable: bool = True, **kw: Any) -> Outcome:
        return cls(item, "retry" if retryable else "error", message, **kw)


@dataclass
class FinishResult:
    finished: int = 0
    """Rows that took the outcome (version unchanged and still ours)."""
    requeued: int = 0
    """Rows that changed while being processed and went back to pending."""
    lost: int = 0
    """Rows no longer ours (lease expired and taken over, or purged); nothing was written to them."""
    retrying: int = 0
    """Of the finished rows: back to pending to be retried after a backoff."""
    gave_up: int = 0
    """Of the finished rows: failed for good (non-retryable, or attempts used up)."""


@dataclass(frozen=True)
class QueueRow:
    id: int
    profile_type: str
    entity_key: str
    status: str
    trigger_reason: str
    priority: int
    attempts: int
    version: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    message: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime | None


@dataclass
class QueueStats:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    by_profile: dict[str, dict[str, int]] = field(default_factory=dict)
    due_now: int = 0
    """Pending rows whose backoff has passed."""
    expired_leases: int = 0
    """Processing rows whose worker let the lease run out (returned on the next claim)."""
    oldest_pending_at: datetime | None = None


def validate_keys(keys: Iterable[str]) -> list[str]:
    result = []
    for key in keys:
        if not isinstance(key, str) or not key or key != key.strip():
            raise UsageError(f"invalid entity key {key!r}: must be non-empty without surrounding spaces")
        if len(key) > MAX_KEY_LENGTH:
            raise UsageError(f"entity key {key[:40]!r}... is longer than {MAX_KEY_LENGTH} characters")
        result.append(key)
    return result


def validate_reason(reason: str) -> str:
    if not _REASON.match(reason):
        raise UsageError(
            f"invalid trigger reason {reason!r}: lower-case letters, digits and _ (known: "
            + ", ".join(KNOWN_TRIGGER_REASONS)
            + ")"
        )
    return reason


def _coalesce(
    backend: Backend,
) -> Callable[[Callable[[str], Any]], list[tuple[str, Any]]]:
    """The ON CONFLICT assignments of :meth:`CoalescingQueue.enqueue`.

    A row being processed keeps its status, lease and attempts: the worker that holds it sees the
    version change when it finishes and sets it back to pending itself. Any other row becomes pending
    again with fresh attempts. Status goes last (MariaDB evaluates the assignments in order)."""
    in_flight = t.c.status == QueueStatus.PROCESSING.value
    # or_() rather than in_(): an IN list would be expanded per call and rule out executemany
    waiting = or_(t.c.status == QueueStatus.PENDING.value, in_flight)

    def assignments(new: Callable[[str], Any]) -> list[tuple[str, Any]]:
        return [
            ("version", t.c.version + new("version")),
            ("trigger_reason", new("trigger_reason")),
            (
                "priority",
                case(
                    (waiting, least(backend, t.c.priority, new("priority"))),
                    else_=new("priority"),
                ),
            ),
            ("attempts", case((in_flight, t.c.attempts), else_=0)),
            (
                "next_attempt_at",
                case((in_flight, t.c.next_attempt_at), else_=new("next_attempt_at")),
            ),
            ("message", case((in_flight, t.c.message), else_=None)),
            ("updated_at", new("updated_at")),
            ("status", case((in_flight, t.c.status), else_=QueueStatus.PENDING.value)),
        ]

    return assignments


@cache
def _enqueue_statement(backend: Backend) -> Any:
    """The coalescing upsert, built once per backend, returning (entity_key, version) per row.

    SQLite and MariaDB get it as an executemany (batched by SQLAlchemy's insertmanyvalues).
    PostgreSQL gets the keys and versions as two arrays and unnests them: one small statement per
    chunk instead of one with 11 parameters per row, which is 4-5x faster there."""
    if backend != "postgresql":
        base = dialect_insert(backend, t)
        if backend == "mariadb":
            stmt = base.on_duplicate_key_update(_coalesce(backend)(lambda col: base.inserted[col]))
        else:
            stmt = base.on_conflict_do_update(
                index_elements=["profile_type", "entity_key"],
                set_=dict(_coalesce(backend)(lambda col: base.excluded[col])),
            )
        return stmt.returning(t.c.entity_key, t.c.version)
    rows = select(
        func.unnest(bindparam("keys", type_=postgresql.ARRAY(Text))).label("entity_key"),
        func.unnest(bindparam("versions", type_=postgresql.ARRAY(BigInteger))).label("version"),
    ).subquery()
    constant = {name: bindparam(name, type_=t.c[name].type) for name in _CONSTANT_COLUMNS}
    source = select(*(rows.c[name] if name in rows.c else constant[name] for name in _ENQUEUE_COLUMNS))
    pg_base = postgresql.insert(t).from_select(list(_ENQUEUE_COLUMNS), source)
    pg_stmt = pg_base.on_conflict_do_update(
        index_elements=["profile_type", "entity_key"],
        set_=dict(_coalesce(backend)(lambda col: pg_base.excluded[col])),
    )
    return pg_stmt.returning(t.c.entity_key, t.c.version)


_CONSTANT_COLUMNS = (
    "profile_type",
    "status",
    "trigger_reason",
    "priority",
    "attempts",
    "next_attempt_at",
    "metadata",
    "created_at",
    "updated_at",
)
_ENQUEUE_COLUMNS = ("entity_key", "version", *_CONSTANT_COLUMNS)


class CoalescingQueue:
    def __init__(
        self,
        db: Database,
        *,
        policy: QueuePolicy | None = None,
        clock: Clock | None = None,
        chunk_size: int = 500,
        recovery_interval: float = 5.0,
    ) -> None:
        self.db = db
        self.policy = policy or QueuePolicy()
        self.clock: Clock = clock or db.clock
        self.chunk_size = chunk_size
        self.recovery_interval = timedelta(seconds=recovery_interval)
        self._last_recovery: datetime | None = None

    # -- producing -------------------------------------------------------------------------------

    async def enqueue(
        self,
        profile_type: str,
        keys: Iterable[str],
        *,
        reason: str,
        priority: int = PRIORITY_DEFAULT,
        metadata: dict[str, Any] | None = None,
    ) -> EnqueueResult:
        """Put ``keys`` in the queue of ``profile_type`` (or set their rows back to pending).

        ``keys`` is read in chunks, so enqueueing a whole catalogue from a generator needs no more
        memory than one chunk. ``metadata`` is stored on new rows only. Each chunk commits on its
        own, so a huge enqueue holds no long lock; a failure part-way leaves the earlier chunks
        queued (enqueueing them again is harmless)."""
        validate_reason(reason)
        requested = inserted = updated = 0
        stmt = _enqueue_statement(self.db.backend)
        source = iter(keys)
        while chunk := validate_keys(islice(source, self.chunk_size)):
            requested += len(chunk)
            counts = Counter(chunk)
            ordered = sorted(counts)  # one lock order for every writer keeps concurrent enqueues apart
            now = self.clock.now()
            common = {
                "profile_type": profile_type,
                "status": QueueStatus.PENDING.value,
                "trigger_reason": reason,
                "priority": priority,
                "attempts": 0,
                "next_attempt_at": now,
                "metadata": metadata,
                "created_at": now,
                "updated_at": now,
            }
            params: Any
            if self.db.backend == "postgresql":
                params = {**common, "keys": ordered, "versions": [counts[key] for key in ordered]}
            else:
                params = [{**common, "entity_key": key, "version": counts[key]} for key in ordered]
            for key, version in (await self.db.write(stmt, params)).rows:
                if version == counts[key]:
                    inserted += 1
                else:
                    updated += 1
        return EnqueueResult(requested=requested, inserted=inserted, updated=updated)

    # -- consuming -------------------------------------------------------------------------------

    async def recover_expired(self, profile_type: str | None = None) -> int:
        """Return rows whose lease ran out to pending (or to error when their attempts are used up)."""
        now = self.clock.now()
        cond = [t.c.status == QueueStatus.PROCESSING.value, t.c.lease_expires_at < now]
        if profile_type is not None:
            cond.append(t.c.profile_type == profile_type)
        exhausted = t.c.attempts >= self.policy.max_attempts
        stmt = (
            update(t)
            .where(*cond)
            .values(
                lease_owner=None,
                lease_expires_at=None,
                claimed_version=None,
                next_attempt_at=now,
                updated_at=now,
                message=case(
                    (
                        exhausted,
                        "gave up: the worker processing this row stopped responding on every attempt",
                    ),
                    else_="lease expired (worker stopped responding); queued again",
                ),
                status=case(
                    (exhausted, QueueStatus.ERROR.value),
                    else_=QueueStatus.PENDING.value,
                ),
            )
        )
        count = (await self.db.write(stmt)).rowcount
        self._last_recovery = now
        if count:
            log.warning("queue.leases_recovered", rows=count, profile_type=profile_type)
        return count

    async def claim(
        self,
        profile_type: str,
        *,
        owner: str,
        limit: int,
        statuses: Sequence[str] = (QueueStatus.PENDING,),
        keys: Sequence[str] | None = None,
        changed_before: datetime | None = None,
        respect_backoff: bool = True,
        lease_seconds: float | None = None,
    ) -> list[ClaimedItem]:
        """Claim up to ``limit`` rows for ``owner`` and mark them processing.

        ``changed_before`` skips rows touched after that time, so one run does not chase rows that
        are re-queued while it runs. An empty result does not prove the queue is empty: rows locked
        by other claimers are skipped."""
        if limit <= 0:
            return []
        now = self.clock.now()
        if self._last_recovery is None or now - self._last_recovery >= self.recovery_interval:
            await self.recover_expired()
            now = self.clock.now()
        lease = timedelta(seconds=lease_seconds if lease_seconds is not None else self.policy.lease_seconds)
        cond = [
            t.c.profile_type == profile_type,
            t.c.status.in_([str(s) for s in statuses]),
        ]
        if respect_backoff:
            cond.append(t.c.next_attempt_at <= now)
        if changed_before is not None:
            cond.append(t.c.updated_at <= changed_before)
        key_chunks: list[Sequence[str] | None] = list(chunked(list(keys), self.chunk_size)) if keys else [None]
        claimed: list[ClaimedItem] = []
        for chunk in key_chunks:
            want = limit - len(claimed)
            if want <= 0:
                break
            where = [*cond, t.c.entity_key.in_(chunk)] if chunk is not None else cond
            claimed += await self._claim_some(profile_type, owner, want, where, now, lease)
        return claimed

    async def _claim_some(
        self, profile_type: str, owner: str, limit: int, where: list[Any], now: datetime, lease: timedelta
    ) -> list[ClaimedItem]:
        query: Select[Any] = (
            select(
                t.c.id,
                t.c.entity_key,
                t.c.version,
                t.c.attempts,
                t.c.trigger_reason,
                t.c.metadata,
                t.c.message,
            )
            .where(*where)
            .order_by(t.c.priority, t.c.id)
            .limit(limit)
        )

        async def work(conn: AsyncConnection) -> list[Any]:
            rows = (await conn.execute(lock_skip_locked(self.db.backend, query))).all()
            if rows:
                await conn.execute(
                    update(t)
                    .where(t.c.id.in_([row.id for row in rows]))
                    .values(
                        status=QueueStatus.PROCESSING.value,
                        lease_owner=owner,
                        lease_expires_at=now + lease,
                        claimed_version=t.c.version,
                        attempts=t.c.attempts + 1,
                        updated_at=now,
                    )
                )
            return list(rows)

        return [
            ClaimedItem(
                id=row.id,
                profile_type=profile_type,
                entity_key=row.entity_key,
                version=row.version,
                attempts=row.attempts + 1,
                trigger_reason=row.trigger_reason,
                owner=owner,
                metadata=row.metadata,
                previous_message=row.message,
            )
            for row in await self.db.transact(work)
        ]

    async def extend_lease(self, owner: str, items: Sequence[ClaimedItem], seconds: float | None = None) -> int:
        """Push the lease of rows still held by ``owner`` further out (call it during long batches)."""
        if not items:
            return 0
        until = self.clock.now() + timedelta(seconds=seconds if seconds is not None else self.policy.lease_seconds)
        total = 0
        for chunk in chunked(sorted(item.id for item in items), self.chunk_size):
            stmt = (
                update(t)
                .where(t.c.id.in_(chunk), t.c.lease_owner == owner, t.c.status == QueueStatus.PROCESSING.value)
                .values(lease_expires_at=until)
            )
            total += (await self.db.write(stmt)).rowcount
        return total

    async def finish(self, owner: str, outcomes: Sequence[Outcome], *, max_attempts: int | None = None) -> FinishResult:
        """Record the outcome of claimed rows, in one transaction.

        A row whose version changed since it was claimed goes back to pending instead (its metadata
        is still saved: a side effect that happened must stay on record)."""
        result = FinishResult()
        if not outcomes:
            return result
        now = self.clock.now()
        groups: dict[tuple[str, str | None, datetime], list[int]] = defaultdict(list)
        for outcome in outcomes:
            status, message, next_at = self._resolve(outcome, now, max_attempts or self.policy.max_attempts)
            groups[(status, message, next_at)].append(outcome.item.id)
            if outcome.status == "retry" and status == QueueStatus.PENDING:
                result.retrying += 1
            elif status == QueueStatus.ERROR:
                result.gave_up += 1
        ids = sorted(outcome.item.id for outcome in outcomes)
        with_metadata = [
            {"row_id": o.item.id, "new_metadata": o.metadata}
            for o in sorted(outcomes, key=lambda o: o.item.id)
            if o.metadata is not None
        ]

        async def work(conn: AsyncConnection) -> tuple[int, int]:
            # Lock our rows in id order first: every writer that touches several rows then queues up
            # in the same order, which keeps deadlocks rare (and transact() retries the rest).
            if self.db.backend != "sqlite":
                await conn.execute(select(t.c.id).where(t.c.id.in_(ids)).order_by(t.c.id).with_for_update())
            if with_metadata:
                await conn.execute(
                    update(t)
                    .where(t.c.id == bindparam("row_id"), t.c.lease_owner == owner)
                    .values(metadata=bindparam("new_metadata")),
                    with_metadata,
                )
            finished = 0
            for (status, message, next_at), group_ids in groups.items():
                for chunk in chunked(group_ids, self.chunk_size):
                    stmt = (
                        update(t)
                        .where(t.c.id.in_(chunk), t.c.lease_owner == owner, t.c.version == t.c.claimed_version)
                        .values(
                            status=status,
                            message=message,
                            next_attempt_at=next_at,
                            processed_at=now,
                            updated_at=now,
                            lease_owner=None,
                            lease_expires_at=None,
                        )
                    )
                    finished += (await conn.execute(stmt)).rowcount
            # Whatever is still held by us now changed while we worked on it: queue it again.
            requeued = 0
            for chunk in chunked(ids, self.chunk_size):
                stmt = (
                    update(t)
                    .where(t.c.id.in_(chunk), t.c.lease_owner == owner)
                    .values(
                        status=QueueStatus.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        processed_at=now,
                        updated_at=now,
                        lease_owner=None,
                        lease_expires_at=None,
                        message="changed while being processed; queued again",
                    )
                )
                requeued += (await conn.execute(stmt)).rowcount
            return finished, requeued

        result.finished, result.requeued = await self.db.transact(work)
        result.lost = len(ids) - result.finished - result.requeued
        if result.lost:
            log.warning("queue.finish_lost_rows", owner=owner, rows=result.lost)
        return result

    def _resolve(self, outcome: Outcome, now: datetime, max_attempts: int) -> tuple[str, str | None, datetime]:
        if outcome.status in ("success", "skipped"):
            return outcome.status, outcome.message, now
        if outcome.status == "error":
            return QueueStatus.ERROR.value, outcome.message, now
        attempts = outcome.item.attempts
        if attempts >= max_attempts:
            return QueueStatus.ERROR.value, f"gave up after {attempts} attempts: {outcome.message}", now
        wait = self.policy.backoff(attempts)
        if outcome.retry_after is not None:
            wait = max(wait, timedelta(seconds=outcome.retry_after))
        return QueueStatus.PENDING.value, f"attempt {attempts} failed, retrying: {outcome.message}", now + wait

    async def release(
        self,
        owner: str,
        items: Sequence[ClaimedItem],
        *,
        message: str | None = None,
        count_attempt: bool = False,
    ) -> int:
        """Give rows back unprocessed (dry run, shutdown, a failure that was not the rows' fault)."""
        if not items:
            return 0
        now = self.clock.now()
        values: dict[str, Any] = {
            "status": QueueStatus.PENDING.value,
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": now,
            "updated_at": now,
        }
        if message is not None:
            values["message"] = message
        if not count_attempt:
            values["attempts"] = case((t.c.attempts > 0, t.c.attempts - 1), else_=0)
        total = 0
        for chunk in chunked(sorted(item.id for item in items), self.chunk_size):
            stmt = update(t).where(t.c.id.in_(chunk), t.c.lease_owner == owner).values(**values)
            total += (await self.db.write(stmt)).rowcount
        return total

    # -- operating -------------------------------------------------------------------------------

    async def retry_errors(self, profile_type: str | None = None, keys: Sequence[str] | None = None) -> int:
        """Set rows in ``error`` back to pending with a fresh set of attempts ("Reset to Pending")."""
        now = self.clock.now()
        cond: list[Any] = [t.c.status == QueueStatus.ERROR.value]
        if profile_type is not None:
            cond.append(t.c.profile_type == profile_type)
        total = 0
        for chunk in chunked(list(keys), self.chunk_size) if keys else [None]:
            where = [*cond, t.c.entity_key.in_(chunk)] if chunk is not None else cond
            stmt = (
                update(t)
                .where(*where)
                .values(
                    status=QueueStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )
            total += (await self.db.write(stmt)).rowcount
        return total

    def _purge_conditions(
        self,
        profile_type: str | None,
        keys: Sequence[str] | None,
        ids: Sequence[int] | None,
        older_than: timedelta | None,
        everything: bool,
    ) -> list[list[Any]]:
        chosen = sum(x is not None for x in (keys, ids, older_than)) + int(everything)
        if chosen != 1:
            raise UsageError("choose exactly one of: keys, ids, older than N days, or all")
        base: list[Any] = [] if profile_type is None else [t.c.profile_type == profile_type]
        if keys is not None:
            if profile_type is None:
                raise UsageError("purging by key needs the profile type the keys belong to")
            return [[*base, t.c.entity_key.in_(chunk)] for chunk in chunked(list(keys), self.chunk_size)]
        if ids is not None:
            return [[*base, t.c.id.in_(chunk)] for chunk in chunked(list(ids), self.chunk_size)]
        if older_than is not None:
            cutoff = self.clock.now() - older_than
            done = [s.value for s in DONE_STATUSES]
            return [[*base, t.c.status.in_(done), t.c.updated_at < cutoff]]
        return [base]

    async def purge(
        self,
        profile_type: str | None = None,
        *,
        keys: Sequence[str] | None = None,
        ids: Sequence[int] | None = None,
        older_than: timedelta | None = None,
        everything: bool = False,
        dry_run: bool = False,
    ) -> int:
        """Delete rows chosen by keys, ids, age or all of them; returns how many (would be) deleted.

        By age only finished rows (success, error, skipped) go: pending and processing rows are work
        that has not been done. Deletes run in chunks so a big purge never holds a long lock."""
        total = 0
        for cond in self._purge_conditions(profile_type, keys, ids, older_than, everything):
            if dry_run:
                async with self.db.read() as conn:
                    total += (await conn.execute(select(func.count()).select_from(t).where(*cond))).scalar_one()
                continue
            while True:
                async with self.db.read() as conn:
                    found = (await conn.execute(select(t.c.id).where(*cond).limit(self.chunk_size))).scalars().all()
                if not found:
                    break
                total += (await self.db.write(delete(t).where(t.c.id.in_(sorted(found))))).rowcount
                if len(found) < self.chunk_size:
                    break
        return total

    async def waiting_keys(self, profile_type: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` whose row is pending or processing: queued already, nothing to add."""
        found: set[str] = set()
        waiting = [QueueStatus.PENDING.value, QueueStatus.PROCESSING.value]
        async with self.db.read() as conn:
            for chunk in chunked(list(keys), self.chunk_size):
                query = select(t.c.entity_key).where(
                    t.c.profile_type == profile_type, t.c.entity_key.in_(chunk), t.c.status.in_(waiting)
                )
                found.update((await conn.execute(query)).scalars())
        return found

    async def count(
        self,
        profile_type: str,
        *,
        statuses: Sequence[str] = (QueueStatus.PENDING,),
        keys: Sequence[str] | None = None,
        changed_before: datetime | None = None,
        due_only: bool = False,
    ) -> int:
        cond: list[Any] = [
            t.c.profile_type == profile_type,
            t.c.status.in_([str(s) for s in statuses]),
        ]
        if changed_before is not None:
            cond.append(t.c.updated_at <= changed_before)
        if due_only:
            cond.append(t.c.next_attempt_at <= self.clock.now())
        total = 0
        async with self.db.read() as conn:
            for chunk in chunked(list(keys), self.chunk_size) if keys else [None]:
                where = [*cond, t.c.entity_key.in_(chunk)] if chunk is not None else cond
                total += (await conn.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
        return total

    async def stats(self, profile_type: str | None = None) -> QueueStats:
        now = self.clock.now()
        base: list[Any] = [] if profile_type is None else [t.c.profile_type == profile_type]
        grouped = (
            select(t.c.profile_type, t.c.status, t.c.trigger_reason, func.count())
            .where(*base)
            .group_by(t.c.profile_type, t.c.status, t.c.trigger_reason)
        )
        pending = t.c.status == QueueStatus.PENDING.value
        extra = select(
            func.sum(case((and_(pending, t.c.next_attempt_at <= now), 1), else_=0)),
            func.sum(
                case(
                    (
                        and_(
                            t.c.status == QueueStatus.PROCESSING.value,
                            t.c.lease_expires_at < now,
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            type_coerce(func.min(case((pending, t.c.created_at), else_=None)), UTCDateTime()),
        ).where(*base)
        stats = QueueStats()
        async with self.db.read() as conn:
            for ptype, status, reason, n in (await conn.execute(grouped)).all():
                stats.total += n
                stats.by_status[status] = stats.by_status.get(status, 0) + n
                stats.by_reason[reason] = stats.by_reason.get(reason, 0) + n
                per = stats.by_profile.setdefault(ptype, {})
                per[status] = per.get(status, 0) + n
            due, expired, oldest = (await conn.execute(extra)).one()
        stats.due_now = int(due or 0)
        stats.expired_leases = int(expired or 0)
        stats.oldest_pending_at = oldest
        return stats

    async def list_items(
        self,
        profile_type: str | None = None,
        *,
        statuses: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[QueueRow]:
        cond: list[Any] = []
        if profile_type is not None:
            cond.append(t.c.profile_type == profile_type)
        if statuses:
            cond.append(t.c.status.in_([str(s) for s in statuses]))
        if keys:
            cond.append(t.c.entity_key.in_(list(keys)[: self.chunk_size]))
        query = (
            select(*(t.c[name] for name in QueueRow.__dataclass_fields__))
            .where(*cond)
            .order_by(t.c.updated_at.desc(), t.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.db.read() as conn:
            return [QueueRow(**row._mapping) for row in (await conn.execute(query)).all()]
