"""What the stock benchmarks share: a stock catalogue of any size, both sandboxes served from a child
process (so their CPU and memory are not the measured process's), call counting in that child, and the
few lines of wiring a run needs (state database, stored connections, the profile).

The child is driven over a pipe: ``SandboxProcess.call("stats")`` and friends (see ``_COMMANDS``).
"""

from __future__ import annotations

import multiprocessing
import random
import re
import resource
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plentysync.db import Database
from plentysync.db.migrate import upgrade
from plentysync.engine.links import Link
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.registry import ProfileRegistry
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.services import Engine
from plentysync.settings import Settings
from plentysync.sync import register_all
from plentysync.sync.stock.config import EXPORT_TYPE_ID

if TYPE_CHECKING:
    from plentysync.sandbox.catalog import SeedCatalog
    from plentysync.sandbox.faults import ASGIApp, Receive, Scope, Send
    from plentysync.sandbox.magento import MagentoState

# The sandbox is imported where it is used: the drain process of the memory benchmark imports this module
# and must hold what a production worker holds, not the sandbox's servers.

UNLIMITED = 10**9
SOURCES = ("default", "berlin")
MAPPING = {"default": 1, "berlin": 2}
"""The two mapped sources every benchmark SKU has a source item in, and their PlentyONE warehouses."""
STOCK_WRITES = ("correction", "bookIncomingItems", "bookOutgoingItems")


def sku_of(index: int) -> str:
    return f"BENCH-{index:07d}"


def start_quantity(index: int, source: int) -> int:
    """Every source item starts between 50 and 149: changes of a few units never reach zero."""
    return 50 + (index * 37 + source * 11) % 100


def stock_catalog(count: int, sources: tuple[str, ...] = SOURCES) -> SeedCatalog:
    """``count`` simple products in both systems (Magento SKU = PlentyONE variation number), each with a
    source item in every one of ``sources``. One language and no categories, customers or orders: the
    catalogue holds what the stock export reads and nothing else, so it can have 200,000 products."""
    from plentysync.sandbox.catalog import SeedCatalog, SeedLocation, SeedProduct, SeedStock

    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    products = [
        SeedProduct(
            sku=sku_of(i),
            type="simple",
            names={"de": f"Artikel {i}"},
            price=9.99,
            stock=[SeedStock(code, start_quantity(i, s)) for s, code in enumerate(sources)],
            updated_at=stamp,
        )
        for i in range(count)
    ]
    return SeedCatalog(
        languages=["de"],
        locations=[SeedLocation("default", "Main warehouse"), SeedLocation("berlin", "Berlin")],
        categories=[],
        attributes=[],
        products=products,
        customers=[],
        orders=[],
    )


# -- counting in the sandbox process ----------------------------------------------------------------

_ID = re.compile(r"/\d+(?=/|$)")


@dataclass
class CallCounts:
    """Requests by (system, method, path with ids as ``{id}``, status), and the seconds the sandbox apps
    spent answering them (the server side of every figure)."""

    calls: Counter[tuple[str, str, str, int]] = field(default_factory=Counter)
    busy: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, system: str, method: str, path: str, status: int, seconds: float) -> None:
        with self.lock:
            self.calls[(system, method, _ID.sub("/{id}", path), status)] += 1
            self.busy[system] = self.busy.get(system, 0.0) + seconds

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": [[*key, n] for key, n in sorted(self.calls.items())],
                "busy_s": dict(self.busy),
            }

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()
            self.busy.clear()


class CountingMiddleware:
    def __init__(self, app: ASGIApp, counts: CallCounts, *, system: str) -> None:
        self.app = app
        self.counts = counts
        self.system = system

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def counting_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.counts.add(self.system, scope["method"], scope["path"], status, time.perf_counter() - started)


# -- the sandbox process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxSpec:
    skus: int
    sources: tuple[str, ...] = SOURCES
    write_limit: int = UNLIMITED
    window_seconds: float = 60.0
    record: bool = False
    """Also keep a :class:`Recorder` of every exchange (its counts are reported beside the counter's)."""
    index_products: bool = True
    """Serve ``sku in (...)`` product searches from the SKU index (see :func:`index_product_search`)."""


