"""Secret keys (generated, configured, rotated) and redaction of secrets in logs."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from plentysync.crypto import SecretBox, load_or_create_key_file
from plentysync.errors import ConfigError, CredentialsError
from plentysync.log import REDACTED, configure_logging, get_logger, redact
from plentysync.settings import load_settings


def test_key_file_is_created_once_with_private_mode(tmp_path: Path) -> None:
    box = SecretBox.from_settings(load_settings())
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    token = box.encrypt(b"password")
    again = SecretBox.from_settings(load_settings())
    assert again.decrypt(token) == b"password"
    assert load_or_create_key_file(key_file) == key_file.read_text().strip()


def test_configured_key_and_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("PLENTYSYNC_SECRET_KEY", old)
    token = SecretBox.from_settings(load_settings()).encrypt(b"x")
    monkeypatch.setenv("PLENTYSYNC_SECRET_KEY", new)
    with pytest.raises(CredentialsError):
        SecretBox.from_settings(load_settings()).decrypt(token)
    monkeypatch.setenv("PLENTYSYNC_SECRET_KEY_FALLBACKS", old)
    box = SecretBox.from_settings(load_settings())
    rotated = box.rotate(token)
    monkeypatch.delenv("PLENTYSYNC_SECRET_KEY_FALLBACKS")
    assert SecretBox.from_settings(load_settings()).decrypt(rotated) == b"x"


def test_a_malformed_key_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLENTYSYNC_SECRET_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="setting 'secret_key': not a valid Fernet key"):
        SecretBox.from_settings(load_settings())


def test_redact_masks_secrets_by_key_and_in_urls() -> None:
    event = {
        "headers": {"Authorization": "Bearer abc.def", "Accept": "application/json"},
        "body": {"username": "api", "password": "pw", "nested": [{"access_token": "t"}]},
        "url": "postgresql://plenty:hunter2@db/x",
        "apiKey": "k",
    }
    clean = redact(event)
    assert clean["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert clean["body"]["password"] == REDACTED
    assert clean["body"]["nested"][0]["access_token"] == REDACTED
    assert clean["body"]["username"] == "api"
    assert clean["url"] == f"postgresql://plenty:{REDACTED}@db/x"
    assert clean["apiKey"] == REDACTED


def test_log_file_is_json_without_secrets(tmp_path: Path) -> None:
    configure_logging(tmp_path / "logs", console_level="CRITICAL")
    get_logger("test").info("client.login", username="api", password="hunter2", token="abc")
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = (tmp_path / "logs" / "plentysync.log").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["event"] == "client.login"
    assert record["password"] == REDACTED
    assert record["token"] == REDACTED
    assert "hunter2" not in "".join(lines)


def test_logged_tracebacks_carry_no_local_variables(tmp_path: Path) -> None:
    """A traceback in the log file names frames and lines, never their locals (a password in scope)."""
    configure_logging(tmp_path / "logs", console_level="CRITICAL")

    def login(password: str) -> None:
        raise RuntimeError("login failed")

    try:
        login("s3cret-in-a-frame")
    except RuntimeError:
        get_logger("test").exception("client.crashed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (tmp_path / "logs" / "plentysync.log").read_text()
    record = json.loads(text.splitlines()[-1])
    frames = record["exception"][0]["frames"]
    assert any(frame["name"] == "login" for frame in frames)
    assert "s3cret-in-a-frame" not in text
