"""Which runtime encodes: torch, or ONNX Runtime (fp32 or int8) where its export passed parity.

- ``torch``: the transformers model (CPU or GPU).
- ``onnx``: ONNX Runtime fp32. Same vectors within parity (cosine >= 0.999 per vector), so the
  index identity is torch's: an index built with either serves the other.
- ``onnx-int8``: dynamically quantised. Its vectors are close (cosine >= 0.99) but not the same,
  so it is a different model identity (``model_hash`` + ``+onnx-int8``): switching rebuilds.
- ``auto`` (default): torch, unless an export of these weights is already cached and passed fp32
  parity: then ONNX Runtime fp32 for everything where it measured faster than torch on this
  machine when it was built, else for queries only (one short text, where it is about three times
  faster; see codekin.embeddings.query_runtime). Auto never builds
  (that takes a minute) and never picks int8 (that would silently change the index identity);
  an explicit ``onnx`` or ``onnx-int8`` builds the export once.

Explicit ONNX that cannot serve (onnxruntime missing, no local model directory, a GPU device,
failed parity) falls back to torch with one warning saying why."""

from __future__ import annotations

import logging
from pathlib import Path

from codekin.embeddings.base import Encoder
from codekin.embeddings.hf import HFEncoder, weights_hash
from codekin.embeddings.onnx_cache import FP32_FILE, INT8_FILE, build, export_dir, read_report
from codekin.embeddings.onnx_encoder import OnnxEncoder, OnnxUnavailable
from codekin.embeddings.query_runtime import QueryOnnxEncoder
from codekin.embeddings.registry import model_path
from codekin.settings import BACKENDS

log = logging.getLogger(__name__)

INT8_SUFFIX = "+onnx-int8"


def onnx_encoder(
    model: str,
    *,
    int8: bool,
    batch_size: int,
    max_tokens: int,
    build_missing: bool = True,
    checked: bool = True,
    path: str | None = None,
) -> OnnxEncoder | None:
    """The ONNX encoder of ``model`` (None: no cached export and ``build_missing`` is false);
    ``path``: where its weights are (by default the registry's answer for ``model``).

    ``checked=False`` serves an export that failed parity (benchmarks measure what it costs)."""
    local = Path(path or model_path(model))
    if not local.is_dir():
        raise OnnxUnavailable(f"{model!r} is not a local model directory")
    model_hash = weights_hash(local)
    report = read_report(model_hash)
    if report is None and build_missing:
        try:
            import onnxruntime  # noqa: F401  # checked before a minute of exporting
        except ImportError as exc:
            raise OnnxUnavailable("onnxruntime is not installed (pip install 'codekin[onnx]')") from exc
        report = build(local, model_hash, max_tokens=max_tokens, batch_size=batch_size)
    if report is None:
        return None
    failure = report.failure(int8=int8)
    if failure and checked:
        raise OnnxUnavailable(failure)
    encoder = OnnxEncoder(
        local,
        export_dir(model_hash) / (INT8_FILE if int8 else FP32_FILE),
        model_id=model,
        model_hash=model_hash + INT8_SUFFIX if int8 else model_hash,
        backend="onnx-int8" if int8 else "onnx",
        batch_size=batch_size,
        max_tokens=max_tokens,
    )
    log.info(
        "encoder %s on ONNX Runtime (%s): measured %.1f chunks/s here against torch's %.1f",
        model,
        "int8" if int8 else "fp32",
        report.int8_rate if int8 else report.fp32_rate,
        report.torch_rate,
    )
    return encoder


def _choose(
    model: str, path: str, backend: str, device: str, batch_size: int, max_tokens: int
) -> Encoder | None:
    """The ONNX encoder ``backend`` asks for, or None where auto stays on torch."""
    if device not in ("auto", "cpu"):
        if backend == "auto":
            return None
        raise OnnxUnavailable(f"device {device!r} runs on torch (the ONNX backend is CPU only)")
    if backend == "auto":
        local = Path(path)
        report = read_report(weights_hash(local)) if local.is_dir() else None
        if report is None or report.cuda or report.failure(int8=False):
            return None
        onnx = onnx_encoder(
            model, int8=False, batch_size=batch_size, max_tokens=max_tokens, build_missing=False, path=path
        )
        if onnx is None or report.prefers_onnx():
            return onnx
        log.info("encoder %s: queries on ONNX Runtime, documents on torch (faster here)", model)
        return QueryOnnxEncoder(
            onnx,
            lambda: HFEncoder(
                model, path=path, device=device, batch_size=batch_size, max_tokens=max_tokens, bf16=True
            ),
        )
    int8 = backend == "onnx-int8"
    return onnx_encoder(model, int8=int8, batch_size=batch_size, max_tokens=max_tokens, path=path)


def load_encoder(
    model: str,
    *,
    path: str | None = None,
    device: str = "auto",
    batch_size: int = 32,
    max_tokens: int = 256,
    backend: str = "auto",
) -> Encoder:
    """The transformers encoder ``model`` (weights in ``path``, by default the registry's answer)
    on the runtime ``backend`` selects (see the module). Build encoders by name with
    :func:`codekin.embeddings.registry.build_encoder`, which comes here for every real model."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown encoder backend {backend!r} (one of {', '.join(BACKENDS)})")
    if backend != "torch":
        try:
            onnx = _choose(model, path or model_path(model), backend, device, batch_size, max_tokens)
            if onnx is not None:
                return onnx
        except OnnxUnavailable as exc:
            log.warning("encoder backend %s is unavailable for %s: %s; using torch", backend, model, exc)
    # auto may embed documents in bfloat16 where that keeps the vectors; an explicit torch is float32
    return HFEncoder(
        model, path=path, device=device, batch_size=batch_size, max_tokens=max_tokens, bf16=backend == "auto"
    )