def index_product_search(app: Any) -> None:
    """Let the Magento sandbox's product search look ``sku in (...)`` candidates up in the SKU index.

    ``routes_catalog.search_products`` renders (deep-copies) every product for every search, which at
    200,000 products costs seconds per request. This swaps that one route's handler, in this process
    only, for the same search run on the candidates :class:`IndexedRecords` finds (the source-item
    search uses the index itself): the answers are the same, as the startup check confirms."""
    from dataclasses import replace

    from plentysync.sandbox.magento import routes_catalog
    from plentysync.sandbox.magento.products import render_product
    from plentysync.sandbox.magento.router import Ctx
    from plentysync.sandbox.magento.search import evaluate, indexed, search_result

    original = routes_catalog.search_products

    def search_products(ctx: Ctx) -> dict[str, Any]:
        criteria = ctx.criteria()
        candidates = indexed(ctx.state, "products", "sku").candidates(criteria)
        if candidates is None or ctx.state.product_overrides:  # store values could change what renders
            answer: dict[str, Any] = original(ctx)
            return answer
        rendered = [render_product(ctx.state, p, ctx.scope.store_id, for_list=True) for p in candidates]
        rendered.sort(key=lambda p: p["id"])
        return search_result(evaluate(rendered, criteria, ctx.limits), criteria)

    routes = app.state.magento.router.routes
    for i, route in enumerate(routes):
        if route.handler is original:
            routes[i] = replace(route, handler=search_products)
            return
    raise RuntimeError("the Magento sandbox has no product search route to index")


def _check_product_index() -> None:
    """The indexed product search answers like the original (a small catalogue, a few searches)."""
    from plentysync.clock import SystemClock
    from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app, routes_catalog
    from plentysync.sandbox.magento.router import Ctx, StoreScope

    state = MagentoState()
    state.load_catalog(stock_catalog(30))
    app = create_magento_app(state, MagentoSandboxConfig())
    index_product_search(app)
    indexed_handler = next(r.handler for r in app.state.magento.router.routes if r.segments == ("products",))
    request: Any = None  # the product search reads the query and the store scope only
    for value in (f"{sku_of(3)},{sku_of(7).lower()},NOPE", sku_of(12), "", "1,2"):
        for condition in ("in", "eq"):
            query = {
                "searchCriteria": {
                    "filter_groups": [{"filters": [{"field": "sku", "value": value, "condition_type": condition}]}],
                    "page_size": "5",
                }
            }
            ctx = Ctx(state, MagentoSandboxConfig(), SystemClock(), request, StoreScope(None, 1, 1), {}, query, None)
            if indexed_handler(ctx) != routes_catalog.search_products(ctx):
                raise RuntimeError(f"the indexed product search answers differently for sku {condition} {value!r}")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _change(state: MagentoState, spec: SandboxSpec, how: str, seed: int, count: int | None) -> dict[str, Any]:
    """Change source items in Magento's state directly (as a shop would): ``half``: every SKU, both
    sources, even SKUs up and odd SKUs down; ``random``: every (SKU, source) up or down at random;
    ``first``: the ``default`` source item of the first ``count`` SKUs, up. Returns how many went up and
    down, in all and per source."""
    rng = random.Random(seed)
    up = down = 0
    by_source = {code: [0, 0] for code in spec.sources}
    n = spec.skus if count is None else min(count, spec.skus)
    for i in range(n):
        for s, code in enumerate(spec.sources):
            if how == "first" and s > 0:
                continue
            sku = sku_of(i)
            item = state.source_items[(sku, code)]
            rising = {"half": i % 2 == 0, "random": rng.random() < 0.5, "first": True}[how]
            step = 1 + (i + s) % 3
            quantity = float(item["quantity"]) + (step if rising else -step)
            state.set_source_item(sku, code, quantity, 1 if quantity > 0 else 0)
            up, down = up + rising, down + (not rising)
            by_source[code][0 if rising else 1] += 1
    return {"up": up, "down": down, "by_source": by_source}


