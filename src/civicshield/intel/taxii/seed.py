"""Seeding the TAXII server from a data file in the format of the OASIS reference server
(medallion): `/discovery`, then one key per API root with `information`, `status` and
`collections` (each with `objects` and their `manifest`). Our extensions (docs/taxii.md):
top-level `users` {name: password}; per collection `members` {name: {can_read, can_write}}
and `x_civicshield` {tlp, multi_city, topic}. A bad entry is reported with its JSON path and
left out; the rest loads."""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicshield.core import Tlp
from civicshield.core.errors import CivicShieldError
from civicshield.intel.taxii import admin
from civicshield.intel.taxii.models import (
    TaxiiApiRoot,
    TaxiiCollection,
    TaxiiEntry,
    TaxiiGrant,
    TaxiiMember,
    TaxiiStatus,
)
from civicshield.intel.taxii.schemas import SeedReport
from civicshield.intel.taxii.stix import (
    parse_timestamp,
    shape_problem,
    spec_version_of,
    version_of,
    version_time,
)

__all__ = ["clear", "seed"]

_RESERVED = ("/discovery", "users")


def clear(session: Session) -> None:
    """Remove every TAXII root, collection, object, status, member and grant."""
    for table in (TaxiiEntry, TaxiiGrant, TaxiiStatus, TaxiiCollection, TaxiiMember, TaxiiApiRoot):
        session.execute(delete(table))
    session.flush()


def _slug_of(url: Any) -> str | None:
    return url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) and url.strip("/") else None


def seed(
    session: Session,
    data: Any,
    *,
    hasher: PasswordHasher,
    now: datetime,
    users: dict[str, str] | None = None,
    replace: bool = False,
) -> SeedReport:
    report = SeedReport()
    if not isinstance(data, dict):
        report.problems.append(("$", "the data file must be a JSON object"))
        return report
    if replace:
        clear(session)
    disco = data.get("/discovery")
    if isinstance(disco, dict):
        report.discovery = {k: disco[k] for k in ("title", "description", "contact") if k in disco}
    default = _slug_of(disco.get("default")) if isinstance(disco, dict) else None
    _members(session, {**_users(data, report), **(users or {})}, hasher, now, report)
    for slug, root in data.items():
        if slug in _RESERVED:
            continue
        path = f"$['{slug}']"
        if not isinstance(root, dict):
            report.problems.append((path, "an API root must be a JSON object"))
            continue
        root_row = _root(session, slug, root, path, now, slug == default, report)
        if root_row is None:
            continue
        for i, status in enumerate(root.get("status") or []):
            _status(session, root_row, status, f"{path}.status[{i}]", now, report)
        for i, coll in enumerate(root.get("collections") or []):
            _collection(session, slug, coll, f"{path}.collections[{i}]", now, report)
    session.flush()
    return report


def _users(data: dict[str, Any], report: SeedReport) -> dict[str, str]:
    raw = data.get("users") or {}
    if not isinstance(raw, dict):
        report.problems.append(("$.users", "must be an object of name: password"))
        return {}
    good = {k: v for k, v in raw.items() if isinstance(v, str) and v}
    for name in sorted(set(raw) - set(good)):
        report.problems.append((f"$.users['{name}']", "the password must be a non-empty string"))
    return good


def _members(
    session: Session,
    users: dict[str, str],
    hasher: PasswordHasher,
    now: datetime,
    report: SeedReport,
) -> None:
    for name, password in users.items():
        try:
            admin.create_member(
                session, name, password, hasher=hasher, city="", api_root_slugs=[], now=now
            )
            report.members += 1
        except CivicShieldError as exc:
            report.problems.append((f"$.users['{name}']", exc.detail))


def _root(
    session: Session,
    slug: str,
    root: dict[str, Any],
    path: str,
    now: datetime,
    is_default: bool,
    report: SeedReport,
) -> TaxiiApiRoot | None:
    info = root.get("information") or {}
    existing = session.scalar(select(TaxiiApiRoot).where(TaxiiApiRoot.slug == slug))
    if existing is not None:
        return existing
    try:
        max_length = int(info.get("max_content_length") or 10 * 1024 * 1024)
        admin.create_api_root(
            session,
            slug,
            str(info.get("title") or slug),
            now=now,
            description=str(info.get("description") or ""),
            max_content_length=max_length,
            is_default=is_default,
        )
    except (CivicShieldError, ValueError, TypeError) as exc:
        report.problems.append((path, getattr(exc, "detail", str(exc))))
        return None
    report.api_roots += 1
    return session.scalar(select(TaxiiApiRoot).where(TaxiiApiRoot.slug == slug))


