"""STIX 2.1 `sighting` objects for the indicators continuous detection matched.

One sighting per indicator per day (of the events' `@timestamp`), with a deterministic id, so
later hits the same day make a new version of the same sighting (a later `modified`, a higher
`count`, a later `last_seen`). Each version is stored through the store's normal path
(`store_records`), so the versions are kept like those of any imported object.

Replays: continuous detection may run a spool entry twice (a crash before its commit, or a
Redis entry reclaimed from a worker that died). Each sighting remembers the entries it counted,
with when, in the custom property `x_civicshield_entries` (`{entry: counted at}`); an entry
already counted adds nothing. Only entries counted within `replay_horizon` of the newest one
are kept, so a sighting hit every micro-batch all day stays small: a replay comes right after
a restart (the entry counted last) or after `stream_claim_idle_seconds`. The sharing policy
strips every `x_civicshield_*` property, so this bookkeeping never leaves the city.

Versions: an indicator hit in every micro-batch would write a version every few seconds. A
new version replaces the previous one when both fall in the same `intel_sighting_version_
minutes` slot of the clock (the previous one is deleted), so a sighting keeps at most one
version per slot: the last one, which carries every count before it. No two versions ever
share an id and `modified`, so what was already shared stays consistent.

Our sightings are created by, and sighted at, the city's own `identity` (an organization named
`settings.city_name`, with a deterministic id, stored once) and carry the TLP of
`settings.intel_default_tlp`."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civicshield.core.clock import as_utc
from civicshield.core.enums import Tlp
from civicshield.core.settings import Settings
from civicshield.intel.models import IntelObject, IntelProvenance, IntelSource
from civicshield.intel.report import ImportReport
from civicshield.intel.schemas import IndicatorSighting
from civicshield.intel.stix_objects import StixRecord
from civicshield.intel.store import StoreContext, source_for, store_records
from civicshield.intel.tlp import marking_id, tlp_of_refs

__all__ = [
    "ENTRIES_PROPERTY",
    "city_identity_id",
    "indicator_sightings",
    "names_of",
    "our_sightings_since",
    "record_sightings",
    "replay_horizon",
    "sighted_since",
    "sighting_id",
]

ENTRIES_PROPERTY = "x_civicshield_entries"
_NAMESPACE = uuid.UUID("34f150f5-f9a9-4745-b6db-ab3885e05804")
_RULE_PREFIX = "intel/"
_STEP = timedelta(milliseconds=1)  # STIX timestamps we write carry milliseconds


@dataclass
class _Day:
    counted: set[str] = field(default_factory=set)  # entries seen in this batch
    hits: int = 0
    first: datetime | None = None
    last: datetime | None = None
    per_entry: dict[str, int] = field(default_factory=dict)

    def add(self, entry: str | None, when: datetime) -> None:
        key = entry or ""
        self.per_entry[key] = self.per_entry.get(key, 0) + 1
        self.first = when if self.first is None or when < self.first else self.first
        self.last = when if self.last is None or when > self.last else self.last


def city_identity_id(city_name: str) -> str:
    return f"identity--{uuid.uuid5(_NAMESPACE, 'city:' + city_name)}"


def sighting_id(indicator_id: str, day: str) -> str:
    return f"sighting--{uuid.uuid5(_NAMESPACE, f'{indicator_id}|{day}')}"


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _ms(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def _parse(value: Any) -> datetime:
    return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def _when(value: Any, now: datetime) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and value:
        try:
            return _parse(value)
        except ValueError:
            return now
    return now


def _record(body: dict[str, Any]) -> StixRecord:
    """Our own objects are built valid; skip re-validating (the custom property is ours)."""
    refs = [str(x) for x in body.get("object_marking_refs", [])]
    return StixRecord(
        body=body, stix_id=body["id"], type=body["type"], spec_version="2.1",
        created=_parse(body["created"]), modified=_parse(body["modified"]), revoked=False,
        valid_from=None, valid_until=None, confidence=None, labels=[],
        created_by_ref=body.get("created_by_ref"), object_marking_refs=refs,
    )  # fmt: skip


def _current(session: Session, stix_id: str) -> IntelObject | None:
    return session.scalars(
        select(IntelObject)
        .where(IntelObject.stix_id == stix_id)
        .order_by(IntelObject.modified_key.desc())
        .limit(1)
    ).first()


def _identity(session: Session, settings: Settings, now: datetime) -> dict[str, Any] | None:
    """Our city's identity, or None when it is already stored (stored once)."""
    ident = city_identity_id(settings.city_name)
    if _current(session, ident) is not None:
        return None
    at = _stamp(now)
    return {
        "type": "identity", "spec_version": "2.1", "id": ident, "created": at, "modified": at,
        "name": settings.city_name, "identity_class": "organization", "sectors": ["government"],
        "object_marking_refs": [marking_id(Tlp.CLEAR)],  # the city's name is public
    }  # fmt: skip


