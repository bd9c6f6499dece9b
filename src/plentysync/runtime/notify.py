"""Notifications (seed 001, "email notifications for critical errors"): the one entry point.

``Notifier.notify`` records a notification; ``after_run`` grades a finished run; ``dispatch`` sends
(criticals at once, the rest in a digest, by email and to the outgoing webhook); ``clean`` applies
retention and the row cap. The worker calls ``after_run`` after every run and ``dispatch`` and
``clean`` on its timers; all three are safe to call from several processes at once.
"""

from __future__ import annotations

import json
from typing import Any

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.engine.runner import RunReport
from plentysync.log import get_logger, redact
from plentysync.runtime.notification_store import NotificationRecord, NotificationStore
from plentysync.runtime.notify_dispatch import Delivery, Dispatcher, DispatchReport
from plentysync.runtime.run_alerts import RunAlerts
from plentysync.runtime.severity import LEVELS, Severity, level_of, parse_severity
from plentysync.settings import NotificationSettings

log = get_logger(__name__)

TITLE_MAX = 255
KIND_MAX = 32


class Notifier:
    def __init__(self, db: Database, settings: NotificationSettings, clock: Clock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock: Clock = clock or db.clock
        self.store = NotificationStore(db)
        self.dispatcher = Dispatcher(db, settings, self.clock, store=self.store)
        self.alerts = RunAlerts(db, settings, self.clock, self.notify)

    async def notify(
        self,
        severity: Severity,
        kind: str,
        title: str,
        message: str,
        *,
        profile_type: str | None = None,
        run_id: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> int | None:
        """Record a notification; its id, or None when notifications are off or ``severity`` is
        below ``log_level``. Values under secret-looking keys in ``context`` are masked."""
        name = parse_severity(severity)
        level = LEVELS[name]
        if not self.settings.enabled or level < level_of(self.settings.log_level):
            return None
        values = {
            "severity": name,
            "level": level,
            "kind": kind[:KIND_MAX],
            "profile_type": profile_type,
            "run_id": run_id,
            "title": title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…",
            "message": message,
            "context": _jsonable(redact(context)) if context else None,
            "created_at": self.clock.now(),
        }
        notification_id = await self.store.add(values)
        log.info("notify.recorded", id=notification_id, severity=name, kind=kind, profile=profile_type)
        return notification_id

    async def after_run(self, report: RunReport) -> list[int]:
        """Record what a finished run raises (summary, credentials rejected, failing streak, error
        rows); the ids recorded."""
        return await self.alerts.after_run(report)

    async def dispatch(self, *, force_digest: bool = False, dry_run: bool = False) -> DispatchReport:
        """Send what is due; never raises for a channel that is down (see ``DispatchReport.failures``)."""
        return await self.dispatcher.dispatch(force_digest=force_digest, dry_run=dry_run)

    async def send_test(self) -> DispatchReport:
        return await self.dispatcher.send_test()

    async def clean(self, *, dry_run: bool = False) -> int:
        """Delete notifications past ``retention_days``, then the oldest beyond ``max_notifications``,
        in batches; how many were (or, with ``dry_run``, would be) deleted."""
        deleted = await self.store.clean(
            self.clock.now(),
            retention_days=self.settings.retention_days,
            max_rows=self.settings.max_notifications,
            dry_run=dry_run,
        )
        if deleted and not dry_run:
            log.info("notify.cleaned", deleted=deleted)
        return deleted


def _jsonable(value: Any) -> Any:
    """Context is stored as JSON: anything else (datetimes, decimals) becomes its text."""
    return json.loads(json.dumps(value, default=str))


__all__ = ["Delivery", "DispatchReport", "NotificationRecord", "Notifier"]
