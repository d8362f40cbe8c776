"""The intel domain's default plugin: its jobs (indicator ageing, pulling peer collections,
recording sightings) and the demo city's exchange with two peer cities."""

from __future__ import annotations

from typing import Any

from civicshield.core.hookspecs import hookimpl
from civicshield.core.settings import Settings

__all__ = ["civicshield_load_demo", "civicshield_register_jobs"]


@hookimpl
def civicshield_register_jobs() -> list[Any]:
    from civicshield.intel.jobs import JOBS
    from civicshield.intel.peers import JOBS as PEER_JOBS
    from civicshield.intel.sharing import JOBS as SHARING_JOBS

    return [*JOBS, *PEER_JOBS, *SHARING_JOBS]


@hookimpl(tryfirst=True)  # before the telemetry demo: its alerts include indicator hits
def civicshield_load_demo(session: Any, clock: Any, settings: Settings | None) -> list[str]:
    if settings is None or session is None:
        return ["demo intel not loaded: no settings or no database session"]
    from civicshield.intel.demo import load_demo_intel

    return load_demo_intel(session, settings, clock=clock)
