"""Benchmarks of the stock export (``plenty_stock_export``) against both sandboxes over loopback HTTP.

Both sandboxes always run in a child process (:mod:`bench.stock_support`), which also counts every call
they answer; the state database is SQLite on local disk, fresh for every run. The catalogue: N simple
products in both systems, each with a source item in ``default`` and ``berlin``, mapped to PlentyONE
warehouses 1 and 2 (``stock_source_mapping = {"default": 1, "berlin": 2}``).

1. ``--calls``: PlentyONE stock write calls per 1,000 changed SKUs on 2 warehouses, absolute and delta
   (after a bootstrap that is not counted, every SKU changes in both sources). Ideal: rows ÷ the largest
   call the API accepts (100 rows in the sandbox) = 2 × 1000 / 100 = 20; the seed's batches of 20 rows
   need 100. Target ≤ 1.05 × ideal.
2. ``--budget``: 10,000 changed SKUs (20,000 rows) drained while the sandbox allows 20 writes per 5 s.
   Ideal: calls ÷ 4 calls/s. Target ≤ 1.1 × ideal and zero 429 responses.
3. ``--poll``: one source-item poll over 100,000 source items (the seeding scan, then a scan that finds
   1,000 changed items): calls and seconds.
4. ``--memory``: peak RSS of a process that only drains N changed SKUs (delta, 2 warehouses), for
   N = 20,000 and 200,000 (``--memory-skus``). Target: under 200 MB at 200,000.

    python -m bench.stock_bench --all        # everything, medians of 3 runs, writes bench/RESULTS.md
    python -m bench.stock_bench --calls      # one benchmark, prints JSON (also --budget, --poll, --memory)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.queue_bench import machine, write_section
from bench.stock_support import (
    MAPPING,
    SOURCES,
    SandboxProcess,
    SandboxSpec,
    bench_engine,
    bench_settings,
    calls_of,
    drain,
    enqueue,
    link_variations,
    plenty_writes,
    sku_of,
    start_quantity,
    status_count,
    wire,
)
from plentysync.engine.services import Engine
from plentysync.sync.stock import producers
from plentysync.sync.stock.config import EXPORT_TYPE_ID, StockExportConfig
from plentysync.sync.stock.resources import open_runtime
from plentysync.sync.stock.store import BaselineRow, StockStore

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3
CALL_SKUS = 1_000
MAX_ROWS = 100
"""Rows per call: ``http.plenty_stock_batch_size`` (default 100) and the sandbox's ``max_stock_rows``."""
SEED_ROWS = 20
"""What the seed (the commercial connector) sends per call."""
WAREHOUSES = len(MAPPING)
CALL_IDEAL = WAREHOUSES * CALL_SKUS // MAX_ROWS
SPLIT_SKUS = 10_000
"""A random split at this size shows what it costs per push rather than per drain."""
BUDGET_SKUS = 10_000
BUDGET_LIMIT = 20
BUDGET_WINDOW = 5.0
POLL_SKUS = 50_000
"""× 2 sources = 100,000 source items."""
POLL_CHANGED = 1_000
MEMORY_SKUS = (20_000, 200_000)
MEMORY_TARGET_MB = 200


def _db_url(tmp: str) -> str:
    return f"sqlite+aiosqlite:///{tmp}/state.db"


async def _fresh(
    sandbox: SandboxProcess, work: Callable[[Engine], Awaitable[dict[str, Any]]], **http: Any
) -> dict[str, Any]:
    """``work`` on a fresh state database and data directory wired to ``sandbox``."""
    with tempfile.TemporaryDirectory(prefix="stock-bench-") as tmp:
        async with bench_engine(_db_url(tmp), bench_settings(Path(tmp), **http)) as engine:
            return await work(engine)


