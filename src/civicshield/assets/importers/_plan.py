"""The format-neutral half of an import: match rows to existing assets, plan, apply.

Merge precedence (first that hits wins): any MAC, then any host name, then any IP in the same
zone, then the serial number, then (SBOMs) the package URL without version. A row whose
identifiers point at two different assets, or at an asset another row of the same file already
claims, is an error, never a guess. A row may carry software items; they are planned against
the asset's stored components (`software.plan_software`) and written by `apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.assets._normalise import normalise_hostname, normalise_ip, normalise_mac, unique
from civicshield.assets.importers._match import KINDS, Matcher, describe, keys_of
from civicshield.assets.importers._preview import ImportPreview, RowError, RowPlan
from civicshield.assets.models import Asset
from civicshield.assets.schemas import AssetCreate, AssetUpdate, SoftwareItem
from civicshield.assets.service import Scope, create_asset, diff_asset, update_asset
from civicshield.assets.software import plan_software, upsert_software
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock

__all__ = ["ImportPreview", "Matcher", "RowError", "RowOptions", "RowPlan", "apply", "plan_row"]

_LISTS = ("macs", "hostnames", "ips")


@dataclass
class RowOptions:
    """What a non-CSV importer adds to a row. `create_values` apply to new assets only (the
    caller's defaults and values such as a MAC vendor); `merge_lists` keeps stored IPs, MACs
    and host names a scan did not see; `match_purl` lets an SBOM's root match by package URL."""

    create_values: dict[str, Any] = field(default_factory=dict)
    merge_lists: bool = False
    match_purl: str | None = None
    target_asset_id: int | None = None
    software: list[SoftwareItem] | None = None
    software_source: str | None = None
    warnings: list[RowError] = field(default_factory=list)


def _validation_errors(line: int, exc: ValidationError) -> list[RowError]:
    return [
        RowError(
            line=line,
            column=str(err["loc"][0]) if err["loc"] else None,
            message=str(err["msg"]).removeprefix("Value error, "),
        )
        for err in exc.errors()
    ]


def _error(line: int, column: str | None, message: str, options: RowOptions) -> RowPlan:
    error = RowError(line=line, column=column, message=message)
    return RowPlan(line=line, action="error", errors=[error], warnings=options.warnings)


def plan_row(
    session: Session,
    matcher: Matcher,
    line: int,
    values: dict[str, Any],
    scope: Scope,
    options: RowOptions | None = None,
) -> RowPlan:
    """Decide what one row (already converted to typed values) does."""
    opts = options or RowOptions()
    values = dict(values)
    for column, normalise in zip(
        _LISTS, (normalise_mac, normalise_hostname, normalise_ip), strict=True
    ):
        if column not in values:
            continue
        try:
            values[column] = unique(normalise(v) for v in values[column])
        except ValueError as exc:
            return _error(line, column, str(exc), opts)
    if opts.target_asset_id is not None:
        return _plan_target(session, matcher, line, values, scope, opts)
    keys = keys_of(
        values.get("zone") or opts.create_values.get("zone") or "",
        values.get("macs") or [],
        values.get("hostnames") or [],
        values.get("ips") or [],
        values.get("serial"),
        opts.match_purl,
    )
    if not keys:
        why = (
            "(or a package URL): pass a target asset to attach it to"
            if opts.software is not None
            else "(so that importing it again updates instead of duplicating)"
        )
        msg = f"a row needs at least one of macs, hostnames, ips or serial {why}"
        return _error(line, None, msg, opts)
    match_id: int | None = None
    matched_on: str | None = None
    for kind in KINDS:
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
                kind if kind in ("serial", "purl") else f"{kind}s",
                f"the row's {kind} identifiers match several assets ({listed})",
                opts,
            )
        if ids:
            match_id, key = next(iter(hits))
            matched_on = describe(key)
            break
        pending = [matcher.pending[k] for k in keys if k[0] == kind and k in matcher.pending]
        if pending:
            return _error(
                line,
                None,
                f"line {pending[0]} of this file already creates an asset "
                f"with the same {kind}; merge the two rows",
                opts,
            )
    if match_id is None:
        return _plan_create(session, line, values, matcher, keys, scope, opts)
    return _claim(session, matcher, line, values, match_id, matched_on, scope, opts)


def _plan_target(
    session: Session,
    matcher: Matcher,
    line: int,
    values: dict[str, Any],
    scope: Scope,
    opts: RowOptions,
) -> RowPlan:
    asset_id = opts.target_asset_id
    assert asset_id is not None
    if asset_id not in matcher.sectors:
        return _error(line, None, f"target asset {asset_id} does not exist", opts)
    return _claim(session, matcher, line, values, asset_id, f"target asset {asset_id}", scope, opts)


