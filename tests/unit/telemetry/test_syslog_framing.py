"""RFC 6587 framing: octet counting, LF/NUL trailers, split reads, mixed streams, bad lengths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.telemetry._syslog_framing import (
    FramingError,
    StreamFramer,
    clean_message,
    udp_message,
)

RFC5424 = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed"
RFC3164 = b"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"


def counted(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


def test_octet_counting_frames_back_to_back() -> None:
    framer = StreamFramer(2048)
    assert framer.feed(counted(RFC5424) + counted(b"second msg with \n inside")) == [
        RFC5424,
        b"second msg with \n inside",  # octet counting is transparent: LF inside stays
    ]
    assert framer.buffered == 0


def test_lf_crlf_and_nul_trailers() -> None:
    framer = StreamFramer(2048)
    stream = RFC3164 + b"\n" + RFC5424 + b"\r\n" + b"<14>nul framed\x00" + b"\n\n"
    assert framer.feed(stream) == [RFC3164, RFC5424, b"<14>nul framed"]


def test_mixed_framings_in_one_stream_and_trailing_lf_after_counted_frame() -> None:
    framer = StreamFramer(2048)
    stream = counted(b"<1>a") + b"<2>b\n" + counted(b"<3>c\n") + b"\n" + b"<4>d\n"
    assert framer.feed(stream) == [b"<1>a", b"<2>b", b"<3>c", b"<4>d"]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_split_across_reads_at_every_position(step: int) -> None:
    stream = counted(RFC5424) + RFC3164 + b"\n" + counted(b"<5>" + b"x" * 300)
    framer = StreamFramer(2048)
    got: list[bytes] = []
    for start in range(0, len(stream), step):
        got.extend(framer.feed(stream[start : start + step]))
    assert got == [RFC5424, RFC3164, b"<5>" + b"x" * 300]
    assert framer.buffered == 0


def test_length_still_arriving_waits() -> None:
    framer = StreamFramer(2048)
    assert framer.feed(b"12") == []
    assert framer.feed(b"3") == []
    assert framer.feed(b" " + b"y" * 123) == [b"y" * 123]


@pytest.mark.parametrize(
    ("stream", "problem"),
    [
        (b"12x <1>a", "bad octet count"),
        (b"99999999999 <1>a", "bad octet count"),
        (b"007 <1>abc", "starts with 0"),
        (b"5000 " + b"z" * 10, "over the limit of 100"),
    ],
)
def test_bad_lengths_are_framing_errors(stream: bytes, problem: str) -> None:
    framer = StreamFramer(100)
    with pytest.raises(FramingError, match=problem):
        framer.feed(stream)


def test_framing_error_keeps_earlier_messages_and_names_frame() -> None:
    framer = StreamFramer(100)
    with pytest.raises(FramingError, match="frame 2") as info:
        framer.feed(b"<1>ok\n2x garbage")
    assert info.value.messages == [b"<1>ok"]


def test_over_long_lf_line_is_cut_and_counted() -> None:
    framer = StreamFramer(10)
    got = framer.feed(b"<1>" + b"a" * 30)  # no trailer yet, already over the limit
    got += framer.feed(b"b" * 30 + b"\n<2>short\n")
    assert got == [b"<1>aaaaaaa", b"<2>short"]
    assert framer.oversized == 1
    assert framer.feed(b"<3>" + b"c" * 20 + b"\n") == [b"<3>ccccccc"]  # over-long, trailer seen
    assert framer.oversized == 2


def test_udp_message_strips_trailer_and_cuts() -> None:
    assert udp_message(RFC3164 + b"\n", 2048) == (RFC3164, False)
    assert udp_message(b"<1>abcdef\r\n", 5) == (b"<1>ab", True)
    assert clean_message(b"x\r\n\x00") == b"x"


messages = st.lists(
    st.binary(min_size=1, max_size=80).map(
        lambda b: b"<1>" + b.replace(b"\n", b"").rstrip(b"\r\x00")
    ),
    max_size=20,
)


@given(messages, st.lists(st.booleans(), min_size=20, max_size=20), st.integers(1, 50))
def test_any_mix_of_framings_and_read_sizes_round_trips(
    msgs: list[bytes], octet: list[bool], step: int
) -> None:
    stream = b"".join(
        counted(m) if use_count else m.replace(b"\x00", b"") + b"\n"
        for m, use_count in zip(msgs, octet, strict=False)
    )
    framer = StreamFramer(200)
    got: list[bytes] = []
    for start in range(0, len(stream), step):
        got.extend(framer.feed(stream[start : start + step]))
    expected = [
        m if use_count else m.replace(b"\x00", b"")
        for m, use_count in zip(msgs, octet, strict=False)
    ]
    assert got == [clean_message(m) for m in expected if clean_message(m)]


@given(st.binary(max_size=300), st.integers(1, 64))
def test_garbage_never_breaks_bounds(data: bytes, step: int) -> None:
    framer = StreamFramer(50)
    try:
        for start in range(0, len(data), step):
            for message in framer.feed(data[start : start + step]):
                assert 0 < len(message) <= 50
            assert framer.buffered <= 50 + step + 11
    except FramingError:
        pass
