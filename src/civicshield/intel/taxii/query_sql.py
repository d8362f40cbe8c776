"""The common TAXII reads done in SQL: choosing each object's first or last version (or all of
them) and paging, so a page costs the same in a collection of a million versions as in one of
ten. Same rules as `query.select_entries` (the Python path, kept for timestamp versions and
DELETE): without `match[spec_version]` only an object's latest spec version counts; versions
order by (`version_at`, row id); pages by (`date_added`, row id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from civicshield.intel.taxii.models import TaxiiEntry
from civicshield.intel.taxii.query import EntryMeta, PageOf, Query, cursor_of, token_of

__all__ = ["handles", "sql_page"]

_CHOICES = (("last",), ("first",), ("all",))


def handles(query: Query) -> bool:
    """Whether `sql_page` can answer `query` (else the Python path does)."""
    return query.versions in _CHOICES and not query.all_specs


def sql_page(
    session: Session, collection_id: int, query: Query, object_id: str | None = None
) -> PageOf:
    entry = aliased(TaxiiEntry, name="e")
    other = aliased(TaxiiEntry, name="o")
    same_object = and_(*_filters(other, collection_id, query, object_id))
    same_object = and_(same_object, other.stix_id == entry.stix_id)
    conditions = _filters(entry, collection_id, query, object_id)
    if not query.spec_versions:  # only the latest spec version of each object
        newer_spec = and_(same_object, other.spec_version > entry.spec_version)
        conditions.append(~exists().where(newer_spec))
        same_object = and_(same_object, other.spec_version == entry.spec_version)
    choice = query.versions[0]
    if choice != "all":
        # (version_at, id) greater / smaller, spelled with a plain range on version_at first
        # so the planner walks the object's index (collection, stix_id, spec, version_at).
        later = and_(
            other.version_at >= entry.version_at,
            or_(other.version_at > entry.version_at, other.id > entry.id),
        )
        earlier = and_(
            other.version_at <= entry.version_at,
            or_(other.version_at < entry.version_at, other.id < entry.id),
        )
        conditions.append(
            ~exists().where(and_(same_object, later if choice == "last" else earlier))
        )
    after = cursor_of(query)
    if after is not None:
        stamp, ident = after
        conditions.append(
            or_(entry.date_added > stamp, and_(entry.date_added == stamp, entry.id > ident))
        )
    columns = (
        entry.id, entry.stix_id, entry.type, entry.version, entry.spec_version,
        entry.media_type, entry.date_added,
    )  # fmt: skip
    statement = (
        select(*columns)
        .where(*conditions)
        .order_by(entry.date_added, entry.id)
        .limit(query.limit + 1)
    )
    rows = [EntryMeta(*row) for row in session.execute(statement)]
    shown = rows[: query.limit]
    more = len(rows) > len(shown)
    return PageOf(shown, more, token_of(shown[-1], query) if more else None)


def _filters(table: Any, collection_id: int, query: Query, object_id: str | None) -> list[Any]:
    """The per-version filters (type, id, added_after, spec version) on `table`."""
    found = [table.collection_id == collection_id]
    if object_id is not None:
        found.append(table.stix_id == object_id)
    if query.types:
        found.append(table.type.in_(sorted(query.types)))
    if query.ids:
        found.append(table.stix_id.in_(sorted(query.ids)))
    if query.added_after is not None:
        found.append(table.date_added > query.added_after)
    if query.spec_versions:
        found.append(table.spec_version.in_(sorted(query.spec_versions)))
    return found
