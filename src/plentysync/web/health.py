"""``GET /healthz``: whether this installation can do its work, cheap enough for a load balancer.

HTTP 200 when the database answers and, once any worker has ever registered, at least one worker is
alive (state running or stopping, heartbeat younger than ``worker.lost_after_seconds``); 503 otherwise,
with the reasons. The broker and the API budget are reported but never fail the check: the database
queue works without the broker, and a spent budget is waited out by the workers.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import case, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from plentysync.db.tables import api_budget, worker
from plentysync.log import get_logger
from plentysync.web.accounts import account_label
from plentysync.web.app import WebServices, get_services
from plentysync.web.publishing import SafePublisher

log = get_logger(__name__)

DATABASE_TIMEOUT = 2.0
"""Seconds the database checks may take before the database counts as down."""
ALIVE_STATES = ("running", "stopping")

router = APIRouter(tags=["operations"])


@dataclass
class HealthReport:
    healthy: bool = True
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.healthy = False
        self.reasons.append(reason)

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.healthy else "fail", "reasons": self.reasons, "checks": self.checks}


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 3)


async def _workers(conn: AsyncConnection, now: datetime, lost_after: float) -> dict[str, Any]:
    cutoff = now - timedelta(seconds=lost_after)
    active = worker.c.state.in_(ALIVE_STATES)
    alive = case((active & (worker.c.heartbeat_at >= cutoff), 1), else_=0)
    row = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(alive), 0),
                func.coalesce(func.sum(case((active, 1), else_=0)), 0),
                func.max(case((active, worker.c.heartbeat_at), else_=None)),
            )
        )
    ).one()
    registered, alive_count, running, last_running = int(row[0]), int(row[1]), int(row[2]), row[3]
    latest = (
        await conn.execute(
            select(worker.c.state, worker.c.heartbeat_at).order_by(worker.c.heartbeat_at.desc()).limit(1)
        )
    ).first()
    last_state, last = (latest[0], latest[1]) if latest is not None else (None, None)
    status = "none_registered" if registered == 0 else ("alive" if alive_count else "lost")
    return {
        "status": status,
        "registered": registered,
        "alive": alive_count,
        "running": running,
        "last_heartbeat_at": None if last is None else last.isoformat(),
        "last_heartbeat_age_seconds": _age(now, last),
        "last_heartbeat_state": last_state,
        "last_running_heartbeat_age_seconds": _age(now, last_running),
        "lost_after_seconds": lost_after,
    }


def lost_reason(workers: dict[str, Any]) -> str:
    """Why no worker counts as alive, true to the heartbeat rows: running workers that went quiet, or
    none running at all (a fresh heartbeat of a stopped worker is not a missing heartbeat)."""
    window = f"{workers['lost_after_seconds']:g} s"
    running, registered = workers["running"], workers["registered"]
    if running:
        quiet = "the only running worker has not" if running == 1 else f"none of the {running} running workers has"
        reason = f"workers: {quiet} sent a heartbeat in the last {window}"
        age = workers["last_running_heartbeat_age_seconds"]
        if age is not None:
            reason += f" (the last {age:.0f} s ago)"
        others = registered - running
        if others:
            reason += f"; {others} more {'is' if others == 1 else 'are'} stopped or lost"
        return reason
    reason = f"workers: no running worker ({registered} registered, all stopped or lost)"
    age, state = workers["last_heartbeat_age_seconds"], workers["last_heartbeat_state"]
    if age is not None:
        reason += f"; the last heartbeat, {age:.0f} s ago, came from a {state} worker"
    return reason


async def _budget(conn: AsyncConnection, now_epoch: float) -> dict[str, Any]:
    rows = (
        await conn.execute(
            select(api_budget.c.account, api_budget.c.kind, api_budget.c.windows, api_budget.c.blocked_until)
        )
    ).all()
    accounts = []
    for account, kind, windows, blocked_until in rows:
        spent = sorted(
            name
            for name, w in (windows or {}).items()
            if isinstance(w, dict)
            and isinstance(w.get("left"), int | float)
            and w["left"] <= 0
            and isinstance(w.get("resets_at"), int | float)
            and w["resets_at"] > now_epoch
        )
        blocked_for = max(0.0, float(blocked_until or 0) - now_epoch)
        if spent or blocked_for:
            accounts.append(
                {
                    "account": account_label(account),
                    "kind": kind,
                    "blocked_for_seconds": round(blocked_for, 1),
                    "spent_windows": spent,
                }
            )
    return {"status": "limited" if accounts else "ok", "accounts": sorted(accounts, key=lambda a: str(a["account"]))}


async def _broker(services: WebServices) -> dict[str, Any]:
    publisher = services.publisher
    if publisher is None:
        return {"status": "not_configured" if not services.settings.broker_url else "unavailable"}
    healthy = await publisher.healthy() if isinstance(publisher, SafePublisher) else None
    if healthy is None:
        return {"status": "configured"}
    return {"status": "connected" if healthy else "disconnected"}


async def check_health(services: WebServices) -> HealthReport:
    report = HealthReport()
    engine = services.engine
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT), engine.db.read() as conn:
            await conn.execute(text("SELECT 1"))
            latency = round((time.perf_counter() - started) * 1000, 1)
            now = engine.clock.now()
            workers = await _workers(conn, now, services.settings.worker.lost_after_seconds)
            budget = await _budget(conn, now.timestamp())
    except TimeoutError:
        report.checks["database"] = {"status": "down", "error": f"no answer within {DATABASE_TIMEOUT:g} s"}
        report.fail("database: no answer")
    except Exception as exc:
        log.warning("healthz.database_error", error=type(exc).__name__, detail=str(exc)[:300])
        report.checks["database"] = {"status": "down", "error": type(exc).__name__}
        report.fail("database: unreachable")
    else:
        report.checks["database"] = {"status": "up", "latency_ms": latency}
        report.checks["workers"] = workers
        report.checks["api_budget"] = budget
        if workers["status"] == "lost":
            report.fail(lost_reason(workers))
    report.checks["broker"] = await _broker(services)
    return report


@router.get(
    "/healthz",
    summary="Health for load balancers",
    responses={200: {"description": "Healthy."}, 503: {"description": "Unhealthy; `reasons` says why."}},
)
async def healthz(services: Annotated[WebServices, Depends(get_services)]) -> JSONResponse:
    report = await check_health(services)
    return JSONResponse(report.as_json(), status_code=200 if report.healthy else 503)
