"""The engine's services wired to one database, for the CLI, the worker and tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.engine.history import RunHistory
from plentysync.engine.links import IdentityLinks
from plentysync.engine.profiles import ProfileService
from plentysync.engine.queue import CoalescingQueue, QueuePolicy
from plentysync.engine.refdata import ReferenceDataCache
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.schedule import ScheduleLimits, ScheduleService
from plentysync.settings import Settings


@dataclass
class Engine:
    db: Database
    registry: ProfileRegistry
    clock: Clock
    profiles: ProfileService
    queue: CoalescingQueue
    history: RunHistory
    links: IdentityLinks
    refdata: ReferenceDataCache
    schedules: ScheduleService
    history_lifetime: timedelta
    settings: Settings

    @classmethod
    def build(
        cls,
        db: Database,
        registry: ProfileRegistry,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
    ) -> Engine:
        settings = settings or Settings()
        clock = clock or db.clock
        q, s = settings.queue, settings.schedule
        policy = QueuePolicy(
            lease_seconds=q.lease_seconds,
            max_attempts=q.max_attempts,
            backoff_base_seconds=q.backoff_base_seconds,
            backoff_max_seconds=q.backoff_max_seconds,
        )
        limits = ScheduleLimits(
            schedule_ahead_for=timedelta(minutes=s.schedule_ahead_for_minutes),
            schedule_lifetime=timedelta(minutes=s.schedule_lifetime_minutes),
            history_success_lifetime=timedelta(minutes=s.history_success_lifetime_minutes),
            history_failure_lifetime=timedelta(minutes=s.history_failure_lifetime_minutes),
        )
        return cls(
            db=db,
            registry=registry,
            clock=clock,
            profiles=ProfileService(db, registry, clock),
            queue=CoalescingQueue(db, policy=policy, clock=clock),
            history=RunHistory(db, clock),
            links=IdentityLinks(db, clock),
            refdata=ReferenceDataCache(db, clock),
            schedules=ScheduleService(db, clock, limits),
            history_lifetime=timedelta(days=settings.history_lifetime_days),
            settings=settings,
        )
