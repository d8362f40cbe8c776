"""Adding objects to a collection (TAXII "add objects") and the status resources it leaves.

Each object is judged alone: a bad one is a failure with a message, the rest are added; the
same id and version again is a success without a second copy. Objects a member (a peer city)
adds are also imported into the intel store; objects we add ourselves are not re-imported.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.core import Actor, Tlp
from civicshield.core.clock import Clock
from civicshield.core.errors import NotFound
from civicshield.intel.imports import import_stix
from civicshield.intel.taxii.access import TaxiiCaller, require_write, visible_root
from civicshield.intel.taxii.admin import collection_by_uuid
from civicshield.intel.taxii.errors import UnprocessableEnvelope
from civicshield.intel.taxii.models import TaxiiCollection, TaxiiEntry, TaxiiStatus
from civicshield.intel.taxii.schemas import TaxiiStatusRead
from civicshield.intel.taxii.stix import (
    media_type_for,
    shape_problem,
    spec_version_of,
    version_of,
    version_time,
)
from civicshield.intel.tlp import TLP_ORDER, tlp_of_refs

__all__ = ["add_objects", "get_status", "post_objects", "status_read"]

_NEVER_SHARED = (Tlp.RED, Tlp.AMBER_STRICT)


def status_read(row: TaxiiStatus) -> TaxiiStatusRead:
    return TaxiiStatusRead(
        id=row.uuid,
        status=row.status,
        request_timestamp=row.request_timestamp,
        total_count=row.total_count,
        success_count=row.success_count,
        failure_count=row.failure_count,
        pending_count=row.pending_count,
        successes=list(row.successes),
        failures=list(row.failures),
        pendings=list(row.pendings),
    )


def _refusal(collection: TaxiiCollection, obj: dict[str, Any]) -> str | None:
    """Why `obj` may not go into `collection` (TLP ceiling, media type), else None."""
    spec = spec_version_of(obj)
    if collection.media_types and media_type_for(spec) not in collection.media_types:
        return f"this collection takes {', '.join(collection.media_types)}, not STIX {spec}"
    refs = obj.get("object_marking_refs")
    level = tlp_of_refs(r for r in refs if isinstance(r, str)) if isinstance(refs, list) else None
    if level is None:
        return None
    if collection.multi_city and level in _NEVER_SHARED:
        return f"{level.label} objects never go to a collection several cities read"
    ceiling = Tlp(collection.tlp) if collection.tlp else None
    if ceiling is not None and TLP_ORDER.index(level) > TLP_ORDER.index(ceiling):
        return f"marked {level.label}; this collection holds at most {ceiling.label}"
    return None


def _add(
    session: Session,
    collection: TaxiiCollection,
    objects: list[Any],
    *,
    added_by: str,
    now: datetime,
) -> tuple[TaxiiStatus, list[dict[str, Any]]]:
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for obj in objects:
        problem = shape_problem(obj)
        ident = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else ""
        if problem is None:
            problem = _refusal(collection, obj)
        if problem is not None:
            failures.append({"id": ident, "message": problem})
            continue
        version = version_of(obj, now)
        held = session.scalars(
            select(TaxiiEntry).where(
                TaxiiEntry.collection_id == collection.id, TaxiiEntry.stix_id == ident
            )
        ).all()
        same = [e for e in held if e.version == version or e.body == obj]
        if same:
            successes.append({"id": ident, "version": same[0].version, "message": "already held"})
            continue
        spec = spec_version_of(obj)
        session.add(
            TaxiiEntry(
                collection_id=collection.id,
                stix_id=ident,
                type=obj["type"],
                version=version,
                version_at=version_time(version, now),
                spec_version=spec,
                media_type=media_type_for(spec),
                date_added=now,
                added_by=added_by,
                body=obj,
            )
        )
        session.flush()
        added.append(obj)
        successes.append({"id": ident, "version": version, "message": "added"})
    row = TaxiiStatus(
        uuid=str(uuidlib.uuid4()),
        api_root_id=collection.api_root_id,
        requested_by=added_by,
        status="complete",
        request_timestamp=now,
        total_count=len(objects),
        success_count=len(successes),
        failure_count=len(failures),
        pending_count=0,
        successes=successes,
        failures=failures,
        pendings=[],
    )
    session.add(row)
    session.flush()
    return row, added


def add_objects(
    session: Session,
    collection_uuid: str,
    objects: list[dict[str, Any]],
    *,
    added_by: str,
    now: datetime,
) -> TaxiiStatusRead:
    """Add `objects` to a collection as ourselves (the caller checked permissions); they are
    not imported into the intel store (they came from it)."""
    collection = collection_by_uuid(session, collection_uuid)
    row, _ = _add(session, collection, list(objects), added_by=added_by, now=now)
    return status_read(row)


def post_objects(
    session: Session,
    caller: TaxiiCaller,
    slug: str,
    uuid: str,
    envelope: Any,
    *,
    clock: Clock,
    location: str,
) -> TaxiiStatusRead:
    """TAXII "add objects" from `caller`; `location` (the collection URL) names the intel
    source the objects of a member are imported under."""
    root = visible_root(session, caller, slug)
    collection = session.scalar(
        select(TaxiiCollection).where(
            TaxiiCollection.api_root_id == root.id, TaxiiCollection.uuid == uuid
        )
    )
    if collection is None:
        raise NotFound(f"no collection {uuid} in API root '{slug}'")
    require_write(session, caller, collection)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise UnprocessableEnvelope('the body must be a TAXII envelope: {"objects": [...]}')
    now = clock.now()
    row, added = _add(session, collection, envelope["objects"], added_by=caller.name, now=now)
    if caller.is_member and added:
        bundle = {"type": "bundle", "id": f"bundle--{uuidlib.uuid4()}", "objects": added}
        actor = Actor(kind="taxii", name=caller.name)
        import_stix(
            session, bundle, location=location, actor=actor, clock=clock, kind="taxii",
            name=collection.title,
            provenance={"member": caller.name, "collection_url": location, "added": "pushed"},
        )  # fmt: skip
    return status_read(row)


def get_status(session: Session, caller: TaxiiCaller, slug: str, status_id: str) -> TaxiiStatusRead:
    """A status resource of the root; a member sees its own (and seeded ones) only."""
    root = visible_root(session, caller, slug)
    row = session.scalar(
        select(TaxiiStatus).where(TaxiiStatus.api_root_id == root.id, TaxiiStatus.uuid == status_id)
    )
    if row is None or (caller.is_member and row.requested_by not in ("", caller.name)):
        raise NotFound(f"no status {status_id} in API root '{slug}'")
    return status_read(row)