def _claim(
    session: Session,
    matcher: Matcher,
    line: int,
    values: dict[str, Any],
    match_id: int,
    matched_on: str | None,
    scope: Scope,
    opts: RowOptions,
) -> RowPlan:
    if scope is not None and matcher.sectors[match_id] not in scope:
        if opts.target_asset_id is not None:
            return _error(line, None, f"target asset {match_id} does not exist", opts)
        return _error(
            line, None, f"matches an asset ({matched_on}) in a sector you may not change", opts
        )
    if match_id in matcher.claimed:
        return _error(
            line,
            None,
            f"line {matcher.claimed[match_id]} of this file already updates "
            f"asset {match_id} ({matched_on})",
            opts,
        )
    matcher.claimed[match_id] = line
    return _plan_update(session, line, values, match_id, matched_on, scope, opts)


def _with_software(
    session: Session, plan: RowPlan, asset_id: int | None, opts: RowOptions
) -> RowPlan:
    if opts.software is None or opts.software_source is None:
        return plan
    software_plan = plan_software(session, asset_id, opts.software, source=opts.software_source)
    action = plan.action
    if action == "unchanged" and software_plan.changed:
        action = "update"
    return plan.model_copy(
        update={
            "action": action,
            "software": opts.software,
            "software_source": opts.software_source,
            "software_plan": software_plan,
        }
    )


def _plan_create(
    session: Session,
    line: int,
    values: dict[str, Any],
    matcher: Matcher,
    keys: list[tuple[str, str]],
    scope: Scope,
    opts: RowOptions,
) -> RowPlan:
    values = {**opts.create_values, **values}
    if (opts.software is not None or opts.create_values) and values.get("sector") is None:
        return _error(line, "sector", "sector required: pass a default sector", opts)
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
        errors = _validation_errors(line, exc)
        return RowPlan(line=line, action="error", errors=errors, warnings=opts.warnings)
    if scope is not None and data.sector not in scope:
        msg = f"sector {data.sector.value!r} is not one of your sectors"
        return _error(line, "sector", msg, opts)
    for key in keys:
        matcher.pending.setdefault(key, line)
    plan = RowPlan(
        line=line,
        action="create",
        name=data.name,
        data=data.model_dump(mode="json"),
        warnings=opts.warnings,
    )
    return _with_software(session, plan, None, opts)


def _plan_update(
    session: Session,
    line: int,
    values: dict[str, Any],
    asset_id: int,
    matched_on: str | None,
    scope: Scope,
    opts: RowOptions,
) -> RowPlan:
    asset = session.get(Asset, asset_id)
    assert asset is not None
    if opts.merge_lists:
        for column in _LISTS:
            if column in values:
                values[column] = unique([*getattr(asset, column), *values[column]])
    try:
        data = AssetUpdate(**values)
    except ValidationError as exc:
        errors = _validation_errors(line, exc)
        return RowPlan(
            line=line, action="error", asset_id=asset_id, errors=errors, warnings=opts.warnings
        )
    if scope is not None and data.sector is not None and data.sector not in scope:
        msg = f"sector {data.sector.value!r} is not one of your sectors"
        return _error(line, "sector", msg, opts)
    changes = diff_asset(asset, data)
    plan = RowPlan(
        line=line,
        action="update" if changes else "unchanged",
        asset_id=asset_id,
        matched_on=matched_on,
        name=asset.name,
        changes=changes,
        data=data.model_dump(mode="json", exclude_unset=True),
        warnings=opts.warnings,
    )
    return _with_software(session, plan, asset_id, opts)


def apply(
    session: Session, preview: ImportPreview, *, actor: Actor, clock: Clock, scope: Scope = None
) -> ImportPreview:
    """Write the planned creates and updates, with their software (rows with errors are
    skipped: they are already reported). Returns the preview marked applied, with the ids of
    created assets."""
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
        if (
            row.action in ("create", "update")
            and row.asset_id is not None
            and row.software is not None
            and row.software_source is not None
        ):
            upsert_software(
                session,
                row.asset_id,
                row.software,
                source=row.software_source,
                actor=actor,
                clock=clock,
                scope=scope,
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
            f"imported {preview.source} ({preview.format}): {counts['create']} created, "
            f"{counts['update']} updated, {counts['unchanged']} unchanged, "
            f"{counts['error']} rows refused"
        ),
        changes=counts,
    )
    return result
