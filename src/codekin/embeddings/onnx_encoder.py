"""ONNX Runtime encoder: the exported transformer body, with tokenisation, length bucketing,
pooling and normalisation done exactly as the torch encoder does them, in numpy.

It loads neither torch nor transformers: the tokenizer is the model's ``tokenizer.json``
through the ``tokenizers`` library, configured like the transformers fast tokenizer."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from codekin.embeddings.base import Vectors, length_batches, normalise
from codekin.embeddings.hf import pooling_mode
from codekin.safetext import valid_text


class OnnxUnavailable(RuntimeError):
    """The ONNX backend cannot serve this model here (the message says why)."""


def _tokenizer(model_dir: Path, max_tokens: int) -> tuple[Any, int]:
    """The fast tokenizer with transformers' truncation and padding; and the effective max tokens."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise OnnxUnavailable(f"{model_dir} has no tokenizer.json")
    config: dict[str, Any] = {}
    config_path = model_dir / "tokenizer_config.json"
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
    limit = config.get("model_max_length")
    max_tokens = min(max_tokens, int(limit)) if isinstance(limit, int | float) else max_tokens
    tokenizer = Tokenizer.from_file(str(path))
    pad_token = config.get("pad_token")
    pad_id = tokenizer.token_to_id(pad_token) if isinstance(pad_token, str) else None
    if pad_id is None:
        raise OnnxUnavailable(f"{model_dir}: no pad token in tokenizer_config.json")
    tokenizer.enable_truncation(max_tokens, direction=config.get("truncation_side", "right"))
    tokenizer.enable_padding(
        direction=config.get("padding_side", "right"), pad_id=pad_id, pad_token=pad_token
    )
    return tokenizer, max_tokens


def mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    """Average of the token vectors the attention mask keeps ([b, t, d], [b, t] -> [b, d])."""
    m = mask[:, :, None].astype(hidden.dtype)
    out: npt.NDArray[np.float32] = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return out


class OnnxEncoder:
    """Encodes with an exported model (fp32 or int8) on ONNX Runtime's CPU provider."""

    def __init__(
        self,
        model_dir: Path,
        onnx_path: Path,
        *,
        model_id: str,
        model_hash: str,
        backend: str,
        batch_size: int = 32,
        max_tokens: int = 256,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise OnnxUnavailable("onnxruntime is not installed (pip install 'codekin[onnx]')") from exc
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model_id = model_id
        self.model_hash = model_hash
        self.backend = backend
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self._tokenizer, self.max_tokens = _tokenizer(model_dir, max_tokens)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: stdout/stderr may be a JSON-RPC transport
        # ONNX Runtime's worker threads spin after each run by default: between queries they would
        # take the cores that the search's own SQLite and ranking work needs (2.7x slower here)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise OnnxUnavailable(f"cannot load {onnx_path}: {exc}") from exc
        self._inputs = [i.name for i in self._session.get_inputs()]
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self._pooling = pooling_mode(model_dir)

    def _run(self, texts: list[str]) -> npt.NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden: npt.NDArray[np.float32] = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        if self._pooling == "cls":
            return hidden[:, 0]
        return mean_pool(hidden, feeds["attention_mask"])

    def _encode(self, texts: list[str]) -> Vectors:
        texts = [valid_text(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts = [sum(e.attention_mask) for e in self._tokenizer.encode_batch(texts)]
        for idx in length_batches(counts, self.batch_size):
            out[idx] = self._run([texts[i] for i in idx])
        return normalise(out)

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self._encode([self.document_prefix + t for t in texts])

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode([self.query_prefix + t for t in texts])
