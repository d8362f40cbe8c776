"""The printable risk report: HTML sections in en/es/fr, and the A4 PDF through WeasyPrint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from civicshield import assets
from civicshield.assets import AssetCreate
from civicshield.core import SYSTEM, FrozenClock
from civicshield.core.errors import Invalid
from civicshield.runtime import Runtime
from civicshield.vulns.models import Cve, Finding
from civicshield.vulns.report import (
    CSF_SUBCATEGORIES,
    PdfRendererMissing,
    render_risk_report_html,
    render_risk_report_pdf,
)
from civicshield.vulns.risk import RiskSummary, RiskTrend, risk_trend, sector_risk, take_snapshot

CSF_JSON = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "frameworks"
    / "nist-csf-2.0"
    / "csf2_flat.json"
)
SECTIONS = (
    "title",
    "summary",
    "sectors",
    "heatmap",
    "zones",
    "top",
    "overdue",
    "accepted",
    "method",
    "csf",
)
AT = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)


def _asset(rt: Runtime, name: str, sector: str, **kw: Any) -> int:
    data = AssetCreate.model_validate({"name": name, "sector": sector, "kind": "it", **kw})
    with rt.session() as session:
        return assets.create_asset(session, data, actor=SYSTEM, clock=rt.clock).id


def _finding(rt: Runtime, asset_id: int, cve: str, **kw: Any) -> None:
    now = rt.clock.now()
    with rt.session() as session:
        session.add(
            Finding(
                asset_id=asset_id,
                cve_id=cve,
                first_seen=now,
                last_seen=now,
                created_at=now,
                updated_at=now,
                **kw,
            )
        )


def build(rt: Runtime) -> tuple[RiskSummary, RiskTrend]:
    """A month of history: the city was calmer 30 days ago, then a KEV finding arrived."""
    clock = rt.clock
    assert isinstance(clock, FrozenClock)
    today = clock.now().date()
    plc = _asset(rt, "plc-pump-7", "water", kind="ot", criticality=5, zone="scada")
    cam = _asset(rt, "cam-<plaza>", "transport", criticality=4, internet_exposed=True, zone="z1")
    _finding(rt, plc, "CVE-2024-0001", decision="track", severity="low")
    clock.advance(timedelta(days=-30))
    with rt.session() as session:
        take_snapshot(session, clock=clock)
    clock.advance(timedelta(days=30))
    with rt.session() as session:
        session.add(
            Cve(cve_id="CVE-2024-0002", kev_date_added=date(2024, 1, 10), updated_at=clock.now())
        )
    _finding(
        rt,
        cam,
        "CVE-2024-0002",
        decision="act",
        severity="critical",
        due_date=today - timedelta(days=4),
    )
    _finding(
        rt,
        plc,
        "CVE-2024-0003",
        decision="attend",
        severity="high",
        status="accepted",
        accepted_until=today + timedelta(days=60),
        approved_by="Ana Ruiz (CISO)",
    )
    with rt.session() as session:
        take_snapshot(session, clock=clock)
        summary = sector_risk(session, scope=None, clock=clock)
        trend = risk_trend(session, scope=None, days=90, clock=clock)
    return summary, trend


@pytest.fixture
def report_data(runtime: Runtime) -> tuple[RiskSummary, RiskTrend]:
    return build(runtime)


def html(data: tuple[RiskSummary, RiskTrend], language: str) -> str:
    summary, trend = data
    return render_risk_report_html(
        summary,
        trend,
        language=language,
        city_name="Ciudad Demo",
        generated_at=AT,
        tz="America/Tijuana",
    )


@pytest.mark.parametrize(
    ("language", "day", "lang"),
    [
        ("en", "November 22, 2026", "en"),
        ("es", "22 de noviembre de 2026", "es-MX"),
        ("fr-CA", "22 novembre 2026", "fr-CA"),
    ],
)
def test_html_has_every_section_localised(
    report_data: tuple[RiskSummary, RiskTrend], language: str, day: str, lang: str
) -> None:
    page = html(report_data, language)
    for section in SECTIONS:
        assert f'data-section="{section}"' in page, section
    assert f'<html lang="{lang}">' in page and day in page and "Ciudad Demo" in page
    assert "CVE-2024-0002" in page and "Ana Ruiz (CISO)" in page
    assert "cam-&lt;plaza&gt;" in page and "cam-<plaza>" not in page  # escaped
    assert "size: A4" in page and "counter(pages)" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)|@import|url\(""", page)
    for csf_id, _how in CSF_SUBCATEGORIES:
        assert csf_id in page


