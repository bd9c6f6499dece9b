"""Profile types and the registry that knows them.

A profile type is the code side of a profile: its entity and direction, the pydantic model of its
options and its pipeline. Entity packages under ``plentysync.sync`` register theirs; the engine itself
knows none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plentysync.errors import NotFoundError

if TYPE_CHECKING:
    from plentysync.clock import Clock
    from plentysync.db import Database
    from plentysync.engine.links import IdentityLinks
    from plentysync.engine.pipeline import Pipeline, RunContext
    from plentysync.engine.profiles import ProfileRecord
    from plentysync.settings import Settings

ResourceFactory = Callable[["RunContext", "Settings"], AbstractAsyncContextManager[dict[str, Any]]]
"""Opens what a run's stages need; it sees the run context, so it can reuse what the caller injected
into ``ctx.extras`` (tests and benchmarks hand in their own clients) and read the profile's config."""

SharedResourceFactory = Callable[
    ["Database", "Settings", "ProfileRecord", "ProfileConfig", "IdentityLinks", "Clock"],
    AbstractAsyncContextManager[dict[str, Any]],
]
"""Opens what many runs of one profile can share (API clients with their login), for a long-running
worker: it injects the result into every run's ``ctx.extras`` instead of logging in for each run."""

Direction = Literal["import", "export"]
TYPE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,63}$")


class ProfileConfig(BaseModel):
    """Options every profile has. A type's ``config_model`` extends this class."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    process_batch_size: int = Field(100, ge=1, le=10_000)
    """Entities handled per batch (one claim, one round of API calls, one commit)."""
    enable_history: bool = True
    """Keep a per-entity history row for every entity each run touches."""


@dataclass(frozen=True)
class ProfileType:
    type_id: str
    entity: str
    direction: Direction
    label: str
    config_model: type[ProfileConfig]
    pipeline: Pipeline
    description: str = ""
    queue_backed: bool = True
    """Whether runs drain this type's rows in the coalescing queue."""
    max_attempts: int | None = None
    """Overrides the queue's max_attempts for this type (e.g. order export: 3)."""
    open_resources: ResourceFactory | None = None
    """Opens what the stages need for a run (API clients...); they find it in ``ctx.extras``, where
    what the caller injected wins over what this opens."""
    shared_resources: SharedResourceFactory | None = None
    """What a worker keeps open across runs of this profile (see :data:`SharedResourceFactory`)."""
    concurrent_runs: bool = False
    """Runs of this type may overlap (several workers draining one queue): every row is claimed by
    exactly one run, and nothing in the type's stages depends on being the only run. Types without it
    hold the profile's run lease, one run at a time."""

    def __post_init__(self) -> None:
        if not TYPE_ID_PATTERN.match(self.type_id):
            raise ValueError(f"invalid profile type id {self.type_id!r}")
        if self.direction not in ("import", "export"):
            raise ValueError(f"invalid direction {self.direction!r}")


class ProfileRegistry:
    def __init__(self) -> None:
        self._types: dict[str, ProfileType] = {}

    def register(self, profile_type: ProfileType) -> None:
        if profile_type.type_id in self._types:
            raise ValueError(f"profile type {profile_type.type_id} is registered twice")
        self._types[profile_type.type_id] = profile_type

    def find(self, type_id: str) -> ProfileType | None:
        return self._types.get(type_id)

    def get(self, type_id: str) -> ProfileType:
        found = self._types.get(type_id)
        if found is None:
            known = ", ".join(sorted(self._types)) or "none"
            raise NotFoundError(f"unknown profile type '{type_id}' (available: {known})")
        return found

    def all(self) -> list[ProfileType]:
        return [self._types[key] for key in sorted(self._types)]

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types

    def __len__(self) -> int:
        return len(self._types)
