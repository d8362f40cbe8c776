"""Telemetry as a platform feature: ingesting files into the event store with quarantine,
and saved hunts (the database side of `civicshield.detect.eventstore`, which stays free of the
store)."""

from civicshield.telemetry.schemas import (
    MAX_SQL,
    SavedHuntCreate,
    SavedHuntPage,
    SavedHuntRead,
    SavedHuntUpdate,
)
from civicshield.telemetry.service import (
    HuntRun,
    create_saved_hunt,
    delete_saved_hunt,
    get_saved_hunt,
    list_saved_hunts,
    run_hunt,
    run_saved,
    update_saved_hunt,
)

__all__ = [
    "MAX_SQL",
    "HuntRun",
    "SavedHuntCreate",
    "SavedHuntPage",
    "SavedHuntRead",
    "SavedHuntUpdate",
    "create_saved_hunt",
    "delete_saved_hunt",
    "get_saved_hunt",
    "list_saved_hunts",
    "run_hunt",
    "run_saved",
    "update_saved_hunt",
]
