"""Signed values: tamper-evident, purpose-bound, and limited in age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from civicshield.web.signing import sign, unsign

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_round_trip_and_age() -> None:
    token = sign("key", "totp", "7:ABCDEF", now=NOW)
    assert unsign("key", "totp", token, now=NOW + timedelta(minutes=5), max_age=600) == "7:ABCDEF"
    assert unsign("key", "totp", token, now=NOW + timedelta(minutes=11), max_age=600) is None
    assert unsign("key", "totp", token, now=NOW - timedelta(minutes=1), max_age=600) is None


def test_tampering_another_key_or_purpose_fails() -> None:
    token = sign("key", "totp", "7:ABCDEF", now=NOW)
    assert unsign("key", "totp", token.replace("7:", "8:"), now=NOW, max_age=60) is None
    assert unsign("other", "totp", token, now=NOW, max_age=60) is None
    assert unsign("key", "csrf", token, now=NOW, max_age=60) is None
    assert unsign("key", "totp", "garbage", now=NOW, max_age=60) is None
    assert unsign("key", "totp", "", now=NOW, max_age=60) is None


def test_values_with_dots_survive() -> None:
    token = sign("key", "p", "a.b.c", now=NOW)
    assert unsign("key", "p", token, now=NOW, max_age=1) == "a.b.c"
