"""Alembic migrations (one linear history; batch mode so SQLite can alter tables)."""

from civicshield.migrations.runner import (
    alembic_config,
    check_models_match,
    current_revision,
    head_revision,
    make_revision,
    next_revision_id,
    upgrade,
)

__all__ = [
    "alembic_config",
    "check_models_match",
    "current_revision",
    "head_revision",
    "make_revision",
    "next_revision_id",
    "upgrade",
]
