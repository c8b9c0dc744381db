"""analysis, grading, grade history, human review, events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yuqing.store.types import JSONType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("key_terms", JSONType, nullable=False),
        sa.Column("origin_item_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("site_count", sa.Integer(), nullable=False),
        sa.Column("platform_count", sa.Integer(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("reposts", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_subject_id", "events", ["subject_id"])
    op.create_index("ix_events_unit_id", "events", ["unit_id"])
    op.create_index("ix_events_last_seen_at", "events", ["last_seen_at"])
    op.create_table(
        "grade_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("previous", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_grade_history_item_id", "grade_history", ["item_id"])
    op.create_index("ix_grade_history_escalated", "grade_history", ["escalated"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("similar_to_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sentiment", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("sentiment_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rumor_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rumor", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("offensive_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("offensive", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("harms", JSONType, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("signals", JSONType, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("grade", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("grade_reasons", JSONType, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("graded_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("human_grade", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("human_category", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key("fk_items_similar_to", "items", ["similar_to_id"], ["id"])
        batch.create_foreign_key("fk_items_event_id", "events", ["event_id"], ["id"])
        batch.create_index("ix_items_event_id", ["event_id"])
        batch.create_index("ix_items_grade", ["grade"])
    with op.batch_alter_table("events") as batch:
        batch.create_foreign_key("fk_events_origin_item", "items", ["origin_item_id"], ["id"])
    if op.get_bind().dialect.name == "sqlite":
        # 0001 could not add this cycle-closing key on SQLite without a table rebuild.
        with op.batch_alter_table("stories") as batch:
            batch.create_foreign_key("fk_stories_origin_item", "items", ["origin_item_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("stories") as batch:
            batch.drop_constraint("fk_stories_origin_item", type_="foreignkey")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("fk_events_origin_item", type_="foreignkey")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_grade")
        batch.drop_index("ix_items_event_id")
        batch.drop_constraint("fk_items_event_id", type_="foreignkey")
        batch.drop_constraint("fk_items_similar_to", type_="foreignkey")
        for column in (
            "reviewed_at",
            "reviewed_by",
            "review_note",
            "human_category",
            "human_grade",
            "graded_at",
            "grade_reasons",
            "grade",
            "category",
            "signals",
            "harms",
            "offensive",
            "offensive_score",
            "rumor",
            "rumor_score",
            "sentiment_score",
            "sentiment",
            "event_id",
            "similar_to_id",
        ):
            batch.drop_column(column)
    op.drop_table("grade_history")
    op.drop_table("events")
