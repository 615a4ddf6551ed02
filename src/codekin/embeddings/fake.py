"""A deterministic hashing encoder for fast unit tests (never the product's default).

Texts sharing tokens get similar vectors, so search behaves sensibly in tests."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from codekin.embeddings.base import Vectors, normalise

_TOKEN = re.compile(r"[A-Za-z]+|\d+")


class FakeEncoder:
    model_id = "fake"
    model_hash = "fake-v1"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.documents_embedded = 0  # how many texts embed_documents has seen (tests count it)
        self.calls = 0

    def _embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
            out[row, 0] += 1e-3  # never the zero vector
        return normalise(out)

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.calls += 1
        self.documents_embedded += len(texts)
        return self._embed(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._embed(texts)
