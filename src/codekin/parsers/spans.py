"""Byte spans over the original file bytes: line index, trimming, and Chunk construction."""

from __future__ import annotations

import bisect
import re

from codekin.parsers.model import Chunk, content_hash

_WHITESPACE = b" \t\r\n\f\v"
_NEWLINE = re.compile(b"\n")


class SourceText:
    """The raw bytes of one file plus a line-start index (rows are 0-based, cols are byte offsets)."""

    __slots__ = ("data", "line_starts", "path", "language")

    def __init__(self, path: str, language: str, data: bytes) -> None:
        self.path = path
        self.language = language
        self.data = data
        self.line_starts = [0, *(m.end() for m in _NEWLINE.finditer(data))]

    @property
    def row_count(self) -> int:
        """Number of rows that hold at least one byte (a final newline opens no row)."""
        n = len(self.line_starts)
        return n - 1 if self.line_starts[-1] == len(self.data) else n

    def row_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def row_end(self, row: int) -> int:
        """Byte offset just past the last byte of ``row`` (its newline included)."""
        return self.line_starts[row + 1] if row + 1 < len(self.line_starts) else len(self.data)

    def trim(self, start: int, end: int) -> tuple[int, int]:
        """Shrink [start, end) so it neither starts nor ends with whitespace (may become empty)."""
        data = self.data
        while end > start and data[end - 1] in _WHITESPACE:
            end -= 1
        while start < end and data[start] in _WHITESPACE:
            start += 1
        return start, end

    def is_blank(self, start: int, end: int) -> bool:
        return not self.data[start:end].strip()

    def starts_line(self, offset: int) -> bool:
        """True when only whitespace precedes ``offset`` on its row."""
        return self.is_blank(self.line_starts[self.row_of(offset)], offset)

    def chunk(self, kind: str, symbol: str, container: str, start: int, end: int) -> Chunk:
        """A Chunk for the non-empty span [start, end)."""
        start_row = self.row_of(start)
        end_row = self.row_of(end - 1)
        text = self.data[start:end].decode("utf-8", "replace")
        return Chunk(
            path=self.path,
            language=self.language,
            kind=kind,
            symbol=symbol,
            container=container,
            start_byte=start,
            end_byte=end,
            start_line=start_row,
            end_line=end_row,
            start_col=start - self.line_starts[start_row],
            end_col=end - self.line_starts[end_row],
            text=text,
            content_hash=content_hash(text),
        )
