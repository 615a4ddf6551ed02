"""Splitting spans into consecutive pieces under a byte budget.

Preferred boundaries come from the syntax tree (a body's child statements); stretches still over
budget are split at line starts, and a single over-long line at UTF-8 character boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

from codekin.parsers.spans import SourceText


def _char_boundary(data: bytes, offset: int, floor: int) -> int:
    """Move ``offset`` back to the start of a UTF-8 character (never below ``floor + 1``)."""
    while offset > floor + 1 and (data[offset] & 0xC0) == 0x80:
        offset -= 1
    return offset


def _line_atoms(src: SourceText, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Trimmed lines of [start, end), over-long lines cut into budget-sized byte runs."""
    atoms: list[tuple[int, int]] = []
    row = src.row_of(start)
    while start < end:
        stop = min(src.row_end(row), end)
        s, e = src.trim(start, stop)
        while e - s > budget:
            cut = _char_boundary(src.data, s + budget, s)
            atoms.append((s, cut))
            s, e = src.trim(cut, e)
        if e > s:
            atoms.append((s, e))
        start = stop
        row += 1
    return atoms


def split_span(
    src: SourceText, start: int, end: int, cuts: Iterable[int], budget: int
) -> list[tuple[int, int]]:
    """Cover the non-blank bytes of [start, end) with consecutive trimmed pieces of at most ``budget`` bytes.

    ``cuts`` are preferred piece boundaries (byte offsets, e.g. the starts of body statements).
    """
    budget = max(budget, 1)
    bounds = [start, *sorted(c for c in set(cuts) if start < c < end), end]
    atoms: list[tuple[int, int]] = []
    for a, b in pairwise(bounds):
        s, e = src.trim(a, b)
        if e <= s:
            continue
        if e - s > budget:
            atoms.extend(_line_atoms(src, s, e, budget))
        else:
            atoms.append((s, e))
    pieces: list[tuple[int, int]] = []
    for s, e in atoms:
        if pieces and e - pieces[-1][0] <= budget:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    return pieces
