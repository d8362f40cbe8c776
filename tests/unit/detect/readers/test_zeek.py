"""Zeek TSV/JSON reader: real samples, headers, escapes, compression, properties, fuzzing."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from civicshield.core.errors import Invalid
from civicshield.detect.readers import _zeek_json, zeek
from civicshield.detect.readers._zeek_frames import data_blocks
from civicshield.detect.readers.base import line_blocks
from civicshield.detect.readers.zeek import parse_zeek_lines, read_zeek
from tests.conftest import SHARED_DATA

ZEEK = [
    *sorted(SHARED_DATA.glob("netlogs/zeek-*/*/*")),
    SHARED_DATA / "netflow" / "iot23" / "conn.log.labeled.gz",
]
HEAD = [
    b"#separator \\x09",
    b"#set_separator\t,",
    b"#empty_field\t(empty)",
    b"#unset_field\t-",
    b"#path\tdns",
    b"#fields\tts\tid.orig_h\tid.orig_p\tquery\tanswers",
    b"#types\ttime\taddr\tport\tstring\tvector[string]",
]


def _sample(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"shared Zeek sample not available: {path}")
    return path


def _lines(lines: list[bytes]) -> list[tuple[int, bytes]]:
    return list(enumerate(lines, start=1))


@pytest.mark.parametrize("path", ZEEK, ids=lambda p: "/".join(p.parts[-3:]))
def test_every_sample_reads_without_quarantine(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"shared Zeek sample not available: {path}")
    results = list(read_zeek(path))
    assert results and not [q for r in results for q in r.quarantined]
    assert all(r.frame["@timestamp"].null_count() == 0 for r in results)


def test_tsv_and_json_give_the_same_dns_events() -> None:
    tsv = next(read_zeek(_sample("netlogs", "zeek-wrccdc2018", "tsv", "dns.log"))).frame
    js = next(read_zeek(_sample("netlogs", "zeek-wrccdc2018", "json", "dns.json"))).frame
    columns = ["@timestamp", "uid", "source.ip", "destination.port", "dns.question.name", "answers"]
    assert tsv.select(columns).equals(js.select(columns))
    first = tsv.row(0, named=True)
    assert first["@timestamp"] == datetime(2018, 3, 24, 17, 15, 20, 865716, tzinfo=UTC)
    assert first["answers"] == "ise.wrccdc.cpp.edu,134.71.3.16"
    assert first["event.dataset"] == "zeek.dns" and first["_line"] == 9


def test_http_url_and_iot23_labels() -> None:
    http = next(read_zeek(_sample("netlogs", "zeek-zat", "tsv", "http.log"))).frame
    assert http.item(1, "url.full") == "http://www.guyspy.com/"
    assert http.item(0, "tags") == "" and http.item(0, "referrer") is None
    conn = next(read_zeek(_sample("netflow", "iot23", "conn.log.labeled.gz"))).frame
    assert conn.height == 25803 and conn.item(0, "event.dataset") == "zeek.conn"
    assert conn.item(0, "label") == "Benign" and conn.item(0, "network.transport") == "udp"
    assert conn.get_column("label").value_counts().sort("label").rows() == [
        ("Benign", 8750),
        ("Malicious", 17053),
    ]


def test_gzip_and_zstd_give_the_same_frame(tmp_path: Path) -> None:
    path = _sample("netlogs", "zeek-wrccdc2018", "tsv", "ssl.log")
    (tmp_path / "ssl.log.gz").write_bytes(gzip.compress(path.read_bytes()))
    (tmp_path / "ssl.log.zst").write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
    plain = next(read_zeek(path, source="x")).frame
    for name in ("ssl.log.gz", "ssl.log.zst"):
        assert next(read_zeek(tmp_path / name, source="x")).frame.equals(plain)


def test_escapes_markers_iot23_spaces_and_blocks() -> None:
    lines = [
        *HEAD,
        b"1.5\t10.0.0.1\t53\ta\\x09b\\xc3\\xa9\tx\\x2cy,z",
        b"2\t-\t-\t\\x2d\t(empty)",
        b"#fields\tts\ttunnel_parents   label",
        b"3\t-   Malicious",
    ]
    first, second = parse_zeek_lines(_lines(lines), source="s")
    assert first.frame.select("query", "answers", "id.orig_h").rows() == [
        ("a\tbé", "x\\x2cy,z", "10.0.0.1"),
        ("-", "", None),
    ]
    assert second.frame.select("tunnel_parents", "label").rows() == [(None, "Malicious")]


def test_bad_lines_are_quarantined() -> None:
    lines = [b"#separator \\x09", b"1\tbefore", *HEAD, b"1\tonly two", b"x\t-\t-\t-\t-"]
    results = parse_zeek_lines(_lines(lines), source="s")
    reasons = [(q.position, q.reason.split(":")[0]) for r in results for q in r.quarantined]
    assert reasons == [
        ("line 2", "data line before any #fields header"),
        ("line 10", "expected 5 fields, found 2"),
        ("line 11", "ts is not a time"),
    ]


def test_json_bad_lines_and_not_zeek() -> None:
    lines = [
        b'{"ts":1.0,"query":"a"}',
        b"{oops",
        b"[1]",
        b'{"ts":"2020-01-01T00:00:00Z","x":[1,2]}',
    ]
    (result,) = parse_zeek_lines(_lines(lines), source="s", path_hint="dns")
    assert result.frame.select("query", "x", "_line").rows() == [("a", None, 1), (None, "1,2", 4)]
    assert [q.position for q in result.quarantined] == ["line 2", "line 3"]
    with pytest.raises(Invalid, match="line 1: not a Zeek log"):
        parse_zeek_lines(_lines([b"hello"]), source="s")


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@given(st.lists(st.tuples(st.integers(0, 2**31), _text, st.lists(_text, max_size=3)), max_size=15))
def test_generated_records_round_trip(rows: list[tuple[int, str, list[str]]]) -> None:
    def escape(
        value: str,
    ) -> bytes:  # as Zeek writes a value: \\xNN for bytes outside printable ASCII
        keep = range(0x21, 0x7F)
        text = b"".join(
            bytes([b]) if b in keep and b not in b"\\," else b"\\x%02x" % b for b in value.encode()
        )
        # A value that reads as a marker is written with its first byte escaped.
        return b"\\x%02x" % text[0] + text[1:] if text in (b"-", b"(empty)") else text

    lines = list(HEAD)
    for ts, query, answers in rows:
        vector = (
            b",".join(escape(a) if a else b"\\x00"[:0] for a in answers) if answers else b"(empty)"
        )
        lines.append(
            b"\t".join(
                [
                    str(ts).encode(),
                    b"10.0.0.1",
                    b"53",
                    escape(query) if query else b"(empty)",
                    vector,
                ]
            )
        )
    results = parse_zeek_lines(_lines(lines), source="s")
    frame = results[0].frame if results else None
    assert not [q for r in results for q in r.quarantined]
    if frame is not None:
        assert frame.get_column("query").to_list() == [q for _, q, _ in rows]
        assert frame.get_column("answers").to_list() == [
            ",".join(a.replace(",", "\\x2c") for a in ans) for _, _, ans in rows
        ]


@given(st.lists(st.binary(max_size=60), max_size=20), st.booleans())
def test_arbitrary_bytes_never_crash(junk: list[bytes], json: bool) -> None:
    start = [b'{"ts":1}'] if json else list(HEAD)
    try:
        results = parse_zeek_lines(_lines([*start, *junk]), source="s")
    except Invalid:
        return
    for result in results:
        assert result.read == result.frame.height + len(result.quarantined)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 50)), max_size=25))
def test_mixed_good_and_bad_lines(picks: list[tuple[bool, int]]) -> None:
    text = _sample("netlogs", "zeek-wrccdc2018", "tsv", "dns.log").read_bytes().splitlines()
    head, good = text[:8], text[8:60]
    lines, expected_good, expected_bad = list(head), [], []
    for ok, index in picks:
        lines.append(good[index] if ok else good[index][:40])
        (expected_good if ok else expected_bad).append(len(lines))
    results = parse_zeek_lines(_lines(lines), source="s")
    assert [n for r in results for n in r.frame.get_column("_line")] == expected_good
    assert [q.position for r in results for q in r.quarantined] == [
        f"line {n}" for n in expected_bad
    ]


@pytest.mark.parametrize("colon", [":", " : ", "\t:", "\r\t :"])
def test_json_keys_after_the_sample_are_columns(colon: str) -> None:
    # Keys are taken from the first lines, then from any line with more `":` than values read;
    # compact and spaced (`"k" : v`, any JSON blank before `:`) writers must both have their
    # late keys kept.
    head = [f'{{"ts"{colon}{1520000000 + n},"uid"{colon}"C{n}"}}'.encode() for n in range(300)]
    late = f'{{"ts"{colon}1520000400,"uid"{colon}"L","late"{colon}["a,b","c"]}}'.encode()
    tail = b' \t{"ts":1520000401,"uid":"T","last": {"x":1}}  '
    (result,) = parse_zeek_lines(enumerate([*head, late, tail], 1), source="t", path_hint="x")
    assert not result.quarantined and result.frame.height == 302
    assert result.frame["late"].to_list()[-2:] == ["a\\x2cb,c", None]
    assert json.loads(result.frame["last"].to_list()[-1]) == {"x": 1}


@pytest.mark.parametrize("colon", [" : ", "\t:", "\r:"])
def test_json_spaced_keys_found_where_batch_totals_match(colon: str) -> None:
    # A key with a JSON null writes a `":` without a value read, a spaced key a value without
    # a `":`: batch totals can then match with keys missing, so spaced writers are looked for.
    head = [b'{"ts":%d,"uid":"C%d"}' % (1520000000 + n, n) for n in range(300)]
    extra = b'{"ts":1520000300,"uid":"A","n":null}'
    spaced = f'{{"ts":1520000301,"uid"{colon}"B","late"{colon}"x"}}'.encode()
    (result,) = parse_zeek_lines(enumerate([*head, extra, spaced], 1), source="t", path_hint="x")
    assert result.frame["late"].to_list()[-1] == "x" and "n" in result.frame.columns


def test_json_line_that_is_not_an_object_is_quarantined_alone() -> None:
    lines = [b'{"ts":1520000000,"uid":"A"}', b" [1, 2] ", b'{"ts":1520000001,"uid":"B"}']
    (result,) = parse_zeek_lines(enumerate(lines, 1), source="t", path_hint="x")
    assert result.frame["uid"].to_list() == ["A", "B"]
    assert [(q.position, q.reason) for q in result.quarantined] == [
        ("line 2", "not a JSON object (list)")
    ]


# -- block reading: chunk edges, `\r\n`, headers inside a block ----------------------------------
@given(
    st.lists(st.sampled_from([b"a", b"bc\r", b"", b"  ", b"#x", b"d\r\r", b"e" * 9]), max_size=30),
    st.integers(1, 12),
    st.booleans(),
)
def test_line_blocks_match_line_iteration(parts: list[bytes], size: int, newline: bool) -> None:
    data = b"\n".join(parts) + (b"\n" if newline and parts else b"")
    expected = [(n, line.rstrip(b"\r\n")) for n, line in enumerate(io.BytesIO(data), 1)]
    got = [
        (start + i, line)
        for start, lines in line_blocks(io.BytesIO(data), size)
        for i, line in enumerate(lines)
    ]
    assert got == expected


@given(
    st.lists(st.sampled_from([b"a", b"bc\r", b"", b"  ", b"{}", b"d\r\r", b"e" * 9]), max_size=30),
    st.integers(1, 12),
    st.booleans(),
)
def test_data_blocks_are_line_blocks_with_their_bytes(
    parts: list[bytes], size: int, newline: bool
) -> None:
    data = b"\n".join(parts) + (b"\n" if newline and parts else b"")
    got = list(data_blocks(io.BytesIO(data), size))
    assert [(n, lines) for n, lines, _ in got] == list(line_blocks(io.BytesIO(data), size))
    assert all(b is None or b == b"\n".join(lines) for _, lines, b in got)
    if b"\r" not in data:
        assert all(b is not None for _, _, b in got)


def test_piece_bytes_are_the_lines_joined() -> None:
    lines = [b"a", b"", b"bcd", b"e"]
    for at in range(len(lines)):
        for count in range(1, len(lines) - at + 1):
            joined = b"\n".join(lines[at : at + count])
            assert _zeek_json._piece_bytes(b"\n".join(lines), lines, at, count) == joined
            assert _zeek_json._piece_bytes(None, lines, at, count) == joined


@pytest.mark.parametrize("size", [5, 300, 1 << 20])
@pytest.mark.parametrize("end", [b"\n", b"\r\n", b""])
@pytest.mark.parametrize("blanks", [False, True])
def test_json_blocks_read_as_their_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, end: bytes, blanks: bool
) -> None:
    # JSON blocks go to Polars as the bytes read, sliced where a batch ends inside one; blank
    # lines, `\r\n` and a last line without `\n` take the joined-lines path. Every way must
    # read as the lines themselves do.
    _small_blocks(monkeypatch, size)
    line = b'{"ts":%d,"uid":"C%d","answers":["a","b,c"],"TTLs":[1.0,2.5]}'
    lines = [line % (1520000000 + n, n) for n in range(40)]
    lines[25] = b"{oops"
    if blanks:
        lines[7], lines[20] = b"", b" \t"
    path = tmp_path / "x.json"
    path.write_bytes((b"\r\n" if end == b"\r\n" else b"\n").join(lines) + end)
    read, reads = _zeek_json._read, []
    monkeypatch.setattr(
        _zeek_json, "_read", lambda data, names: reads.append(data) or read(data, names)
    )
    results = list(read_zeek(path, batch_size=6, source="s"))
    assert all(r.read <= 6 for r in results)
    # Polars read runs of whole lines (a bad slice would go line by line, unseen in frames),
    # in every batch but the one with the bad line.
    text = b"\n" + b"\n".join(line for line in lines if line.strip()) + b"\n"
    assert all(b"\n" + b"\n".join(data) + b"\n" in text for data in reads)
    assert len(reads) == len(results) - 1
    (whole,) = parse_zeek_lines(enumerate(lines, 1), source="s", path_hint="x")
    assert pl.concat([r.frame for r in results]).equals(whole.frame)
    assert [q for r in results for q in r.quarantined] == whole.quarantined


def _small_blocks(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(zeek, "data_blocks", lambda stream: data_blocks(stream, size))


@pytest.mark.parametrize("size", [7, 64, 1 << 20])
def test_tsv_blocks_headers_mid_block_and_crlf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    _small_blocks(monkeypatch, size)
    rows = [b"%d.5\t10.0.0.%d\t53\tq%d.example\ta,b" % (n, n, n) for n in range(1, 8)]
    lines = [*HEAD, *rows[:3], b"", b"  ", rows[3], b"#close\t2020", *HEAD, b"bad\trow", *rows[4:]]
    path = tmp_path / "dns.log"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    results = list(read_zeek(path, batch_size=2))
    assert all(0 < r.frame.height <= 2 or r.quarantined for r in results)
    frame = pl.concat([r.frame for r in results])
    assert frame["query"].to_list() == [f"q{n}.example" for n in range(1, 8)]
    numbers = [n for n, line in enumerate(lines, 1) if line in rows]
    assert frame["_line"].to_list() == numbers
    bad = lines.index(b"bad\trow") + 1
    assert [q.position for r in results for q in r.quarantined] == [f"line {bad}"]
    assert not frame["_raw"].str.contains("\r").any()
    whole = parse_zeek_lines(_lines(lines), source="s")
    assert pl.concat([r.frame for r in whole])["_line"].to_list() == numbers


@pytest.mark.parametrize("size", [5, 1 << 20])
def test_json_blocks_late_keys_and_nulls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    _small_blocks(monkeypatch, size)
    lines = [b'{"ts":%d,"uid":"C%d"}' % (1520000000 + n, n) for n in range(400)]
    lines[350] = b'{"ts":1520000350,"uid":"N","late":null,"later":"x"}'
    lines[351] = b""
    path = tmp_path / "x.json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    results = list(read_zeek(path, batch_size=100))
    frame = pl.concat([r.frame for r in results], how="diagonal")
    assert frame.height == 399 and not [q for r in results for q in r.quarantined]
    assert frame.filter(pl.col("_line") == 351)["later"].to_list() == ["x"]
    assert 352 not in frame["_line"].to_list() and frame["_line"].max() == 400


def test_json_projection_reads_the_named_keys_and_ecs_sources() -> None:
    path = _sample("netlogs", "zeek-wrccdc2018", "json", "dns.json")
    lines = _lines(path.read_bytes().splitlines()[:500])
    lines.insert(7, (10_000, b'{"ts":1520000000,"query":'))
    full = parse_zeek_lines(lines, source="s")
    (result,) = parse_zeek_lines(lines, source="s", fields=["answers", "rcode_name", "nope"])
    assert [q.position for q in result.quarantined] == ["line 10000"]
    frame = result.frame
    assert {"answers", "rcode_name", "nope", "ts", "query", "id.orig_h"} <= set(frame.columns)
    assert "qclass_name" not in frame.columns and frame["nope"].null_count() == frame.height
    whole = full[0].frame
    shared = [c for c in frame.columns if c in whole.columns]
    assert "answers" in shared and frame.select(shared).equals(whole.select(shared))
    absent = set(frame.columns) - set(whole.columns)
    assert absent and all(frame[c].null_count() == frame.height for c in absent)


_ITEMS = st.one_of(
    st.lists(st.text(max_size=12), max_size=4),  # strings: commas, quotes, `", "`, backslashes
    st.lists(st.integers(-(10**6), 10**6), max_size=4),
    # Zeek's TTLs; tiny ones Python writes as 1e-07. (Not any float: where two shortest
    # spellings tie, e.g. 549755813888.40625, Polars rounds half up and Python to even.)
    st.lists(st.integers(-(10**12), 10**12).map(lambda n: n / 1000), max_size=4),
    st.lists(st.integers(1, 10**6).map(lambda n: n / 10**12), max_size=3),
    st.lists(st.one_of(st.text(alphabet="ab, ", max_size=5), st.integers(0, 9)), max_size=3),
)


@given(st.lists(_ITEMS, min_size=1, max_size=30), st.booleans())
def test_json_arrays_join_as_line_by_line_reading_does(
    arrays: list[list[object]], spaced: bool
) -> None:
    # The batch path joins arrays with string operations where it can; it must give what
    # reading each line with orjson gives (`_zeek_json._text`): items joined by `,`, commas
    # inside items as `\x2c`.
    from civicshield.detect.readers._zeek_json import _text

    sep = (", ", ": ") if spaced else (",", ":")
    lines = [
        json.dumps({"ts": 1520000000 + n, "uid": f"C{n}", "arr": a}, separators=sep).encode()
        for n, a in enumerate(arrays)
    ]
    (result,) = parse_zeek_lines(enumerate(lines, 1), source="t", path_hint="x")
    assert not result.quarantined
    assert result.frame["arr"].to_list() == [_text(a) for a in arrays]


@pytest.mark.parametrize(
    "arrays",
    [
        [[", "]],
        [["a", ", ", "b"], ["c"]],
        [[", ", ", "], [","], [", a"]],
        [["a, b"], ["x,"], [" ,"]],
        [["a", "b"], ["c", ", "]],
        [["a", "b"], [1, 2], ["c", 1], None],
    ],
)
def test_json_string_arrays_with_separator_like_items(arrays: list[list[object] | None]) -> None:
    # Arrays of strings are joined by replacing `", "` when no item holds a `,`: an item that
    # is itself `, ` must not pass for a separator.
    from civicshield.detect.readers._zeek_json import _text

    lines = [json.dumps({"ts": 1520000000 + n, "arr": a}).encode() for n, a in enumerate(arrays)]
    (result,) = parse_zeek_lines(enumerate(lines, 1), source="t", path_hint="x")
    assert not result.quarantined
    assert result.frame["arr"].to_list() == [None if a is None else _text(a) for a in arrays]


def test_numbers_read_the_same_in_a_batch_and_line_by_line() -> None:
    line = b'{"ts":1.5,"uid":"C1","rtt":2230.0,"TTLs":[2230.0,1.5e10,0.25],"z":-0.0,"ok":true}'
    (batch,) = parse_zeek_lines([(1, line)], source="t", path_hint="dns")
    (alone,) = parse_zeek_lines([(1, line), (2, b"{oops")], source="t", path_hint="dns")
    assert len(alone.quarantined) == 1  # the bad line sends the batch line by line
    names = ["rtt", "TTLs", "z", "ok"]
    assert batch.frame.select(names).row(0) == ("2230", "2230,15000000000,0.25", "-0", "true")
    assert alone.frame.select(names).row(0) == batch.frame.select(names).row(0)
