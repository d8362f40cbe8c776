"""Where a Redis stream entry's events end up: the event store (idempotently) or, for a poison
entry, the quarantine store.

The event store names its files with a random part, so writing a redelivered entry again would
store its events twice. Here the entry's events are written by an `EventStore` rooted in a
private staging folder, then each file is renamed into the real store under a name made from
the stream entry id: a replay replaces the same file, and once a compaction has merged that
file into its partition (the partition's `.merged` list names it) a replay is not stored again.
A crash leaves files only in staging (cleared later), never half an entry in the store.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from civicshield.core import Settings
from civicshield.detect.eventstore import EventStore
from civicshield.detect.readers.base import Quarantined
from civicshield.telemetry.intake import format_for_dataset
from civicshield.telemetry.paths import quarantine_store
from civicshield.telemetry.redis_streams import decode_entry

__all__ = ["POISON_FORMAT", "clear_staging", "entry_file_name", "quarantine_entry", "store_entry"]

POISON_FORMAT = "redis-stream"  # quarantine format of entries that do not even decode
_STALE_STAGING = 3600.0  # seconds: older staging folders were left by a crash


def entry_file_name(entry_id: str) -> str:
    """`part-<ms as ns>-r<seq>.parquet`: sorts with the store's own `part-<ns>-…` names."""
    millis, _, seq = entry_id.partition("-")
    return f"part-{int(millis) * 1_000_000:020d}-r{int(seq or 0):07d}.parquet"


def store_entry(
    store: EventStore,
    settings: Settings,
    stream: str,
    entry_id: str,
    dataset: str,
    frame: pl.DataFrame,
) -> int:
    """Write one entry's events to `store`; return the rows stored."""
    root = settings.data_dir / "stream-staging"
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="entry-", dir=root))
    try:
        staged = EventStore(staging).write(frame.drop("_entry", strict=False), dataset)
        name = entry_file_name(entry_id)
        with _store_lock(store.root):
            for path in staged.files:
                day = path.parent.name
                target = store.root / dataset / day / name
                if not target.exists() and store.holds(dataset, day, name):
                    continue  # a replay of an entry a compaction has already merged
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)  # same name on a replay: replaced, not added
        return staged.rows
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def clear_staging(settings: Settings) -> None:
    """Remove staging folders a crashed worker left (old ones only: others may be in use)."""
    root = settings.data_dir / "stream-staging"
    if not root.is_dir():
        return
    cutoff = time.time() - _STALE_STAGING
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _store_lock(root: Path) -> Iterator[None]:
    # The event store's own lock file: compaction must not move a day away mid-rename.
    with (root / ".lock").open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def quarantine_entry(
    settings: Settings, stream: str, entry_id: str, fields: dict[bytes, bytes], reason: str
) -> int:
    """Quarantine a poison entry: its events' raw lines under their reader format (so
    `quarantine replay` can read them again), or the whole entry when it does not decode."""
    store = quarantine_store(settings)
    try:
        dataset, frame = decode_entry(fields)
    except Exception as exc:  # undecodable: keep the bytes as they came
        raw = base64.b64encode(fields.get(b"data", b"")).decode()
        record = Quarantined(stream, f"entry {entry_id}", f"{reason} ({exc})", raw)
        return store.add(POISON_FORMAT, [record])
    lines = frame.get_column("_line").to_list() if "_line" in frame.columns else []
    raws = frame.get_column("_raw").to_list() if "_raw" in frame.columns else []
    records = [
        Quarantined(
            stream,
            f"entry {entry_id} line {lines[i] if i < len(lines) else i + 1}",
            reason,
            str(raws[i]) if i < len(raws) and raws[i] is not None else "",
        )
        for i in range(frame.height)
    ]
    return store.add(format_for_dataset(dataset), records)
