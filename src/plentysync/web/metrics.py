"""``GET /metrics``: Prometheus text exposition, computed from the state database at scrape time.

No process-global registry and no multiprocess mode: each scrape reads a :class:`MetricsData`
snapshot (:mod:`plentysync.web.metrics_data`) and a :class:`SnapshotCollector` turns it into metric
families in a registry of its own. So any number of ``serve`` processes report the same numbers, and the
workers' API call counters (copied into their heartbeat rows) are exported from one scrape target.
When the database does not answer, the scrape still succeeds with ``plentysync_database_up 0`` and
this process's own counters.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.registry import Collector

from plentysync.engine.lifecycle import RunStatus
from plentysync.engine.queue import QueueStatus
from plentysync.http.stats import API_CALLS
from plentysync.log import get_logger
from plentysync.web.accounts import account_label
from plentysync.web.app import WebServices, get_services
from plentysync.web.metrics_data import DURATION_BUCKETS, MetricsData, WorkerRow, read_metrics_data

log = get_logger(__name__)

READ_TIMEOUT = 5.0
"""Seconds the database reads of one scrape may take (Prometheus' default scrape timeout is 10 s)."""

router = APIRouter(tags=["operations"])


def serve_process_name() -> str:
    """The ``worker`` label of this process's own API call counters."""
    return f"serve@{socket.gethostname()}:{os.getpid()}"


ApiKey = tuple[str, str, str, str, str]
"""(system, method, route, status, worker)"""


def api_call_counts(workers: list[WorkerRow], own: list[dict[str, str | int]], own_name: str) -> Counter[ApiKey]:
    """Every worker's heartbeat counters plus this process's, summed per label set."""
    counts: Counter[ApiKey] = Counter()
    sources = [(w.name, w.api_calls) for w in workers] + [(own_name, list(own))]
    for name, rows in sources:
        for row in rows:
            try:
                key = (str(row["system"]), str(row["method"]), str(row["route"]), str(row["status"]), name)
                counts[key] += int(row["count"])
            except (KeyError, TypeError, ValueError):
                continue  # a malformed entry from another version: skip it, keep the scrape
    return counts


class SnapshotCollector(Collector):
    """Yields the families of one snapshot (``data`` None: the database did not answer)."""

    def __init__(self, data: MetricsData | None, *, own_calls: list[dict[str, str | int]], read_seconds: float) -> None:
        self.data = data
        self.own_calls = own_calls
        self.read_seconds = read_seconds

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("plentysync_database_up", "1 when the state database answered this scrape.")
        up.add_metric([], 1.0 if self.data is not None else 0.0)
        yield up
        took = GaugeMetricFamily("plentysync_metrics_read_seconds", "Time spent reading the database for this scrape.")
        took.add_metric([], self.read_seconds)
        yield took
        data = self.data
        yield from self._api_calls([] if data is None else data.workers)
        if data is None:
            return
        yield from self._queue(data)
        yield from self._runs(data)
        yield from self._workers(data)
        yield from self._budgets(data)
        drift = GaugeMetricFamily("plentysync_stock_drift_skus", "SKUs the last drift sweeps found divergent.")
        drift.add_metric([], data.drift_skus)
        yield drift
        lasting = GaugeMetricFamily(
            "plentysync_stock_drift_persistent_skus", "Divergent SKUs found in two or more sweeps in a row."
        )
        lasting.add_metric([], data.drift_persistent_skus)
        yield lasting

    def _queue(self, data: MetricsData) -> Iterator[Metric]:
        rows = GaugeMetricFamily(
            "plentysync_queue_rows", "Queue rows by profile type and status.", labels=["profile", "status"]
        )
        for ptype in sorted({p for p, _ in data.queue_rows}):
            for status in QueueStatus:
                rows.add_metric([ptype, status.value], data.queue_rows.get((ptype, status.value), 0))
        yield rows
        oldest = GaugeMetricFamily(
            "plentysync_queue_oldest_pending_seconds",
            "Age of the longest-waiting pending row (since it was last queued).",
            labels=["profile"],
        )
        for ptype, seconds in sorted(data.oldest_pending_seconds.items()):
            oldest.add_metric([ptype], seconds)
        yield oldest

    def _runs(self, data: MetricsData) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "plentysync_run_last_status", "1 for the status of each profile's last run.", labels=["profile", "status"]
        )
        duration = GaugeMetricFamily(
            "plentysync_run_last_duration_seconds", "Duration of each profile's last finished run.", labels=["profile"]
        )
        finished = GaugeMetricFamily(
            "plentysync_run_last_finished_timestamp_seconds",
            "When each profile's last run finished (Unix time).",
            labels=["profile"],
        )
        for run in sorted(data.last_runs, key=lambda r: r.profile):
            for known in RunStatus:
                status.add_metric([run.profile, known.value], 1.0 if run.status == known.value else 0.0)
            if run.duration_seconds is not None:
                duration.add_metric([run.profile], run.duration_seconds)
            if run.finished_at is not None:
                finished.add_metric([run.profile], run.finished_at.timestamp())
        yield from (status, duration, finished)
        retained = GaugeMetricFamily(
            "plentysync_runs_retained",
            "Runs in the retained history (history_lifetime_days) by status; drops when old runs are purged.",
            labels=["profile", "status"],
        )
        for (ptype, run_status), count in sorted(data.runs.items()):
            retained.add_metric([ptype, run_status], count)
        yield retained
        hist = GaugeHistogramMetricFamily(
            "plentysync_run_duration_seconds",
            "Durations of the finished (not dry) runs started in the last 24 hours.",
            labels=["profile"],
        )
        bounds = [*(repr(float(b)) for b in DURATION_BUCKETS), "+Inf"]  # Prometheus' spelling: 1.0, 5.0, ...
        for h in sorted(data.durations, key=lambda h: h.profile):
            hist.add_metric([h.profile], list(zip(bounds, h.cumulative, strict=True)), h.total_seconds)
        yield hist

    def _api_calls(self, workers: list[WorkerRow]) -> Iterator[Metric]:
        counts = api_call_counts(workers, self.own_calls, serve_process_name())
        calls = CounterMetricFamily(
            "plentysync_api_calls",
            "API calls to Magento and PlentyONE by route and status (HTTP code or transport error), per process.",
            labels=["system", "method", "route", "status", "worker"],
        )
        throttled: Counter[tuple[str, str]] = Counter()
        for (system, method, route, status, name), n in sorted(counts.items()):
            calls.add_metric([system, method, route, status, name], n)
            if status == "429":
                throttled[(system, route)] += n
        yield calls
        limited = CounterMetricFamily(
            "plentysync_api_throttled",
            "API calls answered 429 (Too Many Requests), all processes.",
            labels=["system", "route"],
        )
        for (system, route), n in sorted(throttled.items()):
            limited.add_metric([system, route], n)
        yield limited

    def _workers(self, data: MetricsData) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "plentysync_worker_up", "1 while a worker runs and its heartbeat is fresh.", labels=["worker"]
        )
        age = GaugeMetricFamily(
            "plentysync_worker_heartbeat_age_seconds", "Seconds since each worker's last heartbeat.", labels=["worker"]
        )
        for w in data.workers:
            up.add_metric([w.name], 1.0 if w.alive else 0.0)
            age.add_metric([w.name], w.heartbeat_age_seconds)
        yield from (up, age)

    def _budgets(self, data: MetricsData) -> Iterator[Metric]:
        labels = ["account", "kind", "window"]
        left = GaugeMetricFamily(
            "plentysync_api_budget_left", "Calls left in the window PlentyONE announced.", labels=labels
        )
        limit = GaugeMetricFamily("plentysync_api_budget_limit", "Calls allowed per window.", labels=labels)
        resets = GaugeMetricFamily(
            "plentysync_api_budget_resets_in_seconds", "Seconds until the window resets.", labels=labels
        )
        throttled = CounterMetricFamily(
            "plentysync_api_budget_throttled", "429s recorded against the shared budget.", labels=["account", "kind"]
        )
        blocked = GaugeMetricFamily(
            "plentysync_api_budget_blocked_seconds",
            "Seconds the account stays blocked after a 429.",
            labels=["account", "kind"],
        )
        in_flight = GaugeMetricFamily(
            "plentysync_api_budget_in_flight", "Calls in flight across processes.", labels=["account", "kind"]
        )
        now = data.now.timestamp()
        for b in data.budgets:
            account = account_label(b.account)
            for name, window in sorted(b.windows.items()):
                if not isinstance(window, dict):
                    continue
                cap, remaining, resets_at = window.get("limit"), window.get("left"), window.get("resets_at")
                reset_passed = isinstance(resets_at, int | float) and resets_at <= now
                if isinstance(cap, int | float):
                    limit.add_metric([account, b.kind, name], cap)
                if reset_passed and isinstance(cap, int | float):
                    left.add_metric([account, b.kind, name], cap)  # the window has reset since the reading
                elif isinstance(remaining, int | float):
                    left.add_metric([account, b.kind, name], remaining)
                if isinstance(resets_at, int | float):
                    resets.add_metric([account, b.kind, name], max(0.0, resets_at - now))
            throttled.add_metric([account, b.kind], b.throttled)
            blocked.add_metric([account, b.kind], max(0.0, (b.blocked_until or 0.0) - now))
            live = sum(1 for expires in b.holders.values() if isinstance(expires, int | float) and expires > now)
            in_flight.add_metric([account, b.kind], live)
        yield from (left, limit, resets, throttled, blocked, in_flight)


async def read_snapshot(services: WebServices) -> SnapshotCollector:
    engine = services.engine
    started = time.perf_counter()
    data: MetricsData | None
    try:
        async with asyncio.timeout(READ_TIMEOUT), engine.db.read() as conn:
            data = await read_metrics_data(
                conn, engine.db.backend, engine.clock.now(), lost_after=services.settings.worker.lost_after_seconds
            )
    except Exception as exc:
        log.warning("metrics.database_error", error=type(exc).__name__, detail=str(exc)[:300])
        data = None
    return SnapshotCollector(data, own_calls=API_CALLS.snapshot(), read_seconds=time.perf_counter() - started)


def render(collector: Collector, accept: str | None) -> tuple[bytes, str]:
    """The exposition the scraper asked for: Prometheus text 0.0.4 by default, OpenMetrics on request."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_PLAIN_0_0_4: {}, OPENMETRICS: {}},
            "description": "Prometheus text format 0.0.4; OpenMetrics when the Accept header asks for it.",
        }
    },
)
async def metrics(request: Request, services: Annotated[WebServices, Depends(get_services)]) -> Response:
    body, content_type = render(await read_snapshot(services), request.headers.get("accept"))
    return Response(body, headers={"Content-Type": content_type})
