"""What "find similar" searches with: the query's chunks (stored vectors when the index already
holds them, fresh embeddings otherwise), and how their neighbours combine into one ranking.

A query is one or more chunks: the function at the cursor, the chunks a selection covers, every
chunk of a file, or a pasted snippet split by the chunker. Each chunk brings its nearest
neighbours; every candidate is then scored against all of the query's chunks (see
:func:`combine`), so code that matches the main body of a file outranks code that only matches
its import block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from codekin.embeddings.base import Encoder, Vectors, normalise
from codekin.embeddings.inputs import encoder_input
from codekin.index.code_index import CodeIndex
from codekin.index.ranking import NON_CODE_LANGUAGES
from codekin.parsers import chunk_file
from codekin.parsers.model import Chunk, content_hash

# A candidate's score: BEST_SHARE x its best weighted cosine to one query chunk + the rest x
# its cosine to the whole query (the length-weighted mean over the query's chunks).
BEST_SHARE = 0.5


@dataclass(frozen=True)
class SimilarQuery:
    """The chunks to find similar code for, as vectors with their share of the query's text."""

    vectors: Vectors  # one unit row per query chunk
    weights: tuple[float, ...]  # each chunk's share of the query (text length), summing to 1
    languages: frozenset[str] = frozenset()  # of the query's chunks ("" when unknown)
    exclude: frozenset[int] = frozenset()  # the query's own chunk ids: never a result
    exclude_hashes: frozenset[str] = frozenset()  # texts of an unindexed query: never a result
    siblings: frozenset[int] = field(default=frozenset())  # the rest of the query's file

    @property
    def is_non_code(self) -> bool:
        """A query made only of prose, data or config chunks (then such chunks may answer it)."""
        return bool(self.languages) and self.languages <= NON_CODE_LANGUAGES


def combine(query: SimilarQuery, candidates: Vectors, best_share: float = BEST_SHARE) -> np.ndarray:
    """Each candidate row's score against a query of one or more chunks: ``best_share`` x the
    best of its cosines to the query chunks (each scaled by that chunk's weight relative to the
    heaviest) + the rest x its weighted mean cosine. A one-chunk query scores plain cosine."""
    if len(candidates) == 0:
        return np.zeros(0, dtype=np.float32)
    cosine = candidates @ query.vectors.T  # (candidates, query chunks)
    weights = np.asarray(query.weights, dtype=np.float32)
    mean = cosine @ weights
    best = (cosine * (weights / weights.max())).max(axis=1)
    return np.asarray(best_share * best + (1.0 - best_share) * mean, dtype=np.float32)


def stored_query(
    index: CodeIndex, path: str, chosen: Sequence[tuple[int, Chunk]], encoder: Encoder | None = None
) -> SimilarQuery:
    """A query of indexed chunks of ``path``: their stored vectors; chunks still waiting for
    theirs (an embedding phase under way) are embedded here by ``encoder`` when given."""
    ids, rows = index.stored_vectors([cid for cid, _ in chosen])
    by_id = dict(chosen)
    have = set(ids)
    waiting = [(cid, chunk) for cid, chunk in chosen if cid not in have]
    if waiting and encoder is not None:
        fresh = encoder.embed_documents([encoder_input(chunk) for _, chunk in waiting])
        ids = [*ids, *(cid for cid, _ in waiting)]
        rows = np.vstack([rows, fresh]) if len(rows) else fresh
    if not ids:
        raise LookupError(f"no stored vectors for the chunks of {path} (is the index complete?)")
    own = frozenset(ids)
    return SimilarQuery(
        vectors=normalise(rows),
        weights=_shares([len(by_id[cid].text) for cid in ids]),
        languages=frozenset(by_id[cid].language for cid in ids),
        exclude=own,
        siblings=frozenset(cid for cid, _ in index.chunks_of_file(path)) - own,
    )


def code_query(
    index: CodeIndex,
    encoder: Encoder,
    code: str,
    language: str | None,
    path: str | None,
    max_chunk_bytes: int,
) -> SimilarQuery:
    """A query of a piece of code: split by the chunker when its language is known (given, or
    from ``path``); chunks whose text ``path`` already holds in the index use the stored vectors,
    the others are embedded the way indexed chunks are."""
    data = code.encode("utf-8", "surrogatepass")
    chunks = chunk_file(path or "", data, language, max_chunk_bytes=max_chunk_bytes)
    known = language is not None or (bool(path) and bool(chunks) and chunks[0].language != "text")
    if not chunks or not known:  # unknown language: the whole text, as one function
        whole = encoder.embed_documents([f"function\n{code}"])
        texts = {content_hash(code), content_hash(code.strip())}  # a chunk's text has no outer blanks
        return SimilarQuery(normalise(whole), (1.0,), exclude_hashes=frozenset(texts))
    indexed = {c.content_hash: cid for cid, c in index.chunks_of_file(path)} if path else {}
    ids, rows = index.stored_vectors([indexed[c.content_hash] for c in chunks if c.content_hash in indexed])
    stored = dict(zip(ids, rows, strict=True))
    fresh = [c for c in chunks if indexed.get(c.content_hash) not in stored]
    embedded: Iterator[Vectors] = iter(
        encoder.embed_documents([encoder_input(c) for c in fresh]) if fresh else []
    )
    vectors = [
        stored[cid] if (cid := indexed.get(c.content_hash)) in stored else next(embedded) for c in chunks
    ]
    own = frozenset(stored)
    return SimilarQuery(
        vectors=normalise(np.vstack(vectors).astype(np.float32)),
        weights=_shares([len(c.text) for c in chunks]),
        languages=frozenset(c.language for c in chunks),
        exclude=own,
        # without a path the query's own indexed copy is known only by its text
        exclude_hashes=frozenset()
        if path
        else frozenset({content_hash(code)} | {c.content_hash for c in chunks}),
        siblings=frozenset(indexed.values()) - own,
    )


def _shares(lengths: Sequence[int]) -> tuple[float, ...]:
    total = float(sum(max(n, 1) for n in lengths))
    return tuple(max(n, 1) / total for n in lengths)
