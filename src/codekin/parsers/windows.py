"""Fallback chunking for files without a usable grammar: overlapping windows of lines."""

from __future__ import annotations

from codekin.parsers.model import Chunk
from codekin.parsers.spans import SourceText
from codekin.parsers.splitting import split_span


def window_chunks(
    src: SourceText, window_lines: int, window_overlap: int, max_chunk_bytes: int
) -> list[Chunk]:
    """Windows of ``window_lines`` rows starting every ``window_lines - window_overlap`` rows.

    Each window is trimmed of surrounding whitespace; blank windows are skipped and a window over
    ``max_chunk_bytes`` is split into consecutive pieces.
    """
    window_lines = max(window_lines, 1)
    step = max(window_lines - max(window_overlap, 0), 1)
    rows = src.row_count
    chunks: list[Chunk] = []
    first = 0
    while first < rows:
        last = min(first + window_lines, rows)
        start, end = src.trim(src.line_starts[first], src.row_end(last - 1))
        if end > start:
            for s, e in split_span(src, start, end, (), max_chunk_bytes):
                chunks.append(src.chunk("window", "", "", s, e))
        if last >= rows:
            break
        first += step
    return chunks
