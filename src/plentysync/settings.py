"""Settings: a TOML file (``plentysync.toml``) overlaid by ``PLENTYSYNC_*`` environment variables.

Precedence, highest first: environment, settings file, built-in defaults. Nested sections use ``__``
in variable names (``PLENTYSYNC_QUEUE__LEASE_SECONDS=600``). Every problem becomes one
:class:`~plentysync.errors.ConfigError` line naming the setting and where its value came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from plentysync.db.urls import normalize_database_url
from plentysync.errors import ConfigError

ENV_PREFIX = "PLENTYSYNC_"
CONFIG_ENV = "PLENTYSYNC_CONFIG"
NON_SETTING_ENV = frozenset(
    {
        CONFIG_ENV,  # names the settings file
        "PLENTYSYNC_DEBUG",  # CLI: show an internal error's traceback
        "PLENTYSYNC_TEST_POSTGRES_URL",  # test suite: database servers and broker
        "PLENTYSYNC_TEST_MARIADB_URL",
        "PLENTYSYNC_TEST_BROKER_URL",
        "PLENTYSYNC_REFERENCE_DIR",  # contract tests: where the API references are
        "PLENTYSYNC_BENCH_POSTGRES_URL",  # benchmarks
        "PLENTYSYNC_BENCH_BROKER_URL",
    }
)
"""``PLENTYSYNC_*`` variables that are not settings; every other one must name a setting."""
DEFAULT_CONFIG_NAME = "plentysync.toml"
_PATH_KEYS = ("data_dir", "log_dir")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/plentysync``, else ``~/.local/share/plentysync``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "plentysync"


class QueueSettings(BaseModel):
    """How queue rows are claimed and retried (all profiles; a profile type may lower max_attempts)."""

    model_config = ConfigDict(extra="forbid")

    lease_seconds: int = Field(300, ge=5, le=86_400)
    """How long a claimed row stays reserved for a worker before another may take it over."""
    max_attempts: int = Field(5, ge=1, le=100)
    """Attempts before a failing row goes to status ``error`` and waits for an operator."""
    backoff_base_seconds: float = Field(30.0, ge=0)
    """Wait after the first failed attempt; doubles with every further attempt."""
    backoff_max_seconds: float = Field(3600.0, ge=0)
    """Upper bound of the wait between attempts."""


class ScheduleSettings(BaseModel):
    """Cron bookkeeping, named after Magento's ``cron_schedule`` options."""

    model_config = ConfigDict(extra="forbid")

    schedule_ahead_for_minutes: int = Field(20, ge=1, le=1440)
    """How far ahead pending schedule jobs are written."""
    schedule_lifetime_minutes: int = Field(15, ge=1, le=1440)
    """A job not started this long after its time is marked ``missed``."""
    history_success_lifetime_minutes: int = Field(1440, ge=1)
    """How long finished (success) schedule jobs are kept."""
    history_failure_lifetime_minutes: int = Field(4320, ge=1)
    """How long error and missed schedule jobs are kept."""


class HttpSettings(BaseModel):
    """How plentysync talks to Magento and PlentyONE (every connection)."""

    model_config = ConfigDict(extra="forbid")

    log_requests: bool = False
    """Write every request and response to ``<log_dir>/<profile>_request.log`` (redacted)."""
    log_bodies: bool = True
    """With ``log_requests``: include the (redacted) bodies, not only method, URL and status."""
    personal_data_fields: list[str] | None = None
    """Body fields redacted in request logs as personal data; default: names, e-mail addresses,
    street, postcode, city, phone, birthday, VAT and tax ids of both systems. E-mail addresses are
    redacted wherever they appear."""
    connect_timeout_seconds: float = Field(10.0, gt=0)
    read_timeout_seconds: float = Field(60.0, gt=0)
    max_attempts: int = Field(5, ge=1, le=20)
    """Tries per request for what is safe to repeat (reads, upserts, 429s)."""
    plenty_write_concurrency: int = Field(3, ge=1, le=20)
    """PlentyONE writes in flight at once. More has been seen to trip the write limit and lock out
    logins for the whole instance."""
    shared_budget: bool = True
    """Keep PlentyONE's announced budget in the state database, so every process using an account
    (workers on several hosts, a CLI run next to them) stays under the limits together. Off: each
    process keeps its own reading, as a single process needs."""
    plenty_stock_batch_size: int = Field(100, ge=1, le=1000)
    """Rows per PlentyONE stock correction or booking call. The API documents no maximum; 100 makes
    one call carry a whole default export batch per warehouse, five times fewer calls than the
    commercial connector's 20, while a rejected call still names the bad rows (see docs/stock.md)."""
    magento_page_size: int = Field(100, ge=1, le=300)
    """Rows per page when listing from Magento (at most 300, Magento's input limit)."""
    magento_batch_size: int = Field(20, ge=1, le=5000)
    """Entries per array in one Magento request (20 is the default input limit)."""


