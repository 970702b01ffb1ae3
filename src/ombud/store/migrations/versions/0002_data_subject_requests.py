"""Data subject requests: requests, identifiers, steps, verifications, suppressions,
restrictions, manual tasks and extracts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("controller_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_due_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("register_version", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verification", sa.String(length=32), nullable=True),
        sa.Column("verification_note", sa.LargeBinary(), nullable=True),
        sa.Column("details", sa.LargeBinary(), nullable=True),
        sa.Column("activities", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("decisions", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index("ix_requests_state_due_on", ["state", "due_on"], unique=False)

    op.create_table(
        "extracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_extracts_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extracts")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_extracts_token_digest")),
    )
    op.create_table(
        "manual_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("system_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_manual_tasks_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_tasks")),
        sa.UniqueConstraint(
            "request_id",
            "system_id",
            "action",
            name=op.f("uq_manual_tasks_request_id_system_id_action"),
        ),
    )
    op.create_table(
        "request_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_identifiers_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_identifiers")),
        sa.UniqueConstraint(
            "request_id",
            "kind",
            "digest",
            name=op.f("uq_request_identifiers_request_id_kind_digest"),
        ),
    )
    with op.batch_alter_table("request_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_identifiers_digest"), ["digest"], unique=False)

    op.create_table(
        "request_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("system_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_steps_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_steps")),
        sa.UniqueConstraint(
            "request_id",
            "system_id",
            "action",
            name=op.f("uq_request_steps_request_id_system_id_action"),
        ),
    )
    op.create_table(
        "request_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_verifications_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_verifications")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_request_verifications_token_digest")),
    )
    op.create_table(
        "restrictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("activity", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_restrictions_request_id_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restrictions")),
    )
    with op.batch_alter_table("restrictions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_restrictions_digest"), ["digest"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("activity", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_suppressions_request_id_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint(
            "digest", "reason", "activity", name=op.f("uq_suppressions_digest_reason_activity")
        ),
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suppressions_digest"), ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppressions_digest"))

    op.drop_table("suppressions")
    with op.batch_alter_table("restrictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_restrictions_digest"))

    op.drop_table("restrictions")
    op.drop_table("request_verifications")
    op.drop_table("request_steps")
    with op.batch_alter_table("request_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_identifiers_digest"))

    op.drop_table("request_identifiers")
    op.drop_table("manual_tasks")
    op.drop_table("extracts")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_state_due_on")

    op.drop_table("requests")
