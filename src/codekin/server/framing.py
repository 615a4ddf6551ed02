"""Framing-tolerant reading of the LSP base protocol (``Content-Length`` headers, a blank line, a body).

pygls' stdio loop trusts every header: a wrong, non-numeric or missing Content-Length leaves it
waiting for bytes that never come. :class:`FrameParser` finds message boundaries itself and recovers
from any framing fault by discarding input up to the next valid header; :class:`FramedReader` hands
pygls only well-formed frames through the ``readline``/``read`` interface it reads stdin with."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import BinaryIO

log = logging.getLogger(__name__)

_NAME = b"content-length:"
HEADER = re.compile(re.escape(_NAME), re.I)
# A complete Content-Length header line. No JSON text contains one (JSON strings hold no raw line
# breaks and the bare word is not JSON), so one inside a body means the declared length ran past
# the real message and the next message has begun.
NEXT_HEADER = re.compile(rb"content-length:[ \t]*\d+[ \t]*\r?\n", re.I)
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
FIELD = re.compile(rb"([A-Za-z0-9-]+):[ \t]*([^\r\n]*?)[ \t]*")
MAX_HEADER = 8192  # bytes of header block before it is taken for garbage
MAX_BODY = 1 << 30  # a larger declared length is a fault, not a reason to buffer
_RESCAN = 64  # bytes of a partly read body scanned again when more arrive (a header split across reads)


@dataclass(frozen=True)
class Event:
    """What the parser found: a message body to decode, a fault to report, or both (a body
    recovered despite a fault, e.g. cut short where the next header began)."""

    body: bytes | None = None
    fault: str | None = None


class FrameParser:
    """Sans-IO: ``feed`` bytes, take events from ``next`` until it returns None (needs more)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._length: int | None = None  # declared length of the body being read
        self._scanned = 0  # body bytes already searched for a following header

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next(self, eof: bool = False) -> Event | None:
        if self._length is None:
            event = self._header(eof)
            if event is not None or self._length is None:
                return event
        return self._body(eof)

    # --- header block -----------------------------------------------------------------------
    def _header(self, eof: bool) -> Event | None:
        buf = self._buf
        skip = len(buf) - len(buf.lstrip(b"\r\n"))  # line breaks between messages are harmless
        del buf[:skip]
        if not buf:
            return None
        end = BLANK_LINE.search(buf, 0, MAX_HEADER + 4)
        if end is None:
            if len(buf) > MAX_HEADER or eof:
                return self._resync(f"no blank line after {len(buf)} header bytes")
            return None
        length, ignored, problem = parse_header(bytes(buf[: end.start()]))
        if problem is not None:
            return self._resync(problem)
        del buf[: end.end()]
        if length == 0:
            return Event(fault="Content-Length 0: an empty message")
        self._length, self._scanned = length, 0
        return Event(fault=f"ignored header line {ignored!r}") if ignored else None

    def _resync(self, problem: str) -> Event:
        """Discard up to the next ``Content-Length:`` after the current position (at least 1 byte);
        with none in sight keep only a tail that may be the start of one."""
        buf = self._buf
        found = HEADER.search(buf, 1)
        drop = found.start() if found else max(1, len(buf) - _partial_header(buf))
        head = bytes(buf[: min(drop, 60)])
        del buf[:drop]
        return Event(fault=f"{problem}; discarded {drop} bytes starting {head!r}")

    # --- body ---------------------------------------------------------------------------------
    def _body(self, eof: bool) -> Event | None:
        buf, length = self._buf, self._length
        assert length is not None
        found = NEXT_HEADER.search(buf, max(0, self._scanned - _RESCAN), length + _RESCAN)
        if found is not None and found.start() < length:
            cut = found.start()
            return self._take(cut, f"Content-Length {length} runs past the message: cut at {cut} bytes")
        if len(buf) >= length:
            return self._take(length, None)
        self._scanned = len(buf)
        if eof:
            return self._take(len(buf), f"input ended {length - len(buf)} bytes into a body", keep=False)
        return None

    def _take(self, n: int, fault: str | None, keep: bool = True) -> Event:
        body = bytes(self._buf[:n])
        del self._buf[:n]
        self._length, self._scanned = None, 0
        return Event(body=body if keep and body else None, fault=fault)


def parse_header(block: bytes) -> tuple[int | None, bytes, str | None]:
    """(Content-Length, an ignored garbage line, problem). Fields other than Content-Length are
    ignored, and so is a line that is not a field unless it mentions Content-Length (then it holds
    the start of the next message and this block is no header)."""
    length: int | None = None
    ignored = b""
    for line in re.split(rb"\r?\n", block):
        field = FIELD.fullmatch(line)
        if field is None:
            if HEADER.search(line):
                return None, ignored, f"malformed header line {line[:60]!r}"
            ignored = ignored or line[:60]
            continue
        if field.group(1).lower() != _NAME[:-1]:
            continue
        value = field.group(2)
        if not value.isdigit():
            return None, ignored, f"Content-Length is not a number: {value[:40]!r}"
        if length is not None and int(value) != length:
            return None, ignored, "two different Content-Length headers"
        length = int(value)
        if length > MAX_BODY:
            return None, ignored, f"Content-Length {length} is over the {MAX_BODY}-byte limit"
    if length is None:
        return None, ignored, "no Content-Length header"
    return length, ignored, None


def _partial_header(buf: bytearray) -> int:
    """Length of the longest tail of ``buf`` that could begin a ``Content-Length:``."""
    tail = bytes(buf[-(len(_NAME) - 1) :]).lower()
    for n in range(len(tail), 0, -1):
        if _NAME.startswith(tail[-n:]):
            return n
    return 0


class FramedReader:
    """A binary stream as pygls' stdio loop reads it (``readline`` for headers, ``read`` for the
    body), but yielding only clean frames: ``Content-Length: N``, a blank line, N body bytes.
    Framing faults are logged and skipped; ``b""`` means the input ended."""

    def __init__(self, stream: BinaryIO, chunk: int = 1 << 16) -> None:
        self._stream = stream
        self._chunk = chunk
        self._parser = FrameParser()
        self._eof = False
        self._body = b""
        self._blank_due = False

    def readline(self) -> bytes:
        if self._blank_due:
            self._blank_due = False
            return b"\r\n"
        body = self._next_body()
        if body is None:
            return b""
        self._body, self._blank_due = body, True
        return b"Content-Length: %d\r\n" % len(body)

    def read(self, n: int) -> bytes:
        body, self._body = self._body[:n], self._body[n:]
        return body

    def _next_body(self) -> bytes | None:
        while True:
            event = self._parser.next(self._eof)
            if event is None:
                if self._eof:
                    return None
                self._fill()
                continue
            if event.fault is not None:
                log.warning("LSP framing error: %s", event.fault)
            if event.body is not None:
                return event.body

    def _fill(self) -> None:
        read1 = getattr(self._stream, "read1", None)
        data = read1(self._chunk) if read1 is not None else self._stream.read(1)
        if data:
            self._parser.feed(data)
        else:
            self._eof = True
