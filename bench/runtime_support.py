"""What the runtime benchmarks share: both sandboxes in a child process whose PlentyONE write budget is
system-wide (every token together, like the real per-user limit), with a watch on every stock write
(first and last call, writes in flight, the moment each variation's first movement was booked); a fresh
PostgreSQL database per scenario; the stock export wired in delta mode on one warehouse; and
``plentysync worker`` / ``plentysync serve`` as real OS processes.

The child is driven over a pipe (``RuntimeSandbox.call("stats")``, see ``_COMMANDS`` in ``_serve``); a
lock makes the pipe safe to use from several threads (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.stock_support import (
    UNLIMITED,
    CallCounts,
    CountingMiddleware,
    answer_commands,
    index_product_search,
    link_variations,
    sku_of,
    start_quantity,
    stock_catalog,
)
from plentysync.db.tables import profile_run, stock_booking
from plentysync.engine.services import Engine
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from plentysync.sync.stock.store import BaselineRow, StockStore

if TYPE_CHECKING:
    from plentysync.sandbox.faults import ASGIApp, Receive, Scope, Send
    from plentysync.sandbox.plenty import PlentyState

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "default"
WAREHOUSE = 1
MAPPING = {SOURCE: WAREHOUSE}
"""One mapped source: N SKUs are N rows, N / 100 booking calls."""
ADMIN_URL = os.environ.get("PLENTYSYNC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("PLENTYSYNC_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")


# -- the sandbox process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeSandboxSpec:
    skus: int
    write_limit: int = UNLIMITED
    """Stock (and every other) write calls per window, for the whole system: the sandbox's long window,
    which all tokens share, so three workers with three logins draw on one budget."""
    window_seconds: float = 60.0


@dataclass
class WriteWatch:
    """Filled by :class:`BookingWatch` in the sandbox's server thread, read by the pipe commands."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    first_at: float | None = None
    last_at: float | None = None
    seen_movements: int = 0
    booked_at: dict[int, float] = field(default_factory=dict)
    """Variation id → when the answer to the call that booked its first movement went out (epoch)."""
    movements_of: Counter[int] = field(default_factory=Counter)
    reasons: Counter[int] = field(default_factory=Counter)

    def clear(self) -> None:
        with self.lock:
            self.calls = self.in_flight = self.peak_in_flight = 0
            self.first_at = self.last_at = None
            self.booked_at.clear()
            self.movements_of.clear()
            self.reasons.clear()


class BookingWatch:
    """ASGI middleware on the PlentyONE app: times every stock write and stamps each new movement."""

    def __init__(self, app: ASGIApp, state: PlentyState, watch: WriteWatch) -> None:
        self.app = app
        self.state = state
        self.watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "GET" or "/stock/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        w = self.watch
        with w.lock:
            w.calls += 1
            w.in_flight += 1
            w.peak_in_flight = max(w.peak_in_flight, w.in_flight)
            if w.first_at is None:
                w.first_at = time.time()
        try:
            await self.app(scope, receive, send)
        finally:
            now = time.time()
            with w.lock:
                w.in_flight -= 1
                w.last_at = now
                movements = self.state.movements
                for movement in movements[w.seen_movements :]:
                    variation = int(movement["variationId"])
                    w.booked_at.setdefault(variation, now)
                    w.movements_of[variation] += 1
                    w.reasons[int(movement["reason"])] += 1
                w.seen_movements = len(movements)


