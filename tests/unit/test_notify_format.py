"""What the emails say: one critical in full, the digest with counts and the most severe details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plentysync.runtime.notification_store import NotificationRecord
from plentysync.runtime.notify_format import as_chat_text, render_digest, render_immediate, severity_counts
from plentysync.runtime.severity import LEVELS

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(nid: int, severity: str, title: str, *, minutes: int = 0, **extra: object) -> NotificationRecord:
    values: dict[str, object] = {
        "id": nid,
        "severity": severity,
        "level": LEVELS[severity],  # type: ignore[index]
        "kind": "test",
        "profile_type": None,
        "run_id": None,
        "title": title,
        "message": None,
        "context": None,
        "created_at": T0 + timedelta(minutes=minutes),
        "emailed_at": None,
        "digested_at": None,
        "webhook_at": None,
        "read_at": None,
    }
    values.update(extra)
    return NotificationRecord(**values)  # type: ignore[arg-type]


def test_immediate_mail_carries_everything_needed_to_act() -> None:
    item = record(
        42,
        "critical",
        "plenty_stock_export: credentials rejected",
        profile_type="plenty_stock_export",
        run_id=7,
        message="401 Unauthorized\nCheck the API user",
        context={"connections": ["plenty"]},
    )
    rendered = render_immediate(item)
    assert rendered.subject.startswith("[plentysync@")
    assert rendered.subject.endswith("] CRITICAL: plenty_stock_export: credentials rejected")
    body = rendered.body
    assert "profile: plenty_stock_export (run 7)" in body
    assert "  401 Unauthorized\n  Check the API user" in body
    assert '"connections"' in body
    assert "plentysync notifications show 42" in body
    assert as_chat_text(rendered).startswith(f"*{rendered.subject}*\n")


def test_digest_counts_everything_and_details_the_most_severe_first() -> None:
    items = [record(n, "warning", f"W{n}", minutes=n) for n in range(1, 30)]
    items += [record(100, "error", "E old", minutes=0), record(101, "critical", "C", minutes=-5)]
    assert severity_counts(items) == {"critical": 1, "error": 1, "warning": 29}
    rendered = render_digest(items, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert rendered.subject.endswith("Digest: 1 critical, 1 error, 29 warning")
    body = rendered.body
    assert body.startswith("31 notifications since 2026-03-01 11:00:00 UTC")
    assert body.index("#101 CRITICAL C") < body.index("#100 ERROR E old") < body.index("#29 WARNING W29")
    assert "#12 WARNING W12" in body
    assert "#11 WARNING W11" not in body
    assert "… and 11 more" in body
