"""Small helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from cyclopts import Parameter, validators

from plentysync.engine.profiles import MAX_ID, ProfileRecord
from plentysync.engine.services import Engine
from plentysync.errors import UsageError

MAX_LIMIT = 100_000
"""Most rows a listing shows at once."""
MAX_DAYS = 36_500
"""Longest age in days (--older-than, --days): a hundred years."""


def _bounded(low: int, high: int) -> Parameter:
    return Parameter(validator=validators.Number(gte=low, lte=high))


RowId = Annotated[int, _bounded(1, MAX_ID)]
"""A database row id (queue row, run, job) given as an option."""
Limit = Annotated[int, _bounded(1, MAX_LIMIT)]
"""How many rows to show."""
Offset = Annotated[int, _bounded(0, MAX_ID)]
"""How many rows to skip."""
Days = Annotated[int, _bounded(0, MAX_DAYS)]
"""An age in days."""


def split_list(values: Iterable[str] | None) -> list[str]:
    """``-k A,B -k C`` → ["A", "B", "C"] (order kept, duplicates dropped, blanks ignored)."""
    result: list[str] = []
    for value in values or ():
        result += [part.strip() for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(result))


def read_text_file(path: Path) -> str:
    """A file named on the command line, as text; unreadable or not UTF-8 is a :class:`UsageError`."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot read {path}: not UTF-8 text (invalid byte at offset {exc.start})") from None


def read_keys_file(path: Path) -> list[str]:
    """One key per line; blank lines and lines starting with # are ignored."""
    lines = read_text_file(path).splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def parse_ids(values: Iterable[str] | None, what: str = "row id") -> list[int]:
    """``-i 3,4 -i 7`` → [3, 4, 7]; each must be a whole number from 1 to :data:`MAX_ID`."""
    ids = []
    for part in split_list(values):
        if not (part.isascii() and part.isdigit()):
            raise UsageError(f"not a {what}: {part!r}")
        value = int(part)
        if not 1 <= value <= MAX_ID:
            raise UsageError(f"{what} {part} is out of range (1 to {MAX_ID})")
        ids.append(value)
    return ids


async def profile_type_of(engine: Engine, ref: str) -> str:
    """A queue's profile type from a type id or a profile id."""
    if ref.isascii() and ref.isdigit():
        return (await engine.profiles.resolve(ref)).type_id
    if ref in engine.registry:
        return ref
    found = await engine.profiles.find(ref)
    if found is None:
        raise UsageError(f"unknown profile type '{ref}' (see: plentysync profile types)")
    return found.type_id


def profile_summary(engine: Engine, record: ProfileRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "type_id": record.type_id,
        "name": record.name,
        "entity": record.entity,
        "direction": record.direction,
        "status": record.status,
        "state": engine.profiles.state_of(record).value,
        "last_run_status": record.last_run_status,
        "last_run_at": record.last_run_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
