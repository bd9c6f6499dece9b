"""Notification severities and their numeric levels (the connector's Monolog scale)."""

from __future__ import annotations

from typing import Literal, get_args

Severity = Literal["debug", "info", "notice", "warning", "error", "critical"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
LEVELS: dict[Severity, int] = {
    "debug": 100,
    "info": 200,
    "notice": 250,
    "warning": 300,
    "error": 400,
    "critical": 500,
}
CRITICAL = LEVELS["critical"]


def level_of(severity: str) -> int:
    """The numeric level of a severity name (case-insensitive); ValueError for an unknown name."""
    try:
        return LEVELS[severity.lower()]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r} (one of {', '.join(SEVERITIES)})") from None


def parse_severity(severity: str) -> Severity:
    """The canonical name of a severity (case-insensitive); ValueError for an unknown name."""
    level = level_of(severity)
    return next(name for name, value in LEVELS.items() if value == level)
