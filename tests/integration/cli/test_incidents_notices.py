"""`civicshield incidents notice list|draft|send|show` and `incidents register
list|record|export|verify`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from .conftest import Cli
from .test_incidents_evidence import new_case

PERSONS = (
    "personal_information",
    "circumstances",
    "occurred_period",
    "measures_taken",
    "measures_for_person",
    "contact",
)


def test_notices_and_register_from_the_command_line(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    case = str(new_case(cli, "Lost laptop")["id"])
    made = cli.json(
        "incidents",
        "notice",
        "draft",
        case,
        "qc-a21.persons",
        "--lang",
        "fr",
        "--channel",
        "letter",
        "--field",
        "personal_information=noms",
    )
    nid = str(made["id"])
    refused = cli("incidents", "notice", "send", case, nid)
    assert refused.exit_code != 0 and "measures_for_person" in refused.output
    fields = [arg for f in PERSONS for arg in ("--field", f"{f}=valeur {f}")]
    sent = cli.json(
        "incidents", "notice", "send", case, nid, "--at", "2026-01-05T09:00:00-05:00", *fields
    )
    assert sent["status"] == "sent" and sent["sent_at"].startswith("2026-01-05T14:00")
    shown = cli.ok("incidents", "notice", "show", case, nid).stdout
    assert "valeur measures_for_person" in shown and "Mesures que la personne" in shown
    assert nid in cli.ok("incidents", "notice", "list", case).stdout
    again = cli("incidents", "notice", "send", case, nid)
    assert again.exit_code != 0 and "already sent" in again.output
    bad = cli("incidents", "register", "record", case, "--field", "public_notice")
    assert bad.exit_code != 0 and "name=text" in bad.output
    one = cli.json("incidents", "register", "record", case, "--field", "persons_affected=-4")
    two = cli.json("incidents", "register", "record", case, "--field", "public_notice=no")
    assert (one["version"], two["version"]) == (1, 2) and two["prev_hash"] == one["hash"]
    listed = cli.json("incidents", "register", "list")
    assert [(e["case_id"], e["version"]) for e in listed] == [(int(case), 2)]
    out = tmp_path / "register.csv"
    cli.ok(
        "incidents",
        "register",
        "export",
        "--format",
        "csv",
        "--out",
        str(out),
        "--lang",
        "es",
        "--all-versions",
    )
    content = out.read_bytes().decode("utf-8-sig")
    assert "Personas afectadas" in content and "'-4" in content and len(content.splitlines()) == 3
    pdf = tmp_path / "register.pdf"
    cli.ok("incidents", "register", "export", "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert cli.json("incidents", "register", "verify")["ok"] is True
    rt = cli.runtime()
    try:
        with rt.session() as s:
            s.execute(
                text("UPDATE incident_register SET recorded_by = 'mallory' WHERE version = 1")
            )
    finally:
        rt.close()
    broken = cli("incidents", "register", "verify")
    assert broken.exit_code == 1 and "broken at row" in broken.output
