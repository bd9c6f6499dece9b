"""Benchmark of the coalescing queue (issue 2).

For each backend: enqueue N keys in batches of 1,000 through ``CoalescingQueue.enqueue`` (the upsert
with RETURNING that coalesces), enqueue them all again (every row exists: the coalescing path),
then claim and finish them in batches of 100 (claim with lease + finish with the version check).
The reference is a plain multi-row INSERT of the same rows, in the same batches, into the same empty
table with the same indexes. Each measurement runs in a fresh process on a fresh database, so peak
RSS belongs to that one configuration.

    python -m bench.queue_bench --all            # every configuration, writes bench/RESULTS.md
    python -m bench.queue_bench --backend sqlite --rows 100000   # one measurement, prints JSON
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert

from plentysync.db import Database
from plentysync.db.migrate import upgrade
from plentysync.db.tables import queue_item
from plentysync.engine.queue import CoalescingQueue, Outcome, QueuePolicy

ROOT = Path(__file__).resolve().parents[1]
T = "plenty_stock_export"
ENQUEUE_BATCH = 1_000
CLAIM_BATCH = 100


def keys(n: int) -> Iterator[list[str]]:
    """Keys in batches, generated lazily: the benchmark itself holds one batch at a time."""
    for start in range(0, n, ENQUEUE_BATCH):
        yield [f"SKU-{i:08d}" for i in range(start, min(start + ENQUEUE_BATCH, n))]


def plain_row(key: str, now: datetime) -> dict[str, Any]:
    return {
        "profile_type": T,
        "entity_key": key,
        "status": "pending",
        "trigger_reason": "source_item_save",
        "priority": 100,
        "attempts": 0,
        "next_attempt_at": now,
        "version": 1,
        "metadata": None,
        "created_at": now,
        "updated_at": now,
    }


async def plain_executemany(db: Database, n: int, chunk: int) -> float:
    now = datetime.now(UTC)
    statement = insert(queue_item)
    started = time.perf_counter()
    for batch in keys(n):
        for part in range(0, len(batch), chunk):
            await db.write(statement, [plain_row(key, now) for key in batch[part : part + chunk]])
    return time.perf_counter() - started


async def plain_unnest(db: Database, n: int, chunk: int) -> float:
    from sqlalchemy import BigInteger, Text, bindparam, func, select
    from sqlalchemy.dialects import postgresql

    now = datetime.now(UTC)
    rows = select(
        func.unnest(bindparam("keys", type_=postgresql.ARRAY(Text))).label("entity_key"),
        func.unnest(bindparam("versions", type_=postgresql.ARRAY(BigInteger))).label("version"),
    ).subquery()
    names = list(plain_row("x", now))
    source = select(*(rows.c[c] if c in rows.c else bindparam(c, type_=queue_item.c[c].type) for c in names))
    statement = postgresql.insert(queue_item).from_select(names, source)
    constants = {k: v for k, v in plain_row("x", now).items() if k not in ("entity_key", "version")}
    started = time.perf_counter()
    for batch in keys(n):
        for part in range(0, len(batch), chunk):
            piece = batch[part : part + chunk]
            await db.write(statement, {**constants, "keys": piece, "versions": [1] * len(piece)})
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(url: str, n: int) -> dict[str, Any]:
    db = Database(url)
    await upgrade(db)
    queue = CoalescingQueue(db, policy=QueuePolicy(lease_seconds=600))
    result: dict[str, Any] = {"rows": n, "backend": db.backend}

    async def empty() -> None:
        await db.write(delete(queue_item))

    # The reference: a plain bulk INSERT of the same rows, same batches, same table and indexes,
    # by the fastest plain method of the backend (executemany; on PostgreSQL also INSERT ... SELECT
    # unnest(...), the method the queue's upsert uses there). The faster of the two counts.
    plain: dict[str, float] = {}
    await empty()
    plain["executemany"] = await plain_executemany(db, n, queue.chunk_size)
    if db.backend == "postgresql":
        await empty()
        plain["unnest"] = await plain_unnest(db, n, queue.chunk_size)
    method = min(plain, key=lambda name: plain[name])
    result["plain_insert_s"] = plain[method]
    result["plain_method"] = method

    await empty()
    started = time.perf_counter()
    for batch in keys(n):
        await queue.enqueue(T, batch, reason="source_item_save")
    result["enqueue_new_s"] = time.perf_counter() - started

    started = time.perf_counter()
    coalesced = 0
    for batch in keys(n):
        coalesced += (await queue.enqueue(T, batch, reason="source_item_save")).updated
    result["enqueue_coalesce_s"] = time.perf_counter() - started
    assert coalesced == n

    claim_s = finish_s = 0.0
    done = 0
    while True:
        t0 = time.perf_counter()
        items = await queue.claim(T, owner="bench", limit=CLAIM_BATCH)
        t1 = time.perf_counter()
        if not items:
            break
        outcome = await queue.finish("bench", [Outcome.success(item) for item in items])
        t2 = time.perf_counter()
        assert outcome.finished == len(items)
        done += len(items)
        claim_s += t1 - t0
        finish_s += t2 - t1
    assert done == n
    result.update(claim_s=claim_s, finish_s=finish_s)
    stats = await queue.stats(T)
    assert stats.by_status == {"success": n}
    await empty()
    await db.dispose()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def server_url(backend: str) -> tuple[str, str, str]:
    """(admin URL, database name, async URL) for a throw-away database."""
    name = f"plentysync_bench_{os.getpid()}"
    if backend == "postgresql":
        base = os.environ.get("PLENTYSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        return base, name, base.rsplit("/", 1)[0] + f"/{name}"
    base = os.environ.get("PLENTYSYNC_TEST_MARIADB_URL", "mariadb+pymysql://root@127.0.0.1:3306/test")
    return base, name, base.replace("+pymysql", "+aiomysql").rsplit("/", 1)[0] + f"/{name}"


def run_one(backend: str, n: int) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return asyncio.run(measure(f"sqlite+aiosqlite:///{tmp}/bench.db", n))
    admin, name, url = server_url(backend)
    engine = create_engine(admin.replace("+aiomysql", "+pymysql"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        return asyncio.run(measure(url, n))
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()


def in_subprocess(backend: str, n: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.queue_bench", "--backend", backend, "--rows", str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}"


def run_all(repeat: int, backends: list[str], rss_rows: list[int], rows: int) -> str:
    lines = [
        "## Coalescing queue (issue 2)",
        "",
        f"Command: `python -m bench.queue_bench --all` ({time.strftime('%Y-%m-%d')}). Machine: {machine()}.",
        "PostgreSQL 15 and MariaDB 10.11 on the same machine over loopback TCP; SQLite in WAL mode on local disk.",
        f"{rows:,} keys; enqueue in batches of {ENQUEUE_BATCH:,} keys; claim + finish in batches of {CLAIM_BATCH}.",
        f"Each figure is the median of {repeat} runs, each run a fresh process on a fresh database.",
        "",
        "| backend | plain INSERT rows/s | enqueue (new rows) rows/s | **enqueue ÷ plain INSERT** (target ≤ 2.0) "
        "| enqueue again (all coalesce) rows/s | claim + finish rows/s | claim only | finish only | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for backend in backends:
        runs = [in_subprocess(backend, rows) for _ in range(repeat)]
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key.endswith(("_s", "_mb"))}
        methods = sorted({r["plain_method"] for r in runs})
        ratio = med["enqueue_new_s"] / med["plain_insert_s"]
        lines.append(
            f"| {backend} | {rate(rows, med['plain_insert_s'])} ({'/'.join(methods)}) | "
            f"{rate(rows, med['enqueue_new_s'])} | "
            f"**{ratio:.2f}×** | {rate(rows, med['enqueue_coalesce_s'])} | "
            f"{rate(rows, med['claim_s'] + med['finish_s'])} | {rate(rows, med['claim_s'])} | "
            f"{rate(rows, med['finish_s'])} | {med['peak_rss_mb']:.0f} MB |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    lines += [
        "",
        "Peak RSS of the whole benchmark process (interpreter, SQLAlchemy and drivers included) by row count,"
        " one run each (target: flat, under 150 MB):",
        "",
        "| backend | " + " | ".join(f"{n:,} rows" for n in rss_rows) + " |",
        "|---|" + "---|" * len(rss_rows),
    ]
    for backend in backends:
        peaks = [in_subprocess(backend, n)["peak_rss_mb"] for n in rss_rows]
        lines.append(f"| {backend} | " + " | ".join(f"{p:.0f} MB" for p in peaks) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of RESULTS.md, keeping the others."""
    header = section.splitlines()[0]
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    if header in text:
        start = text.index(header)
        nxt = text.find("\n## ", start + len(header))
        text = text[:start] + section + (text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "mariadb"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--all", action="store_true", help="run every configuration and update bench/RESULTS.md")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--rss-rows", default="10000,100000,300000")
    args = parser.parse_args()
    if args.all:
        section = run_all(args.repeat, args.backends.split(","), [int(n) for n in args.rss_rows.split(",")], args.rows)
        write_section(ROOT / "bench" / "RESULTS.md", section)
        print(section)
    else:
        print(json.dumps(run_one(args.backend, args.rows)))


if __name__ == "__main__":
    main()
