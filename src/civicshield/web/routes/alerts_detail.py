"""One alert: the rule (title, id, file, author: the Detection Rule License asks that it is
always shown) and its YAML when the catalogue has it, ATT&CK, the asset, sample raw events as
escaped text, a prefilled hunt over them, the triage form with undo, the history, and
"Suppress similar" (prefilled from the domain's `similar` proposal).

An alert outside the reader's sectors answers 404 like a missing one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import alerts
from civicshield.accounts import Permission
from civicshield.alerts import TRANSITIONS, AlertDetail, AlertStatus, SuppressionCreate
from civicshield.core import ConfigError
from civicshield.core.errors import Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.detect.catalog import load_catalog, read_source
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.alerts import (
    ReadPage,
    SuppressPage,
    TriagePage,
    alert_values,
    run_triage,
    scope_of,
)
from civicshield.web.routes.incidents import ManagePage, open_case, open_cases
from civicshield.web.routes.rules import attack_url

__all__ = ["router"]

router = APIRouter()

_EXPIRY_DAYS = 30  # what "suppress similar" proposes; empty means it never expires
_MESSAGES = {
    "done": N_("The alert is now “%(status)s”."),
    "undone": N_("The last step was undone."),
    "suppressed": N_("Similar alerts are suppressed from now on."),
    "days": N_("Enter a number of days from 1 to 3650, or leave it empty for no expiry."),
    "reason": N_("Similar to alert %(id)s"),
}
_ORDER = list(AlertStatus)
_ACTION_OF = {status: action for action, status in alerts.ACTIONS.items()}


def _message(page: Page, key: str, **values: Any) -> str:
    message = _MESSAGES[key]
    return page.gettext(message, **values)


def _load(page: Page, alert_id: int) -> AlertDetail:
    with page.runtime.session() as session:
        return alerts.get_alert(session, alert_id, scope=scope_of(page))


def _rule_source(page: Page, rule_id: str) -> str | None:
    """The rule's YAML when the compiled catalogue knows the rule (a page never builds it)."""
    try:
        catalog = load_catalog(page.runtime.settings)
    except ConfigError:
        return None
    rule = catalog.get(rule_id) if catalog is not None else None
    return read_source(catalog, rule) if catalog is not None and rule is not None else None


def _hunt_url(detail: AlertDetail) -> str:
    """`/hunt` over the alert's dataset and time range, narrowed to its key fields."""
    where = " AND ".join(
        "\"{}\" = '{}'".format(k.replace('"', ""), v.replace("'", "''"))
        for k, v in sorted(detail.key_fields.items())
    )
    # Not run here: it prefills the hunt form, which runs a person's read-only Polars SQL anyway.
    sql = "SELECT * FROM events" + (f" WHERE {where}" if where else "")  # noqa: S608
    start = detail.first_seen - timedelta(minutes=5)
    end = detail.last_seen + timedelta(minutes=5)
    return "/hunt?" + urlencode(
        {
            "sql": sql,
            "since": start.isoformat(),
            "until": end.isoformat(),
            "dataset": detail.dataset,
        }
    )


def _render(
    page: Page,
    detail: AlertDetail,
    *,
    status: int = 200,
    error: str | None = None,
    suppress: dict[str, Any] | None = None,
    suppress_errors: dict[str, str] | None = None,
    case_error: str | None = None,
) -> Response:
    allowed = TRANSITIONS[detail.status]
    message = None
    done = page.query("done")
    if done in alerts.ACTIONS:
        message = _message(page, "done", status=page.gettext(alerts.ACTIONS[done].label))
    elif page.query("undone") == "1":
        message = _message(page, "undone")
    elif page.query("suppressed") == "1":
        message = _message(page, "suppressed")
    return page.render(
        "alerts/detail.html",
        status=status,
        a=detail,
        source=_rule_source(page, detail.rule_id),
        attack_url=attack_url,
        hunt_url=_hunt_url(detail) if page.can(Permission.EVENTS_READ) else None,
        actions=[_ACTION_OF[s] for s in sorted(allowed, key=_ORDER.index)],
        can_undo=any(not c.undone and c.action != "undo" for c in detail.changes),
        message=message,
        error=error,
        suppress=suppress or _proposal(page, detail),
        suppress_errors=suppress_errors or {},
        case_error=case_error,
        open_cases=open_cases(page) if page.can(Permission.INCIDENTS_MANAGE) else [],
        **alert_values(page),
    )


