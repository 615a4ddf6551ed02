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
from typing import Any, TypeVar

T = TypeVar("T")


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


@dataclass(frozen=True)
class Coverage:
    """How much of an index the dense retrieval sees: chunks with a vector out of all chunks.
    While the embedding phase runs, the others compete through BM25 and the ranking only."""

    embedded: int
    total: int
    lexical_only: bool = False  # the query was answered without the encoder (``--fast``)

    @property
    def partial(self) -> bool:
        return self.lexical_only or self.embedded < self.total

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "partial": self.partial}


class Results(list[T]):
    """A result list (best first) that says how much of the index was embedded when it ran:
    ``results.coverage.partial``, ``.embedded`` and ``.total``."""

    def __init__(self, items: Iterable[T] = (), coverage: Coverage | None = None) -> None:
        super().__init__(items)
        self.coverage = coverage if coverage is not None else Coverage(0, 0)

    @property
    def partial(self) -> bool:
        return self.coverage.partial
