"""ingest receipts: Idempotency-Key answers of POST /ingest

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicshield.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=150), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", civicshield.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_receipt")),
        sa.UniqueConstraint("sender", "key", name=op.f("uq_ingest_receipt_sender")),
    )
    with op.batch_alter_table("ingest_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_receipt_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_receipt_created_at"))
    op.drop_table("ingest_receipt")
