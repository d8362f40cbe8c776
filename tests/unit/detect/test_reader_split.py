"""A bad line in a large batch is reported and costs only its neighbourhood the slow path;
every other line is kept, in order, with its number."""

from __future__ import annotations

import orjson

from civicshield.detect.readers import batch_from_lines


def test_bad_lines_in_a_large_batch_are_reported_and_the_rest_kept() -> None:
    lines = [(n, orjson.dumps({"EventID": n, "Image": f"c:\\x\\{n}.exe"})) for n in range(1, 5001)]
    lines[1233] = (1234, b'{"EventID": 1234, "Image": ')  # truncated
    lines[4000] = (4001, b"[1, 2]")  # not an object
    lines.append((5001, b'{"EventID": {"nested": true}}'))  # a nested value: kept as JSON text
    batch = batch_from_lines("f.jsonl", lines, ["EventID", "Image"], values=True)
    assert [(b.line, b.reason.split(":")[0]) for b in batch.bad_lines] == [
        (1234, "invalid JSON"),
        (4001, "not a JSON object (list)"),
    ]
    frame = batch.frame
    assert frame.height == 4999
    numbers = frame.get_column("_line").to_list()
    assert numbers == [n for n in range(1, 5002) if n not in (1234, 4001)]
    assert frame.get_column("EventID").to_list()[:2] == ["1", "2"]
    assert frame.get_column("EventID").to_list()[-1] == '{"nested": true}'
    assert frame.get_column("_values").to_list()[0] == "1\x1fc:\\x\\1.exe"
