"""``plentysync stock ...`` in-process against both sandboxes over loopback HTTP, on the SQLite database the
CLI opens from its settings: the seed's summaries, per-SKU results, JSON shapes, confirmations and the
queue / baseline maintenance commands."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from rich.console import Console

from plentysync.cli import output
from plentysync.cli.app import app, main
from plentysync.db import Database
from plentysync.db.migrate import upgrade
from plentysync.sandbox.faults import FaultRule
from plentysync.settings import Settings
from plentysync.sync.stock.config import EXPORT_TYPE_ID, IMPORT_TYPE_ID
from plentysync.sync.stock.mapping import SETTLED
from tests.integration.stock.harness import StockScenario, StockScenarioBuilder

COMMANDS = [
    ["stock", "export"], ["stock", "export", "add"], ["stock", "export", "purge"], ["stock", "export", "drift"],
    ["stock", "export", "poll"], ["stock", "export", "show"], ["stock", "export", "reset-baseline"],
    ["stock", "export", "check"], ["stock", "import"],
]  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def _wide_console_without_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output.console, "width", 250)
    monkeypatch.setattr("sys.stdin", io.StringIO())  # confirmations refuse unless --force


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


async def cli(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Outcome:
    """The command in a worker thread: it runs its own event loop, as it does in a shell."""
    result = await anyio.to_thread.run_sync(lambda: run_cli(capsys, *args))
    assert result.code == code, f"exit {result.code}\n{result.out}\n{result.err}"
    return result


@asynccontextmanager
async def cli_database() -> AsyncIterator[Database]:
    """The database the CLI opens (``<data_dir>/plentysync.db``), migrated."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db)
        await db.sync_clock()
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def scenario() -> AsyncIterator[StockScenario]:
    async with cli_database() as db, StockScenarioBuilder(db).build() as s:
        await s.configure(stock_source_mapping={"default": 1})
        yield s


def parent_sku(s: StockScenario) -> tuple[str, str]:
    return next(
        (sku, p["type_id"])
        for sku, p in sorted(s.pair.magento_state.products.items())
        if p["type_id"] == "configurable"
    )


pytestmark = pytest.mark.anyio


