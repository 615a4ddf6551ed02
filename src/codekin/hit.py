"""A search result, shared by the Python API, CLI, language server and agents.

``score`` is the value the result list is ordered by, so it never rises down a list: the code-aware
ranking's final score (after the per-file diversity decay), the fused reciprocal-rank score, or
the cosine where the order is dense alone (find similar, ``hybrid = false``). It compares results
of one list, not of different queries. ``cosine`` is the cosine similarity of the query and the
chunk, as a detail (higher is closer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hit:
    path: str  # relative to the workspace root, "/" separators
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    symbol: str  # qualified name ("Class.method"), "" for module code and windows
    kind: str
    language: str
    score: float  # the ranking's score: non-increasing down a result list
    text: str
    start_col: int = 0  # byte column of the first character on start_line
    end_col: int = 0  # byte column just past the last character on end_line
    chunk_id: int = 0
    cosine: float = 0.0  # cosine similarity of the query and the chunk
    # every signal that placed it (``search(..., explain=True)``, see codekin.index.explain)
    explain: dict[str, Any] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.explain is None:
            del out["explain"]
        return out


@dataclass(frozen=True)
class FileHit:
    """A file answering a "which files" query, with its best chunks (best first)."""

    path: str
    language: str
    score: float  # its best chunk's ranking score (the files' order)
    hits: tuple[Hit, ...]
    cosine: float = 0.0  # its best chunk's cosine similarity

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hits"] = [h.to_dict() for h in self.hits]
        return out


def non_increasing(scores: Iterable[float]) -> list[float]:
    """Each score capped by the one before it, so a list's scores never rise down the list (a
    no-op for a list ordered by those scores)."""
    out: list[float] = []
    for s in scores:
        out.append(min(s, out[-1]) if out else s)
    return out
