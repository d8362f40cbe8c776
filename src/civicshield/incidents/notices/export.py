"""The register for a regulator's request: CSV (UTF-8 with a BOM so Excel reads the accents,
formulas neutralised) and PDF (HTML through core.templating, printed by WeasyPrint), with
labels in English, Spanish or French and the hash chain's verification result."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from civicshield.core.templating import DocumentRenderer
from civicshield.incidents.notices.fields import (
    AUTO_FIELDS,
    REGISTER_FIELDS,
    field_label,
    register_words,
)
from civicshield.incidents.notices.schemas import ChainCheck, RegisterEntryRead

__all__ = ["neutralise", "register_csv", "register_html", "register_pdf"]

DOCUMENTS = Path(__file__).resolve().parent / "documents"
_LANGUAGES = {"en": "en", "es": "es-MX", "fr": "fr-CA"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _lang(language: str) -> str:
    return language.split("-", 1)[0].lower() if language[:2].lower() in _LANGUAGES else "en"


def _notices_text(entry: RegisterEntryRead) -> str:
    return "; ".join(
        f"{n.get('recipient', '')} | {n.get('channel', '')} | {n.get('sent_at', '')} | "
        f"{n.get('sha256', '')}"
        for n in entry.data.get("notices", [])
    )


def _retention_text(entry: RegisterEntryRead) -> str:
    return "; ".join(
        f"{r.get('obligation')}: {r.get('until') or r.get('note')}"
        for r in entry.data.get("retention", [])
    )


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def register_csv(entries: list[RegisterEntryRead], *, language: str = "en") -> bytes:
    """One row per entry given (latest per case, or every version), labels as headers."""
    lang, w = _lang(language), register_words(language)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            field_label("case_id", lang),
            field_label("case_title", lang),
            w["version"],
            w["recorded"],
            "recorded_by",
            w["retain_until"],
            *(f.label(lang) for f in REGISTER_FIELDS),
            field_label("notices", lang),
            field_label("retention", lang),
            "prev_hash",
            "hash",
        ]
    )
    for e in entries:
        row = [
            str(e.case_id),
            str(e.data.get("case_title", "")),
            str(e.version),
            _iso(e.recorded_at),
            e.recorded_by,
            _iso(e.retain_until),
            *(str(e.data.get(f.name, "")) for f in REGISTER_FIELDS),
            _notices_text(e),
            _retention_text(e),
            e.prev_hash,
            e.hash,
        ]
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def register_html(
    entries: list[RegisterEntryRead],
    check: ChainCheck,
    *,
    language: str,
    city: str,
    generated_at: datetime,
    tz: str,
    period: str = "",
) -> str:
    lang, w = _lang(language), register_words(language)
    zone = ZoneInfo(tz)
    chain = (
        w["chain_ok"] % {"rows": check.rows}
        if check.ok
        else w["chain_broken"] % {"row": check.first_broken_id, "reason": check.reason}
    )
    shown: list[dict[str, Any]] = []
    for e in entries:
        rows = [(f.label(lang), str(e.data.get(f.name, "")), f.serves) for f in REGISTER_FIELDS]
        rows.append((field_label("notices", lang), _notices_text(e), AUTO_FIELDS[2].serves))
        rows.append((field_label("retention", lang), _retention_text(e), AUTO_FIELDS[3].serves))
        shown.append(
            {
                "entry": e,
                "title": str(e.data.get("case_title", "")),
                "rows": rows,
                "recorded": e.recorded_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
                "retain": e.retain_until.astimezone(zone).strftime("%Y-%m-%d")
                if e.retain_until
                else "—",
            }
        )
    context = {
        "w": w,
        "city": city,
        "period": period or w["any"],
        "chain": chain,
        "chain_ok": check.ok,
        "generated": generated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "entries": shown,
        "case_label": field_label("case_id", lang),
        "lang": lang,
    }
    renderer = DocumentRenderer([DOCUMENTS])
    return renderer.render("register.html", context, language=_LANGUAGES[lang], timezone=tz)


def register_pdf(
    entries: list[RegisterEntryRead],
    check: ChainCheck,
    *,
    language: str,
    city: str,
    generated_at: datetime,
    tz: str,
    period: str = "",
) -> bytes:
    """The register as a PDF; `PdfRendererMissing` names what is not installed."""
    from civicshield.vulns.report import PdfRendererMissing

    html = register_html(
        entries,
        check,
        language=language,
        city=city,
        generated_at=generated_at,
        tz=tz,
        period=period,
    )
    try:
        from weasyprint import HTML  # lazy: it loads Pango through cffi
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise PdfRendererMissing(f"WeasyPrint cannot be loaded ({exc})") from exc

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: object = None) -> Any:
            raise ValueError(f"the register fetches nothing (asked for {url[:80]!r})")

    pdf: bytes = HTML(string=html, base_url=None, url_fetcher=RefuseAll()).write_pdf()
    return pdf
