"""PlentyONE sessions kept in the state database (table ``plenty_session``), one row per login.

PlentyONE caps the concurrent sessions of a back-end user (three by default) and a token lives a day. A
process that dies without logging out (SIGKILL, OOM, a power cut) leaves its session counted against the
cap; three such deaths and every process fails with ``too_many_concurrent_sessions`` until the tokens
expire. With its sessions in the database, the next process that needs a login first takes over a session
a dead process left (no login at all) and revokes the other dead ones, so the cap frees itself.

A holder is dead when it ran on this host and its process is gone, or when its lease (renewed while the
session is in use) ran out: only the lease can tell for another host. A session taken over from a holder
that was merely idle still works for both (a token is valid for any caller); whichever renews it next
and finds the row no longer its own stops tracking it, and a later refresh or login heals the other.

Tokens are encrypted with the secret key (:class:`plentysync.crypto.SecretBox`); a row that cannot be
decrypted (the key changed) is dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.fernet import InvalidToken
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.db.engine import Database
from plentysync.db.tables import plenty_session as t
from plentysync.errors import PlentysyncError
from plentysync.log import get_logger
from plentysync.procs import holder_gone, process_id

log = get_logger(__name__)

DEFAULT_LEASE_SECONDS = 900.0
TAKE_OVER_MIN_LIFETIME = 120.0
"""A dead session whose token expires sooner than this is revoked rather than taken over."""


class Cipher(Protocol):
    def encrypt(self, plaintext: bytes) -> str: ...

    def decrypt(self, token: str) -> bytes: ...


@dataclass(frozen=True)
class StoredSession:
    id: int
    access: str
    refresh: str | None
    expires_in: float
    """Seconds until the access token expires."""
    holder: str


@dataclass(frozen=True)
class TakeOver:
    session: StoredSession | None
    """The session this process now holds, or None."""
    revoke: list[StoredSession]
    """Other sessions of dead processes, already removed from the table: log them out."""


class DbSessionStore:
    """The sessions of one PlentyONE account (``base_url|username``) for one client of this process."""

    def __init__(self, db: Database, cipher: Cipher, account: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS):
        self.db = db
        self.cipher = cipher
        self.account = account
        self.lease = timedelta(seconds=lease_seconds)
        self.lease_seconds = lease_seconds
        self.holder = f"{process_id()}:{uuid.uuid4().hex[:8]}"

    def _now(self) -> datetime:
        return self.db.clock.now()

    def _decrypt(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.decrypt(value).decode()

    def _encrypt(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.encrypt(value.encode())

    async def take_over(self) -> TakeOver:
        async def work(conn: AsyncConnection) -> TakeOver:
            now = self._now()
            query = select(t).where(t.c.account == self.account).order_by(t.c.expires_at.desc())
            if self.db.backend != "sqlite":
                query = query.with_for_update()
            rows = (await conn.execute(query)).all()
            dead: list[StoredSession] = []
            drop: list[int] = []
            for row in rows:
                if row.holder == self.holder or not (holder_gone(row.holder) or row.lease_expires_at < now):
                    continue
                drop.append(row.id)
                left = (row.expires_at - now).total_seconds()
                if left <= 0:
                    continue  # expired: nothing to revoke
                try:
                    access = self._decrypt(row.access_token)
                    refresh = self._decrypt(row.refresh_token)
                except (PlentysyncError, InvalidToken, ValueError):  # the secret key changed
                    continue
                assert access is not None
                dead.append(StoredSession(row.id, access, refresh, left, row.holder))
            chosen = next((s for s in dead if s.expires_in >= TAKE_OVER_MIN_LIFETIME), None)
            if chosen is not None:
                drop.remove(chosen.id)
                await conn.execute(
                    update(t)
                    .where(t.c.id == chosen.id)
                    .values(holder=self.holder, lease_expires_at=now + self.lease, updated_at=now)
                )
            if drop:
                await conn.execute(delete(t).where(t.c.id.in_(drop)))
            return TakeOver(chosen, [s for s in dead if s is not chosen])

        return await self.db.transact(work)

    async def save(self, session_id: int | None, access: str, refresh: str | None, expires_in: float) -> int:
        """Record this process's current token (after a login or refresh); the row id."""
        now = self._now()
        values: dict[str, Any] = {
            "access_token": self._encrypt(access),
            "refresh_token": self._encrypt(refresh),
            "expires_at": now + timedelta(seconds=expires_in),
            "lease_expires_at": now + self.lease,
            "updated_at": now,
        }

        async def work(conn: AsyncConnection) -> int:
            if session_id is not None:
                done = await conn.execute(
                    update(t).where(t.c.id == session_id, t.c.holder == self.holder).values(**values)
                )
                if done.rowcount:
                    return session_id
            result = await conn.execute(
                insert(t).values(account=self.account, holder=self.holder, created_at=now, **values)
            )
            new_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
            assert new_id is not None
            return int(new_id)

        return await self.db.transact(work)

    async def renew(self, session_id: int) -> bool:
        """Extend the lease; False when the row is no longer this process's (taken over, or removed)."""
        now = self._now()
        done = await self.db.write(
            update(t)
            .where(t.c.id == session_id, t.c.holder == self.holder)
            .values(lease_expires_at=now + self.lease, updated_at=now)
        )
        return bool(done.rowcount)

    async def forget(self, session_id: int) -> None:
        await self.db.write(delete(t).where(t.c.id == session_id, t.c.holder == self.holder))


async def live_sessions(db: Database, account: str | None = None) -> list[dict[str, Any]]:
    """The recorded sessions (without tokens), for status screens and tests."""
    query = select(t.c.id, t.c.account, t.c.holder, t.c.expires_at, t.c.lease_expires_at).order_by(t.c.id)
    if account is not None:
        query = query.where(t.c.account == account)
    async with db.read() as conn:
        return [dict(row._mapping) for row in (await conn.execute(query)).all()]
