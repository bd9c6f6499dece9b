"""Connections to Magento and PlentyONE. Credentials are stored encrypted (Fernet) and only ever
handed out as SecretStr values; listing a connection never shows them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy import delete, select, update

from plentysync.clock import Clock
from plentysync.crypto import SecretBox
from plentysync.db import Database
from plentysync.db.dialect import upsert
from plentysync.db.tables import connection as t
from plentysync.errors import NotFoundError, UsageError

System = Literal["magento", "plenty"]
SYSTEMS: tuple[System, ...] = ("magento", "plenty")
MAX_NAME = 64


def check_name(name: str) -> str:
    """A connection's name: not empty, no surrounding blanks, at most 64 characters."""
    if not name.strip():
        raise UsageError("a connection name must not be empty")
    if name != name.strip():
        raise UsageError(f"connection name {name!r} starts or ends with blanks")
    if len(name) > MAX_NAME:
        raise UsageError(f"connection name {name[:20]!r}... is longer than {MAX_NAME} characters")
    return name


@dataclass(frozen=True)
class Connection:
    id: int
    name: str
    system: str
    base_url: str
    options: dict[str, Any]
    credentials: dict[str, SecretStr]
    created_at: datetime
    updated_at: datetime

    @property
    def credential_names(self) -> list[str]:
        return sorted(self.credentials)


class ConnectionStore:
    def __init__(self, db: Database, box: SecretBox, clock: Clock | None = None) -> None:
        self.db = db
        self.box = box
        self.clock: Clock = clock or db.clock

    async def save(
        self,
        name: str,
        *,
        system: str,
        base_url: str,
        credentials: dict[str, str],
        options: dict[str, Any] | None = None,
    ) -> Connection:
        check_name(name)
        if system not in SYSTEMS:
            raise UsageError(f"unknown system {system!r}: use one of {', '.join(SYSTEMS)}")
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"base URL must start with http:// or https://, got {base_url!r}")
        now = self.clock.now()
        token = self.box.encrypt(json.dumps(credentials).encode()) if credentials else None
        row = {
            "name": name,
            "system": system,
            "base_url": base_url.rstrip("/"),
            "options": options or None,
            "credentials": token,
            "created_at": now,
            "updated_at": now,
        }
        stmt = upsert(
            self.db.backend,
            t,
            [row],
            ["name"],
            lambda new: [(c, new(c)) for c in ("system", "base_url", "options", "credentials", "updated_at")],
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)
        return await self.get(name)

    async def get(self, name: str) -> Connection:
        async with self.db.read() as conn:
            row = (await conn.execute(select(t).where(t.c.name == name))).first()
        if row is None:
            raise NotFoundError(f"no connection '{name}'")
        secrets: dict[str, SecretStr] = {}
        if row.credentials:
            plain = json.loads(self.box.decrypt(row.credentials))
            secrets = {key: SecretStr(str(value)) for key, value in plain.items()}
        return Connection(
            id=row.id,
            name=row.name,
            system=row.system,
            base_url=row.base_url,
            options=row.options or {},
            credentials=secrets,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def names(self) -> list[str]:
        async with self.db.read() as conn:
            return list((await conn.execute(select(t.c.name).order_by(t.c.name))).scalars().all())

    async def delete(self, name: str) -> bool:
        async with self.db.begin() as conn:
            return (await conn.execute(delete(t).where(t.c.name == name))).rowcount > 0

    async def rotate(self, *, dry_run: bool = False) -> int:
        """Re-encrypt every stored credential with the primary key; returns how many."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(t.c.id, t.c.credentials).where(t.c.credentials.is_not(None)))).all()
            for row in rows:
                rotated = self.box.rotate(row.credentials)
                if not dry_run:
                    await conn.execute(update(t).where(t.c.id == row.id).values(credentials=rotated))
        return len(rows)
