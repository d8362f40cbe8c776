"""Keep synced feed data in the database: one `Cve` row per CVE, merged across sources.

CVE JSON 5 and NVD records each own their part of a row (their CVSS metrics are tagged with
`origin` and replaced only by the same origin); applicability comes from NVD when NVD has
configurations for the CVE, else from CVE JSON 5 (CISA ADP CPEs), because NVD's analysis is the
more precise where it exists. KEV and EPSS set their own columns on any CVE, creating a bare row
for a CVE no record speaks of yet (scanner-only findings still get KEV/EPSS); a complete KEV
catalogue also clears the CVEs it no longer lists (`store_kev`). Writes are upserts
in chunks, so a 360,000-line EPSS file costs seconds and re-syncing the same data changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civicshield.core.clock import Clock
from civicshield.vulns.applicability import configurations_to_json
from civicshield.vulns.feeds import CveRecord, EpssFeed, KevCatalog
from civicshield.vulns.models import Cve

__all__ = [
    "StoreSummary",
    "cve_row_defaults",
    "is_complete",
    "store_epss",
    "store_kev",
    "store_records",
]

_CHUNK = 2000


@dataclass
class StoreSummary:
    """What one store step changed: `created` bare or full rows, `updated` rows whose values
    differ, and the CVE ids touched (re-assessment of findings follows for those)."""

    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0  # KEV: CVEs a complete catalogue no longer lists
    changed_ids: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


def cve_row_defaults(cve_id: str, now: datetime) -> dict[str, Any]:
    return {
        "cve_id": cve_id,
        "state": None,
        "published": None,
        "modified": None,
        "description": "",
        "descriptions": {},
        "cvss": [],
        "cwes": [],
        "ssvc": None,
        "kev_date_added": None,
        "kev_due_date": None,
        "kev_required_action": "",
        "kev_ransomware": False,
        "kev_removed": None,
        "epss": None,
        "epss_percentile": None,
        "epss_date": None,
        "sources": [],
        "applicability": [],
        "applicability_source": "",
        "packages": [],
        "updated_at": now,
    }


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(session: Session, ids: Sequence[str], columns: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for chunk in _chunks(ids):
        for row in session.execute(select(Cve.cve_id, *columns).where(Cve.cve_id.in_(chunk))):
            out[row[0]] = row
    return out


def _upsert(session: Session, rows: list[dict[str, Any]], update: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (cve_id) DO UPDATE of `update` columns, on SQLite or PostgreSQL,
    as one executemany per chunk (a multi-VALUES statement per chunk compiles far slower)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Cve)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Cve.cve_id], set_={name: stmt.excluded[name] for name in update}
    )
    for chunk in _chunks(rows, 10_000):
        session.execute(stmt, list(chunk))


def store_kev(session: Session, catalog: KevCatalog, *, clock: Clock) -> StoreSummary:
    """Set the KEV columns of every listed CVE. When the catalogue is complete (every entry
    parsed and as many as its `count` says), a CVE it no longer lists loses its KEV facts and
    gets `kev_removed`; a partial file (a sample, a filtered copy) removes nothing."""
    summary = StoreSummary("kev")
    now = clock.now()
    entries = {e.cve_id: e for e in catalog.items}
    columns = (
        Cve.kev_date_added,
        Cve.kev_due_date,
        Cve.kev_required_action,
        Cve.kev_ransomware,
        Cve.kev_removed,
    )
    have = _existing(session, list(entries), columns)
    rows = []
    for cve_id, e in entries.items():
        new = (e.date_added, e.due_date, e.required_action, e.ransomware, None)
        old = have.get(cve_id)
        if old is not None and tuple(old[1:]) == new:
            summary.unchanged += 1
            continue
        if old is None:
            summary.created += 1
        else:
            summary.updated += 1
        summary.changed_ids.add(cve_id)
        row = cve_row_defaults(cve_id, now)
        row.update(
            zip(("kev_date_added", "kev_due_date", "kev_required_action"), new, strict=False)
        )
        row["kev_ransomware"] = e.ransomware
        rows.append(row)
    _upsert(session, rows, [c.key for c in columns] + ["updated_at"])
    if is_complete(catalog):
        _clear_removed(session, set(entries), now, summary)
    return summary


def is_complete(catalog: KevCatalog) -> bool:
    """Whether `catalog` can speak for what is *not* in KEV: every entry parsed and their
    number equal to the catalogue's own `count`."""
    return (
        not catalog.problems
        and catalog.declared_count is not None
        and catalog.declared_count == len(catalog.items)
        and len(catalog.items) > 0
    )


def _clear_removed(
    session: Session, listed: set[str], now: datetime, summary: StoreSummary
) -> None:
    flagged = session.scalars(
        select(Cve.cve_id).where(Cve.kev_date_added.is_not(None) | Cve.kev_due_date.is_not(None))
    )
    gone = sorted(set(flagged) - listed)
    for chunk in _chunks(gone):
        session.execute(
            update(Cve)
            .where(Cve.cve_id.in_(chunk))
            .values(
                kev_date_added=None,
                kev_due_date=None,
                kev_required_action="",
                kev_ransomware=False,
                kev_removed=now.date(),
                updated_at=now,
            )
        )
    summary.removed = len(gone)
    summary.changed_ids.update(gone)


