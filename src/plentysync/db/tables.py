"""The state database: every table plentysync keeps, as SQLAlchemy Core tables.

Alembic migrations (``db/migrations``) create these; a test checks that the two never drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
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

# ---- stock sync (sync/stock) ----------------------------------------------------------------------

# Delta-mode baselines: the quantity last pushed to (or confirmed in) PlentyONE per (SKU, warehouse).
# Their own table, so purging queue rows can never erase them (the seed keeps them on the queue row,
# where `purge --older-than` deletes them and the next push bootstraps again).
stock_baseline = Table(
    "stock_baseline",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", key_string(255), nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("quantity", Double(), nullable=False),
    # what set it: absolute, bootstrap, delta, seed (skip_and_seed), reconcile, import
    Column("source", String(16), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("sku", "warehouse_id", name="uq_stock_baseline_sku_warehouse"),
    **_TABLE_OPTIONS,
)

# Every stock write to PlentyONE, written as an intent before the call and completed after it: the
# audit trail (the seed's metadata.plenty_bookings) and the guard that keeps delta bookings
# exactly-once (an intent whose outcome is unknown is reconciled against PlentyONE's movements).
stock_booking = Table(
    "stock_booking",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", key_string(255), nullable=False),
    Column("variation_id", BigInteger, nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    # absolute, delta, bootstrap (absolute_then_delta), reconcile (reconcile_to_cache), seed
    Column("mode", String(16), nullable=False),
    # createStockCorrection, bookIncomingItems, bookOutgoingItems, or none (seeded baseline)
    Column("operation", String(32), nullable=False),
    Column("reason_id", Integer, nullable=True),
    # what was sent: the absolute quantity of a correction, the signed quantity of a booking
    Column("quantity", Double(), nullable=False),
    Column("delta", Double(), nullable=True),
    Column("baseline_before", Double(), nullable=True),
    Column("target", Double(), nullable=False),
    # pending (sent or about to be, outcome not known yet), applied, failed, not_applied (reconciled)
    Column("status", String(16), nullable=False),
    Column("plenty_booking_id", BigInteger, nullable=True),
    Column("plenty_order_no", String(64), nullable=True),
    Column("plenty_movement_id", BigInteger, nullable=True),
    Column("run_id", Id, nullable=True),
    Column("message", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime(), nullable=True),
    Index("ix_stock_booking_sku", "sku", "id"),
    Index("ix_stock_booking_status", "status", "warehouse_id"),
    Index("ix_stock_booking_movement", "plenty_movement_id"),
    **_TABLE_OPTIONS,
)

# The last seen state of Magento's MSI source items (or legacy stock items, source "default"): the
# source-item poller diffs a scan against it, and stock import updates it with what it wrote so its
# own writes are not seen as Magento changes.
stock_source_snapshot = Table(
    "stock_source_snapshot",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", key_string(255), nullable=False),
    Column("source_code", key_string(64), nullable=False),
    Column("quantity", Double(), nullable=False),
    Column("status", Integer, nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    UniqueConstraint("sku", "source_code", name="uq_stock_source_snapshot_sku_source"),
    **_TABLE_OPTIONS,
)

# PlentyONE's stock per (variation, warehouse) as stock import last read it: what drift compares
# Magento against and what the reconcile_to_cache bootstrap computes its delta from.
plenty_stock = Table(
    "plenty_stock",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("variation_id", BigInteger, nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("item_id", BigInteger, nullable=True),
    Column("sku", key_string(255), nullable=True),
    Column("physical", Double(), nullable=False),
    Column("net", Double(), nullable=False),
    Column("reserved", Double(), nullable=False),
    Column("plenty_updated_at", UTCDateTime(), nullable=True),
    Column("fetched_at", UTCDateTime(), nullable=False),
    UniqueConstraint("variation_id", "warehouse_id", name="uq_plenty_stock_variation_warehouse"),
    Index("ix_plenty_stock_sku", "sku"),
    **_TABLE_OPTIONS,
)

# SKUs the drift reconciler found divergent, with how many sweeps in a row: a SKU that keeps
# drifting points at a missed producer or a skip_and_seed baseline (seed troubleshooting 2 and 5).
stock_drift = Table(
    "stock_drift",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", key_string(255), nullable=False, unique=True),
    Column("consecutive", Integer, nullable=False),
    Column("magento_quantity", Double(), nullable=True),
    Column("plenty_quantity", Double(), nullable=True),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    **_TABLE_OPTIONS,
)

# Watermarks and other small per-producer state (poll high-water marks, last scan times).
sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", key_string(128), nullable=False, unique=True),
    Column("value", Json, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    **_TABLE_OPTIONS,
)

# PlentyONE's announced API budget, one row per account and kind of call (read/write), shared by
# every process that uses the account. ``windows`` holds ``{name: {limit, left, resets_at}}`` with
# epoch seconds; ``holders`` the calls in flight ``{holder: expires_at}`` (the write concurrency cap
# across processes); ``blocked_until`` the end of a 429's Retry-After.
api_budget = Table(
    "api_budget",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", key_string(255), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("windows", Json, nullable=True),
    Column("holders", Json, nullable=True),
    Column("blocked_until", Double, nullable=True),
    Column("throttled", BigInteger, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("account", "kind", name="uq_api_budget_account_kind"),
    **_TABLE_OPTIONS,
)

# One row per `plentysync worker` process: its heartbeat, state and what it reports about itself
# (``info``: version, broker state, activity, API call counters for /metrics).
worker = Table(
    "worker",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", key_string(128), nullable=False, unique=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime(), nullable=True),
    Column("info", Json, nullable=True),
    Index("ix_worker_heartbeat", "heartbeat_at"),
    **_TABLE_OPTIONS,
)

# Notifications (seed 001): what happened, how severe, and which channels have carried it.
notification = Table(
    "notification",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("severity", String(16), nullable=False),
    Column("level", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("profile_type", key_string(64), nullable=True),
    Column("run_id", Id, nullable=True),
    Column("title", String(255), nullable=False),
    Column("message", Text, nullable=True),
    Column("context", Json, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("emailed_at", UTCDateTime(), nullable=True),
    Column("digested_at", UTCDateTime(), nullable=True),
    Column("webhook_at", UTCDateTime(), nullable=True),
    Column("read_at", UTCDateTime(), nullable=True),
    Index("ix_notification_digest", "digested_at", "level"),
    Index("ix_notification_created", "created_at"),
    **_TABLE_OPTIONS,
)

# One row per live PlentyONE session (login) of a plentysync process, so a process that died without
# logging out (SIGKILL, OOM, power) leaves a record the next process reuses or revokes: PlentyONE caps the
# concurrent sessions of a user, and a token lives a day. Tokens are encrypted with the secret key.
plenty_session = Table(
    "plenty_session",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", key_string(255), nullable=False, index=True),
    Column("holder", String(255), nullable=False),  # host:pid:nonce of the process using it
    Column("access_token", Text, nullable=False),
    Column("refresh_token", Text, nullable=True),
    Column("expires_at", UTCDateTime(), nullable=False),  # the access token's expiry (database clock)
    # renewed while the holder uses the session; past it, a process on another host may take it over
    Column("lease_expires_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    **_TABLE_OPTIONS,
)
