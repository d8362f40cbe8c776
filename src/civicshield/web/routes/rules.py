"""The detection rule catalogue: every rule the city runs, filtered and paged, and one rule's
metadata and YAML; "build the catalogue" queues the `rules.catalog` job while none exists.

The catalogue is read from the compiled rule cache (`civicshield.detect.catalog`); a page
never parses YAML. A rule's file is shown as escaped text, never as HTML.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import rules
from civicshield.accounts import Permission
from civicshield.core import ConfigError, Severity
from civicshield.core.errors import NotFound
from civicshield.detect.catalog import (
    Catalog,
    CatalogFilter,
    filter_rules,
    level_counts,
    load_catalog,
    read_source,
)
from civicshield.detect.sigma.model import ATTACK_TACTICS
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, offset_param
from civicshield.web.page import Page

__all__ = ["attack_url", "router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.RULES_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.RULES_MANAGE))]
_RUNNABLE = {"yes": True, "no": False}
_KINDS = ("rule", "correlation", "filter")


def attack_url(technique: str) -> str:
    """`T1059.001` → its page on attack.mitre.org (`/techniques/T1059/001/`)."""
    return f"https://attack.mitre.org/techniques/{technique.replace('.', '/')}/"


def _filters(page: Page) -> tuple[CatalogFilter, dict[str, str]]:
    """The catalogue filter, and the raw values to show back in the form."""
    raw = {
        name: page.query(name)[:200]
        for name in ("q", "level", "status", "runnable", "tactic", "technique", "folder", "kind")
    }
    level = raw["level"]
    chosen = CatalogFilter(
        q=raw["q"],
        min_level=Severity(level) if level in Severity._value2member_map_ else None,
        status=raw["status"] or None,
        runnable=_RUNNABLE.get(raw["runnable"]),
        tactic=raw["tactic"] or None,
        technique=raw["technique"] or None,
        folder=raw["folder"] or None,
        kind=raw["kind"] if raw["kind"] in _KINDS else None,
    )
    return chosen, raw


def _catalog(page: Page) -> tuple[Catalog | None, str | None]:
    """The catalogue, or None and why there is none (a configuration message, or None when it
    only has not been built yet)."""
    try:
        return load_catalog(page.runtime.settings), None
    except ConfigError as exc:
        return None, str(exc)


def _missing(page: Page, problem: str | None, **values: Any) -> Response:
    with page.runtime.session() as session:
        job = rules.active_catalog_job(session)
    return page.render("rules/missing.html", nav_key="rules", problem=problem, job=job, **values)


@router.get("/rules")
def rule_list(page: ReadPage) -> Response:
    catalog, problem = _catalog(page)
    if catalog is None:
        return _missing(page, problem)
    chosen, raw = _filters(page)
    found = filter_rules(catalog.rules, chosen)
    offset = offset_param(page)
    values: dict[str, Any] = {
        "nav_key": "rules",
        "catalog": catalog,
        "rules": found[offset : offset + PAGE_SIZE],
        "pager": Pager.of(page, len(found), offset),
        "filters": raw,
        "levels": list(reversed(Severity)),
        "counts": level_counts(found),
        "runnable_count": sum(1 for r in found if r.runnable),
        "statuses": sorted({r.status for r in catalog.rules if r.status}),
        "tactics": sorted(ATTACK_TACTICS & {t for r in catalog.rules for t in r.tactics}),
        "kinds": _KINDS,
    }
    if page.htmx and page.request.headers.get("hx-target") == "rules-table":
        return page.fragment("rules/_table.html", **values)
    return page.render("rules/list.html", **values)


@router.get("/rules/{rule_id}")
def rule_detail(rule_id: str, page: ReadPage) -> Response:
    catalog, problem = _catalog(page)
    if catalog is None:
        return _missing(page, problem)
    rule = catalog.get(rule_id)
    if rule is None:
        raise NotFound(f"no rule with id {rule_id!r} in the catalogue")
    return page.render(
        "rules/detail.html",
        nav_key="rules",
        rule=rule,
        source=read_source(catalog, rule),
        attack_url=attack_url,
    )


@router.post("/rules/catalog")
def build(page: ManagePage) -> Response:
    with page.runtime.session() as session:
        rules.queue_catalog_job(
            session, registry=page.runtime.jobs, clock=page.runtime.clock, actor=page.actor
        )
    return page.redirect("/rules", flash="catalog_queued")
