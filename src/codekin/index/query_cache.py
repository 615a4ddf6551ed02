"""Query vectors kept per Workspace: a repeated query (the next page, a re-run from the shell
history, an editor's search-as-you-type) skips the encoder. Keyed by the model and the text.

A new query is encoded on a thread of its own (:meth:`QueryVectors.start`) while the search
runs its lexical retrieval: both release the GIL (ONNX Runtime or torch, and SQLite), so the
encoder's few milliseconds overlap the BM25 query's instead of adding to them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from codekin.embeddings.base import Encoder, Vectors

QUERY_CACHE_SIZE = 512  # 384 floats a vector: 0.8 MB at most


class PendingVector:
    """A query vector that may still be encoding: :meth:`get` waits for it (and raises what the
    encoder raised); None when there is no vector to wait for."""

    def __init__(self, compute: Callable[[], Vectors] | None = None, *, background: bool = False) -> None:
        self._compute = compute
        self._value: Vectors | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if compute is not None and background:
            self._thread = threading.Thread(target=self._run, name="encode query", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._compute() if self._compute is not None else None
        except BaseException as exc:  # handed to the caller of get()
            self._error = exc
        self._compute = None

    def get(self) -> Vectors | None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        elif self._compute is not None:
            self._run()
        if self._error is not None:
            raise self._error
        return self._value


class QueryVectors:
    """A thread-safe LRU of query vectors (read-only arrays: callers share them)."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[str, str, str], Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def start(self, encoder: Encoder, text: str) -> PendingVector:
        """The query's vector: at once from the cache, else encoding on a thread of its own."""
        found = self._cached(encoder, text)
        if found is not None:
            return PendingVector(lambda: found)
        return PendingVector(lambda: self._encode(encoder, text), background=True)

    def _cached(self, encoder: Encoder, text: str) -> Vectors | None:
        key = (encoder.model_id, encoder.model_hash, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                self.hits += 1
            return found

    def _encode(self, encoder: Encoder, text: str) -> Vectors:
        key = (encoder.model_id, encoder.model_hash, text)
        vector = np.array(encoder.embed_queries([text])[0], dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            self.misses += 1
            self._cache[key] = vector
            self._cache.move_to_end(key)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vector
