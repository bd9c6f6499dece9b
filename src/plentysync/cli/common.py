"""Small helpers shared by the command modules."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from plentysync.engine.profiles import ProfileRecord
from plentysync.engine.services import Engine
from plentysync.errors import UsageError


def split_list(values: Iterable[str] | None) -> list[str]:
    """``-k A,B -k C`` → ["A", "B", "C"] (order kept, duplicates dropped, blanks ignored)."""
    result: list[str] = []
    for value in values or ():
        result += [part.strip() for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(result))


def read_keys_file(path: Path) -> list[str]:
    """One key per line; blank lines and lines starting with # are ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def parse_ids(values: Iterable[str] | None, what: str = "row id") -> list[int]:
    ids = []
    for part in split_list(values):
        if not part.isdigit():
            raise UsageError(f"not a {what}: {part!r}")
        ids.append(int(part))
    return ids


async def profile_type_of(engine: Engine, ref: str) -> str:
    """A queue's profile type from a type id or a profile id."""
    if ref.isdigit():
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
