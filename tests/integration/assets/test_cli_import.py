"""`civicshield assets import` (every format, defaults, --asset) and `assets template`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from civicshield.assets import TEMPLATE_COLUMNS
from tests.integration.cli.conftest import ADMIN_PASSWORD, Cli, cli_env

NMAP = b"""<?xml version="1.0"?>
<nmaprun scanner="nmap">
<host><status state="up"/><address addr="10.8.0.4" addrtype="ipv4"/>
<address addr="00:1B:1B:00:00:04" addrtype="mac" vendor="Siemens"/>
<ports><port protocol="tcp" portid="102"><state state="open"/>
<service name="iso-tsap" product="Siemens S7 PLC"/></port></ports></host>
</nmaprun>"""


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    logger = logging.getLogger("civicshield")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture
def cli(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    cli = Cli(cli_env(tmp_path / "var", db_url), tmp_path / "var", db_url)
    cli.ok("init", env={"CIVICSHIELD_ADMIN_PASSWORD": ADMIN_PASSWORD})
    return cli


def test_nmap_import_with_defaults_then_again(cli: Cli, tmp_path: Path) -> None:
    scan = tmp_path / "scan.xml"
    scan.write_bytes(NMAP)
    refused = cli("assets", "import", str(scan), "--json")
    assert refused.exit_code == 1 and "sector required" in refused.stdout
    done = cli.json("assets", "import", str(scan), "--sector", "water", "--kind", "ot")
    assert done["format"] == "nmap" and done["counts"]["create"] == 1
    asset_id = done["rows"][0]["asset_id"]
    shown = cli.json("assets", "show", str(asset_id))
    assert shown["vendor"] == "Siemens" and shown["kind"] == "ot"
    assert shown["software"][0]["key"] == "service:tcp/102"
    again = cli.json("assets", "import", str(scan), "--format", "nmap")
    assert again["counts"] == {"create": 0, "update": 0, "unchanged": 1, "error": 0}
    text = cli.ok("assets", "show", str(asset_id)).stdout
    assert "Siemens S7 PLC" in text


def test_sbom_with_target_asset(cli: Cli, tmp_path: Path) -> None:
    scan = tmp_path / "scan.xml"
    scan.write_bytes(NMAP)
    asset_id = cli.json("assets", "import", str(scan), "--sector", "water")["rows"][0]["asset_id"]
    bom = tmp_path / "fw.cdx.json"
    bom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": '
        '{"type": "firmware", "name": "s7-fw"}}, "components": [{"type": "firmware", '
        '"name": "s7-fw", "version": "4.5.2", "supplier": {"name": "Siemens"}, '
        '"cpe": "cpe:2.3:o:siemens:s7-1200_firmware:4.5.2:*:*:*:*:*:*:*"}]}'
    )
    dry = cli.json("assets", "import", str(bom), "--asset", str(asset_id), "--dry-run")
    assert dry["rows"][0]["software_plan"]["add"][0]["vendor"] == "Siemens"
    assert cli.json("assets", "show", str(asset_id))["software"][0]["kind"] == "service"
    cli.json("assets", "import", str(bom), "--asset", str(asset_id))
    kinds = {s["kind"] for s in cli.json("assets", "show", str(asset_id))["software"]}
    assert kinds == {"service", "firmware"}


def test_templates_and_xlsx_import(cli: Cli, tmp_path: Path) -> None:
    assert cli.ok("assets", "template").stdout.strip() == ",".join(TEMPLATE_COLUMNS)
    assert cli("assets", "template", "--xlsx").exit_code != 0
    out = tmp_path / "template.xlsx"
    cli.ok("assets", "template", "--xlsx", "-o", str(out))
    book = load_workbook(out, read_only=True)
    header = next(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert list(header) == list(TEMPLATE_COLUMNS)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Inventario"
    sheet.append(["name", "sector", "kind", "ips", "criticality", "internet_exposed"])
    sheet.append(["pump-1", "water", "ot", "10.9.0.7", 5, True])
    sheet.append(["pump-2", "water", "ot", "not-an-ip", 3.0, False])
    data = io.BytesIO()
    book.save(data)
    sheet_file = tmp_path / "inventory.bin"
    sheet_file.write_bytes(data.getvalue())
    result = cli("assets", "import", str(sheet_file), "--json")
    assert result.exit_code == 1
    preview = json.loads(result.stdout)
    assert preview["format"] == "xlsx" and preview["counts"]["create"] == 1
    error = preview["rows"][1]["errors"][0]
    assert (error["where"], error["column"]) == ("Inventario!3", "ips")
    again = json.loads(cli("assets", "import", str(sheet_file), "--json").stdout)
    assert again["counts"]["unchanged"] == 1
