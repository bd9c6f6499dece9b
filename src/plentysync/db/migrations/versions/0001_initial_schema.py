"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import plentysync.db.types
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "connection",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "name",
            sa.String(length=64)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mysql"),
            nullable=False,
        ),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.String(length=512), nullable=False),
        sa.Column(
            "options",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
        sa.UniqueConstraint("name", name=op.f("uq_connection_name")),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    op.create_table(
        "entity_link",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column(
            "magento_key",
            sa.String(length=255)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "plenty_key",
            sa.String(length=255)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "extra",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("source_hash", sa.String(length=64), nullable=True),
        sa.Column("synced_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_link")),
        sa.UniqueConstraint("entity", "magento_key", name="uq_entity_link_magento"),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("entity_link", schema=None) as batch_op:
        batch_op.create_index("ix_entity_link_plenty", ["entity", "plenty_key"], unique=False)

    op.create_table(
        "profile",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "type_id",
            sa.String(length=64)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mysql"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "config",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("config_updated_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("tested_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("activated_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("run_owner", sa.String(length=128), nullable=True),
        sa.Column("run_expires_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("current_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("last_run_status", sa.String(length=16), nullable=True),
        sa.Column("last_run_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile")),
        sa.UniqueConstraint("type_id", name=op.f("uq_profile_type_id")),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    op.create_table(
        "queue_item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "profile_type",
            sa.String(length=64)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "entity_key",
            sa.String(length=255)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger_reason", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claimed_version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("processed_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_item")),
        sa.UniqueConstraint("profile_type", "entity_key", name="uq_queue_item_type_key"),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("queue_item", schema=None) as batch_op:
        batch_op.create_index("ix_queue_item_age", ["profile_type", "status", "updated_at"], unique=False)
        batch_op.create_index("ix_queue_item_claim", ["profile_type", "status", "priority", "id"], unique=False)
        batch_op.create_index("ix_queue_item_lease", ["status", "lease_expires_at"], unique=False)

    op.create_table(
        "profile_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("started_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column(
            "messages",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profile.id"], name=op.f("fk_profile_run_profile_id_profile"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_run")),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("profile_run", schema=None) as batch_op:
        batch_op.create_index("ix_profile_run_profile_started", ["profile_id", "started_at"], unique=False)
        batch_op.create_index("ix_profile_run_started", ["started_at"], unique=False)

    op.create_table(
        "profile_schedule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cron_expr", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("planned_until", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profile.id"], name=op.f("fk_profile_schedule_profile_id_profile"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_schedule")),
        sa.UniqueConstraint("profile_id", name=op.f("uq_profile_schedule_profile_id")),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    op.create_table(
        "reference_data",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("fetched_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connection.id"],
            name=op.f("fk_reference_data_connection_id_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_data")),
        sa.UniqueConstraint("connection_id", "kind", name="uq_reference_data_kind"),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    op.create_table(
        "schedule_job",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.Column("executed_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", plentysync.db.types.UTCDateTime(), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profile.id"], name=op.f("fk_schedule_job_profile_id_profile"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_job")),
        sa.UniqueConstraint("profile_id", "scheduled_at", name="uq_schedule_job_profile_time"),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("schedule_job", schema=None) as batch_op:
        batch_op.create_index("ix_schedule_job_status_time", ["status", "scheduled_at"], unique=False)

    op.create_table(
        "run_entity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("profile_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "entity_key",
            sa.String(length=255)
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb")
            .with_variant(mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", plentysync.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["profile_run.id"], name=op.f("fk_run_entity_run_id_profile_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_entity")),
        mariadb_charset="utf8mb4",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("run_entity", schema=None) as batch_op:
        batch_op.create_index("ix_run_entity_created", ["created_at"], unique=False)
        batch_op.create_index("ix_run_entity_key", ["profile_id", "entity_key"], unique=False)
        batch_op.create_index("ix_run_entity_run", ["run_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("run_entity", schema=None) as batch_op:
        batch_op.drop_index("ix_run_entity_run")
        batch_op.drop_index("ix_run_entity_key")
        batch_op.drop_index("ix_run_entity_created")

    op.drop_table("run_entity")
    with op.batch_alter_table("schedule_job", schema=None) as batch_op:
        batch_op.drop_index("ix_schedule_job_status_time")

    op.drop_table("schedule_job")
    op.drop_table("reference_data")
    op.drop_table("profile_schedule")
    with op.batch_alter_table("profile_run", schema=None) as batch_op:
        batch_op.drop_index("ix_profile_run_started")
        batch_op.drop_index("ix_profile_run_profile_started")

    op.drop_table("profile_run")
    with op.batch_alter_table("queue_item", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_item_lease")
        batch_op.drop_index("ix_queue_item_claim")
        batch_op.drop_index("ix_queue_item_age")

    op.drop_table("queue_item")
    op.drop_table("profile")
    with op.batch_alter_table("entity_link", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_link_plenty")

    op.drop_table("entity_link")
    op.drop_table("connection")
