"""Magento's date-times: UTC, ``YYYY-MM-DD HH:MM:SS``, no zone suffix (the API never converts to the store's
time zone). Converted to and from aware datetimes here, at the edge, and nowhere else."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from Magento's wire form (zone-less means UTC); ``None`` for empty values."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if text.startswith("0000-00-00"):
            return None
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """Magento's wire form of ``moment``; a naive value is taken to be UTC already."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime(WIRE_FORMAT)


def _serialize(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


MagentoDateTime = Annotated[datetime | None, BeforeValidator(parse_datetime), PlainSerializer(_serialize)]
"""A model field holding a Magento date-time: aware UTC in Python, ``YYYY-MM-DD HH:MM:SS`` on the wire."""
