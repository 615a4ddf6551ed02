"""Query vectors kept per Workspace: a repeated query (the next page, a re-run from the shell
history, an editor's search-as-you-type) skips the encoder. Keyed by the model and the text."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from codekin.embeddings.base import Encoder, Vectors

QUERY_CACHE_SIZE = 512  # 384 floats a vector: 0.8 MB at most


class QueryVectors:
    """A thread-safe LRU of query vectors (read-only arrays: callers share them)."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[str, str, str], Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def embed(self, encoder: Encoder, text: str) -> Vectors:
        key = (encoder.model_id, encoder.model_hash, text)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return found
        vector = np.array(encoder.embed_queries([text])[0], dtype=np.float32)
        vector.setflags(write=False)
        with self._lock:
            self.misses += 1
            self._cache[key] = vector
            self._cache.move_to_end(key)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vector
