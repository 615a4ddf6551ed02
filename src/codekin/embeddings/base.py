"""The encoder protocol: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    model_id: str  # what the user configured (a package name, model id or directory)
    model_hash: str  # identifies the exact weights; a change rebuilds the index
    dim: int

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed code chunks; returns shape (len(texts), dim), rows L2-normalised."""
        ...

    def embed_queries(self, texts: list[str]) -> Vectors:
        """Embed search queries (may use a different prefix than documents)."""
        ...


def normalise(rows: Vectors) -> Vectors:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (rows / norms).astype(np.float32, copy=False)
    return out
