"""``plentysync worker``: the long-running process (schedules, queue drains, pollers, broker consumer,
notifications), and ``worker status``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any

from cyclopts import App, Parameter

from plentysync.cli import signals
from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import confirm, console, emit, fmt_time, styled, table
from plentysync.engine.services import Engine
from plentysync.errors import ConfigError, UsageError
from plentysync.log import get_logger
from plentysync.runtime.heartbeat import WorkerRegistry, WorkerRow
from plentysync.runtime.worker import ConsumerFactory, MessageHandler, Notifications, Worker, WorkerOptions

log = get_logger(__name__)

app = App(
    name="worker",
    help="The long-running process: runs due schedules, drains the queues, runs the pollers, consumes "
    "the message queue and sends notifications. `plentysync worker` starts it; `worker status` lists workers.",
)


def consumer_factory(engine: Engine) -> ConsumerFactory | None:
    """The broker consumer when ``broker_url`` is set (extra ``amqp``)."""
    settings = engine.settings
    if not settings.broker_url:
        return None
    try:
        from plentysync.runtime.consumer import AmqpConsumer
    except ImportError as exc:
        raise ConfigError(
            f"broker_url is set but the message-queue support is missing ({exc}): install plentysync[amqp]"
        ) from None
    url = settings.broker_url

    def build(types: Sequence[str], handler: MessageHandler) -> Any:
        return AmqpConsumer(url, settings.broker, list(types), handler)

    return build


def notifier(engine: Engine) -> Notifications | None:
    if not engine.settings.notifications.enabled:
        return None
    from plentysync.runtime.notify import Notifier

    return Notifier(engine.db, engine.settings.notifications, engine.clock)


def _install_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT: stop gracefully; a second one cancels what is still running."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal(signame: str) -> None:
        signals.note(signal.Signals[signame])
        if stop.is_set():
            log.warning("worker.second_signal", signal=signame)
            if main is not None:
                main.cancel()
            return
        log.info("worker.signal", signal=signame)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig.name)


@app.default
async def worker_run(
    *,
    name: str | None = None,
    once: bool = False,
    no_schedules: bool = False,
    no_producers: bool = False,
    no_broker: bool = False,
    profile: Annotated[list[str] | None, Parameter(name=["--profile", "-p"])] = None,
    common: Common = Common(),
) -> int:
    """Start a worker and keep it running until SIGTERM or Ctrl-C.

    It runs the due schedule jobs, the stock pollers and drift sweep at their intervals, drains every
    enabled queue-backed profile whose queue has due rows, consumes RabbitMQ messages when broker_url
    is set, sends notifications and writes a heartbeat row. Several workers may share a PostgreSQL or
    MariaDB database (each row is processed by exactly one); on SQLite a second worker is refused.

    On SIGTERM a worker lets each run finish its current batch (worker.shutdown_grace_seconds),
    returns the rest to the queue and exits; a second signal stops at once (rows return to the queue
    when their lease runs out).

    Examples: plentysync worker; plentysync worker --name host1-a; plentysync worker --once --json

    Parameters
    ----------
    name
        This worker's name in the heartbeat table (default host:pid); use a stable one per systemd unit.
    once
        Do one pass of everything due, drain the queues until no row is due, then exit.
    no_schedules
        Do not run schedule jobs (another worker or cron does).
    no_producers
        Do not run the pollers and the drift sweep.
    no_broker
        Do not consume the message queue even when broker_url is set.
    profile
        Drain only these profile types (repeatable); default every queue-backed one.
    """
    stop = asyncio.Event()
    async with open_engine(common) as engine:
        options = WorkerOptions(
            schedules=not no_schedules,
            producers=not no_producers,
            profiles=tuple(profile) if profile else None,
            once=once,
            **({"name": name} if name else {}),
        )
        worker = Worker(
            engine,
            options,
            consumer_factory=None if (no_broker or once) else consumer_factory(engine),
            notifier=notifier(engine),
            stop=stop,
        )
        _install_signals(stop)

        def started() -> None:
            if not common.json and not once:
                consuming = "" if worker.consumer_factory is None else ", consuming " + engine.settings.broker.exchange
                console.print(
                    f"Worker {options.name} started on {engine.db.display_url}: "
                    f"drains {', '.join(worker.drain_types) or '—'}{consuming}. SIGTERM or Ctrl-C stops it."
                )

        stats = await worker.run(on_started=started)
    data = {"worker": options.name, **stats.__dict__}

    def human() -> None:
        console.print(
            f"Worker {options.name} stopped: {stats.runs} runs ({stats.runs_failed} failed), {stats.rows} rows, "
            f"{stats.messages} broker messages, {stats.errors} loop errors."
        )
        if stats.last_error:
            console.print(f"[yellow]Last error:[/yellow] {stats.last_error}")

    emit(common.json, data, human)
    return 0 if stats.runs_failed == 0 else 1


def _row_data(row: WorkerRow) -> dict[str, Any]:
    info = row.info
    return {
        "name": row.name,
        "host": row.host,
        "pid": row.pid,
        "state": row.state,
        "started_at": row.started_at,
        "heartbeat_at": row.heartbeat_at,
        "heartbeat_age_seconds": round(row.heartbeat_age, 1),
        "stopped_at": row.stopped_at,
        "version": info.get("version"),
        "broker": info.get("broker"),
        "drains": info.get("drains", []),
        "activity": info.get("activity", {}),
        "runs": info.get("runs", 0),
        "runs_failed": info.get("runs_failed", 0),
        "rows": info.get("rows", 0),
        "messages": info.get("messages", 0),
        "errors": info.get("errors", 0),
        "last_error": info.get("last_error"),
    }


def render_workers(rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        console.print("No worker has registered yet: start one with `plentysync worker`.")
        return
    grid = table("Worker", "State", "Heartbeat", "Started", "Broker", "Runs", "Rows", "Errors", "Doing")
    for r in rows:
        doing = ", ".join(f"{k}: {v}" for k, v in r["activity"].items() if v != "idle") or "idle"
        grid.add_row(
            f"{r['name']} (pid {r['pid']})",
            styled(r["state"]),
            f"{r['heartbeat_age_seconds']:.0f} s ago",
            fmt_time(r["started_at"]),
            str(r["broker"] or "—"),
            f"{r['runs']} ({r['runs_failed']} failed)",
            str(r["rows"]),
            str(r["errors"]),
            doing if r["state"] in ("running", "stopping") else "—",
        )
    console.print(grid)


async def load_workers(engine: Engine) -> list[dict[str, Any]]:
    registry = WorkerRegistry(
        engine.db, engine.clock, lost_after=timedelta(seconds=engine.settings.worker.lost_after_seconds)
    )
    return [_row_data(r) for r in await registry.list()]


@app.command(name="status")
async def worker_status(*, prune_days: float | None = None, force: bool = False, common: Common = Common()) -> int:
    """List the workers with their state (running, stopping, stopped, or lost when the heartbeat is older
    than worker.lost_after_seconds), heartbeat age, what each is doing and its counters.
    Exit code 1 when no worker is alive.

    Example: plentysync worker status --json

    Parameters
    ----------
    prune_days
        Delete the rows of workers whose last heartbeat is older than this many days (asks first).
    force
        Prune without asking.
    """
    async with open_engine(common) as engine:
        pruned = None
        if prune_days is not None:
            if prune_days <= 0:
                raise UsageError("--prune-days must be positive")
            confirm(f"Delete worker rows with no heartbeat for {prune_days:g} days?", force=force)
            registry = WorkerRegistry(
                engine.db, engine.clock, lost_after=timedelta(seconds=engine.settings.worker.lost_after_seconds)
            )
            pruned = await registry.prune(timedelta(days=prune_days))
        rows = await load_workers(engine)
    alive = [r for r in rows if r["state"] in ("running", "stopping")]

    def human() -> None:
        if pruned is not None:
            console.print(f"Pruned {pruned} worker rows.")
        render_workers(rows)
        if rows and not alive:
            console.print("[red]No worker is alive.[/red] Queued rows wait until one runs.")

    emit(common.json, {"workers": rows, "alive": len(alive), "pruned": pruned}, human)
    return 0 if alive else 1
