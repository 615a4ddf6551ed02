"""A faster student: the same encoder with only some of its transformer layers kept.

Layer dropping ("keep every other layer", as DistilBERT initialises its student) halves the
encoder's cost per token; a short contrastive run (``train --model <shrunk dir>``) then adapts
the remaining layers. The tokenizer and embeddings are unchanged, so the student's vectors have
the same dimensions and codekin loads it like any other model directory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from training.encoder import load, model_dir_of


def shrink_layers(model: str | Path, keep: list[int], out: Path) -> Path:
    """Write ``model`` with only the encoder layers ``keep`` (0-based, in order) to ``out``."""
    import torch

    tokenizer, net = load(model_dir_of(Path(model)) if Path(str(model)).is_dir() else model)
    layers = net.encoder.layer
    if not keep or sorted(set(keep)) != keep or keep[0] < 0 or keep[-1] >= len(layers):
        raise ValueError(f"keep must be increasing layer numbers within 0..{len(layers) - 1}, got {keep}")
    net.encoder.layer = torch.nn.ModuleList([layers[i] for i in keep])
    net.config.num_hidden_layers = len(keep)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    net.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / "shrink.json").write_text(json.dumps({"from": str(model), "kept_layers": keep}) + "\n")
    return out
