"""Pure parts of the engine: lifecycle derivation, backoff, result alignment, message collection,
configuration files, transient-error detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import Field

from plentysync.db.engine import is_transient
from plentysync.engine.configio import dumps, export_document, format_for, loads, parse_document
from plentysync.engine.lifecycle import LifecycleFacts, ProfileState, derive_state
from plentysync.engine.messages import EntityStatus, MessageCollector
from plentysync.engine.pipeline import Batch, BatchItem, Result, align_results
from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.queue import QueuePolicy
from plentysync.engine.registry import ProfileConfig, ProfileRegistry
from plentysync.engine.schedule import Schedule
from plentysync.errors import ConfigError, NotFoundError
from tests.support import ProfileTypeBuilder

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def facts(**kw: Any) -> LifecycleFacts:
    base: dict[str, Any] = {
        "config_valid": True,
        "enabled": False,
        "running": False,
        "activated_at": None,
        "tested_at": None,
        "config_updated_at": NOW,
        "last_run_status": None,
    }
    return LifecycleFacts(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "state"),
    [
        ({"config_valid": False}, ProfileState.CREATED),
        ({"config_valid": False, "enabled": True}, ProfileState.CREATED),
        ({}, ProfileState.CONFIGURED),
        ({"tested_at": NOW + timedelta(1)}, ProfileState.TESTED),
        ({"tested_at": NOW - timedelta(1)}, ProfileState.CONFIGURED),
        ({"enabled": True, "activated_at": NOW}, ProfileState.ACTIVE),
        ({"enabled": True, "activated_at": NOW, "running": True}, ProfileState.RUNNING),
        ({"enabled": True, "activated_at": NOW, "last_run_status": "success"}, ProfileState.COMPLETED),
        ({"enabled": True, "activated_at": NOW, "last_run_status": "partial"}, ProfileState.COMPLETED),
        ({"enabled": True, "activated_at": NOW, "last_run_status": "failed"}, ProfileState.FAILED),
        ({"enabled": True, "activated_at": NOW, "last_run_status": "cancelled"}, ProfileState.PAUSED),
        ({"enabled": False, "activated_at": NOW, "last_run_status": "failed"}, ProfileState.DISABLED),
        ({"enabled": False, "activated_at": NOW, "running": True}, ProfileState.RUNNING),
    ],
)
def test_lifecycle_states(kw: dict[str, Any], state: ProfileState) -> None:
    assert derive_state(facts(**kw)) == state


def test_backoff_doubles_and_is_capped() -> None:
    policy = QueuePolicy(backoff_base_seconds=30, backoff_max_seconds=300)
    assert [policy.backoff(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_results_are_aligned_by_key_never_by_position() -> None:
    batch = Batch([BatchItem("A"), BatchItem("B"), BatchItem("C")])
    aligned, strays = align_results(
        batch, [Result.success("C"), Result.error("A", "bad"), Result.success("Z"), Result.success("A")]
    )
    assert [(r.key, r.status) for r in aligned] == [("A", "error"), ("B", "retry"), ("C", "success")]
    assert strays == ["Z"]


def test_message_collector_counts_and_drains() -> None:
    collector = MessageCollector(keep=2)
    for n in range(3):
        collector.add(f"E{n}", EntityStatus.ERROR, "x")
    collector.add("S", "success")
    collector.add("D", EntityStatus.DRY_RUN)
    collector.add("R", EntityStatus.RETRY)
    assert (collector.processed, collector.succeeded, collector.failed, collector.skipped) == (6, 1, 4, 1)
    assert [e.key for e in collector.errors] == ["E0", "E1"]
    assert len(collector.drain()) == 6
    assert collector.drain() == []


class ExampleConfig(ProfileConfig):
    main_warehouse_id: int = Field(1, gt=0)
    mapping: dict[str, int] = Field(default_factory=dict)
    note: str | None = None


def registry() -> ProfileRegistry:
    reg = ProfileRegistry()
    reg.register(ProfileTypeBuilder("plenty_stock_export").with_config(ExampleConfig).build())
    return reg


def record(config: dict[str, Any]) -> ProfileRecord:
    return ProfileRecord(
        id=1, type_id="plenty_stock_export", name="Stock", entity="test", direction="export", enabled=True,
        config=config, config_updated_at=NOW, tested_at=None, activated_at=NOW, run_owner=None,
        run_expires_at=None, current_run_id=None, last_run_id=None, last_run_status=None, last_run_at=None,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_config_documents_round_trip(fmt: str) -> None:
    config = ExampleConfig(main_warehouse_id=3, mapping={"default": 3}).model_dump(mode="json")
    schedule = Schedule(1, "*/5 * * * *", "Europe/Berlin", True, None, NOW, NOW)
    text = dumps(export_document(record(config), schedule), fmt)  # type: ignore[arg-type]
    doc = parse_document(loads(text, fmt), registry())  # type: ignore[arg-type]
    assert doc.config.model_dump(mode="json") == config
    assert doc.schedule is not None
    assert (doc.schedule.cron_expr, doc.schedule.timezone) == ("*/5 * * * *", "Europe/Berlin")
    assert "password" not in text


def test_toml_refuses_what_it_cannot_express() -> None:
    class NullableDefault(ProfileConfig):
        limit: int | None = 5

    reg = ProfileRegistry()
    reg.register(ProfileTypeBuilder("plenty_stock_export").with_config(NullableDefault).build())
    doc = export_document(record({"process_batch_size": 100, "enable_history": True, "limit": None}), None)
    with pytest.raises(ConfigError, match="export it as JSON"):
        dumps(doc, "toml", reg)
    assert '"limit": null' in dumps(doc, "json", reg)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            'type_id = "plenty_stock_export"\n[config]\nmain_warehouse_id = 0',
            "main_warehouse_id: Input should be greater than 0",
        ),
        ('type_id = "plenty_stock_export"\n[config]\nwarehouse = 1', "warehouse: unknown option"),
        ('type_id = "plenty_nothing"', "unknown profile type 'plenty_nothing'"),
        ('name = "x"', "'type_id' is missing"),
        ('type_id = "plenty_stock_export"\nformat_version = 9', "format_version 9 is not supported"),
        ('type_id = "plenty_stock_export"\n[schedule]\ncron_expr = "every day"', "invalid cron expression"),
        ('type_id = "plenty_stock_export"\nextra = 1', "unknown keys extra"),
        (
            'type_id = "plenty_stock_export"\n[schedule]\ncron_expr = "* * * * *"\ntimezon = "Europe/Berlin"',
            r"unknown key in 'schedule': timezon \(known: cron_expr, timezone, enabled\)",
        ),
        (
            'type_id = "plenty_stock_export"\n[schedule]\ncron_expr = "* * * * *"\nenabled = "nope"',
            r"'schedule.enabled' must be true or false \(got 'nope'\)",
        ),
        (
            'type_id = "plenty_stock_export"\n[schedule]\ncron_expr = "* * * * *"\nenabled = 2',
            "'schedule.enabled' must be true or false",
        ),
    ],
)
def test_bad_config_documents_are_explained(text: str, error: str) -> None:
    with pytest.raises((ConfigError, NotFoundError), match=error):
        parse_document(loads(text, "toml"), registry())


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", False), ('"false"', False), ('"no"', False), ('"Off"', False), ('"0"', False),
     ("true", True), ('"yes"', True), ('"on"', True), ('"TRUE"', True)],
)  # fmt: skip
def test_schedule_enabled_is_parsed_strictly(value: str, expected: bool) -> None:
    text = f'type_id = "plenty_stock_export"\n[schedule]\ncron_expr = "* * * * *"\nenabled = {value}'
    doc = parse_document(loads(text, "toml"), registry())
    assert doc.schedule is not None
    assert doc.schedule.enabled is expected


def test_format_detection() -> None:
    from pathlib import Path

    assert format_for(Path("x.json"), None) == "json"
    assert format_for(Path("x.toml"), None) == "toml"
    assert format_for(None, "json") == "json"
    with pytest.raises(ConfigError):
        format_for(None, "yaml")
    with pytest.raises(ConfigError, match="not valid JSON"):
        loads("{", "json")


def test_transient_database_errors_are_recognised() -> None:
    from sqlalchemy.exc import OperationalError

    class PgDeadlockError(Exception):
        sqlstate = "40P01"

    assert is_transient(OperationalError("stmt", {}, PgDeadlockError()))
    assert is_transient(OperationalError("stmt", {}, Exception(1213, "Deadlock found")))
    assert is_transient(OperationalError("stmt", {}, Exception("database is locked")))
    assert not is_transient(OperationalError("stmt", {}, Exception(1062, "Duplicate entry")))
    assert not is_transient(ValueError("x"))
