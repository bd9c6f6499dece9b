"""The stock export's timed producers, for ``plentysync cron run`` until the worker takes them over:
the source-item and product pollers every ``poll_interval_seconds`` and the drift sweep on
``drift_cron`` (hourly at :15 by default, as in the seed). Each remembers when it last ran in
``sync_state``, so a crontab calling every minute runs each exactly when it is due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from plentysync.engine.schedule import fire_times
from plentysync.engine.services import Engine
from plentysync.sync.stock import drift, producers
from plentysync.sync.stock.config import EXPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.resources import open_runtime
from plentysync.sync.stock.store import StockStore

POLL_STATE = "plenty_stock_export.poll_at"
DRIFT_STATE = "plenty_stock_export.drift_at"


@dataclass
class MaintenanceReport:
    ran: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _moment(value: Any) -> datetime | None:
    """A stored time; anything unreadable counts as never (the producer then runs and stores a good one)."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def poll_due(config: StockExportConfig, last: datetime | None, now: datetime) -> bool:
    return last is None or now - last >= timedelta(seconds=config.poll_interval_seconds)


def drift_due(config: StockExportConfig, last: datetime | None, now: datetime) -> bool:
    """Due when a fire time of ``drift_cron`` (UTC) passed since the last sweep; never on first sight,
    which only starts the clock (onboarding uses ``add --all``; a sweep on an empty cache finds nothing)."""
    if last is None:
        return False
    return bool(fire_times(config.drift_cron, "UTC", last, until=now + timedelta(microseconds=1), limit=1))


async def run_due(engine: Engine) -> MaintenanceReport:
    """Run what is due for the enabled stock export profile (nothing when there is none)."""
    report = MaintenanceReport()
    record = await engine.profiles.find(EXPORT_TYPE_ID)
    if record is None or not record.enabled:
        return report
    config = engine.profiles.typed_config(record)
    assert isinstance(config, StockExportConfig)
    store = StockStore(engine.db, engine.clock)
    now = engine.clock.now()
    last_poll = _moment(await store.get_state(POLL_STATE))
    last_drift = _moment(await store.get_state(DRIFT_STATE))
    if last_drift is None:
        await store.set_state(DRIFT_STATE, now.isoformat())
    want_poll, want_drift = poll_due(config, last_poll, now), drift_due(config, last_drift, now)
    if not (want_poll or want_drift):
        return report
    async with open_runtime(engine.db, engine.settings, config, EXPORT_TYPE_ID, engine.links) as rt:
        if want_poll:
            if config.inventory_api == "msi":
                polled = await producers.poll_source_items(rt, engine.queue)
                report.details["source_items"] = {"changed": len(polled.changed), "seeded": polled.seeded}
            products = await producers.poll_products(rt, engine.queue)
            report.details["products"] = {"changed": len(products.changed)}
            await store.set_state(POLL_STATE, now.isoformat())
            report.ran.append("poll")
        if want_drift:
            swept = await drift.sweep(rt, engine.queue, config)
            report.details["drift"] = {"compared": swept.compared, "enqueued": swept.enqueued}
            await store.set_state(DRIFT_STATE, now.isoformat())
            report.ran.append("drift")
    return report
