"""`civicshield vulns …` and `civicshield risk …` end to end on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.integration.cli.conftest import Cli

VULN = SHARED_DATA / "vuln"
pytestmark = pytest.mark.skipif(not VULN.is_dir(), reason=f"needs shared data at {VULN}")
CSV = (
    "name,sector,kind,ips,criticality,cpe\n"
    "router-1,transport,iot,10.0.0.1,4,cpe:2.3:o:mikrotik:routeros:6.42:*:*:*:*:*:*:*\n"
)


def test_sync_import_triage_and_report(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    synced = cli.json("vulns", "sync", "--from", str(VULN), "--only", "nvd", "--only", "kev")
    assert {s["source"] for s in synced["stored"]} == {"nvd", "kev"}
    again = cli.json("vulns", "sync", "--from", str(VULN), "--only", "nvd", "--only", "kev")
    assert all(s["created"] == s["updated"] == 0 for s in again["stored"])

    inventory = tmp_path / "city.csv"
    inventory.write_text(CSV)
    imported = cli.json("assets", "import", str(inventory))
    assert imported["vulnerabilities"]["match"]["created"] >= 1  # matched at import

    assert cli.json("vulns", "match")["created"] == 0  # nothing new since
    found = cli.json("vulns", "findings", "--kev")
    (item,) = [f for f in found["items"] if f["cve_id"] == "CVE-2018-14847"]
    assert item["decision"] in ("act", "attend")

    refused = cli("vulns", "status", str(item["id"]), "--set", "accepted", "--reason", "ACL")
    assert refused.exit_code == 1 and "expiry" in refused.stderr
    changed = cli.json(
        "vulns", "status", str(item["id"]), "--set", "accepted", "--reason", "ACL",
        "--until", "2027-01-31", "--approver", "CISO",
    )  # fmt: skip
    assert changed == {"changed": 1}
    shown = cli.json("vulns", "show", str(item["id"]))
    assert shown["status"] == "accepted" and shown["approved_by"] == "CISO"
    assert "Decision" in cli.ok("vulns", "show", str(item["id"])).stdout
    assert cli.json("vulns", "cve", "CVE-2018-14847")["kev_date_added"] == "2021-12-01"

    sample = VULN / "scanner-samples" / "openvas" / "defectdojo_one_vuln.xml"
    orphan = cli.json("vulns", "import", str(sample))
    assert orphan["created"] == 0 and orphan["problems"]  # its host is not in the inventory

    report = tmp_path / "report.html"
    cli.ok("risk", "report", "-o", str(report), "--html", "--lang", "es")
    assert 'lang="es-MX"' in report.read_text()
    assert cli.json("risk", "summary")["city"]["open_findings"] >= 1

    policy = cli.json("vulns", "policy")
    assert policy["version"] == 1
