"""Export a checkpoint as a model directory codekin loads with ``Settings(model=<dir>)``.

Writes ``model.safetensors`` (float16 by default; ``config.json`` keeps ``dtype: float32`` so
transformers upcasts on load and CPU inference stays in float32), the tokenizer files, a
sentence-transformers pooling config (``1_Pooling/config.json``: mean pooling, which
``codekin.embeddings.hf`` reads) with ``modules.json``, and a model card ``README.md``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from training.encoder import load, model_dir_of
from training.merge import MERGE_FILE
from training.train import run_summary

CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: sentence-similarity
base_model: sentence-transformers/all-MiniLM-L6-v2
tags: [code-search, codekin, sentence-transformers]
---

# codekin-encoder

A code search encoder for codekin, fine-tuned from all-MiniLM-L6-v2
({dim} dimensions, mean pooling, L2-normalised) on (query, definition) pairs mined from
open-source packages with codekin's own tree-sitter chunker (`training/`).

- Weights: {dtype} safetensors ({size_mb:.1f} MB); loads in float32.
- Input: the text codekin's indexer embeds (`path`, `kind qualified.name`, source), at most 256
  tokens; queries as typed, at most 64 tokens.
- Training data: see `training/sources.toml` (names, versions, licences: mostly MIT, BSD,
  Apache-2.0, ISC and MPL; openjdk-17-source is GPL-2.0 with the Classpath exception, paramiko
  LGPL, bash-completion GPL); held-out sources never seen in training. Never trained on the
  semble benchmark's repositories, the Python standard library or CoSQA.
- Recipe: `training/README.md` ({recipe}).

## Evaluation

{metrics}

## Limitations

Trained on doc-comment summaries and template rewrites of them, not on real user queries;
English only; definitions longer than 256 tokens are truncated.
"""


def _metrics_table(metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return (
            "(fill in: `python -m training evaluate ... --json metrics.json`, then export with `--metrics`)"
        )
    lines = ["| model | held-out doc MRR@10 | recall@10 | ident MRR@10 |", "|---|---|---|---|"]
    for name, res in metrics.get("models", {}).items():
        doc = res.get("all:doc", {})
        ident = res.get("style:ident", {})
        lines.append(f"| {name} | {doc.get('mrr@10')} | {doc.get('recall@10')} | {ident.get('mrr@10')} |")
    return "\n".join(lines)


def _run_recipe(run: dict[str, Any]) -> str:
    step, elapsed_s, cfg = run.get("step"), run.get("elapsed_s", 0.0), run.get("config", {})
    return (
        f"{step} steps, batch {cfg.get('batch_size')}, lr {cfg.get('lr')}, warmup {cfg.get('warmup_steps')}, "
        f"seed {cfg.get('seed')}, {elapsed_s / 60:.0f} min on CPU"
    )


def recipe_of(model_dir: Path) -> str:
    """One line on how the model was made: its training run, and the merge when it is one."""
    run = run_summary(model_dir)
    if run:
        return _run_recipe(run)
    merge = model_dir / MERGE_FILE
    if merge.is_file():
        info = json.loads(merge.read_text())
        tuned = _run_recipe(info["tuned_run"]) if info.get("tuned_run") else info["tuned"]
        return f"weights = {1 - info['alpha']:.2f} x base + {info['alpha']:.2f} x fine-tuned ({tuned})"
    return "unknown"


def export_model(
    checkpoint: Path,
    out: Path,
    *,
    dtype: str = "float16",
    metrics: Path | None = None,
    benchmarks: Path | None = None,
) -> Path:
    """``benchmarks``: a Markdown file of measured benchmark tables, copied into the model card."""
    source = model_dir_of(checkpoint)
    tokenizer, net = load(source)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if dtype == "float16":
        net = net.half()
    net.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config["dtype"] = "float32"  # stored half, computed in float32 (transformers upcasts on load)
    config.pop("torch_dtype", None)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    (out / "1_Pooling").mkdir()
    dim = int(net.config.hidden_size)
    (out / "1_Pooling" / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": dim,
                "pooling_mode_cls_token": False,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
            },
            indent=2,
        )
        + "\n"
    )
    (out / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                },
            ],
            indent=2,
        )
        + "\n"
    )
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 256, "do_lower_case": False}) + "\n"
    )
    recipe = recipe_of(source)
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    metrics_data = json.loads(metrics.read_text()) if metrics and metrics.is_file() else None
    tables = [_metrics_table(metrics_data)] if metrics_data or benchmarks is None else []
    if benchmarks is not None:
        tables.append(benchmarks.read_text().strip())
    evaluation = "\n\n".join(tables)
    (out / "README.md").write_text(
        CARD.format(dim=dim, dtype=dtype, size_mb=size_mb, recipe=recipe, metrics=evaluation)
    )
    return out
