"""Telemetry as a platform feature: ingesting files into the event store with quarantine,
and saved hunts (the database side of `civicshield.detect.eventstore`, which stays free of the
store)."""

__all__: list[str] = []
