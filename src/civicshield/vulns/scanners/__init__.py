"""Pure parsers that turn scanner outputs (Grype, Trivy, OpenVAS, Wazuh, Nmap vulners) and
CycloneDX VEX into neutral records; see docs/vulns-scanners.md."""

from civicshield.vulns.scanners.detect import FORMATS, parse_scan
from civicshield.vulns.scanners.model import (
    SEVERITIES,
    VEX_STATES,
    ComponentRef,
    HostRef,
    Problem,
    ScanError,
    ScanFinding,
    ScanReport,
    VexStatement,
)

SCAN_FORMATS = FORMATS  # the name `civicshield.vulns` exports

__all__ = [
    "FORMATS",
    "SCAN_FORMATS",
    "SEVERITIES",
    "VEX_STATES",
    "ComponentRef",
    "HostRef",
    "Problem",
    "ScanError",
    "ScanFinding",
    "ScanReport",
    "VexStatement",
    "parse_scan",
]