def _serve(spec: RuntimeSandboxSpec, conn: Connection) -> None:
    """The child: both sandboxes on loopback, then commands from the pipe until ``stop``."""
    from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
    from plentysync.sandbox.plenty import PlentySandboxConfig, PlentyState, create_plenty_app
    from plentysync.sandbox.server import start_server

    started = time.perf_counter()
    catalog = stock_catalog(spec.skus, (SOURCE,))
    plenty_config = PlentySandboxConfig(
        read_limit=UNLIMITED,
        write_limit=UNLIMITED,
        long_read_limit=UNLIMITED,
        long_write_limit=spec.write_limit,
        long_window_seconds=spec.window_seconds,
        max_sessions=UNLIMITED,
    )
    plenty_state = PlentyState.minimal(plenty_config.plenty_id)
    plenty_state.load_catalog(catalog)
    magento_state = MagentoState()
    magento_state.load_catalog(catalog)
    del catalog
    counts = CallCounts()
    watch = WriteWatch()
    magento_raw = create_magento_app(magento_state, MagentoSandboxConfig())
    index_product_search(magento_raw)
    plenty_app: ASGIApp = CountingMiddleware(
        BookingWatch(create_plenty_app(plenty_state, plenty_config), plenty_state, watch), counts, system="plenty"
    )
    plenty = start_server(plenty_app)
    magento = start_server(CountingMiddleware(magento_raw, counts, system="magento"))
    variations = {
        str(v["number"]): (int(v["id"]), int(v["itemId"])) for v in plenty_state.variations.values() if v.get("number")
    }
    variation_of = {sku: vid for sku, (vid, _item) in variations.items()}
    sku_of_variation = {vid: sku for sku, vid in variation_of.items()}
    conn.send(
        {"plenty_url": plenty.url, "magento_url": magento.url, "build_s": round(time.perf_counter() - started, 1)}
    )

    def stats() -> dict[str, Any]:
        out = counts.snapshot()
        out["throttled_by_server"] = plenty_state.throttled_count
        with watch.lock:
            out["writes"] = {
                "calls": watch.calls,
                "peak_in_flight": watch.peak_in_flight,
                "first_at": watch.first_at,
                "last_at": watch.last_at,
            }
        return out

    def bump(skus: list[str], step: float = 1.0) -> dict[str, float]:
        """Raise the ``default`` source item of each SKU by ``step``, as a shop would; when (epoch)."""
        changed = {}
        for sku in skus:
            item = magento_state.source_items[(sku, SOURCE)]
            quantity = float(item["quantity"]) + step
            magento_state.set_source_item(sku, SOURCE, quantity, 1 if quantity > 0 else 0)
            changed[sku] = time.time()
        return changed

    def booked(skus: list[str]) -> dict[str, float]:
        with watch.lock:
            return {sku: watch.booked_at[variation_of[sku]] for sku in skus if variation_of[sku] in watch.booked_at}

    def audit() -> dict[str, Any]:
        """Movements per variation since the last reset: how many SKUs got exactly one, more, none."""
        with watch.lock:
            per = dict(watch.movements_of)
            reasons = dict(watch.reasons)
        histogram = Counter(per.values())
        twice = sorted(sku_of_variation.get(v, str(v)) for v, n in per.items() if n > 1)
        return {
            "movements": sum(per.values()),
            "skus_with_movements": len(per),
            "exactly_one": histogram.get(1, 0),
            "more_than_one": sum(n for k, n in histogram.items() if k > 1),
            "more_than_one_examples": twice[:10],
            "reasons": {str(k): v for k, v in sorted(reasons.items())},
        }

    def reset() -> None:
        counts.clear()
        watch.clear()
        with watch.lock:
            watch.seen_movements = len(plenty_state.movements)

    commands: dict[str, Callable[..., Any]] = {
        "stats": stats,
        "reset": reset,
        "variations": lambda: variations,
        "bump": bump,
        "booked": booked,
        "audit": audit,
    }
    answer_commands(conn, commands)
    plenty.stop()
    magento.stop()


class RuntimeSandbox:
    """``with RuntimeSandbox(RuntimeSandboxSpec(1000)) as sandbox: ...``: both sandboxes in a spawned child."""

    def __init__(self, spec: RuntimeSandboxSpec) -> None:
        self.spec = spec
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(spec, child), daemon=True, name="runtime-bench-sandbox")
        self._lock = threading.Lock()
        self.plenty_url = self.magento_url = ""
        self.info: dict[str, Any] = {}

    def __enter__(self) -> RuntimeSandbox:
        self._process.start()
        if not self._conn.poll(600):
            raise RuntimeError("the sandbox process did not start")
        self.info = self._conn.recv()
        self.plenty_url, self.magento_url = self.info["plenty_url"], self.info["magento_url"]
        return self

    def call(self, name: str, *args: Any) -> Any:
        with self._lock:
            self._conn.send((name, args))
            status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox command {name} failed: {value}")
        return value

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    def __exit__(self, *exc: object) -> None:
        try:
            with self._lock:
                self._conn.send(("stop", ()))
                self._conn.poll(30)
        finally:
            self._process.join(30)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(10)


