"""The state database: every table plentysync keeps, as SQLAlchemy Core tables.

Alembic migrations (``db/migrations``) create these; a test checks that the two never drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from plentysync.db.types import Id, Json, UTCDateTime, key_string

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# InnoDB + utf8mb4 on MariaDB/MySQL; on SQLite AUTOINCREMENT, so ids of deleted rows (a purged queue
# row, a deleted run) are never handed out again while someone may still refer to them.
_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mariadb_engine": "InnoDB",
    "mariadb_charset": "utf8mb4",
    "sqlite_autoincrement": True,
}


def _timestamps() -> tuple[Column[datetime], Column[datetime]]:
    return (
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
    )


# One Magento or PlentyONE system. Credentials are a Fernet token, never plain text.
connection = Table(
    "connection",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", key_string(64), nullable=False, unique=True),
    Column("system", String(16), nullable=False),
    Column("base_url", String(512), nullable=False),
    Column("options", Json, nullable=True),
    Column("credentials", Text, nullable=True),
    *_timestamps(),
    **_TABLE_OPTIONS,
)

# A configured sync job. One per type (seed 001); entity and direction never change.
profile = Table(
    "profile",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("type_id", key_string(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("enabled", Boolean, nullable=False, default=False),
    Column("config", Json, nullable=True),
    Column("config_updated_at", UTCDateTime(), nullable=True),
    Column("tested_at", UTCDateTime(), nullable=True),
    Column("activated_at", UTCDateTime(), nullable=True),
    # run lease: who runs this profile right now, and until when the claim holds without renewal
    Column("run_owner", String(128), nullable=True),
    Column("run_expires_at", UTCDateTime(), nullable=True),
    Column("current_run_id", Id, nullable=True),
    Column("last_run_id", Id, nullable=True),
    Column("last_run_status", String(16), nullable=True),
    Column("last_run_at", UTCDateTime(), nullable=True),
    *_timestamps(),
    **_TABLE_OPTIONS,
)

profile_schedule = Table(
    "profile_schedule",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "profile_id",
        Id,
        ForeignKey("profile.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("cron_expr", String(255), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    # schedule jobs have been written up to this time (exclusive)
    Column("planned_until", UTCDateTime(), nullable=True),
    *_timestamps(),
    **_TABLE_OPTIONS,
)

# Like Magento's cron_schedule: one row per planned execution of a profile's schedule.
schedule_job = Table(
    "schedule_job",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("profile_id", Id, ForeignKey("profile.id", ondelete="CASCADE"), nullable=False),
    Column("job_code", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("scheduled_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("executed_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("owner", String(128), nullable=True),
    Column("run_id", Id, nullable=True),
    Column("message", Text, nullable=True),
    UniqueConstraint("profile_id", "scheduled_at", name="uq_schedule_job_profile_time"),
    Index("ix_schedule_job_status_time", "status", "scheduled_at"),
    **_TABLE_OPTIONS,
)

# The coalescing queue: one row per (profile type, entity key); see engine/queue.py.
queue_item = Table(
    "queue_item",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("profile_type", key_string(64), nullable=False),
    Column("entity_key", key_string(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger_reason", String(32), nullable=False),
    # lower runs first: 0 for "export now" pushes, 100 for ordinary changes
    Column("priority", Integer, nullable=False, default=100),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires_at", UTCDateTime(), nullable=True),
    Column("version", Id, nullable=False, default=1),
    Column("claimed_version", Id, nullable=True),
    Column("message", Text, nullable=True),
    Column("metadata", Json, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("processed_at", UTCDateTime(), nullable=True),
    UniqueConstraint("profile_type", "entity_key", name="uq_queue_item_type_key"),
    # The claim scans this index in order; without it InnoDB's SKIP LOCKED starves other workers.
    Index("ix_queue_item_claim", "profile_type", "status", "priority", "id"),
    Index("ix_queue_item_lease", "status", "lease_expires_at"),
    Index("ix_queue_item_age", "profile_type", "status", "updated_at"),
    **_TABLE_OPTIONS,
)

profile_run = Table(
    "profile_run",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("profile_id", Id, ForeignKey("profile.id", ondelete="CASCADE"), nullable=False),
    Column("type_id", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("owner", String(128), nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("processed", Integer, nullable=False, default=0),
    Column("succeeded", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("message", Text, nullable=True),
    Column("messages", Json, nullable=True),
    Index("ix_profile_run_profile_started", "profile_id", "started_at"),
    Index("ix_profile_run_started", "started_at"),
    **_TABLE_OPTIONS,
)

# Per-entity history: what happened to each SKU / order / customer in each run.
run_entity = Table(
    "run_entity",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("profile_run.id", ondelete="CASCADE"), nullable=False),
    Column("profile_id", Id, nullable=False),
    Column("entity_key", key_string(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_run_entity_run", "run_id"),
    Index("ix_run_entity_key", "profile_id", "entity_key"),
    Index("ix_run_entity_created", "created_at"),
    **_TABLE_OPTIONS,
)

# Identity links between the two systems: SKU <-> variation, customer <-> contact, order <-> order...
entity_link = Table(
    "entity_link",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("entity", String(32), nullable=False),
    Column("magento_key", key_string(255), nullable=False),
    Column("plenty_key", key_string(255), nullable=False),
    Column("extra", Json, nullable=True),
    Column("source_hash", String(64), nullable=True),
    Column("synced_at", UTCDateTime(), nullable=True),
    *_timestamps(),
    UniqueConstraint("entity", "magento_key", name="uq_entity_link_magento"),
    Index("ix_entity_link_plenty", "entity", "plenty_key"),
    **_TABLE_OPTIONS,
)

# Cached reference lists per connection (warehouses, referrers, store views...).
reference_data = Table(
    "reference_data",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "connection_id",
        Id,
        ForeignKey("connection.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(64), nullable=False),
    Column("payload", Json, nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    UniqueConstraint("connection_id", "kind", name="uq_reference_data_kind"),
    **_TABLE_OPTIONS,
)