def test_html_summary_words_and_heat_map(report_data: tuple[RiskSummary, RiskTrend]) -> None:
    summary, trend = report_data
    page = html(report_data, "en")
    then = next(p for p in trend.series["city"] if p.day == summary.day - timedelta(days=30))
    assert summary.city.score > then.score
    assert "The score rose" in page and "Oct 23, 2026" in page
    assert 'class="num heat-critical">1 <span class="note">Critical</span>' in page
    assert "Days late" in page and "In force" in page and "Known exploited</span>" in page


def test_unknown_language_is_refused_by_name(report_data: tuple[RiskSummary, RiskTrend]) -> None:
    with pytest.raises(Invalid, match="'de'") as err:
        html(report_data, "de")
    assert err.value.errors[0].loc == ("language",)


def test_csf_ids_are_active_in_the_nist_catalog() -> None:
    if not CSF_JSON.exists():
        pytest.skip(f"shared CSF 2.0 data not present: {CSF_JSON}")
    import json

    catalog = json.loads(CSF_JSON.read_text(encoding="utf-8"))
    active = {s["id"] for s in catalog["subcategories"] if s["active"]}
    assert {csf_id for csf_id, _ in CSF_SUBCATEGORIES} <= active


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its Flate streams inflated: WeasyPrint packs page objects into object
    streams, so a page count needs them opened (no PDF library is installed)."""
    parts = [pdf]
    for body in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            parts.append(zlib.decompress(body))
        except zlib.error:
            continue  # fonts and images need not inflate to count pages
    return b"\n".join(parts)


def pdf_or_skip(data: tuple[RiskSummary, RiskTrend], language: str) -> bytes:
    summary, trend = data
    try:
        return render_risk_report_pdf(
            summary,
            trend,
            language=language,
            city_name="Ciudad Demo",
            generated_at=AT,
            tz="America/Tijuana",
        )
    except PdfRendererMissing as exc:
        pytest.skip(f"PDF renderer not available here: {exc}")


def test_pdf_is_a4_with_a_few_pages(report_data: tuple[RiskSummary, RiskTrend]) -> None:
    pdf = pdf_or_skip(report_data, "es-MX")
    assert pdf.startswith(b"%PDF-")
    objects = pdf_objects(pdf)
    pages = len(re.findall(rb"/Type\s*/Page\b", objects))
    assert 3 <= pages <= 8, pages
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", objects)
    assert boxes and all(round(float(w)) == 595 and round(float(h)) == 842 for w, h in boxes)  # A4
    if shutil.which("pdftotext") is None:
        return  # no text extractor here; the HTML tests cover the words
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "Ciudad Demo" in text and "CVE-2024-0002" in text and "ID.RA-05" in text


def test_missing_weasyprint_is_a_clear_error(
    report_data: tuple[RiskSummary, RiskTrend], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import now raises ImportError
    with pytest.raises(PdfRendererMissing, match="WeasyPrint"):
        render_risk_report_pdf(
            *report_data, language="en", city_name="x", generated_at=AT, tz="UTC"
        )


def test_missing_pango_names_the_library() -> None:
    from civicshield.vulns.report import _missing_library

    error = OSError(
        "cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file"
    )
    assert _missing_library(error) == "libpango-1.0-0"
    assert "Pango" in _missing_library(OSError("something else"))


def test_trend_words_without_history(runtime: Runtime) -> None:
    _asset(runtime, "srv", "health")
    with runtime.session() as session:
        summary = sector_risk(session, scope=None, clock=runtime.clock)
        trend = risk_trend(session, scope=None, days=90, clock=runtime.clock)
    page = html((summary, trend), "en")
    assert "No score from 30 days ago" in page and "No finding is past its due date" in page
    assert date(2026, 11, 22) == summary.day
