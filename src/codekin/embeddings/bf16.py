"""bfloat16 document batches on CPUs with native bf16 arithmetic, where they keep the vectors.

On a CPU with AVX512-BF16 or AMX, a bfloat16 copy of the encoder (codekin.embeddings.hf) runs
its matrix products on oneDNN's native bf16 kernels (accumulating in float32): fewer bytes
through the memory system and twice the SIMD width. Whether the vectors stay what float32 gives
is checked on this process's first document batch, embedded both ways: only when every vector
keeps a cosine of at least ``MIN_COSINE`` (the bar an fp32 ONNX export must pass to share torch's
index identity) does bf16 serve; else float32 does, with one log line. Queries always run in
float32 (one short text: nothing to gain)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from codekin.embeddings.base import Vectors, normalise

log = logging.getLogger(__name__)

MIN_COSINE = 0.999


def supported(torch: Any, device: str) -> bool:
    """True on a CPU device whose oneDNN has native bfloat16 kernels."""
    if device != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def worst_cosine(fp32: Vectors, bf16: Vectors) -> float:
    """The lowest cosine between matching rows (both unit length after normalising)."""
    return float(np.min(np.sum(normalise(fp32.copy()) * normalise(bf16.copy()), axis=1)))


def decide(model_id: str, fp32: Vectors, bf16: Vectors) -> bool:
    """Whether bf16 keeps these vectors, logged once."""
    cosine = worst_cosine(fp32, bf16)
    if cosine >= MIN_COSINE:
        log.info(
            "encoder %s: document batches in bfloat16 (worst cosine %.5f against float32)", model_id, cosine
        )
        return True
    log.info(
        "encoder %s: bfloat16 changed a vector (cosine %.5f < %s): staying on float32",
        model_id,
        cosine,
        MIN_COSINE,
    )
    return False
