"""The alert queue: one row per rule (severity, ATT&CK, counts, newest time, statuses) that
opens onto its alerts, filtered by a shareable GET form, with bulk triage as a plain CSRF post
(checked alerts, or every alert of a checked group) and an "Undo" notice after each step.

Keyboard triage (`static/alerts.js`) only presses the same buttons. Every call passes the
reader's sector scope. The detail page lives in `alerts_detail`, suppressions and ingest
health in `alerts_health`.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import alerts, assets
from civicshield.accounts import Permission
from civicshield.alerts import AlertFilter, AlertRead, AlertStatus, Resolution
from civicshield.core.enums import Sector, Severity
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.detect.eventstore import parse_since
from civicshield.detect.sigma.model import ATTACK_TACTICS
from civicshield.web.assets import STATIC_DIR
from civicshield.web.deps import require
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.assets import sectors_for
from civicshield.web.routes.incidents import ManagePage, open_case

__all__ = [
    "ReadPage",
    "SuppressPage",
    "TriagePage",
    "alert_values",
    "notice",
    "parse_ids",
    "router",
    "run_triage",
    "scope_of",
]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.ALERTS_READ))]
TriagePage = Annotated[Page, Depends(require(Permission.ALERTS_TRIAGE))]
SuppressPage = Annotated[Page, Depends(require(Permission.ALERTS_SUPPRESS))]

OPEN = "open"  # the default status filter: new, acknowledged and escalated
_FILTERS = ("since", "severity", "sector", "dataset", "status", "technique", "tactic", "q")
_SINCE = (("1h", N_("Last hour")), ("24h", N_("Last 24 hours")), ("7d", N_("Last 7 days")),
          ("30d", N_("Last 30 days")))  # fmt: skip
_QUEUE_LIMIT = 500  # alerts shown under their groups; the groups count all of them
_NOTICES = {
    "done": N_("%(count)s alert(s) set to “%(status)s”."),
    "undone": N_("The last step was undone on %(count)s alert(s)."),
    "none": N_("Nothing changed: the alerts already had that status."),
    "pick": N_("Choose at least one alert (or a whole group) first."),
}
# Versioned like app.js (the asset helper only knows the shared files): a new file, a new URL.
_JS = STATIC_DIR / "alerts.js"
SCRIPT_URL = "/static/alerts.js?v=" + hashlib.sha256(_JS.read_bytes()).hexdigest()[:12]


def scope_of(page: Page) -> frozenset[Sector] | None:
    scope = assets.scope_of(page.user)
    return None if scope is None else frozenset(scope)


def notice(page: Page, key: str, **values: Any) -> str:
    message = _NOTICES[key]  # looked up first: a literal key would be extracted as a msgid
    return page.gettext(message, **values)


def alert_values(page: Page) -> dict[str, Any]:
    """What every alert template uses: labels beside colours, the key-help script."""
    return {
        "nav_key": "alerts",
        "SECTOR": {s.value: s for s in Sector},
        "statuses": list(AlertStatus),
        "resolutions": list(Resolution),
        "alerts_js": SCRIPT_URL,
    }


def parse_ids(raw: list[str]) -> list[int]:
    """Alert ids from checkboxes: single ids, or a group's comma-separated ids."""
    out: list[int] = []
    for value in raw:
        out += [int(v) for v in value.split(",") if v.isdigit() and len(v) < 12]
    return list(dict.fromkeys(out))[:1000]


def _filters(page: Page) -> tuple[AlertFilter, dict[str, str]]:
    """The domain filter and the raw values shown back in the form (nonsense is ignored)."""
    raw = {name: page.query(name)[:100] for name in _FILTERS}
    raw["status"] = raw["status"] or OPEN
    since = None
    if raw["since"] in dict(_SINCE):
        since = parse_since(raw["since"], now=page.runtime.clock.now())
    chosen = AlertFilter(
        since=since,
        min_severity=Severity(raw["severity"])
        if raw["severity"] in Severity._value2member_map_
        else None,
        sectors=[Sector(raw["sector"])] if raw["sector"] in Sector._value2member_map_ else [],
        datasets=[raw["dataset"]] if raw["dataset"] else [],
        technique=raw["technique"][:20] or None,
        tactic=raw["tactic"] if raw["tactic"] in ATTACK_TACTICS else None,
        q=raw["q"] or None,
    )
    if raw["status"] == "any":
        chosen.statuses = []
    elif raw["status"] in AlertStatus._value2member_map_:
        chosen.statuses = [AlertStatus(raw["status"])]
    return chosen, raw


def _here(raw: dict[str, str]) -> str:
    query = urlencode([(k, v) for k, v in raw.items() if v and not (k == "status" and v == OPEN)])
    return f"/alerts?{query}" if query else "/alerts"


