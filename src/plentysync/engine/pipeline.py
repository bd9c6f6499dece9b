"""The pipeline every profile run goes through (the seeds' five stages):

1. **collect**: yield batches of entities (claimed queue rows, or records changed since a watermark);
2. **generate**: pure mapping of a batch into requests, keyed by entity; an entity that cannot be
   mapped gets a :class:`Result` right away instead of a request;
3. **process**: the remote calls; results come back keyed by entity, never matched by position;
4. **post-process**: ordered, idempotent steps that persist the results (baselines, links, queue
   status...);
5. **report**: the runner collects one message per entity and writes the run history.

Stages are plain functions registered in order on a :class:`Pipeline`; :mod:`plentysync.engine.runner`
drives them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from plentysync.engine.queue import ClaimedItem
from plentysync.errors import LeaseLostError

if TYPE_CHECKING:
    import structlog

    from plentysync.clock import Clock
    from plentysync.engine.links import IdentityLinks
    from plentysync.engine.messages import MessageCollector
    from plentysync.engine.profiles import ProfileRecord
    from plentysync.engine.queue import CoalescingQueue
    from plentysync.engine.refdata import ReferenceDataCache
    from plentysync.engine.registry import ProfileConfig, ProfileType

TRIGGERS = ("manual", "cli", "cron", "worker", "mq", "event")
Trigger = Literal["manual", "cli", "cron", "worker", "mq", "event"]


@dataclass
class BatchItem:
    key: str
    claim: ClaimedItem | None = None
    data: Any = None
    """Whatever collect loaded for this entity (e.g. the source record)."""


@dataclass
class Batch:
    items: list[BatchItem]

    @property
    def keys(self) -> list[str]:
        return [item.key for item in self.items]

    @property
    def claims(self) -> list[ClaimedItem]:
        return [item.claim for item in self.items if item.claim is not None]


@dataclass(frozen=True)
class Request:
    key: str
    """The entity this request is for; its result must carry the same key."""
    payload: Any
    operation: str = ""
    """What will be called, for reports and dry runs (e.g. ``createStockCorrection``)."""


ResultStatus = Literal["success", "skipped", "error", "retry"]


@dataclass(frozen=True)
class Result:
    key: str
    status: ResultStatus
    message: str | None = None
    data: Any = None
    metadata: dict[str, Any] | None = None
    """Replaces the queue row's metadata (e.g. an audit trail)."""
    retry_after: float | None = None

    @classmethod
    def success(cls, key: str, message: str | None = None, **kw: Any) -> Result:
        return cls(key, "success", message, **kw)

    @classmethod
    def skipped(cls, key: str, message: str | None = None, **kw: Any) -> Result:
        return cls(key, "skipped", message, **kw)

    @classmethod
    def error(cls, key: str, message: str, **kw: Any) -> Result:
        """Failed for a reason retrying cannot fix (bad data, missing mapping)."""
        return cls(key, "error", message, **kw)

    @classmethod
    def retry(cls, key: str, message: str, **kw: Any) -> Result:
        """Failed for a passing reason; the queue tries again after a backoff."""
        return cls(key, "retry", message, **kw)


class ProgressReporter(Protocol):
    def start(self, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class NullProgress:
    def start(self, total: int | None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


@dataclass(frozen=True)
class RunOptions:
    statuses: tuple[str, ...] = ("pending",)
    """Queue statuses to process (the cron drain uses pending; ``--status error`` retries errors)."""
    keys: tuple[str, ...] = ()
    """Only these entities (they are queued first if they are not yet)."""
    enqueue_keys: bool = True
    """Queue ``keys`` at the start of the run; False when the caller has just queued them itself."""
    limit: int | None = None
    """Stop after this many entities."""
    batch_size: int | None = None
    """Overrides the profile's process_batch_size."""
    dry_run: bool = False
    """Collect and generate, but send nothing and change nothing."""
    force: bool = False
    """Run even though the profile is disabled."""


@dataclass
class RunContext:
    """Everything a stage may use. Stages get it; they never reach for globals."""

    run_id: int
    profile: ProfileRecord
    profile_type: ProfileType
    config: ProfileConfig
    trigger: str
    options: RunOptions
    owner: str
    started_at: datetime
    clock: Clock
    queue: CoalescingQueue
    links: IdentityLinks
    refdata: ReferenceDataCache
    messages: MessageCollector
    log: structlog.stdlib.BoundLogger
    progress: ProgressReporter = field(default_factory=NullProgress)
    held: dict[int, ClaimedItem] = field(default_factory=dict)
    """Queue rows claimed by this run and not finished yet; released if the run stops."""
    extras: dict[str, Any] = field(default_factory=dict)
    leases_valid_until: datetime | None = None
    """Until when every row this run holds is surely still its own: the start of the last lease
    renewal that reached the database (or of the run), plus the lease. Set by the runner."""
    lease_margin: timedelta = timedelta(0)
    """Writes stop this long before ``leases_valid_until``, so a write in flight ends while the rows
    are still ours. The runner sets a third of the lease."""
    failure_kind: str | None = None
    """Why the run stopped, when it failed as a whole: ``auth`` (credentials rejected or unreadable),
    ``fatal`` (configuration, permissions), ``crash`` (a bug); notifications grade on it."""
    """Profile-specific services (API clients...), set up by whoever starts the run."""

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    @property
    def batch_size(self) -> int:
        return self.options.batch_size or self.config.process_batch_size

    def check_leases(self) -> None:
        """Raise :class:`LeaseLostError` when the rows may no longer be this run's: the lease could not
        be renewed for too long (the database away), so another worker may take the rows over."""
        if self.leases_valid_until is None:
            return
        if self.clock.now() >= self.leases_valid_until - self.lease_margin:
            raise LeaseLostError(
                f"the run could not renew its queue leases since "
                f"{(self.leases_valid_until - self.lease_margin).isoformat(timespec='seconds')}; "
                "another worker may hold the rows now, so nothing more is sent"
            )

    def hold(self, items: Sequence[ClaimedItem]) -> None:
        for item in items:
            self.held[item.id] = item

    def unhold(self, items: Sequence[ClaimedItem]) -> None:
        for item in items:
            self.held.pop(item.id, None)


Collect = Callable[[RunContext], AsyncIterator[Batch]]
Generate = Callable[[Batch, RunContext], Sequence[Request | Result]]
Process = Callable[[Sequence[Request], RunContext], Awaitable[Sequence[Result]]]
PostStep = Callable[[Batch, Sequence[Result], RunContext], Awaitable[None]]
Estimate = Callable[[RunContext], Awaitable[int | None]]


@dataclass(frozen=True)
class Pipeline:
    collect: Collect
    generate: Generate
    process: Process
    post_process: tuple[PostStep, ...] = ()
    estimate: Estimate | None = None
    """How many entities the run will see, for the progress bar."""


def align_results(batch: Batch, results: Sequence[Result]) -> tuple[list[Result], list[str]]:
    """Order ``results`` like the batch, matched by key. An entity without a result gets a retry (a
    result must never be silently assumed); results for keys not in the batch are reported back."""
    by_key: dict[str, Result] = {}
    strays: list[str] = []
    wanted = set(batch.keys)
    for result in results:
        if result.key not in wanted:
            strays.append(result.key)
        elif result.key not in by_key:
            by_key[result.key] = result
    aligned = [
        by_key.get(key) or Result.retry(key, "no result was returned for this entity; will try again")
        for key in batch.keys
    ]
    return aligned, strays
