"""taxii entry version_at: each version's time, so SQL chooses versions and pages

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import civicshield.store.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = civicshield.store.types.UTCDateTime(timezone=True)


def _time(version: str, added: datetime) -> datetime:
    """The version's time as the application computes it (`taxii.stix.version_time`),
    spelled out here: a migration must not change when the application does."""
    try:
        main, _, fraction = version[:-1].partition(".")
        value = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        return value.replace(microsecond=int((fraction + "000000")[:6]) if fraction else 0)
    except (ValueError, IndexError):
        return added if added.tzinfo else added.replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("taxii_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_at", _UTC, nullable=True))
    table = sa.table(
        "taxii_entry",
        sa.column("id", sa.Integer()),
        sa.column("version", sa.String()),
        sa.column("date_added", _UTC),
        sa.column("version_at", _UTC),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.version, table.c.date_added)).all()
    for ident, version, added in rows:
        bind.execute(
            table.update().where(table.c.id == ident).values(version_at=_time(version, added))
        )
    with op.batch_alter_table("taxii_entry", schema=None) as batch_op:
        batch_op.alter_column("version_at", existing_type=_UTC, nullable=False)
        batch_op.create_index(
            "ix_taxii_entry_page", ["collection_id", "date_added", "id"], unique=False
        )
        batch_op.create_index(
            "ix_taxii_entry_object",
            ["collection_id", "stix_id", "spec_version", "version_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("taxii_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_entry_object")
        batch_op.drop_index("ix_taxii_entry_page")
        batch_op.drop_column("version_at")
