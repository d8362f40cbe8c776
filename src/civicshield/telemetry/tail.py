"""Follow log files and directories like `tail -F`, with positions persisted across restarts.

A file is known by its identity (`device:inode`) plus a fingerprint (SHA-256 of its first up to
1024 bytes), never by its name, so rotation by rename, copytruncate, a replaced file and a reused
inode are told apart. Only complete lines are returned; `commit` persists "handled up to here"
and a new Tailer on the same state file resumes just after the last committed chunk
(at-least-once: uncommitted chunks come again after a restart, never twice within one Tailer).
Behaviour and limits: docs/telemetry-sources.md. One Tailer is used from one thread.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from civicshield.telemetry._tail_state import (
    FINGERPRINT_BYTES,
    file_id,
    fingerprint,
    last_line_end,
    load_state,
    save_state,
)

__all__ = ["FINGERPRINT_BYTES", "TailChunk", "Tailer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TailChunk:
    """Complete lines read from one file, in order."""

    path: str  # the file's path as found by the pattern (its last known path once rotated)
    file_id: str  # "device:inode" identity of the file the lines came from
    first_line: int  # 1-based line number of lines[0] within that file
    lines: list[bytes]  # line end (b"\n" or b"\r\n") removed; blank lines kept
    end_offset: int  # byte offset just after the last line: the position to persist


@dataclass
class _Track:
    path: str
    file_id: str
    fd: int
    offset: int = 0  # read position: just after the last line poll returned
    line: int = 0  # number of the last line poll returned
    committed: int = 0
    committed_line: int = 0
    fp: str = ""
    fp_len: int = 0
    seen_size: int = -1
    last_growth: float = 0.0
    orphaned: bool = False  # the path no longer leads to this file: rotated away or deleted
    orphaned_seq: int = 0
    done: bool = False  # orphaned, read to its end and idle for rotate_wait
    # end_offset -> last line of chunks returned but not committed yet (rejects stale commits)
    pending: dict[int, int] = field(default_factory=dict)


@dataclass
class _Budget:
    lines: int
    bytes: int


class Tailer:
    """Follow the files matched by glob `patterns` (a matched directory means its files)."""

    def __init__(
        self,
        patterns: Sequence[str],
        state_file: Path,
        *,
        max_lines: int = 10_000,
        max_bytes: int = 8 << 20,
        start_at: Literal["beginning", "end"] = "beginning",
        rotate_wait: float = 5.0,
    ) -> None:
        if max_lines < 1 or max_bytes < 1:
            raise ValueError("max_lines and max_bytes must be at least 1")
        if start_at not in ("beginning", "end"):
            raise ValueError(f"start_at must be 'beginning' or 'end', not {start_at!r}")
        self._patterns = [str(p) for p in patterns]
        self._state_file = Path(state_file)
        self._tmp_file = self._state_file.with_name(self._state_file.name + ".tmp")
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self._start_at = start_at
        # How long a rotated-away or deleted file must stay idle before it is finished: the
        # writer may still hold it open until it reopens its log (logrotate `create` + HUP).
        self._rotate_wait = rotate_wait
        entries = load_state(self._state_file)
        self._restored = {e["file_id"]: e for e in entries}
        self._restored_paths = {e["path"] for e in entries}
        self._tracks: dict[str, _Track] = {}
        self._first_poll = True
        self._orphan_counter = 0

    # -- discovery ---------------------------------------------------------------------------

    def _matched_paths(self) -> Iterator[str]:
        own = {os.path.abspath(self._state_file), os.path.abspath(self._tmp_file)}
        for pattern in self._patterns:
            for found in sorted(glob.glob(pattern, recursive=True)):
                names = [found]
                if os.path.isdir(found):
                    names = [os.path.join(found, n) for n in sorted(os.listdir(found))]
                for name in names:
                    if os.path.abspath(name) not in own:
                        yield name

    def _discover(self) -> None:
        found: dict[str, str] = {}
        for path in self._matched_paths():
            try:
                st = os.stat(path)
            except OSError:
                continue  # vanished between glob and stat
            if stat.S_ISREG(st.st_mode):
                found.setdefault(file_id(st), path)
        opened = False
        for fid, path in found.items():
            track = self._tracks.get(fid)
            if track is None:
                opened = self._open(path) is not None or opened
            else:
                track.path, track.orphaned, track.done = path, False, False
        for fid, track in self._tracks.items():
            if fid not in found and not track.orphaned:
                self._orphan_counter += 1
                track.orphaned, track.orphaned_seq = True, self._orphan_counter
                track.last_growth = time.monotonic()
                log.info("%s: rotated away or deleted; finishing %s", track.path, fid)
        if self._first_poll:
            self._first_poll = False
            self._recover_rotated()
            self._restored.clear()
        if opened:
            # Known from now on even if it is rotated away before anything is committed.
            self._save()

    def _open(self, path: str, entry: dict[str, Any] | None = None) -> _Track | None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            log.warning("%s: cannot open for tailing: %s", path, exc)
            return None
        st = os.fstat(fd)  # the fd is the truth: the path may have changed since the glob
        fid = file_id(st)
        if fid in self._tracks or (entry is not None and entry["file_id"] != fid):
            os.close(fd)
            return None
        recovering = entry is not None
        entry = self._restored.pop(fid, None) if entry is None else entry
        same = entry is not None and self._same_file(fd, entry)
        if recovering and not same:
            os.close(fd)  # the inode was reused by another file: not the one saved
            return None
        track = _Track(path, fid, fd, last_growth=time.monotonic())
        if entry is not None and same:
            if st.st_size >= entry["offset"]:
                track.offset = track.committed = entry["offset"]
                track.line = track.committed_line = entry["line"]
            else:
                log.warning("%s: shorter than its saved position; reading from the start", path)
        elif self._first_poll and self._start_at == "end" and path not in self._restored_paths:
            track.offset, track.line = last_line_end(fd, st.st_size)
            track.committed, track.committed_line = track.offset, track.line
        track.fp, track.fp_len = fingerprint(fd)
        self._tracks[fid] = track
        return track

    @staticmethod
    def _same_file(fd: int, entry: dict[str, Any]) -> bool:
        digest, length = fingerprint(fd, entry["fingerprint_len"])
        return bool(length == entry["fingerprint_len"] and digest == entry["fingerprint"])

    def _recover_rotated(self) -> None:
        """After a restart, find saved files no pattern matches any more (rotated to another
        name in the same directory) by their identity, to finish them."""
        for entry in list(self._restored.values()):
            directory = os.path.dirname(entry["path"]) or "."
            try:
                candidates = list(os.scandir(directory))
            except OSError:
                candidates = []
            for cand in candidates:
                try:
                    st = cand.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and file_id(st) == entry["file_id"]:
                    track = self._open(cand.path, entry)
                    if track is not None:
                        self._orphan_counter += 1
                        track.orphaned, track.orphaned_seq = True, self._orphan_counter
                    break
            else:
                log.info(
                    "%s: gone since the last run; forgetting %s", entry["path"], entry["file_id"]
                )

    # -- reading -----------------------------------------------------------------------------

    def poll(self) -> list[TailChunk]:
        """What is new since the last poll: at most max_lines lines and max_bytes bytes in all.
        Rotated-away files come first, so lines keep their order across a rotation."""
        self._discover()
        budget = _Budget(self._max_lines, self._max_bytes)
        chunks: list[TailChunk] = []
        order = sorted(
            self._tracks.values(), key=lambda t: (not t.orphaned, t.orphaned_seq, t.path)
        )
        for track in order:
            if budget.lines <= 0 or budget.bytes <= 0:
                break
            chunk = self._read(track, budget)
            if chunk is not None:
                chunks.append(chunk)
        self._forget_finished()
        return chunks

    def _truncated(self, track: _Track, size: int) -> bool:
        if size < track.offset or size < track.fp_len:
            return True
        if size == track.seen_size or track.fp_len == 0:
            return False
        # Same size or more, but different first bytes: truncated and written again (copytruncate).
        digest, _ = fingerprint(track.fd, track.fp_len)
        return digest != track.fp

    def _read(self, track: _Track, budget: _Budget) -> TailChunk | None:
        now = time.monotonic()
        size = os.fstat(track.fd).st_size
        if self._truncated(track, size):
            log.warning(
                "%s: truncated (size %d, position %d); from the start",
                track.path,
                size,
                track.offset,
            )
            track.offset = track.line = track.committed = track.committed_line = 0
            track.pending.clear()
            track.fp, track.fp_len = fingerprint(track.fd)
        if size != track.seen_size:
            track.seen_size, track.last_growth, track.done = size, now, False
            if track.fp_len < FINGERPRINT_BYTES:
                track.fp, track.fp_len = fingerprint(track.fd)
        idle = track.orphaned and now - track.last_growth >= self._rotate_wait
        if size <= track.offset:
            track.done = idle
            return None
        data = os.pread(track.fd, min(size - track.offset, budget.bytes), track.offset)
        lines: list[bytes] = []
        pos = 0
        while len(lines) < budget.lines:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            lines.append(data[pos : nl - 1] if nl > pos and data[nl - 1] == 13 else data[pos:nl])
            pos = nl + 1
        if not lines:
            if len(data) >= self._max_bytes:
                log.warning(
                    "%s: line %d longer than %d bytes; cut",
                    track.path,
                    track.line + 1,
                    self._max_bytes,
                )
            elif not (idle and track.offset + len(data) == size):
                return None  # a partial line: held back until its newline arrives
            # else: the last line of a file no one writes to any more never gets its newline
            lines, pos = [data.removesuffix(b"\r")], len(data)
        chunk = TailChunk(track.path, track.file_id, track.line + 1, lines, track.offset + pos)
        track.offset, track.line = chunk.end_offset, track.line + len(lines)
        track.pending[track.offset] = track.line
        budget.lines -= len(lines)
        budget.bytes -= pos
        return chunk

    # -- persistence -------------------------------------------------------------------------

    def commit(self, chunk: TailChunk) -> None:
        """Persist that `chunk` (and everything before it in its file) is handled."""
        track = self._tracks.get(chunk.file_id)
        last = chunk.first_line + len(chunk.lines) - 1
        if track is None or track.pending.get(chunk.end_offset) != last:
            log.debug("%s: stale commit ignored (file truncated or forgotten since)", chunk.path)
            return
        if chunk.end_offset > track.committed:
            track.committed, track.committed_line = chunk.end_offset, last
        for end in [e for e in track.pending if e <= chunk.end_offset]:
            del track.pending[end]
        self._save()

    def _forget_finished(self) -> None:
        gone = [t for t in self._tracks.values() if t.done and t.committed == t.offset]
        for track in gone:
            log.info("%s: finished %s after rotation or deletion", track.path, track.file_id)
            os.close(track.fd)
            del self._tracks[track.file_id]
        if gone:
            self._save()

    def _save(self) -> None:
        files = [
            {
                "file_id": t.file_id,
                "path": t.path,
                "fingerprint": t.fp,
                "fingerprint_len": t.fp_len,
                "offset": t.committed,
                "line": t.committed_line,
            }
            for t in self._tracks.values()
        ]
        files.extend(self._restored.values())  # not seen yet: keep them for the next run
        save_state(self._state_file, self._tmp_file, files)

    def status(self) -> list[dict[str, Any]]:
        """Per followed file: committed `offset`/`line`, `read_offset`, `size`, `lag_bytes`
        (size minus committed offset) and whether it was `rotated` away."""
        rows: list[dict[str, Any]] = []
        for t in sorted(self._tracks.values(), key=lambda t: t.path):
            size = os.fstat(t.fd).st_size
            rows.append(
                {
                    "path": t.path,
                    "file_id": t.file_id,
                    "offset": t.committed,
                    "line": t.committed_line,
                    "read_offset": t.offset,
                    "size": size,
                    "lag_bytes": max(0, size - t.committed),
                    "rotated": t.orphaned,
                }
            )
        return rows

    def close(self) -> None:
        """Save the committed positions and close every file."""
        if self._tracks:
            self._save()
        for track in self._tracks.values():
            os.close(track.fd)
        self._tracks.clear()

    def __enter__(self) -> Tailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
