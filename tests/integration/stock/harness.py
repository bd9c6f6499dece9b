"""A fluent builder for stock scenarios: both sandboxes served on loopback, stored connections to them,
the stock profile(s) configured, and helpers that change and read the sandboxes' state directly (what a
shop operator or a channel sale would do), so tests read back what the connector wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from plentysync.db import Database
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.services import Engine
from plentysync.sandbox.apps import SandboxPair, build_sandbox
from plentysync.sandbox.faults import FaultRule
from plentysync.sandbox.plenty import PlentySandboxConfig
from plentysync.sandbox.plenty import stock as plenty_stock
from plentysync.sandbox.server import RunningServer, serving
from plentysync.sandbox.wiring import SOURCE_WAREHOUSES, save_sandbox_connections
from plentysync.settings import Settings
from plentysync.sync import register_all
from plentysync.sync.stock.config import EXPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.resources import StockRuntime, open_runtime
from plentysync.sync.stock.store import StockStore


@dataclass
class StockScenario:
    engine: Engine
    pair: SandboxPair
    plenty_server: RunningServer
    magento_server: RunningServer
    store: StockStore

    # -- the sandboxes' state ------------------------------------------------------------------

    def variation_id(self, sku: str) -> int:
        found = self.pair.plenty_state.variation_by_number(sku)
        assert found is not None, f"no PlentyONE variation {sku}"
        return int(found["id"])

    def plenty_physical(self, sku: str, warehouse_id: int) -> float:
        return self.pair.plenty_state.stock_of(self.variation_id(sku), warehouse_id).physical

    def set_plenty(self, sku: str, warehouse_id: int, quantity: float) -> None:
        """Set PlentyONE's physical stock directly (as before the scenario starts)."""
        plenty_stock.correct(self.pair.plenty_state, self.variation_id(sku), warehouse_id, 0, quantity, 302)

    def channel_sale(self, sku: str, warehouse_id: int, quantity: float) -> None:
        """An Amazon/eBay sale booked in PlentyONE that Magento never hears about (reason 201)."""
        plenty_stock.book_delta(self.pair.plenty_state, self.variation_id(sku), warehouse_id, 0, -quantity, 201)

    def magento_qty(self, sku: str, source: str = "default") -> float | None:
        item = self.pair.magento_state.source_item(sku, source)
        return None if item is None else float(item["quantity"])

    def set_magento(self, sku: str, source: str, quantity: float) -> None:
        self.pair.magento_state.set_source_item(sku, source, quantity, 1 if quantity > 0 else 0)

    def delete_magento(self, sku: str, source: str) -> None:
        self.pair.magento_state.source_items.pop((sku, source), None)

    def our_movements(self, sku: str, warehouse_id: int | None = None) -> list[dict[str, Any]]:
        """PlentyONE's movement log for the SKU, without the channel sales and direct settings."""
        return [
            m
            for m in self.pair.plenty_state.movements_of(self.variation_id(sku), warehouse_id)
            if m["reason"] not in (201, 302)
        ]

    def stock_skus(self, count: int, *, sources: int | None = None) -> list[str]:
        """Simple products known to both systems (with exactly ``sources`` source items if given)."""
        state, plenty = self.pair.magento_state, self.pair.plenty_state
        found = []
        for sku, product in sorted(state.products.items()):
            if product.get("type_id") != "simple" or plenty.variation_by_number(sku) is None:
                continue
            held = [code for (s, code) in state.source_items if s == sku]
            if sources is not None and len(held) != sources:
                continue
            found.append(sku)
            if len(found) == count:
                return found
        raise AssertionError(f"the catalog has fewer than {count} such SKUs")

    def writes(self, route_part: str = "/stock/") -> int:
        """PlentyONE write calls recorded so far whose path contains ``route_part``."""
        recorder = self.pair.recorder
        assert recorder is not None
        return sum(
            1 for x in recorder.exchanges() if x.system == "plenty" and x.method != "GET" and route_part in x.path
        )

    # -- the connector ---------------------------------------------------------------------------

    async def configure(self, type_id: str = EXPORT_TYPE_ID, **config: Any) -> None:
        base: dict[str, Any] = {"main_warehouse_id": 1, "stock_source_mapping": dict(SOURCE_WAREHOUSES)}
        record = await self.engine.profiles.find(type_id)
        if record is None:
            await self.engine.profiles.create(type_id, config={**base, **config})
        else:
            await self.engine.profiles.update_config(record.id, {**base, **config})

    async def export_config(self) -> StockExportConfig:
        record = await self.engine.profiles.find(EXPORT_TYPE_ID)
        assert record is not None, "configure the export profile first"
        config = self.engine.profiles.typed_config(record)
        assert isinstance(config, StockExportConfig)
        return config

    @asynccontextmanager
    async def export_runtime(self) -> AsyncIterator[StockRuntime]:
        """The export profile's runtime outside a run (producers, drift), as the CLI builds it."""
        config = await self.export_config()
        async with open_runtime(self.engine.db, self.engine.settings, config, EXPORT_TYPE_ID, self.engine.links) as rt:
            yield rt

    async def export(self, *skus: str, reason: str = "manual", **options: Any) -> RunReport:
        if skus:
            await self.engine.queue.enqueue(EXPORT_TYPE_ID, list(skus), reason=reason)
        return await self.run(EXPORT_TYPE_ID, **options)

    async def run(self, type_id: str, **options: Any) -> RunReport:
        runner = ProfileRunner(self.engine)
        return await runner.run(type_id, trigger="manual", options=RunOptions(force=True, **options))

    async def drain(self, type_id: str = EXPORT_TYPE_ID, *, runs: int = 20) -> list[RunReport]:
        """Run until the profile has no pending rows left (retries included)."""
        reports: list[RunReport] = []
        for _ in range(runs):
            if not await self.engine.queue.count(type_id, statuses=("pending", "processing")):
                return reports
            await self.engine.queue.recover_expired(type_id)
            reports.append(await self.run(type_id))
        raise AssertionError(f"{type_id} still has pending rows after {runs} runs")


