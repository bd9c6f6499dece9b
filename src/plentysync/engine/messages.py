"""Per-entity message collection for one run (the seed's MessageCollector).

Every entity a run touches gets one message keyed by its entity key (SKU, order id...). Messages are
drained to the per-entity history after each batch, so a run over millions of entities keeps only
counts and the first errors in memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from plentysync.clock import Clock, SystemClock


class EntityStatus(StrEnum):
    SUCCESS = "success"
    SKIPPED = "skipped"
    ERROR = "error"
    RETRY = "retry"
    """Failed this time; the queue will try again after a backoff."""
    REQUEUED = "requeued"
    """Done, but the entity changed meanwhile and is queued again."""
    DRY_RUN = "dry_run"
    """Dry run: what would have been sent."""


ERROR_STATUSES = (EntityStatus.ERROR, EntityStatus.RETRY)


@dataclass(frozen=True)
class EntityMessage:
    key: str
    status: EntityStatus
    message: str | None
    at: datetime


@dataclass
class MessageCollector:
    clock: Clock = field(default_factory=SystemClock)
    keep: int = 200
    """How many entity messages of each kind (errors, others) to keep for the final report."""
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    errors: list[EntityMessage] = field(default_factory=list)
    recent: list[EntityMessage] = field(default_factory=list)
    _undrained: list[EntityMessage] = field(default_factory=list)

    def add(self, key: str, status: EntityStatus | str, message: str | None = None) -> EntityMessage:
        entry = EntityMessage(key, EntityStatus(status), message, self.clock.now())
        self.counts[entry.status] += 1
        self._undrained.append(entry)
        bucket = self.errors if entry.status in ERROR_STATUSES else self.recent
        if len(bucket) < self.keep:
            bucket.append(entry)
        return entry

    def note(self, message: str) -> None:
        """A run-level message (not about one entity)."""
        if len(self.notes) < self.keep:
            self.notes.append(message)

    def drain(self) -> list[EntityMessage]:
        """Entity messages added since the last drain (for the history writer)."""
        drained, self._undrained = self._undrained, []
        return drained

    @property
    def processed(self) -> int:
        return sum(self.counts.values())

    @property
    def succeeded(self) -> int:
        return self.counts[EntityStatus.SUCCESS] + self.counts[EntityStatus.REQUEUED]

    @property
    def failed(self) -> int:
        return sum(self.counts[status] for status in ERROR_STATUSES)

    @property
    def skipped(self) -> int:
        return self.counts[EntityStatus.SKIPPED] + self.counts[EntityStatus.DRY_RUN]
