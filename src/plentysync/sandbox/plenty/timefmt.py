"""Time as the PlentyONE servers write and read it: W3C with the system's offset (Europe/Berlin)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SYSTEM_TZ = ZoneInfo("Europe/Berlin")
_W3C_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def w3c(moment: datetime) -> str:
    """``2026-05-29T13:13:12+02:00``: seconds precision, Berlin offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SYSTEM_TZ).isoformat(timespec="seconds")


def parse_stored(value: str) -> datetime:
    """Parse a timestamp the sandbox wrote itself."""
    return datetime.fromisoformat(value)


def is_w3c_with_offset(value: object) -> bool:
    """What the stock booking routes accept for ``deliveredAt`` (``validation.date_w3c`` otherwise)."""
    return isinstance(value, str) and _W3C_WITH_OFFSET.match(value) is not None


def parse_query_time(value: str) -> datetime | None:
    """A time filter from a query string: unix seconds or ISO 8601 (naive = system time).

    A ``+`` that was not URL-encoded arrives as a space; such values (and anything else
    unparseable) return ``None``.
    """
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), tz=UTC)
    if " " in value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SYSTEM_TZ)
    return parsed


def parse_query_date(value: str) -> date | None:
    """``yyyy-mm-dd`` or ``mm/dd/yyyy`` (the contact list filters)."""
    text = value.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first and last instant of ``day`` in system time."""
    start = datetime.combine(day, time.min, tzinfo=SYSTEM_TZ)
    end = datetime.combine(day, time.max, tzinfo=SYSTEM_TZ)
    return start, end
