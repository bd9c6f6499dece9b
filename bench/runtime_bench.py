"""Benchmarks of the runtime: ``plentysync worker`` processes on PostgreSQL, ``plentysync serve`` with
RabbitMQ, and the source-item poller, against both sandboxes in a child process (:mod:`bench.runtime_support`).

1. ``--drain``: three ``plentysync worker`` OS processes on one fresh PostgreSQL database drain 30,000
   queued stock changes (delta mode, one warehouse: 30,000 rows, 300 booking calls of 100 rows) while the
   PlentyONE sandbox allows 20 writes per 5 s for the whole system (all tokens together, as the real
   per-user limit does). Measured: wall time from spawning the workers to an empty queue, write calls and
   429s (the sandbox's counters), one movement per SKU in the sandbox and one ``stock_booking`` row per
   (SKU, warehouse), rows per worker (heartbeat ``info["rows"]`` and the run history). Target: 0 × 429 and
   wall time ≤ 1.1 × (calls ÷ budget rate). Run with the shared budget on, then off.
2. ``--webhook``: latency from a Magento source-item change to the booking in the PlentyONE sandbox via
   ``plentysync serve`` (signed ``POST /webhooks/stock``) + RabbitMQ + one worker: 200 changes spaced
   (one every 350 ms), then 200 more as fast as they can be sent (throughput). Target p95 ≤ 2 s.
3. ``--poller``: the same 200 changes found by the source-item poller at the profile's default
   ``poll_interval_seconds`` (60 s), no webhook, no broker: spread evenly over 5 poll cycles (5 minutes).

    python -m bench.runtime_bench --all          # everything at the issue's sizes, writes bench/RESULTS.md
    python -m bench.runtime_bench --drain        # one scenario, prints JSON (also --webhook, --poller)
    python -m bench.runtime_bench --drain --skus 3000 --write-limit 20 --window 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2

from bench.queue_bench import machine, write_section
from bench.runtime_support import (
    BROKER_URL,
    POLL_ERRORS,
    ROOT,
    RuntimeSandbox,
    RuntimeSandboxSpec,
    ServiceProcess,
    bookings,
    delete_broker_objects,
    free_port,
    fresh_postgres,
    machine_cpu_seconds,
    percentiles,
    postgres_version,
    process_cpu_seconds,
    queue_consumers,
    rows_by_owner,
    service_env,
    services_cleaned_up,
    start_service,
    until,
    wire_delta,
)
from bench.stock_support import bench_engine, plenty_writes, sku_of
from plentysync.engine.services import Engine
from plentysync.runtime.heartbeat import WorkerRegistry
from plentysync.settings import Settings
from plentysync.sync.stock import webhook
from plentysync.sync.stock.config import EXPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.producers import SEEDED_STATE
from plentysync.sync.stock.store import StockStore

DRAIN_SKUS = 30_000
WORKERS = 3
WRITE_LIMIT = 30
WINDOW_SECONDS = 20.0
"""1.5 write calls/s for the whole system (150 rows/s): three workers on 2 cores clear about 200 rows/s
when the post-processing is all they do (measured), so the drain waits for the budget, not the CPU; a
20 s window keeps the shared gate's fixed cost per window (1 s reset grace, ``Decay`` rounded up to whole
seconds) near 7 % instead of 30 % at 5 s."""
ROWS_PER_CALL = 100
CHANGES = 200
SPACING_SECONDS = 0.35
BURST_CHANGES = 200
POLL_CHANGES = 200
POLL_CYCLES = 5
DEFAULT_POLL_INTERVAL = int(StockExportConfig.model_fields["poll_interval_seconds"].default)
P95_TARGET = 2.0
SECRET = "runtime-bench-webhook-secret"
WORKER_ARGS = ("--no-schedules", "--no-producers", "--no-broker")


class _Scenario:
    """A fresh PostgreSQL database and data directory, the engine on it, and the processes started."""

    def __init__(self, tmp: Path, url: str) -> None:
        self.tmp = tmp
        self.url = url
        # the environment wins over these (settings precedence): the services get what this process uses
        self.settings = Settings(data_dir=tmp / "data", database_url=url)
        self.data = self.settings.data_dir
        self.data.mkdir(parents=True, exist_ok=True)
        key = self.settings.secret_key
        self.keys = {} if key is None else {"PLENTYSYNC_SECRET_KEY": key.get_secret_value()}

    def env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return service_env(self.url, self.data, self.tmp / name, {**self.keys, **(extra or {})})

    def dir(self, name: str) -> Path:
        return self.tmp / name


async def _queue_left(engine: Engine) -> int:
    return await engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing"))


async def _queue_by_status(engine: Engine) -> dict[str, int]:
    return {s: await engine.queue.count(EXPORT_TYPE_ID, statuses=(s,)) for s in ("success", "error", "pending")}


async def _worker_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    registry = WorkerRegistry(engine.db, engine.clock, lost_after=timedelta(seconds=60))
    return {
        r.name: {
            "state": r.state,
            **{k: r.info.get(k) for k in ("rows", "runs", "runs_failed", "errors", "last_error")},
        }
        for r in await registry.list()
    }


# -- 1. three workers drain under the shared write budget --------------------------------------------------


async def drain(
    skus: int = DRAIN_SKUS,
    *,
    workers: int = WORKERS,
    write_limit: int = WRITE_LIMIT,
    window: float = WINDOW_SECONDS,
    shared: bool = True,
    within: float = 1800.0,
) -> dict[str, Any]:
    POLL_ERRORS.clear()
    spec = RuntimeSandboxSpec(skus, write_limit=write_limit, window_seconds=window)
    with (
        RuntimeSandbox(spec) as sandbox,
        fresh_postgres() as url,
        tempfile.TemporaryDirectory(prefix="runtime-bench-") as tmp_name,
    ):
        s = _Scenario(Path(tmp_name), url)
        async with bench_engine(url, s.settings) as engine:
            setup_started = time.perf_counter()
            # even SKUs one unit under Magento (book in +1), odd ones over (book out -1)
            await wire_delta(engine, sandbox, skus, lambda i: -1 if i % 2 == 0 else 1)
            for start in range(0, skus, 5000):
                keys = [sku_of(i) for i in range(start, min(start + 5000, skus))]
                await engine.queue.enqueue(EXPORT_TYPE_ID, keys, reason="source_item_save")
            setup_s = time.perf_counter() - setup_started
            sandbox.call("reset")
            env = {"PLENTYSYNC_HTTP__SHARED_BUDGET": "true" if shared else "false"}
            async with services_cleaned_up() as started:
                t0 = time.time()
                for n in range(1, workers + 1):
                    name = f"bench-w{n}"
                    started.append(
                        await start_service(
                            name, ["worker", "--name", name, *WORKER_ARGS], s.env(name, env), s.dir(name)
                        )
                    )

                async def empty() -> bool:
                    dead = [w for w in started if not w.alive]
                    if dead:
                        raise RuntimeError(f"worker {dead[0].name} exited early:\n{dead[0].console()[-3000:]}")
                    return await _queue_left(engine) == 0

                busy0, total0 = machine_cpu_seconds()
                sandbox_cpu0 = process_cpu_seconds(sandbox.pid)
                t_empty = await until(empty, within=within, what="an empty queue", every=0.1)
                busy1, total1 = machine_cpu_seconds()
                cpu = {w.name: round(process_cpu_seconds(w.process.pid), 1) for w in started}
                cpu["sandbox"] = round(process_cpu_seconds(sandbox.pid) - sandbox_cpu0, 1)
                cpu["machine_busy"] = round(busy1 - busy0, 1)
                cpu["machine_capacity"] = round(total1 - total0, 1)
                exits = await asyncio.gather(*(w.terminate() for w in started))
            stats = sandbox.call("stats")
            audit = sandbox.call("audit")
            trail = await bookings(engine)
            by_owner = await rows_by_owner(engine)
            heartbeat = await _worker_rows(engine)
            queue = await _queue_by_status(engine)
        runs = {w.name: len(w.events("worker.run")) for w in started}
    writes = plenty_writes(stats)
    throttled = writes.get("429", 0)
    accepted = writes.get("total", 0) - throttled
    rate = write_limit / window
    wall = t_empty - t0
    first, last = stats["writes"]["first_at"], stats["writes"]["last_at"]
    ideal_calls = -(-skus // ROWS_PER_CALL)
    return {
        "skus": skus,
        "workers": workers,
        "shared_budget": shared,
        "write_limit": write_limit,
        "window_s": window,
        "sandbox_build_s": sandbox.info["build_s"],
        "setup_s": round(setup_s, 1),
        "wall_s": round(wall, 2),
        "first_write_after_s": round(first - t0, 2) if first else None,
        "writes_span_s": round(last - first, 2) if first and last else None,
        "write_calls": accepted,
        "write_calls_ideal": ideal_calls,
        "status_429": throttled,
        "throttled_by_server": stats["throttled_by_server"],
        "peak_writes_in_flight": stats["writes"]["peak_in_flight"],
        "ideal_s": round(accepted / rate, 2),
        "ratio": round(wall / (accepted / rate), 3) if accepted else None,
        "ratio_to_ideal_calls": round(wall / (ideal_calls / rate), 3),
        "by_action": {k: v for k, v in writes.items() if k not in ("total", "429")},
        "movements": audit,
        "stock_booking": trail,
        "queue": queue,
        "rows_by_worker_heartbeat": {name: row["rows"] for name, row in sorted(heartbeat.items())},
        "rows_by_run_owner": dict(sorted(by_owner.items())),
        "runs_by_worker": runs,
        "worker_heartbeats": heartbeat,
        "exit_codes": list(exits),
        "sandbox_busy_s": {k: round(v, 1) for k, v in stats["busy_s"].items()},
        "cpu_s": cpu,
        "database_errors_while_polling": dict(POLL_ERRORS),
    }


# -- 2a/2b. latency from a Magento change to the booking -------------------------------------------------


async def _changes(
    sandbox: RuntimeSandbox,
    skus: list[str],
    spacing: float,
    *,
    send: Callable[[str], Any] | None,
    settle_within: float,
) -> dict[str, Any]:
    """Change each SKU's source item in Magento (``spacing`` seconds apart; 0: back to back), call ``send``
    after each (the webhook), and poll the PlentyONE sandbox every 20 ms until every SKU is booked.
    Latency = booking seen by the poll − the Magento change; ``applied`` = when the sandbox answered the
    booking call (no polling delay)."""
    changed: dict[str, float] = {}
    seen: dict[str, float] = {}
    done_sending = asyncio.Event()

    async def watch() -> None:
        while not done_sending.is_set() or len(seen) < len(skus):
            outstanding = [sku for sku in changed if sku not in seen]
            if outstanding:
                found = await asyncio.to_thread(sandbox.call, "booked", outstanding)
                now = time.time()
                for sku in found:
                    seen.setdefault(sku, now)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    start = time.monotonic()
    send_seconds: list[float] = []
    try:
        for i, sku in enumerate(skus):
            delay = start + i * spacing - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            changed.update(await asyncio.to_thread(sandbox.call, "bump", [sku]))
            if send is not None:
                sent = time.perf_counter()
                await send(sku)
                send_seconds.append(time.perf_counter() - sent)
        done_sending.set()
        await asyncio.wait_for(asyncio.shield(watcher), settle_within)
    except TimeoutError:
        missing = [sku for sku in skus if sku not in seen]
        raise RuntimeError(f"{len(missing)} of {len(skus)} changes were not booked, e.g. {missing[:5]}") from None
    finally:
        watcher.cancel()
    applied = await asyncio.to_thread(sandbox.call, "booked", skus)
    latencies = [seen[sku] - changed[sku] for sku in skus]
    span = max(seen.values()) - min(changed.values())
    return {
        "changes": len(skus),
        "spacing_s": spacing,
        "per_sku_s": {sku: round(seen[sku] - changed[sku], 4) for sku in skus},
        "latency_s": percentiles(latencies),
        "applied_latency_s": percentiles([applied[sku] - changed[sku] for sku in skus]),
        "send_s": percentiles(send_seconds) if send_seconds else None,
        "first_change_to_last_booking_s": round(span, 2),
        "throughput_per_s": round(len(skus) / span, 1) if span > 0 else None,
        "offered_per_s": round(1 / spacing, 2) if spacing else None,
    }


async def _ready_http(url: str, service: ServiceProcess, within: float = 60.0) -> None:
    async with httpx2.AsyncClient(timeout=2.0) as client:

        async def answers() -> bool:
            if not service.alive:
                raise RuntimeError(f"{service.name} exited early:\n{service.console()[-3000:]}")
            try:
                await client.get(url)
            except httpx2.HTTPError:
                return False
            return True

        await until(answers, within=within, what=f"{service.name} to answer", every=0.1)


async def webhook_latency(
    changes: int = CHANGES, *, spacing: float = SPACING_SECONDS, burst: int = BURST_CHANGES
) -> dict[str, Any]:
    from plentysync.engine.registry import ProfileRegistry
    from plentysync.runtime.broker import queue_name
    from plentysync.settings import BrokerSettings
    from plentysync.sync import register_all

    POLL_ERRORS.clear()
    total = changes + burst
    token = f"rtbench-{time.time_ns():x}"
    broker = BrokerSettings(exchange=token, queue_prefix=token)
    drain_types = [t.type_id for t in register_all(ProfileRegistry()).all() if t.queue_backed]
    with (
        RuntimeSandbox(RuntimeSandboxSpec(total)) as sandbox,
        fresh_postgres() as url,
        tempfile.TemporaryDirectory(prefix="runtime-bench-") as tmp_name,
    ):
        s = _Scenario(Path(tmp_name), url)
        extra = {
            "PLENTYSYNC_BROKER_URL": BROKER_URL,
            "PLENTYSYNC_BROKER__EXCHANGE": broker.exchange,
            "PLENTYSYNC_BROKER__QUEUE_PREFIX": broker.queue_prefix,
            "PLENTYSYNC_SERVE__WEBHOOK__SECRET": SECRET,
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        try:
            async with bench_engine(url, s.settings) as engine:
                await wire_delta(engine, sandbox, total, lambda i: 0)
                async with services_cleaned_up() as started, httpx2.AsyncClient(base_url=base, timeout=10.0) as client:
                    t0 = time.time()
                    serve = await start_service(
                        "serve",
                        ["serve", "--host", "127.0.0.1", "--port", str(port)],
                        s.env("serve", extra),
                        s.dir("serve"),
                    )
                    started.append(serve)
                    worker = await start_service(
                        "worker",
                        ["worker", "--name", "bench-mq", "--no-schedules", "--no-producers"],
                        s.env("worker", extra),
                        s.dir("worker"),
                    )
                    started.append(worker)
                    await _ready_http(f"{base}/healthz", serve)
                    consuming = queue_name(broker, EXPORT_TYPE_ID)
                    await until(lambda: queue_consumers(consuming), within=60, what="the worker to consume", every=0.2)
                    ready_s = time.time() - t0
                    answers: list[dict[str, Any]] = []
                    published: dict[str, bool] = {}

                    async def post(sku: str) -> None:
                        body = json.dumps({"skus": [sku]}).encode()
                        stamp = str(int(time.time()))
                        response = await client.post(
                            "/webhooks/stock",
                            content=body,
                            headers={
                                "Content-Type": "application/json",
                                "X-Plentysync-Timestamp": stamp,
                                "X-Plentysync-Signature": webhook.sign(SECRET, stamp, body),
                            },
                        )
                        if response.status_code != 202:
                            raise RuntimeError(f"webhook answered {response.status_code}: {response.text[:300]}")
                        answers.append(response.json())
                        published[sku] = bool(answers[-1].get("published"))

                    sandbox.call("reset")
                    skus = [sku_of(i) for i in range(total)]
                    spaced = await _changes(sandbox, skus[:changes], spacing, send=post, settle_within=60)
                    bursted = (
                        await _changes(sandbox, skus[changes:], 0.0, send=post, settle_within=120) if burst else None
                    )
                    audit = sandbox.call("audit")
                    await asyncio.gather(*(p.terminate() for p in started))
                runs = len(worker.events("worker.run"))
                trail = await bookings(engine)
        finally:
            deleted = await delete_broker_objects(broker.exchange, broker.queue_prefix, drain_types)
    for result in (spaced, bursted):
        if result is not None:
            per_sku = result.pop("per_sku_s")
            missed = [sku for sku in per_sku if not published.get(sku)]
            result["not_published"] = len(missed)
            result["not_published_latency_s"] = percentiles([per_sku[sku] for sku in missed])
            result["published_latency_s"] = percentiles([v for sku, v in per_sku.items() if published.get(sku)])
    return {
        "changes": changes,
        "burst": burst,
        "ready_s": round(ready_s, 1),
        "spaced": spaced,
        "burst_result": bursted,
        "published": sum(1 for a in answers if a.get("published")),
        "webhooks": len(answers),
        "worker_runs": runs,
        "movements": audit,
        "stock_booking": trail,
        "broker_objects_deleted": deleted,
        "database_errors_while_polling": dict(POLL_ERRORS),
    }


async def poller_latency(
    changes: int = POLL_CHANGES,
    *,
    cycles: float = POLL_CYCLES,
    interval: int | None = None,
    worker_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``worker_env``: extra settings of the worker (the smoke test shortens its drain pause)."""
    POLL_ERRORS.clear()
    config = {} if interval is None else {"poll_interval_seconds": interval}
    interval = interval or DEFAULT_POLL_INTERVAL
    with (
        RuntimeSandbox(RuntimeSandboxSpec(changes)) as sandbox,
        fresh_postgres() as url,
        tempfile.TemporaryDirectory(prefix="runtime-bench-") as tmp_name,
    ):
        s = _Scenario(Path(tmp_name), url)
        async with bench_engine(url, s.settings) as engine:
            await wire_delta(engine, sandbox, changes, lambda i: 0, **config)
            store = StockStore(engine.db)
            async with services_cleaned_up() as started:
                worker = await start_service(
                    "worker",
                    ["worker", "--name", "bench-poll", "--no-schedules", "--no-broker"],
                    s.env("worker", worker_env),
                    s.dir("worker"),
                )
                started.append(worker)

                async def seeded() -> bool:
                    if not worker.alive:
                        raise RuntimeError(f"the worker exited early:\n{worker.console()[-3000:]}")
                    return bool(await store.get_state(SEEDED_STATE))

                await until(seeded, within=120, what="the first (seeding) poll", every=0.2)
                sandbox.call("reset")
                span = cycles * interval
                measured_from = datetime.now(UTC)
                result = await _changes(
                    sandbox,
                    [sku_of(i) for i in range(changes)],
                    span / changes,
                    send=None,
                    settle_within=interval + 120,
                )
                polls = [
                    e
                    for e in worker.events("worker.producers")
                    if "poll" in (e.get("ran") or []) and str(e.get("timestamp", "")) >= measured_from.isoformat()[:19]
                ]
                audit = sandbox.call("audit")
                await worker.terminate()
            trail = await bookings(engine)
        runs = len(worker.events("worker.run"))
    result.pop("per_sku_s")
    return {
        "changes": changes,
        "interval_s": interval,
        "cycles_planned": cycles,
        "polls_during": len(polls),
        "drain_idle_s": float(
            (worker_env or {}).get("PLENTYSYNC_WORKER__DRAIN_IDLE_SECONDS", Settings().worker.drain_idle_seconds)
        ),
        **result,
        "worker_runs": runs,
        "movements": audit,
        "stock_booking": trail,
        "database_errors_while_polling": dict(POLL_ERRORS),
    }


