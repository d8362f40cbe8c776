"""Suricata EVE reader: the real samples, compression, generated events and fuzzed lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import polars as pl
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from civicshield.core.errors import Invalid
from civicshield.detect.readers import eve
from civicshield.detect.readers.base import ECS_SCHEMA, line_blocks
from civicshield.detect.readers.eve import (
    _COMMON,
    _ECS_SOURCES,
    KNOWN_FIELDS,
    flatten_object,
    parse_eve_lines,
    read_eve,
)

EVE = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "netlogs" / "suricata-eve"
needs_samples = pytest.mark.skipif(not EVE.is_dir(), reason=f"sample data absent: {EVE}")


def frames(path: Path) -> dict[str, pl.DataFrame]:
    results = list(read_eve(path))
    assert all(not r.quarantined for r in results)
    return {r.dataset: r.frame for r in results}


@needs_samples
def test_every_sample_reads_without_quarantine() -> None:
    counts: dict[str, int] = {}
    for path in sorted((EVE / "eve").glob("*.json")):
        for dataset, frame in frames(path).items():
            counts[dataset] = counts.get(dataset, 0) + frame.height
    # SOURCE.md's table: 707 events in all.
    assert sum(counts.values()) == 707
    assert counts["suricata.alert"] == 107 and counts["suricata.flow"] == 203


@needs_samples
def test_hand_checked_values() -> None:
    got = frames(EVE / "eve" / "wikipedia.json")
    http = got["suricata.http"].row(0, named=True)
    assert http["http.hostname"] == "bits.wikimedia.org"
    assert http["url.full"] == "http://bits.wikimedia.org/skins-1.5/monobook/main.css"
    assert http["http.status"] == "304" and http["destination.port"] == 80
    assert str(http["@timestamp"]) == "2011-03-18 19:06:08.843912+00:00"
    alert = got["suricata.alert"].row(0, named=True)
    assert alert["alert.signature_id"] == "9000001"
    assert alert["dns.question.name"] == "upload.wikimedia.org"  # from dns.query[0] (EVE v2)
    assert alert["network.transport"] == "udp" and alert["_line"] == 2
    stats = got["suricata.stats"]
    assert stats["source.ip"].to_list() == [None] and "stats.uptime" in stats.columns
    dns = frames(EVE / "eve" / "dns-edns-ecs.json")["suricata.dns"].row(0, named=True)
    assert dns["dns.question.name"] == "ns1.weberdns.de" and dns["dns.rrtype"] == "A"


@needs_samples
def test_gzip_and_zstd_give_the_same_frames(tmp_path: Path) -> None:
    plain = EVE / "eve" / "smtp.json"
    data = plain.read_bytes()
    (tmp_path / "a.gz").write_bytes(gzip.compress(data))
    (tmp_path / "a.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    expected = frames(plain)
    for name in ("a.gz", "a.zst"):
        got = frames(tmp_path / name)
        assert got.keys() == expected.keys()
        for key, frame in expected.items():
            assert got[key].equals(frame)


def test_late_keys_are_kept_and_conflicts_become_json_text() -> None:
    lines = [orjson.dumps({"event_type": "x", "a": 1}) for _ in range(300)]
    lines.append(orjson.dumps({"event_type": "x", "a": {"b": [1, 2]}, "late": {"k": True}}))
    (result,) = parse_eve_lines(enumerate(lines, 1), source="t")
    assert result.dataset == "suricata.x"
    assert result.frame["late.k"].to_list()[-1] == "true"
    assert result.frame["a"].to_list()[-2:] == ["1", '{"b": [1, 2]}']


def test_unreadable_input_is_invalid(tmp_path: Path) -> None:
    broken = tmp_path / "b.gz"
    broken.write_bytes(gzip.compress(b'{"event_type":"x"}\n' * 100)[:30])
    with pytest.raises(Invalid, match=r"b\.gz"):
        list(read_eve(broken))


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_event = st.fixed_dictionaries(
    {"event_type": st.sampled_from(["alert", "dns", "flow", "custom_1"]), "src_ip": _text},
    optional={
        "src_port": st.integers(0, 65535),
        "alert": st.fixed_dictionaries(
            {"signature": _text}, optional={"rev": st.integers(-(2**63), 2**63 - 1)}
        ),
        "extra": st.dictionaries(
            st.from_regex(r"[a-z]{1,5}", fullmatch=True), _text, min_size=1, max_size=3
        ),
    },
)


@given(st.lists(_event, min_size=1, max_size=40))
def test_generated_events_round_trip(events: list[dict[str, object]]) -> None:
    lines = [(n, orjson.dumps(e)) for n, e in enumerate(events, 1)]
    rows = {}
    for result in parse_eve_lines(lines, source="t"):
        assert not result.quarantined
        for row in result.frame.iter_rows(named=True):
            rows[row["_line"]] = row
    for number, event in enumerate(events, 1):
        row = rows[number]
        assert row["src_ip"] == event["src_ip"]
        assert row["source.port"] == event.get("src_port")
        alert = event.get("alert")
        if isinstance(alert, dict):
            assert row["alert.signature"] == alert["signature"]
        extra = event.get("extra")
        for key, value in (extra or {}).items():  # type: ignore[attr-defined]
            assert row[f"extra.{key}"] == value


_GOOD = b'{"timestamp":"2024-01-01T00:00:00.123456+0000","event_type":"flow","src_ip":"10.0.0.1"}'


@given(st.lists(st.one_of(st.just(_GOOD), st.binary(max_size=40)), max_size=30))
def test_fuzzed_lines_keep_every_good_line(lines: list[bytes]) -> None:
    numbered = list(enumerate(lines, 1))
    results = parse_eve_lines(numbered, source="t")
    kept = {n for r in results for n in r.frame["_line"].to_list()}
    bad = {int(q.position.split()[1]) for r in results for q in r.quarantined}
    good = {n for n, t in numbered if t == _GOOD}
    assert good <= kept
    assert not kept & bad
    assert kept | bad == {n for n, t in numbered if t.strip()}
    for r in results:
        assert r.read == r.frame.height + len(r.quarantined)


@needs_samples
@given(st.data())
def test_mutated_real_lines_never_crash(data: st.DataObject) -> None:
    real = (EVE / "eve" / "smtp.json").read_bytes().splitlines()
    line = data.draw(st.sampled_from(real))
    at = data.draw(st.integers(0, len(line)))
    junk = data.draw(st.binary(max_size=4))
    mutated = line[:at] + junk + line[at + len(junk) :]
    results = parse_eve_lines([(1, real[0]), (2, mutated)], source="t")
    assert 1 in {n for r in results for n in r.frame["_line"].to_list()}
    assert sum(r.read for r in results) == 2


_TRICKY = ["\\", 'a"b', "\\n", "\n", "\\\x1f", "\x01", "\\u0041", 'x\\"y', "é\u2028", "plain"]


@given(st.lists(st.sampled_from(_TRICKY), min_size=1, max_size=6))
def test_nested_strings_keep_their_exact_text(values: list[str]) -> None:
    # Nested objects are read level by level from Polars' own JSON text, which is ambiguous
    # for `\` and `"` and raw for control characters: every value must still come back as is.
    events = [
        {"event_type": "http", "http": {"ua": v, "deep": {"er": {"est": v}}, "n": i}}
        for i, v in enumerate(values)
    ]
    (result,) = parse_eve_lines(enumerate(map(orjson.dumps, events), 1), source="t")
    assert result.frame["http.ua"].to_list() == values
    assert result.frame["http.deep.er.est"].to_list() == values
    assert result.frame["http.n"].to_list() == [str(i) for i in range(len(values))]


def test_wide_nested_objects_read_like_flatten_object() -> None:
    stats = {f"g{g}": {f"k{k}": g * k for k in range(40)} for g in range(12)}
    events = [{"event_type": "stats", "stats": {"uptime": n, **stats}} for n in range(3)]
    (result,) = parse_eve_lines(enumerate(map(orjson.dumps, events), 1), source="t")
    for row, event in zip(result.frame.iter_rows(named=True), events, strict=True):
        for name, value in flatten_object(event).items():
            assert row[name] == value, name


# -- block reading and projection ----------------------------------------------------------------
@needs_samples
@pytest.mark.parametrize("size", [97, 1 << 22])
def test_small_blocks_and_batches_read_like_whole_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    monkeypatch.setattr(eve, "line_blocks", lambda stream: line_blocks(stream, size))
    data = (EVE / "eve" / "wikipedia.json").read_bytes()
    path = tmp_path / "crlf.json"
    path.write_bytes(data.replace(b"\n", b"\r\n"))
    lines = list(enumerate(data.split(b"\n"), 1))
    whole = {r.dataset: r.frame for r in parse_eve_lines(lines, source="s")}
    got: dict[str, list[pl.DataFrame]] = {}
    for r in read_eve(path, batch_size=7):
        assert not r.quarantined
        got.setdefault(r.dataset, []).append(r.frame)
    assert set(got) == set(whole)
    for dataset, parts in got.items():
        frame = pl.concat(parts, how="diagonal").select(whole[dataset].columns)
        assert frame.equals(whole[dataset])


@needs_samples
def test_projection_reads_the_named_and_known_fields_only() -> None:
    path = EVE / "eve" / "wikipedia.json"
    full = {r.dataset: r.frame for r in read_eve(path)}
    lines = [*enumerate(path.read_bytes().splitlines(), 1), (10_000, b'{"event_type":"alert",')]
    fields = ["alert.metadata", "flow.bytes_toserver", "no.such"]
    results = parse_eve_lines(lines, source="s", fields=fields)
    assert [q.position for r in results for q in r.quarantined] == ["line 10000"]
    for result in results:
        if result.dataset == "suricata":
            continue
        kind = result.dataset.split(".", 1)[1]
        frame, whole = result.frame, full[result.dataset]
        natives = set(frame.columns) - set(ECS_SCHEMA) - {"_raw", "_line"}
        assert natives == {
            "timestamp",
            *_COMMON,
            *KNOWN_FIELDS.get(kind, ()),
            *_ECS_SOURCES,
            *fields,
        }
        assert frame["no.such"].null_count() == frame.height
        shared = [c for c in frame.columns if c in whole.columns]
        assert frame.select(shared).equals(whole.select(shared)), result.dataset
    alerts = next(r.frame for r in results if r.dataset == "suricata.alert")
    assert alerts["alert.signature_id"][0] == "9000001"
