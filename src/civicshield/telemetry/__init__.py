"""Telemetry as a platform feature: files and streams into the event store with quarantine,
continuous detection over the spool, ingest health, and saved hunts (the database side of
`civicshield.detect`, which stays free of the store)."""

from civicshield.telemetry.collector import Collector, TailSpec, parse_tail_specs
from civicshield.telemetry.intake import (
    IntakeReport,
    format_for_dataset,
    intake,
    schedule_detection,
)
from civicshield.telemetry.jobs import DETECT_JOB, HEALTH_JOB
from civicshield.telemetry.paths import event_store, quarantine_store, spool
from civicshield.telemetry.redis_worker import StreamWorker, WorkerReport
from civicshield.telemetry.schemas import (
    MAX_SQL,
    SavedHuntCreate,
    SavedHuntPage,
    SavedHuntRead,
    SavedHuntUpdate,
)
from civicshield.telemetry.segmentation import (
    PolicyCheck,
    PolicyState,
    Preview,
    check_policy_text,
    current_policy,
    preview_policy,
    reset_policy,
    save_policy,
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
from civicshield.telemetry.sources import (
    SILENT_RULE_ID,
    DatasetHealth,
    SourceHealth,
    check_silence,
    list_datasets,
    list_sources,
    set_expected_interval,
)
from civicshield.telemetry.stream import StreamReport, detect_spooled
from civicshield.telemetry.syslog_server import SyslogMessage, SyslogServer
from civicshield.telemetry.tail import TailChunk, Tailer

__all__ = [
    "DETECT_JOB",
    "HEALTH_JOB",
    "MAX_SQL",
    "SILENT_RULE_ID",
    "Collector",
    "DatasetHealth",
    "HuntRun",
    "IntakeReport",
    "PolicyCheck",
    "PolicyState",
    "Preview",
    "SavedHuntCreate",
    "SavedHuntPage",
    "SavedHuntRead",
    "SavedHuntUpdate",
    "SourceHealth",
    "StreamReport",
    "StreamWorker",
    "SyslogMessage",
    "SyslogServer",
    "TailChunk",
    "TailSpec",
    "Tailer",
    "WorkerReport",
    "check_policy_text",
    "check_silence",
    "create_saved_hunt",
    "current_policy",
    "delete_saved_hunt",
    "detect_spooled",
    "event_store",
    "format_for_dataset",
    "get_saved_hunt",
    "intake",
    "list_datasets",
    "list_saved_hunts",
    "list_sources",
    "parse_tail_specs",
    "preview_policy",
    "quarantine_store",
    "reset_policy",
    "run_hunt",
    "run_saved",
    "save_policy",
    "schedule_detection",
    "set_expected_interval",
    "spool",
    "update_saved_hunt",
]
