"""FIRST EPSS scores (CSV, usually gzipped).

FIRST's daily file (https://www.first.org/epss/data_stats) starts with a comment line
``#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000`` then the header
``cve,epss,percentile``. Crawled copies (the one in ../shared) have no comment, no header and
``;`` separators. Both are accepted, line by line. Attribution: "EPSS scores by FIRST.org".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from civicshield.vulns.feeds._fields import CVE_ID
from civicshield.vulns.feeds._http import FeedError, FeedResult, Fetcher, Problem, read_bytes

__all__ = ["EPSS_URL", "EpssFeed", "EpssScore", "fetch_epss", "load_epss", "parse_epss"]

EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
EPSS_FILE = "epss_scores-current.csv.gz"


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve: str
    epss: float  # probability of exploitation activity in the next 30 days
    percentile: float


@dataclass
class EpssFeed(FeedResult[EpssScore]):
    model_version: str | None = None
    score_date: datetime | None = None
    source: str = ""

    def by_cve(self) -> dict[str, EpssScore]:
        return {s.cve: s for s in self.items}


def _header_comment(text: str, feed: EpssFeed, source: str, line_no: int) -> None:
    for part in text.lstrip("#").split(","):
        key, _, value = part.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model_version":
            feed.model_version = value
        elif key == "score_date":
            feed.score_date = _score_date(value, source, line_no)


def _score_date(value: str, source: str, line_no: int) -> datetime:
    text = value.replace("+0000", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            raise FeedError(source, f"line {line_no}", f"bad score_date {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _probability(text: str, name: str) -> float:
    value = float(text)  # ValueError names the text
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} {text!r} is not between 0 and 1")
    return value


def parse_epss(data: bytes, source: str) -> EpssFeed:
    """Parse an EPSS CSV; a malformed row is skipped and reported by its line number."""
    feed = EpssFeed(source=source)
    for line_no, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            feed.problems.append(Problem(source, f"line {line_no}", "not UTF-8 text"))
            continue
        if not line:
            continue
        if line.startswith("#"):
            _header_comment(line, feed, source, line_no)
            continue
        cells = [c.strip() for c in line.split(";" if ";" in line else ",")]
        if cells[0].lower() == "cve":
            continue  # the header row
        if len(cells) != 3:
            message = f"expected 3 fields (cve, epss, percentile), got {len(cells)}"
            feed.problems.append(Problem(source, f"line {line_no}", message))
            continue
        cve = cells[0].upper()
        if not CVE_ID.match(cve):
            feed.problems.append(Problem(source, f"line {line_no}", f"not a CVE id: {cells[0]!r}"))
            continue
        try:
            score = EpssScore(
                cve, _probability(cells[1], "epss"), _probability(cells[2], "percentile")
            )
        except ValueError as exc:
            feed.problems.append(Problem(source, f"line {line_no}", str(exc)))
            continue
        feed.items.append(score)
    if not feed.items and not feed.problems:
        raise FeedError(source, None, "no EPSS rows")
    return feed


def load_epss(path: Path) -> EpssFeed:
    """From a `.csv` / `.csv.gz` file, or a folder: its newest (by name) `*.csv*` file."""
    if path.is_dir():
        found = sorted(p for p in path.glob("*.csv*") if not p.name.endswith(".meta.json"))
        if not found:
            raise FeedError(str(path), None, "no EPSS .csv or .csv.gz file in this folder")
        path = found[-1]
    return parse_epss(read_bytes(path), str(path))


def fetch_epss(
    fetcher: Fetcher, *, url: str = EPSS_URL, max_age: timedelta = timedelta(hours=12)
) -> tuple[EpssFeed, bool]:
    """Download (or reuse the cached copy) and parse; returns the scores and `from_cache`."""
    got = fetcher.download(url, fetcher.cache_dir / "epss" / EPSS_FILE, max_age=max_age)
    return parse_epss(read_bytes(got.path), url), got.from_cache