def answer_commands(conn: Connection, commands: dict[str, Callable[..., Any]]) -> None:
    """The child's side of the pipe: run the parent's commands until it says ``stop``; a failing
    command is reported to the parent instead of killing the child silently."""
    while True:
        name, args = conn.recv()
        if name == "stop":
            conn.send(None)
            break
        try:
            conn.send(("ok", commands[name](*args)))
        except Exception as exc:  # report it to the parent instead of dying silently
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _serve(spec: SandboxSpec, conn: Connection) -> None:
    """The child: both sandboxes on loopback, then commands from the pipe until ``stop``."""
    from plentysync.sandbox.magento import MagentoSandboxConfig, MagentoState, create_magento_app
    from plentysync.sandbox.plenty import PlentySandboxConfig, PlentyState, create_plenty_app
    from plentysync.sandbox.recorder import Recorder, RecordingMiddleware
    from plentysync.sandbox.server import start_server

    started = time.perf_counter()
    catalog = stock_catalog(spec.skus, spec.sources)
    plenty_config = PlentySandboxConfig(
        read_limit=UNLIMITED,
        write_limit=spec.write_limit,
        window_seconds=spec.window_seconds,
        long_read_limit=UNLIMITED,
        long_write_limit=UNLIMITED,
        max_sessions=UNLIMITED,
    )
    plenty_state = PlentyState.minimal(plenty_config.plenty_id)
    plenty_state.load_catalog(catalog)
    magento_state = MagentoState()
    magento_state.load_catalog(catalog)
    del catalog
    counts = CallCounts()
    recorder = Recorder() if spec.record else None
    plenty_raw = create_plenty_app(plenty_state, plenty_config)
    magento_raw = create_magento_app(magento_state, MagentoSandboxConfig())
    if spec.index_products:
        _check_product_index()
        index_product_search(magento_raw)
    apps: dict[str, ASGIApp] = {}
    for system, raw in (("plenty", plenty_raw), ("magento", magento_raw)):
        app: ASGIApp = CountingMiddleware(raw, counts, system=system)
        if recorder is not None:
            app = RecordingMiddleware(app, recorder, system=system)
        apps[system] = app
    plenty = start_server(apps["plenty"])
    magento = start_server(apps["magento"])
    variations = {
        str(v["number"]): (int(v["id"]), int(v["itemId"])) for v in plenty_state.variations.values() if v.get("number")
    }
    conn.send(
        {
            "plenty_url": plenty.url,
            "magento_url": magento.url,
            "build_s": round(time.perf_counter() - started, 1),
            "source_items": len(magento_state.source_items),
        }
    )

    def stats() -> dict[str, Any]:
        out = counts.snapshot()
        out["throttled_by_server"] = plenty_state.throttled_count
        out["movements"] = len(plenty_state.movements)
        out["sandbox_peak_rss_mb"] = round(_peak_rss_mb())
        if recorder is not None:
            exchanges = recorder.exchanges()
            out["recorder"] = {
                "plenty_stock_writes": sum(
                    1 for x in exchanges if x.system == "plenty" and x.method != "GET" and "/stock/" in x.path
                ),
                "status_429": sum(1 for x in exchanges if x.status == 429),
            }
        return out

    def reset() -> None:
        counts.clear()
        if recorder is not None:
            recorder.clear()

    commands: dict[str, Callable[..., Any]] = {
        "stats": stats,
        "reset": reset,
        "variations": lambda: variations,
        "change": lambda how, seed=0, count=None: _change(magento_state, spec, how, seed, count),
    }
    answer_commands(conn, commands)
    plenty.stop()
    magento.stop()


class SandboxProcess:
    """``with SandboxProcess(SandboxSpec(1000)) as sandbox: sandbox.plenty_url ...`` — both sandboxes in a
    spawned child process; ``call`` runs one of its commands."""

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(spec, child), daemon=True, name="stock-bench-sandbox")
        self.plenty_url = self.magento_url = ""
        self.info: dict[str, Any] = {}

    def __enter__(self) -> SandboxProcess:
        self._process.start()
        if not self._conn.poll(1800):
            raise RuntimeError("the sandbox process did not start")
        self.info = self._conn.recv()
        self.plenty_url, self.magento_url = self.info["plenty_url"], self.info["magento_url"]
        return self

    def call(self, name: str, *args: Any) -> Any:
        self._conn.send((name, args))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"sandbox command {name} failed: {value}")
        return value

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("stats")
        return result

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send(("stop", ()))
            self._conn.poll(30)
        finally:
            self._process.join(30)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(10)


