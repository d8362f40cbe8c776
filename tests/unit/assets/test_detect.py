"""Format sniffing from content, and refusal of corrupted files with their position."""

from __future__ import annotations

import pytest

from civicshield.assets import detect_format, template_xlsx
from civicshield.assets.importers._common import load_json, load_xml
from civicshield.core.errors import Invalid


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"name,sector\ncam,transport\n", "csv"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun>\n<?xml-stylesheet href="x"?>\n<nmaprun>',
            "nmap",
        ),
        (
            b'<?xml version="1.0"?><!-- c --><bom xmlns="http://cyclonedx.org/schema/bom/1.5">',
            "cyclonedx",
        ),
        (b'\xef\xbb\xbf  {"bomFormat": "CycloneDX", "specVersion": "1.6"}', "cyclonedx"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": []}', "spdx"),
        (b'{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}', "spdx"),
    ],
)
def test_sniffs_from_content(data: bytes, fmt: str) -> None:
    # The extension is deliberately wrong: content decides.
    assert detect_format(data, "upload.txt") == fmt


def test_sniffs_xlsx_template() -> None:
    assert detect_format(template_xlsx(), "inventory.bin") == "xlsx"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"   ", "empty"),
        (b"<html><body/></html>", "root element <html>"),
        (b'{"hello": 1}', "neither CycloneDX"),
        (b"\x00\x01binary", "binary"),
    ],
)
def test_refuses_unknown_content_naming_the_file(data: bytes, problem: str) -> None:
    with pytest.raises(Invalid, match=f"scan.dat: .*{problem}"):
        detect_format(data, "scan.dat")


def test_bad_xml_is_refused_with_line_and_column() -> None:
    with pytest.raises(Invalid, match=r"^scan\.xml:3:3: not well-formed XML"):
        load_xml(b"<nmaprun>\n<host>\n</x>\n", "scan.xml")


def test_xml_entities_are_refused() -> None:
    with pytest.raises(Invalid, match="refused XML construct"):
        load_xml(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "bomb.xml")


def test_bad_json_is_refused_with_line_and_column() -> None:
    with pytest.raises(Invalid, match=r"^bom\.json:2:14: not valid JSON"):
        load_json(b'{"bomFormat":\n "CycloneDX",, }', "bom.json")