def replay_horizon(settings: Settings) -> timedelta:
    """How long a counted entry is remembered after the newest one: well past the time a
    reclaimed Redis entry can wait (ten claim intervals), and at least an hour."""
    return max(timedelta(hours=1), timedelta(seconds=10 * settings.stream_claim_idle_seconds))


def _counted(body: dict[str, Any]) -> dict[str, datetime]:
    """The entries a stored version counted, with when (a list, as earlier versions wrote
    it: all counted when that version was made)."""
    value = body.get(ENTRIES_PROPERTY) or {}
    if isinstance(value, list):
        at = _parse(body["modified"])
        return {str(e): at for e in value}
    return {str(e): _parse(t) for e, t in value.items()}


def _next_version(
    session: Session, key: tuple[str, str], day: _Day, settings: Settings, now: datetime
) -> tuple[dict[str, Any], IntelObject | None] | None:
    """The sighting's next version and the version it supersedes (None: the first)."""
    indicator, date = key
    ident = sighting_id(indicator, date)
    held = _current(session, ident)
    body: dict[str, Any] = dict(held.body) if held is not None else {}
    counted = _counted(body) if body else {}
    fresh = {e: n for e, n in day.per_entry.items() if e == "" or e not in counted}
    if not fresh or day.first is None or day.last is None:
        return None  # a replay: every entry was counted already
    city = city_identity_id(settings.city_name)
    modified = _ms(now)
    if held is not None and held.modified is not None:
        modified = max(modified, _ms(as_utc(held.modified)) + _STEP)
    counted.update((e, modified) for e in fresh if e)
    newest = max(counted.values(), default=modified)
    keep = {e: t for e, t in counted.items() if t >= newest - replay_horizon(settings)}
    first, last = day.first, day.last
    if body:
        first, last = min(first, _parse(body["first_seen"])), max(last, _parse(body["last_seen"]))
    return {
        "type": "sighting", "spec_version": "2.1", "id": ident,
        "created": body.get("created", _stamp(modified)), "modified": _stamp(modified),
        "created_by_ref": city, "sighting_of_ref": indicator,
        "count": int(body.get("count", 0)) + sum(fresh.values()),
        "first_seen": _stamp(first), "last_seen": _stamp(last),
        "where_sighted_refs": [city],
        "object_marking_refs": [marking_id(Tlp(settings.intel_default_tlp))],
        ENTRIES_PROPERTY: {e: _stamp(keep[e]) for e in sorted(keep)},
    }, held  # fmt: skip


def record_sightings(
    session: Session, hits: pl.DataFrame, *, now: datetime, settings: Settings
) -> int:
    """Record the indicator hits of one batch (`indicator_matches` rows: `rule_id` =
    `intel/<indicator id>`, `@timestamp`, `_entry`) as sightings; return how many sighting
    versions were written. Entries already counted are skipped (replays count once)."""
    if hits.height == 0 or "rule_id" not in hits.columns:
        return 0
    stamps = hits.get_column("@timestamp").to_list() if "@timestamp" in hits.columns else []
    entries = hits.get_column("_entry").to_list() if "_entry" in hits.columns else []
    days: dict[tuple[str, str], _Day] = {}
    for i, rule in enumerate(hits.get_column("rule_id").to_list()):
        if not isinstance(rule, str) or not rule.startswith(_RULE_PREFIX):
            continue
        when = _when(stamps[i] if stamps else None, now)
        key = (rule.removeprefix(_RULE_PREFIX), when.date().isoformat())
        entry = entries[i] if entries else None
        days.setdefault(key, _Day()).add(str(entry) if entry is not None else None, when)
    versions = [
        v for key in sorted(days) if (v := _next_version(session, key, days[key], settings, now))
    ]
    if not versions:
        return 0
    bodies = [body for body, _ in versions]
    identity = _identity(session, settings, now)
    records = [_record(b) for b in ([identity] if identity else []) + bodies]
    source = source_for(
        session, kind="sighting", name="Our sightings", location="local:sightings", now=now
    )
    report = ImportReport(source="local:sightings")
    store_records(session, records, source=source, report=report, ctx=StoreContext(now=now))
    _drop_superseded(session, versions, settings.intel_sighting_version_minutes)
    return len(bodies)


