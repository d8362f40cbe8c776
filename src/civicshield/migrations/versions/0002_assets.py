"""assets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 17:42:35.761930
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import civicshield.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("zone", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=200), nullable=True),
        sa.Column("cpe", sa.String(length=500), nullable=True),
        sa.Column("purl", sa.String(length=500), nullable=True),
        sa.Column("ips", sa.JSON(), nullable=False),
        sa.Column("macs", sa.JSON(), nullable=False),
        sa.Column("hostnames", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("criticality", sa.Integer(), nullable=False),
        sa.Column("internet_exposed", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.Column("created_at", civicshield.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", civicshield.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
    )
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_criticality"), ["criticality"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_lifecycle"), ["lifecycle"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_sector"), ["sector"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_serial"), ["serial"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_zone"), ["zone"], unique=False)

    op.create_table(
        "asset_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("at", civicshield.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.id"],
            name=op.f("fk_asset_change_asset_id_asset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_change")),
    )
    with op.batch_alter_table("asset_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_change_asset_id"), ["asset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("asset_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_change_asset_id"))

    op.drop_table("asset_change")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_zone"))
        batch_op.drop_index(batch_op.f("ix_asset_serial"))
        batch_op.drop_index(batch_op.f("ix_asset_sector"))
        batch_op.drop_index(batch_op.f("ix_asset_lifecycle"))
        batch_op.drop_index(batch_op.f("ix_asset_kind"))
        batch_op.drop_index(batch_op.f("ix_asset_criticality"))

    op.drop_table("asset")
