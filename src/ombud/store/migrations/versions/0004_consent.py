"""Consent: texts shown, the append-only event ledger, derived state, sign-ups and webhooks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_texts",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("register_version", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_consent_texts")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("choice_id", sa.String(length=36), nullable=False),
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("text_digest", sa.String(length=64), nullable=False),
        sa.Column("register_version", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("gpc", sa.Boolean(), nullable=False),
        sa.Column("ip_truncated", sa.String(length=45), nullable=True),
        sa.Column("user_agent_family", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_digest"],
            ["consent_texts.digest"],
            name=op.f("fk_consent_events_text_digest_consent_texts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index("ix_consent_events_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_consent_events_subject_digest_purpose",
            ["subject_digest", "purpose"],
            unique=False,
        )

    op.create_table(
        "consent_signups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("form", sa.String(length=100), nullable=False),
        sa.Column("email_digest", sa.String(length=64), nullable=False),
        sa.Column("email_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_digest"],
            ["consent_texts.digest"],
            name=op.f("fk_consent_signups_text_digest_consent_texts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_signups")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_consent_signups_token_digest")),
    )
    with op.batch_alter_table("consent_signups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_signups_email_digest"), ["email_digest"], unique=False
        )

    op.create_table(
        "consent_state",
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_state_event_id_consent_events"),
        ),
        sa.PrimaryKeyConstraint("subject_digest", "purpose", name=op.f("pk_consent_state")),
    )
    op.create_table(
        "consent_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("email_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["consent_events.id"],
            name=op.f("fk_consent_webhooks_event_id_consent_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_webhooks")),
    )
    with op.batch_alter_table("consent_webhooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_webhooks_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_webhooks_subject_digest"), ["subject_digest"], unique=False
        )


def downgrade() -> None:
    op.drop_table("consent_webhooks")
    op.drop_table("consent_state")
    op.drop_table("consent_signups")
    op.drop_table("consent_events")
    op.drop_table("consent_texts")
