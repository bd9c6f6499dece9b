"""Rows the health and metrics tests insert directly, as the worker and the budget gate write them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from plentysync.db import Database
from plentysync.db.tables import api_budget, profile_run, stock_drift, worker


async def add_worker(
    db: Database,
    name: str,
    *,
    now: datetime,
    age: float = 1.0,
    state: str = "running",
    api_calls: list[dict[str, Any]] | None = None,
) -> None:
    beat = now - timedelta(seconds=age)
    await db.write(
        insert(worker).values(
            name=name,
            host="host-a",
            pid=4242,
            state=state,
            started_at=beat - timedelta(minutes=5),
            heartbeat_at=beat,
            stopped_at=beat if state == "stopped" else None,
            info={"version": "test", "api_calls": api_calls or []},
        )
    )


async def add_budget(
    db: Database,
    account: str,
    kind: str,
    *,
    windows: dict[str, Any],
    holders: dict[str, float] | None = None,
    blocked_until: float | None = None,
    throttled: int = 0,
    now: datetime,
) -> None:
    await db.write(
        insert(api_budget).values(
            account=account,
            kind=kind,
            windows=windows,
            holders=holders or {},
            blocked_until=blocked_until,
            throttled=throttled,
            updated_at=now,
        )
    )


async def add_run(
    db: Database,
    profile_id: int,
    type_id: str,
    *,
    status: str,
    started: datetime,
    seconds: float | None,
    dry_run: bool = False,
) -> int:
    result = await db.write(
        insert(profile_run)
        .values(
            profile_id=profile_id,
            type_id=type_id,
            trigger="schedule",
            status=status,
            dry_run=dry_run,
            started_at=started,
            finished_at=None if seconds is None else started + timedelta(seconds=seconds),
        )
        .returning(profile_run.c.id)
    )
    return int(result.rows[0][0])


async def add_drift(db: Database, sku: str, *, consecutive: int, now: datetime) -> None:
    await db.write(
        insert(stock_drift).values(
            sku=sku,
            consecutive=consecutive,
            magento_quantity=5.0,
            plenty_quantity=3.0,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
