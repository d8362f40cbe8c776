"""The peers page: peer cities' TAXII servers (approval, last probe), our subscriptions to
their collections (last pull, counts, errors), and for `intel:manage` the forms to add a
peer, probe it, subscribe to one of its collections, pull now and remove."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import SecretStr, ValidationError
from starlette.responses import Response

from civicshield.accounts import Permission
from civicshield.core.errors import CivicShieldError
from civicshield.core.i18n import N_
from civicshield.intel import peers
from civicshield.web.deps import require
from civicshield.web.page import Page

__all__ = ["AUTH_KINDS", "router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.INTEL_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.INTEL_MANAGE))]

AUTH_KINDS: dict[str, str] = {
    "basic": N_("User name and password (HTTP Basic)"),
    "token": N_("API token"),
    "none": N_("None"),
}
_ADD_FIELDS = ("name", "city", "discovery_url", "auth", "username")


def _collections(peer: peers.PeerRead) -> list[dict[str, Any]]:
    """The collections the last probe found, as choices for the subscribe form."""
    found = []
    for root in peer.last_probe.get("roots", []):
        for col in root.get("collections", []):
            found.append({**col, "root": root["url"], "value": f"{root['url']}|{col['id']}"})
    return found


def _render(page: Page, *, status: int = 200, **extra: Any) -> Response:
    with page.runtime.session() as session:
        found = peers.list_peers(session)
        subs = peers.list_subscriptions(session)
    values: dict[str, Any] = {
        "nav_key": "intel",
        "tab": "peers",
        "peers": found,
        "subs_of": {p.id: [s for s in subs if s.peer_id == p.id] for p in found},
        "collections_of": {p.id: _collections(p) for p in found},
        "AUTH_KINDS": AUTH_KINDS,
        "add_values": {"auth": "basic"},
        "add_errors": {},
        "error": None,
        "outcome": None,
        "pulled": None,
    }
    values.update(extra)
    return page.render("intel/peers.html", status=status, **values)


@router.get("/intel/peers")
def peers_page(page: ReadPage) -> Response:
    return _render(page)


def _validation_errors(exc: ValidationError) -> dict[str, str]:
    return {str(e["loc"][0]): e["msg"] for e in exc.errors() if e["loc"]}


@router.post("/intel/peers")
def peers_add(page: ManagePage) -> Response:
    posted = {name: page.field(name)[:1000] for name in _ADD_FIELDS}
    try:
        data = peers.PeerCreate(**posted, secret=SecretStr(page.field("secret")[:1000]))
        with page.runtime.session() as session:
            peers.add_peer(
                session, data, settings=page.runtime.settings, actor=page.actor,
                clock=page.runtime.clock,
            )  # fmt: skip
    except ValidationError as exc:
        return _render(page, status=422, add_values=posted, add_errors=_validation_errors(exc))
    except CivicShieldError as exc:
        return _render(page, status=422, add_values=posted, error=exc.detail)
    return page.redirect("/intel/peers", flash="peer_added")


def _peer_id(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) < 12 else 0


@router.post("/intel/peers/{peer_id}/probe")
def peers_probe(peer_id: str, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            peer = peers.probe_peer(
                session, _peer_id(peer_id), settings=page.runtime.settings,
                clock=page.runtime.clock,
            )  # fmt: skip
    except CivicShieldError as exc:
        return _render(page, status=422, error=exc.detail)
    if peer.last_error:
        return _render(page, status=502, error=peer.last_error)
    return _render(page, outcome=peer)


@router.post("/intel/peers/{peer_id}/subscribe")
def peers_subscribe(peer_id: str, page: ManagePage) -> Response:
    root, _, collection_id = page.field("collection")[:1100].partition("|")
    try:
        data = peers.SubscriptionCreate(
            peer_id=_peer_id(peer_id), api_root_url=root, collection_id=collection_id,
            pull=page.field("pull") == "on", multi_city=page.field("multi_city") == "on",
        )  # fmt: skip
        with page.runtime.session() as session:
            peers.subscribe(
                session, data, settings=page.runtime.settings, actor=page.actor,
                clock=page.runtime.clock,
            )  # fmt: skip
    except ValidationError:
        return _render(page, status=422, error=page.gettext(N_("Choose a collection.")))
    except CivicShieldError as exc:
        return _render(page, status=422, error=exc.detail)
    return page.redirect("/intel/peers", flash="peer_subscribed")


@router.post("/intel/peers/{peer_id}/remove")
def peers_remove(peer_id: str, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            peers.remove_peer(
                session, _peer_id(peer_id), actor=page.actor, clock=page.runtime.clock
            )
    except CivicShieldError as exc:
        return _render(page, status=422, error=exc.detail)
    return page.redirect("/intel/peers", flash="peer_removed")


@router.post("/intel/peers/subscriptions/{subscription_id}/pull")
def peers_pull(subscription_id: str, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            result = peers.pull_subscription(
                session, _peer_id(subscription_id), settings=page.runtime.settings,
                actor=page.actor, clock=page.runtime.clock,
            )  # fmt: skip
    except CivicShieldError as exc:
        return _render(page, status=422, error=exc.detail)
    return _render(page, status=200 if result.ok else 502, pulled=result)