def _drop_superseded(
    session: Session,
    versions: list[tuple[dict[str, Any], IntelObject | None]],
    minutes: int,
) -> None:
    """Delete each superseded version written in the same clock slot as its successor."""
    if minutes <= 0:
        return
    slot = minutes * 60
    for body, held in versions:
        if held is None or held.modified is None:
            continue
        if (
            int(as_utc(held.modified).timestamp()) // slot
            != int(_parse(body["modified"]).timestamp()) // slot
        ):
            continue
        session.execute(delete(IntelProvenance).where(IntelProvenance.object_id == held.id))
        session.delete(held)
    session.flush()


def _stix_time(value: object) -> datetime | None:
    """A STIX timestamp from a stored body, or None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def names_of(session: Session, refs: Iterable[str]) -> dict[str, str]:
    """The `name` of each referenced object the store holds (latest version wins)."""
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    rows = session.execute(
        select(IntelObject.stix_id, IntelObject.body)
        .where(IntelObject.stix_id.in_(wanted))
        .order_by(IntelObject.modified_key)
    )
    return {sid: str(body["name"]) for sid, body in rows if body.get("name")}


def indicator_sightings(session: Session, stix_id: str) -> list[IndicatorSighting]:
    """The current version of every stored STIX sighting whose `sighting_of_ref` is
    `stix_id`, latest `last_seen` first."""
    rows = session.execute(
        select(IntelObject, IntelSource.name)
        .outerjoin(IntelSource, IntelSource.id == IntelObject.source_id)
        .where(
            IntelObject.type == "sighting",
            IntelObject.body["sighting_of_ref"].as_string() == stix_id,
        )
        .order_by(IntelObject.modified_key)
    ).all()
    latest = {obj.stix_id: (obj, source) for obj, source in rows}
    versions = Counter(obj.stix_id for obj, _ in rows)
    names = names_of(
        session,
        (ref for obj, _ in latest.values() for ref in _refs(obj.body, "where_sighted_refs")),
    )
    found = []
    for obj, source in latest.values():
        refs = _refs(obj.body, "where_sighted_refs")
        count = obj.body.get("count")
        found.append(
            IndicatorSighting(
                stix_id=obj.stix_id,
                count=count if isinstance(count, int) else None,
                first_seen=_stix_time(obj.body.get("first_seen")),
                last_seen=_stix_time(obj.body.get("last_seen")),
                where_sighted_refs=refs,
                where_sighted=[names.get(ref, ref) for ref in refs],
                created_by_ref=obj.created_by_ref,
                modified=obj.modified,
                source_name=source,
                versions=versions[obj.stix_id],
                tlp=tlp.value if (tlp := tlp_of_refs(obj.object_marking_refs)) else None,
            )
        )
    return sorted(found, key=lambda s: str(s.last_seen or s.modified or ""), reverse=True)


def sighted_since(session: Session, since: datetime) -> int:
    """How many indicators the sighting versions stored since `since` point at."""
    ref = IntelObject.body["sighting_of_ref"].as_string()
    stmt = select(func.count(func.distinct(ref))).where(
        IntelObject.type == "sighting", IntelObject.imported_at >= since
    )
    return session.scalar(stmt) or 0


def _refs(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def our_sightings_since(session: Session, since: datetime) -> list[str]:
    """The ids of our own sightings (recorded by continuous detection) with a version stored
    at or after `since`: what `intel push --sightings` shares."""
    rows = session.scalars(
        select(IntelObject.stix_id)
        .join(IntelSource, IntelSource.id == IntelObject.source_id)
        .where(
            IntelObject.type == "sighting",
            IntelSource.kind == "sighting",
            IntelObject.imported_at >= since,
        )
        .distinct()
    )
    return sorted(rows)
