"""Structured logging: structlog on top of stdlib logging, JSON lines to a daily-rotated file, short
lines on stderr. A processor redacts secrets by key name before anything is rendered."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import re
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|api[-_]?key|cookie|credential|signature|private",
    re.IGNORECASE,
)
REDACTED = "***"
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)@", re.IGNORECASE)
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;][^=&#\s'\"]*(?:pass(?:word|wd)?|secret|token|api[-_]?key|signature|credential)[^=&#\s'\"]*=)"
    r"(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE,
)
"""A secret in a URL's query string (``…/rest/login/refresh?refresh_token=…``, ``oauth_signature=…``)."""
QUIET_LIBRARY_LOGGERS = ("httpx2", "httpcore2", "sqlalchemy", "aiosqlite", "asyncio")
"""Libraries whose INFO and DEBUG lines are noise at best and, at worst, write a URL with a token in it:
httpx2 logs every request line (``POST …?refresh_token=…``). Only their warnings are kept."""


_TRACEBACKS = structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
"""Tracebacks as dicts, without each frame's local variables: those hold passwords, tokens and
customer data (structlog shows them by default)."""


def redact(value: Any, key: str | None = None) -> Any:
    """Return ``value`` with every entry under a sensitive key replaced, recursively, and passwords
    in URLs masked."""
    if key is not None and SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """``text`` with passwords in URLs and secret query parameters masked (any string a log line holds)."""
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    if "=" in text:
        text = _SECRET_PARAM.sub(lambda m: f"{m.group('name')}{REDACTED}", text)
    return text


class _NoTracebacks(logging.Filter):
    """Keeps records that carry a traceback off the terminal: the CLI reports those as one line
    and the traceback goes to the log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.exc_info


_log_file: Path | None = None
_write_error_reported = False


class LogFileHandler(logging.handlers.TimedRotatingFileHandler):
    """The log file, daily rotated. A write that fails (disk full, a file system gone read-only) must
    not disturb the command: the stdlib default prints ``--- Logging error ---`` and a traceback to
    stderr for every record. This one says so in one short line, once per process, drops the record
    and keeps trying with the next ones (the space may come back)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        self._report(sys.exc_info()[1])

    def _report(self, error: BaseException | None) -> None:
        global _write_error_reported
        if _write_error_reported:
            return
        _write_error_reported = True
        reason = (error.strerror or str(error)) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        with contextlib.suppress(Exception):
            sys.stderr.write(
                f"plentysync: cannot write the log file {self.baseFilename} ({reason}); log lines are lost\n"
            )
            sys.stderr.flush()

    def flush(self) -> None:
        try:
            super().flush()
        except Exception as exc:  # a flush outside emit() (close, shutdown)
            self._report(exc)

    def close(self) -> None:
        try:
            super().close()
        except Exception as exc:
            self._report(exc)


def current_log_file() -> Path | None:
    return _log_file


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        event_dict[key] = redact(event_dict[key], key)
    return event_dict


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_processor,
]


def configure_logging(log_dir: Path | None, *, file_level: str = "INFO", console_level: str = "WARNING") -> None:
    """Send all logs (plentysync's, SQLAlchemy's, httpx2's) through structlog's processors.

    ``log_dir=None`` disables the file (used by tests and read-only commands that cannot write)."""
    global _log_file
    _log_file = None
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_plentysync", False):
            root.removeHandler(handler)
            handler.close()

    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.dev.ConsoleRenderer(colors=False),
            ],
        )
    )
    console.addFilter(_NoTracebacks())
    console._plentysync = True  # type: ignore[attr-defined]
    root.addHandler(console)
    levels = [logging.getLevelName(console_level)]

    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            file_handler: logging.Handler = LogFileHandler(
                log_dir / "plentysync.log",
                when="midnight",
                backupCount=7,
                encoding="utf-8",
                utc=True,
            )
        except OSError as exc:
            logging.getLogger(__name__).warning("log file disabled: %s", exc)
        else:
            file_handler.setLevel(file_level)
            file_handler.setFormatter(
                structlog.stdlib.ProcessorFormatter(
                    foreign_pre_chain=_SHARED,
                    processors=[
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        _TRACEBACKS,
                        redact_processor,  # exception messages quote URLs (httpx2: "… for url '…?token=…'")
                        structlog.processors.JSONRenderer(),
                    ],
                )
            )
            file_handler._plentysync = True  # type: ignore[attr-defined]
            root.addHandler(file_handler)
            _log_file = log_dir / "plentysync.log"
            levels.append(logging.getLevelName(file_level))

    root.setLevel(min(levels))
    for name in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
