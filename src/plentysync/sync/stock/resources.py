"""What a stock run works with: both API clients (from the stored connections, with the profile's HTTP
overrides), the stock tables and the SKU resolver; and the reference-data check that runs before the
first batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from plentysync.clock import Clock
from plentysync.crypto import SecretBox
from plentysync.db import Database
from plentysync.engine.connections import ConnectionStore
from plentysync.engine.links import IdentityLinks
from plentysync.engine.pipeline import RunContext
from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.refdata import ReferenceDataCache
from plentysync.engine.registry import ProfileConfig
from plentysync.errors import ConfigError, NotFoundError, RemoteNotFoundError
from plentysync.magento import MagentoClient
from plentysync.plenty import PlentyClient
from plentysync.settings import Settings
from plentysync.sync.clients import magento_client, plenty_client
from plentysync.sync.stock.config import StockProfileConfig, check_against_reference
from plentysync.sync.stock.resolver import VariationResolver
from plentysync.sync.stock.store import StockStore

RUNTIME = "stock"
"""Key of the :class:`StockRuntime` in ``ctx.extras``."""


@dataclass
class StockRuntime:
    plenty: PlentyClient
    magento: MagentoClient
    store: StockStore
    resolver: VariationResolver
    plenty_connection_id: int = 0
    magento_connection_id: int = 0
    checked: bool = False


def runtime(ctx: RunContext) -> StockRuntime:
    found = ctx.extras.get(RUNTIME)
    if not isinstance(found, StockRuntime):
        raise ConfigError("the stock profile's API clients were not set up for this run")
    return found


def _profile_settings(settings: Settings, config: StockProfileConfig) -> Settings:
    http = settings.http.model_copy(
        update={
            key: value
            for key, value in (
                ("read_timeout_seconds", config.http.read_timeout_seconds),
                ("max_attempts", config.http.max_attempts),
                ("log_requests", config.http.log_requests),
            )
            if value is not None
        }
    )
    return settings.model_copy(update={"http": http})


@asynccontextmanager
async def open_clients(
    db: Database, settings: Settings, config: StockProfileConfig, profile: str
) -> AsyncIterator[tuple[PlentyClient, MagentoClient, int, int]]:
    """Both clients from the stored connections named in the profile (closed on exit)."""
    connections = ConnectionStore(db, SecretBox.from_settings(settings))
    effective = _profile_settings(settings, config)
    try:
        plenty_conn = await connections.get(config.plenty_connection)
        magento_conn = await connections.get(config.magento_connection)
    except NotFoundError as exc:
        raise ConfigError(
            f"{exc}; add it with `plentysync connection add` or set plenty_connection / magento_connection"
        ) from None
    async with AsyncExitStack() as stack:
        plenty = await stack.enter_async_context(plenty_client(plenty_conn, effective, profile=profile, db=db))
        magento = await stack.enter_async_context(magento_client(magento_conn, effective, profile=profile))
        yield plenty, magento, plenty_conn.id, magento_conn.id


@asynccontextmanager
async def open_runtime(
    db: Database,
    settings: Settings,
    config: StockProfileConfig,
    profile: str,
    links: IdentityLinks,
    clock: Clock | None = None,
) -> AsyncIterator[StockRuntime]:
    """Both clients, the stock tables and the resolver: for a run (:func:`stock_resources`) and outside one
    (the CLI's add, drift and poll commands, the producers)."""
    async with open_clients(db, settings, config, profile) as (plenty, magento, pid, mid):
        store = StockStore(db, clock)
        yield StockRuntime(plenty, magento, store, VariationResolver(links, plenty, store), pid, mid)


def stock_resources(ctx: RunContext, settings: Settings) -> Any:
    """The profile type's ``open_resources``: skipped when the caller injected a runtime."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[dict[str, Any]]:
        injected = ctx.extras.get(RUNTIME)
        if isinstance(injected, StockRuntime):
            injected.checked = False  # a shared runtime: check the configuration again for this run
            yield {}
            return
        config = ctx.config
        assert isinstance(config, StockProfileConfig)
        async with open_runtime(ctx.queue.db, settings, config, ctx.profile.type_id, ctx.links, ctx.clock) as rt:
            yield {RUNTIME: rt}

    return opened()


def shared_stock_resources(
    db: Database,
    settings: Settings,
    record: ProfileRecord,
    config: ProfileConfig,
    links: IdentityLinks,
    clock: Clock,
) -> Any:
    """The profile types' ``shared_resources``: one runtime (logged-in clients) a worker keeps across runs."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[dict[str, Any]]:
        assert isinstance(config, StockProfileConfig)
        async with open_runtime(db, settings, config, record.type_id, links, clock) as rt:
            yield {RUNTIME: rt}

    return opened()


async def check_reference(rt: StockRuntime, refdata: ReferenceDataCache, config: StockProfileConfig) -> None:
    """Collect (or reuse, while younger than ``reference_max_age_hours``) PlentyONE's warehouses and
    Magento's MSI sources, and check the configuration against them. Once per run."""
    if rt.checked:
        return
    max_age = timedelta(hours=config.reference_max_age_hours)

    async def warehouses() -> list[Any]:
        return [{"id": w.id, "name": w.name} for w in await rt.plenty.reference.warehouses()]

    async def sources() -> list[Any]:
        try:
            return [{"source_code": s.source_code, "name": s.name} async for s in rt.magento.inventory.sources()]
        except RemoteNotFoundError:
            return [{"msi": False}]

    wh = await refdata.get_or_collect(rt.plenty_connection_id, "plenty.warehouses", warehouses, max_age=max_age)
    src = await refdata.get_or_collect(rt.magento_connection_id, "magento.sources", sources, max_age=max_age)
    codes = None if any(s.get("msi") is False for s in src.items) else [s["source_code"] for s in src.items]
    check_against_reference(config, warehouse_ids=[w["id"] for w in wh.items], source_codes=codes)
    rt.checked = True
