"""Stored connections pointing at a running sandbox pair, as `plentysync demo`, the stock tests and the
benchmarks need them (the sandbox's well-known credentials, never real ones)."""

from __future__ import annotations

from plentysync.crypto import SecretBox
from plentysync.db import Database
from plentysync.engine.connections import ConnectionStore
from plentysync.sandbox.magento import MagentoSandboxConfig
from plentysync.sandbox.plenty import PlentySandboxConfig
from plentysync.settings import Settings

SOURCE_WAREHOUSES = {"default": 1, "berlin": 2, "hamburg": 3}
"""How the seed catalog's MSI sources and PlentyONE warehouses correspond."""


async def save_sandbox_connections(
    db: Database,
    settings: Settings,
    *,
    plenty_url: str,
    magento_url: str,
    plenty: PlentySandboxConfig | None = None,
    magento: MagentoSandboxConfig | None = None,
    plenty_name: str = "plenty",
    magento_name: str = "magento",
) -> tuple[int, int]:
    """Store (or update) the two connections; returns their ids."""
    plenty = plenty or PlentySandboxConfig()
    magento = magento or MagentoSandboxConfig()
    store = ConnectionStore(db, SecretBox.from_settings(settings))
    p = await store.save(
        plenty_name,
        system="plenty",
        base_url=plenty_url,
        credentials={"username": plenty.username, "password": plenty.password},
    )
    m = await store.save(
        magento_name,
        system="magento",
        base_url=magento_url,
        credentials={
            "consumer_key": magento.consumer_key,
            "consumer_secret": magento.consumer_secret,
            "access_token": magento.access_token,
            "access_token_secret": magento.access_token_secret,
        },
        options={"auth": "oauth", "store_code": "default"},
    )
    return p.id, m.id
