"""Profiles: create, find, configure, enable, delete, and the run lease that keeps two workers from
running the same profile at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from plentysync.clock import Clock
from plentysync.db import Database
from plentysync.db.tables import profile as p
from plentysync.db.tables import profile_run, run_entity
from plentysync.engine.lifecycle import LifecycleFacts, ProfileState, derive_state
from plentysync.engine.registry import ProfileConfig, ProfileRegistry, ProfileType
from plentysync.errors import ConfigError, ConflictError, NotFoundError, UsageError

MAX_NAME = 255
MAX_ID = 2**63 - 1
"""Largest row id the state databases hold (signed 64-bit: BIGINT, SQLite INTEGER)."""


@dataclass(frozen=True)
class ProfileRecord:
    id: int
    type_id: str
    name: str
    entity: str
    direction: str
    enabled: bool
    config: dict[str, Any]
    config_updated_at: datetime | None
    tested_at: datetime | None
    activated_at: datetime | None
    run_owner: str | None
    run_expires_at: datetime | None
    current_run_id: int | None
    last_run_id: int | None
    last_run_status: str | None
    last_run_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> ProfileRecord:
        data = dict(row._mapping)
        data["config"] = data.get("config") or {}
        return cls(**data)

    @property
    def status(self) -> str:
        """The seed's Status field."""
        return "enabled" if self.enabled else "disabled"


def format_config_errors(type_id: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(config)"
        if err["type"] == "extra_forbidden":
            parts.append(f"{loc}: unknown option")
        else:
            parts.append(f"{loc}: {err['msg']}")
    return f"{type_id} configuration: " + "; ".join(parts)


def validate_config(profile_type: ProfileType, data: dict[str, Any]) -> ProfileConfig:
    try:
        return profile_type.config_model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_config_errors(profile_type.type_id, exc)) from None


