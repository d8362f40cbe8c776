"""`timetag` shows datetimes and ISO 8601 strings (JSON records keep times as text) in the
reader's zone and language; other text is shown escaped, as it is."""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2

from civicshield.web.rendering import timetag


def render(value: object, language: str = "fr-CA", zone: str = "America/Montreal") -> str:
    env = jinja2.Environment(autoescape=True)
    env.filters["timetag"] = timetag
    template = env.from_string("{{ value | timetag }}")
    return template.render(value=value, language=language, timezone=zone)


def test_datetimes_and_iso_strings_show_alike_in_the_readers_zone() -> None:
    moment = datetime(2026, 11, 22, 20, 45, tzinfo=UTC)
    shown = render(moment)
    assert shown == render("2026-11-22T20:45:00.000000+00:00")
    assert 'datetime="2026-11-22T20:45:00+00:00"' in shown and "15 h 45" in shown


def test_other_text_is_shown_escaped_and_nothing_for_empty() -> None:
    assert render("about <b>noon</b>") == "about &lt;b&gt;noon&lt;/b&gt;"
    assert render("2026-11-22T20:45:00") == "2026-11-22T20:45:00"  # no zone: not guessed
    assert render("") == "" and render(None) == ""