class WorkerSettings(BaseModel):
    """How ``plentysync worker`` paces itself."""

    model_config = ConfigDict(extra="forbid")

    tick_seconds: float = Field(1.0, gt=0, le=60)
    """How often the worker looks for due work (schedules, pollers, queue rows) when it is idle."""
    heartbeat_seconds: float = Field(5.0, ge=1, le=300)
    """How often a worker writes its heartbeat row."""
    lost_after_seconds: float = Field(60.0, ge=5, le=3600)
    """A worker whose heartbeat is older than this counts as lost (crashed or cut off)."""
    schedule_every_seconds: float = Field(15.0, ge=1, le=300)
    """How often the worker plans schedule jobs and runs the due ones."""
    drain_idle_seconds: float = Field(5.0, ge=0.1, le=3600)
    """With no broker message, how often each queue-backed profile is checked for due rows."""
    shutdown_grace_seconds: float = Field(30.0, ge=0, le=3600)
    """On SIGTERM: how long a run may go on finishing its current batch before it is cancelled
    (its rows are then released to the queue)."""
    resources_max_age_seconds: float = Field(900.0, ge=10, le=86_400)
    """A worker keeps each profile's API clients (and their login) open across runs, and opens them
    anew after this long, when the profile's configuration changed, or after a run failed on them."""


class BrokerSettings(BaseModel):
    """RabbitMQ (extra ``amqp``): fast pushes next to the database queue."""

    model_config = ConfigDict(extra="forbid")

    exchange: str = Field("plentysync", min_length=1, max_length=255)
    """Topic exchange the profiles' topics are published on."""
    queue_prefix: str = Field("plentysync", min_length=1, max_length=100)
    """Durable queues are named ``<prefix>.<topic>``."""
    connect_timeout_seconds: float = Field(5.0, gt=0, le=120)
    publish_timeout_seconds: float = Field(5.0, gt=0, le=120)
    reconnect_seconds: float = Field(5.0, gt=0, le=600)
    """How long a consumer waits between attempts to reach a broker that is down."""
    prefetch: int = Field(10, ge=1, le=10_000)
    """Unacknowledged messages a worker holds at once."""


class WebhookSettings(BaseModel):
    """The signed webhook intake of ``plentysync serve``."""

    model_config = ConfigDict(extra="forbid")

    secret: SecretStr | None = None
    """Shared HMAC-SHA256 secret of the webhook senders. The intake answers 503 until it is set."""
    max_age_seconds: int = Field(300, ge=10, le=86_400)
    """Requests signed longer ago than this (or this far in the future) are refused as replays."""
    max_body_bytes: int = Field(1_048_576, ge=1024, le=104_857_600)


