"""`civicshield ingest FILE…` and `civicshield quarantine list|replay`: telemetry into the event
store (`<data_dir>/events`), unreadable records into the quarantine (`<data_dir>/quarantine`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    console,
    emit_json,
    fail,
    print_table,
    state,
    success,
)

__all__ = ["events_app", "ingest", "quarantine_app"]

quarantine_app = typer.Typer(
    help="Records no reader could read: list them, read them again after a fix.",
    no_args_is_help=True,
)


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, readable=True, help="Files.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="zeek, eve, syslog, cef, nfdump, json or mapped (default: sniffed)."
        ),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--mapping",
            help="A TOML field mapping file, or a built-in one: nsl_kdd, unsw_nb15, ton_iot.",
        ),
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Store under this dataset name.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Read telemetry files (plain, gzip or zstd) with the right reader, store the events by
    dataset and day, and quarantine records that cannot be read (with file, line and reason).
    Reports read / stored / quarantined per file."""
    from civicshield.detect.eventstore import EventStore
    from civicshield.detect.ingest import ingest_file
    from civicshield.detect.quarantine import QuarantineStore
    from civicshield.detect.readers.mapped import load_mapping

    settings = state(ctx).settings()
    store = EventStore(settings.data_dir / "events")
    quarantine = QuarantineStore(settings.data_dir / "quarantine")
    field_mapping = load_mapping(_mapping_path(mapping)) if mapping else None
    if field_mapping is not None and fmt is None:
        fmt = "mapped"
    reports = [
        ingest_file(p, store, quarantine, fmt=fmt, mapping=field_mapping, dataset=dataset)
        for p in paths
    ]
    if json_output:
        emit_json([r.to_dict() for r in reports])
        return
    print_table(
        ["file", "format", "read", "stored", "quarantined", "datasets"],
        [
            (r.source, r.format, r.read, r.stored, r.quarantined, ", ".join(sorted(r.datasets)))
            for r in reports
        ],
    )
    quarantined = sum(r.quarantined for r in reports)
    success(
        f"{sum(r.stored for r in reports)} events stored, {quarantined} quarantined"
        + (" (civicshield quarantine list)" if quarantined else "")
    )


def _mapping_path(name: str) -> Path:
    """A mapping file, or the name of one shipped in `detect/readers/mappings/`."""
    path = Path(name)
    if path.is_file():
        return path
    from civicshield.detect.readers import mapped

    builtin = Path(mapped.__file__).parent / "mappings" / f"{name}.toml"
    if name.isidentifier() and builtin.is_file():
        return builtin
    fail(
        f"--mapping {name!r}: no such file, and not a built-in mapping"
        " (nsl_kdd, unsw_nb15, ton_iot)"
    )


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    fmt: Annotated[str | None, typer.Option("--format", help="Only this reader.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    json_output: JsonOption = False,
) -> None:
    """Quarantined records, oldest first: reader, input, position, reason, text."""
    from civicshield.detect.quarantine import QuarantineStore

    store = QuarantineStore(state(ctx).settings().data_dir / "quarantine")
    entries = []
    for entry in store.entries(fmt=fmt):
        entries.append(entry)
        if len(entries) >= limit:
            break
    if json_output:
        emit_json({"counts": store.counts(), "items": [e.to_dict() for e in entries]})
        return
    print_table(
        ["format", "source", "position", "reason", "text"],
        [(e.format, e.source, e.position, e.reason, e.raw[:80]) for e in entries],
    )
    console().print(", ".join(f"{k}: {v}" for k, v in store.counts().items()) or "empty")


@quarantine_app.command("replay")
def quarantine_replay(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Argument(help="The reader: eve, syslog, cef, json or zeek.")],
    json_output: JsonOption = False,
) -> None:
    """Read the reader's quarantined records again (after a fix); what now reads is stored,
    what still fails stays with its new reason."""
    from civicshield.detect.eventstore import EventStore
    from civicshield.detect.ingest import REPLAYABLE, replay
    from civicshield.detect.quarantine import QuarantineStore

    if fmt not in REPLAYABLE:
        fail(f"{fmt!r} cannot be replayed record by record; use one of {', '.join(REPLAYABLE)}")
    settings = state(ctx).settings()
    report = replay(
        fmt,
        EventStore(settings.data_dir / "events"),
        QuarantineStore(settings.data_dir / "quarantine"),
    )
    if json_output:
        emit_json(vars(report))
        return
    success(
        f"{report.replayed} records read again: {report.recovered} stored, "
        f"{report.still_bad} still quarantined"
    )


events_app = typer.Typer(
    help="The event store: what it holds, and its upkeep (compaction, retention).",
    no_args_is_help=True,
)


@events_app.command("status")
def events_status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Per dataset: days stored (first and last), files and size on disk."""
    from civicshield.detect.eventstore import EventStore

    store = EventStore(state(ctx).settings().data_dir / "events")
    summary: dict[str, dict[str, object]] = {}
    for part in store.partitions():
        row = summary.setdefault(
            part.dataset, {"first": part.day, "last": part.day, "days": 0, "files": 0, "bytes": 0}
        )
        row["last"] = part.day
        row["days"] = int(str(row["days"])) + 1
        row["files"] = int(str(row["files"])) + part.files
        row["bytes"] = int(str(row["bytes"])) + part.bytes
    if json_output:
        emit_json({ds: {k: str(v) if k in ("first", "last") else v for k, v in row.items()}
                   for ds, row in summary.items()})  # fmt: skip
        return
    print_table(
        ["dataset", "first day", "last day", "days", "files", "bytes"],
        [
            (ds, r["first"], r["last"], r["days"], r["files"], r["bytes"])
            for ds, r in summary.items()
        ],
    )


@events_app.command("maintain")
def events_maintain(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Compact day partitions of several files into one, then remove what the retention
    settings (`CIVICSHIELD_EVENTS_RETENTION_DAYS`, `…_RETENTION`, `…_MAX_BYTES`) say. The daily
    `events.maintenance` job does the same."""
    from civicshield.telemetry.maintenance import maintain_event_store

    report = maintain_event_store(state(ctx).settings())
    if json_output:
        emit_json(report.to_dict())
        return
    success(
        f"compacted {len(report.compacted)} partition(s); removed {len(report.removed)} "
        f"({report.removed_bytes:,} bytes)"
    )
