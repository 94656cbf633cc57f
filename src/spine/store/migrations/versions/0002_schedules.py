"""Schedules: schedule_fires (claims on ticks), schedule_state, and group_runs.schedule / logical_date.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from spine.store.types import JSONText, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("group_runs") as batch:
        batch.add_column(sa.Column("schedule", sa.String(128)))
        batch.add_column(sa.Column("logical_date", UTCDateTime))
    op.create_table(
        "schedule_fires",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("group_name", sa.String(128), nullable=False),
        sa.Column("schedule", sa.String(128), nullable=False),
        sa.Column("logical_time", UTCDateTime, nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("lease_expires_at", UTCDateTime, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("params", JSONText),
        sa.Column("findings", JSONText),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("takeovers", sa.Integer, nullable=False),
        sa.UniqueConstraint("group_name", "schedule", "logical_time", name="uq_schedule_fires_tick"),
    )
    op.create_index("ix_schedule_fires_status", "schedule_fires", ["status", "lease_expires_at"])
    op.create_table(
        "schedule_state",
        sa.Column("group_name", sa.String(128), primary_key=True),
        sa.Column("schedule", sa.String(128), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("last_fire", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("schedule_state")
    op.drop_table("schedule_fires")
    with op.batch_alter_table("group_runs") as batch:
        batch.drop_column("logical_date")
        batch.drop_column("schedule")
