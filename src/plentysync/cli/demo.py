"""``plentysync demo``: the engine end to end on the embedded default (SQLite + sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from plentysync.cli.context import Common, open_engine
from plentysync.cli.demo_stock import run_stock_demo
from plentysync.cli.output import RichProgress, console, emit, fmt_time
from plentysync.cli.runs import render_report
from plentysync.engine.connections import Connection
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.errors import UsageError
from plentysync.sandbox.demo import DEMO_ENTITY, DEMO_TYPE_ID, DemoRemote, demo_remote_path
from plentysync.settings import Settings


async def check_sandbox_apis(settings: Settings) -> list[dict[str, Any]]:
    """Serve the simulated PlentyONE and Magento on loopback and check both through the real clients:
    PlentyONE login, webstores, warehouses and the announced budget; Magento OAuth 1.0a, websites and
    store views. Nothing is stored: the connections exist only for this check."""
    from plentysync.sandbox.apps import build_sandbox
    from plentysync.sandbox.server import serving
    from plentysync.sync.clients import check_connection

    pair = build_sandbox(size=1)
    now = datetime.now(UTC)
    plenty, magento = pair.plenty_config, pair.magento_config
    results = []
    with serving(pair.plenty_app) as plenty_server, serving(pair.magento_app) as magento_server:
        for system, url, credentials, options in (
            ("plenty", plenty_server.url, {"username": plenty.username, "password": plenty.password}, {}),
            (
                "magento",
                magento_server.url,
                {
                    "consumer_key": magento.consumer_key,
                    "consumer_secret": magento.consumer_secret,
                    "access_token": magento.access_token,
                    "access_token_secret": magento.access_token_secret,
                },
                {"auth": "oauth", "store_code": "default"},
            ),
        ):
            connection = Connection(
                id=0,
                name=f"sandbox-{system}",
                system=system,
                base_url=url,
                options=options,
                credentials={k: SecretStr(v) for k, v in credentials.items()},
                created_at=now,
                updated_at=now,
            )
            check = await check_connection(connection, settings)
            results.append({"system": system, "url": url, "ok": check.ok, "message": check.message})
    return results


async def demo(
    *,
    keys: int = 250,
    fresh: bool = False,
    common: Common = Common(),
) -> int:
    """Watch a sync run end to end on SQLite and the sandbox, with no other setup.

    First the simulated PlentyONE and Magento start on loopback and the real API clients check them
    (PlentyONE login and API budget, Magento OAuth 1.0a). Then the engine: it creates the sandbox demo
    profile (with a schedule), queues changes (some twice, to show coalescing), runs the profile with a
    progress bar, then queues everything again and runs once more to show that unchanged records cost
    no API call. Two records are set up to fail: one is rejected for good, one fails once and is
    retried. Afterwards the usual commands work on it: `plentysync profile info sandbox_demo_export`,
    `plentysync queue stats`, `plentysync profile history`.

    Example: plentysync demo --keys 1000

    Parameters
    ----------
    keys
        How many demo records to queue.
    fresh
        Start over: forget the demo profile's queue rows, links and simulated remote first.
    """
    if not 20 <= keys <= 1_000_000:
        raise UsageError("--keys must be between 20 and 1000000")
    names = [f"DEMO-{n:05d}" for n in range(1, keys + 1)]

    def say(text: str) -> None:
        if not common.json:
            console.print(text)

    async with open_engine(common) as engine:
        remote = DemoRemote(demo_remote_path(engine.settings))
        say(f"[bold]plentysync demo[/bold] on {engine.db.display_url}")
        if fresh:
            await engine.queue.purge(DEMO_TYPE_ID, everything=True)
            await engine.links.delete(DEMO_ENTITY, names)
            remote.path.unlink(missing_ok=True)
            say("Started over: demo queue, links and simulated remote cleared.")
        api_checks = await check_sandbox_apis(engine.settings)
        for check in api_checks:
            label = "PlentyONE" if check["system"] == "plenty" else "Magento"
            mark = "[green]ok[/green]" if check["ok"] else "[red]failed[/red]"
            say(f"0. {label} sandbox at {check['url']}: {mark}, {check['message']}")
        if not all(check["ok"] for check in api_checks):
            raise UsageError("the built-in sandbox did not answer as expected; see the messages above")
        record = await engine.profiles.find(DEMO_TYPE_ID)
        if record is None:
            record = await engine.profiles.create(
                DEMO_TYPE_ID,
                config={"reject_keys": [names[12]], "flaky_keys": [names[6]], "process_batch_size": 100},
            )
            await engine.schedules.set(record.id, "*/5 * * * *", "Europe/Berlin")
            record = await engine.profiles.set_enabled(record.id, True)
            say(f"1. Created profile {record.id} ({DEMO_TYPE_ID}), enabled, scheduled every 5 minutes (Europe/Berlin).")
        else:
            say(f"1. Using the existing profile {record.id} ({DEMO_TYPE_ID}).")

        first = await engine.queue.enqueue(DEMO_TYPE_ID, names, reason="manual")
        again = names[: max(1, keys // 5)]
        second = await engine.queue.enqueue(DEMO_TYPE_ID, again, reason="product_save")
        say(
            f"2. Queued {keys} changes ({first.inserted} new rows), then {len(again)} of them changed again: "
            f"{second.updated} rows coalesced, still {keys} rows."
        )

        calls_before = remote.snapshot()["calls"]
        runner = ProfileRunner(engine)
        reports: list[RunReport] = []
        for step, label in ((3, "Run"), (5, "Run again")):
            if step == 5:
                await engine.queue.enqueue(DEMO_TYPE_ID, names, reason="collect_drift")
                say(f"4. Queued all {keys} records again (as a drift sweep would).")
            with RichProgress(f"{label} {DEMO_TYPE_ID}", enabled=not common.json) as progress:
                report = await runner.run(DEMO_TYPE_ID, trigger="manual", options=RunOptions(), progress=progress)
            reports.append(report)
            if not common.json:
                console.print(f"{step}. ", end="")
                render_report(report, verbose=0)
        calls = remote.snapshot()["calls"] - calls_before
        stats = await engine.queue.stats(DEMO_TYPE_ID)
        linked = await engine.links.count(DEMO_ENTITY)
        next_runs = await engine.schedules.next_runs(record.id, 2)
        say(
            f"6. Simulated remote calls: {calls} (batches of 100; unchanged records were skipped). "
            f"Identity links: {linked}. Queue now: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_status.items()))
        )
        stock = await run_stock_demo(engine, say, quiet=common.json, fresh=fresh)

    data: dict[str, Any] = {
        "database": engine.db.display_url,
        "sandbox_apis": api_checks,
        "profile_id": record.id,
        "queued": keys,
        "coalesced": second.updated,
        "runs": [
            {
                "run_id": r.run.id,
                "status": r.run.status,
                "processed": r.run.processed,
                "succeeded": r.run.succeeded,
                "errors": r.run.errors,
                "skipped": r.run.skipped,
            }
            for r in reports
        ],
        "remote_calls": calls,
        "queue": stats.by_status,
        "links": linked,
        "next_runs": next_runs,
        "stock": {"skipped": stock.skipped, "sku": stock.sku, "steps": stock.steps},
    }

    def human() -> None:
        if next_runs:
            console.print(f"   Next scheduled runs: {', '.join(fmt_time(t) for t in next_runs)}")
        console.print(
            "Look around: plentysync profile list · plentysync queue stats · plentysync profile history · "
            f"plentysync queue list -p {DEMO_TYPE_ID} --status error,pending · plentysync stock export show "
            f"{stock.sku or 'SKU'}"
        )

    emit(common.json, data, human)
    return 0
