"""EVTX reader: `flatten_event` on constructed nested evtx-JSON events (every shape the `evtx`
crate renders), `read_evtx_json` layouts, and `read_evtx` error handling on damaged files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from civicshield.detect.readers.evtx import flatten_event, read_evtx, read_evtx_json

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "logs"
SAMPLE_EVTX = (
    SAMPLES
    / "evtx-attack-samples"
    / "evtx"
    / "Lateral Movement"
    / "LM_WMI_4624_4688_TargetHost.evtx"
)


def system(**extra: Any) -> dict[str, Any]:
    return {
        "Provider": {
            "#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F-C22A-43E0"}
        },
        "EventID": 1,
        "Version": 5,
        "Level": 4,
        "Keywords": "0x8000000000000000",
        "TimeCreated": {"#attributes": {"SystemTime": "2026-04-17T05:24:53.092051Z"}},
        "EventRecordID": 83239,
        "Correlation": None,
        "Execution": {"#attributes": {"ProcessID": 3208, "ThreadID": 1724}},
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "host1",
        "Security": {"#attributes": {"UserID": "S-1-5-18"}},
        **extra,
    }


def nested(payload: dict[str, Any], **system_extra: Any) -> dict[str, Any]:
    event = {"#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"}}
    return {"Event": {**event, "System": system(**system_extra), **payload}}


def test_system_leaves_take_native_names_and_keep_their_types() -> None:
    flat = flatten_event(nested({"EventData": {"Image": "C:\\a.exe", "ProcessId": 15596}}))
    assert flat == {
        "Provider_Name": "Microsoft-Windows-Sysmon",
        "Guid": "5770385F-C22A-43E0",
        "EventID": 1,
        "Version": 5,
        "Level": 4,
        "Keywords": "0x8000000000000000",
        "SystemTime": "2026-04-17T05:24:53.092051Z",
        "EventRecordID": 83239,
        "ProcessID": 3208,
        "ThreadID": 1724,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "host1",
        "UserID": "S-1-5-18",
        "Image": "C:\\a.exe",
        "ProcessId": 15596,
    }
    assert "xmlns" not in flat
    assert "Correlation" not in flat  # null leaves are dropped


def test_event_id_with_qualifiers_and_correlation_attributes() -> None:
    flat = flatten_event(
        nested(
            {"EventData": None},
            EventID={"#attributes": {"Qualifiers": 0}, "#text": 800},
            Correlation={"#attributes": {"ActivityID": "4AA5EAE3-4F33"}},
            Security=None,
        )
    )
    assert (flat["EventID"], flat["Qualifiers"]) == (800, 0)
    assert flat["ActivityID"] == "4AA5EAE3-4F33"
    assert "UserID" not in flat
    assert "EventData" not in flat


def test_booleans_numbers_nulls_and_empty_strings() -> None:
    flat = flatten_event(
        nested(
            {
                "EventData": {
                    "Initiated": True,
                    "SourceIsIpv6": False,
                    "DestinationPort": 443,
                    "Ratio": 0.5,
                    "RuleName": "",
                    "Binary": None,
                }
            }
        )
    )
    assert flat["Initiated"] is True
    assert flat["SourceIsIpv6"] is False
    assert flat["DestinationPort"] == 443
    assert flat["Ratio"] == 0.5
    assert flat["RuleName"] == ""  # kept: Sigma's `RuleName: ''` must see it
    assert "Binary" not in flat


def test_unnamed_data_elements_become_one_data_text() -> None:
    many = flatten_event(
        nested({"EventData": {"Data": {"#text": ["first", "HostApplication=C:\\ps.exe"]}}})
    )
    assert many["Data"] == "first\nHostApplication=C:\\ps.exe"
    one = flatten_event(nested({"EventData": {"Data": {"#text": "only"}, "Binary": "00FF"}}))
    assert (one["Data"], one["Binary"]) == ("only", "00FF")
    typed = flatten_event(nested({"EventData": {"Data": {"#text": [7]}}}))
    assert typed["Data"] == 7
    mixed = flatten_event(nested({"EventData": {"Data": {"#text": ["a", None, 3, {"k": 1}]}}}))
    assert mixed["Data"] == 'a\n3\n{"k":1}'


def test_event_data_attributes_become_leaves() -> None:
    flat = flatten_event(
        nested(
            {
                "EventData": {
                    "#attributes": {"Name": "TaskDisabled"},
                    "TaskName": "\\Microsoft\\Windows\\SystemRestore\\SR",
                }
            }
        )
    )
    assert flat["Name"] == "TaskDisabled"
    assert flat["TaskName"] == "\\Microsoft\\Windows\\SystemRestore\\SR"


def test_user_data_leaves_at_any_depth_without_namespaces() -> None:
    flat = flatten_event(
        nested(
            {
                "UserData": {
                    "LogFileCleared": {
                        "#attributes": {
                            "xmlns:auto-ns3": "http://schemas.microsoft.com/win/2004/08/events",
                            "xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
                        },
                        "SubjectUserName": "admin01",
                        "SubjectLogonId": "0xaf855",
                        "Inner": {"Deep": {"#attributes": {"Kind": "x"}, "#text": 5}},
                    }
                }
            }
        )
    )
    assert flat["SubjectUserName"] == "admin01"
    assert flat["SubjectLogonId"] == "0xaf855"
    assert (flat["Deep"], flat["Kind"]) == (5, "x")
    assert not any(key.startswith("xmlns") for key in flat)
    assert "LogFileCleared" not in flat


def test_collision_system_wins_and_payload_value_is_kept_prefixed() -> None:
    flat = flatten_event(
        nested(
            {
                "EventData": {"ProcessID": 820, "Version": "15.0", "Channel": "fake"},
                "UserData": {"Op": {"Level": "High"}},
            }
        )
    )
    assert flat["ProcessID"] == 3208
    assert flat["EventData_ProcessID"] == 820
    assert (flat["Version"], flat["EventData_Version"]) == (5, "15.0")
    assert (flat["Channel"], flat["EventData_Channel"]) == (
        "Microsoft-Windows-Sysmon/Operational",
        "fake",
    )
    assert (flat["Level"], flat["UserData_Level"]) == (4, "High")


def test_rendering_info_only_fills_free_names() -> None:
    flat = flatten_event(
        nested(
            {
                "EventData": {"Image": "a.exe"},
                "RenderingInfo": {
                    "#attributes": {"Culture": "en-US"},
                    "Message": "Process Create",
                    "Level": "Information",
                },
            }
        )
    )
    assert (flat["Message"], flat["Culture"]) == ("Process Create", "en-US")
    assert flat["Level"] == 4


def test_event_object_without_wrapper_and_non_objects() -> None:
    inner = nested({"EventData": {"Image": "a.exe"}})["Event"]
    assert flatten_event(inner)["Image"] == "a.exe"
    assert flatten_event({"Event": "text"}) == {}
    assert flatten_event({}) == {}


def events_text(*images: str) -> list[str]:
    return [json.dumps(nested({"EventData": {"Image": image}}), indent=2) for image in images]


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda docs: "\n".join(docs), id="concatenated-pretty"),
        pytest.param(lambda docs: "".join(docs), id="concatenated-no-space"),
        pytest.param(
            lambda docs: "\n".join(orjson.dumps(json.loads(d)).decode() for d in docs) + "\n",
            id="json-lines",
        ),
        pytest.param(lambda docs: "[" + ",".join(docs) + "]", id="array"),
    ],
)
def test_read_evtx_json_layouts(tmp_path: Path, layout: Any) -> None:
    path = tmp_path / "events.json"
    path.write_text(layout(events_text("a.exe", "b.exe", "c.exe")), encoding="utf-8")
    batches = list(read_evtx_json(path, ["Image", "EventID"], batch_size=2))
    assert [b.frame.height for b in batches] == [2, 1]
    frame = batches[0].frame.vstack(batches[1].frame)
    assert frame["Image"].to_list() == ["a.exe", "b.exe", "c.exe"]
    assert frame["EventID"].to_list() == ["1", "1", "1"]  # strings, as every reader column
    assert frame["_line"].to_list() == [1, 2, 3]
    assert json.loads(frame["_raw"][0])["ProcessID"] == 3208  # the flat event, types kept
    assert not any(b.bad_lines for b in batches)


def test_read_evtx_json_single_event_and_bad_documents(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(events_text("a.exe")[0], encoding="utf-8")
    (batch,) = read_evtx_json(one, ["Image"])
    assert batch.frame["Image"].to_list() == ["a.exe"]

    bad = tmp_path / "bad.json"
    good = events_text("a.exe", "b.exe")
    bad.write_text(good[0] + "\n[1, " + good[1] + "]\n{oops", encoding="utf-8")
    (batch,) = read_evtx_json(bad, ["Image"], values=True)
    assert batch.frame["Image"].to_list() == ["a.exe", "b.exe"]
    assert batch.frame["_line"].to_list() == [1, 3]
    assert [(b.line, b.reason.split(":")[0]) for b in batch.bad_lines] == [
        (2, "not a JSON object (int)"),
        (4, "invalid JSON"),
    ]
    assert "a.exe" in batch.frame["_values"][0]


def test_read_evtx_json_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("\n  \n", encoding="utf-8")
    assert list(read_evtx_json(path, ["Image"])) == []


def sample_bytes() -> bytes:
    if not SAMPLE_EVTX.exists():
        pytest.skip(f"shared EVTX sample not available: {SAMPLE_EVTX}")
    return SAMPLE_EVTX.read_bytes()


def test_read_evtx_record_numbers_and_batches(tmp_path: Path) -> None:
    path = tmp_path / "sample.evtx"
    path.write_bytes(sample_bytes())
    batches = list(read_evtx(path, ["EventID", "EventRecordID"], batch_size=5))
    assert [b.frame.height for b in batches] == [5, 3]
    assert batches[0].frame["_line"].to_list() == [1, 2, 3, 4, 5]  # record header numbers
    assert batches[0].frame["EventRecordID"][0] == "563265"  # the System value, kept
    assert not any(b.bad_lines for b in batches)


def test_read_evtx_corrupt_record_is_a_bad_line_and_the_rest_is_read(tmp_path: Path) -> None:
    data = bytearray(sample_bytes())
    data[4096 + 512 + 24] = 0xFF  # first record's first BinXML token (header + chunk header)
    path = tmp_path / "corrupt.evtx"
    path.write_bytes(bytes(data))
    (batch,) = read_evtx(path, ["EventID"])
    assert batch.frame["_line"].to_list() == [2, 3, 4, 5, 6, 7, 8]
    ((bad),) = batch.bad_lines
    assert (bad.source, bad.line) == (str(path), 1)
    assert "record number 1" in bad.reason


def test_read_evtx_truncated_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "truncated.evtx"
    path.write_bytes(sample_bytes()[: 4096 + 4000])
    (batch,) = read_evtx(path, ["EventID"])
    assert batch.frame.height == 0
    assert [b.line for b in batch.bad_lines] == [1]
    assert "truncated" in batch.bad_lines[0].reason


def test_read_evtx_not_an_evtx_file(tmp_path: Path) -> None:
    path = tmp_path / "text.evtx"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(OSError, match="not a readable EVTX file"):
        list(read_evtx(path, ["EventID"]))
    path.write_bytes(b"NotAnEvtxFile" * 1000)
    with pytest.raises(OSError, match="not a readable EVTX file"):
        list(read_evtx(path, ["EventID"]))
    with pytest.raises(FileNotFoundError):
        list(read_evtx(tmp_path / "missing.evtx", ["EventID"]))
