"""Language negotiation and safe redirect targets."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from civicshield.core import load_settings
from civicshield.web.negotiation import (
    parse_accept_language,
    resolve_language,
    resolve_theme,
    safe_next,
    safe_referer,
)


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": raw,
            "query_string": b"",
            "scheme": "http",
            "server": ("testserver", 80),
        }
    )


def test_accept_language_orders_by_quality() -> None:
    header = "fr;q=0.5, es-MX, en;q=0.8, de;q=0"
    assert parse_accept_language(header) == ["es-MX", "en", "fr"]
    assert parse_accept_language("en;q=abc") == []
    assert parse_accept_language("") == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9", "es-MX"),
        ("es-AR", "es-MX"),
        ("fr-FR,fr;q=0.8", "fr-CA"),
        ("FR-ca", "fr-CA"),
        ("de-DE, en-GB;q=0.7", "en"),
        ("de-DE", "en"),
        ("*", "en"),
    ],
)
def test_language_from_the_browser(header: str, expected: str) -> None:
    settings = load_settings(environment="test")
    assert resolve_language(_request({"Accept-Language": header}), None, settings) == expected


def test_cookie_beats_the_browser_and_bad_values_are_ignored() -> None:
    settings = load_settings(environment="test", default_language="es-MX")
    request = _request({"Accept-Language": "fr", "Cookie": "cs_lang=en; cs_theme=dark"})
    assert resolve_language(request, None, settings) == "en"
    assert resolve_theme(request, None) == "dark"
    odd = _request({"Cookie": "cs_lang=xx; cs_theme=neon"})
    assert resolve_language(odd, None, settings) == "es-MX"
    assert resolve_theme(odd, None) == "system"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/audit?actor=ana", "/audit?actor=ana"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("relative/path", "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_safe_referer_only_follows_this_site() -> None:
    own = _request({"Host": "testserver", "Referer": "http://testserver/jobs?status=failed"})
    assert safe_referer(own) == "/jobs?status=failed"
    other = _request({"Host": "testserver", "Referer": "http://evil.example/jobs"})
    assert safe_referer(other) == "/"
    assert safe_referer(_request({})) == "/"
