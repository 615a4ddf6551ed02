"""The framing-tolerant LSP reader: message boundaries found from the bytes, every fault skipped."""

from __future__ import annotations

import io
import json

from codekin.server.framing import FramedReader, FrameParser


def frame(payload: object, length: int | None = None) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def events(data: bytes, step: int | None = None) -> list[tuple[bytes | None, bool]]:
    """(body, had a fault) for each event, feeding ``data`` in ``step``-byte pieces."""
    parser, out = FrameParser(), []
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in [*pieces, b""]:
        if piece:
            parser.feed(piece)
        while (event := parser.next(eof=not piece)) is not None:
            out.append((event.body, event.fault is not None))
    return out


def test_clean_stream_split_anywhere() -> None:
    data = (
        frame({"id": 1})
        + b"Content-Type: application/vscode-jsonrpc\r\n"
        + frame({"id": 2})[0:]
        + frame({"id": 3})
    )
    for step in (None, 1, 2, 7, 64):
        assert [json.loads(b or b"") for b, fault in events(data, step) if not fault] == [
            {"id": 1},
            {"id": 2},
            {"id": 3},
        ], step


def test_header_text_inside_a_json_string_is_not_a_header() -> None:
    text = "Content-Length: 12\r\n\r\n{}"  # a document about LSP: JSON escapes its line breaks
    data = frame({"text": text}) + frame({"id": 2})
    assert [(json.loads(b or b""), f) for b, f in events(data, 5)] == [
        ({"text": text}, False),
        ({"id": 2}, False),
    ]


def test_declared_length_past_the_message_is_cut_at_the_next_header() -> None:
    data = frame({"id": 1}, length=10_000) + frame({"id": 2})
    found = events(data, 3)
    assert [json.loads(b or b"") for b, _ in found] == [{"id": 1}, {"id": 2}]
    assert found[0][1]  # reported


def test_short_length_bad_numbers_and_garbage_resynchronise() -> None:
    for fault in (
        frame({"id": 1}, length=4),
        b"Content-Length: x1\r\n\r\n{}",
        b"Content-Length: 99999999999999999\r\n\r\n{}",
        b"Content-Type: text/plain\r\n\r\n{}",
        b"\x00\xff garbage without a line break",
        b"Content-Length: 0\r\n\r\n",
    ):
        bodies = [b for b, _ in events(fault + frame({"id": 2}), 4) if b is not None]
        assert bodies[-1] == json.dumps({"id": 2}).encode(), fault


def test_truncated_body_at_end_of_input_is_a_fault_not_a_message() -> None:
    assert events(b"Content-Length: 50\r\n\r\n{") == [(None, True)]


def test_reader_hands_pygls_clean_frames() -> None:
    data = b"junk\r\n\r\n" + frame({"id": 1}, length=3_000) + frame({"id": 2})
    reader = FramedReader(io.BytesIO(data), chunk=5)
    for msg_id in (1, 2):
        body = json.dumps({"id": msg_id}).encode()
        assert reader.readline() == b"Content-Length: %d\r\n" % len(body)
        assert reader.readline() == b"\r\n"
        assert reader.read(len(body)) == body
    assert reader.readline() == b""
