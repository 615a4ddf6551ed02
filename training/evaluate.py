"""Held-out retrieval figures (MRR@10, recall@1/@10) and, on request, the repository's benchmarks.

Held-out set: from ``valid.jsonl`` (whole sources never trained on), up to ``limit`` definitions
per language, chosen by content hash. Every query of a chosen style is ranked densely against
all chosen definitions (every language together), as codekin's dense search would rank them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from training import ROOT
from training.encoder import embed, load, model_dir_of
from training.mine import Record
from training.progress import Progress


def held_out(path: Path, limit_per_language: int) -> list[Record]:
    by_lang: dict[str, list[Record]] = defaultdict(list)
    with open(path) as fh:
        for line in fh:
            if line.strip():
                rec = Record.from_json(line)
                by_lang[rec.language].append(rec)
    chosen: list[Record] = []
    for lang in sorted(by_lang):
        recs = sorted(by_lang[lang], key=lambda r: r.hash)
        chosen.extend(recs[:limit_per_language] if limit_per_language else recs)
    return chosen


def rank_metrics(q: np.ndarray, d: np.ndarray, targets: list[int], k: int = 10) -> dict[str, float]:
    """MRR@k, recall@1 and recall@k of each query's target among all documents."""
    sims = q @ d.T
    target_scores = sims[np.arange(len(targets)), targets]
    ranks = (sims > target_scores[:, None]).sum(1) + 1  # 1-based rank of the target
    mrr = float(np.mean(np.where(ranks <= k, 1.0 / ranks, 0.0))) if len(ranks) else 0.0
    return {
        "mrr@10": round(mrr, 4),
        "recall@1": round(float(np.mean(ranks <= 1)) if len(ranks) else 0.0, 4),
        "recall@10": round(float(np.mean(ranks <= k)) if len(ranks) else 0.0, 4),
        "n": len(ranks),
    }


def evaluate_model(model: str, records: list[Record], styles: list[str]) -> dict[str, Any]:
    path = model_dir_of(Path(model)) if Path(model).is_dir() else model
    tokenizer, net = load(path)
    t0 = time.monotonic()
    with Progress(f"eval {Path(str(model)).name}", 2) as progress:
        docs = embed(tokenizer, net, [r.positive for r in records], max_tokens=256)
        progress.advance(1, "definitions")
        queries: list[tuple[str, str, int]] = []  # style, text, target
        for i, rec in enumerate(records):
            for style, text in rec.queries:
                if style in styles:
                    queries.append((style, text, i))
        qv = embed(tokenizer, net, [t for _, t, _ in queries], max_tokens=64)
        progress.advance(1, "queries")
    result: dict[str, Any] = {
        "model": str(model),
        "definitions": len(records),
        "seconds": round(time.monotonic() - t0, 1),
    }
    groups: dict[str, list[int]] = defaultdict(list)
    for j, (style, _, target) in enumerate(queries):
        groups[f"style:{style}"].append(j)
        groups[f"{records[target].language}:{style}"].append(j)
        if style == "doc":
            groups["all:doc"].append(j)
    for name, idx in sorted(groups.items()):
        result[name] = rank_metrics(qv[idx], docs, [queries[j][2] for j in idx])
    return result


def run_bench(model: str) -> dict[str, Any]:
    """bench/quality.py (CoSQA + stdlib) and bench/semble_bench.py for one model, if they exist."""
    figures: dict[str, Any] = {}
    py = sys.executable
    model_arg = str(model_dir_of(Path(model))) if Path(model).is_dir() else model
    with tempfile.TemporaryDirectory() as tmp:
        quality = ROOT / "bench" / "quality.py"
        if quality.is_file():
            out = Path(tmp) / "quality.json"
            subprocess.run(
                [py, str(quality), "--models", model_arg, "--json", str(out)], cwd=ROOT, check=False
            )
            figures["quality"] = json.loads(out.read_text()) if out.is_file() else "failed"
        semble = ROOT / "bench" / "semble_bench.py"
        if semble.is_file():
            out = Path(tmp) / "semble.json"
            subprocess.run([py, str(semble), "--model", model_arg, "--json", str(out)], cwd=ROOT, check=False)
            figures["semble"] = json.loads(out.read_text()) if out.is_file() else "failed"
    return figures


def evaluate_models(
    models: list[str],
    data: Path,
    *,
    limit_per_language: int = 400,
    styles: list[str] | None = None,
    bench: bool = False,
) -> dict[str, Any]:
    records = held_out(data, limit_per_language)
    results: dict[str, Any] = {"data": str(data), "limit_per_language": limit_per_language, "models": {}}
    for model in models:
        res = evaluate_model(model, records, styles or ["doc", "ident"])
        if bench:
            res["bench"] = run_bench(model)
        results["models"][model] = res
        print(f"{model}: doc MRR@10 {res.get('all:doc', {}).get('mrr@10')}", file=sys.stderr)
    return results
