"""collection: source schedules, state and health; source runs; attachments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yuqing.store.types import JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("interval_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cron", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("robots", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("max_items", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("state", JSONType, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("next_run_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_run_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_success_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_error_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("failing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "updated_at",
                UTCDateTime(),
                nullable=False,
                server_default="1970-01-01 00:00:00.000000",
            )
        )
        batch.create_unique_constraint("uq_sources_token_hash", ["token_hash"])
        batch.create_index("ix_sources_next_run_at", ["next_run_at"])
    op.create_table(
        "source_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("revisited", sa.Integer(), nullable=False),
        sa.Column("snapshots", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("problems", JSONType, nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_source_runs_source_id", "source_runs", ["source_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachments_item_id", "attachments", ["item_id"])
    op.create_index("ix_attachments_sha256", "attachments", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_attachments_sha256", table_name="attachments")
    op.drop_index("ix_attachments_item_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_source_runs_source_id", table_name="source_runs")
    op.drop_table("source_runs")
    with op.batch_alter_table("sources") as batch:
        batch.drop_index("ix_sources_next_run_at")
        batch.drop_constraint("uq_sources_token_hash", type_="unique")
        for column in (
            "updated_at",
            "failing",
            "consecutive_failures",
            "last_error",
            "last_error_at",
            "last_success_at",
            "last_run_at",
            "next_run_at",
            "token_hash",
            "state",
            "max_items",
            "robots",
            "cron",
            "interval_minutes",
        ):
            batch.drop_column(column)