def _proposal(page: Page, detail: AlertDetail) -> dict[str, Any]:
    return {
        "rule": True,
        "fields": dict(detail.similar),
        "checked": set(detail.similar),
        "reason": _message(page, "reason", id=detail.id),
        "days": str(_EXPIRY_DAYS),
    }


@router.get("/alerts/{alert_id:int}")
def alert_detail(alert_id: int, page: ReadPage) -> Response:
    return _render(page, _load(page, alert_id))


@router.post("/alerts/{alert_id:int}/triage")
def alert_triage(alert_id: int, page: TriagePage) -> Response:
    detail = _load(page, alert_id)  # 404 first: outside the scope it does not exist
    result, error = run_triage(page, [alert_id])
    if result is None:
        return _render(page, detail, status=422, error=error)
    return page.redirect(f"/alerts/{alert_id}?done={page.field('action')}")


@router.post("/alerts/{alert_id:int}/undo")
def alert_undo(alert_id: int, page: TriagePage) -> Response:
    try:
        with page.runtime.session() as session:
            alerts.undo(
                session, alert_id, actor=page.actor, clock=page.runtime.clock, scope=scope_of(page)
            )
    except NotFound:
        _load(page, alert_id)  # a missing alert is a 404; no step left just shows the page
        return page.redirect(f"/alerts/{alert_id}")
    return page.redirect(f"/alerts/{alert_id}?undone=1")


@router.post("/alerts/{alert_id:int}/suppress")
def alert_suppress(alert_id: int, page: SuppressPage) -> Response:
    detail = _load(page, alert_id)
    checked = [name for name in page.fields("field") if name in detail.similar]
    fields = {name: page.field(f"value:{name}")[:200] for name in detail.similar}
    whole_rule, days = page.field("rule") == "1", page.field("days")
    posted: dict[str, Any] = {
        "rule": whole_rule,
        "fields": fields,
        "checked": set(checked),
        "reason": page.field("reason"),
        "days": days,
    }
    errors: dict[str, str] = {}
    expires = None
    if days:
        if not (days.isdigit() and 1 <= int(days) <= 3650):
            errors["days"] = _message(page, "days")
        else:
            expires = page.runtime.clock.now() + timedelta(days=int(days))
    if not errors:
        try:
            data = SuppressionCreate(
                rule_id=detail.rule_id if whole_rule else "",
                match={name: fields[name] for name in checked},
                reason=page.field("reason"),
                expires_at=expires,
            )
            with page.runtime.session() as session:
                alerts.create_suppression(session, data, actor=page.actor, clock=page.runtime.clock)
        except ValidationError as exc:
            errors = {str(e["loc"][0]): e["msg"] for e in exc.errors()}
        except Invalid as exc:
            errors = domain_errors(page, exc)
        else:
            return page.redirect(f"/alerts/{alert_id}?suppressed=1")
    return _render(page, detail, status=422, suppress=posted, suppress_errors=errors)


@router.post("/alerts/{alert_id:int}/case")
def alert_case(alert_id: int, page: ManagePage) -> Response:
    """ "Open a case" (no `case_id`) or "Add to case"; the case page on success."""
    detail = _load(page, alert_id)
    raw = page.field("case_id")
    case_id, error = open_case(page, [alert_id], int(raw) if raw.isdigit() else None)
    if case_id is None:
        return _render(page, detail, status=409, case_error=error)
    return page.redirect(f"/incidents/{case_id}?done=opened")
