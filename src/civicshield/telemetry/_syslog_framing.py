"""Syslog framing: split a TCP/TLS byte stream into messages (RFC 6587), and clean a UDP datagram.

RFC 6587 §3.4.1 octet counting (`MSG-LEN SP SYSLOG-MSG`, MSG-LEN = NONZERO-DIGIT *DIGIT) is the
framing RFC 5425 §4.3 requires over TLS; §3.4.2 non-transparent framing ends a message with a
trailer, LF in practice (NUL is also seen and accepted). A frame that starts with a digit is octet
counted, anything else is trailer framed, decided again for every message, so a sender may mix
them. Pure functions and one small class: no I/O here.
"""

from __future__ import annotations

import re

__all__ = ["FramingError", "StreamFramer", "clean_message", "udp_message"]

_TRAILER = re.compile(rb"[\n\x00]")
_MAX_LEN_DIGITS = 10  # enough for any sane limit; more is garbage, not a length
_STRIP = b"\r\n\x00"


class FramingError(ValueError):
    """The stream cannot be framed any more (bad or over-limit octet count): the connection must
    be closed, because where the next message starts is unknown. `messages` holds what was
    framed before the problem."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.messages: list[bytes] = []


def clean_message(data: bytes) -> bytes:
    """The message without the trailing LF, CR LF or NUL senders add."""
    return data.rstrip(_STRIP)


def udp_message(datagram: bytes, max_message_bytes: int) -> tuple[bytes, bool]:
    """One datagram is one message (RFC 5426 §3.1): (the message, whether it was cut to the
    limit)."""
    message = clean_message(datagram)
    if len(message) > max_message_bytes:
        return message[:max_message_bytes], True
    return message, False


class StreamFramer:
    """Incremental RFC 6587 framer for one connection; feed it bytes as they arrive.

    Memory stays bounded: an octet-counted frame is at most `max_message_bytes` (a larger count
    is a `FramingError`) and an over-long trailer-framed message is cut at the limit, counted in
    `oversized`, and the rest of it up to its trailer discarded.
    """

    def __init__(self, max_message_bytes: int) -> None:
        if max_message_bytes < 1:
            raise ValueError("max_message_bytes must be at least 1")
        self.max_message_bytes = max_message_bytes
        self.oversized = 0
        self.frames = 0  # messages framed so far: places an error in the stream
        self._buf = bytearray()
        self._need: int | None = None  # octets still expected for the current counted frame
        self._skipping = False  # discarding the rest of an over-long trailer-framed message

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """The complete messages `data` finishes, in order; empty messages are dropped.

        Raises `FramingError` when the stream is broken; messages framed before the problem
        are on the exception as `messages`."""
        self._buf += data
        out: list[bytes] = []
        try:
            while self._next(out):
                pass
        except FramingError as exc:
            exc.messages = out
            raise
        return out

    def _next(self, out: list[bytes]) -> bool:
        """Frame one message (or one step of one) into `out`; False when more bytes are needed."""
        buf = self._buf
        if self._need is not None:
            if len(buf) < self._need:
                return False
            self._emit(out, bytes(buf[: self._need]))
            del buf[: self._need]
            self._need = None
            return True
        if not buf:
            return False
        if self._skipping:
            match = _TRAILER.search(buf)
            if match is None:
                buf.clear()
                return False
            del buf[: match.end()]
            self._skipping = False
            return True
        if 0x30 <= buf[0] <= 0x39:
            return self._octet_count()
        match = _TRAILER.search(buf)
        if match is None:
            if len(buf) > self.max_message_bytes:
                self.oversized += 1
                self._emit(out, bytes(buf[: self.max_message_bytes]))
                buf.clear()
                self._skipping = True
            return False
        message = bytes(buf[: match.start()])
        del buf[: match.end()]
        if len(message) > self.max_message_bytes:
            self.oversized += 1
            message = message[: self.max_message_bytes]
        self._emit(out, message)
        return True

    def _octet_count(self) -> bool:
        buf = self._buf
        space = buf.find(b" ", 0, _MAX_LEN_DIGITS + 1)
        digits = bytes(buf[:space]) if space >= 0 else bytes(buf[: _MAX_LEN_DIGITS + 1])
        where = f"frame {self.frames + 1}"
        if not digits.isdigit() or (space < 0 and len(digits) > _MAX_LEN_DIGITS):
            raise FramingError(f"{where}: bad octet count {digits[:16]!r} (RFC 6587 §3.4.1)")
        if space < 0:
            return False  # the length is still arriving
        if digits.startswith(b"0"):
            raise FramingError(f"{where}: octet count {digits!r} starts with 0 (RFC 6587 §3.4.1)")
        length = int(digits)
        if length > self.max_message_bytes:
            raise FramingError(
                f"{where}: octet count {length} is over the limit of {self.max_message_bytes}"
            )
        del buf[: space + 1]
        self._need = length
        return True

    def _emit(self, out: list[bytes], message: bytes) -> None:
        message = clean_message(message)
        if message:
            self.frames += 1
            out.append(message)
