"""Who is calling a TAXII route: HTTP Basic (a TAXII member) or `Authorization: Bearer <API
token>` (a CivicShield principal: intel:manage reads and writes, intel:read reads). Browser
session cookies are not accepted here, so no CSRF defence is needed on these routes."""

from __future__ import annotations

import base64
import binascii
import threading
from collections import deque
from typing import Annotated, cast

from fastapi import Depends, Request

from civicshield import accounts
from civicshield.accounts import Permission
from civicshield.api.deps import SessionDep
from civicshield.api.taxii.media import check_accept
from civicshield.core.errors import AuthenticationError, PermissionDenied, RateLimited
from civicshield.http import Access, client_ip
from civicshield.intel import taxii
from civicshield.runtime import Runtime

__all__ = ["TAXII_ACCESS", "CallerDep", "FailedLogins", "taxii_caller"]

TAXII_ACCESS = "taxii"  # the access declaration: TAXII member or API token, checked per collection


class FailedLogins:
    """Failed HTTP Basic attempts per client address in the last minute (in-process memory).
    Only failures count: a TAXII client polling with good credentials is never slowed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - 60:
            hits.popleft()
        return hits

    def check(self, key: str, now: float) -> None:
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                raise RateLimited(
                    "too many failed TAXII logins from your address; wait and retry",
                    retry_after=int(hits[0] + 60 - now) + 1,
                )

    def record(self, key: str, now: float) -> None:
        with self._lock:
            self._recent(key, now).append(now)
            if len(self._hits) > 10_000:
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 60}


def _failures(request: Request, runtime: Runtime) -> FailedLogins:
    found = getattr(request.app.state, "taxii_failed_logins", None)
    if found is None:
        found = FailedLogins(runtime.settings.login_ip_limit_per_minute)
        request.app.state.taxii_failed_logins = found
    return cast(FailedLogins, found)


def _basic(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationError(
            "the Basic credentials are not base64 of 'name:password'"
        ) from exc
    username, sep, password = decoded.partition(":")
    if not sep:
        raise AuthenticationError("the Basic credentials are not base64 of 'name:password'")
    return username, password


def taxii_caller(request: Request, session: SessionDep) -> taxii.TaxiiCaller:
    runtime = cast(Runtime, request.app.state.runtime)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    caller: taxii.TaxiiCaller | None = None
    if scheme.lower() == "basic":
        failures, key = _failures(request, runtime), client_ip(request) or ""
        now = runtime.clock.now().timestamp()
        failures.check(key, now)
        username, password = _basic(value.strip())
        hasher = runtime.accounts.hasher
        caller = taxii.authenticate_member(session, username, password, hasher=hasher)
        if caller is None:
            failures.record(key, now)
            raise AuthenticationError("unknown TAXII member or wrong password")
    elif scheme.lower() == "bearer":
        principal = accounts.principal_for_token(
            session, value.strip(), ip=client_ip(request), clock=runtime.clock
        )
        if principal is None:
            raise AuthenticationError("the API token is invalid, expired or revoked")
        can_read = principal.can(Permission.INTEL_READ)
        can_write = principal.can(Permission.INTEL_MANAGE)
        if not (can_read or can_write):
            raise PermissionDenied("this API token needs intel:read (or intel:manage) for TAXII")
        caller = taxii.principal_caller(
            principal.actor.label, can_read=can_read, can_write=can_write
        )
    else:
        raise AuthenticationError(
            "authentication required: HTTP Basic (a TAXII member) or 'Authorization: Bearer "
            "<API token>'"
        )
    check_accept(request)
    return caller


Access.mark(taxii_caller, TAXII_ACCESS)
CallerDep = Annotated[taxii.TaxiiCaller, Depends(taxii_caller)]