def plenty_writes(stats: dict[str, Any]) -> dict[str, int]:
    """PlentyONE stock write calls by action (``correction``...) and status class, from ``stats()``."""
    found: Counter[str] = Counter()
    for system, method, path, status, n in stats["calls"]:
        if system == "plenty" and method != "GET" and "/stock/" in path:
            action = path.rsplit("/", 1)[-1]
            found[action] += n
            found["total"] += n
            if status == 429:
                found["429"] += n
    return dict(found)


def status_count(stats: dict[str, Any], status: int, system: str | None = None) -> int:
    return sum(n for sys_, _, _, st, n in stats["calls"] if st == status and (system is None or sys_ == system))


def calls_of(stats: dict[str, Any], system: str, method: str | None = None) -> int:
    return sum(n for sys_, m, _, _, n in stats["calls"] if sys_ == system and (method is None or m == method))


# -- the connector's side ---------------------------------------------------------------------------


def bench_settings(data_dir: Path, **http: Any) -> Settings:
    """Default settings, in a data directory of the benchmark's own (its secret key encrypts the stored
    sandbox credentials); ``http`` overrides the ``[http]`` section."""
    return Settings(data_dir=data_dir, http=http)


@asynccontextmanager
async def bench_engine(url: str, settings: Settings) -> AsyncIterator[Engine]:
    """The engine on a migrated state database (closed on exit)."""
    db = Database(url)
    await upgrade(db)
    await db.sync_clock()
    try:
        yield Engine.build(db, register_all(ProfileRegistry()), settings)
    finally:
        await db.dispose()


async def wire(engine: Engine, sandbox: SandboxProcess, **config: Any) -> None:
    """Store the connections to the sandbox and create (or reconfigure) the stock export profile with the
    two mapped sources; ``config`` adds profile options (``correction_mode``...)."""
    from plentysync.sandbox.wiring import save_sandbox_connections

    await save_sandbox_connections(
        engine.db, engine.settings, plenty_url=sandbox.plenty_url, magento_url=sandbox.magento_url
    )
    full = {"main_warehouse_id": 1, "stock_source_mapping": dict(MAPPING), **config}
    record = await engine.profiles.find(EXPORT_TYPE_ID)
    if record is None:
        await engine.profiles.create(EXPORT_TYPE_ID, config=full)
    else:
        await engine.profiles.update_config(record.id, full)


async def link_variations(engine: Engine, variations: dict[str, tuple[int, int]]) -> None:
    """SKU -> variation links as the product export leaves them, so the run does not list every variation."""
    links = [Link("variation", sku, str(vid), extra={"item_id": item}) for sku, (vid, item) in variations.items()]
    for start in range(0, len(links), 5000):
        await engine.links.upsert(links[start : start + 5000])


async def enqueue(engine: Engine, count: int, reason: str = "source_item_save") -> None:
    for start in range(0, count, 1000):
        await engine.queue.enqueue(
            EXPORT_TYPE_ID, [sku_of(i) for i in range(start, min(start + 1000, count))], reason=reason
        )


async def drain(engine: Engine, *, runs: int = 10) -> list[RunReport]:
    """Run the export until no row is pending (what the worker's cron does)."""
    reports: list[RunReport] = []
    for _ in range(runs):
        if not await engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing")):
            return reports
        await engine.queue.recover_expired(EXPORT_TYPE_ID)
        runner = ProfileRunner(engine)
        reports.append(await runner.run(EXPORT_TYPE_ID, trigger="manual", options=RunOptions(force=True)))
    if await engine.queue.count(EXPORT_TYPE_ID, statuses=("pending", "processing")):
        raise RuntimeError(f"rows still pending after {runs} runs: {reports[-1].run.message}")
    return reports
