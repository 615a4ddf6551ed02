"""bfloat16 document batches: used only where the CPU has native bf16 and the first batch shows
the vectors unchanged (cosine >= 0.999); queries and an explicit float32 encoder never use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codekin.embeddings import bf16


def test_the_decision_follows_the_worst_vector() -> None:
    rng = np.random.default_rng(0)
    fp32 = rng.normal(size=(8, 16)).astype(np.float32)
    close = fp32 + rng.normal(scale=1e-3, size=fp32.shape).astype(np.float32)
    assert bf16.worst_cosine(fp32, close) > 0.999 and bf16.decide("m", fp32, close)
    far = close.copy()
    far[3] = rng.normal(size=16)  # one vector changed
    assert bf16.worst_cosine(fp32, far) < 0.999 and not bf16.decide("m", fp32, far)


def test_documents_in_bf16_keep_the_float32_vectors(tiny_model: Path) -> None:
    import torch

    from codekin.embeddings.hf import HFEncoder

    texts = [f"def parse ( line ) : return line . split ( {i} )" * (1 + i % 3) for i in range(40)]
    exact = HFEncoder(str(tiny_model), device="cpu", batch_size=16)
    fast = HFEncoder(str(tiny_model), device="cpu", batch_size=16, bf16=True)
    reference = exact.embed_documents(texts)
    got = fast.embed_documents(texts)
    assert exact._bf16 is False  # never asked
    if not bf16.supported(torch, "cpu"):
        assert fast._bf16 is False and np.array_equal(got, reference)
        return
    assert fast._bf16 is not None  # the first batch decided
    assert bf16.worst_cosine(reference, got) >= bf16.MIN_COSINE
    assert np.array_equal(fast.embed_queries(texts[:3]), exact.embed_queries(texts[:3]))  # queries: fp32
