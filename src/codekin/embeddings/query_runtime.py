"""Queries on ONNX Runtime, documents on torch: for a machine where an fp32 export of the
weights passed parity but did not index faster than torch.

A query is one short text, where ONNX Runtime's lower per-call overhead wins (10.6 ms -> 3.4 ms
a query here); for batches of chunks torch is as fast or faster. Both give the same vectors
(the export's parity check: cosine >= 0.999 per vector), so the index identity is torch's. The
torch model is loaded only when documents are first embedded: a search against an index with
nothing to update never imports torch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from codekin.embeddings.base import Encoder, Vectors

log = logging.getLogger(__name__)


class QueryOnnxEncoder:
    """``queries`` (an ONNX fp32 encoder) for queries, ``load_documents()`` for documents."""

    def __init__(self, queries: Encoder, load_documents: Callable[[], Encoder]) -> None:
        self.model_id = queries.model_id
        self.model_hash = queries.model_hash
        self.dim = queries.dim
        self._queries = queries
        self._load_documents = load_documents
        self._documents: Encoder | None = None
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._loader_lock = threading.Lock()  # not _lock: a load in progress must not block this

    @property
    def backend(self) -> str:
        """The documents' runtime (once loaded: torch may have chosen bfloat16), then the queries'."""
        documents = getattr(self._documents, "backend", "torch")
        return f"{documents}; queries: onnx"

    def start_documents(self) -> None:
        """Load the document encoder in the background (once; a failure is raised again by the
        first :meth:`embed_documents`, which retries)."""
        with self._loader_lock:
            if self._loader is None and self._documents is None:
                loader = threading.Thread(target=self._load_quietly, name="load torch", daemon=True)
                loader.start()
                self._loader = loader  # published started: wait_documents may join it at once

    def _load_quietly(self) -> None:
        try:
            self.documents()
        except Exception:  # embed_documents retries and raises it
            log.debug("loading the document encoder of %s failed", self.model_id, exc_info=True)

    def wait_documents(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a background load of the document encoder."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)

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
