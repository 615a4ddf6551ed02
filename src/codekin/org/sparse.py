"""BM25-style sparse vectors from codekin's own code-aware tokens, for a store that holds the
lexical side as sparse vectors (Qdrant, whose IDF modifier supplies the IDF at query time).

A chunk's vector weighs each token like the local FTS5 index does (symbol 4, path 2, body 1;
``FTS_WEIGHTS``) and saturates it as BM25 does, against a fixed average length (a shared
index is written by many workers, none of which knows the collection's average). Inflected
words also index their stem (``~rout`` for ``router``), standing in for FTS5's prefix query
on stems."""

from __future__ import annotations

import hashlib

from codekin.index.lexical import DEFAULT_QUERY, QueryOptions, _base, code_tokens, stem
from codekin.parsers.model import Chunk

K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 120.0  # weighted tokens of a typical chunk (symbol x4 + path x2 + body)
FIELD_WEIGHTS = (4.0, 2.0, 1.0)  # symbol, path, body: the local index's FTS_WEIGHTS
_STEM_MIN = 4

SparseVector = tuple[list[int], list[float]]


def token_index(token: str) -> int:
    """A token's dimension: 32 bits of its hash (collisions merge two rare tokens' counts)."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little")


def _stem_token(token: str) -> str | None:
    s = stem(token)
    return f"~{s}" if not token.isdigit() and len(s) >= _STEM_MIN and s != _base(token) else None


def document_vector(chunk: Chunk) -> SparseVector:
    counts: dict[str, float] = {}
    fields = (code_tokens(chunk.qualified_name), code_tokens(chunk.path), code_tokens(chunk.text))
    for tokens, weight in zip(fields, FIELD_WEIGHTS, strict=True):
        for t in tokens:
            counts[t] = counts.get(t, 0.0) + weight
            if (s := _stem_token(t)) is not None:
                counts[s] = counts.get(s, 0.0) + weight
    length = sum(w for t, w in counts.items() if not t.startswith("~"))
    norm = K1 * (1 - B + B * length / AVERAGE_LENGTH)
    by_index: dict[int, float] = {}
    for t, tf in counts.items():
        i = token_index(t)
        by_index[i] = by_index.get(i, 0.0) + tf * (K1 + 1) / (tf + norm)
    indices = sorted(by_index)
    return indices, [by_index[i] for i in indices]


def query_vector(text: str, options: QueryOptions = DEFAULT_QUERY) -> SparseVector:
    """The query's tokens as :func:`codekin.index.lexical.fts_query` picks them, weight 1 each,
    plus the stems of inflected words (FTS5's prefix terms)."""
    tokens = dict.fromkeys(t for t in code_tokens(text) if len(t) > 1 or t.isdigit())
    terms = list(tokens)
    if options.stem_prefixes:
        terms += [s for t in tokens if (s := _stem_token(t)) is not None]
    weights: dict[int, float] = {}
    for t in dict.fromkeys(terms):
        weights[token_index(t)] = 1.0
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]
