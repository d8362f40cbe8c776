"""The incidents domain's default plugin: its jobs (legal-clock reminders, the daily evidence
check) and the demo city's ransomware case."""

from __future__ import annotations

from typing import Any

from civicshield.core.hookspecs import hookimpl
from civicshield.core.settings import Settings

__all__ = ["civicshield_load_demo", "civicshield_register_jobs"]


@hookimpl
def civicshield_register_jobs() -> list[Any]:
    from civicshield.incidents.evidence import JOBS as EVIDENCE_JOBS
    from civicshield.incidents.legal import JOBS as LEGAL_JOBS

    return [*LEGAL_JOBS, *EVIDENCE_JOBS]


@hookimpl(trylast=True)  # after the telemetry demo: the case is opened from its alerts
def civicshield_load_demo(session: Any, clock: Any, settings: Settings | None) -> list[str]:
    if settings is None or session is None:
        return ["demo incident not loaded: no settings or no database session"]
    from civicshield.incidents.demo import load_demo_case

    return load_demo_case(session, settings, clock=clock)
