"""The usearch wrapper: search, atomic save and a restore that keeps the search settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codekin.index import vectors as vector_module
from codekin.index.vectors import EXPANSION_SEARCH, VectorIndex


def test_saved_index_comes_back_with_its_vectors_and_search_breadth(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(8, generation=3)
    index.add(list(range(100, 150)), vectors)
    index.save(tmp_path / "vectors.usearch")

    loaded = VectorIndex.load(tmp_path / "vectors.usearch", 8)
    assert loaded is not None and len(loaded) == 50 and loaded.generation == 3
    assert loaded._index.expansion_search == EXPANSION_SEARCH  # usearch does not save it
    best, cosine = loaded.search(vectors[7], 1)[0]
    assert best == 107 and cosine > 0.99
    assert VectorIndex.load(tmp_path / "vectors.usearch", 16) is None  # another dimension


@pytest.mark.parametrize("exact_below", [0, vector_module.EXACT_BELOW])  # the graph, and exact scans
def test_filtered_search_equals_the_exact_scan_of_the_passing_rows(
    exact_below: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_module, "EXACT_BELOW", exact_below)
    rng = np.random.default_rng(1)
    n, dim = 10_000, 8
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(dim)
    index.add(list(range(n)), vectors)
    f16 = vectors.astype(np.float16).astype(np.float32)  # what the index stores
    query = rng.standard_normal(dim).astype(np.float32)
    query /= np.linalg.norm(query)
    # few rows (scored from their vectors), a selective filter (exact scan), a loose one (graph)
    for allowed in (
        rng.choice(n, 200, replace=False),
        rng.choice(n, 2_200, replace=False),
        np.arange(0, n, 2),
    ):
        expected = sorted(allowed.tolist(), key=lambda i: -float(f16[i] @ query))[:10]
        found = index.search(query, 10, set(allowed.tolist()))
        assert [cid for cid, _ in found] == expected
        assert all(abs(score - float(f16[cid] @ query)) < 1e-3 for cid, score in found)
    assert index.search(query, 10, set()) == []
    assert [cid for cid, _ in index.search(query, 5, {3, 77, 20_000})] == sorted(
        [3, 77], key=lambda i: -float(f16[i] @ query)
    )


def test_identical_vectors_are_all_found_every_time() -> None:
    """Copied code embeds to identical vectors; a small index finds every copy (the graph alone
    missed a copy in about a third of these builds)."""
    rng = np.random.default_rng(2)
    distinct = rng.standard_normal((6, 64)).astype(np.float32)
    rows = distinct[np.arange(180) % 6]  # 30 copies of each of 6 vectors
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    for _ in range(20):
        index = VectorIndex(64)
        index.add(list(range(180)), rows)
        assert {cid for cid, _ in index.search(rows[0], 100)} >= set(range(0, 180, 6))
