"""Refuses an exact replay of a signed webhook request inside its replay window.

The signature check refuses a request signed too long ago; within the window a captured request
could be sent again. Each accepted (timestamp, signature) is remembered as a ``sync_state`` row whose
unique name makes the check atomic across every ``serve`` process sharing the database: the second
insert of the same name fails. Only a hash of the pair is stored. Rows are deleted once no request
carrying their timestamp could pass the signature check any more (twice the window: a timestamp may
be up to one window in the future).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.tables import sync_state

PREFIX = "webhook.seen."


def mark_name(timestamp: str, signature: str) -> str:
    """The ``sync_state`` name of one signed request (``signature`` as sent: ``sha256=<hex>``)."""
    digest = signature.strip().partition("=")[2].lower()
    return PREFIX + hashlib.sha256(f"{timestamp.strip()}.{digest}".encode()).hexdigest()


class ReplayGuard:
    def __init__(self, db: Database, clock: Clock, *, window_seconds: float) -> None:
        self.db = db
        self.clock = clock
        self.window = timedelta(seconds=window_seconds)
        self._last_prune = self.clock.now() - self.window

    async def first_time(self, timestamp: str, signature: str) -> bool:
        """Remember the request; False if it was seen before (a replay)."""
        await self._prune()
        stmt = insert(sync_state).values(name=mark_name(timestamp, signature), value=None, updated_at=self.clock.now())
        try:
            await self.db.write(stmt)
        except IntegrityError:
            return False
        return True

    async def forget(self, timestamp: str, signature: str) -> None:
        """Undo :meth:`first_time` when the request could not be processed, so a retry of the very same
        request is not refused as a replay."""
        await self.db.write(delete(sync_state).where(sync_state.c.name == mark_name(timestamp, signature)))

    async def _prune(self) -> None:
        current = self.clock.now()
        if current - self._last_prune < self.window:
            return
        self._last_prune = current
        cutoff = current - 2 * self.window
        await self.db.write(
            delete(sync_state).where(sync_state.c.name.startswith(PREFIX), sync_state.c.updated_at < cutoff)
        )