def _status(
    session: Session, root: TaxiiApiRoot, status: Any, path: str, now: datetime, report: SeedReport
) -> None:
    try:
        ident = str(uuidlib.UUID(status["id"]))
        when = (
            parse_timestamp(status.get("request_timestamp"))
            if status.get("request_timestamp")
            else now
        )
        lists = {k: list(status.get(k) or []) for k in ("successes", "failures", "pendings")}
        total = int(status.get("total_count", status.get("total_objects", 0)) or 0)
        if status.get("status") not in ("pending", "complete"):
            raise ValueError(f"'status' {status.get('status')!r} is not pending or complete")
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        report.problems.append((path, f"not a status resource: {exc}"))
        return
    if session.scalar(select(TaxiiStatus.id).where(TaxiiStatus.uuid == ident)):
        report.problems.append((path, f"status {ident} already exists"))
        return
    session.add(
        TaxiiStatus(
            uuid=ident,
            api_root_id=root.id,
            requested_by="",
            status=str(status.get("status")),
            request_timestamp=when,
            total_count=total,
            success_count=len(lists["successes"]),
            failure_count=len(lists["failures"]),
            pending_count=len(lists["pendings"]),
            **lists,
        )
    )
    report.statuses += 1


def _collection(
    session: Session, slug: str, coll: Any, path: str, now: datetime, report: SeedReport
) -> None:
    if not isinstance(coll, dict):
        report.problems.append((path, "a collection must be a JSON object"))
        return
    ours = coll.get("x_civicshield") or {}
    try:
        tlp = Tlp(ours["tlp"]) if ours.get("tlp") else None
        created = admin.create_collection(
            session,
            slug,
            str(coll.get("title") or ""),
            now=now,
            uuid=coll.get("id"),
            description=str(coll.get("description") or ""),
            alias=coll.get("alias"),
            can_read=bool(coll.get("can_read", True)),
            can_write=bool(coll.get("can_write")),
            media_types=list(coll.get("media_types") or []) or None,
            topic=str(ours.get("topic") or ""),
            tlp=tlp,
            multi_city=bool(ours.get("multi_city", True)),
        )
    except (CivicShieldError, ValueError, TypeError, AttributeError) as exc:
        report.problems.append((path, getattr(exc, "detail", str(exc))))
        return
    report.collections += 1
    row = admin.collection_by_uuid(session, created.uuid)
    _objects(session, row, coll, path, now, report)
    for name, rights in (coll.get("members") or {}).items():
        where = f"{path}.members['{name}']"
        if not isinstance(rights, dict):
            report.problems.append((where, "must be {can_read, can_write}"))
            continue
        try:
            admin.set_grant(
                session,
                name,
                created.uuid,
                can_read=bool(rights.get("can_read")),
                can_write=bool(rights.get("can_write")),
                now=now,
            )
            report.grants += 1
        except CivicShieldError as exc:
            report.problems.append((where, exc.detail))


def _objects(
    session: Session,
    row: TaxiiCollection,
    coll: dict[str, Any],
    path: str,
    now: datetime,
    report: SeedReport,
) -> None:
    manifest = {
        (m.get("id"), m.get("version")): m
        for m in coll.get("manifest") or []
        if isinstance(m, dict)
    }
    seen: set[tuple[str, str]] = set()
    for i, obj in enumerate(coll.get("objects") or []):
        where = f"{path}.objects[{i}]"
        if (problem := shape_problem(obj)) is not None:
            report.problems.append((where, problem))
            continue
        if (obj["id"], version_of(obj, now)) in seen:
            report.problems.append((where, "the same id and version appear twice"))
            continue
        seen.add((obj["id"], version_of(obj, now)))
        record = manifest.get((obj["id"], version_of(obj, now)), {})
        try:
            added = parse_timestamp(record["date_added"]) if "date_added" in record else now
        except ValueError as exc:
            report.problems.append((where, f"manifest date_added: {exc}"))
            continue
        spec = spec_version_of(obj)
        media = str(record.get("media_type") or f"application/stix+json;version={spec}")
        if media.rsplit("=", 1)[-1] in ("2.0", "2.1"):
            spec = media.rsplit("=", 1)[-1]
        version = version_of(obj, added)
        session.add(
            TaxiiEntry(
                collection_id=row.id,
                stix_id=obj["id"],
                type=obj["type"],
                version=version,
                version_at=version_time(version, added),
                spec_version=spec,
                media_type=media,
                date_added=added,
                added_by="seed",
                body=obj,
            )
        )
        report.objects += 1
    session.flush()
