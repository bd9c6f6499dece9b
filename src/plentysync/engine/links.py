"""Identity links between Magento and PlentyONE records: SKU ↔ variation (+ item id), customer ↔
contact (+ address ids), order ↔ order (+ payment, address and contact ids), category ↔ category.

Lookups are bulk: :meth:`IdentityLinks.resolve_or_load` reads what the table knows and asks a loader
once for everything missing (one API call for a batch, never one per SKU).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.dialect import chunked, upsert
from plentysync.db.tables import entity_link as t


@dataclass(frozen=True)
class Link:
    entity: str
    magento_key: str
    plenty_key: str
    extra: dict[str, Any] = field(default_factory=dict)
    source_hash: str | None = None
    synced_at: datetime | None = None


def content_hash(data: Any) -> str:
    """A stable hash of JSON-able data: store it with a link to skip records that did not change."""
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


class IdentityLinks:
    def __init__(self, db: Database, clock: Clock | None = None, *, chunk_size: int = 500) -> None:
        self.db = db
        self.clock: Clock = clock or db.clock
        self.chunk_size = chunk_size

    async def upsert(self, links: Sequence[Link]) -> int:
        """Insert or update links (keyed by entity + Magento key)."""
        if not links:
            return 0
        now = self.clock.now()
        rows = {
            (link.entity, link.magento_key): {
                "entity": link.entity,
                "magento_key": link.magento_key,
                "plenty_key": link.plenty_key,
                "extra": link.extra or None,
                "source_hash": link.source_hash,
                "synced_at": link.synced_at or now,
                "created_at": now,
                "updated_at": now,
            }
            for link in links
        }
        values = list(rows.values())
        for chunk in chunked(values, self.chunk_size):
            stmt = upsert(
                self.db.backend,
                t,
                list(chunk),
                ["entity", "magento_key"],
                lambda new: [
                    (column, new(column))
                    for column in (
                        "plenty_key",
                        "extra",
                        "source_hash",
                        "synced_at",
                        "updated_at",
                    )
                ],
            )
            async with self.db.begin() as conn:
                await conn.execute(stmt)
        return len(values)

    async def resolve(self, entity: str, magento_keys: Iterable[str]) -> dict[str, Link]:
        """Links for the given Magento keys; keys without a link are absent from the result."""
        return await self._lookup(entity, t.c.magento_key, list(dict.fromkeys(magento_keys)))

    async def resolve_plenty(self, entity: str, plenty_keys: Iterable[str]) -> dict[str, Link]:
        """Links for the given PlentyONE keys, keyed by PlentyONE key."""
        found = await self._lookup(entity, t.c.plenty_key, list(dict.fromkeys(plenty_keys)))
        return {link.plenty_key: link for link in found.values()}

    async def _lookup(self, entity: str, column: Any, keys: list[str]) -> dict[str, Link]:
        result: dict[str, Link] = {}
        async with self.db.read() as conn:
            for chunk in chunked(keys, self.chunk_size):
                query = select(t).where(t.c.entity == entity, column.in_(chunk))
                for row in (await conn.execute(query)).all():
                    result[row.magento_key] = Link(
                        entity=row.entity,
                        magento_key=row.magento_key,
                        plenty_key=row.plenty_key,
                        extra=row.extra or {},
                        source_hash=row.source_hash,
                        synced_at=row.synced_at,
                    )
        return result

    async def resolve_or_load(
        self,
        entity: str,
        magento_keys: Iterable[str],
        loader: Callable[[list[str]], Awaitable[Sequence[Link]]],
    ) -> dict[str, Link]:
        """Links for ``magento_keys``: from the table, and for the rest from ``loader`` (called at most
        once, with every missing key), whose answers are stored for next time."""
        keys = list(dict.fromkeys(magento_keys))
        known = await self.resolve(entity, keys)
        missing = [key for key in keys if key not in known]
        if missing:
            loaded = [link for link in await loader(missing) if link.entity == entity and link.magento_key in missing]
            await self.upsert(loaded)
            known.update({link.magento_key: link for link in loaded})
        return known

    async def is_up_to_date(self, entity: str, magento_key: str, source_hash: str) -> bool:
        """True if the record was last synced with exactly this content (nothing to send)."""
        link = (await self.resolve(entity, [magento_key])).get(magento_key)
        return link is not None and link.source_hash == source_hash

    async def delete(self, entity: str, magento_keys: Iterable[str]) -> int:
        total = 0
        for chunk in chunked(list(magento_keys), self.chunk_size):
            async with self.db.begin() as conn:
                total += (
                    await conn.execute(delete(t).where(t.c.entity == entity, t.c.magento_key.in_(chunk)))
                ).rowcount
        return total

    async def count(self, entity: str | None = None) -> int:
        query = select(func.count()).select_from(t)
        if entity is not None:
            query = query.where(t.c.entity == entity)
        async with self.db.read() as conn:
            return int((await conn.execute(query)).scalar_one())