async def _counted_drain(sandbox: SandboxProcess, engine: Engine) -> dict[str, Any]:
    sandbox.call("reset")
    started = time.perf_counter()
    reports = await drain(engine)
    elapsed = time.perf_counter() - started
    stats = sandbox.stats()
    writes = plenty_writes(stats)
    return {
        "writes": writes.get("total", 0),
        "by_action": {k: v for k, v in writes.items() if k not in ("total", "429")},
        "status_429": status_count(stats, 429),
        "recorder": stats.get("recorder"),
        "elapsed_s": round(elapsed, 2),
        "runs": len(reports),
        "summary": [r.run.message for r in reports],
        "succeeded": sum(r.run.succeeded for r in reports),
        "sandbox_busy_s": {k: round(v, 2) for k, v in stats["busy_s"].items()},
    }


# -- 1. calls per 1,000 changed SKUs -----------------------------------------------------------------


def _split_floor(split: dict[str, Any]) -> int:
    """The fewest calls any packing needs for this split: per warehouse, one call per started 100 rows
    of each direction (incoming and outgoing are two endpoints)."""
    return sum(math.ceil(n / MAX_ROWS) for up_down in split["by_source"].values() for n in up_down)


async def _absolute(sandbox: SandboxProcess, **http: Any) -> dict[str, Any]:
    async def work(engine: Engine) -> dict[str, Any]:
        await wire(engine, sandbox)
        await enqueue(engine, CALL_SKUS)
        return await _counted_drain(sandbox, engine)

    return await _fresh(sandbox, work, **http)


async def _delta(sandbox: SandboxProcess, how: str, seed: int, **config: Any) -> dict[str, Any]:
    async def work(engine: Engine) -> dict[str, Any]:
        await wire(engine, sandbox, correction_mode="delta", **config)
        await enqueue(engine, CALL_SKUS)
        bootstrap = await _counted_drain(sandbox, engine)
        split = sandbox.call("change", how, seed, CALL_SKUS)
        await enqueue(engine, CALL_SKUS)
        result = await _counted_drain(sandbox, engine)
        result.update(bootstrap_writes=bootstrap["writes"], split=split, floor_for_split=_split_floor(split))
        return result

    return await _fresh(sandbox, work)


async def _seed_baselines(engine: Engine, skus: int, offset: Callable[[int], int]) -> None:
    """A baseline for every (SKU, warehouse): the sandbox's starting quantity plus ``offset(index)``, as if
    earlier pushes had left it there."""
    store = StockStore(engine.db)
    for start in range(0, skus, 5000):
        rows = [
            BaselineRow(sku_of(i), MAPPING[code], float(start_quantity(i, s) + offset(i)), "delta")
            for i in range(start, min(start + 5000, skus))
            for s, code in enumerate(SOURCES)
        ]
        await store.set_baselines(rows)


async def _delta_at_scale(sandbox: SandboxProcess, skus: int, seed: int, **config: Any) -> dict[str, Any]:
    """Delta with baselines in line with Magento (no bootstrap: a sandbox that has not changed yet), then
    a random up/down change of every source item of ``skus`` SKUs, queued and drained."""

    async def work(engine: Engine) -> dict[str, Any]:
        await wire(engine, sandbox, correction_mode="delta", **config)
        await link_variations(engine, sandbox.call("variations"))
        await _seed_baselines(engine, skus, lambda i: 0)
        split = sandbox.call("change", "random", seed, skus)
        await enqueue(engine, skus)
        result = await _counted_drain(sandbox, engine)
        per_push = config.get("max_skus_per_push", StockExportConfig.model_fields["max_skus_per_push"].default)
        pushes = math.ceil(skus / per_push)
        result.update(split=split, floor_for_split=_split_floor(split), pushes_at_least=pushes)
        return result

    return await _fresh(sandbox, work)


