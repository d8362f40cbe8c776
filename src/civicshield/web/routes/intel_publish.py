"""The publish queue pages: the queue with each publication's status and a form to prepare
one (intel:manage), and a publication's preview (every change and refusal the sharing policy
made) with approve / reject (intel:approve) and publish (intel:manage) buttons."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield.accounts import Permission
from civicshield.core.errors import CivicShieldError, Conflict, Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.intel import sharing
from civicshield.web.deps import require
from civicshield.web.page import Page

__all__ = ["ACTIONS", "RULES", "STATUS_BADGES", "STATUS_LABELS", "router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.INTEL_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.INTEL_MANAGE))]
ApprovePage = Annotated[Page, Depends(require(Permission.INTEL_APPROVE))]

STATUS_LABELS: dict[str, str] = {
    "draft": N_("Ready to publish"),
    "awaiting_approval": N_("Awaiting approval"),
    "published": N_("Sent to the collection"),
    "refused": N_("Refused by the policy"),
    "rejected": N_("Rejected"),
    "failed": N_("Delivery failed"),
}
# The badge colours of the job statuses, whose contrast the accessibility test checks.
STATUS_BADGES: dict[str, str] = {
    "draft": "badge-job-queued",
    "awaiting_approval": "badge-job-running",
    "published": "badge-job-succeeded",
    "refused": "badge-job-failed",
    "rejected": "badge-job-cancelled",
    "failed": "badge-job-failed",
}
ACTIONS: dict[str, str] = {
    "marked": N_("TLP marking added"),
    "removed": N_("Removed"),
    "pseudonymised": N_("Pseudonymised"),
    "redacted": N_("Redacted"),
}
RULES: dict[str, str] = {
    "tlp-default": N_("Default TLP for unmarked objects"),
    "tlp-multi-city": N_("TLP too strict for a multi-city audience"),
    "tlp-collection": N_("Stricter than the collection's TLP"),
    "internal-address": N_("Internal address"),
    "internal-property": N_("Internal property"),
    "personal-email": N_("E-mail address"),
    "personal-phone": N_("Phone number"),
    "personal-name": N_("Person's name"),
    "never-shared": N_("Never shared"),
    "unknown-object": N_("Not in the intel store"),
    "stix-valid": N_("Not valid STIX after the policy"),
}
_IDS = re.compile(r"[\s,]+")
_FIELDS = ("object_ids", "collection_uuid", "subscription_id")


def _values(**extra: Any) -> dict[str, Any]:
    return {
        "nav_key": "intel", "tab": "publish", "STATUS_LABELS": STATUS_LABELS,
        "STATUS_BADGES": STATUS_BADGES, "ACTIONS": ACTIONS, "RULES": RULES, **extra,
    }  # fmt: skip


def _queue(page: Page, *, status: int = 200, **extra: Any) -> Response:
    chosen = page.query("status")
    chosen = chosen if chosen in STATUS_LABELS else ""
    with page.runtime.session() as session:
        items, total = sharing.list_publications(session, status=chosen or None, limit=200)
    values = _values(items=items, total=total, chosen=chosen, form_error=None,
                     form=dict.fromkeys(_FIELDS, ""))  # fmt: skip
    values.update(extra)
    return page.render("intel/publish.html", status=status, **values)


@router.get("/intel/publish")
def publish_queue(page: ReadPage) -> Response:
    return _queue(page)


def _target(form: dict[str, str]) -> sharing.PublicationTarget:
    collection, subscription = form["collection_uuid"] or None, form["subscription_id"] or None
    if (collection is None) == (subscription is None):
        raise Invalid("give exactly one target: a collection uuid or a peer subscription number")
    if subscription is not None and not subscription.isdigit():
        raise Invalid(f"subscription {subscription!r} is not a number")
    return sharing.PublicationTarget(
        collection_uuid=collection, subscription_id=int(subscription) if subscription else None
    )


@router.post("/intel/publish")
def publish_prepare(page: ManagePage) -> Response:
    form = {name: page.field(name)[:20_000].strip() for name in _FIELDS}
    ids = [i for i in _IDS.split(form["object_ids"]) if i][:1000]
    try:
        if not ids:
            raise Invalid("list at least one STIX id to publish")
        target = _target(form)
        with page.runtime.session() as session:
            made = sharing.prepare(
                session, ids, target, actor=page.actor, settings=page.runtime.settings,
                now=page.runtime.clock.now(),
            )  # fmt: skip
    except (Invalid, NotFound, Conflict) as exc:
        return _queue(page, status=422, form_error=exc.detail, form=form)
    return page.redirect(f"/intel/publish/{made.id}")


def _detail(page: Page, publication_id: int, *, status: int = 200, error: str = "") -> Response:
    with page.runtime.session() as session:
        item = sharing.get_publication(session, publication_id)
    objects = [o for o in item.prepared.get("objects", []) if o.get("type") != "marking-definition"]
    return page.render(
        "intel/publish_detail.html", status=status,
        **_values(p=item, objects=objects, error=error, rejectable=("draft", "awaiting_approval")),
    )  # fmt: skip


@router.get("/intel/publish/{publication_id}")
def publish_detail(publication_id: int, page: ReadPage) -> Response:
    return _detail(page, publication_id)


def _act(page: Page, publication_id: int, verb: str) -> Response:
    now, actor = page.runtime.clock.now(), page.actor
    try:
        with page.runtime.session() as session:
            if verb == "approve":
                sharing.approve(session, publication_id, actor=actor, now=now)
            elif verb == "reject":
                reason = page.field("reason")[:2000]
                sharing.reject(session, publication_id, actor=actor, now=now, reason=reason)
            else:
                sharing.publish(session, publication_id, actor=actor,
                                settings=page.runtime.settings, now=now)  # fmt: skip
    except NotFound:
        raise
    except CivicShieldError as exc:
        return _detail(page, publication_id, status=409, error=exc.detail)
    # The page shows the new status; "saved" is the shared flash (web.messages.FLASH).
    return page.redirect(f"/intel/publish/{publication_id}", flash="saved")


@router.post("/intel/publish/{publication_id}/approve")
def publish_approve(publication_id: int, page: ApprovePage) -> Response:
    return _act(page, publication_id, "approve")


@router.post("/intel/publish/{publication_id}/reject")
def publish_reject(publication_id: int, page: ApprovePage) -> Response:
    return _act(page, publication_id, "reject")


@router.post("/intel/publish/{publication_id}/send")
def publish_send(publication_id: int, page: ManagePage) -> Response:
    return _act(page, publication_id, "send")
