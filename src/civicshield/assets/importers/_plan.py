"""The format-neutral half of an import: match rows to existing assets, plan, apply.

Merge precedence (first that hits wins): any MAC, then any host name, then any IP in the same
zone, then the serial number. A row whose identifiers point at two different assets, or at an
asset another row of the same file already claims, is an error, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.assets._normalise import normalise_hostname, normalise_ip, normalise_mac, unique
from civicshield.assets.models import Asset
from civicshield.assets.schemas import AssetCreate, AssetUpdate
from civicshield.assets.service import Scope, create_asset, diff_asset, update_asset
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector

__all__ = ["ImportPreview", "Matcher", "RowError", "RowPlan", "apply", "plan_row"]

Action = Literal["create", "update", "unchanged", "error"]


class RowError(BaseModel):
    line: int = Field(description="1-based line of the file where the row starts.")
    column: str | None = Field(description="The column at fault, or null for the whole row.")
    message: str


class RowPlan(BaseModel):
    line: int
    action: Action
    asset_id: int | None = None
    matched_on: str | None = Field(
        default=None, description="How the row matched an existing asset, e.g. `mac aa:bb:…`."
    )
    name: str | None = None
    changes: dict[str, list[Any]] = Field(
        default_factory=dict, description="For updates: {field: [old, new]}."
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="The validated values the row sets."
    )
    errors: list[RowError] = Field(default_factory=list)


class ImportPreview(BaseModel):
    source: str
    format: str
    columns: list[str] = Field(description="Recognised columns, in file order.")
    ignored_columns: list[str] = Field(description="Header columns that are not in the template.")
    rows: list[RowPlan]
    applied: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "update", "unchanged", "error"), 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def errors(self) -> list[RowError]:
        return [e for row in self.rows for e in row.errors]


@dataclass
class Matcher:
    """Identifier -> asset id over the stored inventory, loaded once per import (one query),
    plus the identifiers earlier rows of the same file will create."""

    by_key: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    sectors: dict[int, Sector] = field(default_factory=dict)
    pending: dict[tuple[str, str], int] = field(default_factory=dict)
    claimed: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Matcher:
        matcher = cls()
        columns = (
            Asset.id,
            Asset.sector,
            Asset.zone,
            Asset.macs,
            Asset.hostnames,
            Asset.ips,
            Asset.serial,
        )
        for asset_id, sector, zone, macs, hostnames, ips, serial in session.execute(
            select(*columns)
        ):
            matcher.sectors[asset_id] = Sector(sector)
            for key in _keys(zone, macs, hostnames, ips, serial):
                matcher.by_key.setdefault(key, set()).add(asset_id)
        return matcher


def _keys(
    zone: str, macs: Iterable[str], hostnames: Iterable[str], ips: Iterable[str], serial: str | None
) -> list[tuple[str, str]]:
    """Keys in merge precedence order."""
    keys = [("mac", m) for m in macs]
    keys += [("hostname", h) for h in hostnames]
    keys += [("ip", f"{zone}|{ip}") for ip in ips]
    if serial:
        keys.append(("serial", serial))
    return keys


def _describe(key: tuple[str, str]) -> str:
    kind, value = key
    if kind == "ip":
        zone, ip = value.split("|", 1)
        return f"ip {ip} in zone {zone!r}" if zone else f"ip {ip} (no zone)"
    return f"{kind} {value}"


def _validation_errors(line: int, exc: ValidationError) -> list[RowError]:
    return [
        RowError(
            line=line,
            column=str(err["loc"][0]) if err["loc"] else None,
            message=str(err["msg"]).removeprefix("Value error, "),
        )
        for err in exc.errors()
    ]


def plan_row(
    session: Session, matcher: Matcher, line: int, values: dict[str, Any], scope: Scope
) -> RowPlan:
    """Decide what one row (already converted to typed values) does."""
    values = dict(values)
    for column, normalise in (
        ("macs", normalise_mac),
        ("hostnames", normalise_hostname),
        ("ips", normalise_ip),
    ):
        if column not in values:
            continue
        try:
            values[column] = unique(normalise(v) for v in values[column])
        except ValueError as exc:
            return _error(line, column, str(exc))
    keys = _keys(
        values.get("zone") or "",
        values.get("macs") or [],
        values.get("hostnames") or [],
        values.get("ips") or [],
        values.get("serial"),
    )
    if not keys:
        return _error(
            line,
            None,
            "a row needs at least one of macs, hostnames, ips or serial "
            "(so that importing it again updates instead of duplicating)",
        )
    match_id: int | None = None
    matched_on: str | None = None
    for kind in ("mac", "hostname", "ip", "serial"):
        hits = {
            (asset_id, key)
            for key in keys
            if key[0] == kind
            for asset_id in matcher.by_key.get(key, ())
        }
        ids = {asset_id for asset_id, _ in hits}
        if len(ids) > 1:
            listed = ", ".join(str(i) for i in sorted(ids))
            return _error(
                line,
                f"{kind}s" if kind != "serial" else "serial",
                f"the row's {kind} identifiers match several assets ({listed})",
            )
        if ids:
            match_id, key = next(iter(hits))
            matched_on = _describe(key)
            break
        pending = [matcher.pending[k] for k in keys if k[0] == kind and k in matcher.pending]
        if pending:
            return _error(
                line,
                None,
                f"line {pending[0]} of this file already creates an asset "
                f"with the same {kind}; merge the two rows",
            )
    if match_id is None:
        return _plan_create(line, values, matcher, keys, scope)
    if scope is not None and matcher.sectors[match_id] not in scope:
        return _error(line, None, f"matches an asset ({matched_on}) in a sector you may not change")
    if match_id in matcher.claimed:
        return _error(
            line,
            None,
            f"line {matcher.claimed[match_id]} of this file already updates "
            f"asset {match_id} ({matched_on})",
        )
    matcher.claimed[match_id] = line
    return _plan_update(session, line, values, match_id, matched_on, scope)


def _error(line: int, column: str | None, message: str) -> RowPlan:
    return RowPlan(
        line=line, action="error", errors=[RowError(line=line, column=column, message=message)]
    )


def _plan_create(
    line: int, values: dict[str, Any], matcher: Matcher, keys: list[tuple[str, str]], scope: Scope
) -> RowPlan:
    values = dict(values)
    if not values.get("name"):
        values["name"] = next(
            iter(
                [
                    *(values.get("hostnames") or []),
                    *(values.get("ips") or []),
                    *(values.get("macs") or []),
                    values.get("serial") or "",
                ]
            ),
        )
    try:
        data = AssetCreate(**values)
    except ValidationError as exc:
        return RowPlan(line=line, action="error", errors=_validation_errors(line, exc))
    if scope is not None and data.sector not in scope:
        return _error(line, "sector", f"sector {data.sector.value!r} is not one of your sectors")
    for key in keys:
        matcher.pending.setdefault(key, line)
    return RowPlan(line=line, action="create", name=data.name, data=data.model_dump(mode="json"))


def _plan_update(
    session: Session,
    line: int,
    values: dict[str, Any],
    asset_id: int,
    matched_on: str | None,
    scope: Scope,
) -> RowPlan:
    try:
        data = AssetUpdate(**values)
    except ValidationError as exc:
        return RowPlan(
            line=line, action="error", asset_id=asset_id, errors=_validation_errors(line, exc)
        )
    if scope is not None and data.sector is not None and data.sector not in scope:
        return _error(line, "sector", f"sector {data.sector.value!r} is not one of your sectors")
    asset = session.get(Asset, asset_id)
    assert asset is not None
    changes = diff_asset(asset, data)
    return RowPlan(
        line=line,
        action="update" if changes else "unchanged",
        asset_id=asset_id,
        matched_on=matched_on,
        name=asset.name,
        changes=changes,
        data=data.model_dump(mode="json", exclude_unset=True),
    )


def apply(
    session: Session, preview: ImportPreview, *, actor: Actor, clock: Clock, scope: Scope = None
) -> ImportPreview:
    """Write the planned creates and updates (rows with errors are skipped: they are already
    reported). Returns the preview marked applied, with the ids of created assets."""
    rows: list[RowPlan] = []
    for row in preview.rows:
        if row.action == "create":
            created = create_asset(
                session, AssetCreate(**row.data), actor=actor, clock=clock, scope=scope
            )
            row = row.model_copy(update={"asset_id": created.id})
        elif row.action == "update" and row.asset_id is not None:
            update_asset(
                session,
                row.asset_id,
                AssetUpdate(**row.data),
                actor=actor,
                clock=clock,
                scope=scope,
                action="asset.import_update",
            )
        rows.append(row)
    result = preview.model_copy(update={"rows": rows, "applied": True})
    counts = result.counts
    audit.record(
        session,
        actor=actor,
        action="asset.import",
        entity_type="asset_import",
        entity_id=preview.source[:200],
        clock=clock,
        summary=(
            f"imported {preview.source}: {counts['create']} created, {counts['update']} updated, "
            f"{counts['unchanged']} unchanged, {counts['error']} rows refused"
        ),
        changes=counts,
    )
    return result
