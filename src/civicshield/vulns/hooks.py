"""The vulnerability domain's default plugin: its background jobs and the demo city's
inventory and findings."""

from __future__ import annotations

from typing import Any

from civicshield.core.hookspecs import hookimpl
from civicshield.core.settings import Settings
from civicshield.vulns.jobs import JOBS

__all__ = ["civicshield_load_demo", "civicshield_register_jobs"]


@hookimpl
def civicshield_register_jobs() -> list[Any]:
    return list(JOBS)


@hookimpl
def civicshield_load_demo(session: Any, clock: Any, settings: Settings | None) -> list[str]:
    from civicshield.vulns.demo import load_demo_vulns  # only when the demo loads

    return load_demo_vulns(session, clock=clock, settings=settings).notes
