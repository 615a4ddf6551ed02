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


def length_batches(token_counts: list[int], batch_size: int) -> list[list[int]]:
    """Indexes of the texts in batches of ``batch_size``, shortest texts first: a batch is padded
    to its longest text, so texts of near token counts waste little (the token count, not the
    character count: on real code characters left 17% padding, tokens 2%)."""
    order = sorted(range(len(token_counts)), key=token_counts.__getitem__)
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
