"""The error taxonomy.

Two families share one base class:

* operator errors (bad settings, unknown profile, a conflict) carry a message meant for a person
  and an exit code for the CLI;
* sync errors classify what went wrong talking to a remote system, so the engine knows whether to
  retry a queue row, wait for the rate limit, log in again or give up (the Singer SDK's retriable
  versus fatal split).
"""

from __future__ import annotations


class PlentysyncError(Exception):
    """Base of every error plentysync raises on purpose. The message is shown to the operator."""

    exit_code: int = 1


class ConfigError(PlentysyncError):
    """A setting, a profile configuration or a file given on the command line is wrong."""

    exit_code = 2


class UsageError(PlentysyncError):
    """The command was called in a way that cannot work (missing scope, no confirmation...)."""

    exit_code = 2


class NotFoundError(PlentysyncError):
    """A profile, queue row, run or connection that was asked for does not exist."""


class ConflictError(PlentysyncError):
    """The request clashes with the current state (duplicate profile type, profile already running)."""


class SchemaError(PlentysyncError):
    """The state database is not at the schema revision this version of plentysync needs."""


class CredentialsError(PlentysyncError):
    """Stored credentials cannot be decrypted or are missing."""


EXIT_DATABASE_UNAVAILABLE = 4


class DatabaseUnavailableError(PlentysyncError):
    """The state database cannot be used right now, though ``database_url`` may well be right: the server
    is down or unreachable, the SQLite file or its directory is read-only, the disk is full, the SQLite
    file was deleted. A failure of the environment (exit code 4); trying again once it is fixed works."""

    exit_code = EXIT_DATABASE_UNAVAILABLE


class DatabaseMissingError(DatabaseUnavailableError):
    """The SQLite database file plentysync created before is gone (deleted, moved or replaced)."""


class DatabaseSettingsError(ConfigError):
    """``database_url`` cannot work as written: wrong role or password, no such database or host, the
    driver for the backend is not installed, the file is not a database (exit code 2)."""


class SyncError(PlentysyncError):
    """Something went wrong while synchronising; subclasses say what the engine should do about it.

    Errors raised for an HTTP response carry its ``status`` and decoded ``body`` (redacted of nothing:
    never log the body unredacted)."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RetryableError(SyncError):
    """A transient failure (timeout, 5xx, dropped connection): try the same work again later."""

    retryable = True


class RateLimitedError(RetryableError):
    """The remote API's budget is spent; wait ``retry_after`` seconds before the next call."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, status: int | None = None, body: object = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class AuthExpiredError(RetryableError):
    """The access token expired or was revoked: log in again, then retry."""


class LeaseLostError(RetryableError):
    """A write was about to go out for rows whose lease this process could no longer renew (the
    database was away too long): another worker may have taken them over, so nothing is sent. The
    rows are processed again by whoever holds them."""


class RemoteValidationError(SyncError):
    """The remote system rejected the data (HTTP 400/422): retrying the same payload cannot help."""


class RemoteNotFoundError(SyncError):
    """The remote system has no such record (HTTP 404 for an entity)."""


class OutcomeUnknownError(SyncError):
    """A write that is not safe to repeat (creating an order, contact or payment; a relative stock
    booking) failed in a way that leaves open whether the remote system applied it: a timeout or a
    dropped connection after the request was sent, or a 5xx. It is never retried blindly; the
    caller must look the record up (e.g. the order by ``externalOrderId``) before trying again."""

    retryable = False

    def __init__(self, message: str, *, method: str, url: str, status: int | None = None, body: object = None) -> None:
        super().__init__(message, status=status, body=body)
        self.method = method
        self.url = url


class FatalError(SyncError):
    """A failure that stops the whole run (wrong credentials, missing permission, broken config)."""
