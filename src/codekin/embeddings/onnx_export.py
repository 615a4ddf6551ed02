"""Export a model to ONNX (fp32 and dynamic int8), check parity with torch, measure both.

Run as a child process by :func:`codekin.embeddings.onnx_cache.build`:

    python -m codekin.embeddings.onnx_export MODEL_DIR OUT_DIR --model-hash H [--max-tokens N]

Only the transformer body is exported (dynamic batch and sequence axes, last hidden state out);
tokenisation, pooling and normalisation stay outside the graph. Writes ``model.onnx``,
``model-int8.onnx`` and ``report.json`` into OUT_DIR."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from codekin.embeddings.base import Encoder
from codekin.embeddings.hf import HFEncoder
from codekin.embeddings.onnx_cache import FP32_FILE, INT8_FILE, REPORT_FILE, Report
from codekin.embeddings.onnx_encoder import OnnxEncoder
from codekin.embeddings.parity import QUERIES, Parity, compare_vectors, reference_texts

log = logging.getLogger("codekin.onnx_export")

OPSET = 17
OPTIMISED_TYPES = {"bert", "roberta", "distilbert", "xlm-roberta", "electra", "mpnet"}
SAMPLE = ["def f(x):\n    return x", "class Store:\n    '''Rows of chunks kept in SQLite.'''\n    pass"]


def export_body(encoder: HFEncoder, path: Path) -> None:
    """Trace the transformer body (inputs -> last hidden state) with dynamic batch and sequence."""
    import torch

    model, tokenizer = encoder._model, encoder._tokenizer
    sample = tokenizer(SAMPLE, padding=True, return_tensors="pt")  # padded: the mask path is traced
    names = list(sample.keys())

    class Body(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            Body().eval(),  # a module in training mode would be exported with dropout
            tuple(sample[n] for n in names),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    model.eval()


def optimise(path: Path, config: Any) -> None:
    """ONNX Runtime's transformer fusions (attention, layer norm, GELU) in place, where supported."""
    if config.model_type not in OPTIMISED_TYPES:
        return
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(
        str(path),
        model_type="bert" if config.model_type != "distilbert" else "distilbert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
        opt_level=1,
    )
    model.save_model_to_file(str(path))


def quantise(src: Path, dst: Path) -> None:
    """Dynamic int8: the weight matrices per output channel; activation products stay fp32.

    On codekin-encoder (96 chunks of codekin's source, 16 queries) per-tensor int8 gave a worst
    cosine of 0.90, int8 activation x activation products (attention) about the same; per-channel
    weights only 0.989, the fastest variant (32 chunks: 2.3 s against torch's 3.9 s on a loaded
    2-core machine); also leaving the FFN down-projections in fp32: 0.991, 2.9 s."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        extra_options={
            "MatMulConstBOnly": True,  # weights only: Q.K and attention x V stay fp32
            "DefaultTensorType": onnx.TensorProto.FLOAT,  # fused ops have no inferred type
        },
    )


def _timed(encoder: Encoder, texts: list[str]) -> tuple[Any, float]:
    start = time.perf_counter()
    vectors = encoder.embed_documents(texts)
    return vectors, len(texts) / max(time.perf_counter() - start, 1e-9)


def check(
    reference: HFEncoder, candidate: OnnxEncoder, texts: list[str], ref_docs: Any, ref_queries: Any
) -> tuple[Parity, float]:
    docs, rate = _timed(candidate, texts)
    return compare_vectors(ref_docs, ref_queries, docs, candidate.embed_queries(list(QUERIES))), rate


def main(argv: list[str] | None = None) -> None:
    import torch  # first: the exporter and ONNX Runtime then share its C++ runtime

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--model-hash", required=True)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="codekin onnx export: %(message)s")
    log.setLevel(logging.INFO)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = args.out_dir / FP32_FILE, args.out_dir / INT8_FILE
    reference = HFEncoder(
        str(args.model_dir), device="cpu", batch_size=args.batch_size, max_tokens=args.max_tokens
    )
    started = time.perf_counter()
    export_body(reference, fp32)
    optimise(fp32, reference._model.config)
    quantise(fp32, int8)
    log.info("exported and quantised in %.1f s", time.perf_counter() - started)

    texts = reference_texts()
    ref_docs, torch_rate = _timed(reference, texts)
    ref_queries = reference.embed_queries(list(QUERIES))
    results: dict[str, tuple[Parity, float]] = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        candidate = OnnxEncoder(
            args.model_dir,
            path,
            model_id=str(args.model_dir),
            model_hash=args.model_hash,
            backend=f"onnx-{name}",
            batch_size=args.batch_size,
            max_tokens=args.max_tokens,
        )
        results[name] = check(reference, candidate, texts, ref_docs, ref_queries)
        log.info("%s: %s, %.1f chunks/s (torch %.1f)", name, results[name][0], results[name][1], torch_rate)
    report = Report(
        model_hash=args.model_hash,
        max_tokens=reference.max_tokens,
        batch_size=args.batch_size,
        texts=len(texts),
        cuda=bool(torch.cuda.is_available()),
        torch_rate=torch_rate,
        fp32_rate=results["fp32"][1],
        int8_rate=results["int8"][1],
        fp32=results["fp32"][0],
        int8=results["int8"][0],
    )
    tmp = args.out_dir / (REPORT_FILE + ".tmp")
    tmp.write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
    tmp.replace(args.out_dir / REPORT_FILE)


if __name__ == "__main__":
    main()
