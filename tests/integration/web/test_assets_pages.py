"""The inventory pages: the filtered list (scoped for sector operators), one asset with its
history, edit and retire, and the import wizard (upload, preview, confirm)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from civicshield import assets
from civicshield.assets import AssetCreate, AssetKind
from civicshield.core import SYSTEM, Role, Sector
from civicshield.runtime import Runtime
from civicshield.web.routes import assets_import
from tests.conftest import SHARED_DATA
from tests.integration.web.support import csrf_from, post_form


def _add(runtime: Runtime, name: str, sector: Sector, **values: Any) -> int:
    data = AssetCreate(name=name, sector=sector, kind=values.pop("kind", AssetKind.IT), **values)
    with runtime.session() as session:
        return assets.create_asset(session, data, actor=SYSTEM, clock=runtime.clock).id


@pytest.fixture
def inventory(runtime: Runtime) -> dict[str, int]:
    return {
        "pump": _add(
            runtime,
            "pump-north",
            Sector.WATER,
            kind=AssetKind.OT,
            zone="scada",
            criticality=5,
            ips=["10.1.0.5"],
            vendor="Siemens",
        ),
        "camera": _add(
            runtime,
            "cam-plaza-01",
            Sector.TRANSPORT,
            kind=AssetKind.IOT,
            zone="traffic",
            criticality=2,
            internet_exposed=True,
            ips=["192.0.2.7"],
        ),
        "mail": _add(runtime, "mail-01", Sector.GOVERNANCE, criticality=4, hostnames=["mail.city"]),
    }


def _rows(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-testid="asset-row-(\d+)"', page)]


def test_list_filters_sorts_and_swaps_the_table(
    inventory: dict[str, int], admin_client: Any
) -> None:
    page = admin_client.get("/assets").text
    assert "3 assets" in page and 'aria-current="page"' in page
    assert 'data-testid="nav-inventory"' in page
    assert "Vital (5)" in page and "Exposed" in page and "Not exposed" in page
    # default order: sector, then name (governance, transport, water)
    assert _rows(page) == [inventory["mail"], inventory["camera"], inventory["pump"]]
    by_crit = admin_client.get("/assets?sort=criticality").text
    assert _rows(by_crit) == [inventory["pump"], inventory["mail"], inventory["camera"]]
    by_name = admin_client.get("/assets?sort=name").text
    assert _rows(by_name) == [inventory["camera"], inventory["mail"], inventory["pump"]]

    assert _rows(admin_client.get("/assets?sector=water").text) == [inventory["pump"]]
    assert _rows(admin_client.get("/assets?exposed=yes").text) == [inventory["camera"]]
    assert _rows(admin_client.get("/assets?criticality=4&sort=name").text) == [
        inventory["mail"],
        inventory["pump"],
    ]
    assert _rows(admin_client.get("/assets?kind=iot").text) == [inventory["camera"]]
    assert _rows(admin_client.get("/assets?zone=scada").text) == [inventory["pump"]]
    assert _rows(admin_client.get("/assets?q=siemens").text) == [inventory["pump"]]
    assert _rows(admin_client.get("/assets?lifecycle=retired").text) == []
    assert 'data-testid="assets-empty"' in admin_client.get("/assets?q=nothing-like-it").text
    # nonsense values are ignored, not errors; the chosen ones are shown back
    odd = admin_client.get("/assets?sector=moon&criticality=9&sort=colour&exposed=maybe")
    assert odd.status_code == 200 and len(_rows(odd.text)) == 3
    assert 'value="water" selected' in admin_client.get("/assets?sector=water").text
    fragment = admin_client.get(
        "/assets?kind=ot", headers={"HX-Request": "true", "HX-Target": "assets-table"}
    ).text
    assert "<html" not in fragment and _rows(fragment) == [inventory["pump"]]


def test_pages_keep_the_filters(runtime: Runtime, admin_client: Any) -> None:
    for n in range(27):
        _add(runtime, f"meter-{n:02d}", Sector.ENERGY)
    first = admin_client.get("/assets?sector=energy").text
    assert "27 assets" in first and len(_rows(first)) == 25
    assert 'href="/assets?sector=energy&amp;offset=25"' in first
    second = admin_client.get("/assets?sector=energy&offset=25").text
    assert len(_rows(second)) == 2


def test_a_sector_operator_sees_only_their_sectors(inventory: dict[str, int], as_role: Any) -> None:
    operator = as_role(Role.SECTOR_OPERATOR)  # water
    page = operator.get("/assets").text
    assert _rows(page) == [inventory["pump"]]
    assert 'value="transport"' not in page  # the sector filter offers only their sectors
    assert _rows(operator.get("/assets?sector=transport").text) == []
    assert operator.get(f"/assets/{inventory['camera']}").status_code == 404
    url = f"/assets/{inventory['pump']}"
    values = {"name": "pump", "sector": "energy", "kind": "ot", "criticality": "5"}
    moved = post_form(operator, url, url, {**values, "lifecycle": "active"})
    assert moved.status_code == 422 and 'data-testid="error-sector"' in moved.text
    assert post_form(operator, url, f"/assets/{inventory['camera']}/retire").status_code == 404


def test_detail_shows_identifiers_and_history(runtime: Runtime, admin_client: Any) -> None:
    asset_id = _add(
        runtime,
        "<b>plc</b>",
        Sector.WATER,
        kind=AssetKind.OT,
        ips=["10.0.0.9"],
        macs=["AA-BB-CC-00-11-22"],
        hostnames=["plc.water.city"],
        cpe="cpe:2.3:h:siemens:s7-1200:-:*:*:*:*:*:*:*",
        serial="SN-42",
        owner="Water ops",
        tags=["scada"],
    )
    page = admin_client.get(f"/assets/{asset_id}").text
    assert "<b>plc</b>" not in page and "&lt;b&gt;plc&lt;/b&gt;" in page
    for text in ("10.0.0.9", "aa:bb:cc:00:11:22", "plc.water.city", "SN-42", "Water ops"):
        assert text in page
    assert "cpe:2.3:h:siemens:s7-1200" in page
    assert 'data-testid="history-created"' in page
    assert admin_client.get("/assets/999999").status_code == 404


def test_edit_writes_history(inventory: dict[str, int], admin_client: Any) -> None:
    url = f"/assets/{inventory['pump']}"
    page = admin_client.get(url).text
    values = {
        "csrf_token": csrf_from(page),
        "name": "pump-north",
        "sector": "water",
        "kind": "ot",
        "zone": "scada",
        "criticality": "4",
        "lifecycle": "active",
        "internet_exposed": "yes",
        "vendor": "Siemens",
        "ips": "10.1.0.5, 10.1.0.6",
        "owner": "Water ops",
        "tags": "pumps, north",
    }
    saved = admin_client.post(url, data=values, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == url
    after = admin_client.get(url).text
    assert "High (4)" in after and "10.1.0.6" in after
    for field in ("criticality", "internet_exposed", "ips", "owner", "tags"):
        assert f'data-testid="history-{field}"' in after
    assert 'data-testid="history-vendor"' not in after  # unchanged fields write nothing

    bad = admin_client.post(
        url, data={**values, "ips": "not-an-ip", "latitude": "91"}, follow_redirects=False
    )
    assert bad.status_code == 422
    assert 'data-testid="error-ips"' in bad.text and 'data-testid="error-latitude"' in bad.text
    assert 'value="not-an-ip"' in bad.text  # what was typed is shown again


def test_retire(inventory: dict[str, int], admin_client: Any) -> None:
    url = f"/assets/{inventory['mail']}"
    retired = post_form(admin_client, url, f"{url}/retire")
    assert retired.status_code == 303
    page = admin_client.get(url).text
    assert 'data-testid="history-lifecycle"' in page and 'data-testid="asset-retire"' not in page
    assert _rows(admin_client.get("/assets?lifecycle=retired").text) == [inventory["mail"]]


def test_forms_need_the_csrf_token(inventory: dict[str, int], admin_client: Any) -> None:
    url = f"/assets/{inventory['mail']}"
    assert admin_client.post(f"{url}/retire", data={}, follow_redirects=False).status_code == 403
    assert admin_client.post(url, data={"name": "x"}, follow_redirects=False).status_code == 403
    upload = admin_client.post("/assets/import", data={"format": "csv"}, follow_redirects=False)
    assert upload.status_code == 403


def test_readers_may_not_change(inventory: dict[str, int], as_role: Any) -> None:
    viewer = as_role(Role.VIEWER)
    url = f"/assets/{inventory['pump']}"
    page = viewer.get(url).text
    assert 'data-testid="asset-edit-form"' not in page and 'data-testid="asset-retire"' not in page
    assert 'data-testid="assets-import"' not in viewer.get("/assets").text
    assert post_form(viewer, url, f"{url}/retire").status_code == 403
    assert post_form(viewer, url, url, {"name": "x"}).status_code == 403
    assert viewer.get("/assets/import").status_code == 403
    assert viewer.get("/assets/import/template").status_code == 403
    assert as_role(Role.PRIVACY_OFFICER).get("/assets").status_code == 403


CSV = (
    "name,sector,kind,zone,ips,macs,criticality\n"
    "pump-north,water,ot,scada,10.1.0.5,,4\n"  # matches by IP in the zone: 5 -> 4
    "valve-east,water,ot,scada,10.1.0.9,00:11:22:33:44:55,4\n"
    "broken,water,ot,scada,999.1.1.1,,3\n"
    "cam-plaza-01,transport,iot,traffic,192.0.2.7,,2\n"  # same values: unchanged
    "db-01,governance,it,,10.9.9.9,,5\n"
)


def _upload(client: Any, data: bytes, filename: str = "inventory.csv", **fields: str) -> Any:
    token = csrf_from(client.get("/assets/import").text)
    return client.post(
        "/assets/import",
        data={"csrf_token": token, **fields},
        files={"file": (filename, data, "text/csv")},
        follow_redirects=False,
    )


def test_import_wizard_preview_then_confirm(
    inventory: dict[str, int], admin_client: Any, runtime: Runtime
) -> None:
    template = admin_client.get("/assets/import/template")
    assert template.status_code == 200 and template.text.startswith("name,sector")
    assert "attachment" in template.headers["content-disposition"]

    preview = _upload(admin_client, CSV.encode())
    assert preview.status_code == 200, preview.text
    page = preview.text
    assert 'data-testid="import-create-3"' in page and 'data-testid="import-error-4"' in page
    assert "999.1.1.1" in page and "<code>ips</code>" in page  # line and column named
    assert 'data-testid="import-unchanged"' in page and 'data-testid="import-create-6"' in page
    assert 'data-testid="import-update-2-criticality"' in page
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    with runtime.session() as session:  # nothing written yet
        assert assets.list_assets(session).total == 3

    done = post_form(
        admin_client, "/assets/import", "/assets/import/confirm", {"token": token.group(1)}
    )
    assert done.status_code == 200, done.text
    assert "2 created, 1 updated, 1 unchanged, 1 rows refused" in done.text
    linked = [int(n) for n in re.findall(r'data-testid="import-asset-(\d+)"', done.text)]
    assert linked[0] == inventory["pump"] and len(linked) == 3
    assert "valve-east" in admin_client.get(f"/assets/{linked[1]}").text
    pump = admin_client.get(f"/assets/{inventory['pump']}").text
    assert "High (4)" in pump and 'data-testid="history-criticality"' in pump

    again = post_form(
        admin_client, "/assets/import", "/assets/import/confirm", {"token": token.group(1)}
    )
    assert again.status_code == 410 and 'data-testid="import-error"' in again.text
    leftovers = list((runtime.settings.data_dir / "imports").iterdir())
    assert leftovers == []


def test_an_upload_belongs_to_its_user(inventory: dict[str, int], as_role: Any) -> None:
    first = as_role(Role.ADMIN, "first-admin")
    page = _upload(first, CSV.encode()).text
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    second = as_role(Role.ANALYST)
    stolen = post_form(second, "/assets/import", "/assets/import/confirm", {"token": token[1]})
    assert stolen.status_code == 410
    forged = post_form(second, "/assets/import", "/assets/import/confirm", {"token": "../x"})
    assert forged.status_code == 410


def test_upload_errors_are_explained(
    admin_client: Any, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    unreadable = _upload(admin_client, b"\xff\xfe\x00garbage")
    assert unreadable.status_code == 422 and "inventory.csv" in unreadable.text
    assert 'data-testid="import-error"' in unreadable.text
    empty = _upload(admin_client, b"   ")
    assert empty.status_code == 422 and "inventory.csv is empty." in empty.text
    monkeypatch.setattr(assets_import, "MAX_IMPORT_BYTES", 1024 * 1024)
    big = _upload(admin_client, b"name\n" + b"x" * (1024 * 1024))
    assert big.status_code == 422 and "larger than 1 MiB" in big.text
    unknown = _upload(admin_client, CSV.encode(), format="pdf")
    assert unknown.status_code == 422 and "Choose a format from the list." in unknown.text
    folder: Path = runtime.settings.data_dir / "imports"
    assert not folder.exists() or not any(folder.iterdir())  # refused uploads are not kept


def test_old_uploads_are_swept(
    inventory: dict[str, int], admin_client: Any, runtime: Runtime
) -> None:
    import os
    import time

    _upload(admin_client, CSV.encode())
    folder = runtime.settings.data_dir / "imports"
    stale = time.time() - assets_import.MAX_UPLOAD_AGE - 60
    for path in folder.iterdir():
        os.utime(path, (stale, stale))
    _upload(admin_client, CSV.encode())
    assert len(list(folder.iterdir())) == 2  # the new upload's body and metadata only


NMAP = SHARED_DATA / "vuln" / "scanner-samples" / "nmap" / "defectdojo_nmap_multiple_port.xml"


@pytest.mark.skipif(not NMAP.is_file(), reason=f"shared sample data absent: {NMAP}")
def test_an_nmap_report_uses_the_defaults(admin_client: Any, runtime: Runtime) -> None:
    defaults = {"sector": "water", "kind": "ot", "zone": "scada", "criticality": "4"}
    preview = _upload(admin_client, NMAP.read_bytes(), "scan.xml", **defaults)
    assert preview.status_code == 200, preview.text
    assert "NMAP" in preview.text and 'data-testid="import-software-9"' in preview.text
    token = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert token is not None
    done = post_form(admin_client, "/assets/import", "/assets/import/confirm", {"token": token[1]})
    assert "1 created" in done.text
    asset_id = int(re.findall(r'data-testid="import-asset-(\d+)"', done.text)[0])
    page = admin_client.get(f"/assets/{asset_id}").text
    assert 'data-testid="asset-sector">Water<' in page and "High (4)" in page
    assert 'data-testid="asset-software"' in page and page.count('data-testid="software-row"') > 1


def test_defaults_outside_the_scope_are_refused(as_role: Any) -> None:
    operator = as_role(Role.SECTOR_OPERATOR)  # water only
    refused = _upload(operator, b"name,sector,kind,ips\nx,water,ot,10.0.0.1\n", sector="energy")
    assert refused.status_code == 422 and "not one of your sectors" in refused.text
    assert 'value="energy"' not in operator.get("/assets/import").text
