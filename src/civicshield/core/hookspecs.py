"""Plugin hooks (pluggy). CivicShield registers its own features through these same hooks.

Every hook is documented in `docs/plugins.md` (a test checks it).
"""

from __future__ import annotations

from typing import Any

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "civicshield"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def civicshield_register_jobs() -> list[Any]:  # type: ignore[empty-body]
    """Return job definitions (`civicshield.jobs.JobDefinition`) this plugin provides."""


@hookspec
def civicshield_load_demo(session: Any, clock: Any, settings: Any) -> list[str] | None:
    """Add this plugin's part of the demo city; must be idempotent.

    `settings` (`civicshield.core.Settings`) says where local data lives; an implementation may
    leave it (or any argument) out of its signature. It may return notes for the person running
    the demo (what is missing, what was loaded)."""


@hookspec
def civicshield_navigation() -> list[Any]:  # type: ignore[empty-body]
    """Return navigation entries (`civicshield.web.NavItem`) for the dashboard menu."""
