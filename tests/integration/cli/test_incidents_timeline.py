"""`civicshield incidents observables|related|timeline|export|metrics`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .conftest import Cli
from .test_incidents_evidence import new_case


def test_observables_related_timeline_export_and_metrics(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    first = new_case(cli, "Ransomware on FS-01")["id"]
    second = new_case(cli, "Beacon from FS-02")["id"]
    added = cli.json(
        "incidents", "observables", str(first), "--add", "domain=C2.Example.ORG", "--ioc"
    )
    assert added[0]["value"] == "c2.example.org" and added[0]["ioc"] is True
    cli.ok("incidents", "observables", str(second), "--add", "domain=c2.example.org")
    bad = cli("incidents", "observables", str(first), "--add", "ipv4=10.0.0.300")
    assert bad.exit_code == 1 and "IPv4" in bad.output
    shape = cli("incidents", "observables", str(first), "--add", "nonsense")
    assert shape.exit_code == 1 and "TYPE=VALUE" in shape.output
    related = cli.json("incidents", "related", str(first))
    assert [(r["id"], r["shared"]) for r in related] == [(second, ["domain:c2.example.org"])]
    timeline = cli.json("incidents", "timeline", str(first))
    assert [e["kind"] for e in timeline] == ["action", "observable"]
    assert "c2.example.org" in cli.ok("incidents", "timeline", str(first)).stdout
    out = tmp_path / "t.csv"
    cli.ok("incidents", "export", str(first), "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["kind"] for r in rows] == ["action", "observable"]
    as_json = json.loads(cli.ok("incidents", "export", str(first), "--format", "json").stdout)
    assert as_json["case_id"] == first
    html = tmp_path / "r.html"
    cli.ok(
        "incidents", "export", str(first), "--format", "html", "--out", str(html),
        "--lang", "es", "--block", "backups-offline",
    )  # fmt: skip
    assert "Mantener respaldos fuera de línea y probarlos" in html.read_text(encoding="utf-8")
    pdf = tmp_path / "r.pdf"
    cli.ok("incidents", "export", str(first), "-f", "pdf", "-o", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    unknown = cli("incidents", "export", str(first), "--block", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output
    assert cli("incidents", "export", str(first), "-f", "doc").exit_code == 1
    metrics = cli.json("incidents", "metrics")
    assert metrics["open_by_status"] == {"new": 2}
    assert "MTTD" in cli.ok("incidents", "metrics").stdout
    missing = cli("incidents", "timeline", "999")
    assert missing.exit_code == 1 and "case 999 does not exist" in missing.output
