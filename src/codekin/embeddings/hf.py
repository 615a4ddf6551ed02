"""Hugging Face transformers encoder: batched, length-bucketed, truncated, pooled, normalised."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from codekin.embeddings.base import Vectors, length_batches, normalise
from codekin.embeddings.bf16 import decide as bf16_decide
from codekin.embeddings.bf16 import supported as bf16_supported
from codekin.embeddings.registry import model_path
from codekin.safetext import valid_text

log = logging.getLogger(__name__)

# Batches are padded to a multiple of this many tokens. torch's CPU kernels keep state for every
# input shape they meet: with a batch per exact length, resident memory grew by 200 MB per
# 1,000 chunks embedded (to 1.96 GB indexing 12,567 chunks); with 8 lengths it stays flat, at
# the same speed (bench: 3,072 chunks, peak 733 MB against 1,131 MB).
PAD_TO_MULTIPLE = 32


class ModelNotFound(RuntimeError):
    """transformers cannot load the model (no such directory, not in the offline cache)."""


def pooling_mode(model_dir: Path) -> str:
    cfg = model_dir / "1_Pooling" / "config.json"
    if cfg.is_file():
        data = json.loads(cfg.read_text())
        if data.get("pooling_mode_cls_token"):
            return "cls"
    return "mean"


def weights_hash(model_dir: Path) -> str:
    """Cheap identity of a model directory: names, sizes and the first MiB of each weight file."""
    h = hashlib.blake2b(digest_size=12)
    for path in sorted(model_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        h.update(f"{path.relative_to(model_dir)}:{path.stat().st_size}".encode())
        if path.suffix in {".safetensors", ".bin", ".json", ".txt"}:
            with open(path, "rb") as fh:
                h.update(fh.read(1 << 20))
    return h.hexdigest()


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Average of the token vectors the attention mask keeps (torch tensors [b, t, d], [b, t])."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pick_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


class HFEncoder:
    """Encodes with any transformers encoder model (a directory or a hub id, offline by default).

    ``model`` is what the index records; ``path`` where its weights are (by default the
    registry's answer for ``model``: codekin.embeddings.registry)."""

    def __init__(
        self,
        model: str,
        *,
        path: str | None = None,
        device: str = "auto",
        batch_size: int = 32,
        max_tokens: int = 256,
        query_prefix: str = "",
        document_prefix: str = "",
        bf16: bool = False,
    ) -> None:
        """``bf16``: embed document batches in bfloat16 where this CPU computes it natively and
        the first batch shows it keeps the vectors (codekin.embeddings.bf16)."""
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # stdout may be a JSON-RPC transport
        self.model_id = model
        self.backend = "torch"
        path = path or model_path(model)
        local = Path(path)
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(path)
            self._model: Any = AutoModel.from_pretrained(path).to(self.device).eval()
        except OSError as exc:
            raise ModelNotFound(
                f"cannot load encoder {model!r}: {exc}. Use an installed model package, a local "
                "directory, or a model already in the Hugging Face cache (offline use)."
            ) from exc
        self.max_tokens = min(max_tokens, int(getattr(self._tokenizer, "model_max_length", max_tokens)))
        self.dim = int(self._model.config.hidden_size)
        # a padded batch must stay within max_tokens (a model's positions may end there)
        self._pad_multiple = PAD_TO_MULTIPLE if self.max_tokens % PAD_TO_MULTIPLE == 0 else None
        self._pooling = pooling_mode(local) if local.is_dir() else "mean"
        self.model_hash = weights_hash(local) if local.is_dir() else model
        self._torch = torch
        # None: not decided yet (the first document batch decides); False: float32 only
        self._bf16: bool | None = None if bf16 and bf16_supported(torch, self.device) else False
        self._bf16_model: Any = None  # a bfloat16 copy of the weights, for document batches

    def _encode(self, texts: list[str], *, documents: bool = False) -> Vectors:
        texts = [valid_text(t) for t in texts]  # the tokenizer raises TypeError on lone surrogates
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts = self._tokenizer(texts, truncation=True, max_length=self.max_tokens)["input_ids"]
        for idx in length_batches([len(ids) for ids in counts], self.batch_size):
            batch = [texts[i] for i in idx]
            if documents and self._bf16 is None:  # the first document batch decides
                fp32 = self._batch(batch, bf16=False)
                self._bf16_model = copy.deepcopy(self._model).to(self._torch.bfloat16)
                self._bf16 = bf16_decide(self.model_id, fp32, self._batch(batch, bf16=True))
                if not self._bf16:
                    self._bf16_model = None
                self.backend = "torch, documents in bfloat16" if self._bf16 else "torch"
                out[idx] = fp32
            else:
                out[idx] = self._batch(batch, bf16=documents and bool(self._bf16))
        return normalise(out)

    def _batch(self, texts: list[str], *, bf16: bool) -> Vectors:
        """One batch's pooled (not yet normalised) vectors, from the bfloat16 copy or float32.

        The copy runs every operation in bfloat16; autocast (matrix products only, casting the
        weights again on every batch) was measured 15% slower here at the same vectors' bar."""
        model = self._bf16_model if bf16 else self._model
        with self._torch.inference_mode():
            batch = self._tokenizer(
                texts,
                padding=True,
                pad_to_multiple_of=self._pad_multiple,
                truncation=True,
                max_length=self.max_tokens,
                return_tensors="pt",
            ).to(self.device)
            hidden = model(**batch).last_hidden_state.float()  # pooled in float32 either way
            mask = batch["attention_mask"]
            pooled = hidden[:, 0] if self._pooling == "cls" else mean_pool(hidden, mask)
            found: Vectors = pooled.cpu().numpy()
            return found

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self._encode([self.document_prefix + t for t in texts], documents=True)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode([self.query_prefix + t for t in texts])
