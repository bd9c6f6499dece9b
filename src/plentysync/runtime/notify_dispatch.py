"""Sending notifications: criticals at once, everything else in a digest per interval, on each
configured channel (email, webhook).

Each channel keeps its own record of what it carried (``emailed_at`` / ``webhook_at``) and its own
digest clock in ``sync_state``, so a broken webhook neither blocks nor repeats the emails. Rows are
claimed before sending (see :mod:`plentysync.runtime.notification_store`) and given back when the
send fails; the digest clock is advanced by compare-and-set before the digest is built, and put back
when it could not be sent. Several workers can therefore call :meth:`Dispatcher.dispatch` at once
without sending anything twice. A process that dies between claiming and sending loses that one
message (the rows stay on record and in ``notifications list``); sending twice is the worse failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, or_

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.tables import notification as n
from plentysync.log import get_logger
from plentysync.runtime.mailer import DeliveryError, Mailer
from plentysync.runtime.notification_store import Channel, NotificationRecord, NotificationStore
from plentysync.runtime.notify_format import Rendered, as_chat_text, render_digest, render_immediate, render_test
from plentysync.runtime.outbound_webhook import WebhookPoster
from plentysync.runtime.severity import CRITICAL, level_of
from plentysync.runtime.state_cell import StateCell
from plentysync.settings import NotificationSettings

log = get_logger(__name__)

IMMEDIATE_MAX = 10
"""Criticals mailed one by one per dispatch and channel; more wait for the next dispatch (a storm
of criticals must not become a storm of emails)."""
IMMEDIATE_WINDOW = timedelta(hours=24)
"""Criticals older than this (e.g. recorded while email was off) go in the digest, not one by one."""
DIGEST_MAX = 10_000
"""Rows one digest carries at most; the rest go in the next."""

DeliveryKind = Literal["immediate", "digest", "test"]


@dataclass
class Delivery:
    channel: Channel
    kind: DeliveryKind
    notification_ids: list[int]
    subject: str
    sent: bool
    """False in a dry run and when sending failed."""
    error: str | None = None
    refused: list[str] = field(default_factory=list)
    """Recipients the mail server refused while accepting the message for the others."""
    body: str | None = None
    """Only in a dry run (the preview)."""


@dataclass
class DispatchReport:
    dry_run: bool = False
    deliveries: list[Delivery] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.error is not None]

    @property
    def ok(self) -> bool:
        return not self.failures

    def sent_ids(self, channel: Channel) -> set[int]:
        return {i for d in self.deliveries if d.sent and d.channel == channel for i in d.notification_ids}


class Dispatcher:
    def __init__(
        self,
        db: Database,
        settings: NotificationSettings,
        clock: Clock,
        *,
        store: NotificationStore | None = None,
        mailer: Mailer | None = None,
        poster: WebhookPoster | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.store = store or NotificationStore(db)
        self.mailer = mailer or Mailer(settings.smtp)
        self.poster = poster or (WebhookPoster(settings.webhook_url) if settings.webhook_url is not None else None)

    def channels(self) -> list[Channel]:
        channels: list[Channel] = []
        if self.settings.email_enabled and self.settings.recipients:
            channels.append("email")
        if self.poster is not None:
            channels.append("webhook")
        return channels

    async def dispatch(self, *, force_digest: bool = False, dry_run: bool = False) -> DispatchReport:
        report = DispatchReport(dry_run=dry_run)
        if not self.settings.enabled:
            report.notes.append("notifications are off (notifications.enabled)")
            return report
        channels = self.channels()
        if not channels:
            report.notes.append("no channel configured (notifications.email_enabled, notifications.webhook_url)")
        for channel in channels:
            if self.settings.real_time_critical:
                await self._immediate(channel, report, dry_run)
            await self._digest(channel, report, force=force_digest, dry_run=dry_run)
        return report

    async def send_test(self) -> DispatchReport:
        """A test message on every configured channel (nothing is recorded or claimed)."""
        report = DispatchReport()
        channels = self.channels()
        if not channels:
            report.notes.append("no channel configured (notifications.email_enabled, notifications.webhook_url)")
        for channel in channels:
            report.deliveries.append(await self._send(channel, "test", render_test(), []))
        return report

    # -- at once ----------------------------------------------------------------------------------

    def _immediate_where(self, now: datetime) -> list[ColumnElement[bool]]:
        return [n.c.level >= CRITICAL, n.c.created_at >= now - IMMEDIATE_WINDOW]

    async def _immediate(self, channel: Channel, report: DispatchReport, dry_run: bool) -> None:
        now = self.clock.now()
        where = self._immediate_where(now)
        if dry_run:
            for item in await self.store.pending(channel, where, limit=IMMEDIATE_MAX):
                rendered = render_immediate(item)
                report.deliveries.append(
                    Delivery(channel, "immediate", [item.id], rendered.subject, sent=False, body=rendered.body)
                )
            return
        items = await self.store.claim(channel, where, now, limit=IMMEDIATE_MAX)
        for index, item in enumerate(items):
            delivery = await self._send(channel, "immediate", render_immediate(item), [item.id])
            report.deliveries.append(delivery)
            if delivery.error is not None:
                # the channel is down: give this one and the rest back for the next dispatch
                await self.store.release(channel, [i.id for i in items[index:]])
                break

    # -- digest -----------------------------------------------------------------------------------

    def _digest_where(self, now: datetime) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [n.c.level >= level_of(self.settings.email_threshold)]
        if self.settings.real_time_critical:
            where.append(or_(n.c.level < CRITICAL, n.c.created_at < now - IMMEDIATE_WINDOW))
        return where

    async def _digest(self, channel: Channel, report: DispatchReport, *, force: bool, dry_run: bool) -> None:
        now = self.clock.now()
        interval = timedelta(minutes=self.settings.batch_interval_minutes)
        cell = StateCell(self.db, self.clock, f"notifications.digest.{channel}")
        seen = await cell.read()
        last = _last_digest(seen.value)
        if not force and last is not None and now - last < interval:
            report.notes.append(f"{channel} digest not due before {(last + interval).isoformat()}")
            return
        where = self._digest_where(now)
        if not await self.store.has_pending(channel, where):
            return
        if dry_run:
            items = await self.store.pending(channel, where, limit=DIGEST_MAX)
            rendered = render_digest(items, last, now)
            report.deliveries.append(
                Delivery(channel, "digest", [i.id for i in items], rendered.subject, sent=False, body=rendered.body)
            )
            return
        won = await cell.swap(seen, {"last_digest_at": now.isoformat()})
        if won is None:
            report.notes.append(f"{channel} digest: another process is sending it")
            return
        items = await self.store.claim(channel, where, now, limit=DIGEST_MAX)
        if not items:
            await cell.swap(won, seen.value)  # someone else took the rows: nothing went out
            return
        ids = [i.id for i in items]
        delivery = await self._send(channel, "digest", render_digest(items, last, now), ids)
        report.deliveries.append(delivery)
        if delivery.error is None:
            await self.store.mark_digested(ids, now)
        else:
            await self.store.release(channel, ids)
            await cell.swap(won, seen.value)  # not sent: the next dispatch tries again at once

    # -- the channels -----------------------------------------------------------------------------

    async def _send(self, channel: Channel, kind: DeliveryKind, rendered: Rendered, ids: Sequence[int]) -> Delivery:
        delivery = Delivery(channel, kind, list(ids), rendered.subject, sent=False)
        send: Callable[[], Awaitable[Any]]
        if channel == "email":

            async def send() -> Any:
                return await self.mailer.send(rendered.subject, rendered.body, self.settings.recipients)

        else:
            poster = self.poster
            assert poster is not None

            async def send() -> Any:
                await poster.post(as_chat_text(rendered))
                return []

        try:
            refused = await send()
        except DeliveryError as exc:
            delivery.error = str(exc)
        except Exception as exc:  # a bug must not stop the worker; no traceback: its frames hold secrets
            delivery.error = f"unexpected {type(exc).__name__} while sending"
        else:
            delivery.sent = True
            delivery.refused = list(refused or [])
        if delivery.error is not None:
            log.error("notify.send_failed", channel=channel, kind=kind, notifications=len(ids), error=delivery.error)
        else:
            log.info("notify.sent", channel=channel, kind=kind, notifications=len(ids))
            if delivery.refused:
                log.warning("notify.recipients_refused", channel=channel, refused=delivery.refused)
        return delivery


def _last_digest(value: Any) -> datetime | None:
    if isinstance(value, dict) and isinstance(value.get("last_digest_at"), str):
        return datetime.fromisoformat(value["last_digest_at"])
    return None


__all__ = ["Delivery", "DispatchReport", "Dispatcher", "NotificationRecord"]