class ProfileService:
    def __init__(self, db: Database, registry: ProfileRegistry, clock: Clock | None = None) -> None:
        self.db = db
        self.registry = registry
        self.clock: Clock = clock or db.clock

    # -- reading ---------------------------------------------------------------------------------

    async def list(self) -> list[ProfileRecord]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(p).order_by(p.c.id))).all()
        return [ProfileRecord.from_row(row) for row in rows]

    async def find(self, ref: str | int) -> ProfileRecord | None:
        """Look a profile up by id (``3``) or type id (``plenty_stock_export``)."""
        text = str(ref).strip()
        is_id = text.isascii() and text.isdigit()
        if is_id and int(text) > MAX_ID:
            raise UsageError(f"profile id {text} is out of range (1 to {MAX_ID})")
        cond = p.c.id == int(text) if is_id else p.c.type_id == text
        async with self.db.read() as conn:
            row = (await conn.execute(select(p).where(cond))).first()
        return ProfileRecord.from_row(row) if row else None

    async def resolve(self, ref: str | int) -> ProfileRecord:
        found = await self.find(ref)
        if found is None:
            raise NotFoundError(f"no profile '{ref}' (see: plentysync profile list)")
        return found

    def config_problem(self, record: ProfileRecord) -> str | None:
        """Why the stored configuration cannot be used, or None if it can."""
        profile_type = self.registry.find(record.type_id)
        if profile_type is None:
            return f"profile type {record.type_id} is not available in this version of plentysync"
        try:
            validate_config(profile_type, record.config)
        except ConfigError as exc:
            return str(exc)
        return None

    def is_running(self, record: ProfileRecord) -> bool:
        return (
            record.run_owner is not None
            and record.run_expires_at is not None
            and record.run_expires_at > self.clock.now()
        )

    def state_of(self, record: ProfileRecord) -> ProfileState:
        return derive_state(
            LifecycleFacts(
                config_valid=self.config_problem(record) is None,
                enabled=record.enabled,
                running=self.is_running(record),
                activated_at=record.activated_at,
                tested_at=record.tested_at,
                config_updated_at=record.config_updated_at,
                last_run_status=record.last_run_status,
            )
        )

    def typed_config(self, record: ProfileRecord) -> ProfileConfig:
        """The configuration as the type's model; raises ConfigError if it does not validate."""
        profile_type = self.registry.get(record.type_id)
        try:
            return validate_config(profile_type, record.config)
        except ConfigError as exc:
            raise ConfigError(f"profile {record.type_id} is not configured yet: {exc}") from None

    # -- changing --------------------------------------------------------------------------------

    async def create(
        self,
        type_id: str,
        *,
        name: str | None = None,
        enabled: bool = False,
        config: dict[str, Any] | None = None,
    ) -> ProfileRecord:
        """Create the profile of ``type_id`` (one per type). Without ``config`` it starts from the type's
        defaults; if those are incomplete the profile is Created and must be configured before it runs."""
        profile_type = self.registry.get(type_id)
        name = _check_name(name or profile_type.label)
        now = self.clock.now()
        stored: dict[str, Any] = {}
        config_updated_at = None
        if config is not None:
            stored = validate_config(profile_type, config).model_dump(mode="json")
            config_updated_at = now
        else:
            try:
                stored = profile_type.config_model().model_dump(mode="json")
                config_updated_at = now
            except ValidationError:
                stored = {}
        if enabled and config_updated_at is None:
            raise ConfigError(f"{type_id} cannot be enabled before it is configured")
        values = {
            "type_id": type_id,
            "name": name,
            "entity": profile_type.entity,
            "direction": profile_type.direction,
            "enabled": enabled,
            "config": stored,
            "config_updated_at": config_updated_at,
            "activated_at": now if enabled else None,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self.db.begin() as conn:
                await conn.execute(p.insert().values(**values))
        except IntegrityError:
            existing = await self.find(type_id)
            ident = f" (id {existing.id})" if existing else ""
            raise ConflictError(
                f"a profile of type {type_id} already exists{ident}: there is one profile per type"
            ) from None
        return await self.resolve(type_id)

    async def update_config(self, ref: str | int, config: dict[str, Any]) -> ProfileRecord:
        record = await self.resolve(ref)
        profile_type = self.registry.get(record.type_id)
        stored = validate_config(profile_type, config).model_dump(mode="json")
        now = self.clock.now()
        async with self.db.begin() as conn:
            await conn.execute(
                update(p).where(p.c.id == record.id).values(config=stored, config_updated_at=now, updated_at=now)
            )
        return await self.resolve(record.id)

    async def rename(self, ref: str | int, name: str) -> ProfileRecord:
        record = await self.resolve(ref)
        async with self.db.begin() as conn:
            await conn.execute(
                update(p).where(p.c.id == record.id).values(name=_check_name(name), updated_at=self.clock.now())
            )
        return await self.resolve(record.id)

    async def set_enabled(self, ref: str | int, enabled: bool) -> ProfileRecord:
        record = await self.resolve(ref)
        if enabled:
            problem = self.config_problem(record)
            if problem is not None:
                raise ConfigError(f"cannot enable {record.type_id}: {problem}")
        now = self.clock.now()
        values: dict[str, Any] = {"enabled": enabled, "updated_at": now}
        if enabled and record.activated_at is None:
            values["activated_at"] = now
        async with self.db.begin() as conn:
            await conn.execute(update(p).where(p.c.id == record.id).values(**values))
        return await self.resolve(record.id)

    async def mark_tested(self, profile_id: int) -> None:
        now = self.clock.now()
        async with self.db.begin() as conn:
            await conn.execute(update(p).where(p.c.id == profile_id).values(tested_at=now))

    async def delete(self, ref: str | int, *, chunk: int = 1000) -> ProfileRecord:
        """Delete the profile, its configuration, schedule and history. Queue rows and identity links
        stay: they describe data, not the profile, and a re-created profile picks them up again."""
        record = await self.resolve(ref)
        if self.is_running(record):
            raise ConflictError(f"profile {record.type_id} is running; wait for the run to end")
        # History can be large: delete it in chunks before the profile row cascades the rest.
        while True:
            async with self.db.begin() as conn:
                run_ids = (
                    (
                        await conn.execute(
                            select(profile_run.c.id).where(profile_run.c.profile_id == record.id).limit(chunk)
                        )
                    )
                    .scalars()
                    .all()
                )
                if not run_ids:
                    break
                await conn.execute(delete(run_entity).where(run_entity.c.run_id.in_(run_ids)))
                await conn.execute(delete(profile_run).where(profile_run.c.id.in_(run_ids)))
        async with self.db.begin() as conn:
            await conn.execute(delete(p).where(p.c.id == record.id))
        return record

    # -- run lease -------------------------------------------------------------------------------

    async def acquire_run(self, profile_id: int, owner: str, ttl: timedelta) -> bool:
        """Take the profile's run lease if nobody holds a live one. Returns whether we got it."""
        now = self.clock.now()
        stmt = (
            update(p)
            .where(
                p.c.id == profile_id,
                or_(p.c.run_owner.is_(None), p.c.run_expires_at < now),
            )
            .values(run_owner=owner, run_expires_at=now + ttl)
        )
        async with self.db.begin() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def renew_run(self, profile_id: int, owner: str, ttl: timedelta) -> bool:
        stmt = (
            update(p).where(p.c.id == profile_id, p.c.run_owner == owner).values(run_expires_at=self.clock.now() + ttl)
        )
        async with self.db.begin() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def set_current_run(self, profile_id: int, owner: str, run_id: int) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(p).where(p.c.id == profile_id, p.c.run_owner == owner).values(current_run_id=run_id)
            )

    async def release_run(
        self,
        profile_id: int,
        owner: str,
        *,
        run_id: int | None,
        status: str | None,
        finished_at: datetime,
    ) -> None:
        """Give the run lease back; ``status`` (None for dry runs) becomes the profile's last run."""
        values: dict[str, Any] = {
            "run_owner": None,
            "run_expires_at": None,
            "current_run_id": None,
        }
        if status is not None:
            values.update(last_run_id=run_id, last_run_status=status, last_run_at=finished_at)
        async with self.db.begin() as conn:
            await conn.execute(update(p).where(p.c.id == profile_id, p.c.run_owner == owner).values(**values))

    async def record_last_run(self, profile_id: int, *, run_id: int, status: str, finished_at: datetime) -> None:
        """A run of a type with concurrent runs ended: it becomes the last run unless a later one
        already finished."""
        stmt = (
            update(p)
            .where(p.c.id == profile_id, or_(p.c.last_run_at.is_(None), p.c.last_run_at <= finished_at))
            .values(last_run_id=run_id, last_run_status=status, last_run_at=finished_at)
        )
        async with self.db.begin() as conn:
            await conn.execute(stmt)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UsageError("a profile needs a name")
    if len(name) > MAX_NAME:
        raise UsageError(f"profile names are at most {MAX_NAME} characters")
    return name
