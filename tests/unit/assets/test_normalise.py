"""Identifier normalisers and the create schema (no database)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from civicshield.assets import AssetCreate, template_csv
from civicshield.assets._normalise import normalise_cpe, normalise_hostname, normalise_mac


@pytest.mark.parametrize(
    "raw", ["AA-BB-CC-DD-EE-0F", "aabb.ccdd.ee0f", "aabbccddee0f", " aa:bb:cc:dd:ee:0f "]
)
def test_mac_forms_become_one(raw: str) -> None:
    assert normalise_mac(raw) == "aa:bb:cc:dd:ee:0f"


@pytest.mark.parametrize("raw", ["aa:bb:cc:dd:ee", "zz:bb:cc:dd:ee:ff", ""])
def test_bad_macs_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="MAC"):
        normalise_mac(raw)


def test_hostnames_are_lower_case_without_the_root_dot() -> None:
    assert normalise_hostname("CAM-01.City.Example.") == "cam-01.city.example"
    with pytest.raises(ValueError, match="host name"):
        normalise_hostname("bad host")


def test_cpe_syntax() -> None:
    good = "cpe:2.3:h:hikvision:ds-2cd2143g2-i:-:*:*:*:*:*:*:*"
    assert normalise_cpe(good) == good
    assert normalise_cpe(r"cpe:2.3:a:vendor:prod\:uct:1.0:*:*:*:*:*:*:*").startswith("cpe:2.3:a")
    for bad in ("cpe:/a:vendor:product:1.0", "cpe:2.3:x:v:p:1:*:*:*:*:*:*:*", "cpe:2.3:a:v:p"):
        with pytest.raises(ValueError, match=r"CPE 2\.3"):
            normalise_cpe(bad)


def test_create_normalises_and_validates() -> None:
    asset = AssetCreate(
        name=" cam-1 ",
        sector="transport",
        kind="iot",
        ips=["10.0.0.1", "10.0.0.1", "2001:DB8::1"],
        macs=["AA-BB-CC-DD-EE-FF"],
        tags=["Camera", "camera", "plaza"],
        serial="  ",
    )
    assert asset.name == "cam-1" and asset.serial is None
    assert asset.ips == ["10.0.0.1", "2001:db8::1"]
    assert asset.macs == ["aa:bb:cc:dd:ee:ff"] and asset.tags == ["camera", "plaza"]
    with pytest.raises(ValidationError, match="latitude"):
        AssetCreate(name="x", sector="water", kind="ot", latitude=1.0)
    with pytest.raises(ValidationError):
        AssetCreate(name="x", sector="water", kind="ot", criticality=6)


def test_template_header_lists_every_column_once() -> None:
    columns = template_csv().strip().split(",")
    assert len(columns) == len(set(columns)) == 22
    assert {"macs", "hostnames", "ips", "zone", "serial", "criticality"} <= set(columns)