def store_epss(session: Session, feed: EpssFeed, *, clock: Clock) -> StoreSummary:
    summary = StoreSummary("epss")
    now = clock.now()
    day = feed.score_date.date() if feed.score_date else now.date()
    scores = {s.cve: s for s in feed.items}
    have = _existing(session, list(scores), (Cve.epss, Cve.epss_percentile))
    rows = []
    for cve_id, s in scores.items():
        old = have.get(cve_id)
        if old is not None and (old[1], old[2]) == (s.epss, s.percentile):
            summary.unchanged += 1
            continue
        if old is None:
            summary.created += 1
        else:
            summary.updated += 1
            summary.changed_ids.add(cve_id)  # a new CVE has no finding to re-assess yet
        row = cve_row_defaults(cve_id, now)
        row.update(epss=s.epss, epss_percentile=s.percentile, epss_date=day)
        rows.append(row)
    _upsert(session, rows, ["epss", "epss_percentile", "epss_date", "updated_at"])
    return summary


def _cvss_dicts(record: CveRecord) -> list[dict[str, Any]]:
    return [
        {
            "version": c.version,
            "vector": c.vector,
            "base_score": c.base_score,
            "base_severity": c.base_severity,
            "source": c.source,
            "kind": c.kind,
            "origin": record.source,
        }
        for c in record.cvss
    ]


def _merged(row: Cve | None, record: CveRecord, now: datetime) -> dict[str, Any]:
    """The full new row for `record` on top of what is stored (other sources' parts kept)."""
    base = cve_row_defaults(record.cve_id, now)
    if row is not None:
        for name in base:
            base[name] = getattr(row, name)
        base["updated_at"] = now
    origin = record.source
    base["cvss"] = [c for c in base["cvss"] if c.get("origin") != origin] + _cvss_dicts(record)
    base["sources"] = sorted({*base["sources"], origin})
    descriptions = dict(base["descriptions"])
    for d in record.descriptions:
        descriptions.setdefault(d.lang.lower().split("-")[0], d.value)
        if origin == "cve5":  # the CNA's words win over NVD's copy
            descriptions[d.lang.lower().split("-")[0]] = d.value
    base["descriptions"] = descriptions
    base["description"] = descriptions.get("en") or next(iter(descriptions.values()), "")
    base["cwes"] = sorted({*base["cwes"], *record.cwes})
    if record.state:
        base["state"] = record.state
    base["published"] = base["published"] or record.published
    if record.modified and (base["modified"] is None or record.modified > base["modified"]):
        base["modified"] = record.modified
    if record.ssvc is not None:
        base["ssvc"] = {
            "exploitation": record.ssvc.exploitation,
            "automatable": record.ssvc.automatable,
            "technical_impact": record.ssvc.technical_impact,
            "version": record.ssvc.version,
            "role": record.ssvc.role,
            "timestamp": record.ssvc.timestamp.isoformat() if record.ssvc.timestamp else None,
        }
    if record.kev is not None and base["kev_date_added"] is None and base["kev_removed"] is None:
        base["kev_date_added"] = record.kev.date_added
        base["kev_due_date"] = base["kev_due_date"] or record.kev.due_date
        base["kev_required_action"] = base["kev_required_action"] or (
            record.kev.required_action or ""
        )
    if origin == "cve5":  # only CVE JSON 5 names packages
        base["packages"] = [p.to_json() for p in record.packages]
    configs = configurations_to_json(record.applicability)
    if configs and (origin == "nvd" or base["applicability_source"] != "nvd"):
        base["applicability"] = configs
        base["applicability_source"] = origin
    return base


def _same(row: Cve, new: dict[str, Any]) -> bool:
    return all(getattr(row, k) == v for k, v in new.items() if k != "updated_at")


def store_records(
    session: Session, records: Iterable[CveRecord], *, clock: Clock, source: str
) -> StoreSummary:
    """CVE JSON 5 or NVD records (several records of one CVE: the later wins)."""
    summary = StoreSummary(source)
    now = clock.now()
    latest: dict[str, CveRecord] = {}
    for rec in records:
        latest[rec.cve_id] = rec
    ids = list(latest)
    stored: dict[str, Cve] = {}
    for chunk in _chunks(ids):
        stored.update(
            (row.cve_id, row) for row in session.scalars(select(Cve).where(Cve.cve_id.in_(chunk)))
        )
    rows = []
    for cve_id, rec in latest.items():
        row = stored.get(cve_id)
        new = _merged(row, rec, now)
        if row is not None and _same(row, new):
            summary.unchanged += 1
            continue
        summary.created += row is None
        summary.updated += row is not None
        summary.changed_ids.add(cve_id)
        rows.append(new)
    _upsert(session, rows, [k for k in cve_row_defaults("x", now) if k != "cve_id"])
    for row in stored.values():  # the upsert went around the ORM
        session.expire(row)
    return summary
