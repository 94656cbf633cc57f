"""The first schema: pipeline_groups, group_runs, group_run_executions, dead_letters, pool_slots.

Revision ID: 0001
Revises:
Create Date: 2024-01-05

Frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from spine.store.types import JSONText, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pipeline_groups",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("definition", JSONText, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", "version", "hash", name="uq_pipeline_groups_name_version_hash"),
    )
    op.create_table(
        "group_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("group_name", sa.String(128), nullable=False),
        sa.Column("group_version", sa.Integer, nullable=False),
        sa.Column("definition_id", _BigId, sa.ForeignKey("pipeline_groups.id"), nullable=False),
        sa.Column("batch_id", sa.String(255), nullable=False),
        sa.Column("params", JSONText, nullable=False),
        sa.Column("options", JSONText, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("executor", sa.String(32), nullable=False),
        sa.Column("step_count", sa.Integer, nullable=False),
        sa.Column("plan_steps", JSONText, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.Column("lease_expires_at", UTCDateTime, nullable=False),
        sa.Column("cancel_requested_at", UTCDateTime),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("resumes", sa.Integer, nullable=False),
        sa.Column("parent_run_id", sa.String(64), sa.ForeignKey("group_runs.run_id")),
    )
    op.create_index("ix_group_runs_started", "group_runs", ["started_at", "run_id"])
    op.create_index("ix_group_runs_group_started", "group_runs", ["group_name", "started_at"])
    op.create_index("ix_group_runs_status_started", "group_runs", ["status", "started_at"])
    op.create_table(
        "group_run_executions",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("group_runs.run_id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("pipeline", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("execution", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("error", JSONText),
        sa.Column("result", JSONText),
        sa.Column("output", JSONText),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_group_run_executions_run_step", "group_run_executions", ["run_id", "step", "attempt"])
    op.create_table(
        "dead_letters",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("group_runs.run_id", ondelete="CASCADE"), nullable=False),
        sa.Column("group_name", sa.String(128), nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("pipeline", sa.Text, nullable=False),
        sa.Column("params", JSONText, nullable=False),
        sa.Column("error", JSONText),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("resolved_by", sa.String(64)),
    )
    op.create_index("ix_dead_letters_status_id", "dead_letters", ["status", "id"])
    op.create_index("ix_dead_letters_run_step", "dead_letters", ["run_id", "step"])
    op.create_table(
        "pool_slots",
        sa.Column("pool", sa.String(128), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("step", sa.Text),
        sa.Column("owner", sa.String(64)),
        sa.Column("claimed_at", UTCDateTime),
    )
    op.create_index("ix_pool_slots_owner", "pool_slots", ["owner"])


def downgrade() -> None:
    for table in ("pool_slots", "dead_letters", "group_run_executions", "group_runs", "pipeline_groups"):
        op.drop_table(table)
