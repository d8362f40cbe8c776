"""Import use cases: a STIX bundle, a MISP event, a MISP feed (incremental by manifest), a CSV
file or plain list. Each returns an `ImportReport`, records the source and writes one audit
entry. They flush; the caller commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Tlp
from civicshield.core.errors import Invalid
from civicshield.intel.csv_list import parse_mapping, rows_to_stix
from civicshield.intel.feeds import FeedReader
from civicshield.intel.misp import event_to_stix
from civicshield.intel.models import IntelObject, IntelSource
from civicshield.intel.report import ImportReport
from civicshield.intel.stix_objects import StixRecord, read_bundle, read_object
from civicshield.intel.store import StoreContext, record_provenance, source_for, store_records
from civicshield.intel.warninglists_store import current_matcher

__all__ = ["import_csv", "import_misp_event", "import_misp_feed", "import_stix"]

Decay = Mapping[str, int] | None


def _context(session: Session, clock: Clock, decay_days: Decay) -> StoreContext:
    return StoreContext(now=clock.now(), matcher=current_matcher(session), decay_days=decay_days)


def _finish(
    session: Session,
    source: IntelSource,
    report: ImportReport,
    *,
    actor: Actor,
    clock: Clock,
    kind: str,
) -> ImportReport:
    source.last_import_at = clock.now()
    source.counts = {
        key: int(value) for key, value in report.as_dict().items() if isinstance(value, int)
    } | {"refused": len(report.refused)}
    source.last_error = "; ".join(f"{r.path}: {r.reason}" for r in report.refused[:5])[:2000]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"intel.import.{kind}",
        entity_type="intel_source",
        entity_id=source.id,
        clock=clock,
        summary=(
            f"imported {report.source}: {report.read} read, {report.stored} stored "
            f"({report.new} new, {report.new_versions} new versions), {report.unchanged} "
            f"unchanged, {len(report.refused)} refused"
        ),
        changes={"counts": source.counts},
    )
    return report


def _validated(items: list[tuple[str, dict[str, Any]]], report: ImportReport) -> list[StixRecord]:
    records = []
    for path, obj in items:
        report.read += 1
        try:
            records.append(read_object(obj))
        except ValueError as exc:
            report.refuse(path, str(exc), str(obj.get("id", "")))
    return records


def import_stix(
    session: Session,
    data: Any,
    *,
    location: str,
    actor: Actor,
    clock: Clock,
    name: str = "",
    decay_days: Decay = None,
    kind: str = "stix",
    provenance: Mapping[str, Any] | None = None,
) -> ImportReport:
    """A STIX 2.1 bundle (parsed JSON). Bad objects are refused, the rest stored. `kind`
    names the source kind ("taxii" for objects added to or pulled from a collection);
    `provenance` is kept on the provenance row of every version received."""
    report = ImportReport(source=location)
    try:
        records = read_bundle(data, report)
    except ValueError as exc:
        raise Invalid(f"{location}: {exc}") from None
    source = source_for(
        session, kind=kind, name=name or location, location=location, now=clock.now()
    )
    store_records(
        session,
        records,
        source=source,
        report=report,
        ctx=_context(session, clock, decay_days),
        provenance=provenance,
    )
    return _finish(session, source, report, actor=actor, clock=clock, kind=kind)


def _event_uuid(data: Any) -> str:
    event = data.get("Event") if isinstance(data, dict) else None
    return str(event.get("uuid", "")) if isinstance(event, dict) else ""


def _store_event(
    session: Session,
    data: Any,
    source: IntelSource,
    ctx: StoreContext,
    label: str,
    provenance: Mapping[str, Any] | None = None,
) -> ImportReport:
    report = ImportReport(source=label)
    try:
        items = event_to_stix(data, report)
    except ValueError as exc:
        report.refuse("$", str(exc))
        return report
    records = _validated(items, report)
    detail = dict(provenance or {})
    if uuid := _event_uuid(data):
        detail["misp_event_uuid"] = uuid
    store_records(session, records, source=source, report=report, ctx=ctx, provenance=detail)
    return report


def import_misp_event(
    session: Session,
    data: Any,
    *,
    location: str,
    actor: Actor,
    clock: Clock,
    decay_days: Decay = None,
    provenance: Mapping[str, Any] | None = None,
) -> ImportReport:
    """One MISP event (`{"Event": {...}}`, as MISP's API and feeds write it)."""
    source = source_for(
        session, kind="misp-event", name=location, location=location, now=clock.now()
    )
    ctx = _context(session, clock, decay_days)
    report = _store_event(session, data, source, ctx, location, provenance)
    if report.refused and report.refused[0].path == "$" and report.read == 0:
        raise Invalid(f"{location}: {report.refused[0].reason}")
    return _finish(session, source, report, actor=actor, clock=clock, kind="misp-event")


def import_misp_feed(
    session: Session,
    location: str,
    *,
    actor: Actor,
    clock: Clock,
    decay_days: Decay = None,
    transport: httpx.BaseTransport | None = None,
) -> ImportReport:
    """A MISP feed: `manifest.json` -> the events whose `timestamp` changed since the last
    pull (the state is kept on the source); a directory without a manifest reads every
    `*.json` event file each time (versions keep that idempotent)."""
    reader = FeedReader(location, transport=transport)
    source = source_for(
        session, kind="misp-feed", name=location, location=location, now=clock.now()
    )
    ctx = _context(session, clock, decay_days)
    report = ImportReport(source=location)
    seen: dict[str, Any] = dict(source.state.get("events", {}))
    if reader.exists("manifest.json"):
        manifest = reader.read("manifest.json")
        if not isinstance(manifest, dict):
            raise Invalid(f"{location}/manifest.json: expected an object of event uuid -> entry")
        wanted = []
        for event_uuid, entry in sorted(manifest.items()):
            stamp = str(entry.get("timestamp", "")) if isinstance(entry, dict) else ""
            if stamp and seen.get(event_uuid) == stamp:
                report.skipped += 1
                continue
            wanted.append((f"{event_uuid}.json", event_uuid, stamp))
    else:
        wanted = [(name, name.removesuffix(".json"), "") for name in reader.names()]
        report.notes.append("no manifest.json: every event file was read")
    for file_name, event_uuid, stamp in wanted:
        try:
            data = reader.read(file_name)
        except Invalid as exc:
            report.refuse(file_name, exc.detail)
            continue
        part = _store_event(session, data, source, ctx, file_name, {"file": file_name})
        part.refused = [type(r)(f"{file_name}:{r.path}", r.reason, r.stix_id) for r in part.refused]
        report.merge(part)
        if stamp:
            seen[event_uuid] = stamp
    source.state = {"events": seen}
    return _finish(session, source, report, actor=actor, clock=clock, kind="misp-feed")


def import_csv(
    session: Session,
    text: str,
    *,
    mapping: str,
    location: str,
    actor: Actor,
    clock: Clock,
    decay_days: Decay = None,
    provenance: Mapping[str, Any] | None = None,
    tlp: Tlp | None = None,
) -> ImportReport:
    """A CSV file (`column=type,…`) or a plain list (one type). Values already held are
    unchanged (their ids are derived from type and value). `tlp` marks the values whose row
    names none (callers pass the city's default, `intel_default_tlp`)."""
    try:
        columns = parse_mapping(mapping)
        items, refused = rows_to_stix(
            text, columns, clock.now().astimezone(UTC), name=location, tlp=tlp
        )
    except ValueError as exc:
        raise Invalid(f"{location}: {exc}") from None
    source = source_for(session, kind="csv", name=location, location=location, now=clock.now())
    report = ImportReport(source=location)
    for place, reason in refused:
        report.read += 1
        report.refuse(place, reason)
    # stix id -> its latest stored version (rows come oldest first, the last one wins)
    held: dict[str, int | None] = dict(
        session.execute(
            select(IntelObject.stix_id, IntelObject.id)
            .where(IntelObject.stix_id.in_([o["id"] for _, o in items]))
            .order_by(IntelObject.modified_key)
        ).all()
    ) if items else {}  # fmt: skip
    fresh = []
    again: list[int] = []
    for place, obj in items:
        if obj["id"] in held:
            report.read += 1
            report.unchanged += 1
            if (object_id := held[obj["id"]]) is not None:
                again.append(object_id)
        else:
            held[obj["id"]] = None  # a repeat later in this file is unchanged
            fresh.append((place, obj))
    record_provenance(session, again, source=source, now=clock.now(), detail=provenance)
    records = _validated(fresh, report)
    store_records(
        session,
        records,
        source=source,
        report=report,
        ctx=_context(session, clock, decay_days),
        provenance=provenance,
    )
    return _finish(session, source, report, actor=actor, clock=clock, kind="csv")
