"""The ``X-Plenty-*`` rate-limit headers → budget windows, and the 429 bodies the servers send.

Every response carries the global short (per minute) and long (per day) windows; routes with an
individual limit add ``X-Plenty-Route-*``. The headers on a response describe the window of that
call's kind (read or write), so the client feeds them to the gate of the kind it sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from plentysync.http.budget import WindowReading
from plentysync.http.policy import Action, Rule

WINDOW_PREFIXES: dict[str, str] = {
    "short": "X-Plenty-Global-Short-Period",
    "long": "X-Plenty-Global-Long-Period",
    "route": "X-Plenty-Route",
}
SESSION_CAP_MARKER = "too_many_concurrent_sessions"
SHORT_READ_LIMIT_MARKER = "short period read limit reached"
SHORT_WRITE_LIMIT_MARKER = "short period write limit reached"

PLENTY_RULES: tuple[Rule, ...] = (
    Rule(429, Action.RATE_LIMITED, SESSION_CAP_MARKER),
    Rule(429, Action.RATE_LIMITED, SHORT_READ_LIMIT_MARKER),
    Rule(429, Action.RATE_LIMITED, SHORT_WRITE_LIMIT_MARKER),
)
"""Explicit about the throttling bodies; every other status follows the shared defaults."""


def _number(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def parse_plenty_headers(headers: Mapping[str, str]) -> dict[str, WindowReading]:
    """The windows a response announces, keyed ``"short"``, ``"long"``, ``"route"`` (only those present)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    readings: dict[str, WindowReading] = {}
    for name, prefix in WINDOW_PREFIXES.items():
        base = prefix.lower()
        limit = _int(lowered.get(f"{base}-limit"))
        left = _int(lowered.get(f"{base}-calls-left"))
        decay = _number(lowered.get(f"{base}-decay"))
        if limit is None and left is None and decay is None:
            continue
        readings[name] = WindowReading(limit=limit, calls_left=left, decay=decay)
    return readings
