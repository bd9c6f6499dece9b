"""Shared building blocks of the wire models.

Parsers (remote → ours) derive from :class:`WireModel`: every field optional, unknown fields kept
(real servers send many fields the spec leaves out), numbers-as-strings accepted by pydantic's lax
mode. Request generators (ours → remote) derive from :class:`RequestModel`: unknown fields are a
programming error, and :meth:`RequestModel.payload` drops ``None`` so a request carries only the
fields the caller set.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer


def w3c(moment: datetime) -> str:
    """``2026-05-29T13:13:12+02:00``: W3C with the offset PlentyONE requires; naive times are refused
    because the server would read them in its own time zone (or reject them: ``validation.date_w3c``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"PlentyONE needs timezone-aware times, got naive {moment.isoformat()}")
    return moment.isoformat(timespec="seconds")


def _aware(moment: datetime) -> datetime:
    w3c(moment)
    return moment


def _number(value: Decimal) -> int | float:
    """A Decimal as a JSON number (``5.7``, ``3``), never a string: the spec types these as numbers."""
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal_in(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


WireDecimal = Annotated[Decimal, BeforeValidator(_decimal_in), PlainSerializer(_number, when_used="json")]
"""Order ``statusId`` / ``referrerId`` and similar: decimal ids (``5.7``, ``2.08``) kept exact."""

W3CDateTime = Annotated[datetime, AfterValidator(_aware), PlainSerializer(w3c, when_used="json")]


class WireModel(BaseModel):
    """A record as the server sends it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestModel(BaseModel):
    """A request body; :meth:`payload` is what goes on the wire."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)
