"""The stock part of ``plentysync demo``: stock moving both ways between the two sandboxes, through the
real profiles, producers and API clients, with the numbers of seed 000's Workflow 4 on one SKU.

It uses its own connections (``sandbox-plenty`` / ``sandbox-magento``) and keeps the sandboxes' state in
``<data_dir>/sandbox/demo``, so running it again continues where it left off; it never touches stock
profiles that point at other connections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plentysync.cli.output import RichProgress
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.services import Engine
from plentysync.runtime.worker import Worker, WorkerOptions, WorkerStats
from plentysync.sandbox.apps import SandboxPair, build_sandbox
from plentysync.sandbox.plenty import stock as plenty_stock
from plentysync.sandbox.server import serving
from plentysync.sandbox.wiring import SOURCE_WAREHOUSES, save_sandbox_connections
from plentysync.sync.stock import drift, maintenance, producers
from plentysync.sync.stock.config import EXPORT_TYPE_ID, IMPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.resources import RUNTIME, StockRuntime, open_runtime
from plentysync.sync.stock.store import BaselineRow, StockStore

PLENTY_CONNECTION = "sandbox-plenty"
MAGENTO_CONNECTION = "sandbox-magento"
AMAZON_SALE_REASON = 201
STOCKTAKING_REASON = 302


def demo_state_dir(engine: Engine) -> Path:
    return engine.settings.data_dir / "sandbox" / "demo"


@dataclass
class StockDemo:
    """What the stock demo did, for the summary and ``--json``."""

    skipped: str | None = None
    sku: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def step(self, say: Callable[[str], None], text: str, **data: Any) -> None:
        self.steps.append({"step": text, **data})
        say(text)


def _profile_config(type_id: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "plenty_connection": PLENTY_CONNECTION,
        "magento_connection": MAGENTO_CONNECTION,
        "main_warehouse_id": 1,
        "stock_source_mapping": dict(SOURCE_WAREHOUSES),
    }
    if type_id == EXPORT_TYPE_ID:
        config["correction_mode"] = "delta"
    return config


async def _ensure_profiles(engine: Engine) -> str | None:
    """Create both stock profiles for the sandbox; None, or why the demo leaves them alone."""
    for type_id in (EXPORT_TYPE_ID, IMPORT_TYPE_ID):
        record = await engine.profiles.find(type_id)
        if record is None:
            await engine.profiles.create(type_id, config=_profile_config(type_id))
        elif record.config.get("plenty_connection") != PLENTY_CONNECTION:
            return f"profile {type_id} exists and points at connection '{record.config.get('plenty_connection')}'"
    return None


def _first_sku(pair: SandboxPair) -> str:
    """A simple product in both systems, stocked in the default source."""
    plenty = pair.plenty_state
    for sku, product in sorted(pair.magento_state.products.items()):
        if (
            product.get("type_id") == "simple"
            and plenty.variation_by_number(sku)
            and pair.magento_state.source_item(sku, "default")
        ):
            return sku
    raise RuntimeError("the sandbox catalog has no stocked simple product")


async def _run(engine: Engine, type_id: str, label: str, quiet: bool) -> RunReport:
    with RichProgress(label, enabled=not quiet) as progress:
        return await ProfileRunner(engine).run(
            type_id, trigger="manual", options=RunOptions(force=True), progress=progress
        )


async def run_stock_demo(engine: Engine, say: Callable[[str], None], *, quiet: bool, fresh: bool) -> StockDemo:
    demo = StockDemo()
    why = await _ensure_profiles(engine)
    if why is not None:
        demo.skipped = f"{why}; the stock demo leaves it alone"
        say(f"Stock demo skipped: {demo.skipped}.")
        return demo
    state_dir = demo_state_dir(engine)
    if fresh:
        for name in ("plenty.json", "magento.json"):
            (state_dir / name).unlink(missing_ok=True)
        await StockStore(engine.db).clear_all()
        for type_id in (EXPORT_TYPE_ID, IMPORT_TYPE_ID):
            await engine.queue.purge(type_id, everything=True)
    pair = build_sandbox(size=1, state_dir=state_dir)
    with serving(pair.plenty_app) as plenty_server, serving(pair.magento_app) as magento_server:
        await save_sandbox_connections(
            engine.db,
            engine.settings,
            plenty_url=plenty_server.url,
            magento_url=magento_server.url,
            plenty_name=PLENTY_CONNECTION,
            magento_name=MAGENTO_CONNECTION,
        )
        record = await engine.profiles.find(EXPORT_TYPE_ID)
        assert record is not None
        config = engine.profiles.typed_config(record)
        assert isinstance(config, StockExportConfig)
        sku = demo.sku = _first_sku(pair)
        variation = int((pair.plenty_state.variation_by_number(sku) or {})["id"])

        def plenty_qty() -> float:
            return pair.plenty_state.stock_of(variation, 1).physical

        def magento_qty() -> float:
            item = pair.magento_state.source_item(sku, "default")
            return float(item["quantity"]) if item else 0.0

        # Workflow 4's starting point for the SKU the demo follows, on every run: 10 units on both sides,
        # last pushed at 10 (day zero has passed)
        pair.magento_state.set_source_item(sku, "default", 10, 1)
        if plenty_qty() != 10:
            plenty_stock.correct(pair.plenty_state, variation, 1, 0, 10, STOCKTAKING_REASON)
        await StockStore(engine.db).set_baselines([BaselineRow(sku, 1, 10.0, "demo")])
        async with open_runtime(engine.db, engine.settings, config, EXPORT_TYPE_ID, engine.links) as rt:
            await producers.poll_source_items(rt, engine.queue)  # seeds the snapshot on the first run
            added = await producers.enqueue_products(rt, engine.queue, everything=True, reason="manual")
            report = await _run(engine, EXPORT_TYPE_ID, "Stock export (first push)", quiet)
            demo.step(
                say,
                f"7. Stock export, delta mode: queued {len(added.eligible)} stock products (skipped "
                f"{len(added.skipped)} parents); {report.run.succeeded} pushed, {report.run.skipped} already "
                f"up to date, {report.run.errors} not in PlentyONE (plentysync stock export --status error). "
                f"{sku}: Magento {magento_qty():g}, PlentyONE {plenty_qty():g} (warehouse 1).",
                run=report.run.id,
            )
            plenty_stock.book_delta(pair.plenty_state, variation, 1, 0, -3, AMAZON_SALE_REASON)
            item = pair.magento_state.source_item(sku, "default") or {}
            pair.magento_state.set_source_item(sku, "default", magento_qty() - 1, int(item.get("status", 1)))
            demo.step(
                say,
                f"8. Amazon sells 3 through PlentyONE (PlentyONE {plenty_qty():g}, Magento does not know); "
                f"Magento ships 1 (Magento {magento_qty():g}).",
            )
            polled = await producers.poll_source_items(rt, engine.queue)
            report = await _run(engine, EXPORT_TYPE_ID, "Stock export (delta)", quiet)
            demo.step(
                say,
                f"9. The source-item poller saw {len(polled.changed)} changed SKU(s); the export booked the "
                f"delta: {sku} PlentyONE {plenty_qty():g} (the channel sale is kept, absolute mode would "
                "have undone it).",
                run=report.run.id,
            )
            report = await _run(engine, IMPORT_TYPE_ID, "Stock import", quiet)
            demo.step(
                say,
                f"10. Stock import brought PlentyONE's stock to Magento: {report.run.succeeded} written, "
                f"{report.run.skipped} already equal. {sku}: Magento {magento_qty():g}.",
                run=report.run.id,
            )
            echo = await producers.poll_source_items(rt, engine.queue)
            swept = await drift.sweep(rt, engine.queue, config)
            report = await _run(engine, EXPORT_TYPE_ID, "Stock export (after import)", quiet)
            demo.step(
                say,
                f"11. No echo: the poller saw {len(echo.changed)} changes after the import and the next export "
                f"made {report.run.succeeded} bookings; the drift sweep compared {swept.compared} SKUs and found "
                f"{len(swept.divergent)} divergent. Trail: plentysync stock export show {sku}",
                run=report.run.id,
            )
            item = pair.magento_state.source_item(sku, "default") or {}
            pair.magento_state.set_source_item(sku, "default", magento_qty() - 2, int(item.get("status", 1)))
            stats = await _worker_pass(engine, rt)
            demo.step(
                say,
                f"12. The worker (plentysync worker --once): Magento ships 2 more; its poller saw the change and "
                f"its drain booked it, {stats.rows} row(s) in {stats.runs} run(s): {sku} PlentyONE {plenty_qty():g}. "
                "A long-running `plentysync worker` does this on its own, every poll_interval_seconds, or within "
                "a second of a webhook (docs/deploy.md).",
            )
    return demo


async def _worker_pass(engine: Engine, rt: StockRuntime) -> WorkerStats:
    """One pass of the worker over the stock export: the poller (made due) and the queue drain. The
    profile is enabled only for the pass, so a later `plentysync worker` on this database does not try
    the demo's sandbox, which is gone when the demo ends."""
    await StockStore(engine.db).set_state(maintenance.POLL_STATE, None)
    await engine.profiles.set_enabled(EXPORT_TYPE_ID, True)
    try:
        options = WorkerOptions(name="demo-worker", once=True, schedules=False, profiles=(EXPORT_TYPE_ID,))
        return await Worker(engine, options, shared={EXPORT_TYPE_ID: {RUNTIME: rt}}).run()
    finally:
        await engine.profiles.set_enabled(EXPORT_TYPE_ID, False)
