"""Indexing throughput and memory at equal settings, side by side, in one run on one corpus.

Every row embeds the same texts (the encoder inputs codekin makes from the corpus's chunks) with
the same model, the same max tokens and the same batch size, each in its own process (peak RSS
is that process's); the clock starts after the model is loaded and includes walking and chunking:

- ``transformers``: what a user writes with ``AutoModel``: batches in file order, mean pooling
  (the reference for the ratios);
- ``sentence-transformers``: ``SentenceTransformer(model).encode(texts, batch_size)``;
- ``codekin torch`` / ``codekin auto`` / ``codekin onnx`` / ``codekin onnx-int8``: a full
  ``Workspace.index`` (walk, chunk, embed, commit to SQLite and usearch) on that encoder runtime
  (``auto``, the default, embeds documents in bfloat16 where the CPU has it and the first batch
  keeps the vectors; ``torch`` is float32);
- ``bm25 only``: the same full index with an encoder that costs nothing (chunk + FTS commit);
- ``compute limit`` / ``compute limit bf16``: the model's forward FLOPs for the corpus's real
  (unpadded, truncated) tokens divided by the fp32 (or bfloat16) matmul rate measured on this
  machine.

    flock /tmp/codekin-heavy.lock python bench/throughput.py [--corpus DIR] [--max-files N]
        [--max-tokens 256] [--batch-size 32] [--rows transformers,codekin-torch,...]

The ONNX rows build the export on first use (not timed: it is reported under "load s").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_CORPUS = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / ("site-packages/rich")
)
MODEL = "codekin-encoder"
ROWS = (
    "transformers",
    "sentence-transformers",
    "codekin-torch",
    "codekin-auto",
    "codekin-onnx",
    "codekin-onnx-int8",
    "bm25-only",
    "compute-limit",
    "compute-limit-bf16",
)
LIMITS = {"compute-limit": "fp32", "compute-limit-bf16": "bf16"}  # row -> matmul dtype
REFERENCE = "transformers"


def _copy_corpus(src: Path, dst: Path, max_files: int) -> int:
    files = sorted(p for p in src.rglob("*.py") if "__pycache__" not in p.parts)[:max_files]
    for p in files:
        target = dst / p.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    return len(files)


def corpus_texts(root: str) -> tuple[int, list[str]]:
    """The files and the encoder inputs codekin makes from their chunks, in file order."""
    from codekin.embeddings.inputs import encoder_input
    from codekin.files import FileFilter, read_source
    from codekin.parsers import chunk_file

    texts: list[str] = []
    files = 0
    for entry in FileFilter(Path(root)).walk():
        files += 1
        texts += [encoder_input(c) for c in chunk_file(entry.rel, read_source(entry))]
    return files, texts


def run_transformers(root: str, max_tokens: int, batch_size: int) -> dict[str, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from codekin.embeddings.registry import model_path

    t0 = time.perf_counter()
    path = model_path(MODEL)
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    load = time.perf_counter() - t0
    start = time.perf_counter()
    files, texts = corpus_texts(root)
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[i : i + batch_size],
                padding=True,
                truncation=True,
                max_length=max_tokens,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            torch.nn.functional.normalize(pooled, dim=1)
    return {"files": files, "chunks": len(texts), "seconds": time.perf_counter() - start, "load": load}


def run_sentence_transformers(root: str, max_tokens: int, batch_size: int) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from codekin.embeddings.registry import model_path

    t0 = time.perf_counter()
    model = SentenceTransformer(model_path(MODEL), device="cpu")
    model.max_seq_length = max_tokens
    load = time.perf_counter() - t0
    start = time.perf_counter()
    files, texts = corpus_texts(root)
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    return {"files": files, "chunks": len(texts), "seconds": time.perf_counter() - start, "load": load}


class FreeEncoder:
    """Costs nothing: one constant unit vector per text (for timing everything but the model)."""

    model_id = "free"
    model_hash = "free-v1"
    backend = "none"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self._row = np.zeros(dim, dtype=np.float32)
        self._row[0] = 1.0

    def embed_documents(self, texts: list[str]) -> Any:
        return np.tile(self._row, (len(texts), 1))

    def embed_queries(self, texts: list[str]) -> Any:
        return self.embed_documents(texts)


def run_codekin(root: str, backend: str, max_tokens: int, batch_size: int) -> dict[str, Any]:
    from codekin import Settings, Workspace
    from codekin.embeddings.backend import onnx_encoder
    from codekin.embeddings.deferred import prefetch, wait_until_loaded

    settings = Settings(model=MODEL, backend=backend, max_tokens=max_tokens, batch_size=batch_size)
    t0 = time.perf_counter()
    given: Any = FreeEncoder() if backend == "none" else None
    if backend.startswith("onnx"):  # served even if it failed the parity gate: the row says so
        given = onnx_encoder(
            MODEL, int8=backend == "onnx-int8", batch_size=batch_size, max_tokens=max_tokens, checked=False
        )
    ws = Workspace(root, settings, encoder=given)
    encoder = ws.encoder  # model load (and an ONNX export's first build) is not indexing time
    prefetch(encoder)  # the weights load in the background by default: wait for them here
    wait_until_loaded(encoder, 600.0)
    load = time.perf_counter() - t0
    stats = ws.index()
    ws.close()
    return {
        "files": stats.files_total,
        "chunks": stats.chunks_total,
        "seconds": stats.elapsed,
        "load": load,
        "backend": getattr(encoder, "backend", "?"),
        "parity": parity_note(backend),
    }


def parity_note(backend: str) -> str:
    """How the runtime's export fared against torch (from its cached build report)."""
    if not backend.startswith("onnx"):
        return ""
    from codekin.embeddings.hf import weights_hash
    from codekin.embeddings.onnx_cache import read_report
    from codekin.embeddings.registry import model_path

    report = read_report(weights_hash(Path(model_path(MODEL))))
    if report is None:
        return "no report"
    int8 = backend == "onnx-int8"
    p = report.int8 if int8 else report.fp32
    verdict = report.failure(int8=int8) or "passed"
    return f"min cos {p.min_cosine:.4f}, top-10 same {p.top10_same:.2f} ({verdict})"


