"""Jinja2 environments for the pages: one per language, so translations never leak between
concurrent requests (gettext is installed on the environment, not per render).

Dates are shown in the reader's time zone and locale (`localtime`, `timetag`); the zone and
locale come from the render context, which `Page` fills for every request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations
from markupsafe import Markup

from civicshield.core.templating import babel_locale, load_translations

__all__ = ["TEMPLATES_DIR", "Renderer"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


# Babel parses its locale argument on every call when given a string; pages format dozens of
# dates and numbers, so parsed locales (and zones) are cached.
@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    return Locale.parse(babel_locale(language))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def _decimal(value: int | float, language: str) -> str:
    return str(format_decimal(value, locale=_locale(language)))


@jinja2.pass_context
def localtime(context: jinja2.runtime.Context, value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    local = value.astimezone(_zone(context["timezone"]))
    return str(format_datetime(local, format=fmt, locale=_locale(context["language"])))


@jinja2.pass_context
def timetag(
    context: jinja2.runtime.Context, value: datetime | str | None, fmt: str = "medium"
) -> Markup:
    """`<time datetime="ISO">localised</time>`: machine-readable and shown in the reader's zone.
    An ISO 8601 string (as JSON records keep times) is read first; other text is shown as is."""
    if value is None or value == "":
        return Markup("")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return Markup("{}").format(value)
        if value.tzinfo is None:
            return Markup("{}").format(value.isoformat())
    return Markup('<time datetime="{}">{}</time>').format(
        value.isoformat(), localtime(context, value, fmt)
    )


@jinja2.pass_context
def number(context: jinja2.runtime.Context, value: int | float) -> str:
    return _decimal(value, context["language"])


def as_json(value: Any) -> str:
    """Compact JSON for showing stored values (audit changes, job arguments) as text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Renderer:
    """Renders page templates in a given language; environments are built on first use."""

    def __init__(
        self,
        folder: Path = TEMPLATES_DIR,
        globals_: Mapping[str, Any] | None = None,
        *,
        auto_reload: bool = False,
    ) -> None:
        # Reloading checks every template file's time stamp on each render: only worth it
        # while editing templates (development).
        self._auto_reload = auto_reload
        self._folder = folder
        self._globals = dict(globals_ or {})
        self._envs: dict[str, jinja2.Environment] = {}
        self._translations: dict[str, NullTranslations] = {}
        self._lock = threading.Lock()

    def environment(self, language: str) -> jinja2.Environment:
        with self._lock:
            env = self._envs.get(language)
            if env is None:
                env = self._envs[language] = self._build(language)
            return env

    def _build(self, language: str) -> jinja2.Environment:
        translations = self._translations[language] = load_translations(language)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self._folder)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=self._auto_reload,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        env.filters.update(
            localtime=localtime,
            timetag=timetag,
            number=number,
            as_json=as_json,
            t=translations.gettext,
        )
        env.globals.update(self._globals)
        return env

    def render(self, name: str, context: Mapping[str, Any], *, language: str) -> str:
        return self.environment(language).get_template(name).render(**context)

    def gettext(self, language: str, message: str, **values: Any) -> str:
        """Translate one message outside a template (flash messages, field errors)."""
        self.environment(language)
        translated = self._translations[language].gettext(message)
        return translated % values if values else translated