def _queue(page: Page, **extra: Any) -> dict[str, Any]:
    chosen, raw = _filters(page)
    scope = scope_of(page)
    with page.runtime.session() as session:
        groups = alerts.list_groups(session, chosen, scope=scope)
        found = alerts.list_alerts(session, chosen, limit=_QUEUE_LIMIT, scope=scope)
    by_rule: dict[str, list[AlertRead]] = {}
    for alert in found.items:
        by_rule.setdefault(alert.rule_id, []).append(alert)
    values: dict[str, Any] = {
        **alert_values(page),
        "groups": groups,
        "by_rule": by_rule,
        "total": found.total,
        "filters": raw,
        "here": _here(raw),
        "since_choices": _SINCE,
        "severities": list(reversed(Severity)),
        "SEVERITY": {s.value: s for s in Severity},
        "sectors": sectors_for(page),
        "tactics": sorted(ATTACK_TACTICS),
        "checked": set(),
        "bulk_values": {},
        "error": None,
        "message": None,
        "undo_ids": "",
    }
    done, count = page.query("done"), page.query("count")
    if done in alerts.ACTIONS and count.isdigit():
        status = alerts.ACTIONS[done]
        values["message"] = notice(page, "done", count=count, status=page.gettext(status.label))
        values["undo_ids"] = ",".join(str(i) for i in parse_ids([page.query("undo")]))
    elif page.query("undone").isdigit():
        values["message"] = notice(page, "undone", count=page.query("undone"))
    elif done == "none":
        values["message"] = notice(page, "none")
    values.update(extra)
    return values


@router.get("/alerts")
def queue(page: ReadPage) -> Response:
    return page.render("alerts/list.html", **_queue(page))


def _back(page: Page, default: str = "/alerts") -> str:
    """Where a form came from: only ever an alert page (no open redirect)."""
    target = page.field("next")
    ok = target == "/alerts" or target.startswith(("/alerts?", "/alerts/"))
    return target if ok and "//" not in target else default


def _with(url: str, **params: str) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + urlencode(params)


def run_triage(page: Page, ids: list[int]) -> tuple[dict[str, list[int]] | None, str | None]:
    """Apply the posted action to `ids`; the result, or the translated reason it failed."""
    action = page.field("action")
    raw_resolution = page.field("resolution")
    resolution = None
    if action == "close" and raw_resolution in Resolution._value2member_map_:
        resolution = Resolution(raw_resolution)
    try:
        with page.runtime.session() as session:
            result = alerts.triage(
                session,
                ids,
                action,
                resolution=resolution,
                reason=page.field("reason"),
                actor=page.actor,
                clock=page.runtime.clock,
                scope=scope_of(page),
            )
    except Invalid as exc:
        return None, "; ".join(domain_errors(page, exc).values())
    except (Conflict, NotFound) as exc:
        return None, exc.detail
    return result, None


@router.post("/alerts/triage")
def bulk_triage(page: TriagePage) -> Response:
    ids = parse_ids(page.fields("ids") + page.fields("group"))
    back = _back(page)
    if not ids:
        error: str | None = notice(page, "pick")
    else:
        result, error = run_triage(page, ids)
        if result is not None:
            changed = result["changed"]
            if not changed:
                return page.redirect(_with(back, done="none"))
            undo = ",".join(map(str, result["steps"]))
            done = {"done": page.field("action"), "count": str(len(changed)), "undo": undo}
            return page.redirect(_with(back, **done))
    posted = {name: page.field(name) for name in ("action", "resolution", "reason")}
    values = _queue(page, error=error, bulk_values=posted, checked=set(ids))
    return page.render("alerts/list.html", status=409 if ids else 422, **values)


@router.post("/alerts/undo")
def bulk_undo(page: TriagePage) -> Response:
    """Undo exactly the steps the action just did (their ids are in the notice); a step whose
    alert someone triaged since is left alone."""
    with page.runtime.session() as session:
        done = alerts.undo_steps(
            session,
            parse_ids(page.fields("ids")),
            actor=page.actor,
            clock=page.runtime.clock,
            scope=scope_of(page),
        )
    return page.redirect(_with(_back(page), undone=str(len(done))))


@router.post("/alerts/case")
def bulk_case(page: ManagePage) -> Response:
    """ "Open a case with the checked alerts": the case page, or the queue with the reason."""
    ids = parse_ids(page.fields("ids") + page.fields("group"))
    if not ids:
        return page.render(
            "alerts/list.html", status=422, **_queue(page, error=notice(page, "pick"))
        )
    case_id, error = open_case(page, ids, None)
    if case_id is None:
        return page.render(
            "alerts/list.html", status=409, **_queue(page, error=error, checked=set(ids))
        )
    return page.redirect(f"/incidents/{case_id}?done=opened")