def matmul_gflops(dtype: str, seconds: float = 2.0) -> float:
    """Matmul rate of this machine (all threads) on encoder-shaped products in ``dtype``."""
    import torch

    kind = torch.bfloat16 if dtype == "bf16" else torch.float32
    a, b = torch.randn(4096, 384, dtype=kind), torch.randn(384, 1536, dtype=kind)
    flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
    for _ in range(3):
        a @ b
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    return n * flops / (time.perf_counter() - start) / 1e9


def run_compute_limit(root: str, max_tokens: int, dtype: str) -> dict[str, Any]:
    """Seconds the forward pass needs at the measured matmul rate, on the real token counts."""
    from transformers import AutoConfig, AutoTokenizer

    from codekin.embeddings.registry import model_path

    path = model_path(MODEL)
    config, tokenizer = AutoConfig.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    files, texts = corpus_texts(root)
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_tokens)["input_ids"]]
    d, ff, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    # per token and layer: Q, K, V, output projections (4 d^2) and the FFN (2 d ff) multiply-adds,
    # plus attention scores and mixing (2 t d for a sequence of t tokens); 2 FLOPs per multiply-add
    flops = sum(layers * 2 * t * (4 * d * d + 2 * d * ff + 2 * t * d) for t in lengths)
    rate = matmul_gflops(dtype)
    return {
        "files": files,
        "chunks": len(texts),
        "seconds": flops / (rate * 1e9),
        "load": 0.0,
        "tokens": sum(lengths),
        "gflop": flops / 1e9,
        "matmul_gflops": rate,
        "backend": f"{dtype} matmul",
    }


def _child(mode: str, root: str, max_tokens: int, batch_size: int) -> None:
    if mode == "transformers":
        result = run_transformers(root, max_tokens, batch_size)
    elif mode == "sentence-transformers":
        result = run_sentence_transformers(root, max_tokens, batch_size)
    elif mode in LIMITS:
        result = run_compute_limit(root, max_tokens, LIMITS[mode])
    elif mode == "bm25-only":
        result = run_codekin(root, "none", max_tokens, batch_size)
    else:
        result = run_codekin(root, mode.removeprefix("codekin-"), max_tokens, batch_size)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def format_table(results: dict[str, dict[str, Any]]) -> str:
    ref = results.get(REFERENCE)
    ref_rate = ref["chunks"] / ref["seconds"] if ref else None
    head = f"{'run':<24}{'runtime':>10}{'chunks':>8}{'load s':>8}{'seconds':>9}{'chunks/s':>10}"
    lines = [head + f"{'x ' + REFERENCE:>16}{'peak RSS MB':>13}"]
    for mode, r in results.items():
        rate = r["chunks"] / r["seconds"]
        ratio = f"{rate / ref_rate:.2f}x" if ref_rate else "-"
        rss = "-" if mode in LIMITS else f"{r['peak_rss_mb']:.0f}"
        runtime = r.get("backend", "torch")
        lines.append(
            f"{mode:<24}{runtime:>10}{r['chunks']:>8.0f}{r['load']:>8.1f}{r['seconds']:>9.1f}"
            f"{rate:>10.1f}{ratio:>16}{rss:>13}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--max-files", type=int, default=60)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of: {', '.join(ROWS)}")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.max_tokens, args.batch_size)
        return
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows: {', '.join(unknown)}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        n = _copy_corpus(args.corpus, corpus, args.max_files)
        print(
            f"corpus: {n} .py files from {args.corpus}; max tokens {args.max_tokens}, "
            f"batch {args.batch_size}, {os.cpu_count()} cpus",
            flush=True,
        )
        for mode in rows:
            shutil.rmtree(corpus / ".codekin", ignore_errors=True)
            command = [sys.executable, __file__, "--child", mode, str(corpus)]
            command += ["--max-tokens", str(args.max_tokens), "--batch-size", str(args.batch_size)]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{mode}: failed: {out.stderr.strip().splitlines()[-1:]}", flush=True)
                continue
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{mode}: {json.dumps(results[mode])}", flush=True)
    print(format_table(results))
    for mode, r in results.items():
        if r.get("parity"):
            print(f"{mode} parity with torch: {r['parity']}")
    for mode, dtype in LIMITS.items():
        if mode in results:
            c = results[mode]
            print(
                f"{mode}: {c['tokens']} tokens, {c['gflop']:.0f} GFLOP at {c['matmul_gflops']:.1f} "
                f"GFLOP/s ({dtype} matmul measured here)"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
