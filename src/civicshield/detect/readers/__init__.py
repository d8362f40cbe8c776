"""Event readers: files → Polars frames with an explicit schema (never inferred).

Exports are imported on first use: `civicshield detect` on JSONL needs neither the Zeek nor
the syslog reader (start-up time)."""

from typing import TYPE_CHECKING

from civicshield.core.lazy import lazy_exports

if TYPE_CHECKING:
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

_WHERE = {
    "BadLine": "civicshield.detect.readers.jsonl",
    "ECS_SCHEMA": "civicshield.detect.readers.base",
    "FieldMapping": "civicshield.detect.readers.mapped",
    "JsonlBatch": "civicshield.detect.readers.jsonl",
    "KNOWN_FIELDS": "civicshield.detect.readers.eve",
    "Quarantined": "civicshield.detect.readers.base",
    "ReadResult": "civicshield.detect.readers.base",
    "SyslogClock": "civicshield.detect.readers.syslog",
    "SyslogMessage": "civicshield.detect.readers.syslog",
    "ZeekHeader": "civicshield.detect.readers.zeek",
    "batch_from_lines": "civicshield.detect.readers.jsonl",
    "flatten_event": "civicshield.detect.readers.evtx",
    "flatten_object": "civicshield.detect.readers.eve",
    "load_mapping": "civicshield.detect.readers.mapped",
    "open_input": "civicshield.detect.readers.base",
    "parse_cef_lines": "civicshield.detect.readers.cef",
    "parse_eve_lines": "civicshield.detect.readers.eve",
    "parse_mapped_lines": "civicshield.detect.readers.mapped",
    "parse_nfdump_lines": "civicshield.detect.readers.nfdump",
    "parse_syslog_lines": "civicshield.detect.readers.syslog",
    "parse_syslog_message": "civicshield.detect.readers.syslog",
    "parse_zeek_lines": "civicshield.detect.readers.zeek",
    "read_cef": "civicshield.detect.readers.cef",
    "read_eve": "civicshield.detect.readers.eve",
    "read_evtx": "civicshield.detect.readers.evtx",
    "read_evtx_json": "civicshield.detect.readers.evtx",
    "read_json_objects": "civicshield.detect.readers.eve",
    "read_jsonl": "civicshield.detect.readers.jsonl",
    "read_mapped": "civicshield.detect.readers.mapped",
    "read_nfdump": "civicshield.detect.readers.nfdump",
    "read_syslog": "civicshield.detect.readers.syslog",
    "read_zeek": "civicshield.detect.readers.zeek",
}

__getattr__ = lazy_exports(__name__, _WHERE)
