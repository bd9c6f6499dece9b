"""``plentysync demo``: the engine end to end on the embedded default (SQLite + sandbox)."""

from __future__ import annotations

from typing import Any

from plentysync.cli.context import Common, open_engine
from plentysync.cli.output import RichProgress, console, emit, fmt_time
from plentysync.cli.runs import render_report
from plentysync.engine.pipeline import RunOptions
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.errors import UsageError
from plentysync.sandbox.demo import DEMO_ENTITY, DEMO_TYPE_ID, DemoRemote, demo_remote_path


async def demo(
    *,
    keys: int = 250,
    fresh: bool = False,
    common: Common = Common(),
) -> int:
    """Watch a sync run end to end on SQLite and the sandbox, with no other setup.

    Creates the sandbox demo profile (with a schedule), queues changes (some twice, to show
    coalescing), runs the profile with a progress bar, then queues everything again and runs once
    more to show that unchanged records cost no API call. Two records are set up to fail: one is
    rejected for good, one fails once and is retried. Afterwards the usual commands work on it:
    `plentysync profile info sandbox_demo_export`, `plentysync queue stats`, `plentysync profile history`.

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

    data: dict[str, Any] = {
        "database": engine.db.display_url,
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
    }

    def human() -> None:
        console.print(
            f"6. Simulated remote calls: {calls} (batches of 100; unchanged records were skipped). "
            f"Identity links: {linked}. Queue now: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_status.items()))
        )
        if next_runs:
            console.print(f"   Next scheduled runs: {', '.join(fmt_time(t) for t in next_runs)}")
        console.print(
            "Look around: plentysync profile list · plentysync queue stats · plentysync profile history · "
            f"plentysync queue list -p {DEMO_TYPE_ID} --status error,pending"
        )

    emit(common.json, data, human)
    return 0