# -- without systems -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example_and_json(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.StringIO()
    app.help_print(command, console=Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert re.search(r"Example: plentysync " + " ".join(command), text), text
    assert "--json" in text
    assert run_cli(capsys, *command, "--help").code == 0


def test_without_a_scope_export_does_nothing_and_says_how(capsys: pytest.CaptureFixture[str]) -> None:
    human = run_cli(capsys, "stock", "export")
    assert human.code == 0
    assert "intentionally does nothing" in human.out
    assert "--status=pending" in human.out
    data = run_cli(capsys, "stock", "export", "--json").json()
    assert data["run"] is None
    assert "--status=pending" in data["hint"]


def test_missing_profiles_say_how_to_create_them(capsys: pytest.CaptureFixture[str]) -> None:
    export = run_cli(capsys, "stock", "export", "--status", "pending")
    assert export.code == 2
    assert "plentysync profile create --type plenty_stock_export --config-file" in export.err
    imported = run_cli(capsys, "stock", "import", "--json")
    assert imported.code == 2
    assert f"--type {IMPORT_TYPE_ID}" in imported.json()["error"]["message"]
    assert run_cli(capsys, "stock", "export", "--status", "running").code == 2


# -- against the sandboxes -------------------------------------------------------------------------


async def test_export_by_sku_seeds_the_queue_then_reports_per_sku(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    first, second = s.stock_skus(2, sources=1)
    parent, kind = parent_sku(s)
    result = await cli(capsys, "stock", "export", "-s", f"{first},{second}", "-s", parent)
    assert "Seeded queue: 2 inserted, 0 updated" in result.out
    assert f"{parent} ({kind})" in result.out
    assert "Entities" in result.out
    assert first in result.out
    assert second in result.out
    assert s.plenty_physical(first, 1) == s.magento_qty(first)
    (row,) = await s.engine.queue.list_items(EXPORT_TYPE_ID, keys=[first])
    assert row.version == 1  # queued once by the seed step, not again by the run

    data = (await cli(capsys, "stock", "export", "-s", first, "--json")).json()
    assert (data["seed"]["inserted"], data["seed"]["updated"]) == (0, 1)
    assert data["run"]["profile"] == EXPORT_TYPE_ID
    assert data["run"]["status"] == "success"
    assert [e["key"] for e in data["run"]["entities"]] == [first]

    drained = (await cli(capsys, "stock", "export", "--status", "pending", "--json")).json()
    assert drained["seed"] is None
    assert drained["run"]["processed"] == 0

    product_id = s.pair.magento_state.products[second]["id"]
    by_id = (await cli(capsys, "stock", "export", "-i", str(product_id), "--json")).json()
    assert [e["key"] for e in by_id["run"]["entities"]] == [second]


async def test_show_lists_the_queue_row_baselines_and_bookings(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    await s.configure(correction_mode="delta", stock_source_mapping={"default": 1})
    sku = s.stock_skus(1, sources=1)[0]
    await cli(capsys, "stock", "export", "-s", sku)
    s.set_magento(sku, "default", (s.magento_qty(sku) or 0) + 2)
    await cli(capsys, "stock", "export", "-s", sku)

    human = await cli(capsys, "stock", "export", "show", sku)
    assert "Baselines" in human.out
    assert "Bookings, newest first" in human.out
    assert "bookIncomingItems" in human.out
    assert "createStockCorrection" in human.out
    data = (await cli(capsys, "stock", "export", "show", sku, "--json")).json()
    assert data["queue"]["status"] == "success"
    assert data["queue"]["trigger_reason"] == "cli"
    assert [b["warehouse_id"] for b in data["baselines"]] == [1]
    assert [b["operation"] for b in data["bookings"]] == ["bookIncomingItems", "createStockCorrection"]
    assert data["bookings"][0]["delta"] == 2


async def test_reset_baseline_asks_and_dry_run_changes_nothing(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    sku = s.stock_skus(1, sources=1)[0]
    await cli(capsys, "stock", "export", "-s", sku)
    assert await s.store.baseline_rows(sku)

    dry = (await cli(capsys, "stock", "export", "reset-baseline", "-s", sku, "--dry-run", "--json")).json()
    assert (dry["dry_run"], dry["baselines"]) == (True, 1)
    refused = await cli(capsys, "stock", "export", "reset-baseline", "-s", sku, code=2)
    assert "pass --force" in refused.err
    assert await s.store.baseline_rows(sku)

    done = await cli(capsys, "stock", "export", "reset-baseline", "-s", sku, "--force")
    assert "Forgot 1 baselines" in done.out
    assert await s.store.baseline_rows(sku) == []


async def test_add_and_purge_manage_the_export_queue(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    done, waiting = s.stock_skus(2, sources=1)
    await cli(capsys, "stock", "export", "-s", done)
    refused = await cli(capsys, "stock", "export", "add", "--all", code=2)
    assert "pass --force" in refused.err

    parent, kind = parent_sku(s)
    added = (await cli(capsys, "stock", "export", "add", "-s", f"{waiting},{parent},NO-SUCH-SKU", "--json")).json()
    assert added["eligible"] == [waiting]
    assert added["skipped"] == {parent: kind}
    assert added["unknown"] == ["NO-SUCH-SKU"]

    whole = (await cli(capsys, "stock", "export", "add", "--all", "--force", "--json")).json()
    eligible = [p for p in s.pair.magento_state.products.values() if p["type_id"] in ("simple", "virtual")]
    assert whole["inserted"] + whole["updated"] == len(eligible)

    await s.engine.queue.purge(EXPORT_TYPE_ID, keys=[k for k in whole["eligible"] if k not in (done, waiting)])
    dry = (await cli(capsys, "stock", "export", "purge", "--older-than", "0", "--dry-run", "--json")).json()
    assert dry == {"dry_run": True, "rows": 0, "baselines_kept": True}  # done was queued again by --all
    await cli(capsys, "stock", "export", "-s", done)
    purged = await cli(capsys, "stock", "export", "purge", "--older-than", "0")
    assert "Deleted 1 export queue rows" in purged.out
    assert "Baselines are kept" in purged.out
    left = await s.engine.queue.list_items(EXPORT_TYPE_ID)
    assert [(row.entity_key, row.status) for row in left] == [(waiting, "pending")]
    assert await s.store.baseline_rows(done)

    await cli(capsys, "stock", "export", "purge", "--all", code=2)
    await cli(capsys, "stock", "export", "purge", "--all", "--force")
    assert await s.engine.queue.list_items(EXPORT_TYPE_ID) == []


async def test_check_lists_reference_data_and_problems(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    ok = (await cli(capsys, "stock", "export", "check", "--json")).json()
    assert ok["ok"] is True
    assert 1 in [w["id"] for w in ok["warehouses"]]
    assert "default" in [src["source_code"] for src in ok["sources"]]
    await s.configure(stock_source_mapping={"default": 1, "nowhere": 99})
    bad = await cli(capsys, "stock", "export", "check", code=2)
    assert "PlentyONE has no warehouse 99" in bad.out
    assert "Magento has no source 'nowhere'" in bad.out


async def test_import_then_drift_finds_and_queues_divergent_skus(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    await s.configure(IMPORT_TYPE_ID, stock_source_mapping={"default": 1})
    empty = await cli(capsys, "stock", "export", "drift")
    assert "nothing could be compared" in empty.out

    sku = s.stock_skus(1, sources=1)[0]
    s.set_plenty(sku, 1, 7)
    imported = await cli(capsys, "stock", "import", "-s", sku)
    assert "plenty_stock_import, run" in imported.out
    assert sku in imported.out
    assert s.magento_qty(sku) == 7
    data = (await cli(capsys, "stock", "import", "-s", sku, "--dry-run", "--json")).json()
    assert (data["run"]["profile"], data["run"]["dry_run"]) == (IMPORT_TYPE_ID, True)

    s.set_magento(sku, "default", 9)
    dry = (await cli(capsys, "stock", "export", "drift", "--dry-run", "--json")).json()
    assert (dry["divergent_skus"], dry["enqueued"]) == (1, 1)
    assert await s.engine.queue.list_items(EXPORT_TYPE_ID) == []
    await cli(capsys, "stock", "export", "drift")
    again = await cli(capsys, "stock", "export", "drift", "--limit", "1")
    assert "Keeps drifting" in again.out
    assert f"plentysync stock export reset-baseline -s {sku}" in again.out
    rows = await s.engine.queue.list_items(EXPORT_TYPE_ID)
    assert [(row.entity_key, row.trigger_reason) for row in rows] == [(sku, "collect_drift")]


async def test_poll_seeds_then_queues_changed_source_items(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario
    first = (await cli(capsys, "stock", "export", "poll", "--json")).json()
    assert [(p["producer"], p["seeded"]) for p in first["polls"]] == [("source_items", True), ("products", True)]
    sku = s.stock_skus(1, sources=1)[0]
    s.set_magento(sku, "default", (s.magento_qty(sku) or 0) + 3)
    dry = await cli(capsys, "stock", "export", "poll", "--dry-run")
    assert f"source_items: {len(s.pair.magento_state.source_items)} scanned, 1 changed" in dry.out
    assert f"would queue 1: {sku}" in dry.out
    assert await s.engine.queue.list_items(EXPORT_TYPE_ID) == []
    await cli(capsys, "stock", "export", "poll")
    rows = await s.engine.queue.list_items(EXPORT_TYPE_ID)
    assert [(row.entity_key, row.trigger_reason) for row in rows] == [(sku, "source_item_save")]


@pytest.mark.parametrize(
    ("plenty", "faults", "reason"),
    [
        ({"password": "changed"}, [], "PlentyONE rejected the login of user 'sandbox-api'"),
        ({}, [FaultRule("status", path="/rest/login", status=503)], "PlentyONE login failed: HTTP 503"),
    ],
    ids=["credentials", "outage"],
)
async def test_a_failed_run_prints_its_reason_on_one_line_without_retry_internals(
    capsys: pytest.CaptureFixture[str], plenty: dict[str, Any], faults: list[FaultRule], reason: str
) -> None:
    async with cli_database() as db, StockScenarioBuilder(db).with_plenty(**plenty).with_faults(*faults).build() as s:
        await s.configure(stock_source_mapping={"default": 1})
        sku = s.stock_skus(1, sources=1)[0]
        failed = await cli(capsys, "stock", "export", "-s", sku, code=1)
        summary, why = [line for line in failed.out.splitlines() if "run 1" in line or "Failed:" in line]
        assert "run 1: failed" in summary
        assert why.startswith("Failed: stopped: ")
        assert reason in why  # the whole reason on one line, as profile history shows it
        (run,) = await s.engine.history.list_runs()
        assert run.message is not None
        assert why == f"Failed: {run.message}"
        assert "stamina" not in failed.err
        assert "retry_scheduled" not in failed.err
        generic = await cli(capsys, "profile", "run", EXPORT_TYPE_ID, "-k", sku, "--force", code=1)
        assert f"Failed: {run.message.split(' (', 1)[0]}" in generic.out
        assert "stamina" not in generic.err


async def test_a_booking_whose_answer_was_lost_is_settled_as_booked_and_shown_so(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    """PlentyONE applies a delta booking, the run stops before the answer comes; the next run finds the
    booking in PlentyONE's movements and settles it without sending again. The row says so (it said
    "Stock is up-to-date", skipped) and ``show`` does not claim the run stopped before the row."""
    s = scenario
    await s.configure(correction_mode="delta", stock_source_mapping={"default": 1})
    sku = s.stock_skus(1, sources=1)[0]
    s.set_magento(sku, "default", 10)
    await s.export(sku)
    s.set_magento(sku, "default", 13)
    s.pair.plenty_faults.add(
        FaultRule("latency_after", method="PUT", path=r"/stock/bookIncomingItems", times=1, latency_ms=3000)
    )
    rule = s.pair.plenty_faults.rules()[0]
    interrupted = asyncio.create_task(s.export(sku))
    for _ in range(500):
        if rule.fired:
            break
        await asyncio.sleep(0.01)
    assert rule.fired == 1
    await asyncio.sleep(0.2)  # the sandbox applies the call before holding the answer
    interrupted.cancel()
    with pytest.raises(asyncio.CancelledError):
        await interrupted
    assert s.plenty_physical(sku, 1) == 13
    assert [b.status for b in await s.store.bookings(sku, limit=1)] == ["pending"]

    waiting = await cli(capsys, "stock", "export", "show", sku)
    assert "the run stopped before this row" not in waiting.out
    assert "the run stopped while this row's booking was in flight" in waiting.out
    assert "outcome unknown" in waiting.out
    assert "settles it" in (await cli(capsys, "stock", "export", "show", sku, "--json")).json()["unsettled"]

    settled = (await cli(capsys, "stock", "export", "-s", sku, "--json")).json()
    [entity] = settled["run"]["entities"]
    assert entity["status"] == "success", entity
    assert entity["message"].startswith(SETTLED)
    assert "Delta corrected (incoming): warehouse 1 +3 (baseline 10 → 13) (PlentyONE movement" in entity["message"]
    assert len([m for m in s.our_movements(sku, 1) if m["reason"] == 100]) == 1  # not sent again

    shown = await cli(capsys, "stock", "export", "show", sku)
    assert "success" in shown.out
    assert SETTLED in shown.out
    assert "shows it was applied" in shown.out  # the booking's own settle message
    assert "outcome unknown" not in shown.out
    data = (await cli(capsys, "stock", "export", "show", sku, "--json")).json()
    assert data["queue"]["status"] == "success"
    assert data["unsettled"] is None
    assert data["bookings"][0]["status"] == "applied"


async def test_rows_another_run_holds_are_named_and_fail_the_command(
    scenario: StockScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second ``stock export -s SKU`` while another run holds the row reported "0 processed", exit 0."""
    s = scenario
    held, free = s.stock_skus(2, sources=1)
    record = await s.engine.profiles.find(EXPORT_TYPE_ID)
    assert record is not None
    owner = "other-host:4242:abcdef"
    other = await s.engine.history.start(
        profile_id=record.id, type_id=EXPORT_TYPE_ID, trigger="cli", dry_run=False, owner=owner
    )
    await s.engine.queue.enqueue(EXPORT_TYPE_ID, [held], reason="cli")
    assert await s.engine.queue.claim(EXPORT_TYPE_ID, owner=owner, limit=1, keys=[held])

    human = await cli(capsys, "stock", "export", "-s", held, code=1)
    assert "1 processed" not in human.out
    assert "another run holds 1 of the rows" in human.out
    row = next(line for line in human.out.splitlines() if held in line and owner in line)
    assert str(other.id) in row

    data = (await cli(capsys, "stock", "export", "-s", f"{held},{free}", "--json", code=1)).json()
    assert [e["key"] for e in data["run"]["entities"]] == [free]
    [entry] = data["run"]["held_by_another_run"]
    assert (entry["key"], entry["lease_owner"], entry["run_id"]) == (held, owner, other.id)

    generic = await cli(capsys, "profile", "run", EXPORT_TYPE_ID, "-k", held, "--force", "--json", code=1)
    assert [e["key"] for e in generic.json()["held_by_another_run"]] == [held]
    assert (await cli(capsys, "stock", "export", "-s", free, "--json")).json()["run"]["held_by_another_run"] == []