async def calls_async() -> dict[str, Any]:
    out: dict[str, Any] = {"skus": CALL_SKUS, "warehouses": WAREHOUSES, "ideal": CALL_IDEAL}
    with SandboxProcess(SandboxSpec(CALL_SKUS, record=True)) as sandbox:
        out["absolute"] = [await _absolute(sandbox) for _ in range(RUNS)]
        out["absolute_seed_batches"] = await _absolute(sandbox, plenty_stock_batch_size=SEED_ROWS)
        out["delta_half"] = [await _delta(sandbox, "half", 0) for _ in range(RUNS)]
        out["delta_random"] = [await _delta(sandbox, "random", seed) for seed in range(1, RUNS + 1)]
        out["delta_random_unmerged"] = await _delta(sandbox, "random", 99, max_skus_per_push=100)
    with SandboxProcess(SandboxSpec(SPLIT_SKUS)) as sandbox:
        out["delta_random_large"] = await _delta_at_scale(sandbox, SPLIT_SKUS, 7)
    with SandboxProcess(SandboxSpec(SPLIT_SKUS)) as sandbox:
        out["delta_random_large_push"] = await _delta_at_scale(sandbox, SPLIT_SKUS, 7, max_skus_per_push=SPLIT_SKUS)
    for key in ("absolute", "delta_half", "delta_random"):
        out[f"{key}_median"] = statistics.median(r["writes"] for r in out[key])
    return out


def calls() -> dict[str, Any]:
    return asyncio.run(calls_async())


# -- 2. draining under the write budget -------------------------------------------------------------


async def _budget_run(sandbox: SandboxProcess, variations: dict[str, tuple[int, int]]) -> dict[str, Any]:
    async def work(engine: Engine) -> dict[str, Any]:
        await wire(engine, sandbox)
        await link_variations(engine, variations)
        await enqueue(engine, BUDGET_SKUS)
        result = await _counted_drain(sandbox, engine)
        rate = BUDGET_LIMIT / BUDGET_WINDOW
        result["ideal_s"] = result["writes"] / rate
        result["ratio"] = round(result["elapsed_s"] / result["ideal_s"], 3)
        return result

    return await _fresh(sandbox, work)


async def budget_async(runs: int = RUNS) -> dict[str, Any]:
    spec = SandboxSpec(BUDGET_SKUS, write_limit=BUDGET_LIMIT, window_seconds=BUDGET_WINDOW, record=True)
    with SandboxProcess(spec) as sandbox:
        variations: dict[str, tuple[int, int]] = sandbox.call("variations")
        results = [await _budget_run(sandbox, variations) for _ in range(runs)]
    return {
        "skus": BUDGET_SKUS,
        "limit": BUDGET_LIMIT,
        "window_s": BUDGET_WINDOW,
        "runs": results,
        "elapsed_median_s": statistics.median(r["elapsed_s"] for r in results),
        "ratio_median": statistics.median(r["ratio"] for r in results),
        "status_429_max": max(r["status_429"] for r in results),
    }


def budget() -> dict[str, Any]:
    return asyncio.run(budget_async())


# -- 3. detecting changes ---------------------------------------------------------------------------


async def _poll_run(sandbox: SandboxProcess, seed: int) -> dict[str, Any]:
    async def work(engine: Engine) -> dict[str, Any]:
        await wire(engine, sandbox)
        record = await engine.profiles.find(EXPORT_TYPE_ID)
        assert record is not None
        config = engine.profiles.typed_config(record)
        assert isinstance(config, StockExportConfig)
        out: dict[str, Any] = {}
        async with open_runtime(engine.db, engine.settings, config, EXPORT_TYPE_ID, engine.links) as rt:
            for phase in ("seeding", "changed"):
                if phase == "changed":
                    sandbox.call("change", "first", seed, POLL_CHANGED)
                sandbox.call("reset")
                started = time.perf_counter()
                report = await producers.poll_source_items(rt, engine.queue)
                elapsed = time.perf_counter() - started
                stats = sandbox.stats()
                out[phase] = {
                    "seconds": round(elapsed, 2),
                    "api_calls": report.api_calls,
                    "magento_calls": calls_of(stats, "magento"),
                    "scanned": report.scanned,
                    "changed": len(report.changed),
                    "enqueued": report.enqueued,
                    "seeded": report.seeded,
                    "sandbox_busy_s": round(stats["busy_s"].get("magento", 0.0), 2),
                }
        return out

    return await _fresh(sandbox, work)


