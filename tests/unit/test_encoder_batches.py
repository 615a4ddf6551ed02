"""Encoder batches are formed by token count, and forming them never changes a vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codekin.embeddings.base import length_batches


def test_batches_hold_every_text_once_shortest_first() -> None:
    counts = [9, 3, 7, 3, 12, 1, 5]
    batches = length_batches(counts, 3)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert sorted(i for b in batches for i in b) == list(range(len(counts)))
    flat = [counts[i] for b in batches for i in b]
    assert flat == sorted(counts)
    assert length_batches([], 4) == []


def test_a_text_gets_the_same_vector_alone_or_in_any_batch(tiny_model: Path) -> None:
    from codekin.embeddings.hf import HFEncoder

    # lengths in characters and in tokens disagree: "x" * 60 is one token, "( ) " many
    texts = ["x" * 60, "def parse ( line ) ( ) ( ) ( )", "return", "line split x x x x", "( " * 30]
    encoder = HFEncoder(str(tiny_model), device="cpu", batch_size=2)
    together = encoder.embed_documents(texts)
    alone = np.vstack([encoder.embed_documents([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert np.allclose(encoder.embed_documents(texts[::-1]), together[::-1], atol=1e-5)