# -- PostgreSQL ---------------------------------------------------------------------------------------


@contextmanager
def fresh_postgres(prefix: str = "plentysync_rtbench") -> Iterator[str]:
    """A new database on the server of ``ADMIN_URL``, dropped afterwards; yields its async URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield (
            make_url(ADMIN_URL)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        for attempt in range(30):  # PostgreSQL may be restarting (see POLL_ERRORS)
            try:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                break
            except Exception:
                if attempt == 29:
                    raise
                time.sleep(2)
        admin.dispose()


def postgres_version() -> str:
    admin = create_engine(ADMIN_URL)
    try:
        with admin.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one()).split(" ")[0]
    finally:
        admin.dispose()


# -- wiring ---------------------------------------------------------------------------------------------


async def wire_delta(
    engine: Engine, sandbox: RuntimeSandbox, skus: int, offset: Callable[[int], int], **options: Any
) -> None:
    """Connections to the sandbox, the stock export enabled in delta mode on warehouse 1, the SKU links in
    place, and a baseline per SKU of the sandbox's starting quantity plus ``offset(index)`` (0: in line
    with Magento, so the next change of a source item is one delta booking)."""
    from plentysync.sandbox.wiring import save_sandbox_connections

    await save_sandbox_connections(
        engine.db, engine.settings, plenty_url=sandbox.plenty_url, magento_url=sandbox.magento_url
    )
    config = {
        "main_warehouse_id": WAREHOUSE,
        "stock_source_mapping": dict(MAPPING),
        "correction_mode": "delta",
        **options,
    }
    await engine.profiles.create(EXPORT_TYPE_ID, enabled=True, config=config)
    await link_variations(engine, sandbox.call("variations"))
    store = StockStore(engine.db)
    for start in range(0, skus, 5000):
        rows = [
            BaselineRow(sku_of(i), WAREHOUSE, float(start_quantity(i, 0) + offset(i)), "delta")
            for i in range(start, min(start + 5000, skus))
        ]
        await store.set_baselines(rows)


async def bookings(engine: Engine) -> dict[str, Any]:
    """The ``stock_booking`` trail: rows, distinct (SKU, warehouse), by status and operation."""
    t = stock_booking
    async with engine.db.read() as conn:
        total = (await conn.execute(select(func.count()).select_from(t).where(t.c.mode == "delta"))).scalar_one()
        pairs = (
            await conn.execute(
                select(func.count()).select_from(
                    select(t.c.sku, t.c.warehouse_id).where(t.c.mode == "delta").distinct().subquery()
                )
            )
        ).scalar_one()
        by = (
            await conn.execute(select(t.c.status, t.c.operation, func.count()).group_by(t.c.status, t.c.operation))
        ).all()
    return {"rows": total, "distinct_sku_warehouse": pairs, "by_status": {f"{s}/{o}": n for s, o, n in by}}


async def rows_by_owner(engine: Engine) -> dict[str, int]:
    """Rows processed per run owner (``<worker>:drain``), from the run history."""
    t = profile_run
    async with engine.db.read() as conn:
        rows = (await conn.execute(select(t.c.owner, func.sum(t.c.processed)).group_by(t.c.owner))).all()
    return {str(owner): int(n or 0) for owner, n in rows}


# -- plentysync as OS processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def service_env(
    database_url: str, data_dir: Path, log_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment without any ``PLENTYSYNC_*`` of its own, plus the scenario's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLENTYSYNC_")}
    env.update(
        PLENTYSYNC_DATABASE_URL=database_url,
        PLENTYSYNC_DATA_DIR=str(data_dir),
        PLENTYSYNC_LOG_DIR=str(log_dir),
        PYTHONPATH=str(ROOT / "src"),
    )
    env.update(extra or {})
    return env


@dataclass
class ServiceProcess:
    """``python -m plentysync <args>`` with its console in ``<directory>/console.txt`` and its JSON log
    in ``<directory>/plentysync.log``."""

    name: str
    process: asyncio.subprocess.Process
    directory: Path
    spawned_at: float

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def console(self) -> str:
        path = self.directory / "console.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def events(self, event: str) -> list[dict[str, Any]]:
        path = self.directory / "plentysync.log"
        found = []
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if isinstance(entry, dict) and entry.get("event") == event:
                        found.append(entry)
        return found

    async def terminate(self, within: float = 60.0) -> int | None:
        """SIGTERM, then SIGKILL after ``within`` seconds; the exit code."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.process.send_signal(signal.SIGKILL)
            return await self.process.wait()


