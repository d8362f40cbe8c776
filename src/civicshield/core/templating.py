"""Document templating for reports, notices and mail (the one place domains use Jinja2).

Templates live in `civicshield/<domain>/documents/` and are rendered with autoescaping for
HTML and without it for plain text (`.txt`), in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime
from babel.support import NullTranslations, Translations

from civicshield.core.errors import RuleError

__all__ = ["LOCALE_DIR", "DocumentRenderer", "babel_locale", "load_translations"]

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def babel_locale(language: str) -> str:
    """`es-MX` → `es_MX` (Babel's spelling)."""
    return language.replace("-", "_")


def load_translations(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [babel_locale(language)], domain="messages")


class DocumentRenderer:
    """Renders document templates found under the given folders."""

    def __init__(self, folders: list[Path]) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(f) for f in folders]),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=False),
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        name: str,
        context: Mapping[str, Any],
        *,
        language: str = "en",
        timezone: str = "UTC",
    ) -> str:
        translations = load_translations(language)
        self._env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        tz = ZoneInfo(timezone)
        locale = babel_locale(language)

        def localtime(value: datetime, fmt: str = "medium") -> str:
            return format_datetime(value.astimezone(tz), format=fmt, locale=locale)

        filters: dict[str, Callable[..., str]] = {"localtime": localtime}
        self._env.filters.update(filters)
        try:
            return self._env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise RuleError(
                exc.message or "syntax error", source=exc.filename, line=exc.lineno
            ) from exc
        except jinja2.UndefinedError as exc:
            raise RuleError(f"template needs a value: {exc.message}", source=name) from exc
