"""Notification settings and severities: what is refused, and how the names map to levels."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plentysync.runtime.severity import level_of, parse_severity
from plentysync.settings import NotificationSettings, SmtpSettings


def test_recipients_are_required_when_email_is_on_and_may_be_one_comma_separated_string() -> None:
    with pytest.raises(ValidationError, match="email_enabled needs at least one address"):
        NotificationSettings(email_enabled=True)
    settings = NotificationSettings(email_enabled=True, recipients="a@x.de, b@y.de,a@x.de")
    assert settings.recipients == ["a@x.de", "b@y.de"]
    with pytest.raises(ValidationError, match="not an email address"):
        NotificationSettings(recipients=["ops"])


def test_ssl_and_starttls_exclude_each_other_and_the_webhook_must_be_http() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        NotificationSettings(smtp=SmtpSettings(ssl=True, starttls=True))
    with pytest.raises(ValidationError, match="http:// or https://") as bad:
        NotificationSettings(webhook_url="ftp://hooks.example/secret-token")
    assert "must be" in str(bad.value)
    assert NotificationSettings(webhook_url="  ").webhook_url is None
    assert "secret" not in repr(NotificationSettings(webhook_url="https://h.example/secret"))


def test_severity_levels_follow_the_connector() -> None:
    assert [level_of(s) for s in ("debug", "info", "notice", "warning", "error", "critical")] == [
        100,
        200,
        250,
        300,
        400,
        500,
    ]
    assert parse_severity("ERROR") == "error"
    with pytest.raises(ValueError, match="unknown severity 'alert'"):
        level_of("alert")
