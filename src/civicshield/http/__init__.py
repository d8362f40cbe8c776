"""HTTP plumbing shared by the web pages and the REST API: who is asking, what a route needs,
security headers, body limits and the problem+json error shape."""

from civicshield.http.access import (
    PERMISSION_ATTR,
    PUBLIC,
    SESSION_COOKIE,
    Access,
    client_ip,
    declared_access,
    lookup_principal,
)
from civicshield.http.middleware import (
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    SecurityHeadersMiddleware,
)
from civicshield.http.problems import problem_body, problem_response

__all__ = [
    "PERMISSION_ATTR",
    "PUBLIC",
    "SESSION_COOKIE",
    "Access",
    "BodySizeLimitMiddleware",
    "CatchAllMiddleware",
    "SecurityHeadersMiddleware",
    "client_ip",
    "declared_access",
    "lookup_principal",
    "problem_body",
    "problem_response",
]
