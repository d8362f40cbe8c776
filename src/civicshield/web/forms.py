"""Form helpers: field errors from Pydantic and domain errors (translated, per field), and
pagination that keeps the current filters in its links."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import ValidationError

from civicshield.core.errors import Invalid
from civicshield.web.page import Page

__all__ = ["PAGE_SIZE", "Pager", "domain_errors", "offset_param", "retry_minutes", "schema_errors"]

PAGE_SIZE = 25


def schema_errors(page: Page, exc: ValidationError, messages: dict[str, str]) -> dict[str, str]:
    """One translated message per invalid field; `messages` maps field -> msgid (`N_`)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        errors.setdefault(name, page.gettext(messages.get(name, messages.get("*", name))))
    return errors


def domain_errors(page: Page, exc: Invalid, default_field: str = "form") -> dict[str, str]:
    """Field messages from a domain `Invalid` (its `loc` is ("body", field)), translated when
    the catalogue knows the message."""
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        name = str(item.loc[-1]) if item.loc else default_field
        errors.setdefault(name, []).append(page.gettext(item.msg))
    if not errors:
        errors[default_field] = [exc.detail]
    return {name: "; ".join(parts) for name, parts in errors.items()}


@dataclass(frozen=True)
class Pager:
    """Offset pagination whose links keep the other query parameters."""

    total: int
    offset: int
    limit: int
    params: tuple[tuple[str, str], ...]
    path: str

    @classmethod
    def of(cls, page: Page, total: int, offset: int, limit: int = PAGE_SIZE) -> Pager:
        params = tuple(
            (k, v) for k, v in page.request.query_params.multi_items() if k != "offset" and v
        )
        return cls(
            total=total, offset=offset, limit=limit, params=params, path=page.request.url.path
        )

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    def _url(self, offset: int) -> str:
        query = [*self.params, *((("offset", str(offset)),) if offset else ())]
        return f"{self.path}?{urlencode(query)}" if query else self.path

    @property
    def previous_url(self) -> str | None:
        return self._url(max(0, self.offset - self.limit)) if self.offset > 0 else None

    @property
    def next_url(self) -> str | None:
        return self._url(self.offset + self.limit) if self.last < self.total else None


def retry_minutes(retry_after: int) -> int:
    """Whole minutes to tell a person to wait ("15", not the 16 a ceiling of 901 s gives)."""
    return max(1, round(retry_after / 60))


def offset_param(page: Page) -> int:
    raw = page.query("offset", "0")
    return max(0, int(raw)) if raw.isdigit() and len(raw) < 10 else 0
