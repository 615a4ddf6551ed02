"""The encoder codekin ships (models/codekin-encoder): installed, small, loads offline, embeds sensibly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from codekin.embeddings.registry import model_path
from codekin.settings import DEFAULT_MODEL

EMBED_OFFLINE = """
import json, sys
import numpy as np
from codekin.embeddings.hf import HFEncoder
enc = HFEncoder("codekin-encoder", device="cpu")
docs = enc.embed_documents(sys.argv[1:3])
query = enc.embed_queries([sys.argv[3]])
print(json.dumps({"dim": enc.dim, "sims": (query @ docs.T)[0].tolist(),
                  "norms": np.linalg.norm(docs, axis=1).tolist(),
                  "dtype": str(next(enc._model.parameters()).dtype)}))
"""


def test_default_model_is_the_shipped_encoder() -> None:
    assert DEFAULT_MODEL == "codekin-encoder"


def test_package_carries_small_fp16_weights_and_a_model_card() -> None:
    model_dir = Path(model_path("codekin-encoder"))
    weights = model_dir / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 50 * 1024 * 1024
    with open(weights, "rb") as fh:
        header = json.loads(fh.read(int.from_bytes(fh.read(8), "little")))
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F16"}
    assert json.loads((model_dir / "1_Pooling" / "config.json").read_text())["pooling_mode_mean_tokens"]
    card = (model_dir / "README.md").read_text()
    assert "## Evaluation" in card and "sources.toml" in card


def test_loads_offline_with_an_empty_hub_cache_and_ranks_the_matching_function(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    match = "def read_json(path):\n    with open(path) as fh:\n        return json.load(fh)"
    other = "def area(w, h):\n    return w * h"
    proc = subprocess.run(
        [sys.executable, "-c", EMBED_OFFLINE, match, other, "load a json file"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["dim"] == 384 and out["dtype"] == "torch.float32"  # stored fp16, computed in fp32
    assert all(abs(n - 1.0) < 1e-4 for n in out["norms"])
    assert out["sims"][0] > out["sims"][1] + 0.1
    assert not (tmp_path / "hf").exists() or not any((tmp_path / "hf").rglob("*.safetensors"))
