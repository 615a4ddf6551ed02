"""The report's tables show exactly the figures of the JSON files the measuring commands wrote."""

from __future__ import annotations

import json
from pathlib import Path

from training.report import build_report


def _semble(dense: float, ranked: float) -> dict[str, object]:
    row = {"dense": dense, "ranked": ranked, "files": ranked + 0.01}
    return {
        "tables": {
            "overall": {**row, "repos": 2, "queries": 30},
            "by_category": {"semantic": row},
            "by_language": {"go": row, "rust": {"dense": 0.5, "ranked": 0.6, "files": 0.7}},
        }
    }


def _held(mrr: float, go_mrr: float) -> dict[str, object]:
    overall = {"mrr@10": mrr, "recall@1": mrr - 0.1, "recall@10": mrr + 0.3}
    return {
        "all:doc": overall,
        "style:doc": overall,
        "go:doc": {"n": 9, "mrr@10": go_mrr, "recall@10": go_mrr + 0.29},
    }


def _quality(system: str, model: str, mrr: float) -> dict[str, object]:
    return {
        "dataset": "cosqa",
        "system": system,
        "model": model,
        "mrr": mrr,
        "recall_1": 0.7,
        "recall_10": 0.99,
    }


def test_report_puts_models_side_by_side(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_semble(0.7, 0.8)))
    b.write_text(json.dumps(_semble(0.75, 0.85)))
    heldout = tmp_path / "eval.json"
    heldout.write_text(
        json.dumps(
            {
                "limit_per_language": 200,
                "models": {"/x/stock": _held(0.5, 0.61), "/x/tuned": _held(0.6, 0.71)},
            }
        )
    )
    quality = tmp_path / "quality.json"
    rows = [_quality("bm25", "-", 0.6), _quality("dense", "last", 0.853)]
    quality.write_text(json.dumps({"rows": rows}))
    text = build_report(heldout, quality, [("stock", a), ("ours", b)], {"/x/stock": "stock", "last": "tuned"})
    assert "| overall | 0.700 | 0.800 | 0.810 | 0.750 | 0.850 | 0.860 |" in text
    assert "| rust | 0.500 | 0.600 | 0.700 | 0.500 | 0.600 | 0.700 |" in text
    assert "| cosqa | dense | tuned | 0.853 | 0.700 | 0.990 |" in text and "bm25" not in text
    assert (
        "| stock | 0.500 | 0.400 | 0.800 |" in text and "| go | 9 | 0.610 / 0.900 | 0.710 / 1.000 |" in text
    )
    assert "| style |" not in text and "| all |" not in text  # only languages in the per-language table
