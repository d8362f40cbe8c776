"""`civicshield incidents evidence ...` and the evidence key made by `civicshield init`."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from civicshield import incidents
from civicshield.core import SYSTEM

from .conftest import Cli


def new_case(cli: Cli, title: str) -> dict[str, int]:
    """The CLI opens cases from alerts only: a hand-made one through the domain."""
    rt = cli.runtime()
    try:
        with rt.session() as s:
            made = incidents.create_case(
                s, incidents.CaseCreate(title=title), actor=SYSTEM, clock=rt.clock
            )
        return {"id": made.id}
    finally:
        rt.close()


def test_init_creates_the_evidence_key_file_0600_and_keeps_it(initialised: Cli) -> None:
    path = initialised.data_dir / "evidence.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    again = initialised.json("init")
    assert again["evidence_key"].endswith("(kept, mode 0600)") and path.read_bytes() == first
    doc = json.loads(first)
    assert doc["current"] in doc["keys"] and doc["current"] not in json.dumps(again)


def test_add_list_get_verify_custody_transfer_rekey(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    case = new_case(cli, "Ransomware on FS-01")
    source = tmp_path / "note.txt"
    source.write_bytes(b"YOUR FILES ARE ENCRYPTED\n" * 1000)
    added = cli.json(
        "incidents", "evidence", "add", str(case["id"]), str(source), "-d", "ransom note"
    )
    assert added["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    eid = str(added["id"])
    listed = cli.ok("incidents", "evidence", "list", str(case["id"])).stdout
    assert "note.txt" in listed and added["sha256"][:12] in listed
    out = tmp_path / "copy.txt"
    cli.ok("incidents", "evidence", "get", str(case["id"]), eid, "--out", str(out))
    assert out.read_bytes() == source.read_bytes()
    refused = cli("incidents", "evidence", "get", str(case["id"]), eid, "--out", str(out))
    assert refused.exit_code == 1 and "exists already" in refused.stderr
    cli.ok("incidents", "evidence", "transfer", str(case["id"]), eid, "--to", "Det. Roy")
    rekeyed = cli.json("incidents", "evidence", "rekey")
    assert rekeyed["rekeyed"] == [added["id"]] and len(rekeyed["dropped_keys"]) == 1
    assert cli.json("incidents", "evidence", "verify", str(case["id"]))[0]["intact"] is True
    custody = cli.json("incidents", "evidence", "custody", str(case["id"]), eid)
    assert [c["action"] for c in custody] == ["upload", "download", "transfer", "rekey", "verify"]
    (blob,) = [p for p in (cli.data_dir / "evidence").iterdir() if not p.name.startswith(".")]
    blob.write_bytes(blob.read_bytes()[:-1])
    bad = cli("incidents", "evidence", "verify", str(case["id"]), eid)
    assert bad.exit_code == 1 and "TAMPERED" in bad.stdout
    gone = cli("incidents", "evidence", "get", str(case["id"]), eid, "--out", str(tmp_path / "x"))
    assert gone.exit_code == 1 and "failed verification" in gone.stderr
    assert not (tmp_path / "x").exists()


def test_a_bad_key_setting_is_a_clear_error(initialised: Cli, tmp_path: Path) -> None:
    case = new_case(initialised, "Key check")
    (tmp_path / "f").write_bytes(b"x")
    env = {"CIVICSHIELD_EVIDENCE_KEY": "c2hvcnQ="}
    bad = initialised("incidents", "evidence", "add", str(case["id"]), str(tmp_path / "f"), env=env)
    assert bad.exit_code == 1 and "CIVICSHIELD_EVIDENCE_KEY: decodes to 5 bytes" in bad.stderr
    assert "c2hvcnQ=" not in bad.stderr
