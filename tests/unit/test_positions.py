"""The one place where byte columns become LSP positions in each negotiated encoding, and back."""

from __future__ import annotations

from lsprotocol import types

from codekin.hit import Hit
from codekin.server.positions import byte_col_to_units, hit_range, slice_range, units_to_index


def _hit(text: str, start_line: int, start_col: int) -> Hit:
    lines = text.count("\n")
    end_col = len(text.rsplit("\n", 1)[-1].encode()) + (0 if lines else start_col)
    return Hit(
        "a.js", start_line, start_line + lines, "f", "function", "javascript", 1.0, text, start_col, end_col
    )


def test_ranges_in_each_encoding() -> None:
    line = 'var héllo = "🌍"; function f() { return "é"; }'
    col = len(line[: line.index("function")].encode())
    hit = _hit(line[line.index("function") :], 3, col)
    expect = {"utf-8": (21, len(line.encode())), "utf-16": (18, len(line) + 1), "utf-32": (17, len(line))}
    for encoding, (start, end) in expect.items():
        r = hit_range(hit, encoding, lambda rel, row: line)
        assert (r.start.line, r.start.character) == (2, start), encoding
        assert (r.end.line, r.end.character) == (2, end), encoding


def test_multiline_range_end_comes_from_the_chunk_text() -> None:
    text = "function g() {\n  return '🌍';\n}"
    r = hit_range(_hit(text, 1, 0), "utf-16", lambda rel, row: None)
    assert r == types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=2, character=1)
    )


def test_position_conversions_round_trip() -> None:
    line = "a🌍b"
    assert byte_col_to_units(line, 5, "utf-16") == 3
    assert units_to_index(line, 3, "utf-16") == 2
    assert units_to_index(line, 5, "utf-8") == 2
    doc = "x = 1\ny = '🌍' + z\n"
    rng = types.Range(start=types.Position(line=1, character=4), end=types.Position(line=1, character=8))
    assert slice_range(doc, rng, "utf-16") == "'🌍'"
