"""Notifications end to end on every backend: real runs grade into notifications, a real SMTP server
(aiosmtpd) and a real HTTP receiver get what is due, at once or in the digest, exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from plentysync.clock import ManualClock
from plentysync.db import Database
from plentysync.db.tables import notification
from plentysync.engine.runner import ProfileRunner, RunReport
from plentysync.engine.services import Engine
from plentysync.errors import CredentialsError, FatalError
from plentysync.log import configure_logging
from plentysync.runtime.notify import Notifier
from plentysync.settings import NotificationSettings, SmtpSettings
from tests.support import ProfileTypeBuilder, make_engine
from tests.unit.test_notify_channels import (
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_TOKEN,
    SmtpSink,
    WebhookSink,
    free_port,
    smtp_sink,
    webhook_sink,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]
T = "plenty_test_export"
OPS = ["ops@shop.example", "oncall@shop.example"]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def hook() -> Iterator[WebhookSink]:
    with webhook_sink() as sink:
        yield sink


def settings(
    smtp: SmtpSink | None = None,
    hook: WebhookSink | None = None,
    *,
    smtp_config: SmtpSettings | None = None,
    **overrides: Any,
) -> NotificationSettings:
    values: dict[str, Any] = {
        "log_level": "info",
        "email_threshold": "warning",
        "batch_interval_minutes": 60,
    }
    if smtp is not None:
        values.update(email_enabled=True, recipients=OPS, smtp=smtp_config or smtp.settings())
    if hook is not None:
        values["webhook_url"] = hook.url
    values.update(overrides)
    return NotificationSettings(**values)


async def rows(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        result = await conn.execute(select(notification).order_by(notification.c.id))
        return [dict(row._mapping) for row in result.all()]


# -- recording -----------------------------------------------------------------------------------


async def test_notify_records_at_or_above_the_level_and_only_when_enabled(db: Database) -> None:
    clock = ManualClock()
    notifier = Notifier(db, settings(log_level="warning"), clock)
    assert await notifier.notify("info", "test", "quiet", "below the level") is None
    nid = await notifier.notify(
        "error",
        "test",
        "x" * 300,
        "body",
        profile_type=T,
        run_id=7,
        context={"sku": "A1", "api_password": "hunter2", "at": clock.now()},
    )
    assert nid is not None
    off = Notifier(db, settings(enabled=False), clock)
    assert await off.notify("critical", "test", "off", "the master switch is off") is None
    [row] = await rows(db)
    assert (row["id"], row["severity"], row["level"], row["kind"], row["profile_type"], row["run_id"]) == (
        nid,
        "error",
        400,
        "test",
        T,
        7,
    )
    assert len(row["title"]) == 255
    assert row["context"] == {"sku": "A1", "api_password": "***", "at": str(clock.now())}
    assert row["created_at"] == clock.now()
    with pytest.raises(ValueError, match="unknown severity"):
        await notifier.notify("fatal", "test", "t", "m")  # type: ignore[arg-type]


# -- dispatch --------------------------------------------------------------------------------------


async def test_critical_goes_out_at_once_the_rest_in_the_next_digest(
    db: Database, smtp: SmtpSink, hook: WebhookSink
) -> None:
    clock = ManualClock()
    notifier = Notifier(db, settings(smtp, hook), clock)
    first = await notifier.notify("error", "test", "First error", "before any digest", profile_type=T)
    report = await notifier.dispatch()
    # no digest was ever sent: the first one goes out at once
    assert report.ok
    assert [(d.channel, d.kind, d.notification_ids) for d in report.deliveries] == [
        ("email", "digest", [first]),
        ("webhook", "digest", [first]),
    ]

    clock.advance(timedelta(minutes=5))
    warning = await notifier.notify("warning", "test", "A warning", "disk 80% full")
    below = await notifier.notify("info", "test", "Just info", "below the email threshold")
    critical = await notifier.notify(
        "critical", "auth_failed", "plenty_test_export: credentials rejected", "401 from PlentyONE", profile_type=T
    )
    report = await notifier.dispatch()
    assert [(d.channel, d.kind, d.notification_ids) for d in report.deliveries] == [
        ("email", "immediate", [critical]),
        ("webhook", "immediate", [critical]),
    ]
    assert "email digest not due before" in report.notes[0]
    assert len(smtp.messages) == 2
    mail = smtp.messages[1]
    assert mail.rcpt_tos == OPS
    assert mail.subject.endswith("CRITICAL: plenty_test_export: credentials rejected")
    assert "401 from PlentyONE" in mail.body
    assert f"plentysync notifications show {critical}" in mail.body
    assert "credentials rejected" in hook.texts[1]

    clock.advance(timedelta(minutes=54))  # 59 minutes after the first digest
    assert (await notifier.dispatch()).deliveries == []
    clock.advance(timedelta(minutes=1))
    report = await notifier.dispatch()
    assert [(d.channel, d.kind, d.notification_ids) for d in report.deliveries] == [
        ("email", "digest", [warning]),
        ("webhook", "digest", [warning]),
    ]
    digest = smtp.messages[2]
    assert digest.subject.endswith("Digest: 1 warning")
    assert "A warning" in digest.body
    assert "disk 80% full" in digest.body
    assert "First error" not in digest.body  # never the same notification in two digests
    assert "credentials rejected" not in digest.body  # already mailed at once
    assert "Just info" not in digest.body
    assert len(hook.posts) == 3
    assert (await notifier.dispatch(force_digest=True)).deliveries == []  # nothing left to send

    by_id = {row["id"]: row for row in await rows(db)}
    assert by_id[critical]["emailed_at"] is not None
    assert by_id[critical]["digested_at"] is None
    assert by_id[warning]["digested_at"] == clock.now()
    assert by_id[warning]["webhook_at"] == clock.now()
    assert by_id[below]["emailed_at"] is None
    assert by_id[below]["webhook_at"] is None
    assert len(smtp.messages) == 3


async def test_digest_counts_per_severity_and_lists_the_details(db: Database, smtp: SmtpSink) -> None:
    clock = ManualClock()
    notifier = Notifier(db, settings(smtp, real_time_critical=False), clock)
    for n in range(25):
        await notifier.notify("warning", "test", f"Warning {n}", f"detail of warning {n}", profile_type=T)
    await notifier.notify("error", "test", "The error", "detail of the error", profile_type=T)
    await notifier.notify("critical", "test", "The critical", "detail of the critical")
    report = await notifier.dispatch()
    [delivery] = report.deliveries
    assert len(delivery.notification_ids) == 27
    [mail] = smtp.messages
    assert mail.subject.endswith("Digest: 1 critical, 1 error, 25 warning")
    body = mail.body
    assert "27 notifications" in body
    assert body.index("The critical") < body.index("The error") < body.index("Warning 24")
    assert "detail of the critical" in body
    assert "Warning 7\n" in body
    assert "Warning 6\n" not in body
    assert "… and 7 more" in body


async def test_concurrent_dispatchers_send_each_notification_once(
    db: Database, smtp: SmtpSink, hook: WebhookSink, test_database: Any
) -> None:
    clock = ManualClock()
    config = settings(smtp, hook)
    seeding = Notifier(db, config, clock)
    criticals = [await seeding.notify("critical", "test", f"Critical {n}", "m") for n in range(6)]
    errors = [await seeding.notify("error", "test", f"Error {n}", "m") for n in range(8)]
    others = [Database(test_database.url) for _ in range(3)]
    try:
        notifiers = [Notifier(other, config, clock) for other in others]
        for _ in range(2):  # and a second round that must find nothing left
            reports = await asyncio.gather(*(n.dispatch() for n in notifiers))
            assert all(r.ok for r in reports)
    finally:
        for other in others:
            await other.dispose()
    subjects = smtp.subjects
    assert sorted(s.split(": ", 1)[1] for s in subjects if "CRITICAL" in s) == [f"Critical {n}" for n in range(6)]
    digests = [m for m in smtp.messages if "Digest" in m.subject]
    assert len(digests) == 1
    assert digests[0].subject.endswith("Digest: 8 error")
    assert len(subjects) == 7
    assert len(hook.posts) == 7
    assert sum("Digest: 8 error" in text for text in hook.texts) == 1
    assert {r["id"] for r in await rows(db) if r["emailed_at"] and r["webhook_at"]} == {*criticals, *errors}


async def test_an_smtp_outage_keeps_everything_for_the_next_dispatch(
    db: Database, smtp: SmtpSink, hook: WebhookSink
) -> None:
    clock = ManualClock()
    down = SmtpSettings(host="127.0.0.1", port=free_port(), timeout_seconds=2)
    broken = Notifier(db, settings(smtp, hook, smtp_config=down), clock)
    critical = await broken.notify("critical", "test", "The critical", "m")
    error = await broken.notify("error", "test", "The error", "m")
    report = await broken.dispatch()  # must not raise
    assert not report.ok
    assert {(d.channel, d.kind) for d in report.failures} == {("email", "immediate"), ("email", "digest")}
    assert all("unreachable" in (d.error or "") for d in report.failures)
    # the webhook is its own channel: it carried both
    assert {(d.channel, d.kind) for d in report.deliveries if d.sent} == {
        ("webhook", "immediate"),
        ("webhook", "digest"),
    }
    assert all(r["emailed_at"] is None for r in await rows(db))

    clock.advance(timedelta(minutes=1))  # well inside the interval: the failed digest is retried anyway
    report = await Notifier(db, settings(smtp, hook), clock).dispatch()
    assert report.ok
    assert [(d.channel, d.kind, d.notification_ids) for d in report.deliveries] == [
        ("email", "immediate", [critical]),
        ("email", "digest", [error]),
    ]
    assert len(smtp.messages) == 2
    assert len(hook.posts) == 2  # nothing posted twice


async def test_failing_webhook_is_retried_without_repeating_the_email(
    db: Database, smtp: SmtpSink, hook: WebhookSink
) -> None:
    clock = ManualClock()
    notifier = Notifier(db, settings(smtp, hook), clock)
    await notifier.notify("critical", "test", "The critical", "m")
    hook.status = 503
    report = await notifier.dispatch()
    assert [d.error for d in report.failures] == ["webhook at 127.0.0.1 answered HTTP 503"]
    hook.status = 200
    report = await notifier.dispatch()
    assert [(d.channel, d.sent) for d in report.deliveries] == [("webhook", True)]
    assert len(smtp.messages) == 1
    assert len(hook.posts) == 1


async def test_webhook_alone_carries_what_would_be_emailed(db: Database, hook: WebhookSink) -> None:
    clock = ManualClock()
    notifier = Notifier(db, settings(None, hook), clock)
    await notifier.notify("error", "test", "The error", "m")
    await notifier.notify("notice", "test", "A notice", "below the threshold")
    preview = await notifier.dispatch(dry_run=True)
    assert [(d.channel, d.kind, d.sent) for d in preview.deliveries] == [("webhook", "digest", False)]
    assert "The error" in (preview.deliveries[0].body or "")
    assert hook.posts == []
    await notifier.dispatch()
    [text] = hook.texts
    assert text.startswith("*[plentysync@")
    assert "The error" in text
    assert "A notice" not in text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_secrets_never_reach_logs_reports_or_notifications(
    db: Database, hook: WebhookSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(tmp_path / "logs", file_level="DEBUG", console_level="DEBUG")
    try:
        with smtp_sink(auth=True) as sink:
            clock = ManualClock()
            wrong = sink.settings(username=SMTP_USER, password=SecretStr("wrong-" + SMTP_PASSWORD))
            config = settings(sink, hook, smtp_config=wrong)
            hook.status = 500
            notifier = Notifier(db, config, clock)
            await notifier.notify("critical", "test", "c", "m", context={"smtp_password": SMTP_PASSWORD})
            report = await notifier.dispatch()
            assert len(report.failures) == 2
            right = sink.settings(username=SMTP_USER, password=SecretStr(SMTP_PASSWORD))
            hook.status = 200
            assert (await Notifier(db, settings(sink, hook, smtp_config=right), clock).dispatch()).ok
            assert len(sink.messages) == 1
    finally:
        configure_logging(None)
    out = capsys.readouterr()
    logged = (tmp_path / "logs" / "plentysync.log").read_text()
    assert "notify.send_failed" in logged
    assert "notify.sent" in logged
    everything = "\n".join(
        [
            logged,
            out.out,
            out.err,
            json.dumps([d.error for d in report.failures]),
            json.dumps(await rows(db), default=str),
        ]
    )
    for secret in (SMTP_PASSWORD, WEBHOOK_TOKEN):
        assert secret not in everything
    assert "refused the login of 'mailer'" in everything


# -- after a run -----------------------------------------------------------------------------------


async def setup_profile(db: Database, builder: ProfileTypeBuilder, keys: int = 10) -> Engine:
    engine = make_engine(db, builder.build())
    await engine.profiles.create(T, enabled=True, config={"process_batch_size": 5})
    await engine.queue.enqueue(T, [f"K{n:02d}" for n in range(keys)], reason="manual")
    return engine


async def kinds(notifier: Notifier) -> list[tuple[str, str]]:
    return [(r.kind, r.severity) for r in reversed(await notifier.store.find(limit=1000))]


async def test_run_summary_reports_counts_and_the_failed_entities(db: Database) -> None:
    builder = ProfileTypeBuilder().rejecting("K03", "K07")
    engine = await setup_profile(db, builder)
    notifier = Notifier(db, settings(), engine.clock)
    report = await ProfileRunner(engine).run(T)
    [nid] = await notifier.after_run(report)
    row = await notifier.store.get(nid)
    assert (row.kind, row.severity, row.profile_type, row.run_id) == ("run_summary", "warning", T, report.run.id)
    assert row.title == f"{T} run {report.run.id}: partial, 10 processed"
    assert "10 processed: 8 succeeded, 2 failed, 0 skipped (80.0% succeeded)" in (row.message or "")
    assert "K03: rejected" in (row.message or "")
    assert row.context is not None
    assert (row.context["processed"], row.context["errors"], row.context["success_rate"]) == (10, 2, 80.0)
    assert row.context["duration_seconds"] is not None
    # a run with nothing to do says nothing; without run_summary nothing either
    assert await notifier.after_run(await ProfileRunner(engine).run(T)) == []
    await engine.queue.enqueue(T, ["K01"], reason="manual")
    quiet = Notifier(db, settings(run_summary=False), engine.clock)
    assert await quiet.after_run(await ProfileRunner(engine).run(T)) == []


@pytest.mark.parametrize(
    "exc",
    [CredentialsError("cannot decrypt the stored password"), FatalError("401 Unauthorized", status=401)],
    ids=["credentials", "401"],
)
async def test_rejected_credentials_raise_a_critical_naming_the_profile(db: Database, exc: Exception) -> None:
    engine = await setup_profile(db, ProfileTypeBuilder().raising(exc))
    notifier = Notifier(db, settings(), engine.clock)
    report = await ProfileRunner(engine).run(T)
    assert report.failure_kind == "auth"
    await notifier.after_run(report)
    [auth] = await notifier.store.find(kind="auth_failed")
    assert (auth.severity, auth.title, auth.run_id) == ("critical", f"{T}: credentials rejected", report.run.id)
    message = auth.message or ""
    assert f"Run {report.run.id} of" in message
    assert str(exc) in message
    assert "plentysync connection" in message
    assert "the rows wait in the queue" in message
    assert ("run_summary", "error") in await kinds(notifier)


async def test_a_streak_of_failed_runs_raises_once_and_rearms_after_a_success(db: Database) -> None:
    builder = ProfileTypeBuilder()
    engine = await setup_profile(db, builder)
    notifier = Notifier(db, settings(failing_runs_threshold=3, run_summary=False), engine.clock)

    async def run(fail: bool) -> RunReport:
        builder.remote.raise_on_call[len(builder.remote.calls) + 1] = FatalError("500 from the remote")
        if not fail:
            builder.remote.raise_on_call.clear()
        report = await ProfileRunner(engine).run(T)
        await notifier.after_run(report)
        return report

    reports = [await run(fail=True) for _ in range(5)]
    streaks = await notifier.store.find(kind="failing_runs")
    assert len(streaks) == 1
    assert streaks[0].run_id == reports[2].run.id
    assert streaks[0].context == {"runs": [r.run.id for r in reversed(reports[:3])], "threshold": 3}
    assert await run(fail=False)
    assert [k for k, _ in await kinds(notifier)] == ["failing_runs", "failing_runs_recovered"]
    for _ in range(3):
        await engine.queue.enqueue(T, ["K01"], reason="manual")
        await run(fail=True)
    assert len(await notifier.store.find(kind="failing_runs")) == 2


async def test_error_rows_threshold_raises_once_per_crossing(db: Database) -> None:
    builder = ProfileTypeBuilder().rejecting(*[f"K{n:02d}" for n in range(12)])
    engine = await setup_profile(db, builder, keys=6)
    notifier = Notifier(db, settings(error_rows_threshold=5, run_summary=False), engine.clock)
    await notifier.after_run(await ProfileRunner(engine).run(T))
    [alert] = await notifier.store.find(kind="error_rows")
    assert (alert.severity, alert.title) == ("critical", f"{T}: 6 queue rows in error")
    assert f"plentysync queue list -p {T} --status error" in (alert.message or "")
    await engine.queue.enqueue(T, ["K08", "K09"], reason="manual")
    await notifier.after_run(await ProfileRunner(engine).run(T))  # 8 now: still the same crossing
    assert len(await notifier.store.find(kind="error_rows")) == 1
    await engine.queue.retry_errors(T)
    builder.remote.reject.clear()
    await notifier.after_run(await ProfileRunner(engine).run(T))  # all fixed: re-armed
    builder.remote.reject.update(["K00", "K01", "K02", "K03", "K04"])
    await engine.queue.enqueue(T, ["K00", "K01", "K02", "K03", "K04"], reason="manual")
    await notifier.after_run(await ProfileRunner(engine).run(T))
    assert len(await notifier.store.find(kind="error_rows")) == 2


async def test_dry_runs_and_a_switched_off_notifier_raise_nothing(db: Database) -> None:
    from plentysync.engine.pipeline import RunOptions

    engine = await setup_profile(db, ProfileTypeBuilder().raising(FatalError("401", status=401)))
    notifier = Notifier(db, settings(), engine.clock)
    assert await notifier.after_run(await ProfileRunner(engine).run(T, options=RunOptions(dry_run=True))) == []
    off = Notifier(db, settings(enabled=False), engine.clock)
    assert await off.after_run(await ProfileRunner(engine).run(T)) == []
    assert await rows(db) == []


# -- cleanup ---------------------------------------------------------------------------------------


async def test_clean_applies_retention_then_the_cap_in_batches(db: Database) -> None:
    clock = ManualClock()
    notifier = Notifier(db, settings(retention_days=10, max_notifications=7), clock)
    notifier.store.batch_size = 3
    for day in range(20):
        await notifier.notify("warning", "test", f"day {day}", "m")
        clock.advance(timedelta(days=1))
    assert await notifier.clean(dry_run=True) == 13
    assert len(await rows(db)) == 20
    assert await notifier.clean() == 13
    assert [r["title"] for r in await rows(db)] == [f"day {d}" for d in range(13, 20)]
    assert await notifier.clean() == 0
    forever = Notifier(db, settings(retention_days=0, max_notifications=0), clock)
    assert await forever.clean(dry_run=True) == 0


# -- the command line (a real process on SQLite) ---------------------------------------------------


@pytest.mark.slow
def test_cli_lists_shows_sends_tests_and_cleans(smtp: SmtpSink, hook: WebhookSink, tmp_path: Path) -> None:
    from plentysync.settings import Settings
    from tests.integration.test_cli import cli, cli_json

    (tmp_path / "plentysync.toml").write_text(
        f"""
