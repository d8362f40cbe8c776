"""What every telemetry reader shares: opening plain/gzip/zstd input, the quarantine record,
the result shape, and the normalised ECS columns (GUIDE §2).

A reader turns one input into `ReadResult`s (bounded batches): a Polars frame with the format's
native fields as `String` columns (text as the source wrote it, so Sigma rules see what the
device said), the ECS columns below (typed), `_raw` (the record's text) and `_line` (its 1-based
line, or record number for formats without lines), plus the records it could not read, each
`Quarantined` with the reason and where it was. `read` counts every record seen, so
`read == frame.height + len(quarantined)` for each batch: nothing is dropped silently.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

import polars as pl

from civicshield.core.errors import Invalid

__all__ = [
    "ECS_SCHEMA",
    "LINE_FIELD",
    "RAW_FIELD",
    "Quarantined",
    "ReadResult",
    "data_blocks",
    "iter_lines",
    "line_batches",
    "line_blocks",
    "open_input",
    "with_ecs",
]

RAW_FIELD = "_raw"
LINE_FIELD = "_line"

# The normalised columns IOC matching, segmentation, anomaly models and the UI read (GUIDE §2).
ECS_SCHEMA: dict[str, pl.DataType] = {
    "@timestamp": pl.Datetime("us", "UTC"),
    "event.dataset": pl.String(),
    "source.ip": pl.String(),
    "source.port": pl.Int32(),
    "destination.ip": pl.String(),
    "destination.port": pl.Int32(),
    "network.transport": pl.String(),
    "dns.question.name": pl.String(),
    "url.full": pl.String(),
    "file.hash.sha256": pl.String(),
    "user.name": pl.String(),
    "host.name": pl.String(),
}

BLOCK_BYTES = 1 << 22  # bytes read at a time: big enough that per-read costs vanish
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class Quarantined:
    """A record a reader could not read: where it was, why, and its text (for replay)."""

    source: str
    position: str  # "line 12", "byte 4096", "record 3"
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.position}: {self.reason}"


@dataclass
class ReadResult:
    dataset: str
    frame: pl.DataFrame
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.frame.height + len(self.quarantined)


def open_input(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it starts with a gzip or zstd frame (by content,
    not by name)."""
    with path.open("rb") as probe:
        magic = probe.read(4)
    if magic[:2] == _GZIP:
        return cast(IO[bytes], gzip.open(path, "rb"))
    if magic == _ZSTD:
        import zstandard  # only for zstd input

        raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
        # The zstd reader has no readline; a buffer gives line iteration.
        return io.BufferedReader(cast(io.RawIOBase, raw), buffer_size=1 << 20)
    return path.open("rb")


def line_blocks(stream: IO[bytes], size: int = BLOCK_BYTES) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines without their ends) for consecutive runs of whole lines:
    the stream is read `size` bytes at a time and split in C, not one Python step per line.
    Lines end at `\n`; trailing `\r`s are dropped too; a last line without `\n` counts."""
    for number, lines, _ in data_blocks(stream, size):
        yield number, lines


def data_blocks(
    stream: IO[bytes], size: int = BLOCK_BYTES
) -> Iterator[tuple[int, list[bytes], bytes | None]]:
    """`line_blocks`, each block with its bytes (its lines joined by `\\n`): None where `\\r`s
    were dropped."""
    number = 1
    rest = b""
    while chunk := stream.read(size):
        if rest:
            chunk = rest + chunk
        cut = chunk.rfind(b"\n")
        if cut < 0:  # a line longer than the block: keep reading
            rest = chunk
            continue
        data, rest = chunk[:cut], chunk[cut + 1 :]
        lines = data.split(b"\n")
        if b"\r" in data:  # rare: strip per line only when some line has one
            yield number, [line.rstrip(b"\r") for line in lines], None
        else:
            yield number, lines, data
        number += len(lines)
    if rest:
        last = rest.rstrip(b"\r\n")
        yield number, [last], last


def iter_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without its end) for every line, blank ones included."""
    for start, lines in line_blocks(stream):
        yield from enumerate(lines, start)


def with_ecs(frame: pl.DataFrame, exprs: Mapping[str, pl.Expr], dataset: str) -> pl.DataFrame:
    """Add every ECS column: those given as expressions over the native columns (cast to the
    ECS type, non-strict: a value that does not fit becomes null, the native column keeps it),
    `event.dataset` set to `dataset`, the rest null."""
    columns = []
    for name, dtype in ECS_SCHEMA.items():
        if name == "event.dataset":
            columns.append(pl.lit(dataset, dtype=pl.String()).alias(name))
        elif name in exprs:
            columns.append(exprs[name].cast(dtype, strict=False).alias(name))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.with_columns(columns)


def _decompress_errors() -> tuple[type[BaseException], ...]:
    import zstandard  # only what `open_input` already needs

    return (OSError, EOFError, zlib.error, zstandard.ZstdError)


def line_batches(path: Path, source: str, batch_size: int) -> Iterator[list[tuple[int, bytes]]]:
    """(line number, line) lists of at most `batch_size` lines (at least one list, maybe empty),
    through `open_input`. Raises `Invalid` naming `source` when the file cannot be read or
    decompressed (a truncated or corrupted gzip/zstd stream)."""
    batch: list[tuple[int, bytes]] = []
    done = False
    try:
        with open_input(path) as stream:
            for start, lines in line_blocks(stream):
                at = 0
                while at < len(lines):  # whole slices, not one append per line
                    take = lines[at : at + batch_size - len(batch)]
                    batch += zip(range(start + at, start + at + len(take)), take, strict=True)
                    at += len(take)
                    if len(batch) >= batch_size:
                        yield batch
                        batch, done = [], True
    except _decompress_errors() as exc:
        last = batch[-1][0] if batch else "start"
        raise Invalid(f"{source}: cannot read input after line {last}: {exc}") from exc
    if batch or not done:  # an empty file still gives one (empty) frame
        yield batch
