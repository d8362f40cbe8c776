"""Message marking for translation outside templates.

`N_` marks a string for extraction into the Babel catalogues without translating it at import
time; adapters translate it for the reader's language when they render it.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_"]

# Language tags offered in the UI, with their own names (shown untranslated in the switcher).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "es-MX": "Español (México)",
    "fr-CA": "Français (Canada)",
}
DEFAULT_LANGUAGE = "en"


def N_(message: str) -> str:  # noqa: N802 - gettext convention
    return message
