"""CEF reader: the shared vendor samples (bare and syslog-wrapped, Barracuda's `CEF: 0`), header
and extension escaping, custom labels, ECS mapping, quarantine, compressed input, property and
fuzz tests."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.detect.readers.cef import parse_cef_lines, read_cef
from civicshield.detect.readers.syslog import SyslogClock

SAMPLES = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "netlogs" / "cef"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"shared CEF samples not found at {SAMPLES}"
)
REFERENCE = datetime(2026, 1, 10, tzinfo=UTC)


def rows(*lines: str) -> list[dict[str, object]]:
    numbered = [(n, x.encode()) for n, x in enumerate(lines, 1)]
    result = parse_cef_lines(numbered, source="t", clock=SyslogClock(reference=REFERENCE))
    assert result.quarantined == []
    return result.frame.to_dicts()


def first(name: str) -> dict[str, object]:
    [result] = read_cef(SAMPLES / name, reference=REFERENCE)
    assert result.quarantined == []
    return result.frame.row(0, named=True)


@needs_samples
def test_every_sample_reads_without_quarantine() -> None:
    counts = {}
    for path in sorted(SAMPLES.glob("*.log")):
        [result] = read_cef(path)
        assert result.quarantined == [], path.name
        counts[path.name] = result.frame.height
        assert result.frame["cef.version"].to_list() == ["0"] * result.frame.height
    assert counts == {
        "barracuda-waf.first2.log": 2,
        "citrix-adc.log": 6,
        "fortiweb-waf.first2.log": 2,
        "radiflow-isid.log": 36,
    }


@needs_samples
def test_radiflow_syslog_header_and_values_with_spaces() -> None:
    row = first("radiflow-isid.log")
    assert (row["syslog.host"], row["syslog.app"], row["syslog.procid"]) == (
        "radiflow-labs-isid",
        "radiflow-labs-isid",
        "1",
    )
    assert (row["cef.device_vendor"], row["cef.name"], row["cef.severity"]) == (
        "radiflow",
        "New Link Detected",
        "Medium",
    )
    assert row["cef.ext.SrcVendor"] == "WAGO Kontakttechnik GmbH"
    assert row["cef.ext.DstName"] == "172.16.8.17 - 0"
    assert row["cef.ext.SrcMac"] == "00:30:DE:40:D0:8D#012"  # syslog octal escape kept as sent
    assert (row["source.ip"], row["destination.ip"]) == ("172.16.2.41", "172.16.8.17")
    assert row["@timestamp"] == datetime(2025, 5, 18, 16, 2, tzinfo=UTC)  # header, no rt


@needs_samples
def test_citrix_bare_cef_escaped_equals_and_leading_space() -> None:
    [result] = read_cef(SAMPLES / "citrix-adc.log")
    by_line = {r["_line"]: r for r in result.frame.to_dicts()}
    assert by_line[3]["url.full"] == "http://test.example.com/css/login_post.html?usr=admin"
    assert by_line[3]["cef.ext.act"] == "not blocked"
    assert by_line[4]["cef.ext.msg"].startswith(" Transformed (xout)")
    assert by_line[1]["syslog.host"] is None and by_line[1]["source.port"] == 53743


@needs_samples
def test_fortiweb_empty_header_fields_labels_and_iso_rt() -> None:
    row = first("fortiweb-waf.first2.log")
    assert (row["cef.device_vendor"], row["cef.device_product"], row["cef.signature_id"]) == (
        "",
        "",
        "N/A",
    )
    assert (row["cef.ext.cs1"], row["cef.ext.cs1Label"], row["cef.label.appName"]) == (
        "My App 1",
        "appName",
        "My App 1",
    )
    assert row["cef.label.owaspTop10"] == "A01:2021-Broken Access Control"
    assert row["@timestamp"] == datetime(2022, 7, 25, 9, 56, 13, tzinfo=UTC)
    assert (row["host.name"], row["destination.port"]) == ("soartesting.net", 443)


@needs_samples
def test_barracuda_nonstandard_header_epoch_rt_and_empty_values() -> None:
    row = first("barracuda-waf.first2.log")
    assert (row["cef.version"], row["cef.device_vendor"], row["syslog.host"]) == (
        "0",
        "BarracudaNetworks",
        "Barracuda",
    )
    assert row["cef.ext.cat"] == "TR" and row["cef.ext.BarracudaWafSessionID"] == ""
    assert row["cef.ext.msg"] == "lang=en"
    assert row["@timestamp"] == datetime(2022, 8, 3, 10, 49, 35, 38000, tzinfo=UTC)
    assert row["cef.ext.dst"] == "-" and row["destination.ip"] is None
    assert row["user.name"] is None  # suser="-"
    assert row["cef.label.ServerTime(ms)"] == "0"


@needs_samples
@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_compressed_input_gives_the_same_frame(tmp_path: Path, kind: str) -> None:
    import zstandard

    data = (SAMPLES / "radiflow-isid.log").read_bytes()
    target = tmp_path / "r.cef"
    target.write_bytes(gzip.compress(data) if kind == "gzip" else zstandard.compress(data))
    [plain] = read_cef(SAMPLES / "radiflow-isid.log", reference=REFERENCE, source="s")
    [other] = read_cef(target, reference=REFERENCE, source="s")
    assert other.frame.equals(plain.frame)


def test_escaping_in_header_and_extension() -> None:
    [row] = rows(
        r"CEF:1|Ven\|dor|Pro\\duct|1.0|100|Name with \| pipe|10|"
        r"msg=a\=b c\\d\nline\rx| y fname=C:\\Windows\\x.exe"
    )
    assert (row["cef.device_vendor"], row["cef.device_product"], row["cef.name"]) == (
        "Ven|dor",
        "Pro\\duct",
        "Name with | pipe",
    )
    assert row["cef.ext.msg"] == "a=b c\\d\nline\rx| y"
    assert row["cef.ext.fname"] == "C:\\Windows\\x.exe"


def test_ecs_mapping_and_syslog_5424_wrapper() -> None:
    sha = "AB" * 32
    [row, other] = rows(
        "<134>1 2024-02-03T04:05:06Z fw app - - - CEF:0|V|P|1|sig|n|3|src=10.0.0.1 spt=1234 "
        f"dst=10.0.0.2 dpt=443 proto=TCP suser=alice duser=bob shost=pc1 request=https://x/y "
        f"fileHash={sha}",
        "CEF:0|V|P|1|sig|n|3|duser=bob dhost=srv proto=17 fileHash=abc "
        "start=Feb 03 2024 04:05:06 UTC",
    )
    assert (row["syslog.priority"], row["syslog.host"], row["syslog.app"]) == ("134", "fw", "app")
    assert (row["source.ip"], row["source.port"], row["destination.port"]) == (
        "10.0.0.1",
        1234,
        443,
    )
    assert (row["network.transport"], row["user.name"], row["host.name"]) == ("tcp", "alice", "pc1")
    assert (row["url.full"], row["file.hash.sha256"]) == ("https://x/y", sha.lower())
    assert row["@timestamp"] == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)  # from the header
    assert (other["user.name"], other["host.name"], other["network.transport"]) == (
        "bob",
        "srv",
        "udp",
    )
    assert other["file.hash.sha256"] is None and other["cef.ext.fileHash"] == "abc"
    assert other["@timestamp"] == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_no_extension_and_missing_final_pipe() -> None:
    [a, b] = rows("CEF:0|V|P|1|s|n|5|", "CEF:0|V|P|1|s|n|5")
    assert a["cef.severity"] == b["cef.severity"] == "5"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("just a log line", "no CEF header"),
        ("CEF:0|V|P|1|s", "of 7 fields"),
        ("CEF:0|V|P|1|s|n|5|junk before key=v", "text before the first"),
        ("CEF:0|V|P|1|s|n|5|no pairs here", "no key=value"),
        ("<999>Jan  1 00:00:00 h CEF:0|V|P|1|s|n|5|a=b", "syslog header: invalid PRI"),
    ],
)
def test_malformed_lines_are_quarantined(line: str, reason: str) -> None:
    result = parse_cef_lines([(2, b"CEF:0|V|P|1|s|n|5|a=b"), (9, line.encode())], source="f")
    assert result.frame.height == 1 and result.read == 2
    [bad] = result.quarantined
    assert bad.position == "line 9" and reason in bad.reason and bad.raw == line


# -- properties and fuzzing -------------------------------------------------------------------
_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=15)
_KEY = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,10}", fullmatch=True)


def _esc_header(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _esc_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("=", "\\=").replace("\n", "\\n").replace("\r", "\\r")


@given(
    header=st.lists(_TEXT, min_size=6, max_size=6),
    ext=st.dictionaries(
        _KEY,
        # a value may hold spaces, but not a space followed by something that looks like a key
        _TEXT.filter(lambda v: "=" not in v or not any(c.isspace() for c in v)).map(
            lambda v: v.strip()
        ),
        max_size=5,
    ),
)
def test_round_trip(header: list[str], ext: dict[str, str]) -> None:
    line = "CEF:0|" + "|".join(_esc_header(h) for h in header) + "|"
    line += " ".join(f"{k}={_esc_value(v)}" for k, v in ext.items())
    [row] = rows(line)
    names = [
        "device_vendor",
        "device_product",
        "device_version",
        "signature_id",
        "name",
        "severity",
    ]
    assert [row[f"cef.{n}"] for n in names] == header
    assert {k: row[f"cef.ext.{k}"] for k in ext} == ext


@given(st.lists(st.binary(max_size=100), max_size=20))
def test_fuzz_arbitrary_bytes_never_crash(lines: list[bytes]) -> None:
    numbered = [(n, x.replace(b"\n", b" ")) for n, x in enumerate(lines, 1)]
    result = parse_cef_lines(numbered, source="fuzz")
    assert result.read == sum(1 for _, x in numbered if x.strip())


GOOD = [
    "CEF:0|V|P|1|s|n|5|src=1.2.3.4 msg=hello world",
    "Jan  1 00:00:00 host app[1] CEF:0|a\\|b|P|1|s|n|High|cs1Label=x cs1=y",
    "<13>Aug  3 10:49:35 Barracuda CEF: 0|B|W|1|W|W|4| cat=TR",
]
BAD = ["CEF:0|V|P", "not cef", "CEF:0|V|P|1|s|n|5|junk a=b", "<1234>CEF:0|V|P|1|s|n|5|a=b"]


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20), st.text(max_size=5)), max_size=25))
def test_fuzz_mixed_good_and_bad_lines(picks: list[tuple[bool, int, str]]) -> None:
    lines: list[tuple[int, bytes]] = []
    expect_good, expect_bad = [], []
    for n, (good, which, noise) in enumerate(picks, 1):
        if good:
            lines.append((n, GOOD[which % len(GOOD)].encode()))
            expect_good.append(n)
        else:
            text = BAD[which % len(BAD)]
            if which % len(BAD) == 1:  # free text without a CEF header stays bad
                text += noise.replace("CEF:", "")
            lines.append((n, text.encode()))
            expect_bad.append(n)
    result = parse_cef_lines(lines, source="mix")
    assert result.frame["_line"].to_list() == expect_good
    assert [q.position for q in result.quarantined] == [f"line {n}" for n in expect_bad]


def test_pairs_split_on_any_single_whitespace_and_header_backslash_before_pipe() -> None:
    [row] = rows("CEF:0|V\\\\|P|1|s|n|5|a=x  b=y\tc=z\u2003d=w e=")
    assert row["cef.device_vendor"] == "V\\" and row["cef.device_product"] == "P"
    values = [row[f"cef.ext.{k}"] for k in "abcde"]
    assert values == ["x ", "y", "z", "w", ""]
