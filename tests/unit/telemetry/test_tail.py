"""Tailer: partial lines, rotation by rename and copytruncate, truncation, restarts, replaced
files, glob pick-up, bounds, and a stress run with a writer rotating under a restarting reader."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path

import pytest

from civicshield.core import ConfigError
from civicshield.telemetry.tail import TailChunk, Tailer


def write(path: Path, data: bytes, mode: str = "ab") -> None:
    with open(path, mode) as out:
        out.write(data)


def lines_of(chunks: list[TailChunk]) -> list[bytes]:
    return [line for chunk in chunks for line in chunk.lines]


def drain(tailer: Tailer, *, commit: bool = True) -> list[bytes]:
    got: list[bytes] = []
    while chunks := tailer.poll():
        for chunk in chunks:
            got.extend(chunk.lines)
            if commit:
                tailer.commit(chunk)
    return got


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    d = tmp_path / "logs"
    d.mkdir()
    return d


def test_append_then_poll_returns_only_new_complete_lines(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"one\r\ntwo\n\nthree")
    tailer = Tailer([str(logdir / "*.log")], tmp_path / "state.json")
    chunks = tailer.poll()
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.path == str(log)
    assert chunk.lines == [b"one", b"two", b""]  # blank line kept, partial held back
    assert chunk.first_line == 1
    assert chunk.end_offset == len(b"one\r\ntwo\n\n")
    st = os.stat(log)
    assert chunk.file_id == f"{st.st_dev}:{st.st_ino}"
    assert tailer.poll() == []
    write(log, b" and more\nfour\n")
    chunks = tailer.poll()
    assert lines_of(chunks) == [b"three and more", b"four"]
    assert chunks[0].first_line == 4
    tailer.close()


def test_rotation_by_rename_reads_old_fd_to_its_end_first(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    writer = open(log, "ab", buffering=0)  # noqa: SIM115 - the "application" keeps its fd
    writer.write(b"a1\na2\n")
    tailer = Tailer([str(log)], tmp_path / "state.json", rotate_wait=3600)
    assert lines_of(tailer.poll()) == [b"a1", b"a2"]
    os.rename(log, logdir / "app.log.1")
    write(log, b"b1\n")  # logrotate `create`: a new file at the path
    writer.write(b"a3\na")  # the application has not reopened yet
    chunks = tailer.poll()
    assert chunks[0].file_id != chunks[1].file_id
    assert lines_of(chunks) == [b"a3", b"b1"]
    assert chunks[0].first_line == 3 and chunks[1].first_line == 1
    writer.write(b"4\n")
    writer.close()
    assert lines_of(tailer.poll()) == [b"a4"]
    assert {row["rotated"] for row in tailer.status()} == {True, False}
    tailer.close()


def test_rotated_file_is_finished_then_forgotten(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"x1\n")
    tailer = Tailer([str(log)], tmp_path / "state.json", rotate_wait=0)
    drain(tailer)
    os.rename(log, logdir / "app.log.1")
    write(logdir / "app.log.1", b"x2\nno newline")
    assert drain(tailer) == [b"x2", b"no newline"]  # an idle rotated file's last partial line
    assert [row["path"] for row in tailer.status()] == []
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["files"] == []
    tailer.close()


def test_deleted_file_is_finished_then_forgotten(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"d1\n")
    tailer = Tailer([str(log)], tmp_path / "state.json", rotate_wait=0)
    with open(log, "ab", buffering=0) as writer:
        assert drain(tailer) == [b"d1"]
        os.unlink(log)
        writer.write(b"d2\n")
        assert drain(tailer) == [b"d2"]
    assert tailer.status() == []
    tailer.close()


def test_copytruncate_restarts_at_zero(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"old line one\nold line two\n")
    tailer = Tailer([str(log)], tmp_path / "state.json")
    assert drain(tailer) == [b"old line one", b"old line two"]
    (logdir / "app.log.1").write_bytes(log.read_bytes())  # copy, then truncate in place
    with open(log, "r+b") as f:
        f.truncate(0)
    write(log, b"new\n")
    chunks = tailer.poll()
    assert lines_of(chunks) == [b"new"]
    assert chunks[0].first_line == 1
    tailer.close()


def test_truncated_and_refilled_past_position_is_detected(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"first\n")
    tailer = Tailer([str(log)], tmp_path / "state.json")
    assert drain(tailer) == [b"first"]
    write(log, b"second file content\n", mode="wb")  # same inode, longer than the position
    assert drain(tailer) == [b"second file content"]
    tailer.close()


def test_truncate_to_zero_then_new_lines(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"1\n2\n3\n")
    tailer = Tailer([str(log)], tmp_path / "state.json")
    assert drain(tailer) == [b"1", b"2", b"3"]
    os.truncate(log, 0)
    assert tailer.poll() == []
    write(log, b"4\n")
    assert drain(tailer) == [b"4"]
    tailer.close()


def test_restart_resumes_after_last_committed_chunk(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    state = tmp_path / "state.json"
    write(log, b"1\n2\n3\n")
    tailer = Tailer([str(log)], state, max_lines=2)
    first = tailer.poll()
    assert lines_of(first) == [b"1", b"2"]
    tailer.commit(first[0])
    second = tailer.poll()  # returned but never committed
    assert lines_of(second) == [b"3"]
    assert tailer.poll() == []  # never twice within one Tailer
    tailer.close()

    write(log, b"4\n")
    again = Tailer([str(log)], state)
    chunks = again.poll()
    assert lines_of(chunks) == [b"3", b"4"]  # uncommitted lines come again after a restart
    assert chunks[0].first_line == 3
    for chunk in chunks:
        again.commit(chunk)
    again.close()
    saved = json.loads(state.read_text())["files"][0]
    assert (saved["offset"], saved["line"]) == (8, 4)
    assert Tailer([str(log)], state).poll() == []


def test_restart_finishes_a_file_rotated_while_down(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    state = tmp_path / "state.json"
    write(log, b"1\n")
    tailer = Tailer([str(log)], state)
    drain(tailer)
    tailer.close()
    write(log, b"2\n")
    os.rename(log, logdir / "app.log.1")
    write(log, b"3\n")
    again = Tailer([str(log)], state, rotate_wait=0)
    assert drain(again) == [b"2", b"3"]
    again.close()


def test_replaced_file_with_same_name_is_read_from_start(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    state = tmp_path / "state.json"
    write(log, b"original content line\n")
    tailer = Tailer([str(log)], state)
    drain(tailer)
    tailer.close()
    os.unlink(log)
    write(log, b"replacement content line, longer than before\n")
    again = Tailer([str(log)], state, start_at="end")
    assert drain(again) == [b"replacement content line, longer than before"]
    again.close()


def test_reused_inode_with_other_content_is_a_new_file(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    state = tmp_path / "state.json"
    write(log, b"alpha\nbeta\n")
    tailer = Tailer([str(log)], state)
    drain(tailer)
    tailer.close()
    # Same inode, same size, other bytes: what a reused inode looks like to the state file.
    write(log, b"gamma\ndelta\nepsilon\n", mode="r+b")
    again = Tailer([str(log)], state)
    assert drain(again) == [b"gamma", b"delta", b"epsilon"]
    again.close()


def test_glob_picks_up_new_files_and_directories(logdir: Path, tmp_path: Path) -> None:
    sub = logdir / "sub"
    sub.mkdir()
    tailer = Tailer([str(logdir / "*.log"), str(sub)], tmp_path / "state.json")
    assert tailer.poll() == []
    write(logdir / "a.log", b"a\n")
    write(logdir / "ignored.txt", b"no\n")
    write(sub / "any-name", b"s\n")
    chunks = tailer.poll()
    assert sorted((Path(c.path).name, c.lines[0]) for c in chunks) == [
        ("a.log", b"a"),
        ("any-name", b"s"),
    ]
    tailer.close()


def test_start_at_end_skips_existing_lines(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"old\nold\npart")
    tailer = Tailer([str(log)], tmp_path / "state.json", start_at="end")
    assert tailer.poll() == []
    write(log, b"ial\nnew\n")
    chunks = tailer.poll()
    assert lines_of(chunks) == [b"partial", b"new"]
    assert chunks[0].first_line == 3
    tailer.close()


def test_poll_respects_line_and_byte_bounds(logdir: Path, tmp_path: Path) -> None:
    for name in ("a.log", "b.log"):
        write(logdir / name, b"".join(b"%s-%03d\n" % (name.encode(), i) for i in range(100)))
    tailer = Tailer([str(logdir / "*.log")], tmp_path / "state.json", max_lines=30, max_bytes=200)
    seen: list[bytes] = []
    while chunks := tailer.poll():
        assert sum(len(c.lines) for c in chunks) <= 30
        assert sum(len(line) + 1 for c in chunks for line in c.lines) <= 200
        seen.extend(lines_of(chunks))
    assert len(seen) == 200 and len(set(seen)) == 200


def test_line_longer_than_max_bytes_is_cut(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    write(log, b"x" * 25 + b"\nok\n")
    tailer = Tailer([str(log)], tmp_path / "state.json", max_bytes=10)
    assert drain(tailer) == [b"x" * 10, b"x" * 10, b"x" * 5, b"ok"]
    tailer.close()


def test_stale_commit_after_truncation_is_ignored(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    state = tmp_path / "state.json"
    write(log, b"0123456789\n" * 5)
    tailer = Tailer([str(log)], state)
    stale = tailer.poll()
    os.truncate(log, 0)
    write(log, b"short\n")
    fresh = tailer.poll()
    tailer.commit(stale[0])  # from before the truncation: must not move the position
    tailer.close()
    assert json.loads(state.read_text())["files"][0]["offset"] == 0
    assert lines_of(fresh) == [b"short"]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"version": 1, "files": {}}', "$.files must be a list"),
        (b'{"version": 1, "files": [{"file_id": "1:2"}]}', "$.files[0].path"),
        (
            b'{"version": 1, "files": [{"file_id": "1:2", "path": "p", "fingerprint": "x",'
            b' "fingerprint_len": 0, "offset": -1, "line": 0}]}',
            "$.files[0].offset",
        ),
    ],
)
def test_corrupted_state_file_is_refused_with_place(
    tmp_path: Path, content: bytes, where: str
) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        Tailer([str(tmp_path / "*.log")], state)
    assert where in str(info.value) and str(state) in str(info.value)


def test_stress_rename_rotation_with_restarts_delivers_every_line_once(
    logdir: Path, tmp_path: Path
) -> None:
    total = 20_000
    log = logdir / "app.log"
    state = tmp_path / "state.json"
    log.touch()

    def writer() -> None:
        rng = random.Random(6)
        out = open(log, "ab", buffering=0)  # noqa: SIM115
        n = rotation = 0
        while n < total:
            out.write(b"line %d\n" % n)
            n += 1
            if rng.random() < 0.002:
                rotation += 1
                os.rename(log, logdir / f"app.log.{rotation}")
                # The application goes on writing to its old fd for a while before reopening.
                for _ in range(min(rng.randrange(20), total - n)):
                    out.write(b"line %d\n" % n)
                    n += 1
                out.close()
                out = open(log, "ab", buffering=0)  # noqa: SIM115
                # tail -F only sees a file that exists when it looks; logrotate runs rarely.
                # Two polls after the new file exists: at least one saw it.
                seen_polls, until = polls[0] + 2, time.monotonic() + 10
                while polls[0] < seen_polls and time.monotonic() < until:
                    time.sleep(0.0005)
        out.close()

    polls = [0]
    thread = threading.Thread(target=writer)
    seen: list[int] = []
    tailer = Tailer([str(log)], state, max_lines=500, rotate_wait=0.2)
    assert tailer.poll() == []  # the empty file is known before the writer starts
    thread.start()
    restarts = random.Random(7)
    deadline = time.monotonic() + 60
    while (len(seen) < total or thread.is_alive()) and time.monotonic() < deadline:
        chunks = tailer.poll()
        polls[0] += 1
        if not chunks:
            time.sleep(0.001)
        for chunk in chunks:
            seen.extend(int(line.split()[1]) for line in chunk.lines)
            tailer.commit(chunk)
        if restarts.random() < 0.05:  # restart the reader
            tailer.close()
            tailer = Tailer([str(log)], state, max_lines=500, rotate_wait=0.2)
    thread.join()
    # Rotated files are finished and forgotten once idle; nothing more comes out of them.
    while True:
        assert tailer.poll() == []
        if len(tailer.status()) <= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert [row["path"] for row in tailer.status()] == [str(log)]
    tailer.close()
    assert len(seen) == total
    assert sorted(seen) == list(range(total))


def test_restart_ignores_unmatched_file_with_reused_identity(logdir: Path, tmp_path: Path) -> None:
    log = logdir / "app.log"
    other = logdir / "other.txt"
    state = tmp_path / "state.json"
    write(log, b"kept\n")
    tailer = Tailer([str(log)], state)
    drain(tailer)
    tailer.close()
    os.rename(log, other)
    write(other, b"rewritten, not the saved file\n", mode="r+b")  # same inode, other content
    again = Tailer([str(log)], state, rotate_wait=0)
    assert drain(again) == []
    assert again.status() == []
    again.close()
