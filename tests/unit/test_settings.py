"""Settings from plentysync.toml and PLENTYSYNC_* variables, and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from plentysync.errors import ConfigError
from plentysync.settings import load_settings


def test_defaults_put_everything_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    data = tmp_path / "data"  # PLENTYSYNC_DATA_DIR from the test fixture
    assert settings.data_dir == data
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{data / 'plentysync.db'}"
    assert settings.effective_log_dir == data / "logs"
    assert settings.history_lifetime_days == 30
    assert settings.queue.lease_seconds == 300
    assert settings.source_file is None


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLENTYSYNC_DATA_DIR")
    (tmp_path / "plentysync.toml").write_text(
        'data_dir = "state"\nhistory_lifetime_days = 7\n[queue]\nmax_attempts = 3\nlease_seconds = 120\n'
    )
    monkeypatch.setenv("PLENTYSYNC_QUEUE__LEASE_SECONDS", "600")
    settings = load_settings()
    assert settings.source_file == tmp_path / "plentysync.toml"
    assert settings.data_dir == tmp_path / "state"  # relative to the file
    assert settings.history_lifetime_days == 7
    assert settings.queue.max_attempts == 3
    assert settings.queue.lease_seconds == 600  # the environment wins


def test_database_url_forms_are_pinned_to_the_async_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    for given, driver in [
        ("postgresql://u:p@db/plenty", "postgresql+psycopg://u:p@db/plenty"),
        ("mariadb://root@127.0.0.1/test", "mariadb+aiomysql://root@127.0.0.1/test?charset=utf8mb4"),
        ("mysql://root@h/x", "mysql+aiomysql://root@h/x?charset=utf8mb4"),
        ("sqlite:///var/state.db", "sqlite+aiosqlite:///var/state.db"),
    ]:
        monkeypatch.setenv("PLENTYSYNC_DATABASE_URL", given)
        assert load_settings().effective_database_url == driver


@pytest.mark.parametrize(
    ("content", "env", "expected"),
    [
        (
            "history_lifetime_days = 'abc'",
            {},
            "settings file {file}: setting 'history_lifetime_days': Input should be a valid integer",
        ),
        ("databse_url = 'x'", {}, "settings file {file}: unknown setting 'databse_url'"),
        (
            "[queue]\nlease_seconds = 1",
            {},
            "settings file {file}: setting 'queue.lease_seconds': Input should be greater than or equal to 5",
        ),
        (
            "",
            {"PLENTYSYNC_DATABASE_URL": "oracle://x"},
            "environment variable PLENTYSYNC_DATABASE_URL: setting 'database_url'",
        ),
        ("", {"PLENTYSYNC_LOG_LEVEL": "LOUD"}, "environment variable PLENTYSYNC_LOG_LEVEL: setting 'log_level'"),
        ("history_lifetime_days = [", {}, "settings file {file} is not valid TOML"),
        (
            "",
            {"PLENTYSYNC_DATABSE_URL": "postgresql://db/x"},
            "environment variable PLENTYSYNC_DATABSE_URL: unknown setting 'databse_url'",
        ),
        ("", {"PLENTYSYNC_QUEUES__LEASE_SECONDS": "60"}, "environment variable PLENTYSYNC_QUEUES__LEASE_SECONDS"),
        ("", {"PLENTYSYNC_QUEUE__X": "1"}, "environment variable PLENTYSYNC_QUEUE__X: unknown setting 'queue.x'"),
    ],
)
def test_bad_settings_give_one_line_naming_setting_and_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, env: dict[str, str], expected: str
) -> None:
    file = tmp_path / "plentysync.toml"
    file.write_text(content)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected.format(file=file)), message
    assert "\n" not in message


def test_explicit_file_must_exist_and_secrets_are_not_echoed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"settings file .*missing.toml does not exist"):
        load_settings(tmp_path / "missing.toml")
    monkeypatch.setenv("PLENTYSYNC_CONFIG", str(tmp_path / "also-missing.toml"))
    with pytest.raises(ConfigError, match=r"also-missing\.toml does not exist"):
        load_settings()
    monkeypatch.delenv("PLENTYSYNC_CONFIG")
    monkeypatch.setenv("PLENTYSYNC_DATABASE_URL", "postgresql+asyncpg://user:hunter2@db/x")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)


def test_environment_variables_that_are_not_settings_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PLENTYSYNC_DEBUG",
        "PLENTYSYNC_TEST_POSTGRES_URL",
        "PLENTYSYNC_TEST_MARIADB_URL",
        "PLENTYSYNC_TEST_BROKER_URL",
        "PLENTYSYNC_REFERENCE_DIR",
        "PLENTYSYNC_BENCH_POSTGRES_URL",
        "PLENTYSYNC_BENCH_BROKER_URL",
    ):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("PLENTYSYNC_LOG_LEVEL", "DEBUG")
    assert load_settings().log_level == "DEBUG"


def test_a_settings_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "plentysync.toml"
    path.write_bytes('log_level = "INFO" # Größe\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"settings file .*plentysync\.toml is not UTF-8 text"):
        load_settings(path)
