"""TAXII-specific refusals, on top of the core error tree (the HTTP layer maps `status`)."""

from __future__ import annotations

from civicshield.core.errors import Invalid

__all__ = ["BadTaxiiRequest", "UnprocessableEnvelope"]


class BadTaxiiRequest(Invalid):
    """A query parameter or paging token is wrong (HTTP 400)."""

    title = "Bad request"
    status = 400
    slug = "taxii-bad-request"


class UnprocessableEnvelope(Invalid):
    """A POSTed body is not a TAXII envelope with an `objects` list (HTTP 422)."""

    title = "Unprocessable envelope"
    status = 422
    slug = "taxii-unprocessable"
