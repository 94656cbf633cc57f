"""The HTTP API: api_tokens (hashed bearer tokens), and groups stored through it
(pipeline_groups.published_at, deleted_at).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-30

Frozen: later changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from spine.store.types import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_groups") as batch:
        batch.add_column(sa.Column("published_at", UTCDateTime))
        batch.add_column(sa.Column("deleted_at", UTCDateTime))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.UniqueConstraint("hash", name="uq_api_tokens_hash"),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    with op.batch_alter_table("pipeline_groups") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("published_at")