[notifications]
log_level = "info"
email_enabled = true
recipients = "ops@shop.example, oncall@shop.example"
email_threshold = "warning"
webhook_url = "{hook.url.get_secret_value()}"
max_notifications = 2

[notifications.smtp]
host = "127.0.0.1"
port = {smtp.port}
sender = "plentysync@shop.example"
""",
        encoding="utf-8",
    )
    assert cli_json("notifications", "list") == []

    async def seed() -> list[int | None]:
        from plentysync.db.migrate import ensure_schema

        database = Database(Settings().effective_database_url)
        try:
            await ensure_schema(database)
            notifier = Notifier(database, settings(), database.clock)
            return [
                await notifier.notify("warning", "test", "Disk filling", "80% used"),
                await notifier.notify("critical", "auth_failed", "Credentials rejected", "401", profile_type=T),
                await notifier.notify("info", "test", "FYI", "below the threshold"),
            ]
        finally:
            await database.dispose()

    warning, critical, info = asyncio.run(seed())
    listed = cli_json("notifications", "list", "--severity", "warning")
    assert [n["id"] for n in listed] == [critical, warning]
    assert cli_json("notifications", "show", str(critical))["message"] == "401"
    assert "no notification 999" in cli("notifications", "show", "999", check=1).stderr

    preview = cli_json("notifications", "send", "--dry-run")
    assert [(d["channel"], d["kind"]) for d in preview["deliveries"]] == [
        ("email", "immediate"),
        ("email", "digest"),
        ("webhook", "immediate"),
        ("webhook", "digest"),
    ]
    assert smtp.messages == []
    assert hook.posts == []
    sent = cli_json("notifications", "send")
    assert all(d["sent"] for d in sent["deliveries"])
    assert len(smtp.messages) == 2
    assert len(hook.posts) == 2
    assert smtp.messages[0].rcpt_tos == OPS
    assert cli_json("notifications", "send", "--digest")["deliveries"] == []

    test = cli("notifications", "test")
    assert "sent" in test.stdout
    assert smtp.messages[-1].subject.endswith("Test notification")
    assert WEBHOOK_TOKEN not in test.stdout + test.stderr

    assert cli_json("notifications", "mark-read", str(warning)) == {"marked_read": 1}
    assert [n["id"] for n in cli_json("notifications", "list", "--unread")] == [info, critical]
    assert cli_json("notifications", "mark-read", "--all") == {"marked_read": 2}

    assert cli_json("notifications", "clean", "--dry-run") == {"dry_run": True, "deleted": 1}
    assert "refusing without confirmation" in cli("notifications", "clean", check=2).stderr
    assert cli_json("notifications", "clean", "--force") == {"dry_run": False, "deleted": 1}
    assert len(cli_json("notifications", "list")) == 2

    hook.status = 500
    failed = cli("notifications", "test", check=1)
    assert "webhook at 127.0.0.1 answered HTTP 500" in failed.stderr
    assert WEBHOOK_TOKEN not in failed.stdout + failed.stderr
