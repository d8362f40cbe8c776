"""Keyword (field-less) search support: every scalar value of a JSON event, and JSON text
helpers for searching the raw line instead of parsing it.

`evaluate` pre-filters keyword rules on the lower-cased raw line with each keyword's JSON
escaping (`json_escape`): a value containing a keyword is written in the line with the same
escapes, so the escaped keyword occurs in the line. That holds for the minimal escaping every
common writer uses (only `"`, `\\` and control characters escaped); when a keyword has a
character writers may escape optionally (non-ASCII, controls, `/`, `< > & '`), lines with
optional escapes (`\\uXXXX`, `\\/`) are first rewritten minimally (`canonical_json`). The exact
test then runs on `values_text` of the candidate rows only.

`values_text` joins the values with `SEPARATOR` (U+001F); so that a value containing U+001F
is not taken for two values, each value is escaped first (`escape_value`): U+001E → U+001E
U+001E, U+001F → U+001E U+001D. Keyword patterns are compiled against that form (one original
character is `[^\x1e\x1f]` or an escape pair; see the compiler).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

__all__ = [
    "ESCAPE",
    "ESCAPED_SEPARATOR",
    "SEPARATOR",
    "canonical_json",
    "escape_value",
    "json_escape",
    "scalar_text",
    "values_text",
]

SEPARATOR = "\x1f"
ESCAPE = "\x1e"
ESCAPED_SEPARATOR = "\x1d"  # follows ESCAPE for a U+001F inside a value


def scalar_text(value: Any) -> str | None:
    """A JSON scalar as text: strings as they are, numbers as Polars' JSON reader writes them
    (`1.0` → `1`, `1e-07` → `0.0000001`), booleans `true`/`false`; None for null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        # Polars: the shortest digits that read back (as repr), in plain notation, no `.0`
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def values_text(line: bytes | str) -> str | None:
    """Every scalar value of a JSON object line (nested objects and lists included, in order),
    each escaped (`escape_value`), joined by `SEPARATOR`; None when the line is not a JSON
    object."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    out: list[str] = []
    _scalars(obj, out)
    return SEPARATOR.join(out)


def _scalars(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for value in node.values():
            _scalars(value, out)
    elif isinstance(node, list):
        for value in node:
            _scalars(value, out)
    else:
        text = scalar_text(node)
        if text is not None:
            out.append(escape_value(text))


def escape_value(text: str) -> str:
    """`text` with U+001E and U+001F escaped, so it contains no `SEPARATOR`."""
    if ESCAPE in text or SEPARATOR in text:
        return text.replace(ESCAPE, ESCAPE + ESCAPE).replace(SEPARATOR, ESCAPE + ESCAPED_SEPARATOR)
    return text


def json_escape(text: str) -> str:
    """`text` as it appears inside a JSON string written with minimal escaping."""
    return orjson.dumps(text).decode()[1:-1]


def canonical_json(line: str) -> str:
    """The line rewritten with minimal escaping (unchanged when it is not valid JSON)."""
    try:
        return orjson.dumps(orjson.loads(line)).decode()
    except orjson.JSONDecodeError:
        return line
