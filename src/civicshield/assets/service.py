"""Inventory use cases: create, change (with history), retire, get, list; sector scoping.

`scope` is the set of sectors the caller may see (`scope_of(principal)`), or None for every
sector. An asset outside the scope does not exist for the caller (NotFound); creating or moving
one into a sector outside it is refused (PermissionDenied).
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.accounts import Principal
from civicshield.assets.enums import Lifecycle
from civicshield.assets.models import Asset, AssetChange, Software
from civicshield.assets.schemas import (
    EDITABLE_FIELDS,
    AssetChangeRead,
    AssetCreate,
    AssetDetail,
    AssetFilter,
    AssetPage,
    AssetRead,
    AssetUpdate,
    SoftwareRead,
)
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Role, Sector
from civicshield.core.errors import FieldError, Invalid, NotFound, PermissionDenied

__all__ = [
    "Scope",
    "create_asset",
    "diff_asset",
    "get_asset",
    "get_asset_detail",
    "list_assets",
    "retire_asset",
    "scope_of",
    "update_asset",
]

Scope = Collection[Sector] | None
_NOT_NULL = frozenset(EDITABLE_FIELDS) - {"serial", "cpe", "purl", "latitude", "longitude"}


def scope_of(principal: Principal) -> frozenset[Sector] | None:
    """The sectors `principal` may see: a sector operator's own, everyone else's all (None)."""
    return principal.sectors if principal.role is Role.SECTOR_OPERATOR else None


def _stored(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return list(value)
    return value


def _check_sector(sector: Sector, scope: Scope) -> None:
    if scope is not None and sector not in scope:
        raise PermissionDenied(f"sector {sector.value!r} is not one of your sectors")


def _load(session: Session, asset_id: int, scope: Scope) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None or (scope is not None and Sector(asset.sector) not in scope):
        raise NotFound(f"asset {asset_id} does not exist")
    return asset


def _history(
    session: Session, asset: Asset, changes: dict[str, list[Any]], actor: Actor, clock: Clock
) -> None:
    now = clock.now()
    for name, (old, new) in changes.items():
        session.add(
            AssetChange(
                asset_id=asset.id,
                at=now,
                actor=actor.label,
                actor_id=actor.user_id,
                field=name,
                old=old,
                new=new,
            )
        )


def create_asset(
    session: Session, data: AssetCreate, *, actor: Actor, clock: Clock, scope: Scope = None
) -> AssetRead:
    _check_sector(data.sector, scope)
    values = {name: _stored(getattr(data, name)) for name in EDITABLE_FIELDS}
    now = clock.now()
    asset = Asset(**values, created_at=now, updated_at=now)
    session.add(asset)
    session.flush()
    _history(session, asset, {"created": [None, asset.name]}, actor, clock)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="asset.create",
        entity_type="asset",
        entity_id=asset.id,
        clock=clock,
        summary=f"created asset {asset.name} ({asset.sector}, {asset.kind})",
        changes={k: v for k, v in values.items() if v not in (None, "", [])},
    )
    return AssetRead.model_validate(asset)


def diff_asset(asset: Asset, data: AssetUpdate) -> dict[str, list[Any]]:
    """The fields `data` would change, as {field: [old, new]} (nothing is written)."""
    fields = data.model_dump(exclude_unset=True)
    changes: dict[str, list[Any]] = {}
    for name in EDITABLE_FIELDS:
        if name not in fields or (fields[name] is None and name in _NOT_NULL):
            continue
        new = _stored(getattr(data, name))
        old = getattr(asset, name)
        if old != new:
            changes[name] = [_stored(old), new]
    return changes


def update_asset(
    session: Session,
    asset_id: int,
    data: AssetUpdate,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
    action: str = "asset.update",
) -> AssetRead:
    """Change the fields sent; each changed field gets a history row, the change one audit
    entry. Sending the current values changes nothing and writes nothing."""
    asset = _load(session, asset_id, scope)
    if data.sector is not None:
        _check_sector(data.sector, scope)
    changes = diff_asset(asset, data)
    lat = changes.get("latitude", [None, asset.latitude])[1]
    lon = changes.get("longitude", [None, asset.longitude])[1]
    if (lat is None) != (lon is None):
        raise Invalid(
            "give both latitude and longitude, or neither",
            [FieldError(("body", "latitude"), "latitude and longitude go together")],
        )
    if not changes:
        return AssetRead.model_validate(asset)
    for name, (_old, new) in changes.items():
        setattr(asset, name, new)
    asset.updated_at = clock.now()
    _history(session, asset, changes, actor, clock)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="asset",
        entity_id=asset.id,
        clock=clock,
        summary=f"changed asset {asset.name}: {', '.join(changes)}",
        changes=changes,
    )
    return AssetRead.model_validate(asset)


def retire_asset(
    session: Session, asset_id: int, *, actor: Actor, clock: Clock, scope: Scope = None
) -> AssetRead:
    """Mark an asset retired (kept with its history; idempotent)."""
    return update_asset(
        session,
        asset_id,
        AssetUpdate(lifecycle=Lifecycle.RETIRED),
        actor=actor,
        clock=clock,
        scope=scope,
        action="asset.retire",
    )


def get_asset(session: Session, asset_id: int, *, scope: Scope = None) -> AssetRead:
    return AssetRead.model_validate(_load(session, asset_id, scope))


def get_asset_detail(session: Session, asset_id: int, *, scope: Scope = None) -> AssetDetail:
    """The asset with its change history, newest first, and its software."""
    asset = _load(session, asset_id, scope)
    rows = session.execute(
        select(AssetChange)
        .where(AssetChange.asset_id == asset.id)
        .order_by(AssetChange.at.desc(), AssetChange.id.desc())
    ).scalars()
    history = [AssetChangeRead.model_validate(r) for r in rows]
    software = session.execute(
        select(Software)
        .where(Software.asset_id == asset.id)
        .order_by(Software.kind, Software.name, Software.version, Software.id)
    ).scalars()
    return AssetDetail(
        **AssetRead.model_validate(asset).model_dump(),
        history=history,
        software=[SoftwareRead.model_validate(s) for s in software],
    )


def list_assets(
    session: Session,
    filters: AssetFilter | None = None,
    *,
    scope: Scope = None,
    limit: int = 50,
    offset: int = 0,
) -> AssetPage:
    """Assets matching every filter, sorted by sector then name."""
    f = filters or AssetFilter()
    query = select(Asset)
    if scope is not None:
        query = query.where(Asset.sector.in_(sorted(s.value for s in scope)))
    if f.sector is not None:
        query = query.where(Asset.sector == f.sector.value)
    if f.zone is not None:
        query = query.where(Asset.zone == f.zone)
    if f.kind is not None:
        query = query.where(Asset.kind == f.kind.value)
    if f.min_criticality is not None:
        query = query.where(Asset.criticality >= f.min_criticality)
    if f.internet_exposed is not None:
        query = query.where(Asset.internet_exposed == f.internet_exposed)
    if f.lifecycle is not None:
        query = query.where(Asset.lifecycle == f.lifecycle.value)
    if f.q:
        like = f"%{f.q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Asset.name).like(like),
                func.lower(Asset.vendor).like(like),
                func.lower(Asset.product).like(like),
                func.lower(Asset.serial).like(like),
                # Lists are searched in their JSON text (stored lower-case, normalised).
                cast(Asset.hostnames, String).like(like),
                cast(Asset.ips, String).like(like),
                cast(Asset.macs, String).like(like),
            )
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Asset.sector, Asset.name, Asset.id).limit(limit).offset(offset)
    ).scalars()
    return AssetPage(
        items=[AssetRead.model_validate(a) for a in rows], total=total, limit=limit, offset=offset
    )
