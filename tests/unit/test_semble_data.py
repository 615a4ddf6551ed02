"""bench/semble_data.py's scoring pieces on toy data (no mirror, no model)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
semble = importlib.import_module("semble_data")


def test_ndcg_counts_each_target_once_at_its_first_hit() -> None:
    assert semble.ndcg_at_k(["a.py", "a.py", "b.py"], ["a.py"]) == 1.0
    two = semble.ndcg_at_k(["x.py", "src/a.py", "a.py", "b.py"], ["a.py", "b.py"])
    ideal = 1 + 1 / semble.math.log2(3)
    assert two == pytest.approx((1 / semble.math.log2(3) + 1 / semble.math.log2(5)) / ideal)
    assert semble.ndcg_at_k(["x.py"], ["a.py"]) == 0.0


def test_queries_whose_files_the_tree_lacks_are_not_answerable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semble, "CACHE_DIR", tmp_path)
    repo = semble.Repo("toy", "python", "https://github.com/o/toy.git", "0" * 40, "src/toy")
    Query = semble.Query
    repo.queries = [
        Query("in the tree", ["src/toy/core.py"], [], "semantic"),
        Query("one of two in the tree", ["src/toy/gone.py"], ["src/toy/util/io.py"], "semantic"),
        Query("moved away in this revision", ["src/toy/old.py"], [], "architecture"),
    ]
    (repo.root / "util").mkdir(parents=True)
    (repo.root / "core.py").write_text("x = 1\n")
    (repo.root / "util" / "io.py").write_text("y = 2\n")
    assert [q.query for q in repo.answerable()] == ["in the tree", "one of two in the tree"]