@dataclass
class StockScenarioBuilder:
    """``async with StockScenarioBuilder(db).with_faults(...).build() as s: ...``"""

    db: Database
    size: int = 1
    faults: list[FaultRule] = field(default_factory=list)
    plenty_config: PlentySandboxConfig = field(default_factory=PlentySandboxConfig)
    settings: dict[str, Any] = field(default_factory=dict)

    def sized(self, size: int) -> StockScenarioBuilder:
        return replace(self, size=size)

    def with_faults(self, *rules: FaultRule) -> StockScenarioBuilder:
        """Faults of the PlentyONE sandbox."""
        return replace(self, faults=[*self.faults, *rules])

    def with_plenty(self, **config: Any) -> StockScenarioBuilder:
        return replace(self, plenty_config=replace(self.plenty_config, **config))

    def with_settings(self, **settings: Any) -> StockScenarioBuilder:
        return replace(self, settings={**self.settings, **settings})

    @asynccontextmanager
    async def build(self, tmp_path: Any = None) -> AsyncIterator[StockScenario]:
        settings = Settings(
            **{
                "queue": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.01},
                "http": {"max_attempts": 3},
                **self.settings,
            }
        )
        pair = build_sandbox(size=self.size, record=True, plenty_config=self.plenty_config)
        for rule in self.faults:
            pair.plenty_faults.add(rule)
        engine = Engine.build(self.db, register_all(ProfileRegistry()), settings)
        with ExitStack() as stack:
            plenty_server = stack.enter_context(serving(pair.plenty_app))
            magento_server = stack.enter_context(serving(pair.magento_app))
            await save_sandbox_connections(
                self.db, settings, plenty_url=plenty_server.url, magento_url=magento_server.url
            )
            yield StockScenario(engine, pair, plenty_server, magento_server, StockStore(self.db))


def pending_bookings(rows: Sequence[Any]) -> list[Any]:
    return [row for row in rows if row.status == "pending"]
