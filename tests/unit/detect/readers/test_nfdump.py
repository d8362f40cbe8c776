"""nfdump CSV reader: the real export, the summary trailer, compression, properties, fuzzing."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from civicshield.core.errors import Invalid
from civicshield.detect.readers.nfdump import parse_nfdump_lines, read_nfdump
from tests.conftest import SHARED_DATA

FLOWS = SHARED_DATA / "netlogs" / "netflow-nfdump" / "flows.csv"
HEADER = b"ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt"


def _flows() -> Path:
    if not FLOWS.is_file():
        pytest.skip(f"shared nfdump sample not available: {FLOWS}")
    return FLOWS


def _lines(*lines: bytes) -> list[tuple[int, bytes]]:
    return list(enumerate(lines, start=1))


def test_real_export_reads_every_flow_and_skips_the_summary() -> None:
    summaries: list[dict[str, str]] = []
    results = list(read_nfdump(_flows(), on_summary=summaries.append))
    frame = results[0].frame
    assert sum(r.read for r in results) == 349
    assert not [q for r in results for q in r.quarantined]
    assert summaries == [
        {
            "flows": "349",
            "bytes": "422368",
            "packets": "2212",
            "avg_bps": "0",
            "avg_pps": "0",
            "avg_bpp": "190",
        }
    ]
    first = frame.row(0, named=True)
    assert first["@timestamp"] == datetime(2004, 10, 11, 13, 38, 58, tzinfo=UTC)
    assert (first["source.ip"], first["source.port"]) == ("10.0.0.3", 20000)
    assert (first["destination.ip"], first["destination.port"]) == ("10.0.0.8", 2789)
    assert first["network.transport"] == "tcp" and first["pr"] == "TCP"
    assert first["flg"] == "...AP.S." and first["cl"] == "    0.000"  # text as nfdump wrote it
    assert first["event.dataset"] == "netflow" and first["_line"] == 2
    counts = dict(frame.group_by("network.transport").len().iter_rows())
    assert counts == {"tcp": 222, "udp": 123, "icmp": 4}


def test_gzip_and_zstd_give_the_same_frame(tmp_path: Path) -> None:
    data = _flows().read_bytes()
    (tmp_path / "f.gz").write_bytes(gzip.compress(data))
    (tmp_path / "f.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    plain = next(read_nfdump(_flows(), source="x")).frame
    for name in ("f.gz", "f.zst"):
        assert next(read_nfdump(tmp_path / name, source="x")).frame.equals(plain)


def test_batches_are_bounded() -> None:
    results = list(read_nfdump(_flows(), batch_size=100))
    assert [r.frame.height for r in results] == [100, 100, 100, 49]


def test_bad_rows_are_quarantined_with_their_line() -> None:
    result = parse_nfdump_lines(
        _lines(
            HEADER,
            b"2024-01-01 00:00:00,2024-01-01 00:00:01,1.0,10.0.0.1,10.0.0.2,1,53,UDP,........,1,60",
            b"2024-01-01 00:00:00,too,few",
            b"",
            b"yesterday,2024-01-01 00:00:01,1.0,10.0.0.1,10.0.0.2,1,53,UDP,........,1,60",
        ),
        source="s",
    )
    assert result.frame.height == 1 and result.read == 3
    assert [(q.position, q.reason.split(":")[0]) for q in result.quarantined] == [
        ("line 3", "expected 11 fields, found 3"),
        ("line 5", "ts is not a time"),
    ]


def test_timezone_and_protocol_numbers() -> None:
    row = b"2024-07-01 12:00:00.250,2024-07-01 12:00:01,1.0,fe80::1,fe80::2,0,0,58,........,1,60"
    frame = parse_nfdump_lines(
        _lines(HEADER, row), source="s", timezone="America/Mexico_City"
    ).frame
    assert frame.item(0, "@timestamp") == datetime(2024, 7, 1, 18, 0, 0, 250000, tzinfo=UTC)
    assert frame.item(0, "network.transport") == "ipv6-icmp"


def test_not_an_nfdump_export_is_refused() -> None:
    with pytest.raises(Invalid, match="line 1: not an nfdump CSV export"):
        parse_nfdump_lines(_lines(b"hello,world"), source="s")


_ip = st.ip_addresses(v=4).map(str)
_port = st.integers(0, 65535)
_NAIVE = (datetime(2000, 1, 1), datetime(2037, 1, 1))  # noqa: DTZ001 (nfdump writes naive text)
_time = st.datetimes(*_NAIVE).map(lambda d: d.replace(microsecond=0))


@given(
    st.lists(st.tuples(_time, _ip, _ip, _port, _port, st.sampled_from(["TCP", "UDP"])), max_size=20)
)
def test_generated_flows_round_trip(flows: list[tuple[datetime, str, str, int, int, str]]) -> None:
    lines = [HEADER] + [
        f"{t:%Y-%m-%d %H:%M:%S},{t:%Y-%m-%d %H:%M:%S},0.0,{sa},{da},{sp},{dp},{pr},.,1,40".encode()
        for t, sa, da, sp, dp, pr in flows
    ]
    result = parse_nfdump_lines(_lines(*lines), source="s")
    assert not result.quarantined
    got = result.frame.select(
        "@timestamp", "sa", "da", "source.port", "destination.port", "pr"
    ).rows()
    assert got == [(t.replace(tzinfo=UTC), sa, da, sp, dp, pr) for t, sa, da, sp, dp, pr in flows]


@given(st.lists(st.binary(max_size=80), max_size=20))
def test_arbitrary_bytes_never_crash(junk: list[bytes]) -> None:
    try:
        result = parse_nfdump_lines(_lines(HEADER, *junk), source="s")
    except Invalid:
        return
    assert result.read == result.frame.height + len(result.quarantined)


@given(st.data())
def test_mixed_good_and_bad_lines(data: st.DataObject) -> None:
    good = _flows().read_bytes().splitlines()[1:30]
    bad = [b"x", b"1,2,3", b"2024-01-01 00:00:00"]
    picks = data.draw(st.lists(st.tuples(st.booleans(), st.integers(0, 28)), max_size=25))
    lines = [_flows().read_bytes().splitlines()[0]]
    expected_good, expected_bad = [], []
    for ok, index in picks:
        lines.append(good[index] if ok else bad[index % len(bad)])
        (expected_good if ok else expected_bad).append(len(lines))
    result = parse_nfdump_lines(_lines(*lines), source="s")
    assert result.frame.get_column("_line").to_list() == expected_good
    assert [q.position for q in result.quarantined] == [f"line {n}" for n in expected_bad]
