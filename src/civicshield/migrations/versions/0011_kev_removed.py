"""kev removed: the day a complete KEV catalogue first lacked a CVE

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vuln_cve", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kev_removed", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vuln_cve", schema=None) as batch_op:
        batch_op.drop_column("kev_removed")
