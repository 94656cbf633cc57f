"""Runs of compositions: group_run_nested_groups (the definitions of the nested groups a
run's plan expanded, so a resume plans the same steps).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Runs recorded before this revision get no rows (their nested groups were never stored);
a resume of one looks its nested groups up as they are now, as before.

Frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "group_run_nested_groups",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("group_runs.run_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("definition_id", _BigId, sa.ForeignKey("pipeline_groups.id"), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("group_run_nested_groups")
