"""The TAXII 2.1 read side: discovery, API root information, collections, objects, manifest,
versions and delete. Functions return the wire form (dicts) for the HTTP layer; they check
the caller's rights (NotFound for a root the caller may not see, PermissionDenied else)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicshield.core.errors import NotFound
from civicshield.intel.taxii.access import (
    TaxiiCaller,
    collection_rights,
    require_read,
    require_write,
    visible_root,
)
from civicshield.intel.taxii.models import TaxiiApiRoot, TaxiiCollection, TaxiiEntry
from civicshield.intel.taxii.query import META_COLUMNS, EntryMeta, Query, page, select_entries
from civicshield.intel.taxii.query_sql import handles, sql_page
from civicshield.intel.taxii.schemas import ObjectPage
from civicshield.intel.taxii.stix import format_timestamp

__all__ = [
    "DISCOVERY_FILE",
    "api_root_information",
    "collection_information",
    "collections_information",
    "delete_object",
    "discovery",
    "load_discovery",
    "objects_page",
    "save_discovery",
]

DISCOVERY_FILE = "taxii-discovery.json"
_DISCOVERY_KEYS = ("title", "description", "contact")


def load_discovery(data_dir: Path) -> dict[str, str]:
    """Title, description and contact kept by `taxii-seed` (empty when never seeded)."""
    try:
        data = json.loads((data_dir / DISCOVERY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(data[k]) for k in _DISCOVERY_KEYS if isinstance(data, dict) and k in data}


def save_discovery(data_dir: Path, info: dict[str, Any]) -> Path:
    path = data_dir / DISCOVERY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    kept = {k: str(info[k]) for k in _DISCOVERY_KEYS if info.get(k) is not None}
    path.write_text(json.dumps(kept, indent=2), encoding="utf-8")
    return path


def discovery(
    session: Session, caller: TaxiiCaller, *, base_url: str, info: dict[str, str], city: str
) -> dict[str, Any]:
    """The discovery resource; `base_url` ends with the TAXII prefix (`…/taxii2`)."""
    roots = list(session.scalars(select(TaxiiApiRoot).order_by(TaxiiApiRoot.id)))
    roots = [r for r in roots if not caller.api_root_ids or r.id in caller.api_root_ids]
    body: dict[str, Any] = {"title": info.get("title") or f"{city} TAXII server"}
    for key in ("description", "contact"):
        if info.get(key):
            body[key] = info[key]
    default = next((r for r in roots if r.is_default), None)
    if default is not None:
        body["default"] = f"{base_url}/{default.slug}/"
    body["api_roots"] = [f"{base_url}/{r.slug}/" for r in roots]
    return body


def api_root_information(
    session: Session, caller: TaxiiCaller, slug: str, *, max_content_length: int
) -> dict[str, Any]:
    root = visible_root(session, caller, slug)
    body: dict[str, Any] = {"title": root.title}
    if root.description:
        body["description"] = root.description
    body["versions"] = list(root.versions)
    body["max_content_length"] = min(root.max_content_length, max_content_length)
    return body


def _collection(session: Session, caller: TaxiiCaller, slug: str, uuid: str) -> TaxiiCollection:
    root = visible_root(session, caller, slug)
    found = session.scalar(
        select(TaxiiCollection).where(
            TaxiiCollection.api_root_id == root.id, TaxiiCollection.uuid == uuid
        )
    )
    if found is None:
        raise NotFound(f"no collection {uuid} in API root '{slug}'")
    return found


def _describe(session: Session, caller: TaxiiCaller, c: TaxiiCollection) -> dict[str, Any]:
    can_read, can_write = collection_rights(session, caller, c)
    body: dict[str, Any] = {"id": c.uuid, "title": c.title}
    if c.description:
        body["description"] = c.description
    if c.alias:
        body["alias"] = c.alias
    body.update(can_read=can_read, can_write=can_write, media_types=list(c.media_types or []))
    return body


def collections_information(session: Session, caller: TaxiiCaller, slug: str) -> dict[str, Any]:
    """Every collection of the root, with the caller's own can_read/can_write (as medallion,
    a collection the caller can neither read nor write is still listed)."""
    root = visible_root(session, caller, slug)
    found = session.scalars(
        select(TaxiiCollection)
        .where(TaxiiCollection.api_root_id == root.id)
        .order_by(TaxiiCollection.id)
    )
    listed = [_describe(session, caller, c) for c in found]
    return {"collections": listed} if listed else {}


def collection_information(
    session: Session, caller: TaxiiCaller, slug: str, uuid: str
) -> dict[str, Any]:
    return _describe(session, caller, _collection(session, caller, slug, uuid))


def _manifest_record(entry: EntryMeta) -> dict[str, Any]:
    return {
        "id": entry.stix_id,
        "date_added": format_timestamp(entry.date_added),
        "version": entry.version,
        "media_type": entry.media_type,
    }


def objects_page(
    session: Session,
    caller: TaxiiCaller,
    slug: str,
    uuid: str,
    query: Query,
    *,
    view: str = "objects",
    object_id: str | None = None,
) -> ObjectPage:
    """`view`: "objects" (bodies), "manifest" (records) or "versions" (version strings).
    With `object_id`, only that object (NotFound when the collection has none of it)."""
    collection = _collection(session, caller, slug, uuid)
    require_read(session, caller, collection)
    if handles(query):  # first, last or all versions: chosen and paged in SQL
        result = sql_page(session, collection.id, query, object_id)
        found = bool(result.entries)
    else:  # timestamp versions: filtered in SQL, chosen and paged in Python
        entries = _metadata(session, collection.id, query, object_id)
        result = page(select_entries(entries, query), query)
        found = bool(entries)
    if object_id is not None and not found and not _holds(session, collection, object_id):
        raise NotFound(f"no object {object_id} in collection {uuid}")
    items: list[Any]
    if view == "manifest":
        items = [_manifest_record(e) for e in result.entries]
    elif view == "versions":
        items = [e.version for e in result.entries]
    else:
        wanted = [e.id for e in result.entries]
        rows = session.execute(
            select(TaxiiEntry.id, TaxiiEntry.body).where(TaxiiEntry.id.in_(wanted))
        )
        bodies: dict[int, dict[str, Any]] = {row.id: row.body for row in rows}
        items = [bodies[e.id] for e in result.entries]
    shown = result.entries
    return ObjectPage(
        items=items,
        more=result.more,
        next=result.next,
        first_added=format_timestamp(shown[0].date_added) if shown else None,
        last_added=format_timestamp(shown[-1].date_added) if shown else None,
    )


def _metadata(
    session: Session, collection_id: int, query: Query, object_id: str | None
) -> list[EntryMeta]:
    """Every version passing the per-version filters (type, id, added_after), no bodies."""
    statement = select(*META_COLUMNS).where(TaxiiEntry.collection_id == collection_id)
    if object_id is not None:
        statement = statement.where(TaxiiEntry.stix_id == object_id)
    if query.types:
        statement = statement.where(TaxiiEntry.type.in_(sorted(query.types)))
    if query.ids:
        statement = statement.where(TaxiiEntry.stix_id.in_(sorted(query.ids)))
    if query.added_after is not None:
        statement = statement.where(TaxiiEntry.date_added > query.added_after)
    return [EntryMeta(*row) for row in session.execute(statement)]


def _holds(session: Session, collection: TaxiiCollection, object_id: str) -> bool:
    found = session.scalar(
        select(TaxiiEntry.id)
        .where(TaxiiEntry.collection_id == collection.id, TaxiiEntry.stix_id == object_id)
        .limit(1)
    )
    return found is not None


def delete_object(
    session: Session, caller: TaxiiCaller, slug: str, uuid: str, object_id: str, query: Query
) -> int:
    """Delete the versions the query selects (default: every version); the count deleted.
    Needs read and write (TAXII: a caller who cannot see an object cannot delete it)."""
    collection = _collection(session, caller, slug, uuid)
    require_read(session, caller, collection)
    require_write(session, caller, collection)
    rows = session.execute(
        select(*META_COLUMNS).where(
            TaxiiEntry.collection_id == collection.id, TaxiiEntry.stix_id == object_id
        )
    )
    entries = [EntryMeta(*row) for row in rows]
    if not entries:
        raise NotFound(f"no object {object_id} in collection {uuid}")
    chosen = [e.id for e in select_entries(entries, query)]
    if chosen:
        session.execute(delete(TaxiiEntry).where(TaxiiEntry.id.in_(chosen)))
        session.flush()
    return len(chosen)
