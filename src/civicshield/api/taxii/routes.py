"""The TAXII 2.1 routes (paths keep TAXII's trailing slashes; a path without one is
redirected). Handlers parse HTTP and hand over to `civicshield.intel.taxii`."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from civicshield.api.deps import RuntimeDep, SessionDep
from civicshield.api.taxii.auth import CallerDep
from civicshield.api.taxii.media import check_content_type, taxii_response
from civicshield.core.errors import TooLarge
from civicshield.intel import taxii
from civicshield.runtime import Runtime

__all__ = ["TAXII_PREFIX", "router"]

TAXII_PREFIX = "/taxii2"
router = APIRouter(prefix=TAXII_PREFIX, include_in_schema=False)
_COLLECTION = "/{api_root}/collections/{collection_id}"
_OBJECT = _COLLECTION + "/objects/{object_id}"


def _base(request: Request, runtime: Runtime) -> str:
    base = runtime.settings.base_url or str(request.base_url)
    return base.rstrip("/") + TAXII_PREFIX


def _query(request: Request, runtime: Runtime, **kw: Any) -> taxii.Query:
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return taxii.parse_query(params, page_size=runtime.settings.taxii_page_size, **kw)


def _envelope(page: taxii.ObjectPage, key: str = "objects") -> Response:
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.items:
        body[key] = page.items
    headers = {}
    if page.first_added and page.last_added:
        headers["X-TAXII-Date-Added-First"] = page.first_added
        headers["X-TAXII-Date-Added-Last"] = page.last_added
    return taxii_response(body, headers=headers)


@router.get("/")
def taxii_discovery(
    request: Request, session: SessionDep, runtime: RuntimeDep, caller: CallerDep
) -> Response:
    info = taxii.load_discovery(runtime.settings.data_dir)
    body = taxii.discovery(
        session,
        caller,
        base_url=_base(request, runtime),
        info=info,
        city=runtime.settings.city_name,
    )
    return taxii_response(body)


@router.get("/{api_root}/")
def taxii_api_root(
    api_root: str, session: SessionDep, runtime: RuntimeDep, caller: CallerDep
) -> Response:
    limit = runtime.settings.taxii_max_content_length
    return taxii_response(
        taxii.api_root_information(session, caller, api_root, max_content_length=limit)
    )


@router.get("/{api_root}/status/{status_id}/")
def taxii_status(api_root: str, status_id: str, session: SessionDep, caller: CallerDep) -> Response:
    return taxii_response(taxii.get_status(session, caller, api_root, status_id).as_taxii())


@router.get("/{api_root}/collections/")
def taxii_collections(api_root: str, session: SessionDep, caller: CallerDep) -> Response:
    return taxii_response(taxii.collections_information(session, caller, api_root))


@router.get(_COLLECTION + "/")
def taxii_collection(
    api_root: str, collection_id: str, session: SessionDep, caller: CallerDep
) -> Response:
    return taxii_response(taxii.collection_information(session, caller, api_root, collection_id))


@router.get(_COLLECTION + "/objects/")
def taxii_get_objects(
    api_root: str,
    collection_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> Response:
    query = _query(request, runtime)
    return _envelope(taxii.objects_page(session, caller, api_root, collection_id, query))


async def _body(request: Request) -> bytes:
    return await request.body()


@router.post(_COLLECTION + "/objects/")
def taxii_add_objects(
    api_root: str,
    collection_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: CallerDep,
    body: bytes = Depends(_body),
) -> Response:
    check_content_type(request)
    information = taxii.api_root_information(
        session, caller, api_root, max_content_length=runtime.settings.taxii_max_content_length
    )
    limit = int(information["max_content_length"])
    declared = request.headers.get("content-length", "")
    if len(body) > limit or (declared.isdigit() and int(declared) > limit):
        raise TooLarge(f"the body is larger than this API root's max_content_length ({limit})")
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise taxii.UnprocessableEnvelope(f"the body is not JSON: {exc}") from exc
    location = f"{_base(request, runtime)}/{api_root}/collections/{collection_id}/"
    status = taxii.post_objects(
        session,
        caller,
        api_root,
        collection_id,
        envelope,
        clock=runtime.clock,
        location=location,
    )
    return taxii_response(status.as_taxii(), status=202)


@router.get(_OBJECT + "/")
def taxii_get_object(
    api_root: str,
    collection_id: str,
    object_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> Response:
    query = _query(request, runtime)
    page = taxii.objects_page(session, caller, api_root, collection_id, query, object_id=object_id)
    return _envelope(page)


@router.delete(_OBJECT + "/")
def taxii_delete_object(
    api_root: str,
    collection_id: str,
    object_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> Response:
    allowed = ("match[version]", "match[spec_version]")
    query = _query(request, runtime, allowed=allowed, default_version="all", all_specs=True)
    taxii.delete_object(session, caller, api_root, collection_id, object_id, query)
    return taxii_response(None)


@router.get(_OBJECT + "/versions/")
def taxii_object_versions(
    api_root: str,
    collection_id: str,
    object_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> Response:
    # Without match[spec_version], only the latest spec version's versions (as for objects,
    # and as medallion answers): every version listed can then be fetched without a filter.
    allowed = ("added_after", "match[spec_version]")
    query = _query(request, runtime, allowed=allowed, default_version="all")
    page = taxii.objects_page(
        session, caller, api_root, collection_id, query, view="versions", object_id=object_id
    )
    return _envelope(page, "versions")


@router.get(_COLLECTION + "/manifest/")
def taxii_manifest(
    api_root: str,
    collection_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: CallerDep,
) -> Response:
    query = _query(request, runtime)
    page = taxii.objects_page(session, caller, api_root, collection_id, query, view="manifest")
    return _envelope(page)
