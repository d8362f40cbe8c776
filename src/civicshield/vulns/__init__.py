"""Vulnerabilities: feeds, CPE matching, findings per asset with status and history, SSVC
prioritisation under a versioned policy, scanner imports, and sector risk with its report.

Docs: vulns-feeds.md, vulns-matching.md, vulns-scanners.md, vulns-priority.md, risk.md.
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
from civicshield.vulns.enums import CLOSED_STATUSES, Decision, FindingStatus
from civicshield.vulns.jobs import EXPIRE_JOB, RISK_SNAPSHOT_JOB, SYNC_JOB
from civicshield.vulns.matcher import Certainty, Finding, Matcher
from civicshield.vulns.matching import match_inventory
from civicshield.vulns.policy import Policy, default_policy
from civicshield.vulns.policy_store import current_policy, list_policies, save_policy
from civicshield.vulns.priority import Assessment, AssetFacts, CveFacts, assess
from civicshield.vulns.report import (
    PdfRendererMissing,
    render_risk_report_html,
    render_risk_report_pdf,
)
from civicshield.vulns.risk import (
    FORMULA,
    RiskBand,
    RiskFormula,
    RiskSummary,
    RiskTrend,
    risk_trend,
    sector_risk,
    take_snapshot,
)
from civicshield.vulns.scan_import import import_scan
from civicshield.vulns.scanners import FORMATS as SCAN_FORMATS
from civicshield.vulns.scanners import ScanError, ScanReport, parse_scan
from civicshield.vulns.schemas import (
    CveRead,
    FindingChangeRead,
    FindingDetail,
    FindingFilter,
    FindingPage,
    FindingRead,
    MatchSummary,
    PolicyRead,
    ScanImportSummary,
    StatusChange,
)
from civicshield.vulns.service import (
    InventoryFollowUp,
    change_status,
    change_statuses,
    follow_inventory_import,
    get_cve,
    get_finding,
    list_findings,
    reassess,
    store_report,
)
from civicshield.vulns.versions import VersionError, compare_versions, in_range, version_key

__all__ = [
    "ANY",
    "CLOSED_STATUSES",
    "EXPIRE_JOB",
    "FORMULA",
    "NA",
    "RISK_SNAPSHOT_JOB",
    "SCAN_FORMATS",
    "SYNC_JOB",
    "ApplicabilityError",
    "Assessment",
    "AssetFacts",
    "Certainty",
    "Configuration",
    "Cpe",
    "CpeError",
    "CpeMatch",
    "CveApplicability",
    "CveFacts",
    "CveRead",
    "Decision",
    "Finding",
    "FindingChangeRead",
    "FindingDetail",
    "FindingFilter",
    "FindingPage",
    "FindingRead",
    "FindingStatus",
    "InventoryFollowUp",
    "MatchSummary",
    "Matcher",
    "Node",
    "Operator",
    "PdfRendererMissing",
    "Policy",
    "PolicyRead",
    "RiskBand",
    "RiskFormula",
    "RiskSummary",
    "RiskTrend",
    "ScanError",
    "ScanImportSummary",
    "ScanReport",
    "StatusChange",
    "VersionError",
    "VersionRange",
    "assess",
    "change_status",
    "change_statuses",
    "compare_versions",
    "criterion_matches",
    "current_policy",
    "default_policy",
    "follow_inventory_import",
    "get_cve",
    "get_finding",
    "import_scan",
    "in_range",
    "list_findings",
    "list_policies",
    "match_inventory",
    "parse_cpe",
    "parse_cve5",
    "parse_nvd_cve",
    "parse_nvd_page",
    "parse_scan",
    "reassess",
    "render_risk_report_html",
    "render_risk_report_pdf",
    "risk_trend",
    "save_policy",
    "sector_risk",
    "store_report",
    "take_snapshot",
    "version_key",
]
