"""A search result, shared by the Python API, CLI, language server and agents."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Hit:
    path: str  # relative to the workspace root, "/" separators
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    symbol: str  # qualified name ("Class.method"), "" for module code and windows
    kind: str
    language: str
    score: float  # cosine similarity of the query and the chunk (higher is closer)
    text: str
    start_col: int = 0  # byte column of the first character on start_line
    end_col: int = 0  # byte column just past the last character on end_line
    chunk_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FileHit:
    """A file answering a "which files" query, with its best chunks (best first)."""

    path: str
    language: str
    score: float  # cosine similarity of its best chunk (the order comes from the ranking)
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
