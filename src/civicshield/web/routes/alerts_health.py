"""Suppressions (who hid what, why, until when, how much it hid; removable) and ingest health:
per source its status (ok, silent, learning), events/s, totals, quarantined records, last
event and arrival, lag, and the expected interval a person may set (`alerts:suppress`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from civicshield import alerts, telemetry
from civicshield.core.errors import Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.alerts import ReadPage, SuppressPage, alert_values

__all__ = ["SOURCE_STATUS", "router"]

router = APIRouter()

# Text beside each colour: a source's state in words.
SOURCE_STATUS: dict[str, tuple[str, str]] = {
    "ok": (N_("Reporting"), "status-ok"),
    "silent": (N_("Silent"), "status-bad"),
    "learning": (N_("Learning its rhythm"), "status-neutral"),
}
_MESSAGES = {
    "removed": N_("The suppression was removed: matching alerts are raised again."),
    "interval": N_("The expected interval was saved."),
    "minutes": N_("Enter whole minutes from 1 to 43,200 (30 days), or leave it empty to learn it."),
}


def _message(page: Page, key: str) -> str:
    message = _MESSAGES[key]
    return page.gettext(message)


@router.get("/alerts/suppressions")
def suppression_list(page: ReadPage) -> Response:
    everything = page.query("all") == "1"
    with page.runtime.session() as session:
        rows = alerts.list_suppressions(
            session, clock=page.runtime.clock, include_inactive=everything
        )
    message = _message(page, "removed") if page.query("removed") == "1" else None
    return page.render(
        "alerts/suppressions.html",
        rows=rows,
        everything=everything,
        message=message,
        now=page.runtime.clock.now(),
        **alert_values(page),
    )


@router.post("/alerts/suppressions/{suppression_id:int}/delete")
def suppression_delete(suppression_id: int, page: SuppressPage) -> Response:
    try:
        with page.runtime.session() as session:
            alerts.delete_suppression(
                session, suppression_id, actor=page.actor, clock=page.runtime.clock
            )
    except NotFound:
        pass  # removed already (a second click): the list shows the truth
    return page.redirect("/alerts/suppressions?removed=1")


def _health(page: Page, **extra: Any) -> Response:
    with page.runtime.session() as session:
        sources = telemetry.list_sources(
            session,
            clock=page.runtime.clock,
            factor=page.runtime.settings.source_silence_factor,
        )
        datasets = telemetry.list_datasets(session, clock=page.runtime.clock)
    values: dict[str, Any] = {
        "sources": sources,
        "datasets": datasets,
        "SOURCE_STATUS": SOURCE_STATUS,
        "totals": {
            "events": sum(s.events_total for s in sources),
            "quarantined": sum(s.quarantined_total for s in sources),
            "rate": sum(s.events_per_second for s in sources),
            "silent": sum(1 for s in sources if s.status == "silent"),
        },
        "message": _message(page, "interval") if page.query("saved") == "1" else None,
        "errors": {},
        "posted": {},
        **alert_values(page),
    }
    values.update(extra)
    status = 422 if extra.get("errors") else 200
    return page.render("alerts/health.html", status=status, **values)


@router.get("/alerts/health")
def health(page: ReadPage) -> Response:
    return _health(page)


@router.post("/alerts/health/{source_id:int}")
def set_interval(source_id: int, page: SuppressPage) -> Response:
    raw = page.field("minutes")
    seconds: int | None = None
    if raw:
        if not (raw.isdigit() and 1 <= int(raw) <= 43_200):
            return _health(
                page, errors={source_id: _message(page, "minutes")}, posted={source_id: raw}
            )
        seconds = int(raw) * 60
    try:
        with page.runtime.session() as session:
            telemetry.set_expected_interval(
                session, source_id, seconds, actor=page.actor, clock=page.runtime.clock
            )
    except Invalid as exc:
        problem = "; ".join(domain_errors(page, exc).values())
        return _health(page, errors={source_id: problem}, posted={source_id: raw})
    return page.redirect("/alerts/health?saved=1")
