"""Weight-space ensembling (WiSE-FT): ``(1 - alpha) * base + alpha * tuned``, parameter by parameter.

Fine-tuning on doc-comment pairs gains on code-derived queries but drifts away from the web-style
queries the base model was trained on (CoSQA). Interpolating the fine-tuned weights back toward
the base keeps most of the in-domain gain while recovering the base model's robustness
(Wortsman et al., 2022, "Robust fine-tuning of zero-shot models"). Both models must share one
architecture; the tokenizer is the base model's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from training.encoder import load, model_dir_of
from training.train import run_summary

MERGE_FILE = "merge.json"  # provenance beside the merged weights: base, run, alpha


def merge_weights(base: str | Path, tuned: Path, alpha: float, out: Path) -> Path:
    """Write the interpolated model (float32) with the base tokenizer to ``out``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], got {alpha}")
    tokenizer, base_net = load(base)
    _, tuned_net = load(model_dir_of(tuned))
    base_state, tuned_state = base_net.state_dict(), tuned_net.state_dict()
    extra = sorted(set(tuned_state) - set(base_state))
    if extra:
        raise ValueError(
            f"{tuned} does not match the base model: it has {extra[0]!r} (and {len(extra) - 1} more)"
        )
    merged = {}
    for name, weight in base_state.items():
        other = tuned_state.get(name)
        if other is None or other.shape != weight.shape:
            raise ValueError(f"{tuned} does not match the base model at {name!r}")
        merged[name] = weight if not weight.is_floating_point() else (1 - alpha) * weight + alpha * other
    base_net.load_state_dict(merged)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    base_net.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    provenance = {
        "base": str(base),
        "tuned": str(tuned),
        "alpha": alpha,
        "tuned_run": run_summary(model_dir_of(tuned)),
    }
    (out / MERGE_FILE).write_text(json.dumps(provenance, indent=1) + "\n")
    return out
