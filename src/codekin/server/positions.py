"""Position encodings: the one place where chunk spans (1-based rows, UTF-8 byte columns) become
LSP positions in the negotiated encoding (UTF-8, UTF-16 or UTF-32 code units), and back."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from codekin.hit import Hit

Encoding = str  # "utf-8" | "utf-16" | "utf-32" (types.PositionEncodingKind values)
LineSource = Callable[[str, int], str | None]  # (root-relative path, 0-based row) -> line text


def units(text: str, encoding: Encoding) -> int:
    """Length of ``text`` in the code units of ``encoding``."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def byte_col_to_units(line: str, byte_col: int, encoding: Encoding) -> int:
    """A UTF-8 byte column of ``line`` as an LSP character offset."""
    if encoding == types.PositionEncodingKind.Utf8:
        return byte_col
    prefix = line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "replace")
    return units(prefix, encoding)


def units_to_index(line: str, character: int, encoding: Encoding) -> int:
    """An LSP character offset on ``line`` as a Python string index (clamped to the line)."""
    count = 0
    for i, c in enumerate(line):
        if count >= character:
            return i
        count += units(c, encoding)
    return len(line)


def hit_range(hit: Hit, encoding: Encoding, line_of: LineSource) -> types.Range:
    """The LSP range of a hit. Only the start needs the file's line (the text before the chunk);
    the end follows from the chunk text itself. Without the line, columns are taken as ASCII."""
    start_row, end_row = hit.start_line - 1, hit.end_line - 1
    line = line_of(hit.path, start_row)
    start = byte_col_to_units(line, hit.start_col, encoding) if line is not None else hit.start_col
    last = hit.text.rsplit("\n", 1)[-1]
    end = units(last, encoding) if "\n" in hit.text else start + units(last, encoding)
    return types.Range(
        start=types.Position(line=start_row, character=start), end=types.Position(line=end_row, character=end)
    )


def slice_range(text: str, rng: types.Range, encoding: Encoding) -> str:
    """The text of ``rng`` in a document (positions in the negotiated encoding)."""
    lines = text.splitlines(keepends=True)

    def offset(pos: types.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        before = sum(len(ln) for ln in lines[: pos.line])
        line = lines[pos.line].rstrip("\r\n")
        return before + units_to_index(line, pos.character, encoding)

    return text[offset(rng.start) : offset(rng.end)]
