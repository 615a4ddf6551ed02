"""The storage seam: what search needs from an index, whichever holds it.

:class:`SearchStore` is implemented by :class:`LocalStore` (today's SQLite + usearch index, as
``Workspace`` opens it) and by :class:`codekin.org.qdrant_store.QdrantStore` (a shared index).
:class:`codekin.org.search.StoreSearcher` ranks over either with the same ``rank()``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from codekin.embeddings.base import Vectors
from codekin.index.code_index import CodeIndex
from codekin.parsers.model import Chunk


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    repo: str = ""
    revision: str = ""
    is_header: bool = False


@dataclass(frozen=True)
class Scope:
    """What a search may return, as far as the store can filter it itself."""

    languages: tuple[str, ...] = ()
    exclude_languages: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    exclude_repos: tuple[str, ...] = ()


class SearchStore(Protocol):
    def dense(self, vector: Vectors, k: int, scope: Scope) -> list[tuple[int, float]]:
        """(chunk id, cosine) of the k nearest chunks, best first."""
        ...

    def lexical(self, query: str, k: int, scope: Scope) -> list[tuple[int, float]]:
        """(chunk id, BM25-style score) of the k best lexical matches, best first."""
        ...

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """The chunks of those ids that exist, with their payload."""
        ...

    def vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        """The stored vectors of those ids that have one."""
        ...


class LocalStore:
    """A local codekin index through the seam (one repository, labelled ``repo``)."""

    def __init__(self, index: CodeIndex, repo: str = "") -> None:
        self.index = index
        self.repo = repo

    def dense(self, vector: Vectors, k: int, scope: Scope) -> list[tuple[int, float]]:
        allowed = None
        if scope.languages or scope.exclude_languages:
            allowed = self.index.catalog().allowed(scope.languages, scope.exclude_languages)
        return self.index.vectors().search(vector, k, allowed)

    def lexical(self, query: str, k: int, scope: Scope) -> list[tuple[int, float]]:
        found = self.index.lexical_search(query, k, scope.languages)
        if not scope.exclude_languages:
            return found
        chunks = self.index.chunks([cid for cid, _ in found])
        return [(c, s) for c, s in found if c in chunks and chunks[c].language not in scope.exclude_languages]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        found = self.index.chunks(list(ids))
        heads = self.index.container_heads(found)
        return {cid: StoredChunk(c, self.repo, "", cid in heads) for cid, c in found.items()}

    def vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        found, rows = self.index.stored_vectors(list(ids))
        return {cid: np.asarray(rows[i]) for i, cid in enumerate(found)}
