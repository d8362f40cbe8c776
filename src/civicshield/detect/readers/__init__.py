"""Event readers: files → Polars frames with an explicit schema (never inferred)."""

from civicshield.detect.readers.base import ECS_SCHEMA, Quarantined, ReadResult, open_input
from civicshield.detect.readers.cef import parse_cef_lines, read_cef
from civicshield.detect.readers.eve import (
    KNOWN_FIELDS,
    flatten_object,
    parse_eve_lines,
    read_eve,
    read_json_objects,
)
from civicshield.detect.readers.evtx import flatten_event, read_evtx, read_evtx_json
from civicshield.detect.readers.jsonl import BadLine, JsonlBatch, batch_from_lines, read_jsonl
from civicshield.detect.readers.mapped import (
    FieldMapping,
    load_mapping,
    parse_mapped_lines,
    read_mapped,
)
from civicshield.detect.readers.nfdump import parse_nfdump_lines, read_nfdump
from civicshield.detect.readers.syslog import (
    SyslogClock,
    SyslogMessage,
    parse_syslog_lines,
    parse_syslog_message,
    read_syslog,
)
from civicshield.detect.readers.zeek import ZeekHeader, parse_zeek_lines, read_zeek

__all__ = [
    "ECS_SCHEMA",
    "KNOWN_FIELDS",
    "BadLine",
    "FieldMapping",
    "JsonlBatch",
    "Quarantined",
    "ReadResult",
    "SyslogClock",
    "SyslogMessage",
    "ZeekHeader",
    "batch_from_lines",
    "flatten_event",
    "flatten_object",
    "load_mapping",
    "open_input",
    "parse_cef_lines",
    "parse_eve_lines",
    "parse_mapped_lines",
    "parse_nfdump_lines",
    "parse_syslog_lines",
    "parse_syslog_message",
    "parse_zeek_lines",
    "read_cef",
    "read_eve",
    "read_evtx",
    "read_evtx_json",
    "read_json_objects",
    "read_jsonl",
    "read_mapped",
    "read_nfdump",
    "read_syslog",
    "read_zeek",
]
