"""Every scanner/SBOM sample imports; re-importing it changes nothing; software is merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield import assets, audit
from civicshield.assets import ImportDefaults, ImportPreview
from civicshield.core import SYSTEM, Sector
from civicshield.core.errors import Invalid
from civicshield.runtime import Runtime
from tests.conftest import SHARED_DATA

SAMPLES = SHARED_DATA / "vuln" / "scanner-samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"shared scanner samples not found at {SAMPLES}"
)
DEFAULTS = ImportDefaults(sector=Sector.TRANSPORT, zone="dmz", criticality=4)
# Documents whose described component has no purl: they attach to a target asset.
NEEDS_TARGET = {
    "bomexamples_HBOM_PCIe-SATA-adapter-board.json",
    "defectdojo_cyclonedx_bom.xml",
    "defectdojo_log4j.json",
    "defectdojo_valid-vulnerability-1.4.json",
    "spdxexamples_example14-examplemaven-enriched.spdx23.json",
    "spdxexamples_example14-examplemaven-enriched.spdx3.json",
}
VEX_ONLY = {
    "bomexamples_VEX_CISA_Case-2.json",
    "bomexamples_VEX_CISA_Case-8.json",
    "bomexamples_VEX_vex.json",
}


def _samples() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for d in ("nmap", "cyclonedx", "spdx") for p in (SAMPLES / d).iterdir())


def _preview(rt: Runtime, path: Path, target: int | None = None) -> ImportPreview:
    with rt.session() as session:
        return assets.preview_import(
            session,
            data=path.read_bytes(),
            filename=path.name,
            scope=None,
            defaults=DEFAULTS,
            target_asset_id=target,
        )


def _import(rt: Runtime, path: Path, target: int | None = None) -> ImportPreview:
    with rt.session() as session:
        preview = assets.preview_import(
            session,
            data=path.read_bytes(),
            filename=path.name,
            scope=None,
            defaults=DEFAULTS,
            target_asset_id=target,
        )
        return assets.apply(session, preview, actor=SYSTEM, clock=rt.clock)


def _target(rt: Runtime) -> int:
    with rt.session() as session:
        return assets.create_asset(
            session,
            assets.AssetCreate(name="target", sector=Sector.WATER, kind="ot", serial="T-1"),
            actor=SYSTEM,
            clock=rt.clock,
        ).id


@needs_samples
@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_every_sample_imports_and_reimport_changes_nothing(
    runtime_any: Runtime, path: Path
) -> None:
    rt = runtime_any
    if path.name in VEX_ONLY:
        with pytest.raises(Invalid, match=r"VEX.*civicshield vulns import"):
            _preview(rt, path)
        return
    target = _target(rt) if path.name in NEEDS_TARGET else None
    first = _import(rt, path, target)
    assert first.format == path.parent.name
    assert first.counts["error"] == 0, first.errors
    assert first.counts["create"] + first.counts["update"] >= 1
    assert any(r.software_plan and r.software_plan.add for r in first.rows)
    with rt.session() as session:
        changes_before = audit.list_entries(session, action="asset.software").total
    again = _import(rt, path, target)
    assert {r.action for r in again.rows} == {"unchanged"}
    for row in again.rows:
        assert row.software_plan is not None and not row.software_plan.changed
        assert row.software_plan.unchanged > 0
    with rt.session() as session:
        assert audit.list_entries(session, action="asset.software").total == changes_before


@needs_samples
def test_nmap_hosts_services_and_down_hosts(runtime: Runtime) -> None:
    rt = runtime
    result = _import(rt, SAMPLES / "nmap" / "libnmap_full_sudo6.xml")
    assert result.skipped == 252 and result.counts["create"] == 4
    dionaea = _import(rt, SAMPLES / "nmap" / "libnmap_dionaea_scan.xml")
    asset_id = dionaea.rows[0].asset_id
    assert asset_id is not None
    with rt.session() as session:
        detail = assets.get_asset_detail(session, asset_id)
    assert detail.sector is Sector.TRANSPORT and detail.zone == "dmz" and detail.criticality == 4
    assert detail.ips == ["172.28.1.3"] and detail.macs == ["02:42:ac:1c:01:03"]
    assert detail.cpe and detail.cpe.startswith("cpe:2.3:o:linux:linux_kernel:")
    by_key = {s.key: s for s in detail.software}
    mysql = by_key["service:tcp/3306"]
    assert (mysql.kind, mysql.name, mysql.version) == ("service", "MySQL", "5.7.16")
    assert mysql.cpe == "cpe:2.3:a:mysql:mysql:5.7.16:*:*:*:*:*:*:*"
    assert by_key["os"].kind == "operating-system"
    added = [c for c in detail.history if c.field == "software"]
    assert len(added) == len(detail.software) and all(c.old is None for c in added)


@needs_samples
def test_nmap_without_sector_refuses_creates_but_updates(runtime: Runtime) -> None:
    rt = runtime
    path = SAMPLES / "nmap" / "libnmap_2_hosts_version.xml"
    with rt.session() as session:
        preview = assets.preview_import(
            session, data=path.read_bytes(), filename=path.name, scope=None
        )
    assert preview.counts["error"] == 2
    assert preview.errors[0].message == "sector required: pass a default sector"
    assert preview.errors[0].column == "sector"
    # A known host (matched on its host name) is updated without a sector.
    with rt.session() as session:
        assets.create_asset(
            session,
            assets.AssetCreate(
                name="scanme", sector=Sector.WATER, kind="it", hostnames=["scanme.nmap.org"]
            ),
            actor=SYSTEM,
            clock=rt.clock,
        )
        preview = assets.preview_import(
            session, data=path.read_bytes(), filename=path.name, scope=None
        )
    assert preview.counts == {"create": 0, "update": 1, "unchanged": 0, "error": 1}


@needs_samples
def test_new_scan_changes_and_removes_service_items(runtime_any: Runtime, tmp_path: Path) -> None:
    rt = runtime_any
    original = (SAMPLES / "nmap" / "libnmap_dionaea_scan.xml").read_bytes()
    _import(rt, SAMPLES / "nmap" / "libnmap_dionaea_scan.xml")
    rescan = tmp_path / "rescan.xml"
    rescan.write_bytes(
        original.replace(b'version="5.7.16"', b'version="5.7.44"').replace(
            b'portid="27017"', b'portid="27018"'
        )
    )
    result = _import(rt, rescan)
    plan = result.rows[0].software_plan
    assert plan is not None
    changed = {old["key"]: (old["version"], new["version"]) for old, new in plan.change}
    assert changed == {"service:tcp/3306": ("5.7.16", "5.7.44")}
    assert [r["key"] for r in plan.remove] == ["service:tcp/27017"]
    assert [a["key"] for a in plan.add] == ["service:tcp/27018"]


@needs_samples
def test_sbom_root_matches_by_purl_and_sets_software(runtime: Runtime) -> None:
    rt = runtime
    result = _import(rt, SAMPLES / "cyclonedx" / "bomexamples_SBOM_laravel-7.12.0_bom.1.4.json")
    row = result.rows[0]
    assert row.action == "create" and row.asset_id is not None
    with rt.session() as session:
        detail = assets.get_asset_detail(session, row.asset_id)
        software = assets.list_software(session, row.asset_id)
    assert detail.purl == "pkg:composer/cyclonedx/cyclonedx-php-composer-demo@dev-master"
    assert len(software) == 62 and software == detail.software
    assert {s.source for s in software} == {"cyclonedx:cyclonedx-php-composer-demo"}
    assert all(s.purl and s.key == s.purl for s in software)


@needs_samples
def test_hbom_needs_a_target_and_keeps_device_kinds(runtime: Runtime) -> None:
    rt = runtime
    path = SAMPLES / "cyclonedx" / "bomexamples_HBOM_PCIe-SATA-adapter-board.json"
    preview = _preview(rt, path)
    assert preview.counts["error"] == 1 and preview.errors[0].column == "purl"
    assert "target asset" in preview.errors[0].message
    target = _target(rt)
    _import(rt, path, target)
    with rt.session() as session:
        software = assets.list_software(session, target)
        detail = assets.get_asset_detail(session, target)
    assert {s.kind for s in software} >= {"device"}
    assert any(s.vendor == "Samtec" for s in software)
    assert detail.name == "target"  # a target asset keeps its own fields


@needs_samples
def test_spdx3_and_spdx23_components(runtime: Runtime) -> None:
    rt = runtime
    target = _target(rt)
    _import(
        rt, SAMPLES / "spdx" / "spdxexamples_example14-examplemaven-enriched.spdx3.json", target
    )
    result = _import(rt, SAMPLES / "spdx" / "spdxexamples_example11.spdx23.json")
    assert result.rows[0].action == "create"
    with rt.session() as session:
        three = assets.list_software(session, target)
    # software_File elements count too (kind from software_primaryPurpose, e.g. source).
    assert {"library", "source"} <= {s.kind for s in three}
    assert any(s.name == "JUnit" and s.version == "3.8.1" for s in three)
