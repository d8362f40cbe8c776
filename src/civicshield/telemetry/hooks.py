"""The telemetry domain's default plugin: its jobs, and the demo city's synthetic telemetry in
the event store (`<data_dir>/events`) with the alerts it raises."""

from __future__ import annotations

from typing import Any

from civicshield.core.hookspecs import hookimpl
from civicshield.core.settings import Settings

__all__ = ["civicshield_load_demo", "civicshield_register_jobs"]


@hookimpl
def civicshield_register_jobs() -> list[Any]:
    from civicshield.telemetry.jobs import JOBS

    return list(JOBS)


@hookimpl
def civicshield_load_demo(session: Any, clock: Any, settings: Settings | None) -> list[str]:
    if settings is None:
        return ["demo telemetry not loaded: no settings, so no data directory"]
    from civicshield.telemetry.demo import load_demo_telemetry  # Polars and the readers
    from civicshield.telemetry.demo_stream import demo_alerts

    loaded = load_demo_telemetry(settings.data_dir / "events", now=clock.now())
    notes = list(loaded.notes)
    if loaded.loaded and session is not None:  # the alerts detection would have raised
        notes += demo_alerts(session, settings, loaded.results, clock=clock)
    return notes
