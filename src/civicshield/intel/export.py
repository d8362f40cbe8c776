"""STIX 2.1 bundles of our indicators, built and validated with the `stix2` library: each
indicator's current version, the identities that created them and the marking definitions
they reference. TLP:RED and TLP:AMBER+STRICT never leave in a shareable export; a local export
(for the city's own tools) may include them when asked for explicitly."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import stix2
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.core.enums import Tlp
from civicshield.core.errors import Invalid
from civicshield.intel.models import IntelIndicator, IntelObject
from civicshield.intel.tlp import TLP_ORDER, marking_definition, marking_id

__all__ = ["RESTRICTED", "export_bundle"]

RESTRICTED = (Tlp.AMBER_STRICT, Tlp.RED)
_TLP2_IDS = {marking_id(level): level for level in TLP_ORDER}


def _current(session: Session, stix_id: str) -> IntelObject | None:
    return session.scalars(
        select(IntelObject)
        .where(IntelObject.stix_id == stix_id)
        .order_by(IntelObject.modified_key.desc())
        .limit(1)
    ).first()


def export_bundle(
    session: Session,
    *,
    max_tlp: Tlp = Tlp.AMBER,
    kind: str | None = None,
    since: datetime | None = None,
    local: bool = False,
    include_unmarked: bool = True,
) -> dict[str, Any]:
    """A bundle (as JSON) of the current indicators at most `max_tlp`; `kind` keeps one lookup
    kind, `since` only indicators modified at or after it. Revoked indicators are exported
    (peers must learn of the revocation)."""
    if max_tlp in RESTRICTED and not local:
        raise Invalid(
            f"{max_tlp.label} may not be exported for sharing: its audience is named "
            "recipients only (TLP 2.0); ask for a local export to keep it inside the city"
        )
    allowed = {level.value for level in TLP_ORDER[: TLP_ORDER.index(max_tlp) + 1]}
    query = select(IntelIndicator).order_by(IntelIndicator.stix_id)
    if kind:
        query = query.where(IntelIndicator.kind == kind)
    if since is not None:
        query = query.where(IntelIndicator.modified >= since)
    objects: list[Any] = []
    extra_refs: set[str] = set()
    for row in session.scalars(query):
        if row.tlp is None and not include_unmarked:
            continue
        if row.tlp is not None and row.tlp not in allowed:
            continue
        current = _current(session, row.stix_id)
        if current is None:
            continue
        try:
            objects.append(stix2.parse(current.body, allow_custom=False, version="2.1"))
        except (stix2.exceptions.STIXError, ValueError) as exc:
            raise Invalid(f"{row.stix_id}: stored object no longer validates: {exc}") from None
        extra_refs.update(current.object_marking_refs)
        if current.created_by_ref:
            extra_refs.add(current.created_by_ref)
    for ref in sorted(extra_refs):
        if ref in _TLP2_IDS:
            objects.append(stix2.parse(marking_definition(_TLP2_IDS[ref]), version="2.1"))
            continue
        held = _current(session, ref)
        if held is not None:
            objects.append(stix2.parse(held.body, allow_custom=False, version="2.1"))
    bundle = stix2.v21.Bundle(objects=objects, allow_custom=False)
    result: dict[str, Any] = json.loads(bundle.serialize())
    return result