async def poll_async(runs: int = RUNS) -> dict[str, Any]:
    with SandboxProcess(SandboxSpec(POLL_SKUS)) as sandbox:
        items = sandbox.info["source_items"]
        results = [await _poll_run(sandbox, seed) for seed in range(runs)]
    out: dict[str, Any] = {"source_items": items, "changed_items": POLL_CHANGED, "runs": results}
    for phase in ("seeding", "changed"):
        out[phase] = {
            key: statistics.median(r[phase][key] for r in results)
            for key in ("seconds", "api_calls", "scanned", "changed", "enqueued", "sandbox_busy_s")
        }
    return out


def poll() -> dict[str, Any]:
    return asyncio.run(poll_async())


# -- 4. peak RSS of a drain ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak RSS: ``VmHWM`` (kept per address space, so it starts again at ``exec``), else
    ``ru_maxrss`` (which Linux carries over from the forking parent's size: not this process's own)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _drain_worker(url: str, data_dir: str) -> dict[str, Any]:
    """What the fresh process runs: the drain and nothing else."""
    before = peak_rss_mb()
    async with bench_engine(url, bench_settings(Path(data_dir))) as engine:
        started = time.perf_counter()
        reports = await drain(engine)
        elapsed = time.perf_counter() - started
    return {
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_mb": round(before, 1),
        "elapsed_s": round(elapsed, 1),
        "runs": len(reports),
        "succeeded": sum(r.run.succeeded for r in reports),
        "summary": [r.run.message for r in reports],
    }


async def _prepare_memory(engine: Engine, sandbox: SandboxProcess, skus: int) -> None:
    """Delta mode with a baseline per (SKU, warehouse) one unit off Magento's quantity (even SKUs book in,
    odd ones out), the links in place, every SKU queued."""
    await wire(engine, sandbox, correction_mode="delta")
    await link_variations(engine, sandbox.call("variations"))
    await _seed_baselines(engine, skus, lambda i: -1 if i % 2 == 0 else 1)
    await enqueue(engine, skus)


