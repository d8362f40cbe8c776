"""Syslog reader: RFC 5424 and RFC 3164 parsing, vendor headers from the shared network-device
samples, year inference, quarantine, compressed input, and property/fuzz tests."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.core.errors import Invalid
from civicshield.detect.readers.base import Quarantined
from civicshield.detect.readers.syslog import (
    SyslogClock,
    SyslogMessage,
    parse_syslog_lines,
    parse_syslog_message,
    read_syslog,
)

SAMPLES = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "netlogs" / "syslog"
DEVICES = SAMPLES / "network-devices.log"
WRCCDC = SAMPLES / "rfc5424-wrccdc2018.log"
needs_samples = pytest.mark.skipif(
    not DEVICES.is_file(), reason=f"shared syslog samples not found at {SAMPLES}"
)
REFERENCE = datetime(2026, 1, 10, tzinfo=UTC)


def parse(*lines: bytes | str, clock: SyslogClock | None = None) -> list[dict[str, object]]:
    data = [(n, x.encode() if isinstance(x, str) else x) for n, x in enumerate(lines, 1)]
    result = parse_syslog_lines(data, source="t", clock=clock or SyslogClock(reference=REFERENCE))
    assert result.quarantined == []
    return result.frame.to_dicts()


def message(text: str | bytes) -> SyslogMessage:
    data = text.encode() if isinstance(text, str) else text
    parsed = parse_syslog_message(data, received_at=REFERENCE)
    assert isinstance(parsed, SyslogMessage), parsed
    return parsed


# -- the real samples -------------------------------------------------------------------------
@needs_samples
def test_network_devices_every_line_kept_with_priority_and_header() -> None:
    [result] = read_syslog(DEVICES, reference=REFERENCE)
    assert result.quarantined == [] and result.frame.height == 140 == result.read
    rows = result.frame.to_dicts()
    with (SAMPLES / "network-devices.index.tsv").open() as handle:
        index = {int(r["line"]): r for r in csv.DictReader(handle, delimiter="\t")}
    for row in rows:
        form = index[row["_line"]]["header_form"]
        assert row["syslog.priority"] is not None, row["_raw"]
        if form.startswith("RFC3164"):
            assert row["host"] and row["@timestamp"] is not None, row["_raw"]
        if form == "RFC5424":
            assert row["log.syslog.version"] == "1", row["_raw"]
    by_line = {row["_line"]: row for row in rows}
    cisco = by_line[26]  # <189>1432: test-switch1: Jun  1 12:50:26.172: %LINEPROTO-5-UPDOWN: …
    assert (cisco["syslog.sequence"], cisco["host"], cisco["timestamp"]) == (
        "1432",
        "test-switch1",
        "Jun  1 12:50:26.172",
    )
    assert cisco["message"].startswith("%LINEPROTO-5-UPDOWN: Line protocol on Interface Fast")
    assert (cisco["syslog.facility"], cisco["syslog.severity"]) == ("23", "5")
    assert cisco["@timestamp"] == datetime(2025, 6, 1, 12, 50, 26, 172000, tzinfo=UTC)
    xr = by_line[36]  # IOS-XR: … vmx01 RP/0/RSP1/CPU0:Mar 28 15:08:30.941 UTC: bgp[1051]: %ROUTING…
    assert (xr["host"], xr["app"], xr["procid"]) == ("vmx01", "bgp", "1051")
    assert xr["message"].startswith("%ROUTING-BGP-5-MAXPFX : No. of IPv4")
    nxos = by_line[118]  # <190>2018 Oct 31 08:12:52 sw01.test %ETHPORT-5-IF_DOWN_ERROR_DISABLED…
    assert nxos["@timestamp"] == datetime(2018, 10, 31, 8, 12, 52, tzinfo=UTC)
    assert nxos["host"] == "sw01.test" and nxos["message"].startswith("%ETHPORT-5-")
    sonic = by_line[130]  # <166>1 2019-02-20T15:10:50.505646+00:00 ss12.00.lab bgpd 83 - -  %ADJ…
    assert (sonic["app"], sonic["procid"], sonic["msgid"], sonic["sd"]) == (
        "bgpd",
        "83",
        None,
        None,
    )
    assert sonic["message"].startswith(" %ADJCHANGE: neighbor 100.67.0.142")


@needs_samples
def test_rfc5424_sample_reads_whole() -> None:
    [result] = read_syslog(WRCCDC)
    assert result.quarantined == [] and result.frame.height == 500
    first = result.frame.row(0, named=True)
    assert (first["syslog.priority"], first["syslog.facility"], first["syslog.severity"]) == (
        "134",
        "16",
        "6",
    )
    assert first["host.name"] == "PC-helen.jerry.land" and first["app"] == "EvntSLog"
    assert first["@timestamp"] == datetime(2018, 3, 24, 15, 59, 37, tzinfo=UTC)
    assert first["event.dataset"] == "syslog" and first["message"].startswith("@cee: {")
    assert result.frame["host"].value_counts().sort("host")["count"].to_list() == [
        336,
        32,
        132,
    ]  # Kramer, PC-helen, PC-newman


@needs_samples
@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_compressed_input_gives_the_same_frame(tmp_path: Path, kind: str) -> None:
    import zstandard

    data = DEVICES.read_bytes()
    packed = gzip.compress(data) if kind == "gzip" else zstandard.compress(data)
    target = tmp_path / "devices.log.x"
    target.write_bytes(packed)
    [plain] = read_syslog(DEVICES, reference=REFERENCE, source="s")
    [other] = read_syslog(target, reference=REFERENCE, source="s")
    assert other.frame.equals(plain.frame)


def test_truncated_gzip_is_invalid_naming_the_file(tmp_path: Path) -> None:
    target = tmp_path / "cut.log.gz"
    lines = b"".join(b"<13>Jan  1 00:00:00 h a: m %d\n" % (n * 7919 % 10007) for n in range(5000))
    target.write_bytes(gzip.compress(lines)[:-100])
    with pytest.raises(Invalid, match=r"cut\.log\.gz"):
        list(read_syslog(target))


def test_batches_are_bounded_and_numbered(tmp_path: Path) -> None:
    target = tmp_path / "x.log"
    target.write_bytes(b"<13>Jan  1 00:00:00 h a: m\n\n" * 5)
    batches = list(read_syslog(target, batch_size=4))
    assert [b.frame.height for b in batches] == [2, 2, 1]
    assert [n for b in batches for n in b.frame["_line"]] == [1, 3, 5, 7, 9]


# -- RFC 5424 ---------------------------------------------------------------------------------
def test_rfc5424_structured_data_escapes_and_several_elements() -> None:
    line = (
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        '[exampleSDID@32473 iut="3" eventSource="App\\"lic\\]at\\\\ion" eventID="1011"]'
        '[examplePriority@32473 class="high" class="low"] \ufeffAn application event'
    )
    [row] = parse(line)
    assert row["sd.exampleSDID@32473.eventSource"] == 'App"lic]at\\ion'
    assert row["sd.exampleSDID@32473.iut"] == "3"
    assert row["sd.examplePriority@32473.class"] == "high"  # the first of a repeated PARAM
    assert orjson.loads(str(row["sd"]))["examplePriority@32473"] == {"class": ["high", "low"]}
    assert row["message"] == "An application event"  # the BOM is not part of MSG
    assert (row["procid"], row["msgid"], row["host.name"]) == (
        None,
        "ID47",
        "mymachine.example.com",
    )
    assert row["@timestamp"] == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)


def test_rfc5424_nil_values_and_no_message() -> None:
    parsed = message("<34>1 - - - - - -")
    assert parsed.native() == ("34", "4", "2", "1", None, None, None, None, None, None, None)
    assert parsed.time is None and parsed.sd == {}


def test_non_utf8_bytes_are_replaced_and_flagged() -> None:
    [row] = parse(b"<13>1 2020-01-01T00:00:00Z h a - - - caf\xe9 \xff")
    assert row["message"] == "caf\ufffd \ufffd" and row["syslog.invalid_utf8"] is True
    [good] = parse("<13>1 2020-01-01T00:00:00Z h a - - - café")
    assert good["syslog.invalid_utf8"] is False


def test_sd_columns_are_collected_per_batch() -> None:
    rows = parse(
        '<13>1 - h a - - [a x="1"] m',
        '<13>1 - h a - - [b@1 y="2"][a z="3"]',
        "<13>Jan  1 00:00:00 h a: m",
    )
    assert [(r["sd.a.x"], r["sd.a.z"], r["sd.b@1.y"]) for r in rows] == [
        ("1", None, None),
        (None, "3", "2"),
        (None, None, None),
    ]
    assert rows[1]["message"] is None and rows[2]["sd"] is None


# -- RFC 3164 and time ------------------------------------------------------------------------
def test_rfc3164_tag_pid_and_year_inference() -> None:
    reference = datetime(2026, 1, 10, tzinfo=UTC)
    dec = message("<38>Dec 31 23:59:59 web01 sshd[4242]: Accepted password for root")
    assert (dec.host, dec.app, dec.procid, dec.message) == (
        "web01",
        "sshd",
        "4242",
        "Accepted password for root",
    )
    assert dec.time == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)  # the previous year
    soon = parse_syslog_message(b"<38>Jan 15 00:00:00 h a: m", received_at=reference)
    assert isinstance(soon, SyslogMessage) and soon.time is not None and soon.time.year == 2026
    leap = parse_syslog_message(b"<38>Feb 29 00:00:00 h a: m", received_at=reference)
    assert isinstance(leap, SyslogMessage) and leap.time == datetime(2024, 2, 29, tzinfo=UTC)


def test_explicit_year_and_zone() -> None:
    mexico = timezone(timedelta(hours=-6))
    [row] = parse("<13>Mar  1 10:00:00 h a: m", clock=SyslogClock(year=2020, tz=mexico))
    assert row["@timestamp"] == datetime(2020, 3, 1, 16, 0, tzinfo=UTC)
    assert row["timestamp"] == "Mar  1 10:00:00"
    [unknown] = parse("<13>Mar  1 10:00:00 h a: m", clock=SyslogClock())
    assert unknown["@timestamp"] is None and unknown["timestamp"] == "Mar  1 10:00:00"


def test_unparsed_headers_keep_the_text_as_message() -> None:
    rows = parse("no header at all", "<13>just text", "<13>Feb 30 00:00:00 h a: bad date")
    assert [(r["syslog.priority"], r["message"]) for r in rows[:2]] == [
        (None, "no header at all"),
        ("13", "just text"),
    ]
    assert rows[2]["timestamp"] == "Feb 30 00:00:00" and rows[2]["@timestamp"] is None


def test_message_api_strips_the_frame_end_and_quarantines() -> None:
    parsed = message(b"<13>Jan  1 00:00:00 h a: m\r\n\x00")
    assert parsed.message == "m"
    bad = parse_syslog_message(b"<300>x", received_at=REFERENCE, source="udp:10.0.0.1")
    assert isinstance(bad, Quarantined)
    assert (bad.source, bad.position, bad.raw) == ("udp:10.0.0.1", "message", "<300>x")
    assert "above 191" in bad.reason


# -- quarantine -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("<13 unclosed", "invalid PRI"),
        ("<192>Jan  1 00:00:00 h a: m", "above 191"),
        ("<13>1 2020-01-01T00:00:00Z host", "RFC 5424 header"),
        ('<13>1 - h a - - [id k="v" m', "structured data"),
        ("<13>1 - h a - - [id k=v]", "structured data"),
        ("<13>1 - h a - - -x", "structured data"),
        ('<13>1 - h a - - [id k="v"]msg', "space before MSG"),
    ],
)
def test_malformed_records_are_quarantined(line: str, reason: str) -> None:
    result = parse_syslog_lines([(1, b"<13>ok"), (7, line.encode())], source="f.log")
    assert result.frame.height == 1 and result.read == 2
    [bad] = result.quarantined
    assert bad.position == "line 7" and reason in bad.reason and bad.raw == line


# -- properties and fuzzing -------------------------------------------------------------------
_TOKEN = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)
_NAME = _TOKEN.filter(lambda t: not set(t) & set('= ]"') and t != "-")
_VALUE = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=20)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


@given(
    pri=st.integers(0, 191),
    host=_NAME,
    app=_NAME,
    procid=_NAME,
    msgid=_NAME,
    sd=st.dictionaries(_NAME, st.dictionaries(_NAME, _VALUE, min_size=1, max_size=3), max_size=3),
    msg=st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"), max_size=40
    ),
)
def test_rfc5424_round_trip(
    pri: int, host: str, app: str, procid: str, msgid: str, sd: dict[str, dict[str, str]], msg: str
) -> None:
    elements = "".join(
        f"[{i}" + "".join(f' {k}="{_escape(v)}"' for k, v in params.items()) + "]"
        for i, params in sd.items()
    )
    stamp = "2021-05-06T07:08:09.5+02:00"
    line = f"<{pri}>1 {stamp} {host} {app} {procid} {msgid} {elements or '-'} {msg}"
    parsed = message(line)
    assert (parsed.priority, parsed.host, parsed.app, parsed.procid, parsed.msgid) == (
        pri,
        host,
        app,
        procid,
        msgid,
    )
    assert parsed.sd == sd and parsed.message == msg.removeprefix("\ufeff")
    assert parsed.time == datetime(2021, 5, 6, 5, 8, 9, 500000, tzinfo=UTC)


@given(
    month=st.sampled_from(["Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep"]),
    day=st.integers(1, 28),
    host=_NAME.filter(lambda h: not h.endswith(":")),
    app=st.from_regex(r"[A-Za-z][A-Za-z0-9_/.-]{0,10}", fullmatch=True),
    pid=st.integers(0, 99999),
    # A trailing NUL ends a datagram (stripped by design), so none inside the message here.
    msg=st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"), max_size=40
    ),
)
def test_rfc3164_round_trip(month: str, day: int, host: str, app: str, pid: int, msg: str) -> None:
    parsed = message(f"<30>{month} {day:2d} 01:02:03 {host} {app}[{pid}]: {msg}")
    assert (parsed.host, parsed.app, parsed.procid, parsed.message) == (host, app, str(pid), msg)
    assert parsed.timestamp == f"{month} {day:2d} 01:02:03"
    assert parsed.time is not None and parsed.time.year == 2025  # all after 10 January 2026


@given(st.lists(st.binary(max_size=80), max_size=20))
def test_fuzz_arbitrary_bytes_never_crash(lines: list[bytes]) -> None:
    numbered = [(n, x.replace(b"\n", b" ")) for n, x in enumerate(lines, 1)]
    result = parse_syslog_lines(numbered, source="fuzz", clock=SyslogClock(reference=REFERENCE))
    assert result.read == sum(1 for _, x in numbered if x.strip())
    assert result.frame["_line"].to_list() == sorted(result.frame["_line"].to_list())


GOOD = [
    '<165>1 2003-10-11T22:14:15.003Z h app - ID47 [a@1 k="v"] msg',
    "<13>Jan  1 00:00:00 h a[1]: m",
    "<189>1432: sw: Jun  1 12:50:26.172: %LINEPROTO-5-UPDOWN: x",
]
BAD = ["<999>x", "<13>1 - h a - - [", "<abc>def", "<13>1 - h a - - [x y]"]


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(0, 10), st.integers(0, 255), st.integers(0, 200)),
        min_size=1,
        max_size=25,
    )
)
def test_fuzz_mixed_good_and_bad_lines(picks: list[tuple[bool, int, int, int]]) -> None:
    lines: list[tuple[int, bytes]] = []
    expect_good, expect_bad = [], []
    for n, (good, which, byte, where) in enumerate(picks, 1):
        if good:
            lines.append((n, GOOD[which % len(GOOD)].encode()))
            expect_good.append(n)
        else:
            text = BAD[which % len(BAD)].encode()
            if which > 5:  # mutate it further where it stays bad: after '<' or at the end
                cut = 1 if where % 2 else len(text)
                text = text[:cut] + bytes([byte]) + text[cut:]
            lines.append((n, text.replace(b"\n", b"!").replace(b"\r", b"!")))
            expect_bad.append(n)
    result = parse_syslog_lines(lines, source="mix")
    assert result.frame["_line"].to_list() == expect_good
    assert [q.position for q in result.quarantined] == [f"line {n}" for n in expect_bad]
