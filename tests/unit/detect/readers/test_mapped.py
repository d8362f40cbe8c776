"""Mapped JSONL/CSV reader: the TON_IoT example mapping on its data, mapping validation,
timestamps, and fuzzed CSV lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import civicshield.detect.readers as readers_pkg
from civicshield.core.errors import Invalid
from civicshield.detect.readers.mapped import (
    FieldMapping,
    load_mapping,
    parse_mapped_lines,
    read_mapped,
)

TON = (
    Path(__file__).resolve().parents[4].parent / "shared" / "data" / "netflow" / "ton_iot_telemetry"
)
MAPPING = Path(readers_pkg.__file__).parent / "mappings" / "ton_iot.toml"


def mapping(**parts: object) -> FieldMapping:
    return FieldMapping.model_validate({"dataset": {"name": "t", "format": "csv"}, **parts})


@pytest.mark.skipif(not TON.is_dir(), reason=f"sample data absent: {TON}")
def test_ton_iot_example_mapping_reads_every_file() -> None:
    spec = load_mapping(MAPPING)
    for path in sorted(TON.glob("*.csv.gz")):
        results = list(read_mapped(path, spec))
        assert not any(r.quarantined for r in results), path
        frame = results[0].frame
        assert frame["@timestamp"].null_count() == 0
        assert {"attack_type", "attack_label", "observer.product"} <= set(frame.columns)
    first = next(read_mapped(TON / "Train_Test_IoT_Fridge.csv.gz", spec)).frame.row(0, named=True)
    # `28-Apr-19,08:20:34` in Canberra (AEST, UTC+10) → 2019-04-27 22:20:34 UTC
    assert first["@timestamp"] == datetime(2019, 4, 27, 22, 20, 34, tzinfo=UTC)
    assert first["fridge_temperature"] == "5.85" and first["attack_type"] == "backdoor"
    assert first["event.dataset"] == "ton_iot.telemetry" and first["_line"] == 2


def test_mapping_errors_name_the_key_or_line(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text('[dataset]\nname = "x"\nformat = "xml"\n')
    with pytest.raises(Invalid, match=r"dataset\.format"):
        load_mapping(bad)
    bad.write_text('[dataset]\nname = "x"\nformat = "csv"\n[ecs]\n"source.address" = "a"\n')
    with pytest.raises(Invalid, match=r"source\.address"):
        load_mapping(bad)
    bad.write_text("[dataset\n")
    with pytest.raises(Invalid, match="line 1"):
        load_mapping(bad)
    bad.write_text(
        '[dataset]\nname = "x"\nformat = "csv"\n[timestamp]\nfields=["t"]\ntimezone="Mars/X"\n'
    )
    with pytest.raises(Invalid, match=r"timestamp\.timezone"):
        load_mapping(bad)


def test_jsonl_with_renames_ecs_epoch_and_static() -> None:
    spec = FieldMapping.model_validate(
        {
            "dataset": {"name": "app", "format": "jsonl"},
            "fields": {"keep": ["src", "req.path"], "rename": {"src": "client"}},
            "ecs": {"source.ip": "src", "url.full": "req.path"},
            "timestamp": {"fields": ["ts"], "format": "epoch_ms"},
            "static": {"host.name": "gw1", "site": "north"},
        }
    )
    lines = [(1, b'{"src":"10.0.0.9","ts":1700000000123,"req":{"path":"/a"},"x":1}'), (2, b"[1]")]
    result = parse_mapped_lines(lines, spec, source="s")
    row = result.frame.row(0, named=True)
    assert row["client"] == "10.0.0.9" and row["source.ip"] == "10.0.0.9"
    assert row["url.full"] == "/a" and row["host.name"] == "gw1" and row["site"] == "north"
    assert row["@timestamp"] == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert "x" not in result.frame.columns
    assert [q.position for q in result.quarantined] == ["line 2"]


_cell = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@given(st.lists(st.one_of(st.tuples(_cell, _cell), st.binary(max_size=20)), max_size=25))
def test_csv_good_rows_kept_bad_rows_quarantined(rows: list[object]) -> None:
    spec = mapping(csv={"delimiter": ";", "header": False, "columns": ["a", "b"]})
    lines = []
    good = {}
    for number, row in enumerate(rows, 1):
        if isinstance(row, tuple):
            text = ";".join('"' + c.replace('"', '""') + '"' for c in row)
            lines.append((number, text.encode()))
            good[number] = row
        else:
            lines.append((number, row))
    result = parse_mapped_lines(lines, spec, source="s", header=["a", "b"])
    kept = {r["_line"]: r for r in result.frame.iter_rows(named=True)}
    for number, (a, b) in good.items():
        assert (kept[number]["a"], kept[number]["b"]) == (a or None, b or None)
    bad = {int(q.position.split()[1]) for q in result.quarantined}
    assert not bad & kept.keys()
    assert bad | kept.keys() == {n for n, t in lines if t.strip()}