def memory_one(skus: int) -> dict[str, Any]:
    with SandboxProcess(SandboxSpec(skus)) as sandbox, tempfile.TemporaryDirectory(prefix="stock-bench-") as tmp:

        async def prepare() -> None:
            async with bench_engine(_db_url(tmp), bench_settings(Path(tmp))) as engine:
                await _prepare_memory(engine, sandbox, skus)

        asyncio.run(prepare())
        sandbox.call("reset")
        done = subprocess.run(
            [sys.executable, "-m", "bench.stock_bench", "--drain-worker", _db_url(tmp), tmp],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the drain process failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        stats = sandbox.stats()
    writes = plenty_writes(stats)
    result.update(
        skus=skus,
        rows=skus * WAREHOUSES,
        writes=writes.get("total", 0),
        ideal_writes=skus * WAREHOUSES // MAX_ROWS,
        status_429=status_count(stats, 429),
        magento_calls=calls_of(stats, "magento"),
        sandbox_build_s=sandbox.info["build_s"],
        sandbox_peak_rss_mb=stats["sandbox_peak_rss_mb"],
        sandbox_busy_s={k: round(v, 1) for k, v in stats["busy_s"].items()},
    )
    return result


def memory(sizes: tuple[int, ...] = MEMORY_SKUS) -> dict[str, Any]:
    results = []
    for skus in sizes:
        results.append(memory_one(skus))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    return {"target_mb": MEMORY_TARGET_MB, "runs": results}


# -- RESULTS.md -------------------------------------------------------------------------------------


def _runs(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def section(c: dict[str, Any], b: dict[str, Any], p: dict[str, Any], m: dict[str, Any], seconds: float) -> str:
    ideal = c["ideal"]
    seed_calls = WAREHOUSES * CALL_SKUS // SEED_ROWS
    lines = [
        "## Stock export",
        "",
        f"Command: `python -m bench.stock_bench --all` ({datetime.now(UTC):%Y-%m-%d}, {seconds / 60:.0f} min). "
        f"Machine: {machine()}.",
        "Both sandboxes in a child process over loopback HTTP (it counts every call it answers); state database "
        "SQLite on local disk, fresh for every run; default settings unless a row says otherwise. Catalogue: N "
        "simple products in both systems, each with a source item in `default` and `berlin`, mapped to warehouses "
        '1 and 2 (`stock_source_mapping = {"default": 1, "berlin": 2}`).',
        "",
        f"**API write calls per {CALL_SKUS:,} changed SKUs on {WAREHOUSES} warehouses** ({WAREHOUSES * CALL_SKUS:,} "
        f"rows). Ideal: rows ÷ the largest call the API accepts = {WAREHOUSES} × {CALL_SKUS:,} / {MAX_ROWS} = "
        f"**{ideal}**; the seed's batches of {SEED_ROWS} rows need {seed_calls}. Target ≤ 1.05 × ideal. Median of "
        f"{RUNS} runs; delta runs count only the push after the bootstrap, which every SKU changes in both sources.",
        "",
        "| Run | SKUs | PlentyONE stock write calls (runs) | Ideal | **÷ ideal** | ÷ seed's 20-row calls "
        "| Fewest any packing needs for the split | Notes |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(label: str, runs: list[dict[str, Any]], note: str, skus: int = CALL_SKUS) -> None:
        med = statistics.median(r["writes"] for r in runs)
        row_ideal = WAREHOUSES * skus // MAX_ROWS
        floors = [r["floor_for_split"] for r in runs if "floor_for_split" in r]
        lines.append(
            f"| {label} | {skus:,} | {med:g} ({_runs([r['writes'] for r in runs])}) | {row_ideal} | "
            f"**{med / row_ideal:.2f}×** | {med / (WAREHOUSES * skus / SEED_ROWS):.2f}× | "
            f"{_runs(floors) if floors else row_ideal} | {note} |"
        )

    def splits(runs: list[dict[str, Any]]) -> str:
        return _runs([f"{r['split']['up']}/{r['split']['down']}" for r in runs])

    row("absolute (default settings)", c["absolute"], "`correction` only")
    row(
        f"absolute, `plenty_stock_batch_size = {SEED_ROWS}`",
        [c["absolute_seed_batches"]],
        "the seed's batch size, for comparison",
    )
    half = c["delta_half"]
    row(
        "delta, half up / half down",
        half,
        f"even SKUs up, odd down, in both sources; the bootstrap before it ({half[0]['bootstrap_writes']} "
        "corrections) is not counted",
    )
    rnd = c["delta_random"]
    row("delta, random up/down per source item", rnd, f"rows up/down: {splits(rnd)}")
    unmerged = c["delta_random_unmerged"]
    row(
        "delta, random split, `max_skus_per_push = 100`",
        [unmerged],
        f"claimed batches sent unmerged (rows up/down: {splits([unmerged])})",
    )
    large = c["delta_random_large"]
    row(
        "delta, random split, baselines in line (no bootstrap)",
        [large],
        f"rows up/down: {splits([large])}; at least {large['pushes_at_least']} pushes of ≤ 1,000 SKUs",
        skus=SPLIT_SKUS,
    )
    big_push = c["delta_random_large_push"]
    row(
        f"the same, `max_skus_per_push = {SPLIT_SKUS:,}`",
        [big_push],
        f"same split; at least {big_push['pushes_at_least']} push",
        skus=SPLIT_SKUS,
    )
    lines += [
        "",
        f"Batch size: {MAX_ROWS} rows per call (`http.plenty_stock_batch_size`, default {MAX_ROWS}). PlentyONE "
        "documents no maximum for `correction`, `bookIncomingItems` and `bookOutgoingItems`; the sandbox models "
        f"one at {MAX_ROWS} (`max_stock_rows`, more answers 422 and applies nothing). The write budget counts calls, "
        f"not rows, so {MAX_ROWS} rows cost a fifth of the seed's {SEED_ROWS}-row calls, while a refused call still "
        "names its bad rows (`corrections.3.…`) and is resent without them, so one bad row fails only itself.",
        "",
        f"**Draining {BUDGET_SKUS:,} changed SKUs under a write budget** ({BUDGET_SKUS * WAREHOUSES:,} rows, absolute "
        f"mode, links in place as the product export leaves them): the sandbox allows {BUDGET_LIMIT} writes per "
        f"{BUDGET_WINDOW:g} s. Ideal: calls ÷ {BUDGET_LIMIT / BUDGET_WINDOW:g} calls/s. Target ≤ 1.1 × ideal, zero "
        "429s (counted by the sandbox's recorder and by its call counter).",
        "",
        "| Run | Write calls | Wall time | Ideal | **Ratio** | 429s | Sandbox busy (PlentyONE / Magento) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(b["runs"], 1):
        busy = r["sandbox_busy_s"]
        lines.append(
            f"| {i} | {r['writes']} | {r['elapsed_s']} s | {r['ideal_s']:g} s | **{r['ratio']:.3f}×** | "
            f"{r['status_429']} (recorder {(r['recorder'] or {}).get('status_429', '–')}) | "
            f"{busy.get('plenty', 0):g} s / {busy.get('magento', 0):g} s |"
        )
    lines += [
        f"| **median** | | **{b['elapsed_median_s']} s** | | **{b['ratio_median']:.3f}×** | "
        f"**{b['status_429_max']}** (max) | |",
        "",
        "The PlentyONE sandbox's busy time is mostly `PlentyState.stock_of`, which sums over every stock row "
        "for each corrected row it answers; it overlaps the waits for the budget.",
        "",
        f"**Detecting changes**: `poll_source_items` over {p['source_items']:,} source items ({POLL_SKUS:,} SKUs × 2 "
        f"sources), pages of 300; median of {RUNS} runs, each on a fresh database. The sandbox column is the time "
        "the Magento sandbox spent answering (it sorts and filters every source item for every page); the rest "
        "is the poller's.",
        "",
        "| Scan | Calls | Seconds | of which the sandbox | the poller (the rest) | Items read | SKUs found changed "
        "| Queued |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for phase, label in (
        ("seeding", "first scan (records the snapshot)"),
        ("changed", f"{POLL_CHANGED:,} items changed"),
    ):
        r = p[phase]
        lines.append(
            f"| {label} | {r['api_calls']:g} | {r['seconds']:.1f} s | {r['sandbox_busy_s']:.1f} s | "
            f"{r['seconds'] - r['sandbox_busy_s']:.1f} s | {r['scanned']:,.0f} | {r['changed']:,.0f} | "
            f"{r['enqueued']:,.0f} |"
        )
    lines += [
        "",
        f"**Peak RSS of a drain** — a fresh process that only drains N changed SKUs (delta mode, a baseline for "
        "each (SKU, warehouse), even SKUs book in and odd ones out, links in place), sandbox in another process, "
        "`VmHWM` (the process's own peak: `ru_maxrss` would report the forking parent's size), one run per "
        f"size. Target: under {MEMORY_TARGET_MB} MB at 200,000.",
        "",
        "| SKUs | Rows | Write calls (ideal) | 429s | Drain time | **Peak RSS** | RSS before the run | Sandbox busy "
        "(PlentyONE / Magento) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in m["runs"]:
        busy = r["sandbox_busy_s"]
        lines.append(
            f"| {r['skus']:,} | {r['rows']:,} | {r['writes']:,} ({r['ideal_writes']:,}) | {r['status_429']} | "
            f"{r['elapsed_s']:g} s | **{r['peak_rss_mb']:.0f} MB** | {r['rss_before_mb']:.0f} MB | "
            f"{busy.get('plenty', 0):g} s / {busy.get('magento', 0):g} s |"
        )
    lines += ["", _reading(c, b, p, m), ""]
    return "\n".join(lines)


def _reading(c: dict[str, Any], b: dict[str, Any], p: dict[str, Any], m: dict[str, Any]) -> str:
    """The paragraph under the tables, with this run's figures."""
    ideal = c["ideal"]
    rnd = statistics.median(r["writes"] for r in c["delta_random"])
    floor = statistics.median(r["floor_for_split"] for r in c["delta_random"])
    large, big_push = c["delta_random_large"], c["delta_random_large_push"]
    large_ideal = WAREHOUSES * SPLIT_SKUS // MAX_ROWS
    first, last = m["runs"][0], m["runs"][-1]
    seeding, changed = p["seeding"], p["changed"]
    return (
        f"Reading: absolute pushes and an even delta split need exactly the ideal {ideal} calls per "
        f"{CALL_SKUS:,} SKUs on {WAREHOUSES} warehouses ({c['absolute_median']:g} and {c['delta_half_median']:g}; "
        f"the seed's 20-row calls need {c['absolute_seed_batches']['writes']}). A random delta split costs what "
        "its two endpoints cost: incoming and outgoing rows go to different calls, so each (warehouse, "
        f"direction) ends in a partly filled call: {rnd:g} calls ({rnd / ideal:.2f}×, over the 1.05 target) where "
        f"no packing can do with fewer than {floor:g}. The merge into pushes of up to 1,000 SKUs is what keeps "
        f"it there (unmerged claimed batches of 100: {c['delta_random_unmerged']['writes']}); a push cut at that "
        "size holds back, once, the SKUs that would only part-fill a last call, so a long drain pays the partly "
        f"filled calls once, not once per push: {SPLIT_SKUS:,} SKUs with a random split took {large['writes']} calls "
        f"({large['writes'] / large_ideal:.2f}× the ideal {large_ideal}, fewest possible "
        f"{large['floor_for_split']}), and {big_push['writes']} with `max_skus_per_push = {SPLIT_SKUS:,}`. Under "
        f"the write budget the drain keeps the budget's pace ({b['ratio_median']:.3f}× calls ÷ rate, "
        f"{b['status_429_max']} 429s): the client's gate waits for each announced reset, which the sandbox "
        "announces in whole seconds, rounded up. The poll reads every source item in pages of 300 "
        f"({seeding['api_calls']:g} calls for {p['source_items']:,} items); of its {seeding['seconds']:.1f} s "
        f"(first scan) and {changed['seconds']:.1f} s (later scan), {seeding['sandbox_busy_s']:.0f} s and "
        f"{changed['sandbox_busy_s']:.0f} s are the Magento sandbox sorting and filtering all items for every "
        "page; the poller itself needs "
        f"{seeding['seconds'] - seeding['sandbox_busy_s']:.0f} s to record the first snapshot and "
        f"{changed['seconds'] - changed['sandbox_busy_s']:.0f} s to diff a later scan and queue "
        f"{changed['enqueued']:,.0f} SKUs. A drain's memory does not grow with its size: "
        f"{first['peak_rss_mb']:.0f} MB at {first['skus']:,} SKUs, {last['peak_rss_mb']:.0f} MB at "
        f"{last['skus']:,} ({last['rss_before_mb']:.0f} MB of it is the interpreter and the imported profiles "
        "before the run starts); the sandbox needs the SKU index for this size (without it every bulk read "
        "scans or deep-copies every record)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="every benchmark; writes bench/RESULTS.md")
    parser.add_argument("--calls", action="store_true")
    parser.add_argument("--budget", action="store_true")
    parser.add_argument("--poll", action="store_true")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--memory-skus", default=",".join(map(str, MEMORY_SKUS)))
    parser.add_argument("--drain-worker", nargs=2, metavar=("DB_URL", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.memory_skus.split(","))
    if args.drain_worker:
        print(json.dumps(asyncio.run(_drain_worker(*args.drain_worker))))
    elif args.all:
        started = time.perf_counter()
        results = []
        for name, bench in (("calls", calls), ("budget", budget), ("poll", poll), ("memory", lambda: memory(sizes))):
            results.append(bench())
            print(json.dumps({name: results[-1]}, indent=2), flush=True)
        text = section(results[0], results[1], results[2], results[3], time.perf_counter() - started)
        write_section(ROOT / "bench" / "RESULTS.md", text)
        print(text)
    elif args.calls or args.budget or args.poll or args.memory:
        chosen = {"calls": calls, "budget": budget, "poll": poll, "memory": lambda: memory(sizes)}
        for name, bench in chosen.items():
            if getattr(args, name):
                print(json.dumps({name: bench()}, indent=2), flush=True)
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
