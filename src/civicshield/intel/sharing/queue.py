"""The publish queue: prepare (run the policy, keep the preview), approve (the first
publication to a peer needs a second person with intel:approve), reject, publish (deliver and
record the result). Every step is audited. Functions flush; the caller commits.

Statuses: draft (ready to publish) -> published | failed; awaiting_approval -> draft
(approved) | rejected; refused when the policy held back every object."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.enums import Tlp
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.core.settings import Settings
from civicshield.intel.models import IntelObject, IntelPublication, IntelSubscription
from civicshield.intel.sharing.listing import (
    get_publication,
    list_publications,
    peer_of,
    person,
    publication_row,
    read_publication,
)
from civicshield.intel.sharing.policy import load_policy
from civicshield.intel.sharing.redact import Pseudonymiser, pseudonym_key
from civicshield.intel.sharing.rules import Refused, Target, apply_policy
from civicshield.intel.sharing.schemas import PublicationRead, PublicationTarget

__all__ = [
    "Delivery",
    "approve",
    "get_publication",
    "list_publications",
    "prepare",
    "publish",
    "reject",
]

MAX_OBJECTS = 1000


@dataclass(frozen=True)
class Delivery:
    """How publications leave; the defaults are the TAXII server's and the peers' client's
    functions (`intel.taxii.get_collection`/`add_objects`, `intel.peers.push_objects`)."""

    get_collection: Callable[..., Any] | None = None
    add_objects: Callable[..., Any] | None = None
    push_objects: Callable[..., Any] | None = None

    def resolve(self, name: str, module: str) -> Callable[..., Any]:
        func = getattr(self, name)
        if func is None:
            func = getattr(importlib.import_module(f"civicshield.intel.{module}"), name, None)
        if func is None:
            raise Conflict(f"civicshield.intel.{module}.{name} is not available in this build")
        return func  # type: ignore[no-any-return]


def _audit(
    session: Session,
    row: IntelPublication,
    actor: Actor,
    now: datetime,
    action: str,
    summary: str,
    **changes: Any,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"intel.publication.{action}",
        entity_type="intel_publication",
        entity_id=row.id,
        clock=FrozenClock(now),
        summary=summary,
        changes={"status": row.status, **changes},
    )


def _current_objects(
    session: Session, ids: Sequence[str]
) -> tuple[list[dict[str, Any]], list[Refused]]:
    found: list[dict[str, Any]] = []
    missing: list[Refused] = []
    for stix_id in ids:
        row = session.scalars(
            select(IntelObject)
            .where(IntelObject.stix_id == stix_id)
            .order_by(IntelObject.modified_key.desc())
            .limit(1)
        ).first()
        if row is None:
            missing.append(Refused(stix_id, "", "not in the intel store", "unknown-object"))
        else:
            found.append(dict(row.body))
    return found, missing


def _target(session: Session, target: PublicationTarget, delivery: Delivery) -> tuple[Target, str]:
    if target.collection_uuid is not None:
        info = delivery.resolve("get_collection", "taxii")(session, target.collection_uuid)
        tlp = getattr(info, "tlp", None)
        return Target(
            multi_city=bool(getattr(info, "multi_city", True)), tlp=Tlp(tlp) if tlp else None
        ), "collection"
    sub = session.get(IntelSubscription, target.subscription_id)
    if sub is None:
        raise NotFound(f"subscription {target.subscription_id} does not exist")
    if not sub.can_write:
        raise Invalid(f"subscription {sub.id}: we may not write to that peer collection")
    return Target(multi_city=sub.multi_city), "peer"


def _delivery_error(sent: Any) -> str:
    """The error a delivery reported without raising (the peers' client reports failures in
    its result: `status` "failed" and `error`)."""
    data: dict[str, Any] = (
        sent
        if isinstance(sent, dict)
        else {"error": getattr(sent, "error", None), "status": getattr(sent, "status", None)}
    )
    if data.get("error") or data.get("status") == "failed":
        return str(data.get("error") or "the receiving server reported the delivery failed")
    return ""


def prepare(
    session: Session,
    object_ids: Sequence[str],
    target: PublicationTarget,
    *,
    actor: Actor,
    settings: Settings,
    now: datetime,
    delivery: Delivery | None = None,
) -> PublicationRead:
    """Run the sharing policy over the current versions of `object_ids` for `target` and queue
    the result. Nothing leaves until `publish`."""
    ids = list(dict.fromkeys(object_ids))
    if not ids:
        raise Invalid("object_ids: give at least one STIX id to publish")
    if len(ids) > MAX_OBJECTS:
        raise Invalid(f"object_ids: at most {MAX_OBJECTS} objects per publication")
    aim, kind = _target(session, target, delivery or Delivery())
    objects, missing = _current_objects(session, ids)
    pseudonym = Pseudonymiser(pseudonym_key(settings.secret()))
    result = apply_policy(
        objects,
        load_policy(settings),
        aim,
        default_tlp=Tlp(settings.intel_default_tlp),
        pseudonym=pseudonym,
    )
    result.refusals[:0] = missing
    changes, refusals = result.as_lists()
    shared = [o for o in result.objects if o.get("type") != "marking-definition"]
    status = "draft"
    if not shared:
        status = "refused"
    elif kind == "peer":
        _, peer = peer_of(session, target.subscription_id)
        status = "draft" if peer.approved_at else "awaiting_approval"
    row = IntelPublication(
        target_kind=kind,
        collection_uuid=target.collection_uuid,
        subscription_id=target.subscription_id,
        status=status,
        requested_ids=ids,
        prepared=result.bundle() if shared else {},
        changes=changes,
        refusals=refusals,
        note="every object was refused by the sharing policy" if not shared else "",
        created_by=actor.label,
        created_at=now,
        result={
            "target": {"multi_city": aim.multi_city, "tlp": aim.tlp.value if aim.tlp else None}
        },
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        row,
        actor,
        now,
        "prepare",
        f"prepared {len(shared)} objects for {kind}: {len(changes)} changes, "
        f"{len(refusals)} refused",
        refused=[r["object_id"] for r in refusals],
    )
    return read_publication(session, row)


def approve(
    session: Session, publication_id: int, *, actor: Actor, now: datetime
) -> PublicationRead:
    """Approve the first publication to a peer (after seeing its preview); this approves the
    peer too. The approver must be someone other than who prepared it."""
    row = publication_row(session, publication_id)
    if row.status != "awaiting_approval":
        raise Conflict(f"publication {row.id} is {row.status}, not awaiting approval")
    if person(actor.label) == person(row.created_by):
        raise Conflict(
            f"publication {row.id} was prepared by {person(row.created_by)}; the approval "
            "must come from another person (four eyes)"
        )
    _, peer = peer_of(session, row.subscription_id)
    row.status, row.approved_by, row.approved_at = "draft", person(actor.label), now
    if peer.approved_at is None:
        peer.approved_at, peer.approved_by = now, person(actor.label)
    session.flush()
    _audit(
        session,
        row,
        actor,
        now,
        "approve",
        f"approved publication {row.id} to peer {peer.name}",
        peer=peer.name,
    )
    return read_publication(session, row)


def reject(
    session: Session, publication_id: int, *, actor: Actor, now: datetime, reason: str = ""
) -> PublicationRead:
    row = publication_row(session, publication_id)
    if row.status not in ("draft", "awaiting_approval"):
        raise Conflict(f"publication {row.id} is {row.status}; only queued ones can be rejected")
    row.status, row.note = "rejected", reason[:2000] or row.note
    session.flush()
    _audit(session, row, actor, now, "reject", f"rejected publication {row.id}", reason=reason)
    return read_publication(session, row)


def publish(
    session: Session,
    publication_id: int,
    *,
    actor: Actor,
    settings: Settings,
    now: datetime,
    delivery: Delivery | None = None,
) -> PublicationRead:
    """Deliver a draft publication; a delivery error marks it failed (with the error) and is
    recorded, not raised, so the failure is kept."""
    row = publication_row(session, publication_id)
    if row.status == "awaiting_approval":
        raise Conflict(f"publication {row.id} waits for approval by someone with intel:approve")
    if row.status != "draft":
        raise Conflict(f"publication {row.id} is {row.status}; only a draft can be published")
    how = delivery or Delivery()
    objects = list(row.prepared.get("objects", []))
    try:
        if row.target_kind == "peer":
            sub, peer = peer_of(session, row.subscription_id)
            if peer.approved_at is None:
                raise Conflict(f"peer {peer.name} has not been approved for publication")
            sent = how.resolve("push_objects", "peers")(
                session, sub.id, objects, settings=settings, now=now
            )
        else:
            sent = how.resolve("add_objects", "taxii")(
                session, row.collection_uuid, objects, added_by=actor.label, now=now
            )
    except Conflict:
        raise
    except Exception as exc:  # a peer or collection failing is recorded, not lost
        sent, problem = None, f"{type(exc).__name__}: {exc}"
    else:
        problem = _delivery_error(sent)
    dump = getattr(sent, "model_dump", None)
    row.result = {**row.result, "delivery": dump(mode="json") if dump else sent}
    if problem:
        row.status, row.error = "failed", problem[:2000]
        session.flush()
        _audit(session, row, actor, now, "fail", f"publication {row.id} failed: {row.error}")
        return read_publication(session, row)
    row.status, row.published_at, row.error = "published", now, ""
    session.flush()
    _audit(
        session, row, actor, now, "publish", f"published {len(objects)} objects ({row.target_kind})"
    )
    return read_publication(session, row)
