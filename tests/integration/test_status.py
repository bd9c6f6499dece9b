"""``plentysync status`` in-process on every backend: rows made by the real services (profiles, schedule
jobs, queue, a run of the demo profile, a worker heartbeat, a shared API budget) show in the JSON and
on the screen, and the exit code says whether something needs attention."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
import pytest
from sqlalchemy import update

from plentysync.cli import output
from plentysync.cli.app import main
from plentysync.cli.context import build_registry
from plentysync.db import Database
from plentysync.db.tables import profile_run
from plentysync.engine.runner import ProfileRunner
from plentysync.engine.services import Engine
from plentysync.http.budget import WindowReading
from plentysync.http.shared_budget import SharedBudgetConfig, SharedGate, account_key
from plentysync.runtime.heartbeat import WorkerRegistry
from plentysync.sandbox.demo import DEMO_TYPE_ID
from plentysync.settings import Settings
from plentysync.sync.stock.config import EXPORT_TYPE_ID
from tests.integration.web.rows import add_drift

pytestmark = [pytest.mark.anyio, pytest.mark.db]

PLENTY_URL = "https://p1.my.plentysystems.com/"
PLENTY_USER = "rest-user-4711"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def _cli_on_the_test_database(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLENTYSYNC_DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setattr(output.console, "width", 220)
    monkeypatch.setattr("sys.stdin", io.StringIO())


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> Outcome:
    capsys.readouterr()
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


async def status(capsys: pytest.CaptureFixture[str], *args: str, code: int) -> Outcome:
    """The command in a worker thread: it runs its own event loop, as it does in a shell."""
    result = await anyio.to_thread.run_sync(lambda: _run(capsys, ["status", *args]))
    assert result.code == code, f"exit {result.code}\n{result.out}\n{result.err}"
    return result


def engine_for(db: Database) -> Engine:
    return Engine.build(db, build_registry(), Settings())


def by_type(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["type_id"]: p for p in data["profiles"]}


async def register_worker(engine: Engine, name: str) -> WorkerRegistry:
    registry = WorkerRegistry(engine.db, engine.clock, lost_after=timedelta(seconds=60))
    info = {"version": "test", "broker": None, "drains": [DEMO_TYPE_ID], "activity": {DEMO_TYPE_ID: "idle"}}
    await registry.register(name, info)
    return registry


async def test_status_shows_profiles_runs_queue_errors_budget_workers_and_drift(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = engine_for(db)
    demo = await engine.profiles.create(DEMO_TYPE_ID, enabled=True, config={"reject_keys": ["D-03"]})
    await engine.profiles.create(EXPORT_TYPE_ID)  # defaults only: no warehouse mapping yet
    await engine.schedules.set(demo.id, "*/5 * * * *", "Europe/Berlin")
    assert await engine.schedules.plan() > 0
    await engine.queue.enqueue(DEMO_TYPE_ID, [f"D-0{n}" for n in range(1, 6)], reason="cli")
    report = await ProfileRunner(engine).run(DEMO_TYPE_ID, trigger="cli")
    assert (report.status, report.run.processed, report.run.errors) == ("partial", 5, 1)
    await engine.queue.enqueue(DEMO_TYPE_ID, ["D-06", "D-07"], reason="product_save")
    await register_worker(engine, "status-w1")
    gate = SharedGate(db, account_key(PLENTY_URL, PLENTY_USER), "write", SharedBudgetConfig(concurrency=3))
    holder = await gate.acquire()
    await gate.release(holder, {"short": WindowReading(limit=80, calls_left=50, decay=30)})
    await gate.acquire()  # a call in flight
    gate.penalize(20)  # a 429 with Retry-After: 20
    await gate.flush()
    await add_drift(db, "SKU-DRIFT", consecutive=2, now=db.clock.now())

    data = (await status(capsys, "--json", code=1)).json()
    assert data["healthy"] is False
    assert [(a["check"], a["profile"]) for a in data["attention"]] == [("queue_errors", DEMO_TYPE_ID)]
    profiles = by_type(data)
    assert list(profiles) == [DEMO_TYPE_ID, EXPORT_TYPE_ID]
    shown = profiles[DEMO_TYPE_ID]
    assert (shown["enabled"], shown["state"], shown["lifecycle"], shown["running"]) == (True, "idle", "completed", [])
    last = shown["last_run"]
    assert (last["id"], last["status"], last["trigger"]) == (report.run.id, "partial", "cli")
    assert (last["processed"], last["succeeded"], last["errors"]) == (5, 4, 1)
    assert last["duration_seconds"] >= 0
    assert shown["runs_24h"] == {"by_status": {"partial": 1}, "success_rate": 1.0}
    next_run = shown["next_run"]
    assert next_run["source"] == "schedule_job"
    assert next_run["at"] == min(j.scheduled_at for j in await engine.schedules.jobs(demo.id)).isoformat()
    assert shown["queue"]["by_status"] == {"pending": 2, "processing": 0, "success": 4, "error": 1, "skipped": 0}
    assert (shown["queue"]["waiting"], shown["queue"]["depth"]) == (2, "ok")
    assert shown["queue"]["oldest_pending_seconds"] is not None
    stock = profiles[EXPORT_TYPE_ID]
    assert (stock["enabled"], stock["state"], stock["next_run"], stock["last_run"]) == (
        False,
        "misconfigured",
        None,
        None,
    )
    assert "main_warehouse_id" in stock["problem"]

    errors = data["errors"]
    assert errors["queue_rows"] == 1
    assert [(r["profile_type"], r["entity_key"], r["attempts"]) for r in errors["queue_samples"]] == [
        (DEMO_TYPE_ID, "D-03", 1)
    ]
    assert "rejected by the remote" in errors["queue_samples"][0]["message"]
    assert (errors["failed_runs_24h"], errors["unfinished_runs"]) == ([], [])

    [budget] = data["api_budget"]
    assert (budget["base_url"], budget["kind"]) == ("https://p1.my.plentysystems.com", "write")
    assert budget["account"].startswith("https://p1.my.plentysystems.com#")
    assert [(w["name"], w["left"], w["limit"]) for w in budget["windows"]] == [("short", 50, 80)]
    assert 0 < budget["windows"][0]["resets_in_seconds"] <= 31
    assert (budget["in_flight"], budget["blocked"], budget["throttled"]) == (1, True, 1)
    assert 0 < budget["blocked_for_seconds"] <= 20

    workers = data["workers"]
    assert (workers["alive"], workers["registered"]) == (1, 1)
    assert (workers["rows"][0]["name"], workers["rows"][0]["state"]) == ("status-w1", "running")
    assert data["broker"]["configured"] is False
    assert data["stock_drift"] == {"skus": 1, "persistent_skus": 1}

    human = await status(capsys, code=1)
    assert "Needs attention (1)" in human.out
    for text in (DEMO_TYPE_ID, "misconfigured", "D-03", "status-w1", "https://p1.my.plentysystems.com", "short: 50/80"):
        assert text in human.out, text
    for out in (human.out, json.dumps(data)):
        assert PLENTY_USER not in out  # the account's username never shows

    only = (await status(capsys, "--profile", EXPORT_TYPE_ID, "--json", code=0)).json()
    assert list(by_type(only)) == [EXPORT_TYPE_ID]
    assert (only["healthy"], only["errors"]["queue_rows"], only["errors"]["queue_samples"]) == (True, 0, [])
    assert len(only["api_budget"]) == 1  # budgets, workers and broker are shown with a filter too


async def test_running_comes_from_the_run_lease_and_from_unfinished_runs_with_a_live_owner(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = engine_for(db)
    demo = await engine.profiles.create(DEMO_TYPE_ID, enabled=True)
    stock = await engine.profiles.create(EXPORT_TYPE_ID)
    await register_worker(engine, "w1")
    # an exclusive run in another process: the profile's run lease plus its run row
    owner = "elsewhere:1:abcdef"
    assert await engine.profiles.acquire_run(demo.id, owner, timedelta(minutes=5))
    held = await engine.history.start(
        profile_id=demo.id, type_id=DEMO_TYPE_ID, trigger="cli", dry_run=False, owner=owner
    )
    await engine.profiles.set_current_run(demo.id, owner, held.id)
    # stock export runs overlap across workers and take no lease: one by the live worker w1, one by a
    # process that died an hour ago without finishing its run
    live = await engine.history.start(
        profile_id=stock.id, type_id=EXPORT_TYPE_ID, trigger="cron", dry_run=False, owner="w1:drain"
    )
    dead = await engine.history.start(
        profile_id=stock.id, type_id=EXPORT_TYPE_ID, trigger="cron", dry_run=False, owner="gone:77:drain"
    )
    an_hour_ago = db.clock.now() - timedelta(hours=1)
    await db.write(update(profile_run).where(profile_run.c.id == dead.id).values(started_at=an_hour_ago))

    data = (await status(capsys, "--json", code=0)).json()
    profiles = by_type(data)
    assert profiles[DEMO_TYPE_ID]["state"] == "running"
    assert profiles[DEMO_TYPE_ID]["run_lease_owner"] == owner
    assert [r["id"] for r in profiles[DEMO_TYPE_ID]["running"]] == [held.id]
    assert profiles[EXPORT_TYPE_ID]["state"] == "running"  # running beats misconfigured and disabled
    assert [r["id"] for r in profiles[EXPORT_TYPE_ID]["running"]] == [live.id]
    assert [(r["id"], r["owner"]) for r in data["errors"]["unfinished_runs"]] == [(dead.id, "gone:77:drain")]
    human = await status(capsys, code=0)
    assert "no sign of life" in human.out

    # a worker restarted under the same name does not revive a run its previous life left unfinished
    await db.write(update(profile_run).where(profile_run.c.id == live.id).values(started_at=an_hour_ago))
    data = (await status(capsys, "--json", code=0)).json()
    assert by_type(data)[EXPORT_TYPE_ID]["state"] == "misconfigured"
    assert sorted(r["id"] for r in data["errors"]["unfinished_runs"]) == sorted([live.id, dead.id])


async def test_exit_code_follows_workers_and_failing_profiles(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    engine = engine_for(db)
    empty = (await status(capsys, "--json", code=0)).json()
    assert (empty["healthy"], empty["profiles"], empty["workers"]["registered"]) == (True, [], 0)

    await engine.profiles.create(DEMO_TYPE_ID, enabled=True, config={"reject_keys": ["BAD"]})
    await engine.queue.enqueue(DEMO_TYPE_ID, ["OK-1", "OK-2"], reason="cli")
    assert (await ProfileRunner(engine).run(DEMO_TYPE_ID)).status == "success"
    data = (await status(capsys, "--json", code=1)).json()
    assert [a["check"] for a in data["attention"]] == ["workers"]  # enabled, and nobody drains it

    registry = await register_worker(engine, "w-ok")
    healthy = await status(capsys, code=0)
    assert "Healthy." in healthy.out

    await engine.queue.enqueue(DEMO_TYPE_ID, ["BAD"], reason="cli")
    failed = await ProfileRunner(engine).run(DEMO_TYPE_ID)
    assert failed.status == "failed"
    data = (await status(capsys, "--json", code=1)).json()
    assert sorted(a["check"] for a in data["attention"]) == ["failing_profile", "queue_errors"]
    assert [r["id"] for r in data["errors"]["failed_runs_24h"]] == [failed.run.id]
    assert by_type(data)[DEMO_TYPE_ID]["runs_24h"]["by_status"] == {"success": 1, "failed": 1}

    await registry.stopped("w-ok", {})
    await engine.queue.purge(DEMO_TYPE_ID, everything=True)
    await engine.profiles.set_enabled(DEMO_TYPE_ID, False)
    data = (await status(capsys, "--json", code=0)).json()  # nothing enabled: no worker needed
    assert (data["healthy"], data["workers"]["alive"], by_type(data)[DEMO_TYPE_ID]["state"]) == (True, 0, "disabled")
