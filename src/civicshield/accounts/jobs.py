"""Accounts background jobs."""

from __future__ import annotations

from typing import Any

from civicshield.accounts.config import AccountsConfig
from civicshield.accounts.service.auth import prune_sessions
from civicshield.jobs import JobContext, JobDefinition

__all__ = ["JOBS"]


def _prune_sessions(ctx: JobContext) -> dict[str, Any]:
    config: AccountsConfig = ctx.services["accounts"]
    removed = prune_sessions(ctx.session, clock=ctx.clock, config=config)
    ctx.log.info(f"removed {removed} expired or idle session(s)")
    return {"removed": removed}


JOBS = [
    JobDefinition(
        name="accounts.prune_sessions",
        run=_prune_sessions,
        description="Delete expired and idle browser sessions.",
        every_seconds=3600,
    ),
]