# -- RESULTS.md -------------------------------------------------------------------------------------


def _pct_row(label: str, r: dict[str, Any], extra: str = "") -> str:
    lat = r["latency_s"]
    return (
        f"| {label} | {r['changes']} | {lat['p50']:.3f} | {lat['p90']:.3f} | {lat['p95']:.3f} | {lat['p99']:.3f} | "
        f"{lat['max']:.3f} | {lat['mean']:.3f} | {r['applied_latency_s']['p50']:.3f} / "
        f"{r['applied_latency_s']['p95']:.3f} | {r['throughput_per_s']} /s{extra} |"
    )


def _unpublished(r: dict[str, Any]) -> str:
    missed = r.get("not_published", 0)
    if not missed:
        return "; every webhook published"
    slow = r["not_published_latency_s"]
    return f"; {missed} webhooks not published (broker away): their latency p50 {slow['p50']:.1f} s"


def section(d: list[dict[str, Any]], w: dict[str, Any], p: dict[str, Any], seconds: float, note: str = "") -> str:
    first = d[0]
    rate = first["write_limit"] / first["window_s"]
    lines = [
        "## Runtime: workers on PostgreSQL, webhook + RabbitMQ, poller",
        "",
        f"Command: `python -m bench.runtime_bench --all` ({datetime.now(UTC):%Y-%m-%d}, {seconds / 60:.0f} min). "
        f"Machine: {machine()}; PostgreSQL {postgres_version()} at {_pg_address()} and RabbitMQ 3 on the same "
        f"machine over loopback; {platform.python_implementation()} {platform.python_version()}.{note and ' ' + note}",
        "Both sandboxes in one child process over loopback HTTP (it counts every call and stamps every movement "
        "it books); every `plentysync worker` and `plentysync serve` a real OS process (`python -m plentysync`), "
        "default settings unless said otherwise; a fresh PostgreSQL database per scenario. The stock export runs in "
        'delta mode on one warehouse (`stock_source_mapping = {"default": 1}`), SKU links and baselines in place, '
        "so every change is one delta row and 100 rows make one booking call. One run per scenario: the figures "
        "are that run's (latency distributions over all its changes).",
        "",
        f"**{first['workers']} workers drain {first['skus']:,} queued stock changes** ({first['skus']:,} rows, "
        f"ideal {first['write_calls_ideal']} booking calls) while the sandbox allows {first['write_limit']} writes "
        f"per {first['window_s']:g} s for the whole system (its long window, shared by every token: three workers "
        f"with three logins draw on one budget, as on the real per-user limit). Ideal time: calls ÷ {rate:g} calls/s. "
        "Target: 0 × 429, wall ≤ 1.1 × ideal. Wall time runs from spawning the workers (interpreter start "
        "included) to the queue holding no pending or processing row.",
        "",
        "| Shared budget | Wall time | First write after | First → last write | Write calls (ideal) | Ideal time | "
        "**Wall ÷ ideal** | First → last ÷ ideal | 429s | Writes in flight (peak) | SKUs with exactly one movement "
        "| `stock_booking` rows (distinct SKU × warehouse) | Rows per worker (heartbeat / run history) | CPU s: "
        "workers / sandbox / whole machine busy of capacity |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in d:
        hb = ", ".join(str(v) for v in r["rows_by_worker_heartbeat"].values())
        owners = ", ".join(str(v) for v in r["rows_by_run_owner"].values())
        m = r["movements"]
        cpu = r["cpu_s"]
        workers_cpu = "+".join(f"{v:g}" for k, v in cpu.items() if k.startswith("bench-w"))
        span = r["writes_span_s"] or 0.0
        lines.append(
            f"| {'on' if r['shared_budget'] else 'off'} (`{r['write_limit']}/{r['window_s']:g} s`) | "
            f"{r['wall_s']:.1f} s | {r['first_write_after_s']:.1f} s | {span:.1f} s | "
            f"{r['write_calls']} ({r['write_calls_ideal']}) | {r['ideal_s']:g} s | **{r['ratio']:.3f}×** | "
            f"{span / r['ideal_s']:.3f}× | **{r['status_429']}** | {r['peak_writes_in_flight']} | "
            f"{m['exactly_one']:,} of {r['skus']:,} (more than one: {m['more_than_one']}) | "
            f"{r['stock_booking']['rows']:,} ({r['stock_booking']['distinct_sku_warehouse']:,}) | {hb} / {owners} | "
            f"{workers_cpu} / {cpu['sandbox']:g} / {cpu['machine_busy']:g} of {cpu['machine_capacity']:g} |"
        )
    sp, bu = w["spaced"], w["burst_result"]
    lines += [
        "",
        f"Setup of the {first['skus']:,}-SKU drain: the sandbox child builds both catalogues in "
        f"{first['sandbox_build_s']:g} s (`stock_catalog`, the stock benchmarks' bulk catalogue, not the seeded "
        f"`build_sandbox`); links, baselines and the {first['skus']:,} queue rows take {first['setup_s']:g} s "
        "(bulk upserts of 5,000).",
        "",
        "**Latency from a Magento stock change to the booking in PlentyONE** (seconds). For each change the "
        "source item is set in the Magento sandbox, then (webhook path) a signed `POST /webhooks/stock "
        '{"skus": [sku]}` goes to `plentysync serve`, which queues the row and publishes on RabbitMQ (a private '
        "exchange and queue prefix per run, deleted afterwards); one `plentysync worker` consumes and drains. "
        "The benchmark polls the PlentyONE sandbox every 20 ms: latency = booking seen − Magento change; "
        '"applied" is when the sandbox answered the booking call (no polling delay). No write budget in '
        "these runs (the budget is scenario 1's subject).",
        "",
        "| Path | Changes | p50 | p90 | p95 | p99 | max | mean | applied p50 / p95 | Throughput |",
        "|---|---|---|---|---|---|---|---|---|---|",
        _pct_row(
            f"webhook + MQ, one change every {sp['spacing_s'] * 1000:.0f} ms",
            sp,
            f" (offered {sp['offered_per_s']} /s){_unpublished(sp)}",
        ),
    ]
    if bu:
        lines.append(
            _pct_row(
                "webhook + MQ, back to back (burst)",
                bu,
                f"; webhook answer p50 {bu['send_s']['p50'] * 1000:.0f} ms{_unpublished(bu)}",
            )
        )
    lines.append(
        _pct_row(
            f"source-item poller every {p['interval_s']} s, changes spread over {p['cycles_planned']:g} cycles",
            p,
            f"; {p['polls_during']} polls ran",
        )
    )
    lat95 = sp["latency_s"]["p95"]
    pl = p["latency_s"]
    lines += [
        "",
        _reading(d, w, p, lat95, pl),
        "",
        _bottlenecks(d),
        "",
    ]
    return "\n".join(lines)


def _reading(d: list[dict[str, Any]], w: dict[str, Any], p: dict[str, Any], lat95: float, pl: dict[str, float]) -> str:
    on = next((r for r in d if r["shared_budget"]), None)
    off = next((r for r in d if not r["shared_budget"]), None)
    parts = []
    if on is not None:
        parts.append(
            f"Reading: with the shared budget the {on['workers']} workers drained {on['skus']:,} rows in "
            f"{on['wall_s']:.1f} s for {on['write_calls']} calls, {on['ratio']:.3f}× the budget's pace "
            f"({on['ideal_s']:g} s) with {on['status_429']} 429s and at most {on['peak_writes_in_flight']} writes in "
            f"flight; every SKU got exactly one movement ({on['movements']['exactly_one']:,}) and one `stock_booking` "
            "row, so no row was processed twice."
        )
    if off is not None:
        parts.append(
            f"With `PLENTYSYNC_HTTP__SHARED_BUDGET=false` each worker trusts its own reading of the headers: "
            f"{off['status_429']} 429s, wall {off['wall_s']:.1f} s ({off['ratio']:.3f}×), peak "
            f"{off['peak_writes_in_flight']} writes in flight."
        )
    parts.append(
        f"The webhook path books a change with p95 {lat95:.3f} s (target ≤ {P95_TARGET:g} s, "
        f"{lat95 / P95_TARGET:.2f}× the target). The poller at its default {p['interval_s']} s interval has mean "
        f"{pl['mean']:.1f} s (interval/2 = {p['interval_s'] / 2:g} s, plus up to {p['drain_idle_s']:g} s until the "
        f"drain looks at the queue, as the poller does not wake it) and max {pl['max']:.1f} s; the seed's cron path "
        "takes 5–15 minutes."
    )
    return " ".join(parts)


def _pg_address() -> str:
    from sqlalchemy.engine import make_url

    from bench.runtime_support import ADMIN_URL

    url = make_url(ADMIN_URL)
    return f"{url.host}:{url.port or 5432}"


def _bottlenecks(d: list[dict[str, Any]]) -> str:
    r = d[0]
    workers_cpu = sum(v for k, v in r["cpu_s"].items() if k.startswith("bench-w"))
    per_row_ms = workers_cpu / r["skus"] * 1000
    ours = workers_cpu + r["cpu_s"]["sandbox"]
    return (
        f"CPU: the {r['workers']} workers used {workers_cpu:.0f} CPU s for {r['skus']:,} rows ({per_row_ms:.1f} ms per "
        f"row, interpreter start included) and the sandbox {r['cpu_s']['sandbox']:g} s, {ours:.0f} of the "
        f"{r['cpu_s']['machine_busy']:g} CPU s the machine spent during the drain (PostgreSQL and anything else "
        f"running took the rest) out of {r['cpu_s']['machine_capacity']:g} available. With no write budget at all "
        "three workers cleared about 200 rows/s on this machine; a profile of one worker puts about half its busy "
        "time in post-processing (`StockStore.complete`, `update_snapshot`, `CoalescingQueue.finish`), most of it "
        "SQLAlchemy compiling the multi-row `INSERT … VALUES (…), (…) ON CONFLICT` of `db.dialect.upsert` afresh "
        "for every chunk of 500 rows (a multi-VALUES statement is not cached) and psycopg parsing the resulting "
        "query text, too long for its query cache. That is why the budget here is 1.5 calls/s: at 4 calls/s "
        "(20 per 5 s) the same drain took 156 s for an ideal 75 s (2.08×, 0 429s), CPU-bound, not budget-bound."
    )


def _write(d: list[dict[str, Any]], w: dict[str, Any], p: dict[str, Any], seconds: float, note: str = "") -> str:
    text = section(d, w, p, seconds, note)
    write_section(ROOT / "bench" / "RESULTS.md", text)
    return text


def _load_saved(path: Path) -> dict[str, Any]:
    """The JSON objects an ``--all`` run printed (``{"drain": ...}`` twice, ``{"webhook": ...}``,
    ``{"poller": ...}``), for rewriting the section without running again."""
    decoder = json.JSONDecoder()
    text = path.read_text()
    found: dict[str, Any] = {"drain": [], "seconds": 0.0}
    index = 0
    while (index := text.find("{", index)) != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            index += 1
            continue
        index = end
        if isinstance(value, dict) and len(value) == 1:
            ((key, item),) = value.items()
            if key == "drain":
                found["drain"].append(item)
            elif key in ("webhook", "poller"):
                found[key] = item
    for r in found["drain"]:
        found["seconds"] += r["wall_s"] + r["setup_s"] + r["sandbox_build_s"]
    found["seconds"] += found["poller"]["cycles_planned"] * found["poller"]["interval_s"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="every scenario at these sizes; writes bench/RESULTS.md")
    parser.add_argument("--drain", action="store_true", help="scenario 1: workers drain under the write budget")
    parser.add_argument("--webhook", action="store_true", help="scenario 2a: latency via serve + RabbitMQ")
    parser.add_argument("--poller", action="store_true", help="scenario 2b: latency via the source-item poller")
    parser.add_argument(
        "--skus", type=int, default=DRAIN_SKUS, help="queued changes of the drain (default %(default)s)"
    )
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--write-limit", type=int, default=WRITE_LIMIT, help="writes per window, system-wide")
    parser.add_argument("--window", type=float, default=WINDOW_SECONDS, help="window seconds (default %(default)s)")
    parser.add_argument("--no-unshared", action="store_true", help="skip the drain with the shared budget off")
    parser.add_argument("--changes", type=int, default=CHANGES, help="spaced webhook changes (default %(default)s)")
    parser.add_argument("--spacing", type=float, default=SPACING_SECONDS, help="seconds between webhook changes")
    parser.add_argument("--burst", type=int, default=BURST_CHANGES, help="back-to-back webhook changes (0: none)")
    parser.add_argument("--poll-changes", type=int, default=POLL_CHANGES)
    parser.add_argument("--poll-cycles", type=float, default=POLL_CYCLES, help="poll cycles the changes spread over")
    parser.add_argument(
        "--poll-interval",
        type=int,
        default=None,
        help=f"poll_interval_seconds (default the profile's, {DEFAULT_POLL_INTERVAL})",
    )
    parser.add_argument("--note", default="", help="a sentence about this run's machine for RESULTS.md")
    parser.add_argument(
        "--section-from", metavar="JSON", help="write the RESULTS.md section from a saved --all output, run nothing"
    )
    parser.add_argument("--minutes", type=float, default=None, help="with --section-from: how long the run took")
    args = parser.parse_args()

    def attempt(run: Callable[[], Any]) -> Any:
        """Run a scenario; again (up to 3 times) when PostgreSQL went away under it: on a shared machine
        another session's tests restart it, and a run with an outage in it measures the outage."""
        from sqlalchemy.exc import OperationalError

        for tries in range(3):
            try:
                return asyncio.run(run())
            except OperationalError as exc:
                if tries == 2:
                    raise
                print(
                    f"PostgreSQL went away ({str(exc).splitlines()[0][:160]}); running the scenario again",
                    file=sys.stderr,
                )
                time.sleep(10)
        raise AssertionError("unreachable")

    def drains() -> list[dict[str, Any]]:
        out = []
        for shared in (True, False) if not args.no_unshared else (True,):

            def run(shared: bool = shared) -> Any:
                return drain(
                    args.skus, workers=args.workers, write_limit=args.write_limit, window=args.window, shared=shared
                )

            out.append(attempt(run))
            print(json.dumps({"drain": out[-1]}, indent=2), flush=True)
        return out

    def hooks() -> dict[str, Any]:
        result: dict[str, Any] = attempt(lambda: webhook_latency(args.changes, spacing=args.spacing, burst=args.burst))
        print(json.dumps({"webhook": result}, indent=2), flush=True)
        return result

    def polls() -> dict[str, Any]:
        result: dict[str, Any] = attempt(
            lambda: poller_latency(args.poll_changes, cycles=args.poll_cycles, interval=args.poll_interval)
        )
        print(json.dumps({"poller": result}, indent=2), flush=True)
        return result

    if args.section_from:
        saved = _load_saved(Path(args.section_from))
        seconds = args.minutes * 60 if args.minutes else saved["seconds"]
        print(_write(saved["drain"], saved["webhook"], saved["poller"], seconds, args.note))
    elif args.all:
        started = time.perf_counter()
        d, w, p = drains(), hooks(), polls()
        print(_write(d, w, p, time.perf_counter() - started, args.note))
    elif args.drain or args.webhook or args.poller:
        if args.drain:
            drains()
        if args.webhook:
            hooks()
        if args.poller:
            polls()
    else:
        parser.print_help(sys.stderr)


if __name__ == "__main__":
    main()
