"""`/api/v1/rules`: the detection rule catalogue (read-only) and its rebuild job.

The catalogue comes from the compiled rule cache (`civicshield.detect.catalog`); until the
cache for the current rules exists, reads answer 409 and `POST /rules/catalog` queues the
`rules.catalog` job that builds it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from civicshield import rules
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page, RuleDetail, RuleRead
from civicshield.core import ConfigError, Settings, Severity
from civicshield.core.errors import Conflict, NotFound
from civicshield.detect.catalog import (
    Catalog,
    CatalogFilter,
    CatalogRule,
    filter_rules,
    load_catalog,
    read_source,
)
from civicshield.jobs import JobRead

__all__ = ["router"]

router = resource_router("/rules", "rules")
READ = [Depends(require(Permission.RULES_READ))]
MANAGE = [Depends(require(Permission.RULES_MANAGE))]


def _catalog(settings: Settings) -> Catalog:
    try:
        catalog = load_catalog(settings)
    except ConfigError as exc:
        raise Conflict(f"no detection rules are configured: {exc}") from None
    if catalog is None:
        raise Conflict(
            "the rule catalogue has not been built for the current rules yet: "
            "POST /api/v1/rules/catalog queues the job that builds it"
        )
    return catalog


def _read(rule: CatalogRule) -> RuleRead:
    return RuleRead.model_validate(rule, from_attributes=True)


@router.get("", dependencies=READ, responses=problems(409), summary="List detection rules")
def list_rules(
    runtime: RuntimeDep,
    pagination: PaginationDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the title, id or path.")
    ] = None,
    min_level: Annotated[Severity | None, Query(description="This level or higher.")] = None,
    status: Annotated[str | None, Query(description="Exact status, e.g. `stable`.")] = None,
    runnable: Annotated[
        bool | None, Query(description="Only rules the engine can (or cannot) run.")
    ] = None,
    tactic: Annotated[str | None, Query(description="ATT&CK tactic, e.g. `execution`.")] = None,
    technique: Annotated[
        str | None,
        Query(description="ATT&CK technique; `T1059` also matches its sub-techniques."),
    ] = None,
    folder: Annotated[
        str | None, Query(description="Folder (or glob) under the rules root, e.g. `windows`.")
    ] = None,
    kind: Annotated[
        str | None, Query(pattern="^(rule|correlation|filter)$", description="Rule kind.")
    ] = None,
) -> Page[RuleRead]:
    """Sorted by path. 409 until the catalogue has been built (`POST /rules/catalog`)."""
    catalog = _catalog(runtime.settings)
    chosen = CatalogFilter(
        q=q or "",
        min_level=min_level,
        status=status,
        runnable=runnable,
        tactic=tactic,
        technique=technique,
        folder=folder,
        kind=kind,
    )
    found = filter_rules(catalog.rules, chosen)
    window = found[pagination.offset : pagination.offset + pagination.limit]
    return pagination.page([_read(r) for r in window], len(found))


@router.post(
    "/catalog",
    dependencies=MANAGE,
    status_code=202,
    summary="Rebuild the rule catalogue in the background",
)
def build_rule_catalog(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> JobRead:
    """Queues the `rules.catalog` job (202 + `Location` of the job to poll). While one is
    queued or running, returns that job instead of queuing a second."""
    job, _ = rules.queue_catalog_job(
        session, registry=runtime.jobs, clock=runtime.clock, actor=principal.actor
    )
    response.headers["Location"] = str(request.url_for("get_job", job_id=job.id))
    return job


@router.get(
    "/{rule_id}", dependencies=READ, responses=problems(404, 409), summary="Get a detection rule"
)
def get_rule(rule_id: str, runtime: RuntimeDep) -> RuleDetail:
    """The rule with its file's text (`yaml`, null when the file is gone)."""
    catalog = _catalog(runtime.settings)
    rule = catalog.get(rule_id)
    if rule is None:
        raise NotFound(f"no rule with id {rule_id!r} in the catalogue")
    return RuleDetail(
        **_read(rule).model_dump(), source=str(rule.source), yaml=read_source(catalog, rule)
    )
