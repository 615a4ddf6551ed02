"""Parity of an encoder with the torch reference on real code: per-vector cosine and top-10.

The texts are chunks of codekin's own source (what the indexer would embed), so the check needs
no data beyond the installed package; the queries are a small fixed retrieval set over them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from codekin.embeddings.base import Encoder, Vectors

FP32_MIN_COSINE = 0.999  # an fp32 runtime must reproduce each vector
INT8_MIN_COSINE = 0.99  # dynamic int8: each vector close, and retrieval unchanged
TOP_K = 10
PARITY_TEXTS = 96

QUERIES = (
    "load settings from pyproject.toml and merge command line overrides",
    "split a source file into chunks with tree-sitter",
    "save the vector index atomically and check its digest on load",
    "reciprocal rank fusion of lexical and dense results",
    "walk the repository respecting gitignore files",
    "detect the programming language of a file",
    "language server handler for workspace symbol requests",
    "debounce file change events before reindexing",
    "normalise embedding rows to unit length",
    "BM25 full text search over chunks in SQLite",
    "redact secrets from file contents before indexing",
    "find code similar to a selection in another language",
    "mean pooling of token vectors with the attention mask",
    "lock the index directory so two writers never overlap",
    "serve search to coding agents over MCP",
    "estimate tokens to fit chunks into a context budget",
)


def reference_texts(limit: int = PARITY_TEXTS) -> list[str]:
    """``limit`` encoder inputs spread evenly over the chunks of codekin's own Python source."""
    import codekin
    from codekin.embeddings.inputs import encoder_input
    from codekin.parsers import chunk_file

    package = Path(codekin.__file__).parent
    texts: list[str] = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        texts += [encoder_input(c) for c in chunk_file(rel, path.read_bytes())]
    if len(texts) <= limit:
        return texts
    step = len(texts) / limit
    return [texts[int(i * step)] for i in range(limit)]


@dataclass(frozen=True)
class Parity:
    min_cosine: float  # the worst row: cos(reference vector, candidate vector)
    mean_cosine: float
    top10_same: float  # share of queries whose top-10 documents are the same set
    top10_overlap: float  # mean share of each query's reference top-10 the candidate finds

    def failure(self, *, int8: bool) -> str | None:
        """Why this falls short of the bar (fp32 or int8), or None."""
        floor = INT8_MIN_COSINE if int8 else FP32_MIN_COSINE
        if not self.min_cosine >= floor:  # also catches NaN
            return f"min cosine {self.min_cosine:.5f} < {floor}"
        if int8 and self.top10_same < 1.0:
            return f"top-{TOP_K} differs on {1 - self.top10_same:.0%} of the retrieval queries"
        return None

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _top_k(docs: Vectors, queries: Vectors) -> list[set[int]]:
    scores = queries @ docs.T
    k = min(TOP_K, docs.shape[0])
    return [set(np.argsort(-row, kind="stable")[:k].tolist()) for row in scores]


def compare_vectors(ref_docs: Vectors, ref_queries: Vectors, docs: Vectors, queries: Vectors) -> Parity:
    cos = np.sum(ref_docs * docs, axis=1) / (
        np.linalg.norm(ref_docs, axis=1) * np.linalg.norm(docs, axis=1) + 1e-12
    )
    ref_top, top = _top_k(ref_docs, ref_queries), _top_k(docs, queries)
    same = [a == b for a, b in zip(ref_top, top, strict=True)]
    overlap = [len(a & b) / len(a) for a, b in zip(ref_top, top, strict=True)]
    return Parity(
        min_cosine=float(np.min(cos)),
        mean_cosine=float(np.mean(cos)),
        top10_same=float(np.mean(same)),
        top10_overlap=float(np.mean(overlap)),
    )


def compare(reference: Encoder, candidate: Encoder, texts: list[str]) -> Parity:
    """``candidate`` against ``reference`` on ``texts`` as documents and :data:`QUERIES`."""
    queries = list(QUERIES)
    return compare_vectors(
        reference.embed_documents(texts),
        reference.embed_queries(queries),
        candidate.embed_documents(texts),
        candidate.embed_queries(queries),
    )
