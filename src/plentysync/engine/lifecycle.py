"""Profile lifecycle (seed 001)::

    [Created] → [Configured] → [Tested] → [Active] → [Running] → [Completed]
                                             ↓           ↓            ↓
                                        [Disabled]   [Paused]     [Failed]

The state is derived from facts stored on the profile rather than kept as a column that every code
path must remember to update:

* Created: the configuration does not (yet) pass its type's schema. Such a profile cannot run.
* Configured / Tested: valid configuration, never enabled; Tested once a dry run passed since the
  configuration last changed.
* Active: enabled, no run finished yet.
* Running: a worker holds the profile's run lease right now.
* Completed / Failed / Paused: enabled, and the last run succeeded (fully or partly) / failed /
  was interrupted.
* Disabled: switched off after having been active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ProfileState(StrEnum):
    CREATED = "created"
    CONFIGURED = "configured"
    TESTED = "tested"
    ACTIVE = "active"
    RUNNING = "running"
    COMPLETED = "completed"
    DISABLED = "disabled"
    PAUSED = "paused"
    FAILED = "failed"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class LifecycleFacts:
    config_valid: bool
    enabled: bool
    running: bool
    activated_at: datetime | None
    tested_at: datetime | None
    config_updated_at: datetime | None
    last_run_status: str | None


def derive_state(facts: LifecycleFacts) -> ProfileState:
    if facts.running:
        return ProfileState.RUNNING
    if not facts.config_valid:
        return ProfileState.CREATED
    if not facts.enabled:
        if facts.activated_at is not None:
            return ProfileState.DISABLED
        tested = facts.tested_at is not None and (
            facts.config_updated_at is None or facts.tested_at >= facts.config_updated_at
        )
        return ProfileState.TESTED if tested else ProfileState.CONFIGURED
    after_run: dict[str | None, ProfileState] = {
        None: ProfileState.ACTIVE,
        RunStatus.SUCCESS: ProfileState.COMPLETED,
        RunStatus.PARTIAL: ProfileState.COMPLETED,
        RunStatus.FAILED: ProfileState.FAILED,
        RunStatus.CANCELLED: ProfileState.PAUSED,
    }
    return after_run.get(facts.last_run_status, ProfileState.ACTIVE)
