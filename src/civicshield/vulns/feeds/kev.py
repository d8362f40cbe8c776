"""CISA Known Exploited Vulnerabilities catalog (JSON).

Format (https://www.cisa.gov/known-exploited-vulnerabilities-catalog, schema in
`known_exploited_vulnerabilities_schema.json`): ``{title, catalogVersion, dateReleased, count,
vulnerabilities: [{cveID, vendorProject, product, vulnerabilityName, dateAdded,
shortDescription, requiredAction, dueDate, knownRansomwareCampaignUse, notes, cwes}]}``.
vendorProject/product are free text, not CPE ids: join on the CVE id only. Some old entries have
a dueDate before dateAdded (kept as published).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from civicshield.vulns.feeds._fields import opt_date, opt_datetime, opt_str, req_cve_id, req_str
from civicshield.vulns.feeds._http import (
    FeedError,
    FeedResult,
    Fetcher,
    Problem,
    RecordError,
    load_json,
    read_bytes,
)

__all__ = ["KEV_FILE", "KEV_URL", "KevCatalog", "KevEntry", "fetch_kev", "load_kev", "parse_kev"]

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
KEV_FILE = "known_exploited_vulnerabilities.json"


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: str
    vendor_project: str
    product: str
    vulnerability_name: str
    date_added: date
    short_description: str
    required_action: str
    due_date: date | None
    known_ransomware_campaign_use: str  # "Known" or "Unknown" as CISA writes it
    notes: str = ""
    cwes: tuple[str, ...] = ()

    @property
    def ransomware(self) -> bool:
        return self.known_ransomware_campaign_use.strip().lower() == "known"


@dataclass
class KevCatalog(FeedResult[KevEntry]):
    catalog_version: str | None = None
    date_released: datetime | None = None
    declared_count: int | None = None
    source: str = field(default="")

    def by_cve(self) -> dict[str, KevEntry]:
        return {e.cve_id: e for e in self.items}


def _entry(raw: Any) -> KevEntry:
    if not isinstance(raw, dict):
        raise RecordError("$", "expected an object")
    added = opt_date(raw, "dateAdded")
    if added is None:
        raise RecordError("$.dateAdded", "missing")
    cwes = raw.get("cwes", [])
    if not isinstance(cwes, list) or not all(isinstance(c, str) for c in cwes):
        raise RecordError("$.cwes", "expected a list of strings")
    return KevEntry(
        cve_id=req_cve_id(raw, "cveID"),
        vendor_project=req_str(raw, "vendorProject"),
        product=req_str(raw, "product"),
        vulnerability_name=opt_str(raw, "vulnerabilityName") or "",
        date_added=added,
        short_description=opt_str(raw, "shortDescription") or "",
        required_action=opt_str(raw, "requiredAction") or "",
        due_date=opt_date(raw, "dueDate"),
        known_ransomware_campaign_use=opt_str(raw, "knownRansomwareCampaignUse") or "Unknown",
        notes=opt_str(raw, "notes") or "",
        cwes=tuple(cwes),
    )


def parse_kev(data: bytes, source: str) -> KevCatalog:
    """Parse the catalog; a malformed entry is skipped and reported by its index."""
    doc = load_json(data, source)
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        raise FeedError(source, "$.vulnerabilities", "missing or not a list (not a KEV catalog)")
    try:
        released = opt_datetime(doc, "dateReleased")
        version = opt_str(doc, "catalogVersion")
    except RecordError as exc:
        raise FeedError(source, exc.path, exc.problem) from None
    count = doc.get("count")
    catalog = KevCatalog(
        catalog_version=version,
        date_released=released,
        declared_count=count if isinstance(count, int) else None,
        source=source,
    )
    for i, raw in enumerate(doc["vulnerabilities"]):
        position = f"$.vulnerabilities[{i}]"
        try:
            catalog.items.append(_entry(raw))
        except RecordError as exc:
            catalog.problems.append(
                Problem(source, position + exc.path.removeprefix("$"), exc.problem)
            )
    return catalog


def load_kev(path: Path) -> KevCatalog:
    """From a `.json[.gz]` file or a folder holding `known_exploited_vulnerabilities.json`."""
    if path.is_dir():
        found = sorted(path.glob(KEV_FILE + "*"))
        found = [p for p in found if not p.name.endswith(".meta.json")]
        if not found:
            raise FeedError(str(path), None, f"no {KEV_FILE} in this folder")
        path = found[0]
    return parse_kev(read_bytes(path), str(path))


def fetch_kev(
    fetcher: Fetcher, *, url: str = KEV_URL, max_age: timedelta = timedelta(hours=12)
) -> tuple[KevCatalog, bool]:
    """Download (or reuse the cached copy) and parse; returns the catalog and `from_cache`."""
    got = fetcher.download(url, fetcher.cache_dir / "kev" / KEV_FILE, max_age=max_age)
    return parse_kev(read_bytes(got.path), url), got.from_cache
