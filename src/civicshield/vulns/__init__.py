"""Vulnerability matching: CPE names, vendor version order, CVE applicability and the matcher.

Pure domain code (imports only `civicshield.core`); semantics in docs/vulns-matching.md.
"""

from civicshield.vulns.applicability import (
    ApplicabilityError,
    Configuration,
    CpeMatch,
    CveApplicability,
    Node,
    Operator,
    VersionRange,
    parse_cve5,
    parse_nvd_cve,
    parse_nvd_page,
)
from civicshield.vulns.cpe import ANY, NA, Cpe, CpeError, criterion_matches, parse_cpe
from civicshield.vulns.matcher import Certainty, Finding, Matcher
from civicshield.vulns.versions import VersionError, compare_versions, in_range, version_key

__all__ = [
    "ANY",
    "NA",
    "ApplicabilityError",
    "Certainty",
    "Configuration",
    "Cpe",
    "CpeError",
    "CpeMatch",
    "CveApplicability",
    "Finding",
    "Matcher",
    "Node",
    "Operator",
    "VersionError",
    "VersionRange",
    "compare_versions",
    "criterion_matches",
    "in_range",
    "parse_cpe",
    "parse_cve5",
    "parse_nvd_cve",
    "parse_nvd_page",
    "version_key",
]
