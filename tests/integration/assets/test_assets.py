"""Assets service and CSV import on SQLite and PostgreSQL: history, scoping, merge, re-import."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicshield import assets, audit
from civicshield.assets import AssetCreate, AssetFilter, AssetUpdate
from civicshield.core import SYSTEM, FrozenClock, Sector
from civicshield.core.errors import Invalid, NotFound, PermissionDenied
from civicshield.runtime import Runtime

HEADER = (
    "name,sector,zone,kind,vendor,product,version,serial,ips,macs,hostnames,criticality,"
    "internet_exposed,tags\n"
)
CSV = (
    HEADER
    + """\
cam-plaza-01,transport,traffic-iot,iot,Hikvision,DS-2CD2143G2-I,5.7.3,SN-1,10.1.0.11,AA-BB-CC-00-00-01,cam-plaza-01.city,4,yes,camera;plaza
plc-pump-7,water,scada,ot,Siemens,S7-1200,4.5.2,SN-2,10.9.0.7,,plc-pump-7,vital,no,scada
srv-clinic,health,clinic-it,it,Dell,PowerEdge R740,2.19,SN-3,10.5.0.2;10.5.0.3,,srv-clinic,3,false,
"""
)


def make(rt: Runtime, **kw: object) -> assets.AssetRead:
    values: dict[str, object] = {"name": "cam-1", "sector": "transport", "kind": "iot"}
    values.update(kw)
    with rt.session() as session:
        return assets.create_asset(
            session, AssetCreate.model_validate(values), actor=SYSTEM, clock=rt.clock
        )


def test_update_writes_history_and_one_audit_entry(runtime_any: Runtime) -> None:
    rt = runtime_any
    asset = make(rt, ips=["10.0.0.1"], version="1.0")
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(minutes=5))
    with rt.session() as session:
        changed = assets.update_asset(
            session,
            asset.id,
            AssetUpdate(version="1.1", ips=["10.0.0.2"], vendor=""),
            actor=SYSTEM,
            clock=rt.clock,
        )
        again = assets.update_asset(
            session, asset.id, AssetUpdate(version="1.1"), actor=SYSTEM, clock=rt.clock
        )
        detail = assets.get_asset_detail(session, asset.id)
        entries = audit.list_entries(session, action="asset.update").items
    assert changed.version == "1.1" and again.updated_at == changed.updated_at
    fields = [(c.field, c.old, c.new) for c in detail.history]
    assert sorted(fields[:2]) == [("ips", ["10.0.0.1"], ["10.0.0.2"]), ("version", "1.0", "1.1")]
    assert fields[2] == ("created", None, "cam-1")
    assert len(entries) == 1 and entries[0].changes["version"] == ["1.0", "1.1"]


def test_retire_and_list_filters(runtime_any: Runtime) -> None:
    rt = runtime_any
    make(rt, name="cam-a", criticality=2, internet_exposed=True, zone="z1")
    b = make(rt, name="plc-b", sector="water", kind="ot", criticality=5, zone="scada")
    make(rt, name="srv-c", sector="health", kind="it", hostnames=["srv-c.clinic.city"])
    with rt.session() as session:
        assets.retire_asset(session, b.id, actor=SYSTEM, clock=rt.clock)

        def names(**kw: object) -> list[str]:
            page = assets.list_assets(session, AssetFilter.model_validate(kw))
            return [a.name for a in page.items]

        assert names() == ["srv-c", "cam-a", "plc-b"]  # sector, then name
        assert names(min_criticality=4) == ["plc-b"]
        assert names(internet_exposed=True) == ["cam-a"]
        assert names(kind="ot", lifecycle="retired") == ["plc-b"]
        assert names(q="CLINIC") == ["srv-c"]
        assert names(zone="z1", sector="transport") == ["cam-a"]
        page = assets.list_assets(session, limit=2, offset=2)
        assert page.total == 3 and [a.name for a in page.items] == ["plc-b"]


def test_sector_scope(runtime_any: Runtime) -> None:
    rt = runtime_any
    water = make(rt, name="plc", sector="water", kind="ot")
    make(rt, name="cam")
    scope = frozenset({Sector.TRANSPORT})
    with rt.session() as session:
        assert [a.name for a in assets.list_assets(session, scope=scope).items] == ["cam"]
        with pytest.raises(NotFound):
            assets.get_asset(session, water.id, scope=scope)
        with pytest.raises(NotFound):
            assets.update_asset(
                session, water.id, AssetUpdate(zone="x"), actor=SYSTEM, clock=rt.clock, scope=scope
            )
        with pytest.raises(PermissionDenied):
            assets.create_asset(
                session,
                AssetCreate(name="x", sector="energy", kind="ot"),
                actor=SYSTEM,
                clock=rt.clock,
                scope=scope,
            )


def test_csv_import_then_reimport_changes_nothing(runtime_any: Runtime) -> None:
    rt = runtime_any
    with rt.session() as session:
        preview = assets.preview_csv(session, CSV.encode(), source="city.csv")
        assert preview.counts == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
        assert assets.list_assets(session).total == 0  # a preview writes nothing
        result = assets.apply(session, preview, actor=SYSTEM, clock=rt.clock)
        assert result.applied and all(r.asset_id for r in result.rows)
    with rt.session() as session:
        stored = {a.name: a for a in assets.list_assets(session).items}
        pump = stored["plc-pump-7"]
        assert pump.criticality == 5 and pump.kind.value == "ot" and pump.macs == []
        assert stored["cam-plaza-01"].macs == ["aa:bb:cc:00:00:01"]
        assert stored["cam-plaza-01"].tags == ["camera", "plaza"]
        assert stored["srv-clinic"].ips == ["10.5.0.2", "10.5.0.3"]
        n_audit = audit.list_entries(session).total
    with rt.session() as session:
        again = assets.apply(
            session,
            assets.preview_csv(session, CSV.encode(), source="city.csv"),
            actor=SYSTEM,
            clock=rt.clock,
        )
    assert again.counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    with rt.session() as session:
        assert assets.list_assets(session).total == 3
        assert assets.get_asset_detail(session, pump.id).history[0].field == "created"
        assert audit.list_entries(session).total == n_audit + 1  # only the import summary


def test_merge_precedence_and_located_errors(runtime_any: Runtime) -> None:
    rt = runtime_any
    by_mac = make(rt, name="m", macs=["aa:bb:cc:dd:ee:01"], hostnames=["shared"])
    by_host = make(rt, name="h", hostnames=["host-only"])
    by_ip = make(rt, name="i", ips=["10.0.0.9"], zone="dmz")
    by_serial = make(rt, name="s", serial="SER-9")
    text = (
        "macs;hostnames;ips;zone;serial;version;criticality;latitude\n"
        "AABBCCDDEE01;other;;;;2.0;;\n"  # MAC wins over anything else
        ";HOST-ONLY;;;;2.0;;\n"
        ";;10.0.0.9;dmz;;2.0;;\n"
        ";;10.0.0.9;lan;SER-9;2.0;;\n"  # same IP, other zone: the serial decides
        ";;;;;2.0;;\n"  # no identifier
        ";new-host;;;;;9;north\n"  # two bad cells on one row
        ";shared;;;;;;\n"  # by hostname: the MAC asset, already claimed by line 2
    )
    with rt.session() as session:
        preview = assets.preview_csv(session, text.encode(), source="merge.csv")
    rows = {r.line: r for r in preview.rows}
    assert (rows[2].asset_id, rows[2].matched_on) == (by_mac.id, "mac aa:bb:cc:dd:ee:01")
    assert rows[3].asset_id == by_host.id and rows[4].asset_id == by_ip.id
    assert rows[5].asset_id == by_serial.id and rows[5].matched_on == "serial SER-9"
    assert all(rows[n].changes["version"] == ["", "2.0"] for n in (2, 3, 4, 5))
    assert rows[2].changes["hostnames"] == [["shared"], ["other"]]
    assert set(rows[3].changes) == {"version"}  # blank cells leave the stored value alone
    assert rows[6].action == "error" and "at least one of" in rows[6].errors[0].message
    assert {(e.line, e.column) for e in rows[7].errors} == {(7, "criticality"), (7, "latitude")}
    assert rows[8].action == "error" and "line 2" in rows[8].errors[0].message


def test_file_level_errors_and_row_errors_in_a_new_row(runtime_any: Runtime) -> None:
    rt = runtime_any
    with rt.session() as session:
        with pytest.raises(Invalid, match="UTF-8"):
            assets.preview_csv(session, b"name\n\xff\xfe\x00bad", source="x.csv")
        with pytest.raises(Invalid, match="no template column"):
            assets.preview_csv(session, b"foo,bar\n1,2\n", source="x.csv")
        preview = assets.preview_csv(
            session,
            "hostnames,sector,kind,extra\nnew-1,,iot,1\nnew-2,moon,iot,\nnew-3,water,ot,\n",
        )
    assert preview.ignored_columns == ["extra"]
    actions = [(r.line, r.action) for r in preview.rows]
    assert actions == [(2, "error"), (3, "error"), (4, "create")]
    assert preview.rows[0].errors[0].column == "sector"  # required for a new asset
    assert (
        preview.rows[1].errors[0].column == "sector" and "moon" in preview.rows[1].errors[0].message
    )
    assert preview.rows[2].data["name"] == "new-3"  # name defaults to the host name
