"""Output for people (rich tables, progress bars) and for scripts (``--json``), and confirmations."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.prompt import Confirm
from rich.table import Table

from plentysync.errors import UsageError

console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    return value


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON for scripts, or call ``human`` to render it for people."""
    if as_json:
        print_json(data)
    else:
        human()


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def fmt_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def table(*columns: str, title: str | None = None) -> Table:
    result = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        result.add_column(column, overflow="fold")
    return result


STATUS_STYLE = {
    "success": "green",
    "completed": "green",
    "active": "green",
    "enabled": "green",
    "partial": "yellow",
    "pending": "yellow",
    "processing": "cyan",
    "running": "cyan",
    "retry": "yellow",
    "skipped": "dim",
    "missed": "yellow",
    "error": "red",
    "failed": "red",
    "cancelled": "yellow",
    "paused": "yellow",
    "disabled": "dim",
}


def styled(status: str | None) -> str:
    if status is None:
        return "—"
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status}[/{style}]" if style else status


def confirm(question: str, *, force: bool) -> None:
    """Ask before a destructive action. Without a terminal, refuse unless ``--force`` was given."""
    if force:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question.rstrip('?')}: refusing without confirmation; pass --force")
    if not Confirm.ask(question, console=err_console, default=False):
        raise UsageError("aborted")


class RichProgress:
    """A progress bar on stderr (rich drops the animation when stderr is not a terminal)."""

    def __init__(self, description: str, enabled: bool = True) -> None:
        self.description = description
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, total: int | None) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(self.description, total=total)

    def advance(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)


class _NotOnConsole(logging.Filter):
    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(record.name == name or record.name.startswith(name + ".") for name in self.names)


@contextmanager
def console_logs_without(*names: str) -> Iterator[None]:
    """Keep the records of these loggers off the terminal for a while (the log file still gets them).

    A run prints its own report; stamina's ``retry_scheduled`` lines in between are internals on the
    console (the outcome and its reason are in the report, every retry is in the log file)."""
    quiet = _NotOnConsole(names)
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


_RUN_COUNTS = re.compile(r"^\d+ processed: \d+ succeeded, \d+ failed, \d+ skipped(?:; |$)")


def run_reason(message: str | None) -> str | None:
    """What a run's stored message says beyond its counts (why it stopped or failed), on one line."""
    if not message:
        return None
    text = " ".join(_RUN_COUNTS.sub("", message, count=1).split())
    return text or None


def print_line(text: str, *, label: str | None = None) -> None:
    """``text`` (not markup) on one line, however long, after an optional markup ``label``."""
    console.print(f"{label} {escape(text)}" if label else escape(text), soft_wrap=True)
