"""When the stock export's timed producers are due (for `plentysync cron run`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plentysync.sync.stock.config import StockExportConfig
from plentysync.sync.stock.maintenance import drift_due, poll_due

NOW = datetime(2026, 12, 1, 14, 20, tzinfo=UTC)


def config(**options: object) -> StockExportConfig:
    return StockExportConfig.model_validate({"main_warehouse_id": 1, **options})


def test_poll_runs_every_interval() -> None:
    c = config(poll_interval_seconds=60)
    assert poll_due(c, None, NOW)
    assert not poll_due(c, NOW - timedelta(seconds=59), NOW)
    assert poll_due(c, NOW - timedelta(seconds=60), NOW)


def test_drift_follows_its_cron_and_starts_the_clock_on_first_sight() -> None:
    c = config()  # 15 * * * *
    assert not drift_due(c, None, NOW)
    assert drift_due(c, datetime(2026, 12, 1, 14, 14, tzinfo=UTC), NOW)
    assert not drift_due(c, datetime(2026, 12, 1, 14, 15, tzinfo=UTC), NOW)
    assert drift_due(c, datetime(2026, 12, 1, 14, 15, tzinfo=UTC), datetime(2026, 12, 1, 15, 15, tzinfo=UTC))


def test_a_bad_drift_cron_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="invalid cron expression"):
        config(drift_cron="every hour")
