"""Submissions admitted per client address (HMAC), shared by every server process.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_hits")),
    )
    with op.batch_alter_table("submission_hits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submission_hits_key_submitted_at", ["key", "submitted_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("submission_hits")
