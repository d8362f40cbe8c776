"""The case list (`/incidents`): filters in a shareable GET form (open or any status, sector,
title search), newest first, and a "New case" form for people who manage incidents.

`open_case` is the one way the alert pages turn alerts into a case (a new one, or added to an
open one); the case page itself lives in `incidents_detail`. Every call passes the reader's
sector scope: a case outside it answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import assets, incidents
from civicshield.accounts import Permission
from civicshield.core.enums import Sector, Severity
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.incidents import CaseCreate, CaseFromAlerts, CaseRead, CaseStatus
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, domain_errors, offset_param, schema_errors
from civicshield.web.page import Page
from civicshield.web.routes.assets import sectors_for

__all__ = [
    "ManagePage",
    "ReadPage",
    "case_values",
    "open_case",
    "open_cases",
    "router",
    "scope_of",
]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.INCIDENTS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.INCIDENTS_MANAGE))]

OPEN = "open"  # the default status filter: every case not closed
_CREATE_MESSAGES = {
    "title": N_("Give the case a title of 3 to 300 characters."),
    "description": N_("The description is too long (20,000 characters at most)."),
    "severity": N_("Choose a severity."),
    "sectors": N_("Choose at least one of your sectors."),
    "*": N_("Check this field."),
}


def scope_of(page: Page) -> frozenset[Sector] | None:
    scope = assets.scope_of(page.user)
    return None if scope is None else frozenset(scope)


def case_values(page: Page) -> dict[str, Any]:
    """What every incident template uses: labels beside colours."""
    return {
        "nav_key": "incidents",
        "SECTOR": {s.value: s for s in Sector},
        "SEVERITY": {s.value: s for s in Severity},
        "severities": list(reversed(Severity)),
        "case_statuses": list(CaseStatus),
    }


def open_cases(page: Page, limit: int = 200) -> list[CaseRead]:
    """Open cases the reader may add alerts to (the "Add to case" select)."""
    with page.runtime.session() as session:
        return incidents.list_cases(
            session, open_only=True, limit=limit, scope=scope_of(page)
        ).items


def open_case(page: Page, alert_ids: list[int], case_id: int | None) -> tuple[int | None, str]:
    """Escalate `alert_ids` into a new case, or add them to `case_id`: the case's id, or None
    and the reason it was refused (an alert already in another case, a closed case...)."""
    try:
        data = CaseFromAlerts(
            alert_ids=alert_ids,
            case_id=case_id,
            reason=(page.field("case_reason") or page.field("reason"))[:2000],
        )
        with page.runtime.session() as session:
            case = incidents.open_from_alerts(
                session, data, actor=page.actor, clock=page.runtime.clock, scope=scope_of(page)
            )
    except ValidationError:
        return None, page.gettext(N_("Choose at least one alert (at most 1,000)."))
    except Invalid as exc:
        return None, "; ".join(domain_errors(page, exc).values())
    except (Conflict, NotFound) as exc:
        return None, exc.detail
    return case.id, ""


def _filters(page: Page) -> dict[str, str]:
    raw = {name: page.query(name)[:200] for name in ("status", "sector", "q")}
    raw["status"] = (
        raw["status"] if raw["status"] in (OPEN, "any", *CaseStatus._value2member_map_) else OPEN
    )
    raw["sector"] = raw["sector"] if raw["sector"] in Sector._value2member_map_ else ""
    return raw


def _list(page: Page, **extra: Any) -> dict[str, Any]:
    raw = _filters(page)
    offset = offset_param(page)
    status = [CaseStatus(raw["status"])] if raw["status"] in CaseStatus._value2member_map_ else []
    with page.runtime.session() as session:
        found = incidents.list_cases(
            session,
            status=status,
            open_only=raw["status"] == OPEN,
            sector=Sector(raw["sector"]) if raw["sector"] else None,
            q=raw["q"] or None,
            limit=PAGE_SIZE,
            offset=offset,
            scope=scope_of(page),
        )
    values: dict[str, Any] = {
        **case_values(page),
        "cases": found.items,
        "pager": Pager.of(page, found.total, offset),
        "filters": raw,
        "sectors": sectors_for(page),
        "form": {"title": "", "severity": Severity.MEDIUM.value, "sectors": [], "description": ""},
        "errors": {},
    }
    values.update(extra)
    return values


@router.get("/incidents")
def case_list(page: ReadPage) -> Response:
    return page.render("incidents/list.html", **_list(page))


@router.post("/incidents")
def case_create(page: ManagePage) -> Response:
    allowed = {s.value for s in sectors_for(page)}
    picked = [s for s in page.fields("sectors") if s in allowed]
    posted = {
        "title": page.field("title"),
        "severity": page.field("severity"),
        "sectors": picked,
        "description": page.field("description"),
    }
    errors: dict[str, str] = {}
    if scope_of(page) is not None and not picked:
        # A sector operator's case outside their sectors would vanish from their own view.
        errors["sectors"] = page.gettext(_CREATE_MESSAGES["sectors"])
    else:
        try:
            data = CaseCreate.model_validate(posted)
            with page.runtime.session() as session:
                case = incidents.create_case(
                    session, data, actor=page.actor, clock=page.runtime.clock
                )
        except ValidationError as exc:
            errors = schema_errors(page, exc, _CREATE_MESSAGES)
        except Invalid as exc:
            errors = domain_errors(page, exc)
        else:
            return page.redirect(f"/incidents/{case.id}")
    return page.render("incidents/list.html", status=422, **_list(page, form=posted, errors=errors))
