"""Software on an asset: list it, and upsert the set one source (a scan, an SBOM) reports.

A component's identity on an asset is its key (`SoftwareItem.identity`: explicit key, else
purl, else CPE, else `kind:vendor:name:version`), unique per asset, so importing the same
source twice changes nothing. Components that the same source reported before and no longer
reports are removed; components from other sources are left alone. Every added, changed or
removed component is one history row (field `software`, old/new) and the upsert one audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.assets.models import Asset, AssetChange, Software
from civicshield.assets.schemas import SoftwareItem, SoftwarePlan, SoftwareRead
from civicshield.assets.service import Scope, get_asset
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock

__all__ = ["list_software", "plan_software", "upsert_software"]

_FIELDS = ("kind", "vendor", "name", "version", "cpe", "purl")


def _snapshot(key: str, row: Software | SoftwareItem) -> dict[str, Any]:
    return {"key": key, **{name: getattr(row, name) for name in _FIELDS}}


def _stored(session: Session, asset_id: int) -> dict[str, Software]:
    rows = session.execute(select(Software).where(Software.asset_id == asset_id)).scalars()
    return {row.key: row for row in rows}


def _dedupe(items: Sequence[SoftwareItem]) -> dict[str, SoftwareItem]:
    # An SBOM may list one component twice (nested and top level): the first one wins.
    unique: dict[str, SoftwareItem] = {}
    for item in items:
        unique.setdefault(item.identity, item)
    return unique


def list_software(session: Session, asset_id: int, *, scope: Scope = None) -> list[SoftwareRead]:
    """The asset's components, by kind then name (NotFound outside the caller's scope)."""
    get_asset(session, asset_id, scope=scope)
    rows = session.execute(
        select(Software)
        .where(Software.asset_id == asset_id)
        .order_by(Software.kind, Software.name, Software.version, Software.id)
    ).scalars()
    return [SoftwareRead.model_validate(r) for r in rows]


def plan_software(
    session: Session, asset_id: int | None, items: Sequence[SoftwareItem], *, source: str
) -> SoftwarePlan:
    """What `upsert_software` would do (asset_id None: a new asset, everything is added)."""
    stored = _stored(session, asset_id) if asset_id is not None else {}
    plan = SoftwarePlan()
    wanted = _dedupe(items)
    for key, item in wanted.items():
        new = _snapshot(key, item)
        row = stored.get(key)
        if row is None:
            plan.add.append(new)
            continue
        old = _snapshot(key, row)
        if old != new:
            plan.change.append([old, new])
        else:
            plan.unchanged += 1
    plan.remove = [
        _snapshot(key, row)
        for key, row in stored.items()
        if row.source == source and key not in wanted
    ]
    return plan


def upsert_software(
    session: Session,
    asset_id: int,
    items: Sequence[SoftwareItem],
    *,
    source: str,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> SoftwarePlan:
    """Make the asset's components from `source` be `items`; returns what changed."""
    get_asset(session, asset_id, scope=scope)
    asset = session.get(Asset, asset_id)
    assert asset is not None
    plan = plan_software(session, asset_id, items, source=source)
    if not plan.changed:
        return plan
    stored = _stored(session, asset_id)
    wanted = _dedupe(items)
    now = clock.now()
    history: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
    for new in plan.add:
        item = wanted[new["key"]]
        session.add(
            Software(
                asset_id=asset_id,
                key=new["key"],
                **{name: getattr(item, name) for name in _FIELDS},
                source=source,
                created_at=now,
                updated_at=now,
            )
        )
        history.append((None, new))
    for old, new in plan.change:
        row = stored[old["key"]]
        for name in _FIELDS:
            setattr(row, name, new[name])
        row.source = source
        row.updated_at = now
        history.append((old, new))
    for old in plan.remove:
        session.delete(stored[old["key"]])
        history.append((old, None))
    for old_value, new_value in history:
        session.add(
            AssetChange(
                asset_id=asset_id,
                at=now,
                actor=actor.label,
                actor_id=actor.user_id,
                field="software",
                old=old_value,
                new=new_value,
            )
        )
    asset.updated_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="asset.software",
        entity_type="asset",
        entity_id=asset_id,
        clock=clock,
        summary=(
            f"software of asset {asset.name} from {source}: {len(plan.add)} added, "
            f"{len(plan.change)} changed, {len(plan.remove)} removed"
        ),
        changes={
            "source": source,
            "added": [a["key"] for a in plan.add],
            "changed": [old["key"] for old, _new in plan.change],
            "removed": [r["key"] for r in plan.remove],
        },
    )
    return plan
