"""Identity links, the reference-data cache and encrypted connections on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from plentysync.clock import ManualClock
from plentysync.crypto import SecretBox
from plentysync.db import Database
from plentysync.db.tables import connection
from plentysync.engine.connections import ConnectionStore
from plentysync.engine.links import IdentityLinks, Link, content_hash
from plentysync.engine.refdata import ReferenceDataCache
from plentysync.errors import CredentialsError, NotFoundError, UsageError

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_links_upsert_resolve_both_ways(db: Database) -> None:
    links = IdentityLinks(db, chunk_size=3)
    await links.upsert([Link("sku", f"SKU-{n}", str(1000 + n), extra={"item_id": n}) for n in range(7)])
    await links.upsert([Link("sku", "SKU-1", "2001", extra={"item_id": 99}, source_hash="h1")])
    found = await links.resolve("sku", ["SKU-1", "SKU-6", "missing"])
    assert set(found) == {"SKU-1", "SKU-6"}
    assert (found["SKU-1"].plenty_key, found["SKU-1"].extra, found["SKU-1"].source_hash) == (
        "2001",
        {"item_id": 99},
        "h1",
    )
    by_plenty = await links.resolve_plenty("sku", ["1006", "2001"])
    assert {k: v.magento_key for k, v in by_plenty.items()} == {"1006": "SKU-6", "2001": "SKU-1"}
    assert await links.resolve("customer", ["SKU-1"]) == {}
    assert await links.count("sku") == 7
    assert await links.is_up_to_date("sku", "SKU-1", "h1")
    assert not await links.is_up_to_date("sku", "SKU-1", "h2")
    assert await links.delete("sku", ["SKU-0", "SKU-1"]) == 2
    assert await links.count() == 5


async def test_resolve_or_load_asks_the_loader_once_for_all_missing_keys(db: Database) -> None:
    links = IdentityLinks(db)
    await links.upsert([Link("sku", "A", "1")])
    asked: list[list[str]] = []

    async def loader(keys: list[str]) -> list[Link]:
        asked.append(keys)
        return [Link("sku", key, f"v-{key}") for key in keys if key != "unknown"]

    found = await links.resolve_or_load("sku", ["A", "B", "C", "unknown", "B"], loader)
    assert asked == [["B", "C", "unknown"]]
    assert {k: v.plenty_key for k, v in found.items()} == {"A": "1", "B": "v-B", "C": "v-C"}
    await links.resolve_or_load("sku", ["B", "C"], loader)
    assert len(asked) == 1  # now known: no second call
    assert content_hash({"b": 1, "a": [2]}) == content_hash({"a": [2], "b": 1})


async def test_reference_data_is_cached_per_connection_and_kind(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    store = ConnectionStore(db, SecretBox([Fernet.generate_key()]), clock)
    plenty = await store.save(
        "plenty", system="plenty", base_url="https://shop.plentymarkets-cloud01.com/", credentials={}
    )
    cache = ReferenceDataCache(db, clock)
    calls = 0

    async def collect() -> list[object]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return [{"id": 1, "name": "Main warehouse"}]

    entries = await asyncio.gather(*(cache.get_or_collect(plenty.id, "warehouses", collect) for _ in range(5)))
    assert calls == 1  # concurrent callers share one collection
    assert all(e.items == [{"id": 1, "name": "Main warehouse"}] for e in entries)
    clock.advance(timedelta(hours=2))
    await cache.get_or_collect(plenty.id, "warehouses", collect, max_age=timedelta(hours=3))
    assert calls == 1
    await cache.get_or_collect(plenty.id, "warehouses", collect, max_age=timedelta(hours=1))
    assert calls == 2
    assert set(await cache.kinds(plenty.id)) == {"warehouses"}
    assert await cache.clear(plenty.id) == 1
    assert await cache.get(plenty.id, "warehouses") is None


async def test_credentials_are_encrypted_at_rest_and_rotate(db: Database) -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    store = ConnectionStore(db, SecretBox([old_key]))
    await store.save(
        "plenty",
        system="plenty",
        base_url="https://example.plentymarkets-cloud01.com",
        credentials={"username": "api-user", "password": "s3cret-pa55"},
        options={"plenty_id": 12345},
    )
    async with db.read() as conn:
        raw = (await conn.execute(select(connection.c.credentials))).scalar_one()
    assert "s3cret-pa55" not in raw
    assert "api-user" not in raw
    loaded = await store.get("plenty")
    assert loaded.credentials["password"].get_secret_value() == "s3cret-pa55"
    assert "s3cret" not in repr(loaded)
    assert loaded.options == {"plenty_id": 12345}

    # rotation: new key first, old key as fallback, re-encrypt, then the old key can go
    rotating = ConnectionStore(db, SecretBox([new_key, old_key]))
    assert await rotating.rotate(dry_run=True) == 1
    assert await rotating.rotate() == 1
    only_new = ConnectionStore(db, SecretBox([new_key]))
    assert (await only_new.get("plenty")).credentials["username"].get_secret_value() == "api-user"
    with pytest.raises(CredentialsError, match="secret_key_fallbacks"):
        await ConnectionStore(db, SecretBox([old_key])).get("plenty")


async def test_connection_input_is_checked(db: Database) -> None:
    store = ConnectionStore(db, SecretBox([Fernet.generate_key()]))
    with pytest.raises(UsageError, match="unknown system"):
        await store.save("x", system="shopware", base_url="https://x", credentials={})
    with pytest.raises(UsageError, match="http"):
        await store.save("x", system="magento", base_url="ftp://x", credentials={})
    for blank in ("", "   ", "\t"):
        with pytest.raises(UsageError, match="must not be empty"):
            await store.save(blank, system="magento", base_url="https://x", credentials={})
    with pytest.raises(NotFoundError):
        await store.get("nope")
    await store.save("m", system="magento", base_url="https://shop.example/", credentials={"token": "t"})
    assert await store.names() == ["m"]
    assert (await store.get("m")).base_url == "https://shop.example"
    assert await store.delete("m")
