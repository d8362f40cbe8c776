"""One finding: its SSVC decision and why, the CVE's facts (CVSS per source, SSVC, KEV, EPSS),
what each source reported, the change history, and the status form (`vulns:manage`).

A finding outside the reader's sectors answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import vulns
from civicshield.accounts import Permission
from civicshield.core.errors import Invalid
from civicshield.vulns import FindingDetail
from civicshield.web.deps import require
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.vulns import labels, scope_of, status_change

__all__ = ["router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.VULNS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.VULNS_MANAGE))]

# Evidence keys each source writes; shown in this order, anything else after them.
_MATCHER_KEYS = ("why", "criterion", "asset_cpe", "match_criteria_id", "configuration")
_SCANNER_KEYS = ("title", "severity", "cvss_score", "cvss_vector", "epss", "fix_versions")
_VEX_KEYS = ("state", "justification", "detail", "response")


def _load(page: Page, finding_id: int) -> FindingDetail:
    with page.runtime.session() as session:
        return vulns.get_finding(
            session, finding_id, clock=page.runtime.clock, scope=scope_of(page)
        )


def _evidence(detail: FindingDetail) -> list[tuple[str, list[tuple[str, Any]], dict[str, Any]]]:
    """(source, ordered (key, value) facts, the rest) per source, matcher first."""
    out = []
    sources = sorted(detail.evidence, key=lambda s: (s != "matcher", s))
    for source in sources:
        data = detail.evidence.get(source)
        if not isinstance(data, dict):
            continue
        keys = (
            _MATCHER_KEYS
            if source == "matcher"
            else _VEX_KEYS
            if source == "vex"
            else _SCANNER_KEYS
        )
        facts = [(k, data[k]) for k in keys if data.get(k) not in (None, "", [], {})]
        rest = {k: v for k, v in data.items() if k not in keys and v not in (None, "", [], {})}
        out.append((source, facts, rest))
    return out


def _initial(detail: FindingDetail) -> dict[str, str]:
    until = detail.accepted_until
    return {
        "status": detail.status.value,
        "reason": detail.status_reason,
        "accepted_until": until.isoformat() if until else "",
        "approver": detail.approved_by,
    }


def _render(
    page: Page,
    detail: FindingDetail,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "vulns/detail.html",
        status=status,
        nav_key="vulnerabilities",
        f=detail,
        cve=detail.cve,
        evidence=_evidence(detail),
        values=values if values is not None else _initial(detail),
        errors=errors or {},
        **labels(page),
    )


@router.get("/vulns/findings/{finding_id}")
def finding_detail(finding_id: int, page: ReadPage) -> Response:
    return _render(page, _load(page, finding_id))


@router.post("/vulns/findings/{finding_id}")
def finding_status(finding_id: int, page: ManagePage) -> Response:
    detail = _load(page, finding_id)  # 404 first: outside the scope it does not exist
    posted = {name: page.field(name) for name in ("status", "reason", "accepted_until")}
    posted["approver"] = page.field("approver")
    change, errors = status_change(page)
    if change is None:
        return _render(page, detail, values=posted, errors=errors, status=422)
    try:
        with page.runtime.session() as session:
            vulns.change_status(
                session,
                finding_id,
                change,
                actor=page.actor,
                clock=page.runtime.clock,
                scope=scope_of(page),
            )
    except Invalid as exc:
        errors = domain_errors(page, exc, default_field="status")
        return _render(page, detail, values=posted, errors=errors, status=422)
    return page.redirect(f"/vulns/findings/{finding_id}", flash="saved")