class ServeSettings(BaseModel):
    """The HTTP side: ``plentysync serve``."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8780, ge=1, le=65535)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    ssl: bool = False
    timeout_seconds: float = Field(10.0, gt=0, le=300)
    sender: str = "plentysync@localhost"
    """The From address."""


class NotificationSettings(BaseModel):
    """Notifications (seed 001): what is recorded, what is mailed at once, what goes in the digest.
    See docs/notifications.md."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Master switch: nothing is recorded or sent when off."""
    log_level: Literal["debug", "info", "notice", "warning", "error", "critical"] = "notice"
    """Lowest severity recorded."""
    retention_days: int = Field(30, ge=0, le=3650)
    """Notifications older than this are deleted (0: kept forever)."""
    max_notifications: int = Field(10_000, ge=0)
    """Row cap; the oldest go first (0: no cap)."""
    email_enabled: bool = False
    recipients: list[str] = Field(default_factory=list)
    """Who gets the emails; required when email is on (a list, or one comma-separated string)."""
    email_threshold: Literal["notice", "warning", "error", "critical"] = "error"
    """Lowest severity that is emailed (in the digest, or at once for critical). The webhook carries
    the same."""
    real_time_critical: bool = True
    """Critical notifications skip the digest and are mailed at once."""
    batch_interval_minutes: int = Field(60, ge=1, le=10_080)
    """How often the digest of everything else goes out."""
    run_summary: bool = True
    """Record a summary notification after every run that processed rows or failed."""
    failing_runs_threshold: int = Field(3, ge=1, le=1000)
    """A profile failing this many runs in a row raises a critical notification (once per streak)."""
    error_rows_threshold: int = Field(100, ge=1)
    """A profile with this many queue rows in status error raises a critical notification (once per
    crossing)."""
    webhook_url: SecretStr | None = None
    """Outgoing webhook (Slack-compatible: ``{"text": ...}``), a second channel for what is emailed.
    Treated as a secret (Slack's URL is its credential): never printed or logged."""
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)

    @field_validator("recipients", mode="before")
    @classmethod
    def _split_recipients(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("recipients")
    @classmethod
    def _check_recipients(cls, value: list[str]) -> list[str]:
        for address in value:
            local, _, domain = address.partition("@")
            if not local or not domain or any(c.isspace() for c in address):
                raise ValueError(f"not an email address: {address!r}")
        return list(dict.fromkeys(value))

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _blank_webhook(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _check_channels(self) -> NotificationSettings:
        if self.email_enabled and not self.recipients:
            raise ValueError("email_enabled needs at least one address in recipients")
        if self.smtp.ssl and self.smtp.starttls:
            raise ValueError("smtp.ssl (TLS from the start, port 465) and smtp.starttls (port 587) exclude each other")
        return self


class Settings(BaseSettings):
    """All settings of a plentysync installation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    """Where the SQLite database, logs, the generated secret key and sandbox state live."""
    database_url: str | None = None
    """State database. Default: ``sqlite:///<data_dir>/plentysync.db``."""
    log_dir: Path | None = None
    """Log files. Default: ``<data_dir>/logs``."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Lowest level written to the log file."""
    secret_key: SecretStr | None = None
    """Fernet key that encrypts credentials stored in the database. Default: ``<data_dir>/secret.key``,
    created on first use."""
    secret_key_fallbacks: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    """Older keys, still accepted for decryption while ``plentysync db rotate-secrets`` re-encrypts
    (comma-separated in the environment)."""
    history_lifetime_days: int = Field(30, ge=1, le=3650)
    """Run history older than this is deleted by ``profile history clean`` and the worker."""
    broker_url: str | None = None
    """RabbitMQ URL for fast pushes (optional; the database queue works without it)."""
    queue: QueueSettings = Field(default_factory=QueueSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)

    # Filled by load_settings(); not a setting.
    source_file: Path | None = Field(default=None, exclude=True)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        return normalize_database_url(value).render_as_string(hide_password=False)

    @field_validator("data_dir", "log_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser().absolute()

    @field_validator("secret_key_fallbacks", mode="before")
    @classmethod
    def _split_fallbacks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The settings file arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'plentysync.db'}"

    @property
    def effective_log_dir(self) -> Path:
        return self.log_dir or self.data_dir / "logs"

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret.key"


def resolve_config_path(explicit: Path | None, env: Mapping[str, str]) -> tuple[Path | None, bool]:
    """Return (path, required). An explicit or env-named file must exist; the default may not."""
    if explicit is not None:
        return explicit, True
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]), True
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return (default, False) if default.exists() else (None, False)


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"settings file {path} is not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from None
    base = path.parent.resolve()
    for key in _PATH_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            data[key] = str(base / value)
        elif isinstance(value, str):
            data[key] = str(Path(value).expanduser())
    return data


def load_settings(config_file: Path | None = None) -> Settings:
    """Load settings from ``config_file`` (or ``$PLENTYSYNC_CONFIG``, or ``./plentysync.toml``) and the
    environment. Raises :class:`ConfigError` with one line per problem."""
    path, required = resolve_config_path(config_file, os.environ)
    data: dict[str, Any] = {}
    if path is not None and (required or path.exists()):
        data = read_config_file(path)
    check_environment_names(os.environ)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, data, path, os.environ)) from None
    except SettingsError as exc:
        # e.g. a nested section given as malformed JSON in one PLENTYSYNC_* variable
        raise ConfigError(f"environment: {exc}") from None
    settings.source_file = path
    return settings


def check_environment_names(env: Mapping[str, str]) -> None:
    """Refuse a ``PLENTYSYNC_*`` variable whose top-level name is no setting (pydantic-settings ignores
    those; unknown nested names are refused by the sections' ``extra="forbid"``)."""
    known = set(Settings.model_fields) - {"source_file"}
    lines = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NON_SETTING_ENV:
            continue
        top = upper[len(ENV_PREFIX) :].split("__", 1)[0].lower()
        if top not in known:
            setting = upper[len(ENV_PREFIX) :].lower().replace("__", ".")
            lines.append(f"environment variable {name}: unknown setting '{setting}'")
    if lines:
        raise ConfigError("; ".join(lines))


def format_validation_error(
    exc: ValidationError,
    data: Mapping[str, Any],
    path: Path | None,
    env: Mapping[str, str],
) -> str:
    """One line per problem: where the value came from, the setting's name and what is wrong."""
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
        name = ".".join(loc) or "(settings)"
        env_name = ENV_PREFIX + "__".join(part.upper() for part in loc)
        if env_name in env:
            source = f"environment variable {env_name}"
        elif _in_mapping(data, loc) or err["type"] == "extra_forbidden":
            source = f"settings file {path}"
        else:
            source = "default"
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown setting '{name}'")
            continue
        message = err["msg"]
        if not any(word in name for word in ("secret", "password", "url")) and "input" in err:
            message += f" (got {err['input']!r})"
        lines.append(f"{source}: setting '{name}': {message}")
    return "; ".join(lines)


def _in_mapping(data: Mapping[str, Any], loc: list[str]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True
