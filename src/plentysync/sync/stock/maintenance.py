"""The stock export's timed producers, run by the worker (and by ``plentysync cron run``):
the source-item and product pollers every ``poll_interval_seconds`` and the drift sweep on
``drift_cron`` (hourly at :15 by default, as in the seed). Each remembers when it last ran in
``sync_state``, so a worker ticking every second or a crontab calling every minute runs each exactly when it is due."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from plentysync.engine.schedule import fire_times
from plentysync.engine.services import Engine
from plentysync.runtime.claims import claim_if_due
from plentysync.sync.stock import drift, producers
from plentysync.sync.stock.config import EXPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.resources import StockRuntime, open_runtime

POLL_STATE = "plenty_stock_export.poll_at"
DRIFT_STATE = "plenty_stock_export.drift_at"


@dataclass
class MaintenanceReport:
    ran: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    queued: int = 0
    """SKUs the producers put in the export queue (the worker wakes the drain when there are any)."""


def poll_due(config: StockExportConfig, last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= timedelta(seconds=config.poll_interval_seconds)


def drift_due(config: StockExportConfig, last: datetime | None, now: datetime) -> bool:
    """Due when a fire time of ``drift_cron`` (UTC) passed since the last sweep; never on first sight,
    which only starts the clock (onboarding uses ``add --all``; a sweep on an empty cache finds nothing)."""
    if last is None:
        return False
    return bool(fire_times(config.drift_cron, "UTC", last, until=now + timedelta(microseconds=1), limit=1))


async def run_due(engine: Engine, runtime: StockRuntime | None = None) -> MaintenanceReport:
    """Run what is due for the enabled stock export profile (nothing when there is none).

    Each producer is claimed before it runs (:func:`claim_if_due`), so of several workers and cron
    callers exactly one polls per interval. ``runtime``: clients a worker keeps open across calls."""
    report = MaintenanceReport()
    record = await engine.profiles.find(EXPORT_TYPE_ID)
    if record is None or not record.enabled:
        return report
    config = engine.profiles.typed_config(record)
    assert isinstance(config, StockExportConfig)
    now = engine.clock.now()
    # the drift clock starts on first sight (see drift_due); claiming it then runs nothing
    await claim_if_due(engine.db, engine.clock, DRIFT_STATE, lambda last: last is None)
    want_poll = await claim_if_due(engine.db, engine.clock, POLL_STATE, lambda last: poll_due(config, last, now))
    want_drift = await claim_if_due(engine.db, engine.clock, DRIFT_STATE, lambda last: drift_due(config, last, now))
    if not (want_poll or want_drift):
        return report
    async with AsyncExitStack() as stack:
        rt = runtime
        if rt is None:
            opened = open_runtime(engine.db, engine.settings, config, EXPORT_TYPE_ID, engine.links, engine.clock)
            rt = await stack.enter_async_context(opened)
        if want_poll:
            if config.inventory_api == "msi":
                polled = await producers.poll_source_items(rt, engine.queue)
                report.details["source_items"] = {"changed": len(polled.changed), "seeded": polled.seeded}
                report.queued += len(polled.changed)
            products = await producers.poll_products(rt, engine.queue)
            report.details["products"] = {"changed": len(products.changed)}
            report.queued += len(products.changed)
            report.ran.append("poll")
        if want_drift:
            swept = await drift.sweep(rt, engine.queue, config)
            report.details["drift"] = {"compared": swept.compared, "enqueued": swept.enqueued}
            report.queued += swept.enqueued
            report.ran.append("drift")
    return report
