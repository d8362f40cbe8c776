"""Vulnerability data feeds: CISA KEV (JSON), FIRST EPSS (CSV), CVE JSON 5 (with CISA ADP
enrichment) and the NVD CVE API 2.0. Each client fetches over HTTP (injectable transport, disk
cache) or loads a local file or folder; malformed records are reported by position and skipped.
See docs/vulns-feeds.md.
"""

from civicshield.vulns.feeds._http import (
    FeedError,
    FeedResult,
    Fetcher,
    Problem,
    RateLimiter,
    RecordError,
)
from civicshield.vulns.feeds.cve5 import Cve5Result, fetch_cve5, load_cve5, parse_cve5_record
from civicshield.vulns.feeds.epss import EpssFeed, EpssScore, fetch_epss, load_epss, parse_epss
from civicshield.vulns.feeds.kev import KevCatalog, KevEntry, fetch_kev, load_kev, parse_kev
from civicshield.vulns.feeds.nvd import (
    NvdClient,
    NvdResult,
    load_nvd,
    nvd_rate_limiter,
    parse_nvd_record,
    windows,
)
from civicshield.vulns.feeds.records import CveRecord, CvssScore, Description, KevMark, Ssvc

__all__ = [
    "Cve5Result",
    "CveRecord",
    "CvssScore",
    "Description",
    "EpssFeed",
    "EpssScore",
    "FeedError",
    "FeedResult",
    "Fetcher",
    "KevCatalog",
    "KevEntry",
    "KevMark",
    "NvdClient",
    "NvdResult",
    "Problem",
    "RateLimiter",
    "RecordError",
    "Ssvc",
    "fetch_cve5",
    "fetch_epss",
    "fetch_kev",
    "load_cve5",
    "load_epss",
    "load_kev",
    "load_nvd",
    "nvd_rate_limiter",
    "parse_cve5_record",
    "parse_epss",
    "parse_kev",
    "parse_nvd_record",
    "windows",
]