def _console_file(directory: Path) -> Any:
    directory.mkdir(parents=True, exist_ok=True)
    return (directory / "console.txt").open("ab")


async def start_service(name: str, args: Sequence[str], env: Mapping[str, str], directory: Path) -> ServiceProcess:
    spawned = time.time()
    with _console_file(directory) as console:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plentysync",
            *args,
            cwd=directory,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=console,
            stderr=console,
        )
    return ServiceProcess(name, process, directory, spawned)


@contextlib.asynccontextmanager
async def services_cleaned_up() -> AsyncIterator[list[ServiceProcess]]:
    """``async with services_cleaned_up() as started: started.append(await start_service(...))``: every
    process still running on exit is stopped (SIGTERM, then SIGKILL)."""
    started: list[ServiceProcess] = []
    try:
        yield started
    finally:
        for service in started:
            if service.alive:
                await service.terminate(within=20)


POLL_ERRORS: Counter[str] = Counter()
"""Database errors :func:`until` rode out (another session restarting PostgreSQL on a shared machine);
a scenario reports them, since a run with an outage in it measures the outage."""


async def until(check: Callable[[], Any], *, within: float, what: str, every: float = 0.05) -> float:
    """Poll ``check`` (sync or async) until it is truthy; the epoch time it first held. A database error
    counts as "not yet" (recorded in :data:`POLL_ERRORS`)."""
    from sqlalchemy.exc import DBAPIError

    deadline = time.monotonic() + within
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
        except (DBAPIError, ConnectionError) as exc:
            POLL_ERRORS[type(exc).__name__] += 1
            result = False
        if result:
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(every)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p95/p99 (nearest rank), mean, min and max, in seconds rounded to ms."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
        return ordered[index]

    out = {f"p{p:g}": rank(p) for p in (50, 90, 95, 99)}
    out.update(mean=sum(ordered) / len(ordered), min=ordered[0], max=ordered[-1])
    return {k: round(v, 3) for k, v in out.items()}


async def delete_broker_objects(exchange: str, queue_prefix: str, profile_types: Sequence[str]) -> list[str]:
    """Remove the exchanges and queues of one bench run (names derived like the runtime does)."""
    import aio_pika

    from plentysync.runtime.broker import dead_letter_exchange, dead_letter_queue, queue_name
    from plentysync.settings import BrokerSettings

    settings = BrokerSettings(exchange=exchange, queue_prefix=queue_prefix)
    deleted = []
    connection = await aio_pika.connect(BROKER_URL, timeout=10)
    try:
        for queue in [*(queue_name(settings, t) for t in profile_types), dead_letter_queue(settings)]:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(queue)
                deleted.append(queue)
            with contextlib.suppress(Exception):
                await channel.close()
        for name in (exchange, dead_letter_exchange(settings)):
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(name)
                deleted.append(name)
            with contextlib.suppress(Exception):
                await channel.close()
    finally:
        await connection.close()
    return deleted


async def queue_consumers(queue: str) -> int:
    """Consumers subscribed to ``queue`` right now (0 when it does not exist yet)."""
    import aio_pika

    connection = await aio_pika.connect(BROKER_URL, timeout=10)
    try:
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except Exception:
            return 0
        result = declared.declaration_result
        return int(result.consumer_count or 0)
    finally:
        await connection.close()


# -- CPU accounting ---------------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS
