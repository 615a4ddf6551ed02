"""The usearch wrapper: search, atomic save and a restore that keeps the search settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
