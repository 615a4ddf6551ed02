"""Queries on ONNX Runtime, documents on torch: for a machine where an fp32 export of the
weights passed parity but did not index faster than torch.

A query is one short text, where ONNX Runtime's lower per-call overhead wins (10.6 ms -> 3.4 ms
a query here); for batches of chunks torch is as fast or faster. Both give the same vectors
(the export's parity check: cosine >= 0.999 per vector), so the index identity is torch's. The
torch model is loaded only when documents are first embedded: a search against an index with
nothing to update never imports torch."""

from __future__ import annotations

import threading
from collections.abc import Callable

from codekin.embeddings.base import Encoder, Vectors


class QueryOnnxEncoder:
    """``queries`` (an ONNX fp32 encoder) for queries, ``load_documents()`` for documents."""

    def __init__(self, queries: Encoder, load_documents: Callable[[], Encoder]) -> None:
        self.model_id = queries.model_id
        self.model_hash = queries.model_hash
        self.dim = queries.dim
        self.backend = "torch (queries: onnx)"
        self._queries = queries
        self._load_documents = load_documents
        self._documents: Encoder | None = None
        self._lock = threading.Lock()

    def documents(self) -> Encoder:
        with self._lock:
            if self._documents is None:
                encoder = self._load_documents()
                if (encoder.model_hash, encoder.dim) != (self.model_hash, self.dim):
                    raise RuntimeError(
                        f"the torch encoder of {self.model_id} does not match its ONNX export "
                        f"({encoder.model_hash} vs {self.model_hash}): refusing to mix their vectors"
                    )
                self._documents = encoder
            return self._documents

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self.documents().embed_documents(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._queries.embed_queries(texts)
